//! The profile's wire values: entity GUIDs derived from natural keys, `Edm.DateTimeOffset`
//! text, and the coded values (priority, statuses) of the rows.
//!
//! A GUID is name-based: the first 16 bytes of SHA-256 over `opcenter/<set>/<NId>`, marked
//! as an RFC 9562 version 8 (custom) UUID with the RFC 4122 variant. The same natural key
//! always gives the same `Id`, so an emulator run from a seed serves the same GUIDs and a
//! command naming an `NId` finds the row a reader saw by its `Id`.

use std::fmt::Write as _;

use model::{EquipmentState, Priority, Timestamp};
use sha2::{Digest, Sha256};

/// The `Id` of the row with natural key `nid` in entity set `set`.
pub fn guid(set: &str, nid: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"opcenter/");
    hasher.update(set.as_bytes());
    hasher.update(b"/");
    hasher.update(nid.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8: a custom, name-based layout
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC 4122 variant
    let mut text = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        write!(text, "{byte:02x}").expect("writing to a String cannot fail");
    }
    text
}

/// `Edm.DateTimeOffset` text: RFC 3339 in UTC, always with milliseconds, so that the text
/// of two instants sorts as the instants do (a reader comparing strings stays right).
pub fn time_text(t: Timestamp) -> String {
    let text = t.to_string();
    match text.strip_suffix('Z') {
        Some(head) if !head.contains('.') => format!("{head}.000Z"),
        _ => text,
    }
}

/// Opcenter's work-order priority is an integer, 1 the most urgent.
pub fn priority_number(priority: Priority) -> i64 {
    match priority {
        Priority::High => 1,
        Priority::Medium => 2,
        Priority::Low => 3,
    }
}

/// The priority a work-order `Priority` number stands for: 1 high, 2 medium, 3 or more low.
pub fn priority_of(number: i64) -> Option<Priority> {
    match number {
        1 => Some(Priority::High),
        2 => Some(Priority::Medium),
        n if n >= 3 => Some(Priority::Low),
        _ => None,
    }
}

/// The `Status` text of an equipment state.
pub fn equipment_status(state: EquipmentState) -> &'static str {
    match state {
        EquipmentState::Running => "Running",
        EquipmentState::Idle => "Idle",
        EquipmentState::Setup => "Setup",
        EquipmentState::Cleaning => "Cleaning",
        EquipmentState::Down => "Down",
    }
}

/// The equipment state an equipment `Status` text stands for.
pub fn equipment_state_of(status: &str) -> Option<EquipmentState> {
    [
        EquipmentState::Running,
        EquipmentState::Idle,
        EquipmentState::Setup,
        EquipmentState::Cleaning,
        EquipmentState::Down,
    ]
    .into_iter()
    .find(|state| equipment_status(*state) == status)
}

/// Work-order `Status` values.
pub mod order_status {
    /// Released to production, no operation started.
    pub const RELEASED: &str = "Released";
    /// An operation has started.
    pub const ACTIVE: &str = "Active";
    /// Every operation completed.
    pub const COMPLETE: &str = "Complete";
    /// Cancelled; `Notes` holds the reason.
    pub const ABORTED: &str = "Aborted";
}

/// Work-order-operation `Status` values.
pub mod operation_status {
    /// Waiting to start.
    pub const READY: &str = "Ready";
    pub const ACTIVE: &str = "Active";
    pub const COMPLETE: &str = "Complete";
    /// Its order was cancelled before it ran.
    pub const ABORTED: &str = "Aborted";
}

/// The operation `Sequence` of 0-based routing step `step`: 10, 20, 30, … as routings number
/// their operations.
pub fn sequence_of(step: u32) -> i64 {
    10 * (i64::from(step) + 1)
}

/// The 0-based routing step of an operation `Sequence` (a positive multiple of 10).
pub fn step_of(sequence: i64) -> Option<u32> {
    if sequence >= 10 && sequence % 10 == 0 {
        u32::try_from(sequence / 10 - 1).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_stable_versioned_and_distinct_per_set() {
        let a = guid("WorkOrder", "MO-1");
        assert_eq!(a, guid("WorkOrder", "MO-1"));
        assert_ne!(a, guid("WorkOrderOperation", "MO-1"));
        assert_ne!(a, guid("WorkOrder", "MO-2"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8", "{a}");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
        assert!(
            a.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn times_always_carry_milliseconds() {
        let t = Timestamp::parse("2026-03-02T06:00:00Z").unwrap();
        assert_eq!(time_text(t), "2026-03-02T06:00:00.000Z");
        assert_eq!(time_text(Timestamp(t.0 + 7)), "2026-03-02T06:00:00.007Z");
        assert!(time_text(t) < time_text(Timestamp(t.0 + 1)));
    }

    #[test]
    fn codes_round_trip() {
        for p in [Priority::High, Priority::Medium, Priority::Low] {
            assert_eq!(priority_of(priority_number(p)), Some(p));
        }
        assert_eq!(priority_of(0), None);
        assert_eq!(priority_of(9), Some(Priority::Low));
        for s in [EquipmentState::Running, EquipmentState::Down] {
            assert_eq!(equipment_state_of(equipment_status(s)), Some(s));
        }
        assert_eq!(equipment_state_of("down"), None);
        for step in [0, 1, 7] {
            assert_eq!(step_of(sequence_of(step)), Some(step));
        }
        assert_eq!(step_of(15), None);
        assert_eq!(step_of(0), None);
    }
}
