//! The interpreter: algorithms compiled once into checked bytecode, then run on a memory.
//!
//! Compilation checks every address against the memory sizes and turns index fractions into
//! element indices for the feature size, so running an instruction needs no checks. The run
//! functions are generic over the feature size `F`, so every vector and matrix loop has a
//! compile-time length.

use crate::memory::{FEATURES, LABEL, LaneMemory, Matrix, Memory, MemorySizes, Vector};
use crate::ops::{Data, Kind, Op};
use crate::program::{Algorithm, Component, Instruction};
use crate::rng::MtRng;
use sums::{Lanes, dot, matrix_vector_row};

pub mod reference;
mod step;
mod sums;

/// One compiled instruction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Code {
    /// The op.
    pub op: Op,
    /// Output address.
    pub out: u16,
    /// First input address.
    pub in1: u16,
    /// Second input address.
    pub in2: u16,
    /// Row index of a const set.
    pub i: u8,
    /// Column index of a matrix const set.
    pub j: u8,
    /// Constant, value, uniform low end or gaussian mean.
    pub x: f64,
    /// Uniform high end or gaussian standard deviation.
    pub y: f64,
    /// An outer product fused with the matrix sum that follows it and reads its result:
    /// that sum's (out, in1, in2). The sum's own code is left as a no-op, so that a program
    /// keeps its length.
    pub then_sum: Option<(u16, u16, u16)>,
    /// Whether an outer product is stored (always, without a fused sum). It is not where no other
    /// instruction of Predict or Learn reads it and the sum does not write it: its value can
    /// matter to nothing, and at F = 16 its stores are half the fused pass's.
    pub store_product: bool,
}

impl Code {
    fn compile(ins: &Instruction, features: usize) -> Code {
        let index = |f: f32| ((features as f32 * f) as usize).min(features - 1) as u8;
        let mut code = Code {
            op: ins.op,
            out: ins.out,
            in1: ins.in1,
            in2: ins.in2,
            i: 0,
            j: 0,
            x: 0.0,
            y: 0.0,
            then_sum: None,
            store_product: true,
        };
        match ins.op.info().data {
            Data::None => {}
            Data::Constant => code.x = ins.activation,
            Data::VectorElement => {
                code.i = index(ins.data[0]);
                code.x = ins.data[1] as f64;
            }
            Data::MatrixElement => {
                code.i = index(ins.data[0]);
                code.j = index(ins.data[1]);
                code.x = ins.data[2] as f64;
            }
            Data::Uniform | Data::Gaussian => {
                code.x = ins.data[0] as f64;
                code.y = ins.data[1] as f64;
            }
        }
        code
    }
}

/// An algorithm compiled for one memory size and feature size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Program {
    /// Compiled Setup, Predict and Learn.
    parts: [Vec<Code>; 3],
    /// One past the largest scalar, vector and matrix address used.
    needs: [usize; 3],
    /// The feature size element indices were resolved for.
    features: usize,
    /// Whether any kept instruction draws random numbers.
    random: bool,
    /// Whether Predict reads the label cell s0 (which holds 0 while it runs).
    predict_reads_label: bool,
    /// Whether Predict writes the features cell v0 (which Learn must see restored).
    predict_writes_features: bool,
    /// The estimated cost of one training step (see [`Program::step_cost`]).
    step_cost: u64,
}

impl Program {
    /// Compiles an algorithm, dropping no-ops; fails if an address or index is out of range.
    pub fn compile(
        algorithm: &Algorithm,
        sizes: &MemorySizes,
        features: usize,
    ) -> Result<Program, String> {
        algorithm.check(sizes)?;
        let all = Component::ALL.map(|c| vec![true; algorithm.component(c).len()]);
        let mut program = Program::default();
        program.compile_live(algorithm, &all, features);
        Ok(program)
    }

