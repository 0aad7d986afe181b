//! tmp
#[test] fn timing() {
    let t = std::time::Instant::now();
    let p = schedule::plant::generate::generate(schedule::plant::generate::GenerateOptions { operations: 10000, units: 100, seed: 1 });
    eprintln!("gen {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let (m, _g, d) = schedule::plant::first_feasible(&p, None).unwrap();
    eprintln!("first feasible 10k {:?} {:?} ops {}", t.elapsed(), d.score, m.n_ops());
    let t = std::time::Instant::now();
    let r = schedule::plant::check(&p, &d.to_schedule(&m));
    eprintln!("check {:?} feasible {} {:?}", t.elapsed(), r.feasible, &r.violations[..r.violations.len().min(3)]);
}
