//! Folding the stored log: every replay (an open, a catch-up with other processes, a rebuild)
//! reads events as JSON and folds them in log order. Decoding the JSON costs about as much as
//! the fold, so a long replay decodes on a second thread while the caller's fold runs on its
//! own, a batch at a time; the fold still sees every event once, in order, and stops at the
//! first event that does not decode or apply.

use model::Event;

use crate::backend::Tx;
use crate::error::Result;
use crate::store::corrupt;

/// Events read before a batch is decoded and folded (the second thread is started per batch).
const BATCH: usize = 16_384;

/// Below this many events a batch is decoded on the folding thread (a thread costs more).
const ALONE: usize = 512;

/// Events decoded and handed over at a time.
const CHUNK: usize = 256;

/// Calls `fold(seq, event)` for every event after seq `after`, in log order; returns how many
/// there were. Stops at the first error, the fold's own or an event that does not decode.
pub(crate) async fn fold_log(
    tx: &mut Tx,
    after: i64,
    mut fold: impl FnMut(i64, Event) -> Result<()> + Send,
) -> Result<i64> {
    let mut pending: Vec<(i64, String)> = Vec::new();
    let count = tx
        .replay(after, |seq, body| {
            pending.push((seq, body.to_owned()));
            if pending.len() >= BATCH {
                fold_batch(std::mem::take(&mut pending), &mut fold)?;
            }
            Ok(())
        })
        .await?;
    fold_batch(pending, &mut fold)?;
    Ok(count)
}

/// The event stored at `seq` as `body`.
pub(crate) fn decode_event(seq: i64, body: &str) -> Result<Event> {
    serde_json::from_str(body)
        .map_err(|e| corrupt(format!("event at seq {seq} does not decode: {e}")))
}

fn fold_batch(
    batch: Vec<(i64, String)>,
    fold: &mut impl FnMut(i64, Event) -> Result<()>,
) -> Result<()> {
    if batch.len() < ALONE {
        for (seq, body) in batch {
            fold(seq, decode_event(seq, &body)?)?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<(i64, Result<Event>)>>(8);
        scope.spawn(move || {
            for chunk in batch.chunks(CHUNK) {
                let decoded = chunk
                    .iter()
                    .map(|(seq, body)| (*seq, decode_event(*seq, body)))
                    .collect();
                if send.send(decoded).is_err() {
                    return; // the fold stopped
                }
            }
        });
        for decoded in receive {
            for (seq, event) in decoded {
                fold(seq, event?)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: i64) -> String {
        format!(
            r#"{{"id":"e{n}","time":"2026-03-02T00:00:00Z","type":"equipment_state_changed","unit":"U1","state":"running"}}"#
        )
    }

    #[test]
    fn a_batch_is_folded_in_order_and_stops_at_the_first_fault() {
        for size in [3, ALONE + 5, 3 * CHUNK + 7] {
            let batch: Vec<(i64, String)> = (1..=size as i64).map(|n| (n * 2, body(n))).collect();
            let mut seen = Vec::new();
            fold_batch(batch.clone(), &mut |seq, event| {
                seen.push((seq, event.id.to_string()));
                Ok(())
            })
            .unwrap();
            let expected: Vec<(i64, String)> = (1..=size as i64)
                .map(|n| (n * 2, format!("e{n}")))
                .collect();
            assert_eq!(seen, expected, "{size}");

            // A body that does not decode: the fold sees every event before it and no other.
            let mut broken = batch;
            let at = size / 2;
            broken[at].1 = "{not json".to_owned();
            let mut folded = 0;
            let error = fold_batch(broken, &mut |_, _| {
                folded += 1;
                Ok(())
            })
            .unwrap_err();
            assert_eq!(folded, at, "{size}");
            assert!(
                error
                    .to_string()
                    .contains(&format!("event at seq {}", 2 * (at + 1))),
                "{error}"
            );

            // The fold's own error stops it at once.
            let mut calls = 0;
            let stop = size - 1;
            fold_batch(
                (1..=size as i64).map(|n| (n, body(n))).collect(),
                &mut |seq, _| {
                    calls += 1;
                    if seq as usize == stop {
                        return Err(corrupt("stop here"));
                    }
                    Ok(())
                },
            )
            .unwrap_err();
            assert_eq!(calls, stop, "{size}");
        }
    }
}