    /// Recompiles in place (reusing the buffers) the instructions flagged in `keep`.
    pub(crate) fn compile_live(
        &mut self,
        algorithm: &Algorithm,
        keep: &[Vec<bool>; 3],
        features: usize,
    ) {
        self.random = false;
        self.predict_reads_label = false;
        self.predict_writes_features = false;
        self.needs = [0; 3];
        self.features = features;
        self.step_cost = 0;
        for ((codes, c), flags) in self.parts.iter_mut().zip(Component::ALL).zip(keep) {
            codes.clear();
            for (ins, _) in algorithm
                .component(c)
                .iter()
                .zip(flags)
                .filter(|(_, k)| **k)
            {
                if ins.op == Op::NoOp {
                    continue;
                }
                // Run for most children of a search: the op's facts are read once, without
                // iterators.
                let info = ins.op.info();
                self.random |= info.random;
                let inputs = [
                    (info.inputs.first(), ins.in1),
                    (info.inputs.get(1), ins.in2),
                ];
                for (kind, addr) in inputs {
                    if let Some(&kind) = kind {
                        let slot = kind as usize;
                        self.needs[slot] = self.needs[slot].max(addr as usize + 1);
                        if c == Component::Predict && kind == Kind::Scalar && addr == LABEL {
                            self.predict_reads_label = true;
                        }
                    }
                }
                if let Some(kind) = info.output {
                    let slot = kind as usize;
                    self.needs[slot] = self.needs[slot].max(ins.out as usize + 1);
                    if c == Component::Predict && kind == Kind::Vector && ins.out == FEATURES {
                        self.predict_writes_features = true;
                    }
                }
                if c != Component::Setup {
                    self.step_cost += info.cost;
                }
                codes.push(Code::compile(ins, features));
            }
            fuse(codes);
        }
        mark_unread_products(&mut self.parts);
    }

    /// The matrices holding outer products that the fast interpreter does not store (see
    /// [`Code::store_product`]): what a run leaves there is stale, and nothing reads it.
    pub fn unstored_products(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts
            .iter()
            .flatten()
            .filter(|c| !c.store_product)
            .map(|c| c.out as usize)
    }

    /// The compiled instructions of one component.
    pub fn part(&self, c: Component) -> &[Code] {
        &self.parts[c as usize]
    }

    /// The estimated cost of one training step (Predict and Learn), in the op table's units.
    pub fn step_cost(&self) -> u64 {
        self.step_cost
    }

    /// One past the largest scalar, vector and matrix address the program uses.
    pub fn needs(&self) -> [usize; 3] {
        self.needs
    }

    /// Whether any instruction draws random numbers.
    pub fn is_random(&self) -> bool {
        self.random
    }

    /// Whether Predict reads s0: if not, zeroing it before Predict changes nothing.
    pub fn predict_reads_label(&self) -> bool {
        self.predict_reads_label
    }

    /// Whether Predict writes v0: if not, the features need no restoring before Learn.
    pub fn predict_writes_features(&self) -> bool {
        self.predict_writes_features
    }

    /// Whether the two programs run the same Predict and Learn (their Setups may differ).
    pub fn same_train_loop(&self, other: &Program) -> bool {
        self.features == other.features
            && self.parts[Component::Predict as usize] == other.parts[Component::Predict as usize]
            && self.parts[Component::Learn as usize] == other.parts[Component::Learn as usize]
    }

    /// Whether every address the program uses is within memories of these sizes.
    #[inline]
    pub fn within(&self, sizes: &MemorySizes) -> bool {
        self.needs[0] <= usize::from(sizes.scalars)
            && self.needs[1] <= usize::from(sizes.vectors)
            && self.needs[2] <= usize::from(sizes.matrices)
    }

    /// Whether the program can run on this memory: its addresses exist and F matches.
    #[inline]
    pub fn fits<const F: usize>(&self, m: &Memory<F>) -> bool {
        (F == self.features || self.parts.iter().all(Vec::is_empty))
            && m.scalars.len() >= self.needs[0]
            && m.vectors.len() >= self.needs[1]
            && m.matrices.len() >= self.needs[2]
    }

    /// Runs one component on a memory; `rng` feeds the random ops.
    ///
    /// Panics if the memory lacks an address the program uses or has another feature size.
    #[inline]
    pub fn run<const F: usize>(&self, c: Component, m: &mut Memory<F>, rng: &mut MtRng) {
        assert!(
            self.fits(m),
            "a program runs only on a memory with its sizes"
        );
        // SAFETY: checked just above.
        unsafe { self.run_unchecked(c, m, rng) }
    }

