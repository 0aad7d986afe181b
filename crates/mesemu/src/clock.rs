//! Plant time: the start plus the wall time elapsed times the speed, plus whatever the admin
//! endpoint added by hand. With speed 0 the plant moves only when told (`POST
//! /emulator/advance`), which is how the tests drive it: the same seed, clock steps and
//! commands give the same rows, however fast the machine is.

use std::time::Instant;

use model::Timestamp;

/// Where plant time stands.
#[derive(Debug, Clone)]
pub struct Clock {
    start: Timestamp,
    speed: f64,
    since: Instant,
    /// Plant milliseconds added by hand.
    added_ms: i64,
}

impl Clock {
    /// Plant time `start` at wall instant `since`, moving `speed` plant seconds per wall
    /// second (0: only by hand).
    pub fn new(start: Timestamp, speed: f64, since: Instant) -> Clock {
        Clock {
            start,
            speed: speed.max(0.0),
            since,
            added_ms: 0,
        }
    }

    /// Plant seconds per wall second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Plant time at wall instant `now`.
    pub fn at(&self, now: Instant) -> Timestamp {
        let elapsed = now.saturating_duration_since(self.since).as_secs_f64();
        let moved = (elapsed * self.speed * 1000.0).round() as i64;
        Timestamp(self.start.0 + moved + self.added_ms)
    }

    /// Moves plant time on by `ms` (never back).
    pub fn add(&mut self, ms: i64) {
        self.added_ms += ms.max(0);
    }

    /// Moves plant time on to `t` at wall instant `now`, if it is not there already.
    pub fn move_to(&mut self, t: Timestamp, now: Instant) {
        let behind = t.0 - self.at(now).0;
        self.add(behind);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn plant_time_is_start_plus_elapsed_times_speed_plus_steps() {
        let since = Instant::now();
        let start = Timestamp(1_000_000);
        let mut clock = Clock::new(start, 60.0, since);
        assert_eq!(
            clock.at(since + Duration::from_secs(2)),
            Timestamp(1_120_000)
        );
        clock.add(5_000);
        assert_eq!(
            clock.at(since + Duration::from_secs(2)),
            Timestamp(1_125_000)
        );
        clock.move_to(Timestamp(1_000_000), since);
        assert_eq!(clock.at(since), Timestamp(1_005_000), "never back");
        let mut manual = Clock::new(start, 0.0, since);
        manual.move_to(Timestamp(2_000_000), since);
        assert_eq!(
            manual.at(since + Duration::from_secs(99)),
            Timestamp(2_000_000)
        );
    }
}
