//! Minute intervals as half-open `(start, end)` pairs: their union and the minutes they
//! cover. Shared by the solver's compiled model, explanations and scenarios; the checker keeps
//! its own so that it stays independent of the solver.

/// The union of `v` as sorted, disjoint intervals (empty ones dropped).
pub(crate) fn merge(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.retain(|w| w.1 > w.0);
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Minutes of `[from, to)` inside the union of `windows` (overlaps counted once).
pub(crate) fn covered_minutes(
    windows: impl IntoIterator<Item = (i64, i64)>,
    from: i64,
    to: i64,
) -> i64 {
    let clipped = windows
        .into_iter()
        .map(|(s, e)| (s.max(from), e.min(to)))
        .collect();
    merge(clipped).iter().map(|(s, e)| e - s).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_and_coverage_count_overlaps_once() {
        assert_eq!(
            merge(vec![(30, 40), (0, 10), (5, 20), (20, 25), (50, 50)]),
            vec![(0, 25), (30, 40)]
        );
        assert_eq!(covered_minutes([(0, 10), (5, 20), (30, 40)], 0, 35), 25);
        assert_eq!(covered_minutes([], 0, 35), 0);
        assert_eq!(covered_minutes([(0, 100)], 40, 30), 0);
    }
}
