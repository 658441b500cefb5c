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
use sums::{Lanes, dot, matrix_sum, matrix_vector_row, strided_sum, vector_sum};

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
                codes.push(Code::compile(ins, features));
            }
        }
    }

    /// The compiled instructions of one component.
    pub fn part(&self, c: Component) -> &[Code] {
        &self.parts[c as usize]
    }

    /// The estimated cost of one training step (Predict and Learn), in the op table's units.
    pub fn step_cost(&self) -> u64 {
        [Component::Predict, Component::Learn]
            .iter()
            .flat_map(|&c| self.part(c))
            .map(|code| code.op.info().cost)
            .sum()
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

/// A vector, one value per lane in each element.
type LaneVector<const F: usize, const L: usize> = [Lanes<L>; F];
/// A matrix, one value per lane in each element.
type LaneMatrix<const F: usize, const L: usize> = [[Lanes<L>; F]; F];

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
            unsafe { step(code, cells, rngs) };
        }
    }
}

#[inline(always)]
fn map_s<const L: usize>(a: &Lanes<L>, f: impl Fn(f64) -> f64) -> Lanes<L> {
    std::array::from_fn(|l| f(a[l]))
}

#[inline(always)]
fn zip_s<const L: usize>(a: &Lanes<L>, b: &Lanes<L>, f: impl Fn(f64, f64) -> f64) -> Lanes<L> {
    std::array::from_fn(|l| f(a[l], b[l]))
}

#[inline(always)]
fn map_v<const F: usize, const L: usize>(
    a: &LaneVector<F, L>,
    f: impl Fn(f64) -> f64,
) -> LaneVector<F, L> {
    std::array::from_fn(|k| map_s(&a[k], &f))
}

#[inline(always)]
fn zip_v<const F: usize, const L: usize>(
    a: &LaneVector<F, L>,
    b: &LaneVector<F, L>,
    f: impl Fn(f64, f64) -> f64,
) -> LaneVector<F, L> {
    std::array::from_fn(|k| zip_s(&a[k], &b[k], &f))
}

#[inline(always)]
fn map_m<const F: usize, const L: usize>(
    a: &LaneMatrix<F, L>,
    f: impl Fn(f64) -> f64,
) -> LaneMatrix<F, L> {
    std::array::from_fn(|r| map_v(&a[r], &f))
}

#[inline(always)]
fn zip_m<const F: usize, const L: usize>(
    a: &LaneMatrix<F, L>,
    b: &LaneMatrix<F, L>,
    f: impl Fn(f64, f64) -> f64,
) -> LaneMatrix<F, L> {
    std::array::from_fn(|r| zip_v(&a[r], &b[r], &f))
}

/// A vector's sum, per lane.
#[inline(always)]
fn sum_v<const F: usize, const L: usize>(a: &LaneVector<F, L>) -> Lanes<L> {
    vector_sum::<F, L>(|k, l| a[k][l])
}

#[inline(always)]
fn scale<const L: usize>(a: Lanes<L>, by: f64) -> Lanes<L> {
    map_s(&a, |x| x / by)
}

#[inline(always)]
fn std_of<const F: usize, const L: usize>(a: &LaneVector<F, L>) -> Lanes<L> {
    let mean = scale(sum_v(a), F as f64);
    let squares = scale(dot(a, a), F as f64);
    zip_s(&squares, &mean, |q, m| (q - m * m).sqrt())
}

