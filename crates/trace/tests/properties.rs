//! Property tests: the parsers never panic on any input (arbitrary text and damaged sample
//! documents), and forward and backward trace are inverse: x is in forward(y) exactly when y
//! is in backward(x), with the same depth and time filters.

use std::path::PathBuf;

use model::Timestamp;
use proptest::prelude::*;
use trace::graph::{Edge, EdgeKind, Genealogy};
use trace::index::{Direction, Filter, Index};
use trace::{Id, IdKind};

fn sample_texts() -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/samples");
    let mut out = Vec::new();
    for dir in ["epcis", "b2mml"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        out.extend(files.iter().map(|p| std::fs::read_to_string(p).unwrap()));
    }
    out
}

fn t0() -> Timestamp {
    Timestamp(1_700_000_000_000)
}

fn parse_everything(text: &str) {
    let _ = trace::import::read(text, t0());
    let _ = trace::epcis::json::parse(text);
    let _ = trace::epcis::xml::parse(text);
    let _ = trace::b2mml::parse(text, t0());
    let _ = Id::parse(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in any::<String>()) {
        parse_everything(&text);
    }

    #[test]
    fn id_parsing_never_panics_on_id_like_text(
        head in prop::sample::select(vec![
            "urn:epc:id:sgtin:", "urn:epc:class:lgtin:", "urn:epc:id:sscc:", "urn:epc:id:sgln:",
            "urn:epc:idpat:sgtin:", "https://id.gs1.org/01/", "https://x.org/00/", "https://a/414/",
            "urn:mixplane:lot:", "lot:", "urn:epc:id:grai:",
        ]),
        tail in "[0-9./*A-Za-z%]{0,40}",
    ) {
        let text = format!("{head}{tail}");
        if let Ok(id) = Id::parse(&text) {
            // Canonical forms are fixed points.
            prop_assert_eq!(Id::parse(&id.id).unwrap(), id);
        }
    }

    #[test]
    fn parsers_never_panic_on_damaged_samples(
        which in 0usize..64,
        cuts in prop::collection::vec((0usize..10_000, 0usize..40, "[<>{}\\[\\]\":,a-z0-9 ]{0,6}"), 1..5),
    ) {
        let texts = sample_texts();
        let mut text = texts[which % texts.len()].clone();
        for (at, len, insert) in cuts {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + len).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            text.replace_range(at..end, &insert);
        }
        parse_everything(&text);
    }

    #[test]
    fn forward_and_backward_are_inverse(
        edges in prop::collection::vec((0u32..30, 0u32..30, 0usize..6, 0i64..100), 0..80),
        max_depth in prop::option::of(0u32..5),
        window in prop::option::of((0i64..100, 0i64..100)),
    ) {
        let mut genealogy = Genealogy::default();
        for (i, (a, b, k, t)) in edges.iter().enumerate() {
            genealogy.edges.push(Edge {
                kind: EdgeKind::ALL[*k],
                from: Id::local(IdKind::Lot, &format!("n{a}")),
                to: Id::local(IdKind::Lot, &format!("n{b}")),
                time: Timestamp(*t),
                location: None,
                quantity: Some(1.0),
                uom: None,
                event: format!("e{i}"),
            });
        }
        let index = Index::build(&genealogy);
        let filter = Filter {
            max_depth,
            from: window.map(|(a, b)| Timestamp(a.min(b))),
            to: window.map(|(a, b)| Timestamp(a.max(b) + 1)),
        };
        let n = index.node_count() as u32;
        let mut forward = vec![vec![false; n as usize]; n as usize];
        for y in 0..n {
            for r in index.reach(&[y], Direction::Forward, &filter) {
                forward[y as usize][r.node as usize] = true;
            }
        }
        for x in 0..n {
            let back: Vec<bool> = {
                let mut v = vec![false; n as usize];
                for r in index.reach(&[x], Direction::Backward, &filter) {
                    v[r.node as usize] = true;
                }
                v
            };
            for y in 0..n {
                prop_assert_eq!(forward[y as usize][x as usize], back[y as usize],
                    "x={} y={}", index.name(x), index.name(y));
            }
        }
    }
}
