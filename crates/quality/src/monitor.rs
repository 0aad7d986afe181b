//! Streaming rule evaluation against frozen limits (phase II monitoring).
//!
//! A [`Monitor`] keeps a handful of bit-history registers (one bit per past point: z > 0,
//! z < 0, z > 1, z < −1, z > 2, z < −2, |z| ≤ 1, rise, fall, alternation) and answers every
//! rule with a mask-and-compare, so a point costs O(1) with no allocation and no re-scan of
//! the window. Its answers equal the batch evaluator [`crate::rules::evaluate`] (checked by a
//! property test), including ties and points exactly on the zone boundaries.
//!
//! After a point, [`Monitor::pattern_side`] says on which side of the centre line the
//! pattern of a fired rule lies (a one-sided characteristic reacts only to the bad side).

use serde::{Deserialize, Serialize};

use crate::rules::{PointLimits, RuleSelection, RuleSet, Violation};

/// What one point triggered: bit 0 = beyond a limit, bit r = rule r of the selected set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fired(u16);

impl Fired {
    /// Strictly beyond a reported limit (independent of rule selection).
    #[inline]
    pub fn out_of_control(self) -> bool {
        self.0 & 1 != 0
    }

    /// Whether rule `r` fired.
    #[inline]
    pub fn rule(self, r: u8) -> bool {
        r != 0 && r < 16 && self.0 & (1 << r) != 0
    }

    /// Whether any selected rule fired.
    #[inline]
    pub fn any_rule(self) -> bool {
        self.0 & !1 != 0
    }

    /// Raw bits (bit 0: out of control, bit r: rule r).
    #[inline]
    pub fn bits(self) -> u16 {
        self.0
    }

    /// The fired rules, ascending.
    pub fn rules(self) -> impl Iterator<Item = u8> {
        (1u8..16).filter(move |&r| self.rule(r))
    }

    /// The fired rules as violations at `index`, sorted by rule.
    pub fn violations(self, index: usize) -> impl Iterator<Item = Violation> {
        self.rules().map(move |rule| Violation { rule, index })
    }
}

/// A side of the centre line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Above the centre line (larger values).
    Above,
    /// Below the centre line (smaller values).
    Below,
}

/// The window of a directional rule of `set` (points ending at the current one), and whether
/// it is a trend; `None` for the rules that have no side.
fn window(set: RuleSet, rule: u8) -> Option<(u32, bool)> {
    match (set, rule) {
        (_, 1) => Some((1, false)),
        (RuleSet::Nelson, 2) => Some((9, false)),
        (RuleSet::Nelson, 3) => Some((6, true)),
        (RuleSet::Nelson, 5) | (RuleSet::WesternElectric, 2) => Some((3, false)),
        (RuleSet::Nelson, 6) | (RuleSet::WesternElectric, 3) => Some((5, false)),
        (RuleSet::WesternElectric, 4) => Some((8, false)),
        _ => None,
    }
}

/// Streaming run-rule evaluator for one characteristic. It serialises (serde) so that a
/// caller can persist a running monitor and resume it later with the same answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Monitor {
    limits: PointLimits,
    set: RuleSet,
    mask: u16,
    index: usize,
    #[serde(with = "nan_as_null")]
    prev: f64,
    prev_sign: i8,
    pos0: u32,
    neg0: u32,
    pos1: u32,
    neg1: u32,
    pos2: u32,
    neg2: u32,
    within1: u32,
    rise: u32,
    fall: u32,
    alt: u32,
}

/// `prev` is NaN before the first point; JSON has no NaN, so it travels as `null`.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_some(v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

#[inline(always)]
fn all(bits: u32, len: u32) -> bool {
    let m = (1u32 << len) - 1;
    bits & m == m
}

/// Whether at least 3 of the low 4 bits are set: bit k of 0xE880 is set iff k (0..16) has
/// three or more bits set (k = 7, 11, 13, 14, 15). A table lookup, no popcount needed.
#[inline(always)]
fn three_of_four(bits: u32) -> bool {
    (0xE880u32 >> (bits & 0xF)) & 1 != 0
}