    /// Runs one component without checking the memory.
    ///
    /// # Safety
    /// `self.fits(m)` must hold.
    #[inline(always)]
    pub unsafe fn run_unchecked<const F: usize>(
        &self,
        c: Component,
        m: &mut Memory<F>,
        rng: &mut MtRng,
    ) {
        // A memory is the one-lane case of a lane memory: `f64`, `[f64; F]` and `[[f64; F]; F]`
        // have the layouts of `[f64; 1]`, `[[f64; 1]; F]` and `[[[f64; 1]; F]; F]`.
        let cells = Cells::<F, 1> {
            s: m.scalars.as_mut_ptr().cast(),
            v: m.vectors.as_mut_ptr().cast(),
            m: m.matrices.as_mut_ptr().cast(),
        };
        // SAFETY: the caller guarantees that the memory holds every address of the program.
        unsafe { self.run_cells(c, &cells, std::slice::from_mut(rng)) }
    }
}

/// Fuses each outer product with a matrix sum right after it that reads its result (the
/// update of a network's weights, `m1 = outer(a, b); m0 = m0 + m1`): the pair runs as one pass
/// over the matrices, computing each element as the two would, one after the other.
fn fuse(codes: &mut [Code]) {
    for k in 1..codes.len() {
        let (outer, sum) = (codes[k - 1], codes[k]);
        if outer.op == Op::VectorOuterProduct
            && outer.then_sum.is_none()
            && sum.op == Op::MatrixSum
            && (sum.in1 == outer.out || sum.in2 == outer.out)
        {
            codes[k - 1].then_sum = Some((sum.out, sum.in1, sum.in2));
            codes[k] = Code {
                op: Op::NoOp,
                ..sum
            };
        }
    }
}

/// Clears [`Code::store_product`] of each fused outer product in Predict or Learn whose matrix
/// no other instruction of Predict or Learn reads and its own sum does not overwrite. (Setup
/// runs once, before either, so what it reads cannot be a product they made.)
fn mark_unread_products(parts: &mut [Vec<Code>; 3]) {
    let train = [Component::Predict as usize, Component::Learn as usize];
    for p in train {
        for k in 0..parts[p].len() {
            let code = parts[p][k];
            let Some((sum_out, _, _)) = code.then_sum else {
                continue;
            };
            let read = train.iter().any(|&q| {
                parts[q]
                    .iter()
                    .enumerate()
                    .any(|(j, other)| (q, j) != (p, k) && reads_matrix(other, code.out))
            });
            parts[p][k].store_product = read || sum_out == code.out;
        }
    }
}

/// Whether a code reads matrix `m`, directly or through the sum fused into it.
fn reads_matrix(code: &Code, m: u16) -> bool {
    let info = code.op.info();
    let direct = info
        .inputs
        .iter()
        .zip([code.in1, code.in2])
        .any(|(&kind, a)| kind == Kind::Matrix && a == m);
    direct || code.then_sum.is_some_and(|(_, p, q)| p == m || q == m)
}

/// A vector, one value per lane in each element.
pub(crate) type LaneVector<const F: usize, const L: usize> = [Lanes<L>; F];
/// A matrix, one value per lane in each element.
pub(crate) type LaneMatrix<const F: usize, const L: usize> = [[Lanes<L>; F]; F];

impl Program {
    /// Whether the program can run on this lane memory: its addresses exist and F matches.
    #[inline]
    pub fn fits_lanes<const F: usize, const L: usize>(&self, m: &LaneMemory<F, L>) -> bool {
        (F == self.features || self.parts.iter().all(Vec::is_empty))
            && m.scalars.len() >= self.needs[0]
            && m.vectors.len() >= self.needs[1]
            && m.matrices.len() >= self.needs[2]
    }

    /// Runs one component on every lane of a lane memory; lane `l` draws from `rngs[l]`.
    ///
    /// # Safety
    /// `self.fits_lanes(m)` must hold, and `rngs` must hold `L` generators if the program
    /// draws random numbers.
    #[inline(always)]
    pub unsafe fn run_lanes_unchecked<const F: usize, const L: usize>(
        &self,
        c: Component,
        m: &mut LaneMemory<F, L>,
        rngs: &mut [MtRng],
    ) {
        let cells = Cells::<F, L> {
            s: m.scalars.as_mut_ptr(),
            v: m.vectors.as_mut_ptr(),
            m: m.matrices.as_mut_ptr(),
        };
        // SAFETY: the caller guarantees that the memory holds every address of the program.
        unsafe { self.run_cells(c, &cells, rngs) }
    }

