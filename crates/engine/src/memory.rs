//! The scalar, vector and matrix memories an algorithm computes in.

use serde::{Deserialize, Serialize};

/// Address of the label (set to 0 during Predict, to the label during Learn).
pub const LABEL: u16 = 0;
/// Address of the prediction, read after Predict.
pub const PREDICTION: u16 = 1;
/// Address of the features vector.
pub const FEATURES: u16 = 0;
/// The largest memory size allowed for each kind.
pub const MAX_SIZE: u16 = 256;

/// How many scalars, vectors and matrices an algorithm may address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySizes {
    /// Number of scalar addresses (at least 2: s0 is the label, s1 the prediction).
    pub scalars: u16,
    /// Number of vector addresses (at least 1: v0 is the features).
    pub vectors: u16,
    /// Number of matrix addresses (at least 1).
    pub matrices: u16,
}

impl Default for MemorySizes {
    fn default() -> Self {
        MemorySizes {
            scalars: 20,
            vectors: 20,
            matrices: 20,
        }
    }
}

impl MemorySizes {
    /// The largest memory a config allows: [`MAX_SIZE`] addresses of each kind.
    pub const fn largest() -> Self {
        MemorySizes {
            scalars: MAX_SIZE,
            vectors: MAX_SIZE,
            matrices: MAX_SIZE,
        }
    }

    /// The number of addresses of a kind.
    pub fn of(&self, kind: crate::ops::Kind) -> u16 {
        match kind {
            crate::ops::Kind::Scalar => self.scalars,
            crate::ops::Kind::Vector => self.vectors,
            crate::ops::Kind::Matrix => self.matrices,
        }
    }

    /// Checks the sizes are within the supported ranges, naming the offending field.
    pub fn check(&self) -> Result<(), String> {
        let check = |name: &str, v: u16, min: u16| {
            if v < min || v > MAX_SIZE {
                Err(format!(
                    "memory.{name} = {v} is out of range {min}..={MAX_SIZE}"
                ))
            } else {
                Ok(())
            }
        };
        check("scalars", self.scalars, 2)?;
        check("vectors", self.vectors, 1)?;
        check("matrices", self.matrices, 1)
    }
}

/// A vector of the feature size.
pub type Vector<const F: usize> = [f64; F];
/// A row-major F×F matrix.
pub type Matrix<const F: usize> = [[f64; F]; F];

/// The three typed memories of one running algorithm.
#[derive(Debug, Clone)]
pub struct Memory<const F: usize> {
    /// Scalar cells.
    pub scalars: Vec<f64>,
    /// Vector cells.
    pub vectors: Vec<Vector<F>>,
    /// Matrix cells.
    pub matrices: Vec<Matrix<F>>,
}

impl<const F: usize> Memory<F> {
    /// A zeroed memory of the given sizes.
    pub fn new(sizes: MemorySizes) -> Self {
        Memory {
            scalars: vec![0.0; sizes.scalars as usize],
            vectors: vec![[0.0; F]; sizes.vectors as usize],
            matrices: vec![[[0.0; F]; F]; sizes.matrices as usize],
        }
    }

    /// Sets every cell to zero.
    pub fn wipe(&mut self) {
        self.scalars.fill(0.0);
        self.vectors.fill([0.0; F]);
        self.matrices.fill([[0.0; F]; F]);
    }

    /// Sets to zero the first `used` scalar, vector and matrix cells, and always s0, s1 and
    /// v0 (which the train loop reads and writes).
    pub fn wipe_used(&mut self, used: [usize; 3]) {
        let [s, v, m] = self.used(used);
        self.scalars[..s].fill(0.0);
        self.vectors[..v].fill([0.0; F]);
        self.matrices[..m].fill([[0.0; F]; F]);
    }

    /// Copies the first `used` cells of each kind (and s0, s1 and v0) from `other`.
    pub fn copy_used(&mut self, other: &Memory<F>, used: [usize; 3]) {
        let [s, v, m] = self.used(used);
        self.scalars[..s].copy_from_slice(&other.scalars[..s]);
        self.vectors[..v].copy_from_slice(&other.vectors[..v]);
        self.matrices[..m].copy_from_slice(&other.matrices[..m]);
    }