impl Monitor {
    /// A monitor against the frozen `limits` evaluating `selection`.
    pub fn new(limits: PointLimits, selection: RuleSelection) -> Self {
        Monitor {
            limits,
            set: selection.set(),
            mask: selection.mask() | 1,
            index: 0,
            prev: f64::NAN,
            prev_sign: 0,
            pos0: 0,
            neg0: 0,
            pos1: 0,
            neg1: 0,
            pos2: 0,
            neg2: 0,
            within1: 0,
            rise: 0,
            fall: 0,
            alt: 0,
        }
    }

    /// The frozen limits.
    pub fn limits(&self) -> PointLimits {
        self.limits
    }

    /// Number of points seen so far (the index the next point gets).
    pub fn len(&self) -> usize {
        self.index
    }

    /// Whether no point has been pushed yet.
    pub fn is_empty(&self) -> bool {
        self.index == 0
    }

    /// Evaluates the next point against the frozen limits.
    #[inline]
    pub fn push(&mut self, x: f64) -> Fired {
        let limits = self.limits;
        self.push_with(x, limits)
    }

    /// Evaluates the next point against its own limits (p and u charts with varying sizes).
    #[inline]
    pub fn push_with(&mut self, x: f64, limits: PointLimits) -> Fired {
        let z = (x - limits.center) / limits.sigma;
        let d = x - self.prev;
        let sign = (d > 0.0) as i8 - (d < 0.0) as i8;
        self.pos0 = (self.pos0 << 1) | (z > 0.0) as u32;
        self.neg0 = (self.neg0 << 1) | (z < 0.0) as u32;
        self.pos1 = (self.pos1 << 1) | (z > 1.0) as u32;
        self.neg1 = (self.neg1 << 1) | (z < -1.0) as u32;
        self.pos2 = (self.pos2 << 1) | (z > 2.0) as u32;
        self.neg2 = (self.neg2 << 1) | (z < -2.0) as u32;
        self.within1 = (self.within1 << 1) | (z.abs() <= 1.0) as u32;
        self.rise = (self.rise << 1) | (sign > 0) as u32;
        self.fall = (self.fall << 1) | (sign < 0) as u32;
        self.alt = (self.alt << 1) | (sign as i32 * self.prev_sign as i32 == -1) as u32;
        self.prev = x;
        self.prev_sign = sign;
        self.index += 1;

        let r1 = x > limits.ucl || x < limits.lcl;
        // Rule 5: the current point beyond 2σ and at least one of the two before it too.
        let r5 = (self.pos2 & 1 != 0 && self.pos2 & 0b110 != 0)
            || (self.neg2 & 1 != 0 && self.neg2 & 0b110 != 0);
        // Rule 6: the current point beyond 1σ and at least 3 of the 4 before it too.
        let r6 = (self.pos1 & 1 != 0 && three_of_four(self.pos1 >> 1))
            || (self.neg1 & 1 != 0 && three_of_four(self.neg1 >> 1));
        let bits = match self.set {
            RuleSet::Nelson => {
                let r2 = all(self.pos0, 9) || all(self.neg0, 9);
                let r3 = all(self.rise, 5) || all(self.fall, 5);
                let r4 = all(self.alt, 12);
                let r7 = all(self.within1, 15);
                let r8 =
                    all(self.pos1 | self.neg1, 8) && self.pos1 & 0xFF != 0 && self.neg1 & 0xFF != 0;
                (r1 as u16)
                    | (r1 as u16) << 1
                    | (r2 as u16) << 2
                    | (r3 as u16) << 3
                    | (r4 as u16) << 4
                    | (r5 as u16) << 5
                    | (r6 as u16) << 6
                    | (r7 as u16) << 7
                    | (r8 as u16) << 8
            }
            RuleSet::WesternElectric => {
                let r4 = all(self.pos0, 8) || all(self.neg0, 8);
                (r1 as u16)
                    | (r1 as u16) << 1
                    | (r5 as u16) << 2
                    | (r6 as u16) << 3
                    | (r4 as u16) << 4
            }
        };
        Fired(bits & self.mask)
    }

