//! Placeholder; the genealogy benchmark lands in a later commit.
fn main() {}
