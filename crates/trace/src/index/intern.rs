//! Interned names: the string arena and the open-addressing table that numbers canonical
//! names densely (see the module doc of [`super`]).

/// A multiplicative hash over eight bytes at a time, then a final avalanche (the 64-bit
/// finaliser of MurmurHash3) so that every bit of the result depends on every input bit.
/// Deterministic: the same text always hashes the same.
pub(crate) fn hash_str(text: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = text.as_bytes();
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Strings stored end to end, each named by its position.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Arena {
    pub(super) text: String,
    pub(super) ends: Vec<u64>,
}

impl Arena {
    pub(super) fn push(&mut self, s: &str) -> u32 {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
        (self.ends.len() - 1) as u32
    }
    pub(super) fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Interns canonical names to dense `u32`s: an open-addressing table (linear probing) of
/// 64-bit slots, each the upper 32 bits of the name's hash (the tag) and its number + 1 (0 is
/// an empty slot), so that a probe touches one cache line and a name is compared only when
/// its tag matches. A name's home slot is a function of its tag alone (its tag scaled to the
/// table's size, which need not be a power of two), so the table can be rebuilt from its
/// slots (no hash kept per name, no name read again). The table is made half full and grows
/// (doubles) past three quarters, so that an estimate of the names to come can be off by half
/// before every name has to move. Names with equal tags simply take further slots.
#[derive(Default)]
pub(super) struct Interner {
    pub(super) arena: Arena,
    pub(super) slots: Vec<u64>,
}

impl Interner {
    pub(super) const EMPTY: u64 = 0;

    /// The slot where probing for a name with this tag (or slot, whose upper half is the
    /// tag) starts, in a table of `size` slots.
    pub(super) fn home(tagged: u64, size: usize) -> usize {
        (((tagged >> 32) * size as u64) >> 32) as usize
    }

    /// The name's number, or the empty slot where it would go.
    pub(super) fn find(&self, name: &str, h: u64) -> Result<u32, usize> {
        let size = self.slots.len();
        if size == 0 {
            return Err(usize::MAX);
        }
        let tag = h >> 32;
        let mut i = Self::home(h, size);
        loop {
            let slot = self.slots[i];
            if slot == Self::EMPTY {
                return Err(i);
            }
            if slot >> 32 == tag {
                let n = (slot as u32) - 1;
                if self.arena.get(n) == name {
                    return Ok(n);
                }
            }
            i += 1;
            if i == size {
                i = 0;
            }
        }
    }

    pub(super) fn get(&self, name: &str) -> Option<u32> {
        self.find(name, hash_str(name)).ok()
    }

    pub(super) fn intern(&mut self, name: &str) -> (u32, bool) {
        self.intern_hashed(name, hash_str(name))
    }

    pub(super) fn intern_hashed(&mut self, name: &str, h: u64) -> (u32, bool) {
        match self.find(name, h) {
            Ok(n) => (n, false),
            Err(mut slot) => {
                if (self.arena.len() + 1) * 4 > self.slots.len() * 3 {
                    self.rebuild_into(vec![Self::EMPTY; Self::table_size(self.arena.len() + 1)]);
                    slot = match self.find(name, h) {
                        Err(slot) => slot,
                        Ok(_) => unreachable!("the name was not there before growing"),
                    };
                }
                let n = self.arena.push(name);
                self.slots[slot] = (h >> 32) << 32 | u64::from(n + 1);
                (n, true)
            }
        }
    }

    /// Room for `more` names beyond those held without growing the table again.
    pub(super) fn reserve(&mut self, more: usize) {
        let size = Self::table_size(self.arena.len().saturating_add(more));
        if size > self.slots.len() {
            self.rebuild_into(vec![Self::EMPTY; size]);
        }
        self.arena.ends.reserve(more);
    }

    /// The size of a half-full table of `names` names.
    pub(super) fn table_size(names: usize) -> usize {
        names.saturating_mul(2).clamp(1 << 10, u32::MAX as usize)
    }

    /// Moves every name into `slots` (empty, with room for them all).
    pub(super) fn rebuild_into(&mut self, mut slots: Vec<u64>) {
        let size = slots.len();
        for &slot in &self.slots {
            if slot == Self::EMPTY {
                continue;
            }
            let mut i = Self::home(slot, size);
            while slots[i] != Self::EMPTY {
                i += 1;
                if i == size {
                    i = 0;
                }
            }
            slots[i] = slot;
        }
        self.slots = slots;
    }
}
