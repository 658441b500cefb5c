//! One instruction on every lane, written for speed: results go straight into the output cell
//! (no whole-value temporaries, which at F = 16 with twelve lanes are 24 KB matrices), and
//! element-wise ops run over a cell's values as one flat array, four at a time.
//!
//! Every op computes exactly what [`super::reference`] computes, bit for bit: the same
//! operations in the same order on every element, the same sums (see [`super::sums`]).
//!
//! Loops index rows, columns and lanes by number on purpose: the same index walks several
//! arrays of fixed size, which the compiler unrolls and vectorises.
#![allow(clippy::needless_range_loop)]

use super::sums::{Lanes, dot, matrix_sum, matrix_vector_row, strided_sum, vector_sum};
use super::{Cells, Code, LaneMatrix, LaneVector, max_of, min_of};
use crate::ops::Op;
use crate::rng::MtRng;

/// Values per block of the element-wise loops: one AVX register of doubles.
const BLOCK: usize = 4;

/// `out[i] = f(x[i])` for `i < n`; `out` may be `x`.
///
/// # Safety
/// `out` and `x` must be valid for `n` values.
#[inline(always)]
unsafe fn map(out: *mut f64, x: *const f64, n: usize, f: impl Fn(f64) -> f64) {
    let mut i = 0;
    // Each block is read whole before it is written, so `out == x` is fine.
    while i + BLOCK <= n {
        // SAFETY: i + BLOCK <= n, within the caller's guarantee.
        unsafe {
            let mut a = (x.add(i) as *const [f64; BLOCK]).read_unaligned();
            for e in a.iter_mut() {
                *e = f(*e);
            }
            (out.add(i) as *mut [f64; BLOCK]).write_unaligned(a);
        }
        i += BLOCK;
    }
    while i < n {
        // SAFETY: i < n.
        unsafe { *out.add(i) = f(*x.add(i)) };
        i += 1;
    }
}

/// `out[i] = f(x[i], y[i])` for `i < n`; `out` may be `x` or `y`.
///
/// # Safety
/// `out`, `x` and `y` must be valid for `n` values.
#[inline(always)]
unsafe fn zip(out: *mut f64, x: *const f64, y: *const f64, n: usize, f: impl Fn(f64, f64) -> f64) {
    let mut i = 0;
    while i + BLOCK <= n {
        // SAFETY: i + BLOCK <= n, within the caller's guarantee.
        unsafe {
            let mut a = (x.add(i) as *const [f64; BLOCK]).read_unaligned();
            let b = (y.add(i) as *const [f64; BLOCK]).read_unaligned();
            for k in 0..BLOCK {
                a[k] = f(a[k], b[k]);
            }
            (out.add(i) as *mut [f64; BLOCK]).write_unaligned(a);
        }
        i += BLOCK;
    }
    while i < n {
        // SAFETY: i < n.
        unsafe { *out.add(i) = f(*x.add(i), *y.add(i)) };
        i += 1;
    }
}

/// `out[k·L + l] = f(s[l], x[k·L + l])` for `count` values per lane: a scalar cell applied to
/// every element of a vector or matrix cell; `out` may be `x`.
///
/// # Safety
/// `out` and `x` must be valid for `count · L` values, `s` for `L`.
#[inline(always)]
unsafe fn with_scalar<const L: usize>(
    out: *mut f64,
    s: *const f64,
    x: *const f64,
    count: usize,
    f: impl Fn(f64, f64) -> f64,
) {
    // SAFETY: guaranteed by the caller.
    let k: Lanes<L> = unsafe { (s as *const Lanes<L>).read() };
    for e in 0..count {
        // SAFETY: e < count.
        unsafe {
            let mut cell = (x.add(e * L) as *const Lanes<L>).read();
            for l in 0..L {
                cell[l] = f(k[l], cell[l]);
            }
            (out.add(e * L) as *mut Lanes<L>).write(cell);
        }
    }
}

