//! tmp
pub mod constants;
pub mod error;
pub mod monitor;
pub mod rules;
pub mod special;
