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

/// Lane-wise `a + b`.
#[inline(always)]
fn add<const L: usize>(a: Lanes<L>, b: Lanes<L>) -> Lanes<L> {
    let mut r = a;
    for l in 0..L {
        r[l] += b[l];
    }
    r
}

/// `count` (1, 2, 4 or 8) of `v[first]`, `v[first + stride]`, ... added pairwise by halves.
#[inline(always)]
fn halves<const L: usize>(v: &[Lanes<L>], first: usize, stride: usize, count: usize) -> Lanes<L> {
    let x = |j: usize| v[first + j * stride];
    match count {
        1 => x(0),
        2 => add(x(0), x(1)),
        4 => add(add(x(0), x(1)), add(x(2), x(3))),
        8 => add(
            add(add(x(0), x(1)), add(x(2), x(3))),
            add(add(x(4), x(5)), add(x(6), x(7))),
        ),
        _ => unreachable!("feature sizes are powers of two up to 32"),
    }
}

/// A packet's four values summed: `(a0 + a2) + (a1 + a3)`.
#[inline(always)]
fn horizontal<const L: usize>(p: [Lanes<L>; 4]) -> Lanes<L> {
    add(add(p[0], p[2]), add(p[1], p[3]))
}

/// The sum of F values (a vector's `sum()`: the reduction of `dot`, `norm`, `mean`).
#[inline(always)]
pub(super) fn vector_sum<const F: usize, const L: usize>(t: &[Lanes<L>; F]) -> Lanes<L> {
    if F == 2 {
        return add(t[0], t[1]);
    }
    let n = F / 4;
    horizontal([
        halves(t, 0, 4, n),
        halves(t, 1, 4, n),
        halves(t, 2, 4, n),
        halves(t, 3, 4, n),
    ])
}

/// The inner product of two vectors.
#[inline(always)]
pub(super) fn dot<const F: usize, const L: usize>(
    a: &[Lanes<L>; F],
    b: &[Lanes<L>; F],
) -> Lanes<L> {
    let mut p = [[0.0; L]; F];
    for k in 0..F {
        for l in 0..L {
            p[k][l] = a[k][l] * b[k][l];
        }
    }
    vector_sum(&p)
}

/// The sum of `term` over all F×F values of a matrix, in storage (row-major) order.
#[inline(always)]
pub(super) fn matrix_sum<const F: usize, const L: usize>(
    m: &[[Lanes<L>; F]; F],
    term: impl Fn(f64) -> f64,
) -> Lanes<L> {
    let t = |r: usize, c: usize| -> Lanes<L> {
        let mut x = m[r][c];
        for v in x.iter_mut() {
            *v = term(*v);
        }
        x
    };
    if F == 2 {
        // Four values: one packet.
        return horizontal([t(0, 0), t(0, 1), t(1, 0), t(1, 1)]);
    }
    if F <= 8 {
        // Unrolled: the halving tree over all packets, whose halves are whole rows.
        let column = |e: usize| {
            let mut rows = [[0.0; L]; 8];
            for (r, row) in rows.iter_mut().enumerate().take(F) {
                *row = if F == 4 {
                    t(r, e)
                } else {
                    add(t(r, e), t(r, 4 + e))
                };
            }
            halves(&rows, 0, 1, F)
        };
        return horizontal([column(0), column(1), column(2), column(3)]);
    }
    // Two accumulators take alternate packets of the row-major storage.
    let column = |e: usize| {
        let packet = |p: usize| t(4 * p / F, (4 * p + e) % F);
        let (mut even, mut odd) = (packet(0), packet(1));
        for p in (2..F * F / 4).step_by(2) {
            even = add(even, packet(p));
            odd = add(odd, packet(p + 1));
        }
        add(even, odd)
    };
    horizontal([column(0), column(1), column(2), column(3)])
}

/// The sum of F single values added pairwise by halves (a column of a row-major matrix).
#[inline(always)]
pub(super) fn strided_sum<const F: usize, const L: usize>(t: &[Lanes<L>; F]) -> Lanes<L> {
    if F <= 8 {
        return halves(t, 0, 1, F);
    }
    let group = |q: usize| halves(t, 8 * q, 1, 8);
    if F == 16 {
        add(group(0), group(1))
    } else {
        add(add(group(0), group(1)), add(group(2), group(3)))
    }
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
    let mut acc = [[0.0; L]; 4];
    for j in 0..F / 4 {
        for (e, a) in acc.iter_mut().enumerate() {
            for l in 0..L {
                a[l] += row[4 * j + e][l] * x[4 * j + e][l];
            }
        }
    }
    add([0.0; L], horizontal(acc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one<const F: usize>(v: [f64; F]) -> [Lanes<1>; F] {
        v.map(|x| [x])
    }

    fn sum<const F: usize>(v: [f64; F]) -> f64 {
        vector_sum(&one(v))[0]
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
        assert_eq!(strided_sum(&one(v)), [0.0]);
        let mut w = [0.0; 32];
        (w[0], w[1], w[16], w[31]) = (BIG, 1.0, -BIG, 1.0);
        // ((BIG + 1) + ...) + ((-BIG + ...) + 1) = 0; a running sum gives 1.
        assert_eq!(strided_sum(&one(w)), [0.0]);
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