/// The smaller of two values as C++ `std::min` picks it (`b < a ? b : a`).
#[inline(always)]
fn min_of(a: f64, b: f64) -> f64 {
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
struct Cells<const F: usize, const L: usize> {
    s: *mut Lanes<L>,
    v: *mut LaneVector<F, L>,
    m: *mut LaneMatrix<F, L>,
}

/// Executes one instruction on every lane; lane `l` draws its random numbers from `rngs[l]`.
///
/// # Safety
/// Every address of `c` must be within the memory that `cells` points into, and `rngs` must
/// hold `L` generators if `c` draws random numbers.
#[inline(always)]
unsafe fn step<const F: usize, const L: usize>(c: &Code, cells: &Cells<F, L>, rngs: &mut [MtRng]) {
    // SAFETY (every `get!`/`set!` below): the caller guarantees that the memory holds every
    // address of `c`; compilation clamped the element indices to the feature size. Each
    // reference lives only within one expression, so none aliases a live `&mut`.
    macro_rules! get {
        ($m:expr, $i:expr) => {
            unsafe { &*$m.add($i) }
        };
    }
    macro_rules! set {
        ($m:expr, $i:expr) => {
            unsafe { &mut *$m.add($i) }
        };
    }
    let (o, a, b) = (c.out as usize, c.in1 as usize, c.in2 as usize);
    let (s, v, mx) = (cells.s, cells.v, cells.m);
    let ff = F as f64;
    match c.op {
        Op::NoOp => {}
        Op::ScalarSum => *set!(s, o) = zip_s(get!(s, a), get!(s, b), |x, y| x + y),
        Op::ScalarDiff => *set!(s, o) = zip_s(get!(s, a), get!(s, b), |x, y| x - y),
        Op::ScalarProduct => *set!(s, o) = zip_s(get!(s, a), get!(s, b), |x, y| x * y),
        Op::ScalarDivision => *set!(s, o) = zip_s(get!(s, a), get!(s, b), |x, y| x / y),
        Op::ScalarAbs => *set!(s, o) = map_s(get!(s, a), f64::abs),
        Op::ScalarReciprocal => *set!(s, o) = map_s(get!(s, a), |x| 1.0 / x),
        Op::ScalarSin => *set!(s, o) = map_s(get!(s, a), f64::sin),
        Op::ScalarCos => *set!(s, o) = map_s(get!(s, a), f64::cos),
        Op::ScalarTan => *set!(s, o) = map_s(get!(s, a), f64::tan),
        Op::ScalarArcsin => *set!(s, o) = map_s(get!(s, a), f64::asin),
        Op::ScalarArccos => *set!(s, o) = map_s(get!(s, a), f64::acos),
        Op::ScalarArctan => *set!(s, o) = map_s(get!(s, a), f64::atan),
        Op::ScalarExp => *set!(s, o) = map_s(get!(s, a), f64::exp),
        Op::ScalarLog => *set!(s, o) = map_s(get!(s, a), f64::ln),
        Op::ScalarHeaviside => {
            *set!(s, o) = map_s(get!(s, a), |x| if x >= 0.0 { 1.0 } else { 0.0 })
        }
        Op::VectorHeaviside => *set!(v, o) = map_v(get!(v, a), |x| if x > 0.0 { 1.0 } else { 0.0 }),
        Op::MatrixHeaviside => {
            *set!(mx, o) = map_m(get!(mx, a), |x| if x > 0.0 { 1.0 } else { 0.0 })
        }
        Op::ScalarVectorProduct => {
            let k = *get!(s, a);
            *set!(v, o) = std::array::from_fn(|e| zip_s(&k, &get!(v, b)[e], |p, q| p * q));
        }
        Op::ScalarBroadcast => *set!(v, o) = [*get!(s, a); F],
        Op::VectorReciprocal => *set!(v, o) = map_v(get!(v, a), |x| 1.0 / x),
        Op::VectorNorm => *set!(s, o) = map_s(&dot(get!(v, a), get!(v, a)), f64::sqrt),
        Op::VectorAbs => *set!(v, o) = map_v(get!(v, a), f64::abs),
        Op::VectorSum => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x + y),
        Op::VectorDiff => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x - y),
        Op::VectorProduct => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x * y),
        Op::VectorDivision => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x / y),
        Op::VectorInnerProduct => *set!(s, o) = dot(get!(v, a), get!(v, b)),
        Op::VectorOuterProduct => {
            let (x, y) = (*get!(v, a), *get!(v, b));
            *set!(mx, o) = std::array::from_fn(|r| {
                std::array::from_fn(|col| zip_s(&x[r], &y[col], |p, q| p * q))
            });
        }
        Op::ScalarMatrixProduct => {
            let k = *get!(s, a);
            *set!(mx, o) = std::array::from_fn(|r| {
                std::array::from_fn(|col| zip_s(&k, &get!(mx, b)[r][col], |p, q| p * q))
            });
        }
        Op::MatrixReciprocal => *set!(mx, o) = map_m(get!(mx, a), |x| 1.0 / x),
        Op::MatrixVectorProduct => {
            let x = *get!(v, b);
            *set!(v, o) = std::array::from_fn(|r| matrix_vector_row(&get!(mx, a)[r], &x));
        }
        Op::VectorColumnBroadcast => {
            let x = *get!(v, a);
            *set!(mx, o) = std::array::from_fn(|r| [x[r]; F]);
        }
        Op::VectorRowBroadcast => *set!(mx, o) = [*get!(v, a); F],
        Op::MatrixNorm => *set!(s, o) = map_s(&matrix_sum(get!(mx, a), |x| x * x), f64::sqrt),
        Op::MatrixColumnNorm => {
            let x = get!(mx, a);
            *set!(v, o) = std::array::from_fn(|col| {
                let sum = strided_sum::<F, L>(|r, l| x[r][col][l] * x[r][col][l]);
                map_s(&sum, f64::sqrt)
            });
        }
        Op::MatrixRowNorm => {
            let x = get!(mx, a);
            *set!(v, o) = std::array::from_fn(|r| map_s(&dot(&x[r], &x[r]), f64::sqrt))
        }
        Op::MatrixTranspose => {
            let x = *get!(mx, a);
            *set!(mx, o) = std::array::from_fn(|r| std::array::from_fn(|col| x[col][r]));
        }
        Op::MatrixAbs => *set!(mx, o) = map_m(get!(mx, a), f64::abs),
        Op::MatrixSum => *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| x + y),
        Op::MatrixDiff => *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| x - y),
        Op::MatrixProduct => *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| x * y),
        Op::MatrixDivision => *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| x / y),
        Op::MatrixMatrixProduct => {
            let (x, y) = (get!(mx, a), get!(mx, b));
            let mut r: LaneMatrix<F, L> = [[[0.0; L]; F]; F];
            for (i, row) in r.iter_mut().enumerate() {
                for k in 0..F {
                    let xik = x[i][k];
                    for j in 0..F {
                        for l in 0..L {
                            row[j][l] += xik[l] * y[k][j][l];
                        }
                    }
                }
            }
            *set!(mx, o) = r;
        }
        Op::ScalarMin => *set!(s, o) = zip_s(get!(s, a), get!(s, b), min_of),
        Op::VectorMin => *set!(v, o) = zip_v(get!(v, a), get!(v, b), min_of),
        Op::MatrixMin => {
            *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| if x < y { x } else { y })
        }
        Op::ScalarMax => *set!(s, o) = zip_s(get!(s, a), get!(s, b), max_of),
        Op::VectorMax => *set!(v, o) = zip_v(get!(v, a), get!(v, b), max_of),
        Op::MatrixMax => {
            *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| if x > y { x } else { y })
        }
        Op::VectorMean => *set!(s, o) = scale(sum_v(get!(v, a)), ff),
        Op::MatrixMean => *set!(s, o) = scale(matrix_sum(get!(mx, a), |x| x), (F * F) as f64),
        Op::MatrixRowMean => {
            *set!(v, o) = std::array::from_fn(|r| scale(sum_v(&get!(mx, a)[r]), ff))
        }
        Op::MatrixRowStDev => *set!(v, o) = std::array::from_fn(|r| std_of(&get!(mx, a)[r])),
        Op::VectorStDev => *set!(s, o) = std_of(get!(v, a)),
        Op::MatrixStDev => {
            let x = get!(mx, a);
            let n = (F * F) as f64;
            let mean = scale(matrix_sum(x, |x| x), n);
            let squares = scale(matrix_sum(x, |x| x * x), n);
            *set!(s, o) = zip_s(&squares, &mean, |q, m| (q - m * m).sqrt());
        }
        Op::ScalarConstSet => *set!(s, o) = [c.x; L],
        Op::VectorConstSet => set!(v, o)[c.i as usize] = [c.x; L],
        Op::MatrixConstSet => set!(mx, o)[c.i as usize][c.j as usize] = [c.x; L],
        Op::ScalarUniformSet => {
            let out = set!(s, o);
            for (l, rng) in rngs.iter_mut().enumerate().take(L) {
                out[l] = rng.uniform(c.x, c.y);
            }
        }
        Op::VectorUniformSet => {
            let out = set!(v, o);
            for (l, rng) in rngs.iter_mut().enumerate().take(L) {
                for x in out.iter_mut() {
                    x[l] = rng.uniform(c.x, c.y);
                }
            }
        }
        Op::MatrixUniformSet => {
            let out = set!(mx, o);
            for (l, rng) in rngs.iter_mut().enumerate().take(L) {
                for x in out.iter_mut().flatten() {
                    x[l] = rng.uniform(c.x, c.y);
                }
            }
        }
        Op::ScalarGaussianSet => {
            let out = set!(s, o);
            for (l, rng) in rngs.iter_mut().enumerate().take(L) {
                out[l] = rng.gaussian(c.x, c.y);
            }
        }
        Op::VectorGaussianSet => {
            let out = set!(v, o);
            for (l, rng) in rngs.iter_mut().enumerate().take(L) {
                for x in out.iter_mut() {
                    x[l] = rng.gaussian(c.x, c.y);
                }
            }
        }
        Op::MatrixGaussianSet => {
            let out = set!(mx, o);
            for (l, rng) in rngs.iter_mut().enumerate().take(L) {
                for x in out.iter_mut().flatten() {
                    x[l] = rng.gaussian(c.x, c.y);
                }
            }
        }
    }
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
