//! Helpers shared by the connector tests.
#![allow(dead_code)]

pub mod cap;
pub mod emu;
pub mod sample;