    /// `used`, widened to the train loop's own cells and capped by the memory's sizes.
    fn used(&self, [s, v, m]: [usize; 3]) -> [usize; 3] {
        [
            s.max(PREDICTION as usize + 1).min(self.scalars.len()),
            v.max(FEATURES as usize + 1).min(self.vectors.len()),
            m.min(self.matrices.len()),
        ]
    }
}

/// The memories of one algorithm running on `L` tasks at once: each cell holds one value per
/// lane (task), lanes innermost, so that an instruction works on every lane in one loop.
#[derive(Debug, Clone)]
pub struct LaneMemory<const F: usize, const L: usize> {
    /// Scalar cells.
    pub scalars: Vec<[f64; L]>,
    /// Vector cells: element, then lane.
    pub vectors: Vec<[[f64; L]; F]>,
    /// Matrix cells: row, column, then lane.
    pub matrices: Vec<[[[f64; L]; F]; F]>,
}

impl<const F: usize, const L: usize> LaneMemory<F, L> {
    /// A zeroed memory of the given sizes.
    pub fn new(sizes: MemorySizes) -> Self {
        LaneMemory {
            scalars: vec![[0.0; L]; sizes.scalars as usize],
            vectors: vec![[[0.0; L]; F]; sizes.vectors as usize],
            matrices: vec![[[[0.0; L]; F]; F]; sizes.matrices as usize],
        }
    }

    /// Sets to zero the first `used` cells of each kind, and always s0, s1 and v0.
    pub fn wipe_used(&mut self, used: [usize; 3]) {
        let [s, v, m] = self.used(used);
        self.scalars[..s].fill([0.0; L]);
        self.vectors[..v].fill([[0.0; L]; F]);
        self.matrices[..m].fill([[[0.0; L]; F]; F]);
    }

    /// Copies the first `used` cells of each kind (and s0, s1 and v0) from `other`.
    pub fn copy_used(&mut self, other: &LaneMemory<F, L>, used: [usize; 3]) {
        let [s, v, m] = self.used(used);
        self.scalars[..s].copy_from_slice(&other.scalars[..s]);
        self.vectors[..v].copy_from_slice(&other.vectors[..v]);
        self.matrices[..m].copy_from_slice(&other.matrices[..m]);
    }

    /// One lane's cells as a plain memory.
    pub fn lane(&self, l: usize) -> Memory<F> {
        Memory {
            scalars: self.scalars.iter().map(|x| x[l]).collect(),
            vectors: self
                .vectors
                .iter()
                .map(|x| std::array::from_fn(|k| x[k][l]))
                .collect(),
            matrices: self
                .matrices
                .iter()
                .map(|x| std::array::from_fn(|r| std::array::from_fn(|c| x[r][c][l])))
                .collect(),
        }
    }

    /// Sets one lane's cells from a plain memory of the same sizes.
    pub fn set_lane(&mut self, l: usize, from: &Memory<F>) {
        for (x, y) in self.scalars.iter_mut().zip(&from.scalars) {
            x[l] = *y;
        }
        for (x, y) in self.vectors.iter_mut().zip(&from.vectors) {
            for (e, v) in x.iter_mut().zip(y) {
                e[l] = *v;
            }
        }
        for (x, y) in self.matrices.iter_mut().zip(&from.matrices) {
            for (e, v) in x.iter_mut().flatten().zip(y.iter().flatten()) {
                e[l] = *v;
            }
        }
    }

    /// `used`, widened to the train loop's own cells and capped by the memory's sizes.
    fn used(&self, [s, v, m]: [usize; 3]) -> [usize; 3] {
        [
            s.max(PREDICTION as usize + 1).min(self.scalars.len()),
            v.max(FEATURES as usize + 1).min(self.vectors.len()),
            m.min(self.matrices.len()),
        ]
    }
}
