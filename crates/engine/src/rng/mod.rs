//! The random number generators and the draws built on them.
//!
//! [`MtRng`] makes the original's streams (generated tasks, epoch orders, random ops), so that
//! the same seeds give the original's numbers. [`Rng`] drives the search: every search stream
//! is a Xoshiro256++ generator seeded through SplitMix64 (`seed_from_u64`) from a 64-bit value
//! that mixes the run's seed with a fixed salt naming the stream's purpose, so one seed gives
//! one result on every machine.

mod mt;
mod ziggurat;

pub use mt::MtRng;

use rand::{Rng as _, RngCore, SeedableRng};
use rand_distr::{Distribution, Open01, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The search's generator.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rng(Xoshiro256PlusPlus);

impl Rng {
    /// A generator for the stream named by `salt`, seeded by `seed`.
    pub fn new(seed: u64, salt: u64) -> Rng {
        Rng(Xoshiro256PlusPlus::seed_from_u64(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt,
        ))
    }

    /// A uniform integer in `[0, n)`; `n` must be positive.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// A uniform integer in `[lo, hi)`.
    #[inline]
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        self.0.random_range(lo..hi)
    }

    /// A uniform f32 in `[0, 1)`.
    #[inline]
    pub fn unit_f32(&mut self) -> f32 {
        self.0.random::<f32>()
    }

    /// A uniform f32 in `[lo, hi)`.
    #[inline]
    pub fn uniform_f32(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit_f32()
    }

    /// A uniform f64 in the open interval `(lo, hi)`; `lo` when the interval is empty or inverted.
    #[inline]
    pub fn uniform_open(&mut self, lo: f64, hi: f64) -> f64 {
        if lo < hi {
            let u: f64 = Open01.sample(&mut self.0);
            lo + (hi - lo) * u
        } else {
            lo
        }
    }

    /// A standard normal f64.
    #[inline]
    pub fn normal(&mut self) -> f64 {
        StandardNormal.sample(&mut self.0)
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random::<f64>() < p
    }

    /// A random 32-bit seed in the open interval (1, 2^32 - 1), as the original draws them.
    pub fn seed32(&mut self) -> u32 {
        self.0.random_range(2..u32::MAX - 1)
    }

    /// A random 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Shuffle a slice in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        use rand::seq::SliceRandom;
        items.shuffle(&mut self.0);
    }
}

/// Salts naming the independent search streams derived from one seed.
pub mod salt {
    /// The search: initial population, tournaments and mutations.
    pub const SEARCH: u64 = 0x5EA4C4;
    /// The making of one child: parent tournament, mutation and evaluation seed.
    pub const CHILD: u64 = 0xC41D;
    /// Task-seed randomisation between experiments.
    pub const TASK_SEEDS: u64 = 85_652_777;
    /// Selection of class pairs and projections for dataset tasks.
    pub const DATASET: u64 = 856_572_777;
}

/// Seeds of [`MtRng`] streams: each is `mt19937(seed + offset)`, wrapping in u32 (the original's
/// offsets, and ours for what the original does not have).
pub mod offset {
    /// Features of linear regression tasks (added to the data seed).
    pub const LINEAR_DATA: u32 = 939_723_201;
    /// Weights of linear regression tasks (added to the param seed).
    pub const LINEAR_PARAMS: u32 = 997_958_712;
    /// Features of 2-layer teacher tasks (added to the data seed).
    pub const TEACHER_DATA: u32 = 865_546_086;
    /// Weights of 2-layer teacher tasks (added to the param seed).
    pub const TEACHER_PARAMS: u32 = 174_299_604;
    /// Epoch orders of every task (added to the data seed).
    pub const EPOCHS: u32 = 3_274_582_109;
    /// The whole seed of the random ops of every FEC probe (re-seeded before each probe).
    pub const FEC_PROBE: u32 = 235_732_282;
    /// Ours: the row order of a file task before its split (added to the data seed).
    pub const FILE_ROWS: u32 = 1_630_151_917;
    /// Ours: the whole seed of the draw of a file's test rows (the same for every task).
    pub const FILE_TEST_ROWS: u32 = 2_718_281_828;
}
