//! EPCIS JSON-LD import over a fixed input, for repeatable instruction counts (callgrind) and
//! events/s medians of the import alone, apart from the genealogy bench's generation.
//!
//! ```sh
//! # the genealogy bench's documents (benches/common), N batches of ~10,500 events, to DIR;
//! # with --extensions every event also carries a sensor report, ILMD and extension fields
//! # (values the fast path skips, with escapes, numbers and nesting)
//! cargo run --release -p trace --example epcis_import -- write DIR [--batches N] [--extensions]
//! # read DIR's documents and import them with import_json_many, R times (median printed)
//! cargo run --release -p trace --example epcis_import -- import DIR [--repeat R]
//! # the same through the full reader (event model, genealogy records, then the index)
//! cargo run --release -p trace --example epcis_import -- import-full DIR [--repeat R]
//! # the same without importing: what reading the files costs, to subtract
//! cargo run --release -p trace --example epcis_import -- read DIR
//! ```
//!
//! Instructions of the import path, on a busy machine where wall clock is noisy:
//! `valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/epcis_import import DIR`
//! minus the same with `read` (`Collected` on the summary line).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../benches/common/mod.rs"]
#[allow(dead_code)]
mod common;

use common::{CHUNK, Gen, batch_events};
use model::Timestamp;
use serde_json::json;
use trace::epcis::EpcisEvent;
use trace::index::IndexBuilder;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: epcis_import <write|import|read> DIR [--batches N] [--repeat R]";
    let flag = |name: &str| {
        args.iter()
            .skip_while(|a| *a != name)
            .nth(1)
            .and_then(|n| n.parse::<usize>().ok())
    };
    let (Some(mode), Some(dir)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    match mode.as_str() {
        "write" => write(
            dir,
            flag("--batches").unwrap_or(1),
            args.iter().any(|a| a == "--extensions"),
        ),
        "import" => import(&read(dir), flag("--repeat").unwrap_or(1), false),
        "import-full" => import(&read(dir), flag("--repeat").unwrap_or(1), true),
        "read" => {
            let texts = read(dir);
            let bytes: usize = texts.iter().map(String::len).sum();
            println!("{} documents, {bytes} bytes read", texts.len());
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

fn write(dir: &Path, batches: usize, extensions: bool) {
    std::fs::create_dir_all(dir).expect("the output folder can be made");
    let mut g = Gen::default();
    let mut n = 0;
    for b in 0..batches {
        let mut generated = batch_events(&mut g, b);
        if extensions {
            generated.iter_mut().enumerate().for_each(extend);
        }
        for chunk in generated.chunks(CHUNK) {
            let text =
                trace::epcis::json::document(chunk, &Default::default(), Timestamp(0)).to_string();
            std::fs::write(dir.join(format!("{n:04}.json")), text).expect("a document is written");
            n += 1;
        }
    }
    println!("{n} documents written to {}", dir.display());
}

/// What real documents carry beside the genealogy and the fast path reads past: a sensor
/// report, instance/lot master data and namespaced extensions (strings with escapes and
/// non-ASCII text, numbers with fractions and exponents, nested objects and arrays).
fn extend((n, e): (usize, &mut EpcisEvent)) {
    let reading = 20.0 + (n % 100) as f64 / 8.0;
    e.sensor_element_list = vec![json!({
        "sensorMetadata": {
            "time": "2026-03-02T06:00:00Z",
            "deviceID": format!("urn:epc:id:giai:4000001.{}", n % 997),
            "deviceMetadata": "https://id.gs1.org/giai/4000001111",
        },
        "sensorReport": [
            {"type": "gs1:Temperature", "value": reading, "uom": "CEL",
             "minValue": reading - 0.5, "maxValue": reading + 0.75},
            {"type": "gs1:RelativeHumidity", "value": 41.25, "uom": "A93",
             "ex:calibrated": true, "ex:drift": 1.5e-9},
        ],
    })];
    e.ilmd = [
        ("ex:bestBeforeDate".to_owned(), json!("2026-06-01")),
        (
            "ex:lotNote".to_owned(),
            json!(format!("Charge \"{n}\" – geprüft\n")),
        ),
    ]
    .into_iter()
    .collect();
    e.extensions = [
        ("ex:shift".to_owned(), json!("Früh")),
        (
            "ex:operator".to_owned(),
            json!({"id": format!("op-{}", n % 40), "name": "A. Müller", "badge": null}),
        ),
        ("ex:readings".to_owned(), json!([1.5, 2.25, 3, -4, 1e-2])),
    ]
    .into_iter()
    .collect();
}

/// The full reader's import of one document, as the genealogy bench's `--path full` runs it.
fn full_import(text: &str, builder: &mut IndexBuilder) -> usize {
    let doc = trace::epcis::json::parse(text).expect("the document parses");
    builder.add(&trace::epcis::lower(&doc.events));
    doc.events.len()
}

fn read(dir: &Path) -> Vec<String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the document folder can be read")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("a document can be read"))
        .collect()
}

fn import(texts: &[String], repeat: usize, full: bool) {
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut times: Vec<Duration> = Vec::new();
    let mut events = 0;
    let mut edges = 0;
    for _ in 0..repeat.max(1) {
        let mut builder = IndexBuilder::new();
        let t = Instant::now();
        events = if full {
            texts
                .iter()
                .map(|text| full_import(text, &mut builder))
                .sum()
        } else {
            trace::epcis::fast::import_json_many(&texts, &mut builder)
                .expect("the documents import")
        };
        edges = builder.edge_count();
        let index = builder.finish();
        times.push(t.elapsed());
        std::hint::black_box(index.node_count());
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{events} events, {edges} edges; median of {} imports {:.3} s = {:.0} events/s",
        times.len(),
        median.as_secs_f64(),
        events as f64 / median.as_secs_f64()
    );
}
