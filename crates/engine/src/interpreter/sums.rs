//! Sums in the order the original computes them: Eigen 3.4 built with AVX and without FMA.
//!
//! Floating-point addition is not associative, so the order of a sum is part of an op's result.
//! Eigen sums a vector in packets of four doubles (an AVX register; two for a 2-vector): the
//! packets are added pairwise by halves, then a packet's four values as (a0 + a2) + (a1 + a3).
//! So `dot` at F = 4 is `(p0 + p2) + (p1 + p3)`, and at F = 8 it is `s_k = p_k + p_{k+4}`, then
//! `(s0 + s2) + (s1 + s3)` (reference/original/README.md; the golden tests check both).
//!
//! The other rules, read from Eigen's source: a matrix times a vector sums each row like `dot`
//! up to F = 4, and from F = 8 (Eigen's GEMV kernel) adds a row's packets one after the other to
//! a zero packet; sums over a whole matrix are the tree above up to F = 8 and, from F = 16 (too
//! long for Eigen to unroll), two packet accumulators taking alternate packets; a column of a
//! row-major matrix is not contiguous, so its sum is a halving tree of single values. Matrix
//! products keep the order of one running sum from 0.0.
//!
//! Every function works on `L` lanes at once (one value per task in each cell), one lane at a
//! time in a loop the compiler vectorises across lanes.

/// One value per lane.
pub(super) type Lanes<const L: usize> = [f64; L];

/// `count` values (1, 2, 4 or 8) added pairwise by halves: `(f0 + f1) + (f2 + f3)`, ...
#[inline(always)]
fn halves(count: usize, f: impl Fn(usize) -> f64) -> f64 {
    match count {
        1 => f(0),
        2 => f(0) + f(1),
        4 => (f(0) + f(1)) + (f(2) + f(3)),
        8 => ((f(0) + f(1)) + (f(2) + f(3))) + ((f(4) + f(5)) + (f(6) + f(7))),
        _ => unreachable!("feature sizes are powers of two up to 32"),
    }
}

/// `n` values (a power of two up to 32) added pairwise by halves.
#[inline(always)]
fn pairwise(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    if n <= 8 {
        halves(n, f)
    } else {
        halves(n / 8, |q| halves(8, |j| f(8 * q + j)))
    }
}

/// The sum of a packet of four: `(a0 + a2) + (a1 + a3)`.
#[inline(always)]
fn horizontal(p: impl Fn(usize) -> f64) -> f64 {
    (p(0) + p(2)) + (p(1) + p(3))
}

/// The sum of `n` values (a multiple of 4, at most 32), Eigen's unrolled tree over packets.
#[inline(always)]
fn tree(n: usize, t: impl Fn(usize) -> f64) -> f64 {
    horizontal(|e| halves(n / 4, |j| t(4 * j + e)))
}

/// Per lane, the sum of F values `term(k, l)` (a vector's `sum()`: `dot`, `norm`, `mean`).
#[inline(always)]
pub(super) fn vector_sum<const F: usize, const L: usize>(
    term: impl Fn(usize, usize) -> f64,
) -> Lanes<L> {
    let mut out = [0.0; L];
    for (l, o) in out.iter_mut().enumerate() {
        *o = if F == 2 {
            term(0, l) + term(1, l)
        } else {
            tree(F, |k| term(k, l))
        };
    }
    out
}

/// The inner product of two vectors.
#[inline(always)]
pub(super) fn dot<const F: usize, const L: usize>(
    a: &[Lanes<L>; F],
    b: &[Lanes<L>; F],
) -> Lanes<L> {
    vector_sum::<F, L>(|k, l| a[k][l] * b[k][l])
}

/// Per lane, the sum of `term` over all F×F values of a matrix, in storage (row-major) order.
#[inline(always)]
pub(super) fn matrix_sum<const F: usize, const L: usize>(
    m: &[[Lanes<L>; F]; F],
    term: impl Fn(f64) -> f64,
) -> Lanes<L> {
    let mut out = [0.0; L];
    for (l, o) in out.iter_mut().enumerate() {
        let t = |r: usize, c: usize| term(m[r][c][l]);
        *o = if F == 2 {
            // Four values: one packet.
            horizontal(|e| t(e / 2, e % 2))
        } else if F <= 8 {
            // Unrolled: the halving tree over all packets, whose halves are whole rows.
            horizontal(|e| halves(F, |r| halves(F / 4, |j| t(r, 4 * j + e))))
        } else {
            // Two accumulators take alternate packets of the row-major storage.
            let packet = |p: usize, e: usize| t(4 * p / F, (4 * p + e) % F);
            horizontal(|e| {
                let (mut even, mut odd) = (packet(0, e), packet(1, e));
                for p in (2..F * F / 4).step_by(2) {
                    even += packet(p, e);
                    odd += packet(p + 1, e);
                }
                even + odd
            })
        };
    }
    out
}

