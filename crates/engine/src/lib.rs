//! AutoML-Zero engine: evolve whole machine-learning algorithms from basic math operations.
//!
//! An [`program::Algorithm`] is three instruction lists (Setup, Predict, Learn) over small
//! scalar, vector and matrix memories. The [`interpreter`] runs it, [`evaluation`] scores it on
//! [`tasks`], [`mutation`] and [`evolution`] search for better ones, and [`experiment`] drives
//! the whole protocol that a [`config`] describes.
#![warn(missing_docs)]

pub mod builtins;
pub mod checkpoint;
pub mod config;
pub mod cpu;
pub mod evaluation;
pub mod evolution;
pub mod experiment;
pub mod export;
pub mod extend;
pub mod interpreter;
pub mod liveness;
pub mod memory;
pub mod migration;
pub mod model;
pub mod mutation;
pub mod ops;
pub mod program;
pub mod rng;
pub mod rounds;
pub mod simplify;
pub mod tasks;