    /// Runs one component on the memory `cells` points into.
    ///
    /// # Safety
    /// That memory must hold every address of the program, and `rngs` must hold `L` generators
    /// if the program draws random numbers.
    #[inline(always)]
    unsafe fn run_cells<const F: usize, const L: usize>(
        &self,
        c: Component,
        cells: &Cells<F, L>,
        rngs: &mut [MtRng],
    ) {
        for code in &self.parts[c as usize] {
            // SAFETY: guaranteed by the caller.
            unsafe { step::step(code, cells, rngs) };
        }
    }

    /// Runs one component on every lane of a lane memory with the plain interpreter
    /// ([`reference`]) that the fast one is tested against; lane `l` draws from `rngs[l]`.
    ///
    /// Panics if the memory lacks an address the program uses, has another feature size, or
    /// `rngs` lacks a generator for a lane of a program that draws random numbers.
    pub fn run_lanes_reference<const F: usize, const L: usize>(
        &self,
        c: Component,
        m: &mut LaneMemory<F, L>,
        rngs: &mut [MtRng],
    ) {
        assert!(
            self.fits_lanes(m),
            "a program runs only on a memory with its sizes"
        );
        assert!(!self.random || rngs.len() >= L, "one generator per lane");
        let cells = Cells::<F, L> {
            s: m.scalars.as_mut_ptr(),
            v: m.vectors.as_mut_ptr(),
            m: m.matrices.as_mut_ptr(),
        };
        for code in &self.parts[c as usize] {
            // SAFETY: checked just above.
            unsafe { reference::step(code, &cells, rngs) };
        }
    }
}

/// The smaller of two values as C++ `std::min` picks it (`b < a ? b : a`).
#[inline(always)]
pub fn min_of(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// The larger of two values as C++ `std::max` picks it (`a < b ? b : a`): `max_of(-0.0, 0.0)`
/// and `max_of(NaN, 0.0)` keep their first argument.
#[inline(always)]
pub fn max_of(a: f64, b: f64) -> f64 {
    if a < b { b } else { a }
}

/// The logistic function.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The inner product of two vectors, summed as the `dot` op sums it.
pub fn inner_product<const F: usize>(a: &Vector<F>, b: &Vector<F>) -> f64 {
    dot(&a.map(|x| [x]), &b.map(|x| [x]))[0]
}

/// A matrix times a vector, summed as the `matrix_vector_product` op sums it.
pub fn matrix_times_vector<const F: usize>(m: &Matrix<F>, x: &Vector<F>) -> Vector<F> {
    let x = x.map(|e| [e]);
    std::array::from_fn(|r| matrix_vector_row(&m[r].map(|e| [e]), &x)[0])
}

/// Base pointers of the three memories, taken once per run; `L` lanes per value.
pub(crate) struct Cells<const F: usize, const L: usize> {
    s: *mut Lanes<L>,
    v: *mut LaneVector<F, L>,
    m: *mut LaneMatrix<F, L>,
}

/// Calls `$body` with the const generic `$F` bound to the run-time feature size `$f`.
///
/// The feature sizes supported are 2, 4, 8, 16 and 32; `$otherwise` runs for any other size.
#[macro_export]
macro_rules! with_features {
    ($f:expr, $F:ident => $body:expr, _ => $otherwise:expr) => {
        match $f {
            2 => {
                const $F: usize = 2;
                $body
            }
            4 => {
                const $F: usize = 4;
                $body
            }
            8 => {
                const $F: usize = 8;
                $body
            }
            16 => {
                const $F: usize = 16;
                $body
            }
            32 => {
                const $F: usize = 32;
                $body
            }
            _ => $otherwise,
        }
    };
}

/// The feature sizes the engine is specialised for.
pub const FEATURE_SIZES: [usize; 5] = [2, 4, 8, 16, 32];
