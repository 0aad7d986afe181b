//! Genealogy benchmark on a generated mixed-mode history of about 10 million edges:
//! raw lots → process batches → assembly orders → serials → packs → pallets → customers.
//!
//! Each batch is consumed by 100 assembly orders of 1,000 serials each (100,000 serials per
//! batch), serials are packed 10 to a pack (SSCC), packs 50 to a pallet, and pallets ship to
//! one of 500 customers. The generator is deterministic (no randomness at all).
//!
//! It reports:
//! - **import**: EPCIS 2.0 JSON-LD text → parse → lower → index, in documents of 10,000 events
//!   (generating and serialising the text is not timed; the fast path imports the documents
//!   in one bulk call, `epcis::fast::import_json_many`), as events/s and edges/s;
//! - **forward trace** from one batch to its 100,000 serials: median of 21 runs of the
//!   integer traversal, and of the full report with names (flat list and tree);
//! - **memory**: peak resident set (`VmHWM` from `/proc/self/status`).
//!
//! `cargo bench -p trace --bench genealogy` (`-- --batches N` for a smaller run).

use std::time::{Duration, Instant};

mod common;

use common::{CHUNK, Gen, ORDERS_PER_BATCH, SERIALS_PER_ORDER, batch_events, lot};
use model::Timestamp;
use trace::index::{Direction, Filter, IndexBuilder};
use trace::{IdKind, TraceRequest};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (100 Hz ticks);
/// wall-clock figures on a shared, loaded machine overstate the cost, CPU time does not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().skip_while(|a| *a != name).nth(1).cloned();
    let batches = flag("--batches")
        .and_then(|n| n.parse().ok())
        .unwrap_or(48usize);
    // `--path full`: the full reader (event model, genealogy records, then the index), for
    // comparison with the fast path every import uses.
    let full = flag("--path").as_deref() == Some("full");
    let mut g = Gen::default();
    let mut builder = IndexBuilder::new();
    let mut events = 0usize;
    let mut bytes = 0usize;
    let mut import = Duration::ZERO;
    let (mut t_parse, mut t_lower, mut t_index) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut cpu_import = 0.0;
    if full {
        for b in 0..batches {
            let generated = batch_events(&mut g, b);
            for chunk in generated.chunks(CHUNK) {
                let text = trace::epcis::json::document(chunk, &Default::default(), Timestamp(0))
                    .to_string();
                bytes += text.len();
                let cpu0 = cpu_seconds().unwrap_or(0.0);
                let t = Instant::now();
                let doc = trace::epcis::json::parse(&text).expect("generated documents parse");
                let t1 = Instant::now();
                let genealogy = trace::epcis::lower(&doc.events);
                let t2 = Instant::now();
                builder.add(&genealogy);
                let t3 = Instant::now();
                t_parse += t1 - t;
                t_lower += t2 - t1;
                t_index += t3 - t2;
                events += doc.events.len();
                drop(doc);
                drop(genealogy);
                import += t.elapsed();
                cpu_import += cpu_seconds().unwrap_or(0.0) - cpu0;
            }
        }
    } else {
        // The fast path imports the whole sequence of documents in one call (the way a bulk
        // import runs), so every document's text is generated first (not timed).
        let mut texts = Vec::new();
        for b in 0..batches {
            let generated = batch_events(&mut g, b);
            for chunk in generated.chunks(CHUNK) {
                let text = trace::epcis::json::document(chunk, &Default::default(), Timestamp(0))
                    .to_string();
                bytes += text.len();
                texts.push(text);
            }
        }
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let cpu0 = cpu_seconds().unwrap_or(0.0);
        let t = Instant::now();
        events += trace::epcis::fast::import_json_many(&texts, &mut builder)
            .expect("generated documents import");
        import += t.elapsed();
        cpu_import += cpu_seconds().unwrap_or(0.0) - cpu0;
    }
    let edges = builder.edge_count();
    let t = Instant::now();
    let index = builder.finish();
    let finish = t.elapsed();
    import += finish;
    println!(
        "genealogy: {batches} batches, {events} EPCIS events ({:.0} MB of JSON-LD), {edges} edges, {} nodes",
        bytes as f64 / 1e6,
        index.node_count()
    );
    println!(
        "import via the {} path (parse + lower + index, JSON-LD text in hand): {:.2} s = {:.0} events/s, {:.0} edges/s (CSR build {:.2} s)",
        if full { "full" } else { "fast" },
        import.as_secs_f64(),
        events as f64 / import.as_secs_f64(),
        edges as f64 / import.as_secs_f64(),
        finish.as_secs_f64()
    );
    println!(
        "  CPU time (user + system) {:.2} s = {:.0} events/s, {:.0} edges/s per CPU-second",
        cpu_import,
        events as f64 / cpu_import,
        edges as f64 / cpu_import
    );
    if full {
        println!(
            "  of which: parse JSON-LD {:.2} s, lower to edges {:.2} s, intern + append {:.2} s",
            t_parse.as_secs_f64(),
            t_lower.as_secs_f64(),
            t_index.as_secs_f64()
        );
    }

    let batch = index
        .resolve(&lot(0, "20000"))
        .expect("the first batch is indexed");
    let reached = index.reach(&[batch], Direction::Forward, &Filter::default());
    let serials = reached
        .iter()
        .filter(|r| index.kind(r.node) == IdKind::Serial)
        .count();
    let customers = reached
        .iter()
        .filter(|r| index.kind(r.node) == IdKind::Customer)
        .count();
    assert_eq!(serials, ORDERS_PER_BATCH * SERIALS_PER_ORDER);
    let runs = 21;
    let traversal = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let r = index.reach(&[batch], Direction::Forward, &Filter::default());
                std::hint::black_box(r.len());
                t.elapsed()
            })
            .collect(),
    );
    let report = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let r = trace::query::trace_node(
                    &index,
                    batch,
                    Direction::Forward,
                    &TraceRequest::default(),
                );
                std::hint::black_box(r.nodes.len());
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "forward trace from one batch: {} nodes ({serials} serials, {customers} customers); median of {runs}: traversal {:.1} ms, full report with names and tree {:.1} ms",
        reached.len(),
        traversal.as_secs_f64() * 1e3,
        report.as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let recall = trace::recall(
        &index,
        &trace::RecallRequest {
            id: Some(lot(0, "20000")),
            ..Default::default()
        },
    )
    .expect("recall runs");
    println!(
        "recall from the batch: {} serials, {} pallets, {} customers in {:.1} ms",
        recall.totals.serials,
        recall.totals.pallets + recall.other.len(),
        recall.totals.customers,
        t.elapsed().as_secs_f64() * 1e3
    );
    match peak_rss_mib() {
        Some(mib) => println!("memory: peak RSS (VmHWM) {mib:.0} MiB"),
        None => println!("memory: /proc/self/status not available"),
    }
}
