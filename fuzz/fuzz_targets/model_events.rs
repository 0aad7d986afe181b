//! The plant's events (`model::Event` from JSON, a batch as an array or one event) folded into
//! the reference plant's state (`PlantState::apply`): any text is read or rejected with a
//! serde error; each event is applied or rejected with an `EventError`, and a rejected event
//! leaves the state untouched (all or nothing per event). An event read, written and read again
//! is the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{reference_catalog, t0, text};
use model::{Event, PlantState};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let events: Vec<Event> = match serde_json::from_str(text) {
        Ok(batch) => batch,
        Err(_) => match serde_json::from_str::<Event>(text) {
            Ok(one) => vec![one],
            Err(_) => return,
        },
    };
    let catalog = reference_catalog();
    let mut state = PlantState::initial(catalog, t0());
    for event in &events {
        let written = serde_json::to_string(event).expect("an event serialises");
        let again: Event = serde_json::from_str(&written)
            .unwrap_or_else(|e| panic!("a written event must read back: {e}\n{written}"));
        assert_eq!(&again, event, "event round trip");
        let before = state.clone();
        if state.apply(catalog, event).is_err() {
            assert!(state == before, "a rejected event changed the state");
        }
    }
});