/// A per-lane value a reduction gives, stored in a scalar cell.
#[inline(always)]
fn each<const L: usize>(mut x: Lanes<L>, f: impl Fn(f64) -> f64) -> Lanes<L> {
    for e in x.iter_mut() {
        *e = f(*e);
    }
    x
}

/// The population standard deviation of a vector: sqrt(dot(x, x) / F - mean²).
#[inline(always)]
fn std_of<const F: usize, const L: usize>(x: &LaneVector<F, L>) -> Lanes<L> {
    let (mean, mut squares) = (vector_sum(x), dot(x, x));
    for l in 0..L {
        let m = mean[l] / F as f64;
        squares[l] = (squares[l] / F as f64 - m * m).sqrt();
    }
    squares
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
    let (o, a, b) = (c.out as usize, c.in1 as usize, c.in2 as usize);
    let (ns, nv, nm) = (L, F * L, F * F * L);
    // SAFETY (every pointer and reference below): the caller guarantees that the memory holds
    // every address of `c`; compilation clamped the element indices to the feature size. Cells
    // of different kinds never overlap; an op reading and writing cells of one kind goes
    // through raw pointers, block by block, or copies its inputs first.
    let s = |i: usize| unsafe { cells.s.add(i) as *mut f64 };
    let v = |i: usize| unsafe { cells.v.add(i) as *mut f64 };
    let m = |i: usize| unsafe { cells.m.add(i) as *mut f64 };
    let vec = |i: usize| unsafe { &*cells.v.add(i) };
    let mat = |i: usize| unsafe { &*cells.m.add(i) };
    let put_s = |i: usize, x: Lanes<L>| unsafe { cells.s.add(i).write(x) };
    let step_fn = |x: f64| if x > 0.0 { 1.0 } else { 0.0 };
    unsafe {
        match c.op {
            Op::NoOp => {}
            Op::ScalarSum => zip(s(o), s(a), s(b), ns, |x, y| x + y),
            Op::ScalarDiff => zip(s(o), s(a), s(b), ns, |x, y| x - y),
            Op::ScalarProduct => zip(s(o), s(a), s(b), ns, |x, y| x * y),
            Op::ScalarDivision => zip(s(o), s(a), s(b), ns, |x, y| x / y),
            Op::ScalarAbs => map(s(o), s(a), ns, f64::abs),
            Op::ScalarReciprocal => map(s(o), s(a), ns, |x| 1.0 / x),
            Op::ScalarSin => map(s(o), s(a), ns, f64::sin),
            Op::ScalarCos => map(s(o), s(a), ns, f64::cos),
            Op::ScalarTan => map(s(o), s(a), ns, f64::tan),
            Op::ScalarArcsin => map(s(o), s(a), ns, f64::asin),
            Op::ScalarArccos => map(s(o), s(a), ns, f64::acos),
            Op::ScalarArctan => map(s(o), s(a), ns, f64::atan),
            Op::ScalarExp => map(s(o), s(a), ns, f64::exp),
            Op::ScalarLog => map(s(o), s(a), ns, f64::ln),
            Op::ScalarHeaviside => map(s(o), s(a), ns, |x| if x >= 0.0 { 1.0 } else { 0.0 }),
            Op::VectorHeaviside => map(v(o), v(a), nv, step_fn),
            Op::MatrixHeaviside => map(m(o), m(a), nm, step_fn),
            Op::ScalarVectorProduct => with_scalar::<L>(v(o), s(a), v(b), F, |k, x| k * x),
            Op::ScalarBroadcast => with_scalar::<L>(v(o), s(a), v(o), F, |k, _| k),
            Op::VectorReciprocal => map(v(o), v(a), nv, |x| 1.0 / x),
            Op::VectorNorm => put_s(o, each(dot(vec(a), vec(a)), f64::sqrt)),
            Op::VectorAbs => map(v(o), v(a), nv, f64::abs),
            Op::VectorSum => zip(v(o), v(a), v(b), nv, |x, y| x + y),
            Op::VectorDiff => zip(v(o), v(a), v(b), nv, |x, y| x - y),
            Op::VectorProduct => zip(v(o), v(a), v(b), nv, |x, y| x * y),
            Op::VectorDivision => zip(v(o), v(a), v(b), nv, |x, y| x / y),
            Op::VectorInnerProduct => put_s(o, dot(vec(a), vec(b))),
            Op::VectorOuterProduct => match c.then_sum {
                None => outer::<F, L, false, false, true>(cells, o, a, b, (0, 0, 0)),
                Some(sum) => {
                    let (p, q) = (sum.1 as usize == o, sum.2 as usize == o);
                    match (p, q, c.store_product) {
                        (true, true, true) => outer::<F, L, true, true, true>(cells, o, a, b, sum),
                        (true, false, true) => {
                            outer::<F, L, true, false, true>(cells, o, a, b, sum)
                        }
                        (false, true, true) => {
                            outer::<F, L, false, true, true>(cells, o, a, b, sum)
                        }
                        (true, true, false) => {
                            outer::<F, L, true, true, false>(cells, o, a, b, sum)
                        }
                        (true, false, false) => {
                            outer::<F, L, true, false, false>(cells, o, a, b, sum)
                        }
                        (false, true, false) => {
                            outer::<F, L, false, true, false>(cells, o, a, b, sum)
                        }
                        // `fuse` pairs only a sum that reads the product.
                        (false, false, _) => unreachable!("a fused sum reads the outer product"),
                    }
                }
            },
            Op::ScalarMatrixProduct => with_scalar::<L>(m(o), s(a), m(b), F * F, |k, x| k * x),
            Op::MatrixReciprocal => map(m(o), m(a), nm, |x| 1.0 / x),
            Op::MatrixVectorProduct => {
                // The output may be the input vector: it is read whole first.
                let x: LaneVector<F, L> = *vec(b);
                let (w, out) = (mat(a), v(o) as *mut LaneVector<F, L>);
                for r in 0..F {
                    (*out)[r] = matrix_vector_row(&w[r], &x);
                }
            }
            Op::VectorColumnBroadcast => {
                let (x, out) = (vec(a), m(o) as *mut LaneMatrix<F, L>);
                for r in 0..F {
                    (*out)[r] = [x[r]; F];
                }
            }
            Op::VectorRowBroadcast => {
                let (x, out) = (vec(a), m(o) as *mut LaneMatrix<F, L>);
                for r in 0..F {
                    (*out)[r] = *x;
                }
            }
            Op::MatrixNorm => put_s(o, each(matrix_sum(mat(a), |x| x * x), f64::sqrt)),
            Op::MatrixColumnNorm => {
                let (x, out) = (mat(a), v(o) as *mut LaneVector<F, L>);
                let mut squares: LaneVector<F, L> = [[0.0; L]; F];
                for col in 0..F {
                    for (r, sq) in squares.iter_mut().enumerate() {
                        *sq = each(x[r][col], |e| e * e);
                    }
                    (*out)[col] = each(strided_sum(&squares), f64::sqrt);
                }
            }
            Op::MatrixRowNorm => {
                let (x, out) = (mat(a), v(o) as *mut LaneVector<F, L>);
                for r in 0..F {
                    (*out)[r] = each(dot(&x[r], &x[r]), f64::sqrt);
                }
            }
            Op::MatrixTranspose if o == a => {
                // In place: swap across the diagonal.
                let x = &mut *(m(o) as *mut LaneMatrix<F, L>);
                for r in 0..F {
                    for col in r + 1..F {
                        let t = x[r][col];
                        x[r][col] = x[col][r];
                        x[col][r] = t;
                    }
                }
            }
            Op::MatrixTranspose => {
                let (x, out) = (mat(a), m(o) as *mut LaneMatrix<F, L>);
                for r in 0..F {
                    for col in 0..F {
                        (*out)[r][col] = x[col][r];
                    }
                }
            }
            Op::MatrixAbs => map(m(o), m(a), nm, f64::abs),
            Op::MatrixSum => zip(m(o), m(a), m(b), nm, |x, y| x + y),
            Op::MatrixDiff => zip(m(o), m(a), m(b), nm, |x, y| x - y),
            Op::MatrixProduct => zip(m(o), m(a), m(b), nm, |x, y| x * y),
            Op::MatrixDivision => zip(m(o), m(a), m(b), nm, |x, y| x / y),
            Op::MatrixMatrixProduct => matmul::<F, L>(cells, o, a, b),
            Op::ScalarMin => zip(s(o), s(a), s(b), ns, min_of),
            Op::VectorMin => zip(v(o), v(a), v(b), nv, min_of),
            Op::MatrixMin => zip(m(o), m(a), m(b), nm, |x, y| if x < y { x } else { y }),
            Op::ScalarMax => zip(s(o), s(a), s(b), ns, max_of),
            Op::VectorMax => zip(v(o), v(a), v(b), nv, max_of),
            Op::MatrixMax => zip(m(o), m(a), m(b), nm, |x, y| if x > y { x } else { y }),
            Op::VectorMean => put_s(o, each(vector_sum(vec(a)), |x| x / F as f64)),
            Op::MatrixMean => {
                put_s(o, each(matrix_sum(mat(a), |x| x), |x| x / (F * F) as f64));
            }
            Op::MatrixRowMean => {
                let (x, out) = (mat(a), v(o) as *mut LaneVector<F, L>);
                for r in 0..F {
                    (*out)[r] = each(vector_sum(&x[r]), |x| x / F as f64);
                }
            }
            Op::MatrixRowStDev => {
                let (x, out) = (mat(a), v(o) as *mut LaneVector<F, L>);
                for r in 0..F {
                    (*out)[r] = std_of(&x[r]);
                }
            }
            Op::VectorStDev => put_s(o, std_of(vec(a))),
            Op::MatrixStDev => {
                let x = mat(a);
                let n = (F * F) as f64;
                let (sum, mut squares) = (matrix_sum(x, |x| x), matrix_sum(x, |x| x * x));
                for l in 0..L {
                    let mean = sum[l] / n;
                    squares[l] = (squares[l] / n - mean * mean).sqrt();
                }
                put_s(o, squares);
            }
            Op::ScalarConstSet => put_s(o, [c.x; L]),
            Op::VectorConstSet => (*(v(o) as *mut LaneVector<F, L>))[c.i as usize] = [c.x; L],
            Op::MatrixConstSet => {
                (*(m(o) as *mut LaneMatrix<F, L>))[c.i as usize][c.j as usize] = [c.x; L];
            }
            Op::ScalarUniformSet => draw::<L>(s(o), 1, rngs, |r| r.uniform(c.x, c.y)),
            Op::VectorUniformSet => draw::<L>(v(o), F, rngs, |r| r.uniform(c.x, c.y)),
            Op::MatrixUniformSet => draw::<L>(m(o), F * F, rngs, |r| r.uniform(c.x, c.y)),
            Op::ScalarGaussianSet => draw::<L>(s(o), 1, rngs, |r| r.gaussian(c.x, c.y)),
            Op::VectorGaussianSet => draw::<L>(v(o), F, rngs, |r| r.gaussian(c.x, c.y)),
            Op::MatrixGaussianSet => draw::<L>(m(o), F * F, rngs, |r| r.gaussian(c.x, c.y)),
        }
    }
}

