//! Working time: a calendar's weekly shifts read as wall-clock times in the site's time zone,
//! turned into instants (milliseconds since the epoch, UTC), and the availability left when
//! blackouts are cut out of them. The simulator and the scheduler both ask this module; neither
//! expands calendars on its own.
//!
//! Semantics:
//! - a site without a time zone reads its shifts in UTC (minutes after midnight UTC);
//! - with an IANA zone, a shift starts at its local wall-clock time on each local weekday it
//!   lists and ends at the local wall-clock time `length_minutes` later, so a 22:00–06:00 night
//!   shift in Europe/Berlin lasts 7 hours across the spring-forward night and 9 hours across
//!   the fall-back night. Wall-clock times are read as RFC 5545 (iCalendar) reads them: one
//!   that does not exist (inside the spring-forward gap) moves forward by the length of the
//!   gap (02:30 becomes 03:30), a repeated one (fall-back) is its first occurrence; a shift
//!   left with no time by that is dropped;
//! - blackouts are instants (RFC 3339 with `Z` or an offset), not local times: they cut the
//!   same span out of the availability whatever the zone.
//!
//! Zone data comes from the time zone database compiled into the binary (`jiff`'s bundled
//! tzdb, pinned by `Cargo.lock`): looking a zone up reads no file and no environment, and
//! every machine reads the same rules.

use jiff::tz::TimeZone;

use crate::ids::UnitId;
use crate::plant::{Calendar, Site};

/// Milliseconds in a minute.
pub const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// The time zone a plant's calendars are read in: the site's IANA zone, or UTC when the site
/// names none.
#[derive(Debug, Clone, Default)]
pub struct SiteZone {
    /// `None` is UTC, evaluated with plain integer arithmetic.
    zone: Option<(String, TimeZone)>,
}

/// A time zone name the bundled database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone `{0}` (expected an IANA name such as Europe/Berlin, or no time zone for UTC)"
)]
pub struct UnknownTimeZone(pub String);

impl SiteZone {
    /// Calendars in UTC.
    pub const UTC: SiteZone = SiteZone { zone: None };

    /// The IANA zone `name` (`Europe/Berlin`, `America/Chicago`, `UTC`).
    pub fn named(name: &str) -> Result<SiteZone, UnknownTimeZone> {
        // The bundled copy, never the global database: that one reads `TZDIR` and the
        // system's zoneinfo when another crate turns those jiff features on.
        let tz = jiff::tz::TimeZoneDatabase::bundled()
            .get(name)
            .map_err(|_| UnknownTimeZone(name.to_owned()))?;
        Ok(SiteZone {
            zone: Some((name.to_owned(), tz)),
        })
    }

    /// The zone the site's calendars are read in.
    pub fn of_site(site: &Site) -> Result<SiteZone, UnknownTimeZone> {
        match &site.time_zone {
            None => Ok(SiteZone::UTC),
            Some(name) => SiteZone::named(name),
        }
    }

    /// The zone's IANA name, or `UTC` when the site names none.
    pub fn name(&self) -> &str {
        self.zone.as_ref().map_or("UTC", |(name, _)| name)
    }

    /// The local calendar day (days since 1970-01-01) at instant `t`.
    fn local_day(&self, t: i64) -> i64 {
        let offset_ms = match (&self.zone, jiff::Timestamp::from_millisecond(t)) {
            (Some((_, tz)), Ok(ts)) => i64::from(tz.to_offset(ts).seconds()) * 1000,
            _ => 0,
        };
        (t + offset_ms).div_euclid(MS_PER_DAY)
    }

    /// The instant of the local wall-clock time `minute` minutes after the start of local day
    /// `day` (minutes past 1440 run into the following days); `None` outside the years the
    /// zone database covers.
    fn instant(&self, day: i64, minute: i64) -> Option<i64> {
        let wall = day * MS_PER_DAY + minute * MS_PER_MINUTE;
        let Some((_, tz)) = &self.zone else {
            return Some(wall);
        };
        let civil = TimeZone::UTC.to_datetime(jiff::Timestamp::from_millisecond(wall).ok()?);
        let instant = tz.to_ambiguous_timestamp(civil).compatible().ok()?;
        Some(instant.as_millisecond())
    }
}

