//! Numeric streams on top of frames: names, the chunk codec, the inserter, and TQL's view of
//! the store.

pub mod chunk;
pub mod codec;
pub mod inserter;
pub mod name;
pub(crate) mod source;
pub mod types;
