//! Normalising an event's identifiers into one shared buffer ([`Spans`], checking what the
//! full reader checks on the way) and the lowering view of a checked event.

use std::borrow::Cow;

use model::Timestamp;

use super::super::json::valid_offset;
use super::super::{Action, EventType, EventView, QuantityView, Vocab};
use crate::id::Canonicaliser;

use super::raw::{RawEvent, RawQuantity};

/// A normalised identifier: a range of the shared buffer.
pub(super) type Span = (u32, u32);

/// Where an event's normalised identifiers are in the shared buffer.
pub(super) struct Spans {
    /// What was read and checked of the event itself.
    pub(super) event_type: EventType,
    pub(super) time: Timestamp,
    pub(super) action: Option<Action>,
    pub(super) parent: Option<Span>,
    pub(super) epcs: Vec<Span>,
    pub(super) children: Vec<Span>,
    pub(super) inputs: Vec<Span>,
    pub(super) outputs: Vec<Span>,
    pub(super) quantities: [Vec<Span>; 4],
    pub(super) location: Option<Span>,
    pub(super) transactions: Vec<Span>,
    pub(super) destinations: Vec<Span>,
}

/// The shared buffer of normalised ids.
pub(super) struct Canon {
    pub(super) text: String,
    pub(super) ids: Canonicaliser,
}

fn canonical(text: &str, canon: &mut Canon) -> Option<Span> {
    let start = canon.text.len();
    canon.ids.parse_into(text, &mut canon.text).ok()?;
    let canon = &canon.text;
    Some((u32::try_from(start).ok()?, u32::try_from(canon.len()).ok()?))
}

fn canonical_all(list: &[Cow<'_, str>], canon: &mut Canon) -> Option<Vec<Span>> {
    list.iter().map(|t| canonical(t, canon)).collect()
}

impl Spans {
    /// Checks what the full reader checks and normalises every identifier into `canon`;
    /// `None` when the full reader must decide.
    pub(super) fn of(e: &RawEvent<'_>, canon: &mut Canon) -> Option<Spans> {
        if e.unknown || e.id.as_deref().is_none_or(str::is_empty) {
            return None;
        }
        let kind = EventType::from_name(e.kind.as_deref()?)?;
        let time = Timestamp::parse(e.time.as_deref()?).ok()?;
        if let Some(offset) = &e.offset
            && !valid_offset(offset)
        {
            return None;
        }
        if let Some(t) = &e.record_time {
            Timestamp::parse(t).ok()?;
        }
        if let Some(err) = &e.error {
            Timestamp::parse(err.time.as_deref()?).ok()?;
        }
        let action = match &e.action {
            Some(a) => Some(Action::from_name(a)?),
            None if kind != EventType::TransformationEvent => return None,
            None => None,
        };
        for p in &e.sources {
            p.kind.as_ref()?;
            canonical(p.source.as_deref()?, canon)?;
        }
        let quantities = [
            &e.quantities,
            &e.child_quantities,
            &e.input_quantities,
            &e.output_quantities,
        ];
        let mut q_spans: [Vec<Span>; 4] = Default::default();
        for (list, spans) in quantities.into_iter().zip(&mut q_spans) {
            for q in list {
                if q.quantity.is_some_and(|q| !q.is_finite()) {
                    return None;
                }
                spans.push(canonical(q.class.as_deref()?, canon)?);
            }
        }
        // Both locations are checked; lowering uses the business location, else the read point.
        let read_point = match &e.read_point {
            Some(l) => Some(canonical(l.id.as_deref()?, canon)?),
            None => None,
        };
        let biz_location = match &e.biz_location {
            Some(l) => Some(canonical(l.id.as_deref()?, canon)?),
            None => None,
        };
        Some(Spans {
            event_type: kind,
            time,
            action,
            parent: match &e.parent {
                Some(p) => Some(canonical(p, canon)?),
                None => None,
            },
            epcs: canonical_all(&e.epcs, canon)?,
            children: canonical_all(&e.children, canon)?,
            inputs: canonical_all(&e.inputs, canon)?,
            outputs: canonical_all(&e.outputs, canon)?,
            quantities: q_spans,
            location: biz_location.or(read_point),
            transactions: e
                .transactions
                .iter()
                .map(|t| canonical(t.id.as_deref()?, canon))
                .collect::<Option<_>>()?,
            destinations: e
                .destinations
                .iter()
                .map(|p| {
                    p.kind.as_ref()?;
                    canonical(p.destination.as_deref()?, canon)
                })
                .collect::<Option<_>>()?,
        })
    }
}

/// The lowering view of a checked event.
pub(super) fn view<'r>(e: &'r RawEvent<'_>, s: &Spans, canon: &'r str) -> EventView<'r> {
    let at = |&(a, b): &Span| &canon[a as usize..b as usize];
    let all = |spans: &[Span]| spans.iter().map(at).collect::<Vec<_>>();
    let quantities = |list: &'r [RawQuantity<'_>], spans: &[Span]| {
        list.iter()
            .zip(spans)
            .map(|(q, sp)| QuantityView {
                class: at(sp),
                quantity: q.quantity,
                uom: q.uom.as_deref(),
            })
            .collect::<Vec<_>>()
    };
    let dispositions = |list: &'r [Cow<'_, str>]| {
        list.iter()
            .map(|d| Vocab::Disposition.shorten_str(d))
            .collect::<Vec<_>>()
    };
    EventView {
        event_type: Some(s.event_type),
        event_id: e.id.as_deref().unwrap_or_default(),
        time: s.time,
        action: s.action,
        declares_error: e.error.is_some(),
        parent: s.parent.as_ref().map(at),
        epcs: all(&s.epcs),
        children: all(&s.children),
        inputs: all(&s.inputs),
        outputs: all(&s.outputs),
        quantities: quantities(&e.quantities, &s.quantities[0]),
        child_quantities: quantities(&e.child_quantities, &s.quantities[1]),
        input_quantities: quantities(&e.input_quantities, &s.quantities[2]),
        output_quantities: quantities(&e.output_quantities, &s.quantities[3]),
        transformation_id: e.transformation_id.as_deref(),
        biz_step: e.biz_step.as_deref().map(|t| Vocab::BizStep.shorten_str(t)),
        disposition: e
            .disposition
            .as_deref()
            .map(|t| Vocab::Disposition.shorten_str(t)),
        persistent_set: e
            .persistent
            .as_ref()
            .map_or_else(Vec::new, |p| dispositions(&p.set)),
        persistent_unset: e
            .persistent
            .as_ref()
            .map_or_else(Vec::new, |p| dispositions(&p.unset)),
        location: s.location.as_ref().map(at),
        biz_transactions: all(&s.transactions),
        destinations: e
            .destinations
            .iter()
            .zip(&s.destinations)
            .map(|(p, sp)| {
                let kind = p.kind.as_deref().unwrap_or_default();
                (Vocab::SourceDestType.shorten_str(kind), at(sp))
            })
            .collect(),
    }
}
