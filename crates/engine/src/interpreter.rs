//! The interpreter: algorithms compiled once into checked bytecode, then run on a memory.
//!
//! Compilation checks every address against the memory sizes and turns index fractions into
//! element indices for the feature size, so running an instruction needs no checks. The run
//! functions are generic over the feature size `F`, so every vector and matrix loop has a
//! compile-time length.

use crate::memory::{FEATURES, LABEL, Matrix, Memory, MemorySizes, Vector};
use crate::ops::{Data, Kind, Op};
use crate::program::{Algorithm, Component, Instruction};
use crate::rng::Rng;

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
                self.random |= ins.op.info().random;
                if c == Component::Predict {
                    self.predict_reads_label |= ins.reads().any(|r| r == (Kind::Scalar, LABEL));
                    self.predict_writes_features |= ins.writes() == Some((Kind::Vector, FEATURES));
                }
                for (kind, addr) in ins.reads().chain(ins.writes()) {
                    let slot = kind as usize;
                    self.needs[slot] = self.needs[slot].max(addr as usize + 1);
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
    pub fn run<const F: usize>(&self, c: Component, m: &mut Memory<F>, rng: &mut Rng) {
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
        rng: &mut Rng,
    ) {
        let cells = Cells {
            s: m.scalars.as_mut_ptr(),
            v: m.vectors.as_mut_ptr(),
            m: m.matrices.as_mut_ptr(),
        };
        for code in &self.parts[c as usize] {
            // SAFETY: the caller guarantees that the memory holds every address of the program.
            unsafe { step(code, &cells, rng) };
        }
    }
}

#[inline(always)]
fn map_v<const F: usize>(a: &Vector<F>, f: impl Fn(f64) -> f64) -> Vector<F> {
    std::array::from_fn(|k| f(a[k]))
}

#[inline(always)]
fn zip_v<const F: usize>(a: &Vector<F>, b: &Vector<F>, f: impl Fn(f64, f64) -> f64) -> Vector<F> {
    std::array::from_fn(|k| f(a[k], b[k]))
}

#[inline(always)]
fn map_m<const F: usize>(a: &Matrix<F>, f: impl Fn(f64) -> f64) -> Matrix<F> {
    std::array::from_fn(|r| std::array::from_fn(|c| f(a[r][c])))
}

#[inline(always)]
fn zip_m<const F: usize>(a: &Matrix<F>, b: &Matrix<F>, f: impl Fn(f64, f64) -> f64) -> Matrix<F> {
    std::array::from_fn(|r| std::array::from_fn(|c| f(a[r][c], b[r][c])))
}

#[inline(always)]
fn dot<const F: usize>(a: &Vector<F>, b: &Vector<F>) -> f64 {
    let mut s = 0.0;
    for k in 0..F {
        s += a[k] * b[k];
    }
    s
}

#[inline(always)]
fn sum_v<const F: usize>(a: &Vector<F>) -> f64 {
    a.iter().sum()
}

#[inline(always)]
fn std_of<const F: usize>(a: &Vector<F>) -> f64 {
    let mean = sum_v(a) / F as f64;
    (dot(a, a) / F as f64 - mean * mean).sqrt()
}

