//! Working time: calendars expanded into sorted, merged availability windows (shifts minus
//! blackouts) over the simulated horizon, with the two questions the engine asks of them.

use model::{Calendar, UnitId};

pub(crate) const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Disjoint, sorted `[start, end)` intervals in ms since the epoch.
#[derive(Debug, Clone, Default)]
pub(crate) struct Windows(Vec<(i64, i64)>);

impl Windows {
    /// The calendar's shifts between `from` and `to`, minus its blackouts that apply to
    /// `unit` (all blackouts without a unit list; with `unit` none, only those).
    pub(crate) fn expand(calendar: &Calendar, unit: Option<&UnitId>, from: i64, to: i64) -> Self {
        let mut raw = Vec::new();
        let first_day = from.div_euclid(MS_PER_DAY) - 1;
        let last_day = to.div_euclid(MS_PER_DAY) + 1;
        for day in first_day..=last_day {
            // 1970-01-01 was a Thursday (weekday 4).
            let weekday = ((day + 3).rem_euclid(7) + 1) as u8;
            for shift in &calendar.shifts {
                if shift.weekdays.contains(&weekday) {
                    let s = day * MS_PER_DAY + i64::from(shift.start_minute) * MS_PER_MINUTE;
                    raw.push((s, s + i64::from(shift.length_minutes) * MS_PER_MINUTE));
                }
            }
        }
        raw.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (s, e) in raw {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut windows = Windows(merged);
        for b in &calendar.blackouts {
            let applies = match unit {
                Some(u) => b.units.is_empty() || b.units.contains(u),
                None => b.units.is_empty(),
            };
            if applies {
                windows.subtract(b.start.0, b.end.0);
            }
        }
        windows
    }

    fn subtract(&mut self, s: i64, e: i64) {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            if b <= s || a >= e {
                out.push((a, b));
                continue;
            }
            if a < s {
                out.push((a, s));
            }
            if b > e {
                out.push((e, b));
            }
        }
        self.0 = out;
    }

    /// The end of the window containing `t`, if `t` is inside one.
    pub(crate) fn end_of_window_at(&self, t: i64) -> Option<i64> {
        let i = self.0.partition_point(|&(_, e)| e <= t);
        self.0.get(i).filter(|&&(s, _)| s <= t).map(|&(_, e)| e)
    }

    /// Window starts in `[from, to)`.
    pub(crate) fn starts_between(&self, from: i64, to: i64) -> impl Iterator<Item = i64> + '_ {
        self.0
            .iter()
            .map(|&(s, _)| s)
            .filter(move |&s| s >= from && s < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Blackout, Shift, Timestamp};

    #[test]
    fn two_shifts_merge_and_blackouts_cut() {
        let cal = Calendar {
            id: "c".into(),
            name: "c".into(),
            shifts: vec![
                Shift {
                    name: "early".into(),
                    weekdays: vec![1, 2, 3, 4, 5],
                    start_minute: 360,
                    length_minutes: 480,
                },
                Shift {
                    name: "late".into(),
                    weekdays: vec![1, 2, 3, 4, 5],
                    start_minute: 840,
                    length_minutes: 480,
                },
            ],
            blackouts: vec![Blackout {
                reason: "pm".into(),
                start: Timestamp::parse("2026-03-03T08:00:00Z").unwrap(),
                end: Timestamp::parse("2026-03-03T10:00:00Z").unwrap(),
                units: vec![],
            }],
        };
        let monday = Timestamp::parse("2026-03-02T00:00:00Z").unwrap().0;
        let w = Windows::expand(&cal, None, monday, monday + 7 * MS_PER_DAY);
        let h = 3_600_000;
        assert_eq!(w.end_of_window_at(monday + 7 * h), Some(monday + 22 * h));
        assert_eq!(w.end_of_window_at(monday + 23 * h), None);
        assert_eq!(w.end_of_window_at(monday + 31 * h), Some(monday + 32 * h));
        assert_eq!(w.end_of_window_at(monday + 33 * h), None);
        assert_eq!(w.end_of_window_at(monday + 35 * h), Some(monday + 46 * h));
        // Saturday is off: the first window after Friday late starts on Monday 06:00.
        let starts: Vec<i64> = w
            .starts_between(monday + 4 * 24 * h + 23 * h, monday + 8 * 24 * h)
            .collect();
        assert_eq!(starts, vec![monday + 7 * 24 * h + 6 * h]);
    }
}
