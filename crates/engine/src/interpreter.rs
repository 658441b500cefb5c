//! The interpreter: algorithms compiled once into checked bytecode, then run on a memory.
//!
//! Compilation checks every address against the memory sizes and turns index fractions into
//! element indices for the feature size, so running an instruction needs no checks. The run
//! functions are generic over the feature size `F`, so every vector and matrix loop has a
//! compile-time length.

use crate::memory::{Matrix, Memory, MemorySizes, Vector};
use crate::ops::{Data, Op};
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
    /// Compiled Setup.
    pub setup: Vec<Code>,
    /// Compiled Predict.
    pub predict: Vec<Code>,
    /// Compiled Learn.
    pub learn: Vec<Code>,
    /// Whether any kept instruction draws random numbers.
    pub random: bool,
}

impl Program {
    /// Compiles an algorithm, dropping no-ops; fails if an address or index is out of range.
    pub fn compile(
        algorithm: &Algorithm,
        sizes: &MemorySizes,
        features: usize,
    ) -> Result<Program, String> {
        algorithm.check(sizes)?;
        Ok(Self::compile_checked(algorithm, features))
    }

    /// Compiles an algorithm already checked against the memory sizes it will run with.
    pub(crate) fn compile_checked(algorithm: &Algorithm, features: usize) -> Program {
        let compile = |c: Component| -> Vec<Code> {
            algorithm
                .component(c)
                .iter()
                .filter(|ins| ins.op != Op::NoOp)
                .map(|ins| Code::compile(ins, features))
                .collect()
        };
        let setup = compile(Component::Setup);
        let predict = compile(Component::Predict);
        let learn = compile(Component::Learn);
        let random = [&setup, &predict, &learn]
            .iter()
            .any(|c| c.iter().any(|code| code.op.info().random));
        Program {
            setup,
            predict,
            learn,
            random,
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

/// Runs compiled instructions on a memory; `rng` feeds the random ops.
///
/// The memory must have at least the sizes the program was compiled against.
#[inline]
pub fn run<const F: usize>(code: &[Code], m: &mut Memory<F>, rng: &mut Rng) {
    for c in code {
        step(c, m, rng);
    }
}

#[inline(always)]
fn step<const F: usize>(c: &Code, m: &mut Memory<F>, rng: &mut Rng) {
    let (o, a, b) = (c.out as usize, c.in1 as usize, c.in2 as usize);
    let s = &mut m.scalars;
    let v = &mut m.vectors;
    let mx = &mut m.matrices;
    match c.op {
        Op::NoOp => {}
        Op::ScalarSum => s[o] = s[a] + s[b],
        Op::ScalarDiff => s[o] = s[a] - s[b],
        Op::ScalarProduct => s[o] = s[a] * s[b],
        Op::ScalarDivision => s[o] = s[a] / s[b],
        Op::ScalarAbs => s[o] = s[a].abs(),
        Op::ScalarReciprocal => s[o] = 1.0 / s[a],
        Op::ScalarSin => s[o] = s[a].sin(),
        Op::ScalarCos => s[o] = s[a].cos(),
        Op::ScalarTan => s[o] = s[a].tan(),
        Op::ScalarArcsin => s[o] = s[a].asin(),
        Op::ScalarArccos => s[o] = s[a].acos(),
        Op::ScalarArctan => s[o] = s[a].atan(),
        Op::ScalarExp => s[o] = s[a].exp(),
        Op::ScalarLog => s[o] = s[a].ln(),
        Op::ScalarHeaviside => s[o] = if s[a] >= 0.0 { 1.0 } else { 0.0 },
        Op::VectorHeaviside => v[o] = map_v(&v[a], |x| if x > 0.0 { 1.0 } else { 0.0 }),
        Op::MatrixHeaviside => mx[o] = map_m(&mx[a], |x| if x > 0.0 { 1.0 } else { 0.0 }),
        Op::ScalarVectorProduct => {
            let k = s[a];
            v[o] = map_v(&v[b], |x| k * x);
        }
        Op::ScalarBroadcast => v[o] = [s[a]; F],
        Op::VectorReciprocal => v[o] = map_v(&v[a], |x| 1.0 / x),
        Op::VectorNorm => s[o] = dot(&v[a], &v[a]).sqrt(),
        Op::VectorAbs => v[o] = map_v(&v[a], f64::abs),
        Op::VectorSum => v[o] = zip_v(&v[a], &v[b], |x, y| x + y),
        Op::VectorDiff => v[o] = zip_v(&v[a], &v[b], |x, y| x - y),
        Op::VectorProduct => v[o] = zip_v(&v[a], &v[b], |x, y| x * y),
        Op::VectorDivision => v[o] = zip_v(&v[a], &v[b], |x, y| x / y),
        Op::VectorInnerProduct => s[o] = dot(&v[a], &v[b]),
        Op::VectorOuterProduct => {
            let (x, y) = (v[a], v[b]);
            mx[o] = std::array::from_fn(|r| std::array::from_fn(|col| x[r] * y[col]));
        }
        Op::ScalarMatrixProduct => {
            let k = s[a];
            mx[o] = map_m(&mx[b], |x| k * x);
        }
        Op::MatrixReciprocal => mx[o] = map_m(&mx[a], |x| 1.0 / x),
        Op::MatrixVectorProduct => {
            let x = v[b];
            v[o] = std::array::from_fn(|r| dot(&mx[a][r], &x));
        }
        Op::VectorColumnBroadcast => {
            let x = v[a];
            mx[o] = std::array::from_fn(|r| [x[r]; F]);
        }
        Op::VectorRowBroadcast => mx[o] = [v[a]; F],
        Op::MatrixNorm => s[o] = mx[a].iter().map(|row| dot(row, row)).sum::<f64>().sqrt(),
        Op::MatrixColumnNorm => {
            let x = &mx[a];
            v[o] = std::array::from_fn(|col| {
                (0..F).map(|r| x[r][col] * x[r][col]).sum::<f64>().sqrt()
            });
        }
        Op::MatrixRowNorm => v[o] = std::array::from_fn(|r| dot(&mx[a][r], &mx[a][r]).sqrt()),
        Op::MatrixTranspose => {
            let x = mx[a];
            mx[o] = std::array::from_fn(|r| std::array::from_fn(|col| x[col][r]));
        }
        Op::MatrixAbs => mx[o] = map_m(&mx[a], f64::abs),
        Op::MatrixSum => mx[o] = zip_m(&mx[a], &mx[b], |x, y| x + y),
        Op::MatrixDiff => mx[o] = zip_m(&mx[a], &mx[b], |x, y| x - y),
        Op::MatrixProduct => mx[o] = zip_m(&mx[a], &mx[b], |x, y| x * y),
        Op::MatrixDivision => mx[o] = zip_m(&mx[a], &mx[b], |x, y| x / y),
        Op::MatrixMatrixProduct => {
            let (x, y) = (&mx[a], &mx[b]);
            let mut r: Matrix<F> = [[0.0; F]; F];
            for (i, row) in r.iter_mut().enumerate() {
                for k in 0..F {
                    let xik = x[i][k];
                    for j in 0..F {
                        row[j] += xik * y[k][j];
                    }
                }
            }
            mx[o] = r;
        }
        Op::ScalarMin => s[o] = min_of(s[a], s[b]),
        Op::VectorMin => v[o] = zip_v(&v[a], &v[b], min_of),
        Op::MatrixMin => mx[o] = zip_m(&mx[a], &mx[b], |x, y| if x < y { x } else { y }),
        Op::ScalarMax => s[o] = max_of(s[a], s[b]),
        Op::VectorMax => v[o] = zip_v(&v[a], &v[b], max_of),
        Op::MatrixMax => mx[o] = zip_m(&mx[a], &mx[b], |x, y| if x > y { x } else { y }),
        Op::VectorMean => s[o] = sum_v(&v[a]) / F as f64,
        Op::MatrixMean => s[o] = mx[a].iter().map(sum_v).sum::<f64>() / (F * F) as f64,
        Op::MatrixRowMean => v[o] = std::array::from_fn(|r| sum_v(&mx[a][r]) / F as f64),
        Op::MatrixRowStDev => v[o] = std::array::from_fn(|r| std_of(&mx[a][r])),
        Op::VectorStDev => s[o] = std_of(&v[a]),
        Op::MatrixStDev => {
            let x = &mx[a];
            let n = (F * F) as f64;
            let mean = x.iter().map(sum_v).sum::<f64>() / n;
            let squares = x.iter().map(|row| dot(row, row)).sum::<f64>() / n;
            s[o] = (squares - mean * mean).sqrt();
        }
        Op::ScalarConstSet => s[o] = c.x,
        Op::VectorConstSet => v[o][c.i as usize] = c.x,
        Op::MatrixConstSet => mx[o][c.i as usize][c.j as usize] = c.x,
        Op::ScalarUniformSet => s[o] = rng.uniform_open(c.x, c.y),
        Op::VectorUniformSet => {
            for x in v[o].iter_mut() {
                *x = rng.uniform_open(c.x, c.y);
            }
        }
        Op::MatrixUniformSet => {
            for x in mx[o].iter_mut().flatten() {
                *x = rng.uniform_open(c.x, c.y);
            }
        }
        Op::ScalarGaussianSet => s[o] = rng.gaussian(c.x, c.y),
        Op::VectorGaussianSet => {
            for x in v[o].iter_mut() {
                *x = rng.gaussian(c.x, c.y);
            }
        }
        Op::MatrixGaussianSet => {
            for x in mx[o].iter_mut().flatten() {
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