/// The smaller of two values as C++ `std::min` picks it (`b < a ? b : a`).
#[inline(always)]
fn min_of(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// The larger of two values as C++ `std::max` picks it (`a < b ? b : a`).
#[inline(always)]
fn max_of(a: f64, b: f64) -> f64 {
    if a < b { b } else { a }
}

/// The logistic function.
#[inline(always)]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Base pointers of the three memories, taken once per run.
struct Cells<const F: usize> {
    s: *mut f64,
    v: *mut Vector<F>,
    m: *mut Matrix<F>,
}

/// Executes one instruction.
///
/// # Safety
/// Every address of `c` must be within the memory that `cells` points into.
#[inline(always)]
unsafe fn step<const F: usize>(c: &Code, cells: &Cells<F>, rng: &mut Rng) {
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
    match c.op {
        Op::NoOp => {}
        Op::ScalarSum => *set!(s, o) = *get!(s, a) + *get!(s, b),
        Op::ScalarDiff => *set!(s, o) = *get!(s, a) - *get!(s, b),
        Op::ScalarProduct => *set!(s, o) = *get!(s, a) * *get!(s, b),
        Op::ScalarDivision => *set!(s, o) = *get!(s, a) / *get!(s, b),
        Op::ScalarAbs => *set!(s, o) = get!(s, a).abs(),
        Op::ScalarReciprocal => *set!(s, o) = 1.0 / *get!(s, a),
        Op::ScalarSin => *set!(s, o) = get!(s, a).sin(),
        Op::ScalarCos => *set!(s, o) = get!(s, a).cos(),
        Op::ScalarTan => *set!(s, o) = get!(s, a).tan(),
        Op::ScalarArcsin => *set!(s, o) = get!(s, a).asin(),
        Op::ScalarArccos => *set!(s, o) = get!(s, a).acos(),
        Op::ScalarArctan => *set!(s, o) = get!(s, a).atan(),
        Op::ScalarExp => *set!(s, o) = get!(s, a).exp(),
        Op::ScalarLog => *set!(s, o) = get!(s, a).ln(),
        Op::ScalarHeaviside => *set!(s, o) = if *get!(s, a) >= 0.0 { 1.0 } else { 0.0 },
        Op::VectorHeaviside => *set!(v, o) = map_v(get!(v, a), |x| if x > 0.0 { 1.0 } else { 0.0 }),
        Op::MatrixHeaviside => {
            *set!(mx, o) = map_m(get!(mx, a), |x| if x > 0.0 { 1.0 } else { 0.0 })
        }
        Op::ScalarVectorProduct => {
            let k = *get!(s, a);
            *set!(v, o) = map_v(get!(v, b), |x| k * x);
        }
        Op::ScalarBroadcast => *set!(v, o) = [*get!(s, a); F],
        Op::VectorReciprocal => *set!(v, o) = map_v(get!(v, a), |x| 1.0 / x),
        Op::VectorNorm => *set!(s, o) = dot(get!(v, a), get!(v, a)).sqrt(),
        Op::VectorAbs => *set!(v, o) = map_v(get!(v, a), f64::abs),
        Op::VectorSum => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x + y),
        Op::VectorDiff => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x - y),
        Op::VectorProduct => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x * y),
        Op::VectorDivision => *set!(v, o) = zip_v(get!(v, a), get!(v, b), |x, y| x / y),
        Op::VectorInnerProduct => *set!(s, o) = dot(get!(v, a), get!(v, b)),
        Op::VectorOuterProduct => {
            let (x, y) = (*get!(v, a), *get!(v, b));
            *set!(mx, o) = std::array::from_fn(|r| std::array::from_fn(|col| x[r] * y[col]));
        }
        Op::ScalarMatrixProduct => {
            let k = *get!(s, a);
            *set!(mx, o) = map_m(get!(mx, b), |x| k * x);
        }
        Op::MatrixReciprocal => *set!(mx, o) = map_m(get!(mx, a), |x| 1.0 / x),
        Op::MatrixVectorProduct => {
            let x = *get!(v, b);
            *set!(v, o) = std::array::from_fn(|r| dot(&get!(mx, a)[r], &x));
        }
        Op::VectorColumnBroadcast => {
            let x = *get!(v, a);
            *set!(mx, o) = std::array::from_fn(|r| [x[r]; F]);
        }
        Op::VectorRowBroadcast => *set!(mx, o) = [*get!(v, a); F],
        Op::MatrixNorm => {
            *set!(s, o) = get!(mx, a)
                .iter()
                .map(|row| dot(row, row))
                .sum::<f64>()
                .sqrt()
        }
        Op::MatrixColumnNorm => {
            let x = get!(mx, a);
            *set!(v, o) = std::array::from_fn(|col| {
                (0..F).map(|r| x[r][col] * x[r][col]).sum::<f64>().sqrt()
            });
        }
        Op::MatrixRowNorm => {
            *set!(v, o) = std::array::from_fn(|r| dot(&get!(mx, a)[r], &get!(mx, a)[r]).sqrt())
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
            let mut r: Matrix<F> = [[0.0; F]; F];
            for (i, row) in r.iter_mut().enumerate() {
                for k in 0..F {
                    let xik = x[i][k];
                    for j in 0..F {
                        row[j] += xik * y[k][j];
                    }
                }
            }
            *set!(mx, o) = r;
        }
        Op::ScalarMin => *set!(s, o) = min_of(*get!(s, a), *get!(s, b)),
        Op::VectorMin => *set!(v, o) = zip_v(get!(v, a), get!(v, b), min_of),
        Op::MatrixMin => {
            *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| if x < y { x } else { y })
        }
        Op::ScalarMax => *set!(s, o) = max_of(*get!(s, a), *get!(s, b)),
        Op::VectorMax => *set!(v, o) = zip_v(get!(v, a), get!(v, b), max_of),
        Op::MatrixMax => {
            *set!(mx, o) = zip_m(get!(mx, a), get!(mx, b), |x, y| if x > y { x } else { y })
        }
        Op::VectorMean => *set!(s, o) = sum_v(get!(v, a)) / F as f64,
        Op::MatrixMean => *set!(s, o) = get!(mx, a).iter().map(sum_v).sum::<f64>() / (F * F) as f64,
        Op::MatrixRowMean => {
            *set!(v, o) = std::array::from_fn(|r| sum_v(&get!(mx, a)[r]) / F as f64)
        }
        Op::MatrixRowStDev => *set!(v, o) = std::array::from_fn(|r| std_of(&get!(mx, a)[r])),
        Op::VectorStDev => *set!(s, o) = std_of(get!(v, a)),
        Op::MatrixStDev => {
            let x = get!(mx, a);
            let n = (F * F) as f64;
            let mean = x.iter().map(sum_v).sum::<f64>() / n;
            let squares = x.iter().map(|row| dot(row, row)).sum::<f64>() / n;
            *set!(s, o) = (squares - mean * mean).sqrt();
        }
        Op::ScalarConstSet => *set!(s, o) = c.x,
        Op::VectorConstSet => set!(v, o)[c.i as usize] = c.x,
        Op::MatrixConstSet => set!(mx, o)[c.i as usize][c.j as usize] = c.x,
        Op::ScalarUniformSet => *set!(s, o) = rng.uniform_open(c.x, c.y),
        Op::VectorUniformSet => {
            for x in set!(v, o).iter_mut() {
                *x = rng.uniform_open(c.x, c.y);
            }
        }
        Op::MatrixUniformSet => {
            for x in set!(mx, o).iter_mut().flatten() {
                *x = rng.uniform_open(c.x, c.y);
            }
        }
        Op::ScalarGaussianSet => *set!(s, o) = rng.gaussian(c.x, c.y),
        Op::VectorGaussianSet => {
            for x in set!(v, o).iter_mut() {
                *x = rng.gaussian(c.x, c.y);
            }
        }
        Op::MatrixGaussianSet => {
            for x in set!(mx, o).iter_mut().flatten() {
                *x = rng.gaussian(c.x, c.y);
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
