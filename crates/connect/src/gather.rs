//! How long a poll of a peer that pushes records (a broker) keeps gathering them into one batch:
//! up to the poll's `wait` for a first record; then while they keep coming (each within
//! [`QUIET`] of the last), but never more than [`SPAN`] after the first, so a steady stream does
//! not hold a batch open and its first record waits at most that long for the store.

use tokio::time::{Duration, Instant};

/// A gap this long after a record ends the batch.
pub const QUIET: Duration = Duration::from_millis(5);

/// A batch closes this long after its first record at the latest.
pub const SPAN: Duration = Duration::from_millis(20);

/// One poll's gathering.
#[derive(Debug, Clone, Copy)]
pub struct Gathering {
    /// Until when to wait for the next record.
    until: Instant,
    /// When the batch closes whatever comes (set by the first record).
    closes: Option<Instant>,
}

impl Gathering {
    /// A poll that waits up to `wait` for its first record, or that already holds records
    /// (`holding`: the peer delivered some while the last batch was acknowledged).
    pub fn start(wait: Duration, holding: bool, now: Instant) -> Gathering {
        let mut gathering = Gathering {
            until: now + wait,
            closes: None,
        };
        if holding {
            gathering.took_one(now);
        }
        gathering
    }

    /// A record arrived at `now`.
    pub fn took_one(&mut self, now: Instant) {
        let closes = *self.closes.get_or_insert(now + SPAN);
        self.until = (now + QUIET).min(closes);
    }

    /// How long to wait for the next record from `now`; `None` ends the batch.
    pub fn next_wait(&self, now: Instant) -> Option<Duration> {
        (self.until > now).then(|| self.until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_record_is_awaited_for_the_whole_wait() {
        let t = Instant::now();
        let g = Gathering::start(Duration::from_millis(500), false, t);
        assert_eq!(g.next_wait(t), Some(Duration::from_millis(500)));
        assert_eq!(g.next_wait(t + Duration::from_millis(500)), None);
    }

    #[test]
    fn a_quiet_gap_or_the_span_ends_the_batch() {
        let t = Instant::now();
        let mut g = Gathering::start(Duration::from_millis(500), false, t);
        g.took_one(t + Duration::from_millis(100));
        assert_eq!(g.next_wait(t + Duration::from_millis(100)), Some(QUIET));
        assert_eq!(g.next_wait(t + Duration::from_millis(105)), None);
        // A steady stream, a record every 4 ms: closed 20 ms after the first.
        let mut g = Gathering::start(Duration::from_millis(500), true, t);
        for ms in (4..=16).step_by(4) {
            g.took_one(t + Duration::from_millis(ms));
        }
        assert_eq!(
            g.next_wait(t + Duration::from_millis(16)),
            Some(Duration::from_millis(4))
        );
        g.took_one(t + Duration::from_millis(20));
        assert_eq!(g.next_wait(t + Duration::from_millis(20)), None);
    }
}
