//! AutoML-Zero engine: evolve whole machine-learning algorithms from basic math operations.
//!
//! An [`program::Algorithm`] is three instruction lists (Setup, Predict, Learn) over small
//! scalar, vector and matrix memories. The [`interpreter`] runs it, [`evaluation`] scores it on
//! [`tasks`], and the search modules evolve it.
#![warn(missing_docs)]

pub mod builtins;
pub mod evaluation;
pub mod interpreter;
pub mod memory;
pub mod ops;
pub mod program;
pub mod rng;
pub mod tasks;