/// What is wrong with a calendar, as (path below the calendar, message) in document order:
/// shifts must fit a day and name weekdays 1 to 7, blackouts must end after they start and
/// name units that exist.
pub(crate) fn problems(
    calendar: &Calendar,
    unit_exists: impl Fn(&UnitId) -> bool,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    if calendar.shifts.is_empty() {
        out.push((
            ".shifts".into(),
            "a calendar needs at least one shift".into(),
        ));
    }
    for (s, shift) in calendar.shifts.iter().enumerate() {
        let path = format!(".shifts[{s}]");
        if shift.weekdays.is_empty() || shift.weekdays.iter().any(|d| !(1..=7).contains(d)) {
            let message = "weekdays must be a non-empty list of 1 (Monday) to 7 (Sunday)";
            out.push((path.clone(), message.into()));
        }
        if shift.start_minute >= 1440 {
            out.push((path.clone(), "start_minute must be below 1440".into()));
        }
        if shift.length_minutes == 0 || shift.length_minutes > 1440 {
            out.push((path, "length_minutes must be 1 to 1440".into()));
        }
    }
    for (b, blackout) in calendar.blackouts.iter().enumerate() {
        let path = format!(".blackouts[{b}]");
        if blackout.end <= blackout.start {
            out.push((path.clone(), "end must be after start".into()));
        }
        for unit in blackout.units.iter().filter(|u| !unit_exists(u)) {
            out.push((path.clone(), format!("unit `{unit}` does not exist")));
        }
    }
    out
}

/// `[start, end)` in milliseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

/// Every occurrence of the calendar's shifts that overlaps `[from, to)`, whole (not clipped to
/// the range), sorted by start then end. Overlapping or touching shifts are not merged.
pub fn shift_windows(calendar: &Calendar, zone: &SiteZone, from: i64, to: i64) -> Vec<Window> {
    let mut out = Vec::new();
    if to <= from {
        return out;
    }
    // A shift lasts at most a day of wall-clock time, so one that overlaps `from` starts on
    // the local day before it at the earliest (one more day of margin for zones whose clocks
    // change at midnight).
    for day in zone.local_day(from) - 2..=zone.local_day(to) {
        // 1970-01-01 was a Thursday; weekdays are 1 = Monday … 7 = Sunday.
        let weekday = ((day + 3).rem_euclid(7) + 1) as u8;
        for shift in &calendar.shifts {
            if !shift.weekdays.contains(&weekday) {
                continue;
            }
            let first = i64::from(shift.start_minute);
            let last = first + i64::from(shift.length_minutes);
            let (Some(start), Some(end)) = (zone.instant(day, first), zone.instant(day, last))
            else {
                continue;
            };
            if start < end && end > from && start < to {
                out.push(Window { start, end });
            }
        }
    }
    out.sort_unstable();
    out
}

/// When a calendar lets work happen: its shifts merged into disjoint sorted windows, minus
/// the blackouts that apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Availability(Vec<Window>);

impl Availability {
    /// The calendar's shifts overlapping `[from, to)`, merged, minus its blackouts that apply
    /// to `unit` (every blackout without a unit list and, for a unit, those that name it).
    /// Windows at the edges are whole, not clipped to the range.
    pub fn of(
        calendar: &Calendar,
        zone: &SiteZone,
        unit: Option<&UnitId>,
        from: i64,
        to: i64,
    ) -> Availability {
        let mut merged: Vec<Window> = Vec::new();
        for w in shift_windows(calendar, zone, from, to) {
            match merged.last_mut() {
                Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
                _ => merged.push(w),
            }
        }
        let mut availability = Availability(merged);
        for b in &calendar.blackouts {
            let applies = match unit {
                Some(u) => b.units.is_empty() || b.units.contains(u),
                None => b.units.is_empty(),
            };
            if applies {
                availability.subtract(b.start.0, b.end.0);
            }
        }
        availability
    }

    fn subtract(&mut self, s: i64, e: i64) {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for &w in &self.0 {
            if w.end <= s || w.start >= e {
                out.push(w);
                continue;
            }
            if w.start < s {
                out.push(Window {
                    start: w.start,
                    end: s,
                });
            }
            if w.end > e {
                out.push(Window {
                    start: e,
                    end: w.end,
                });
            }
        }
        self.0 = out;
    }

    /// The disjoint windows, in order.
    pub fn windows(&self) -> &[Window] {
        &self.0
    }

    /// Whether work may happen at instant `t`.
    pub fn contains(&self, t: i64) -> bool {
        self.end_of_window_at(t).is_some()
    }

    /// The end of the window containing `t`, if `t` is inside one.
    pub fn end_of_window_at(&self, t: i64) -> Option<i64> {
        let i = self.0.partition_point(|w| w.end <= t);
        self.0.get(i).filter(|w| w.start <= t).map(|w| w.end)
    }

