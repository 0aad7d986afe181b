//! Unit tests of the genealogy index: interning, room handover, shared event columns.

use super::*;

fn name(i: usize) -> String {
    format!("urn:epc:id:sgtin:4012345.077889.{i}")
}

#[test]
fn names_keep_their_numbers_as_the_table_grows_past_three_quarters() {
    let mut names = Interner::default();
    let mut sizes = Vec::new();
    for i in 0..50_000 {
        assert_eq!(names.intern(&name(i)), (i as u32, true));
        if sizes.last() != Some(&names.slots.len()) {
            sizes.push(names.slots.len());
        }
        assert!(names.arena.len() * 4 <= names.slots.len() * 3);
    }
    // Grown several times, to sizes that are not all powers of two.
    assert!(sizes.len() >= 5, "{sizes:?}");
    assert!(sizes.iter().any(|s| !s.is_power_of_two()), "{sizes:?}");
    for i in 0..50_000 {
        assert_eq!(names.get(&name(i)), Some(i as u32));
        assert_eq!(names.intern(&name(i)), (i as u32, false));
    }
    assert_eq!(names.get("urn:epc:id:sgtin:4012345.077889.50000"), None);
}

#[test]
fn names_with_one_tag_are_told_apart() {
    // Every name on the same tag (and so the same home slot): only comparing the text
    // tells them apart, and the probe wraps around the end of the table.
    let mut names = Interner::default();
    let h = u64::MAX;
    for i in 0..600 {
        assert_eq!(names.intern_hashed(&name(i), h), (i as u32, true));
    }
    for i in 0..600 {
        assert_eq!(names.find(&name(i), h), Ok(i as u32));
    }
    assert!(names.find(&name(600), h).is_err());
}

fn build(room_after: Option<usize>) -> Index {
    let mut b = IndexBuilder::new();
    for i in 0..20_000u32 {
        if Some(i as usize) == room_after {
            b.take_room(Room::nodes(60_000, 60_000 * 36));
            b.take_room(Room::edges(40_000));
        }
        let order = format!("urn:mixplane:order:ASM-{}", i / 100);
        let event = format!("urn:uuid:{}", i / 100);
        let from = b.node(IdKind::Order, &order);
        let to = b.node(IdKind::Serial, &name(i as usize));
        let e = b.event(&event, Timestamp(i64::from(i / 100)), None);
        let quantity = (i % 7 == 0).then_some(f64::from(i));
        b.add_edge_raw(EdgeKind::ProducedFrom, from, to, e, quantity, Some("EA"));
    }
    b.finish()
}

#[test]
fn room_taken_at_any_point_gives_the_same_index() {
    let expected = build(None);
    assert_eq!(expected.node_count(), 20_000 + 200);
    for at in [0, 1, 5_000, 19_999] {
        assert!(build(Some(at)) == expected, "room taken after {at} edges");
    }
    // Room smaller than what the builder holds is not taken, and changes nothing.
    let mut b = IndexBuilder::new();
    b.reserve_nodes(100_000);
    let slots = b.nodes.slots.len();
    b.take_room(Room::nodes(10, 360));
    assert_eq!(b.nodes.slots.len(), slots);
}

#[test]
fn edges_of_one_event_share_its_time_and_location() {
    let mut b = IndexBuilder::new();
    let (a, c, l) = (
        b.node(IdKind::Lot, "a"),
        b.node(IdKind::Lot, "c"),
        b.node(IdKind::Unit, "l"),
    );
    let e1 = b.event("e1", Timestamp(5), Some(l));
    b.add_edge_raw(EdgeKind::ConsumedInto, a, c, e1, Some(2.5), Some("KGM"));
    assert_eq!(b.event("e1", Timestamp(5), Some(l)), e1);
    b.add_edge_raw(EdgeKind::ConsumedInto, c, a, e1, None, None);
    // The same id at another time or place is another occurrence.
    let e2 = b.event("e1", Timestamp(6), Some(l));
    assert_ne!(e2, e1);
    b.add_edge_raw(EdgeKind::ConsumedInto, a, c, e2, None, Some("EA"));
    let index = b.finish();
    assert_eq!(index.edge_time(0), Timestamp(5));
    assert_eq!(index.edge_location(1), Some(l));
    assert_eq!(index.edge_quantity(0), Some(2.5));
    assert_eq!(index.edge_uom(0), Some("KGM"));
    assert_eq!((index.edge_quantity(1), index.edge_uom(1)), (None, None));
    assert_eq!(
        (index.edge_quantity(2), index.edge_uom(2)),
        (None, Some("EA"))
    );
    assert_eq!(index.edge_time(2), Timestamp(6));
    assert_eq!(index.edge_event(2), "e1");
}