    /// The side of the centre line on which the pattern of `rule` ending at the last pushed
    /// point lies, for a rule that fired there; `None` when the pattern has no side.
    ///
    /// A pattern has a side when *every* point of its window lies strictly on that side
    /// (z = 0 is on neither) — the window being the last point (rule 1), nine points
    /// (Nelson 2), three (Nelson 5, Western Electric 2), five (Nelson 6, WE 3), eight (WE 4),
    /// fewer at the series start — and, for a trend (Nelson 3, six points), when it also runs
    /// toward that side (rising above the centre line, falling below it). Alternation
    /// (Nelson 4), stratification (Nelson 7) and mixture (Nelson 8) have no side, nor has a
    /// window that straddles the centre line.
    pub fn pattern_side(&self, rule: u8) -> Option<Side> {
        let (w, trend) = window(self.set, rule)?;
        let w = w.min(u32::try_from(self.index).unwrap_or(u32::MAX));
        if w == 0 {
            return None;
        }
        let side = if all(self.pos0, w) {
            Side::Above
        } else if all(self.neg0, w) {
            Side::Below
        } else {
            return None;
        };
        let runs_toward = match side {
            Side::Above => all(self.rise, w - 1),
            Side::Below => all(self.fall, w - 1),
        };
        (!trend || runs_toward).then_some(side)
    }