    /// Window starts in `[from, to)`.
    pub fn starts_between(&self, from: i64, to: i64) -> impl Iterator<Item = i64> + '_ {
        self.0
            .iter()
            .map(|w| w.start)
            .filter(move |&s| s >= from && s < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::{Blackout, Shift};
    use crate::time::Timestamp;

    const H: i64 = 3_600_000;

    fn at(text: &str) -> i64 {
        Timestamp::parse(text).unwrap().0
    }

    fn shift(weekdays: &[u8], start_minute: u32, length_minutes: u32) -> Shift {
        Shift {
            name: "s".into(),
            weekdays: weekdays.to_vec(),
            start_minute,
            length_minutes,
        }
    }

    fn calendar(shifts: Vec<Shift>, blackouts: Vec<Blackout>) -> Calendar {
        Calendar {
            id: "c".into(),
            name: "c".into(),
            shifts,
            blackouts,
        }
    }

    fn berlin() -> SiteZone {
        SiteZone::named("Europe/Berlin").unwrap()
    }

    fn windows(cal: &Calendar, zone: &SiteZone, from: &str, to: &str) -> Vec<(i64, i64)> {
        shift_windows(cal, zone, at(from), at(to))
            .into_iter()
            .map(|w| (w.start, w.end))
            .collect()
    }

    #[test]
    fn a_local_shift_moves_in_utc_with_daylight_saving() {
        let early = calendar(vec![shift(&[1, 2, 3, 4, 5, 6, 7], 360, 480)], vec![]);
        let winter = windows(
            &early,
            &berlin(),
            "2026-01-12T00:00:00Z",
            "2026-01-12T23:00:00Z",
        );
        assert_eq!(
            winter,
            vec![(at("2026-01-12T05:00:00Z"), at("2026-01-12T13:00:00Z"))]
        );
        let summer = windows(
            &early,
            &berlin(),
            "2026-07-13T00:00:00Z",
            "2026-07-13T23:00:00Z",
        );
        assert_eq!(
            summer,
            vec![(at("2026-07-13T04:00:00Z"), at("2026-07-13T12:00:00Z"))]
        );
    }

    #[test]
    fn night_shifts_are_seven_hours_at_spring_forward_and_nine_at_fall_back() {
        // Saturday nights; Europe/Berlin changes on Sunday 2026-03-29 and 2026-10-25.
        let night = calendar(vec![shift(&[6], 1320, 480)], vec![]);
        let spring = windows(
            &night,
            &berlin(),
            "2026-03-28T12:00:00Z",
            "2026-03-29T12:00:00Z",
        );
        assert_eq!(
            spring,
            vec![(at("2026-03-28T21:00:00Z"), at("2026-03-29T04:00:00Z"))]
        );
        assert_eq!(spring[0].1 - spring[0].0, 7 * H);
        let fall = windows(
            &night,
            &berlin(),
            "2026-10-24T12:00:00Z",
            "2026-10-25T12:00:00Z",
        );
        assert_eq!(
            fall,
            vec![(at("2026-10-24T20:00:00Z"), at("2026-10-25T05:00:00Z"))]
        );
        assert_eq!(fall[0].1 - fall[0].0, 9 * H);
    }

    #[test]
    fn skipped_wall_times_move_past_the_gap_and_repeated_ones_take_the_first() {
        // 02:30 does not exist on 2026-03-29 in Berlin and happens twice on 2026-10-25.
        // 02:30–04:00 local: the start moves to 03:30 CEST (01:30Z), the end is 04:00 CEST.
        let small_hours = calendar(vec![shift(&[7], 150, 90)], vec![]);
        let spring = windows(
            &small_hours,
            &berlin(),
            "2026-03-28T22:00:00Z",
            "2026-03-29T22:00:00Z",
        );
        assert_eq!(
            spring,
            vec![(at("2026-03-29T01:30:00Z"), at("2026-03-29T02:00:00Z"))]
        );
        let fall = windows(
            &small_hours,
            &berlin(),
            "2026-10-24T22:00:00Z",
            "2026-10-25T22:00:00Z",
        );
        // 02:30 CEST is 00:30Z; 04:00 CET is 03:00Z: the hour repeats inside the shift.
        assert_eq!(
            fall,
            vec![(at("2026-10-25T00:30:00Z"), at("2026-10-25T03:00:00Z"))]
        );
    }

    #[test]
    fn round_the_clock_stays_unbroken_across_both_changes() {
        let always = calendar(vec![shift(&[1, 2, 3, 4, 5, 6, 7], 0, 1440)], vec![]);
        let from = at("2026-03-01T00:00:00Z");
        let to = at("2026-11-01T00:00:00Z");
        let a = Availability::of(&always, &berlin(), None, from, to);
        assert_eq!(a.windows().len(), 1, "{:?}", a.windows());
        assert!(a.windows()[0].start <= from && a.windows()[0].end >= to);
    }

    #[test]
    fn weekdays_are_local_days() {
        // Monday 00:30 local in Berlin is still Sunday in UTC.
        let monday_start = calendar(vec![shift(&[1], 30, 60)], vec![]);
        let w = windows(
            &monday_start,
            &berlin(),
            "2026-01-11T00:00:00Z",
            "2026-01-13T00:00:00Z",
        );
        assert_eq!(
            w,
            vec![(at("2026-01-11T23:30:00Z"), at("2026-01-12T00:30:00Z"))]
        );
    }

    #[test]
    fn two_shifts_merge_and_blackouts_cut() {
        let blackout = Blackout {
            reason: "pm".into(),
            start: Timestamp::parse("2026-03-03T08:00:00Z").unwrap(),
            end: Timestamp::parse("2026-03-03T10:00:00Z").unwrap(),
            units: vec![],
        };
        let cal = calendar(
            vec![
                shift(&[1, 2, 3, 4, 5], 360, 480),
                shift(&[1, 2, 3, 4, 5], 840, 480),
            ],
            vec![blackout],
        );
        let monday = at("2026-03-02T00:00:00Z");
        let w = Availability::of(&cal, &SiteZone::UTC, None, monday, monday + 8 * 24 * H);
        assert_eq!(w.end_of_window_at(monday + 7 * H), Some(monday + 22 * H));
        assert_eq!(w.end_of_window_at(monday + 23 * H), None);
        assert!(!w.contains(monday + 23 * H));
        assert_eq!(w.end_of_window_at(monday + 31 * H), Some(monday + 32 * H));
        assert_eq!(w.end_of_window_at(monday + 33 * H), None);
        assert_eq!(w.end_of_window_at(monday + 35 * H), Some(monday + 46 * H));
        // Saturday is off: the first window after Friday late starts on Monday 06:00.
        let starts: Vec<i64> = w
            .starts_between(monday + 4 * 24 * H + 23 * H, monday + 8 * 24 * H)
            .collect();
        assert_eq!(starts, vec![monday + 7 * 24 * H + 6 * H]);
        // Blackouts are instants: in Berlin the same UTC span is cut (the shift moves, the
        // blackout does not).
        let local = Availability::of(&cal, &berlin(), None, monday, monday + 7 * 24 * H);
        assert_eq!(
            local.end_of_window_at(monday + 29 * H),
            Some(monday + 32 * H)
        );
        assert!(!local.contains(monday + 33 * H));
        assert_eq!(
            local.end_of_window_at(monday + 34 * H),
            Some(monday + 45 * H)
        );
    }

    #[test]
    fn unknown_zones_are_refused_by_name() {
        let err = SiteZone::named("Europe/Atlantis").unwrap_err();
        assert_eq!(err, UnknownTimeZone("Europe/Atlantis".into()));
        assert!(err.to_string().contains("`Europe/Atlantis`"), "{err}");
        assert_eq!(berlin().name(), "Europe/Berlin");
        assert_eq!(SiteZone::UTC.name(), "UTC");
    }

    /// The expansion before time zones: whole UTC days from the one before `from`.
    fn utc_reference(cal: &Calendar, from: i64, to: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for day in from.div_euclid(MS_PER_DAY) - 1..=to.div_euclid(MS_PER_DAY) {
            let weekday = ((day + 3).rem_euclid(7) + 1) as u8;
            for s in &cal.shifts {
                if s.weekdays.contains(&weekday) {
                    let a = day * MS_PER_DAY + i64::from(s.start_minute) * MS_PER_MINUTE;
                    let b = a + i64::from(s.length_minutes) * MS_PER_MINUTE;
                    if b > from && a < to {
                        out.push((a, b));
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    proptest::proptest! {
        #[test]
        fn no_zone_and_the_utc_zone_are_plain_utc(
            shifts in proptest::collection::vec(
                (proptest::collection::vec(1u8..=7, 1..4), 0u32..1440, 1u32..=1440),
                1..4,
            ),
            from in -400_000_000i64..4_000_000_000,
            minutes in 1i64..30_000,
        ) {
            let from = from * 1000;
            let to = from + minutes * MS_PER_MINUTE;
            let cal = calendar(
                shifts.into_iter().map(|(d, s, l)| shift(&d, s, l)).collect(),
                vec![],
            );
            let expected = utc_reference(&cal, from, to);
            let plain: Vec<(i64, i64)> = shift_windows(&cal, &SiteZone::UTC, from, to)
                .into_iter()
                .map(|w| (w.start, w.end))
                .collect();
            proptest::prop_assert_eq!(&plain, &expected);
            let named: Vec<(i64, i64)> =
                shift_windows(&cal, &SiteZone::named("UTC").unwrap(), from, to)
                    .into_iter()
                    .map(|w| (w.start, w.end))
                    .collect();
            proptest::prop_assert_eq!(&named, &expected);
        }
    }
}