/// The outer product `m[o] = v[a] ⊗ v[b]`, and with `sum = (y, p, q)` (when `P_IS_O` or
/// `Q_IS_O`) the matrix sum `m[y] = m[p] + m[q]` that follows it, fused: each element of the
/// product is written, then read (or `m[p]`'s, `m[q]`'s where they are other matrices) for the
/// sum's element, which is what the two ops compute one after the other. The product is not
/// stored unless `STORE` (see [`Code::store_product`]).
///
/// # Safety
/// As for [`step`].
#[inline(always)]
unsafe fn outer<
    const F: usize,
    const L: usize,
    const P_IS_O: bool,
    const Q_IS_O: bool,
    const STORE: bool,
>(
    cells: &Cells<F, L>,
    o: usize,
    a: usize,
    b: usize,
    (y, p, q): (u16, u16, u16),
) {
    // SAFETY: guaranteed by the caller. The inputs are copied (nothing the compiler must assume
    // aliased); an element of m[p] or m[q] is read before m[y]'s is written.
    unsafe {
        let (x, w): (LaneVector<F, L>, LaneVector<F, L>) = (*cells.v.add(a), *cells.v.add(b));
        let out = cells.m.add(o);
        if !(P_IS_O || Q_IS_O) {
            for (r, xr) in x.iter().enumerate() {
                let mut row: LaneVector<F, L> = w;
                for cell in row.iter_mut() {
                    for l in 0..L {
                        cell[l] *= xr[l];
                    }
                }
                (*out)[r] = row;
            }
            return;
        }
        let (sum_out, pm, qm) = (
            cells.m.add(y as usize),
            cells.m.add(p as usize),
            cells.m.add(q as usize),
        );
        for (r, xr) in x.iter().enumerate() {
            for (col, wc) in w.iter().enumerate() {
                let mut t = [0.0; L];
                for l in 0..L {
                    t[l] = xr[l] * wc[l];
                }
                if STORE {
                    (*out)[r][col] = t;
                }
                let first = if P_IS_O { t } else { (*pm)[r][col] };
                let second = if Q_IS_O { t } else { (*qm)[r][col] };
                let mut sum = first;
                for l in 0..L {
                    sum[l] += second[l];
                }
                (*sum_out)[r][col] = sum;
            }
        }
    }
}

