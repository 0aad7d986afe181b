//! The generated genealogy the benchmark imports (shared with the tests that check the import
//! fast path against the full reader on it): raw lots → process batches → assembly orders →
//! serials → packs → pallets → customers, as EPCIS events. No randomness at all.

use model::Timestamp;
use trace::epcis::{Action, EpcisEvent, EventType, Party, QuantityElement};

pub const ORDERS_PER_BATCH: usize = 100;
pub const SERIALS_PER_ORDER: usize = 1_000;
pub const SERIALS_PER_PACK: usize = 10;
pub const PACKS_PER_PALLET: usize = 50;
pub const CUSTOMERS: usize = 500;
pub const CHUNK: usize = 10_000;

pub struct Gen {
    time: i64,
    serial: u64,
    sscc: u64,
    n: u64,
}

impl Default for Gen {
    fn default() -> Gen {
        Gen {
            time: 1_772_409_600_000,
            serial: 0,
            sscc: 0,
            n: 0,
        }
    }
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

pub fn lot(b: usize, kind: &str) -> String {
    format!("urn:epc:class:lgtin:4012345.0{kind}.B{b}")
}

/// The events of batch `b`, in time order.
pub fn batch_events(g: &mut Gen, b: usize) -> Vec<EpcisEvent> {
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
