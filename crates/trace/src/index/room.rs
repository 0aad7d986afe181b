//! Memory made resident ahead of an [`super::IndexBuilder`], on another thread.

use super::Interner;

/// Memory for an [`IndexBuilder`] to grow into, every page of it already written once.
///
/// On a virtual machine the first write to fresh memory is a page fault that costs about as
/// much as filling the page several times over; a builder of millions of edges spends more of
/// its time there than interning names. A `Room` is made on another thread ([`Room::nodes`],
/// [`Room::edges`]), where those faults overlap the builder's work, and handed over with
/// [`IndexBuilder::take_room`]. The index built is the same with or without it.
#[derive(Default)]
pub struct Room {
    /// An empty name table (every slot written), or nothing.
    pub(super) slots: Vec<u64>,
    pub(super) text: Vec<u8>,
    pub(super) ends: Vec<u64>,
    pub(super) kinds: Vec<u8>,
    pub(super) e_from: Vec<u32>,
    pub(super) e_to: Vec<u32>,
    pub(super) e_kind: Vec<u8>,
    pub(super) e_event: Vec<u32>,
    pub(super) e_measure: Vec<u32>,
}

/// An empty vector whose room for `capacity` elements has been written (so is resident).
pub(super) fn resident<T: Copy + Default>(capacity: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(capacity);
    v.resize(capacity, T::default());
    // Kept from being optimised away: the writes are the point.
    let mut v = std::hint::black_box(v);
    v.clear();
    v
}

impl Room {
    /// Room for `nodes` distinct names in all, of about `name_bytes` bytes of text.
    pub fn nodes(nodes: usize, name_bytes: usize) -> Room {
        let mut slots = Vec::new();
        slots.resize(Interner::table_size(nodes), Interner::EMPTY);
        Room {
            slots: std::hint::black_box(slots),
            text: resident(name_bytes),
            ends: resident(nodes),
            kinds: resident(nodes),
            ..Room::default()
        }
    }

    /// Room for `edges` edges in all.
    pub fn edges(edges: usize) -> Room {
        Room {
            e_from: resident(edges),
            e_to: resident(edges),
            e_kind: resident(edges),
            e_event: resident(edges),
            e_measure: resident(edges),
            ..Room::default()
        }
    }
}

/// Moves what `mine` holds into `room` when `room` is larger, and keeps that.
pub(super) fn adopt<T: Copy>(mine: &mut Vec<T>, mut room: Vec<T>) {
    if room.capacity() > mine.capacity() {
        room.clear();
        room.extend_from_slice(mine);
        *mine = room;
    }
}
