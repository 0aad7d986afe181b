//! Solver tests: every output passes the independent checker; ft06 reaches 55; results are
//! reproducible for a seed, thread count and iteration budget.

use proptest::prelude::*;
use schedule::{
    Alternative, Job, Never, Operation, Problem, SolveOptions, check, parse_fjs, parse_jsplib,
    solve,
};

const FT06: &str = "6 6
2 1 0 3 1 6 3 7 5 3 4 6
1 8 2 5 4 10 5 10 0 10 3 4
2 5 3 4 5 8 0 9 1 1 4 7
1 5 0 5 2 5 3 3 4 8 5 9
2 9 1 3 4 5 5 4 0 3 3 1
1 3 3 3 5 9 0 10 4 4 2 1
";

const MK_SMALL: &str = "3 3 2
2 2 1 3 2 5 1 3 4
3 1 2 2 2 1 3 3 1 1 1 5
2 2 1 4 3 2 1 2 7
";

fn opts(seed: u64, threads: usize, iters: u64) -> SolveOptions {
    SolveOptions {
        seed,
        threads,
        max_iterations: Some(iters),
        exchange_interval: 500,
        ..SolveOptions::default()
    }
}

fn solve_checked(p: &Problem, o: &SolveOptions) -> u64 {
    let r = solve(p, o, &mut Never, &mut |_| {}).expect("solve");
    let rep = check(p, &r.schedule.ops, Some(r.schedule.makespan));
    assert!(rep.is_feasible(), "violations: {:?}", rep.violations);
    r.schedule.makespan
}

#[test]
fn ft06_reaches_optimum() {
    let p = parse_jsplib(FT06).unwrap();
    assert_eq!(solve_checked(&p, &opts(1, 1, 20_000)), 55);
}

#[test]
fn flexible_small_is_feasible() {
    let p = parse_fjs(MK_SMALL).unwrap();
    solve_checked(&p, &opts(3, 2, 3_000));
}

#[test]
fn deterministic_with_iteration_budget() {
    let p = parse_jsplib(FT06).unwrap();
    let f = parse_fjs(MK_SMALL).unwrap();
    for prob in [&p, &f] {
        for threads in [1, 2, 3] {
            let o = opts(42, threads, 2_000);
            let a = solve(prob, &o, &mut Never, &mut |_| {}).unwrap();
            let b = solve(prob, &o, &mut Never, &mut |_| {}).unwrap();
            assert_eq!(a, b, "threads = {threads}");
        }
    }
}

#[test]
fn cancellation_and_progress() {
    let p = parse_jsplib(FT06).unwrap();
    let o = SolveOptions {
        exchange_interval: 100,
        ..SolveOptions::default()
    };
    let mut polls = 0;
    let mut reports = Vec::new();
    let r = solve(
        &p,
        &o,
        &mut || {
            polls += 1;
            polls > 50
        },
        &mut |pr| reports.push(*pr),
    )
    .unwrap();
    assert!(!reports.is_empty());
    assert!(
        reports
            .windows(2)
            .all(|w| w[0].best_makespan >= w[1].best_makespan)
    );
    assert!(r.iterations <= 51 * 32);
}

fn arb_problem(flexible: bool) -> impl Strategy<Value = Problem> {
    (1usize..5, 1usize..6).prop_flat_map(move |(n_machines, n_jobs)| {
        let alt = (0..n_machines, 0u32..9)
            .prop_map(|(machine, duration)| Alternative { machine, duration });
        let op =
            prop::collection::vec(alt, 1..if flexible { 4 } else { 2 }).prop_map(|mut alts| {
                alts.sort_by_key(|a| a.machine);
                alts.dedup_by_key(|a| a.machine);
                Operation { alternatives: alts }
            });
        let job = prop::collection::vec(op, 1..6).prop_map(|operations| Job { operations });
        prop::collection::vec(job, n_jobs..=n_jobs)
            .prop_map(move |jobs| Problem { n_machines, jobs })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn jssp_outputs_pass_checker(p in arb_problem(false), seed in 0u64..1000, threads in 1usize..3) {
        solve_checked(&p, &opts(seed, threads, 300));
    }

    #[test]
    fn fjsp_outputs_pass_checker(p in arb_problem(true), seed in 0u64..1000, threads in 1usize..3) {
        solve_checked(&p, &opts(seed, threads, 300));
    }
}

#[test]
fn progress_reports_caller_clock() {
    let p = parse_jsplib(FT06).unwrap();
    let o = SolveOptions {
        exchange_interval: 200,
        threads: 2,
        ..SolveOptions::default()
    };
    let mut ticks = 0.0;
    let mut term = schedule::TimeLimit {
        clock: move || {
            ticks += 0.01;
            ticks
        },
        limit_seconds: 1.0,
    };
    let mut seen = Vec::new();
    let r = solve(&p, &o, &mut term, &mut |pr| seen.push(*pr)).unwrap();
    assert!(seen.iter().all(|pr| pr.elapsed_seconds.is_some()));
    let rep = check(&p, &r.schedule.ops, Some(r.schedule.makespan));
    assert!(rep.is_feasible());
}

#[test]
fn target_makespan_stops_early() {
    let p = parse_jsplib(FT06).unwrap();
    let o = SolveOptions {
        target_makespan: Some(55),
        ..opts(1, 2, 1_000_000)
    };
    let r = solve(&p, &o, &mut Never, &mut |_| {}).unwrap();
    assert_eq!(r.schedule.makespan, 55);
    assert!(r.iterations < 2 * 1_000_000);
}
