//! Numeric streams on top of frames.

pub mod types;
