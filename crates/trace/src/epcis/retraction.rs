//! What error declarations retracted, in the words a trace or a recall reports it.
//!
//! Lowering drops a retracted event from the genealogy ([`super::retracted`]); a person
//! reading a trace or a recall also needs to know that something was dropped and why, or a
//! link that vanished looks like a bug. A [`Retraction`] is the declaration (when, why, the
//! corrective events) with the canonical identifiers the retracted event named, so a report
//! can list the retractions that touch what it shows.

use std::collections::BTreeSet;

use model::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;

use super::{EpcisEvent, id_of};

/// An event retracted by an error declaration.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Retraction {
    /// The eventID the declaration retracts.
    pub event_id: String,
    /// `ObjectEvent`, `TransformationEvent`, …
    pub event_type: String,
    pub event_time: Timestamp,
    /// When the error was declared.
    pub declared_at: Timestamp,
    /// The CBV error reason (`incorrect_data`, `did_not_occur`, …), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Events the declaring party captured to correct it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrective_event_ids: Vec<String>,
    /// The identifiers the retracted event named (parent, EPCs, classes), canonical.
    pub ids: Vec<String>,
}

impl Retraction {
    /// Whether the retracted event named `id` (canonical).
    pub fn names(&self, id: &str) -> bool {
        self.ids.iter().any(|x| x == id)
    }

    /// The retraction in a few words: `ObjectEvent E1 of <time> (declared <time>, reason)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} of {} (declared {}{})",
            self.event_type,
            self.event_id,
            self.event_time,
            self.declared_at,
            self.reason
                .as_deref()
                .map(|why| format!(", {why}"))
                .unwrap_or_default()
        )
    }
}

/// The retractions the declarations among `events` make, one per retracted eventID (the
/// earliest declaration), in eventID order.
pub fn retractions(events: &[EpcisEvent]) -> Vec<Retraction> {
    let mut out: Vec<Retraction> = Vec::new();
    for e in events {
        let Some(declaration) = &e.error_declaration else {
            continue;
        };
        let mut ids: BTreeSet<String> = BTreeSet::new();
        let lists = [
            &e.epc_list,
            &e.child_epcs,
            &e.input_epc_list,
            &e.output_epc_list,
        ];
        let quantity_lists = [
            &e.quantity_list,
            &e.child_quantity_list,
            &e.input_quantity_list,
            &e.output_quantity_list,
        ];
        let named = e
            .parent_id
            .iter()
            .chain(lists.into_iter().flatten())
            .chain(quantity_lists.into_iter().flatten().map(|q| &q.epc_class));
        for text in named {
            ids.insert(id_of(text).id.into_owned());
        }
        let retraction = Retraction {
            event_id: e.event_id.clone(),
            event_type: e.event_type.as_str().to_owned(),
            event_time: e.event_time,
            declared_at: declaration.declaration_time,
            reason: declaration.reason.clone(),
            corrective_event_ids: declaration.corrective_event_ids.clone(),
            ids: ids.into_iter().collect(),
        };
        match out.iter_mut().find(|r| r.event_id == retraction.event_id) {
            Some(known) if known.declared_at <= retraction.declared_at => {}
            Some(known) => *known = retraction,
            None => out.push(retraction),
        }
    }
    out.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    out
}

/// The retractions of `all` whose event named any of `ids` (canonical), in `all`'s order.
pub fn touching<'a, 'i>(
    all: &'a [Retraction],
    ids: impl IntoIterator<Item = &'i str>,
) -> Vec<&'a Retraction> {
    let ids: BTreeSet<&str> = ids.into_iter().collect();
    all.iter()
        .filter(|r| r.ids.iter().any(|x| ids.contains(x.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::epcis::{ErrorDeclaration, EventType};

    fn event(id: &str, epcs: &[&str], declared: Option<i64>) -> EpcisEvent {
        let mut e = EpcisEvent::new(EventType::ObjectEvent, id.into(), Timestamp(1_000));
        e.epc_list = epcs.iter().map(|s| s.to_string()).collect();
        e.error_declaration = declared.map(|t| ErrorDeclaration {
            declaration_time: Timestamp(t),
            reason: Some("incorrect_data".into()),
            corrective_event_ids: Vec::new(),
        });
        e
    }

    #[test]
    fn one_retraction_per_event_with_the_ids_it_named() {
        let serial = "urn:epc:id:sgtin:4012345.011122.1";
        let canonical = id_of(serial).id.into_owned();
        let events = [
            event("E1", &[serial], None),
            event("E1", &[serial], Some(5_000)),
            event("E1", &[serial], Some(3_000)),
            event("E2", &["urn:epc:id:sgtin:4012345.011122.2"], None),
        ];
        let all = retractions(&events);
        assert_eq!(all.len(), 1);
        assert_eq!(
            all[0].declared_at,
            Timestamp(3_000),
            "the earliest declaration"
        );
        assert!(all[0].names(&canonical));
        assert_eq!(touching(&all, [canonical.as_str()]).len(), 1);
        assert!(touching(&all, ["something else"]).is_empty());
    }
}