    /// Pushes a whole series and collects violations (sorted by index, rule) — the streaming
    /// counterpart of [`crate::rules::evaluate`].
    pub fn run<F: Fn(usize) -> PointLimits>(
        selection: RuleSelection,
        values: &[f64],
        limits: F,
    ) -> Vec<Violation> {
        let mut m = Monitor::new(limits(0), selection);
        let mut out = Vec::new();
        for (i, &x) in values.iter().enumerate() {
            out.extend(m.push_with(x, limits(i)).violations(i));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::evaluate;
    use proptest::prelude::*;

    const L: PointLimits = PointLimits {
        center: 10.0,
        sigma: 2.0,
        lcl: 4.0,
        ucl: 16.0,
    };

    /// The side of the window of `rule` ending at `i`, computed from the values directly.
    fn side_from_values(values: &[f64], i: usize, rule: u8, set: RuleSet) -> Option<Side> {
        let (w, trend) = super::window(set, rule)?;
        let w = (w as usize).min(i + 1);
        let win = &values[i + 1 - w..=i];
        let z = |x: f64| (x - L.center) / L.sigma;
        let side = if win.iter().all(|&x| z(x) > 0.0) {
            Side::Above
        } else if win.iter().all(|&x| z(x) < 0.0) {
            Side::Below
        } else {
            return None;
        };
        let toward = win.windows(2).all(|p| match side {
            Side::Above => p[1] > p[0],
            Side::Below => p[1] < p[0],
        });
        (!trend || toward).then_some(side)
    }

    #[test]
    fn pattern_sides_of_fired_rules() {
        let sel = RuleSelection::all(RuleSet::Nelson);
        let mut m = Monitor::new(L, sel);
        // Nine points just below the centre line: rule 2, below.
        for _ in 0..9 {
            m.push(9.0);
        }
        assert_eq!(m.pattern_side(2), Some(Side::Below));
        // A point beyond the lower limit: rule 1, below; its 2-of-3 pattern is below too.
        let f = m.push(3.0);
        assert!(f.rule(1));
        assert_eq!(m.pattern_side(1), Some(Side::Below));
        // A falling trend entirely below the centre line runs toward the low side.
        let mut t = Monitor::new(L, sel);
        for x in [9.5, 9.0, 8.5, 8.0, 7.5, 7.0] {
            t.push(x);
        }
        assert_eq!(t.pattern_side(3), Some(Side::Below));
        // A falling trend that starts above the centre line has no side.
        let mut t = Monitor::new(L, sel);
        for x in [12.0, 11.0, 10.5, 9.5, 9.0, 8.0] {
            t.push(x);
        }
        assert_eq!(t.pattern_side(3), None);
        // A rising trend below the centre line runs away from the low side: no side.
        let mut t = Monitor::new(L, sel);
        for x in [7.0, 7.5, 8.0, 8.5, 9.0, 9.5] {
            t.push(x);
        }
        assert_eq!(t.pattern_side(3), None);
        // Two of three beyond 2σ above with the third point below: no side.
        let mut t = Monitor::new(L, sel);
        for x in [15.0, 9.0, 15.0] {
            t.push(x);
        }
        assert_eq!(t.pattern_side(5), None);
        assert_eq!(t.pattern_side(1), Some(Side::Above));
        // Rules without a side.
        for r in [4, 7, 8] {
            assert_eq!(t.pattern_side(r), None);
        }
        assert_eq!(Monitor::new(L, sel).pattern_side(1), None);
    }

    #[test]
    fn streaming_flags_out_of_control() {
        let mut m = Monitor::new(L, RuleSelection::all(RuleSet::Nelson));
        assert!(!m.push(16.0).out_of_control());
        let f = m.push(16.5);
        assert!(f.out_of_control() && f.rule(1));
        assert_eq!(m.len(), 2);
    }

    // Values on a grid of half-sigma steps hit the center, every zone boundary and the
    // limits exactly, and produce many ties.
    fn grid_value() -> impl Strategy<Value = f64> {
        (-8i32..=8).prop_map(|k| 10.0 + f64::from(k))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn streaming_equals_batch_nelson(values in proptest::collection::vec(grid_value(), 0..120)) {
            let sel = RuleSelection::all(RuleSet::Nelson);
            prop_assert_eq!(Monitor::run(sel, &values, |_| L), evaluate(&values, |_| L, sel));
        }

        #[test]
        fn pattern_side_equals_the_window_of_the_values(
            values in proptest::collection::vec(grid_value(), 1..60),
            we in proptest::bool::ANY,
        ) {
            let set = if we { RuleSet::WesternElectric } else { RuleSet::Nelson };
            let mut m = Monitor::new(L, RuleSelection::all(set));
            for (i, &x) in values.iter().enumerate() {
                m.push(x);
                for rule in 1..=set.max_rule() {
                    prop_assert_eq!(
                        m.pattern_side(rule),
                        side_from_values(&values, i, rule, set),
                        "rule {} at {}", rule, i
                    );
                }
            }
        }

        #[test]
        fn streaming_equals_batch_we(values in proptest::collection::vec(grid_value(), 0..120)) {
            let sel = RuleSelection::all(RuleSet::WesternElectric);
            prop_assert_eq!(Monitor::run(sel, &values, |_| L), evaluate(&values, |_| L, sel));
        }

        #[test]
        fn streaming_equals_batch_subset_and_varying_limits(
            values in proptest::collection::vec(grid_value(), 0..80),
            sigmas in proptest::collection::vec(1u8..4, 80),
            rules in proptest::collection::vec(1i64..=8, 0..5),
            smooth in proptest::collection::vec(-3.0f64..3.0, 0..60),
        ) {
            let sel = RuleSelection::new(RuleSet::Nelson, &rules).unwrap();
            let lim = |i: usize| {
                let s = f64::from(sigmas[i % sigmas.len()]);
                PointLimits { center: 10.0, sigma: s, lcl: (10.0 - 3.0 * s).max(5.0), ucl: 10.0 + 3.0 * s }
            };
            prop_assert_eq!(Monitor::run(sel, &values, lim), evaluate(&values, lim, sel));
            let cont: Vec<f64> = smooth.iter().map(|v| 10.0 + v * 2.0).collect();
            prop_assert_eq!(Monitor::run(sel, &cont, |_| L), evaluate(&cont, |_| L, sel));
        }
    }
}