/// Fills `count` elements of a cell with draws: lane by lane, each lane's elements in storage
/// order from its own generator.
///
/// # Safety
/// `out` must be valid for `count · L` values, and `rngs` hold `L` generators.
#[inline(always)]
unsafe fn draw<const L: usize>(
    out: *mut f64,
    count: usize,
    rngs: &mut [MtRng],
    f: impl Fn(&mut MtRng) -> f64,
) {
    for (l, rng) in rngs.iter_mut().enumerate().take(L) {
        for e in 0..count {
            // SAFETY: guaranteed by the caller.
            unsafe { *out.add(e * L + l) = f(rng) };
        }
    }
}

/// The matrix product `m[o] = m[a] · m[b]`, each element summed over k from 0.0 in order.
///
/// # Safety
/// As for [`step`].
#[inline(always)]
unsafe fn matmul<const F: usize, const L: usize>(
    cells: &Cells<F, L>,
    o: usize,
    a: usize,
    b: usize,
) {
    // SAFETY: guaranteed by the caller.
    let (x, y) = unsafe { (&*cells.m.add(a), &*cells.m.add(b)) };
    let product = |row: &mut [Lanes<L>; F], i: usize| {
        *row = [[0.0; L]; F];
        for k in 0..F {
            let xik = x[i][k];
            for j in 0..F {
                for l in 0..L {
                    row[j][l] += xik[l] * y[k][j][l];
                }
            }
        }
    };
    if o == a || o == b {
        // The output is an input: the product is made aside.
        let mut r: LaneMatrix<F, L> = [[[0.0; L]; F]; F];
        for (i, row) in r.iter_mut().enumerate() {
            product(row, i);
        }
        // SAFETY: guaranteed by the caller; `x` and `y` are not used after this.
        unsafe { cells.m.add(o).write(r) };
    } else {
        for i in 0..F {
            // SAFETY: `o` is neither input, so this row aliases neither.
            product(unsafe { &mut (*cells.m.add(o))[i] }, i);
        }
    }
}
