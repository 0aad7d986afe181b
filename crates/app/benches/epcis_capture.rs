//! EPCIS 2.0 capture measured through the application layer (what `POST /v1/epcis/capture`
//! runs, without HTTP): read, the conformance check, lowering and the store, all or nothing —
//! with validation on (`Strict`, the default) and off (`Lenient`), in JSON-LD and XML.
//!
//! The documents: every event of the public sample `Combination_of_different_event.jsonld`
//! (object, aggregation, transformation, transaction and association events; `testdata/`)
//! repeated under fresh event ids until a document holds `EPCIS_BENCH_EVENTS` (default 10,000)
//! events; `EPCIS_BENCH_DOCS` (default 10) such documents; the XML twins written by our XML
//! writer. Each figure is the median of `EPCIS_BENCH_RUNS` (default 3) captures of all
//! documents into a fresh in-memory store, and the read-and-check step alone beside it.
//!
//! `cargo bench -p app --bench epcis_capture`. Not a timed test: nothing fails on a slow
//! machine.

use std::sync::Arc;
use std::time::Instant;

use app::App;
use app::trace::EpcisValidation;
use govern::{Principal, PrincipalKind, Role, Scope};
use model::Timestamp;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// `docs` documents of `per_doc` events each, as JSON-LD and as XML.
fn documents(docs: usize, per_doc: usize) -> (Vec<String>, Vec<String>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/samples/epcis/Combination_of_different_event.jsonld"
    );
    let sample = trace::epcis::json::parse(&std::fs::read_to_string(path).unwrap())
        .expect("the sample reads");
    let (mut json, mut xml) = (Vec::new(), Vec::new());
    for doc in 0..docs {
        let events: Vec<_> = (0..per_doc)
            .map(|i| {
                let mut event = sample.events[i % sample.events.len()].clone();
                event.event_id = format!("urn:uuid:6d697870-{doc:04x}-4000-8000-{i:012x}");
                event
            })
            .collect();
        let created = Timestamp(1_767_225_600_000);
        json.push(trace::epcis::json::document(&events, &sample.namespaces, created).to_string());
        xml.push(trace::epcis::xml::document(
            &events,
            &sample.namespaces,
            created,
        ));
    }
    (json, xml)
}

/// Events per second capturing every document into a fresh store.
async fn capture_rate(texts: &[String], per_doc: usize, validation: EpcisValidation) -> f64 {
    let store = store::Store::open_in_memory().await.unwrap();
    let mut app = App::new(Arc::new(store));
    app.epcis_validation = validation;
    let who = Principal::new("bench", PrincipalKind::Service, Role::Admin, Scope::All);
    let started = Instant::now();
    for text in texts {
        app::trace::capture(&app, &who, text)
            .await
            .expect("the documents are conformant");
    }
    (texts.len() * per_doc) as f64 / started.elapsed().as_secs_f64()
}

/// Events per second reading (and, with `conformant`, checking) every document.
fn read_rate(texts: &[String], per_doc: usize, conformant: bool) -> f64 {
    let started = Instant::now();
    for text in texts {
        trace::import::read_held(text, Timestamp(0), conformant).expect("the documents read");
    }
    (texts.len() * per_doc) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let docs = env_usize("EPCIS_BENCH_DOCS", 10);
    let per_doc = env_usize("EPCIS_BENCH_EVENTS", 10_000);
    let runs = env_usize("EPCIS_BENCH_RUNS", 3);
    let (json, xml) = documents(docs, per_doc);
    println!(
        "EPCIS capture: {docs} documents of {per_doc} events, median of {runs} runs, events/s"
    );
    println!("binding, validation, capture (read + check + store), read + check only");
    for (binding, texts) in [("JSON-LD", &json), ("XML", &xml)] {
        for validation in [EpcisValidation::Strict, EpcisValidation::Lenient] {
            let mut captured = Vec::new();
            let mut read = Vec::new();
            for _ in 0..runs {
                captured.push(capture_rate(texts, per_doc, validation).await);
                read.push(read_rate(texts, per_doc, validation.is_strict()));
            }
            println!(
                "{binding}, {validation:?}, {:.0}, {:.0}",
                median(captured),
                median(read)
            );
        }
    }
}
