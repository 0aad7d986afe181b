//! Typed indices: one newtype per index space (operations, units, pools, materials, orders),
//! so an operation number cannot be used where a unit number is meant, and vectors indexed by
//! them ([`IndexVec`]) say which space they cover.
//!
//! Zero-cost: an index is a `usize` underneath and [`IndexVec`] a `Vec`.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// An index into one index space.
pub(crate) trait Idx: Copy + Eq + Ord + std::fmt::Debug {
    fn new(i: usize) -> Self;
    fn index(self) -> usize;
}

/// Declares index newtypes, each a `usize` that only indexes its own space.
macro_rules! define_index {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(usize);

        impl $crate::index::Idx for $name {
            #[inline]
            fn new(i: usize) -> Self {
                $name(i)
            }

            #[inline]
            fn index(self) -> usize {
                self.0
            }
        }
    )+};
}

define_index! {
    /// An operation of a plant problem (position in `PlantProblem::operations`).
    OpIdx;
    /// A unit of a plant problem.
    UnitIdx;
    /// A pool of a plant problem.
    PoolIdx;
    /// A tracked material of a plant problem.
    MaterialIdx;
    /// An order of a plant problem.
    OrderIdx;
}

/// A vector indexed by one index space.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct IndexVec<I, T> {
    items: Vec<T>,
    _space: PhantomData<fn(I)>,
}

impl<I: Idx, T: std::fmt::Debug> std::fmt::Debug for IndexVec<I, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.items.fmt(f)
    }
}

impl<I: Idx, T> IndexVec<I, T> {
    pub(crate) fn from_vec(items: Vec<T>) -> Self {
        IndexVec {
            items,
            _space: PhantomData,
        }
    }

    /// `n` copies of `value`.
    pub(crate) fn filled(value: T, n: usize) -> Self
    where
        T: Clone,
    {
        IndexVec::from_vec(vec![value; n])
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    pub(crate) fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.items.iter_mut()
    }

    /// `(index, item)` pairs in order.
    pub(crate) fn iter_enumerated(&self) -> impl Iterator<Item = (I, &T)> + '_ {
        self.items.iter().enumerate().map(|(i, x)| (I::new(i), x))
    }
}

impl<I: Idx, T> FromIterator<T> for IndexVec<I, T> {
    fn from_iter<It: IntoIterator<Item = T>>(iter: It) -> Self {
        IndexVec::from_vec(iter.into_iter().collect())
    }
}

impl<I: Idx, T> Index<I> for IndexVec<I, T> {
    type Output = T;

    #[inline]
    fn index(&self, i: I) -> &T {
        &self.items[i.index()]
    }
}

impl<I: Idx, T> IndexMut<I> for IndexVec<I, T> {
    #[inline]
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.items[i.index()]
    }
}

/// The items of a slice with their positions as indices of one space:
/// `enumerate::<UnitIdx, _>(&problem.units)`.
pub(crate) fn enumerate<I: Idx, T>(items: &[T]) -> impl Iterator<Item = (I, &T)> + '_ {
    items.iter().enumerate().map(|(i, x)| (I::new(i), x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_address_their_own_vector() {
        let mut v: IndexVec<UnitIdx, &str> = ["a", "b"].into_iter().collect();
        let b = UnitIdx::new(1);
        v[b] = "c";
        assert_eq!(v[b], "c");
        assert_eq!(b.index(), 1);
        let seen: Vec<(UnitIdx, &&str)> = v.iter_enumerated().collect();
        assert_eq!(seen, [(UnitIdx::new(0), &"a"), (b, &"c")]);
        assert_eq!(
            enumerate::<OpIdx, _>(&[7]).next(),
            Some((OpIdx::new(0), &7))
        );
    }
}