/// Per lane, the sum of F single values added pairwise by halves (a column of a row-major
/// matrix).
#[inline(always)]
pub(super) fn strided_sum<const F: usize, const L: usize>(
    term: impl Fn(usize, usize) -> f64,
) -> Lanes<L> {
    let mut out = [0.0; L];
    for (l, o) in out.iter_mut().enumerate() {
        *o = pairwise(F, |k| term(k, l));
    }
    out
}

/// One element of a matrix times a vector: `row` dotted with `x`.
#[inline(always)]
pub(super) fn matrix_vector_row<const F: usize, const L: usize>(
    row: &[Lanes<L>; F],
    x: &[Lanes<L>; F],
) -> Lanes<L> {
    if F <= 4 {
        return dot(row, x);
    }
    // Eigen's GEMV: the row's packets added in turn to a zero packet, summed, added to zero.
    let mut out = [0.0; L];
    for (l, o) in out.iter_mut().enumerate() {
        let sum = horizontal(|e| {
            let mut acc = 0.0;
            for j in 0..F / 4 {
                acc += row[4 * j + e][l] * x[4 * j + e][l];
            }
            acc
        });
        *o = 0.0 + sum;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one<const F: usize>(v: [f64; F]) -> [Lanes<1>; F] {
        v.map(|x| [x])
    }

    fn sum<const F: usize>(v: [f64; F]) -> f64 {
        vector_sum::<F, 1>(|k, _| v[k])[0]
    }

    /// Values whose sum depends on the order: 1e16 swallows a 1 added to it alone.
    const BIG: f64 = 1e16;

    #[test]
    fn four_values_sum_as_first_plus_third_then_second_plus_fourth() {
        // (BIG + -BIG) + (1 + 1) = 2, where left to right gives (BIG + 1 - BIG) + 1 = 1.
        assert_eq!(sum([BIG, 1.0, -BIG, 1.0]), 2.0);
        assert_eq!(sum([1.0, 2.0]), 3.0);
    }

    #[test]
    fn eight_values_add_packets_first() {
        // s = (BIG + -BIG, 1 + 0, 1 + 0, 0 + 0): (s0 + s2) + (s1 + s3) = 1 + 1 = 2.
        let v = [BIG, 1.0, 1.0, 0.0, -BIG, 0.0, 0.0, 0.0];
        assert_eq!(sum(v), 2.0);
        assert_eq!(matrix_vector_row(&one(v), &one([1.0; 8])), [2.0]);
    }

    #[test]
    fn sixteen_values_add_packets_pairwise() {
        // Packets (BIG), (1), (-BIG), (1) in lane 0: (BIG + 1) + (-BIG + 1) = 0, where adding
        // the packets in turn gives ((BIG + 1) - BIG) + 1 = 1.
        let mut v = [0.0; 16];
        (v[0], v[4], v[8], v[12]) = (BIG, 1.0, -BIG, 1.0);
        assert_eq!(sum(v), 0.0);
        assert_eq!(matrix_vector_row(&one(v), &one([1.0; 16])), [1.0]);
    }

    #[test]
    fn columns_sum_by_halves() {
        // (1 + BIG) + (-BIG + 1) = 0 after rounding: 1 + 1e16 is 1e16.
        let v = [1.0, BIG, -BIG, 1.0];
        assert_eq!(strided_sum::<4, 1>(|k, _| v[k]), [0.0]);
        let mut w = [0.0; 32];
        (w[0], w[1], w[16], w[31]) = (BIG, 1.0, -BIG, 1.0);
        // ((BIG + 1) + ...) + ((-BIG + ...) + 1) = 0; a running sum gives 1.
        assert_eq!(strided_sum::<32, 1>(|k, _| w[k]), [0.0]);
    }

    #[test]
    fn long_matrix_sums_alternate_two_accumulators() {
        // F = 16: packet 0 holds BIG, packet 2 holds -BIG (both in accumulator 0), packet 1
        // holds 1 (accumulator 1): (BIG + -BIG) + 1 = 1, where a running sum would give 0.
        let mut m = [[[0.0]; 16]; 16];
        m[0][0] = [BIG];
        m[0][4] = [1.0];
        m[0][8] = [-BIG];
        assert_eq!(matrix_sum(&m, |x| x), [1.0]);
        // F = 4: rows are packets, ((r0 + r1) + (r2 + r3)), then (a0 + a2) + (a1 + a3).
        let mut small = [[[0.0]; 4]; 4];
        small[0][0] = [BIG];
        small[1][0] = [1.0];
        small[2][0] = [-BIG];
        assert_eq!(matrix_sum(&small, |x| x), [0.0]);
    }
}
