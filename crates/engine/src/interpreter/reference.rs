//! The plain interpreter: each op written the simplest way, as whole values. The fast one
//! ([`super::step`]) is tested against it on random programs over every op and feature size,
//! bit for bit (infinities and the sign of zero included; any NaN counts as one).

use super::sums::{Lanes, dot, matrix_sum, matrix_vector_row, strided_sum, vector_sum};
use super::{Cells, Code, LaneMatrix, LaneVector, max_of, min_of};
use crate::ops::Op;
use crate::rng::MtRng;

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
    vector_sum(a)
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

/// Executes one instruction on every lane; lane `l` draws its random numbers from `rngs[l]`.
///
/// # Safety
/// Every address of `c` must be within the memory that `cells` points into, and `rngs` must
/// hold `L` generators if `c` draws random numbers.
#[inline(always)]
pub(super) unsafe fn step<const F: usize, const L: usize>(
    c: &Code,
    cells: &Cells<F, L>,
    rngs: &mut [MtRng],
) {
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
            // A fused sum runs after it, as its own code would have.
            if let Some((out, in1, in2)) = c.then_sum {
                let (out, in1, in2) = (out as usize, in1 as usize, in2 as usize);
                *set!(mx, out) = zip_m(get!(mx, in1), get!(mx, in2), |x, y| x + y);
            }
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
                let squares = std::array::from_fn(|r| map_s(&x[r][col], |e| e * e));
                map_s(&strided_sum::<F, L>(&squares), f64::sqrt)
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
