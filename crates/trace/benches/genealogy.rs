//! Genealogy benchmark on a generated mixed-mode history of about 10 million edges:
//! raw lots → process batches → assembly orders → serials → packs → pallets → customers.
//!
//! Each batch is consumed by 100 assembly orders of 1,000 serials each (100,000 serials per
//! batch), serials are packed 10 to a pack (SSCC), packs 50 to a pallet, and pallets ship to
//! one of 500 customers. The generator is deterministic (no randomness at all).
//!
//! It reports:
//! - **import**: EPCIS 2.0 JSON-LD text → parse → lower → index, in chunks of 10,000 events
//!   (generating and serialising the text is not timed), as events/s and edges/s;
//! - **forward trace** from one batch to its 100,000 serials: median of 21 runs of the
//!   integer traversal, and of the full report with names (flat list and tree);
//! - **memory**: peak resident set (`VmHWM` from `/proc/self/status`).
//!
//! `cargo bench -p trace --bench genealogy` (`-- --batches N` for a smaller run).

use std::time::{Duration, Instant};

use model::Timestamp;
use trace::epcis::{Action, EpcisEvent, EventType, Party, QuantityElement};
use trace::index::{Direction, Filter, IndexBuilder};
use trace::{IdKind, TraceRequest};

const ORDERS_PER_BATCH: usize = 100;
const SERIALS_PER_ORDER: usize = 1_000;
const SERIALS_PER_PACK: usize = 10;
const PACKS_PER_PALLET: usize = 50;
const CUSTOMERS: usize = 500;
const CHUNK: usize = 10_000;

struct Gen {
    time: i64,
    serial: u64,
    sscc: u64,
    n: u64,
}

impl Gen {
    fn event(&mut self, kind: EventType) -> EpcisEvent {
        self.time += 1_000;
        self.n += 1;
        EpcisEvent::new(
            kind,
            format!("urn:uuid:bench-{}", self.n),
            Timestamp(self.time),
        )
    }
    fn sscc(&mut self) -> String {
        self.sscc += 1;
        format!("urn:epc:id:sscc:4012345.{:010}", self.sscc)
    }
}

fn lot(b: usize, kind: &str) -> String {
    format!("urn:epc:class:lgtin:4012345.0{kind}.B{b}")
}

/// The events of batch `b`, in time order.
fn batch_events(g: &mut Gen, b: usize) -> Vec<EpcisEvent> {
    let mut out = Vec::new();
    let raws: Vec<String> = (0..3).map(|r| lot(b, &format!("1000{r}"))).collect();
    for raw in &raws {
        let mut e = g.event(EventType::ObjectEvent);
        e.action = Some(Action::Add);
        e.biz_step = Some("receiving".into());
        e.quantity_list.push(QuantityElement {
            epc_class: raw.clone(),
            quantity: Some(1_000.0),
            uom: Some("KGM".into()),
        });
        out.push(e);
    }
    let batch = lot(b, "20000");
    let mut e = g.event(EventType::TransformationEvent);
    e.transformation_id = Some(format!("urn:mixplane:order:PROC-{b}"));
    for raw in &raws {
        e.input_quantity_list.push(QuantityElement {
            epc_class: raw.clone(),
            quantity: Some(1_000.0),
            uom: Some("KGM".into()),
        });
    }
    e.output_quantity_list.push(QuantityElement {
        epc_class: batch.clone(),
        quantity: Some(2_900.0),
        uom: Some("KGM".into()),
    });
    out.push(e);
    let mut serials = Vec::with_capacity(ORDERS_PER_BATCH * SERIALS_PER_ORDER);
    for o in 0..ORDERS_PER_BATCH {
        let mut e = g.event(EventType::TransformationEvent);
        e.transformation_id = Some(format!("urn:mixplane:order:ASM-{b}-{o}"));
        e.input_quantity_list.push(QuantityElement {
            epc_class: batch.clone(),
            quantity: Some(29.0),
            uom: Some("KGM".into()),
        });
        e.input_quantity_list.push(QuantityElement {
            epc_class: lot(b % 7, "30000"),
            quantity: Some(1_000.0),
            uom: Some("EA".into()),
        });
        for _ in 0..SERIALS_PER_ORDER {
            g.serial += 1;
            let s = format!("urn:epc:id:sgtin:4012345.077889.{}", g.serial);
            e.output_epc_list.push(s.clone());
            serials.push(s);
        }
        out.push(e);
    }
    let mut packs = Vec::new();
    for chunk in serials.chunks(SERIALS_PER_PACK) {
        let mut e = g.event(EventType::AggregationEvent);
        e.action = Some(Action::Add);
        e.biz_step = Some("packing".into());
        let pack = g.sscc();
        e.parent_id = Some(pack.clone());
        e.child_epcs = chunk.to_vec();
        out.push(e);
        packs.push(pack);
    }
    for (p, chunk) in packs.chunks(PACKS_PER_PALLET).enumerate() {
        let mut e = g.event(EventType::AggregationEvent);
        e.action = Some(Action::Add);
        e.biz_step = Some("packing".into());
        let pallet = g.sscc();
        e.parent_id = Some(pallet.clone());
        e.child_epcs = chunk.to_vec();
        out.push(e);
        let mut ship = g.event(EventType::ObjectEvent);
        ship.action = Some(Action::Observe);
        ship.biz_step = Some("shipping".into());
        ship.disposition = Some("in_transit".into());
        ship.epc_list.push(pallet);
        ship.destination_list.push(Party {
            kind: "owning_party".into(),
            id: format!("urn:epc:id:pgln:4012345.{:05}", (b * 31 + p) % CUSTOMERS),
        });
        out.push(ship);
    }
    out
}

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
    let batches = std::env::args()
        .skip_while(|a| a != "--batches")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(48usize);
    let mut g = Gen {
        time: 1_772_409_600_000,
        serial: 0,
        sscc: 0,
        n: 0,
    };
    let mut builder = IndexBuilder::new();
    let mut events = 0usize;
    let mut bytes = 0usize;
    let mut import = Duration::ZERO;
    let (mut t_parse, mut t_lower, mut t_index) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut cpu_import = 0.0;
    for b in 0..batches {
        let generated = batch_events(&mut g, b);
        for chunk in generated.chunks(CHUNK) {
            let text =
                trace::epcis::json::document(chunk, &Default::default(), Timestamp(0)).to_string();
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
            import += t.elapsed();
            events += doc.events.len();
            drop(doc);
            drop(genealogy);
            cpu_import += cpu_seconds().unwrap_or(0.0) - cpu0;
        }
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
        "import (parse + lower + index, JSON-LD text in hand): {:.2} s = {:.0} events/s, {:.0} edges/s (CSR build {:.2} s)",
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
    println!(
        "  of which: parse JSON-LD {:.2} s, lower to edges {:.2} s, intern + append {:.2} s",
        t_parse.as_secs_f64(),
        t_lower.as_secs_f64(),
        t_index.as_secs_f64()
    );

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
