//! Every op of the instruction set (SPEC 2.3) on a hand-computed example.
//!
//! Each test puts its inputs straight into memory, compiles a one-instruction Setup and runs it.
//! Expected values are written out by hand (or computed with plain arithmetic in the test), never
//! with the interpreter's own helpers.

use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::ops::{Class, Op};
use automl_zero_engine::program::{Algorithm, Component, Instruction};
use automl_zero_engine::rng::MtRng;
use std::f64::consts::{E, FRAC_PI_2, FRAC_PI_3, FRAC_PI_4, FRAC_PI_6, LN_2, PI};

const SIZES: MemorySizes = MemorySizes {
    scalars: 8,
    vectors: 8,
    matrices: 8,
};

type M4 = [[f64; 4]; 4];

fn mem<const F: usize>() -> Memory<F> {
    Memory::new(SIZES)
}

/// Runs one instruction on the memory with the given generator.
fn exec_rng<const F: usize>(m: &mut Memory<F>, ins: Instruction, rng: &mut MtRng) {
    let a = Algorithm {
        setup: vec![ins],
        predict: vec![],
        learn: vec![],
    };
    let p = Program::compile(&a, &SIZES, F).expect("instruction compiles");
    p.run(Component::Setup, m, rng);
}

/// Runs one instruction on the memory.
fn exec<const F: usize>(m: &mut Memory<F>, ins: Instruction) {
    exec_rng(m, ins, &mut MtRng::new(12));
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "got {actual:?}, expected {expected:?}"
    );
}

fn close_v<const F: usize>(actual: &[f64; F], expected: &[f64; F]) {
    for k in 0..F {
        assert!(
            (actual[k] - expected[k]).abs() <= 1e-12 * expected[k].abs().max(1.0),
            "element {k}: got {actual:?}, expected {expected:?}"
        );
    }
}

fn close_m<const F: usize>(actual: &[[f64; F]; F], expected: &[[f64; F]; F]) {
    for r in 0..F {
        for c in 0..F {
            assert!(
                (actual[r][c] - expected[r][c]).abs() <= 1e-12 * expected[r][c].abs().max(1.0),
                "element [{r}][{c}]: got {actual:?}, expected {expected:?}"
            );
        }
    }
}

/// Runs a unary scalar op on `x` (s1 -> s2) and returns s2.
fn scalar_unary(op: Op, x: f64) -> f64 {
    let mut m = mem::<4>();
    m.scalars[1] = x;
    exec(&mut m, Instruction::unary(op, 1, 2));
    m.scalars[2]
}

/// Runs a binary scalar op on `a`, `b` (s1, s2 -> s3) and returns s3.
fn scalar_binary(op: Op, a: f64, b: f64) -> f64 {
    let mut m = mem::<4>();
    m.scalars[1] = a;
    m.scalars[2] = b;
    exec(&mut m, Instruction::new(op, 1, 2, 3));
    m.scalars[3]
}

/// Runs a unary vector op (v1 -> v2) at F = 4 and returns v2.
fn vector_unary(op: Op, x: [f64; 4]) -> [f64; 4] {
    let mut m = mem::<4>();
    m.vectors[1] = x;
    exec(&mut m, Instruction::unary(op, 1, 2));
    m.vectors[2]
}

/// Runs a binary vector op (v1, v2 -> v3) at F = 4 and returns v3.
fn vector_binary(op: Op, a: [f64; 4], b: [f64; 4]) -> [f64; 4] {
    let mut m = mem::<4>();
    m.vectors[1] = a;
    m.vectors[2] = b;
    exec(&mut m, Instruction::new(op, 1, 2, 3));
    m.vectors[3]
}

/// Runs a unary matrix op (m1 -> m2) at F = 4 and returns m2.
fn matrix_unary(op: Op, x: M4) -> M4 {
    let mut m = mem::<4>();
    m.matrices[1] = x;
    exec(&mut m, Instruction::unary(op, 1, 2));
    m.matrices[2]
}

/// Runs a binary matrix op (m1, m2 -> m3) at F = 4 and returns m3.
fn matrix_binary(op: Op, a: M4, b: M4) -> M4 {
    let mut m = mem::<4>();
    m.matrices[1] = a;
    m.matrices[2] = b;
    exec(&mut m, Instruction::new(op, 1, 2, 3));
    m.matrices[3]
}

const MA: M4 = [
    [1.0, -2.0, 3.0, -4.0],
    [0.5, 0.0, -0.5, 2.0],
    [-1.0, 8.0, 0.25, 1.0],
    [4.0, 4.0, -3.0, 0.0],
];
const MB: M4 = [
    [2.0, 1.0, -1.0, 0.5],
    [4.0, -4.0, 2.0, 1.0],
    [0.5, 2.0, 0.25, -8.0],
    [-2.0, 0.5, 3.0, 1.0],
];

// ---------------------------------------------------------------------------------------------
// The table itself.

#[test]
fn there_are_65_ops_in_number_order() {
    assert_eq!(Op::ALL.len(), 65);
    for (i, op) in Op::ALL.iter().enumerate() {
        assert_eq!(*op as usize, i);
    }
    assert_eq!(Op::ALL[15], Op::ScalarHeaviside);
    assert_eq!(Op::ALL[31], Op::MatrixVectorProduct);
    assert_eq!(Op::ALL[64], Op::MatrixGaussianSet);
}

/// Every op runs without panicking on zeros, NaN, infinities and huge values, at every F
/// used by these tests, with every operand address aliased to one cell.
#[test]
fn every_op_runs_on_special_values_without_panicking() {
    fn all<const F: usize>() {
        for fill in [0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e308, -0.0] {
            for op in Op::ALL {
                let mut m = mem::<F>();
                m.scalars.fill(fill);
                m.vectors.fill([fill; F]);
                m.matrices.fill([[fill; F]; F]);
                let ins = match op.class() {
                    Class::Set => Instruction {
                        activation: fill,
                        ..Instruction::set(*op, 3, [0.5, 0.75, 0.5])
                    },
                    _ => Instruction::new(*op, 3, 3, 3),
                };
                exec(&mut m, ins);
            }
        }
    }
    all::<2>();
    all::<4>();
    all::<8>();
}

// ---------------------------------------------------------------------------------------------
// 0: NO_OP

#[test]
fn op00_no_op_changes_nothing() {
    let mut m = mem::<4>();
    m.scalars[1] = 3.0;
    m.vectors[1] = [1.0, 2.0, 3.0, 4.0];
    m.matrices[1] = MA;
    exec(&mut m, Instruction::NO_OP);
    exec(&mut m, Instruction::new(Op::NoOp, 1, 2, 3));
    assert_eq!(m.scalars, vec![0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(m.vectors[1], [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(m.vectors[3], [0.0; 4]);
    assert_eq!(m.matrices[1], MA);
    assert_eq!(m.matrices[3], [[0.0; 4]; 4]);
}

// ---------------------------------------------------------------------------------------------
// 1-4: scalar arithmetic

#[test]
fn op01_scalar_sum() {
    assert_eq!(scalar_binary(Op::ScalarSum, 1.5, -4.0), -2.5);
    assert_eq!(scalar_binary(Op::ScalarSum, 0.25, 0.5), 0.75);
}

#[test]
fn op02_scalar_diff_is_in1_minus_in2() {
    assert_eq!(scalar_binary(Op::ScalarDiff, 1.5, -4.0), 5.5);
    assert_eq!(scalar_binary(Op::ScalarDiff, 1.0, 3.0), -2.0);
}

#[test]
fn op03_scalar_product() {
    assert_eq!(scalar_binary(Op::ScalarProduct, 1.5, -4.0), -6.0);
    assert_eq!(scalar_binary(Op::ScalarProduct, 0.0, 7.0), 0.0);
}

#[test]
fn op04_scalar_division_is_in1_over_in2() {
    assert_eq!(scalar_binary(Op::ScalarDivision, 3.0, -4.0), -0.75);
    assert_eq!(scalar_binary(Op::ScalarDivision, 1.0, 8.0), 0.125);
}

#[test]
fn op04_scalar_division_by_zero_gives_inf_or_nan_without_panicking() {
    assert_eq!(scalar_binary(Op::ScalarDivision, 1.0, 0.0), f64::INFINITY);
    assert_eq!(
        scalar_binary(Op::ScalarDivision, -1.0, 0.0),
        f64::NEG_INFINITY
    );
    assert!(scalar_binary(Op::ScalarDivision, 0.0, 0.0).is_nan());
}

#[test]
fn scalar_ops_may_write_their_own_input() {
    let mut m = mem::<4>();
    m.scalars[2] = 3.0;
    // s2 = s2 * s2, then s2 = s2 - s2 is 0, then s1 = s1 + s1 on 0 stays 0.
    exec(&mut m, Instruction::new(Op::ScalarProduct, 2, 2, 2));
    assert_eq!(m.scalars[2], 9.0);
    exec(&mut m, Instruction::new(Op::ScalarDiff, 2, 2, 2));
    assert_eq!(m.scalars[2], 0.0);
}

// ---------------------------------------------------------------------------------------------
// 5-15: scalar functions

#[test]
fn op05_scalar_abs() {
    assert_eq!(scalar_unary(Op::ScalarAbs, -2.5), 2.5);
    assert_eq!(scalar_unary(Op::ScalarAbs, 2.5), 2.5);
    assert_eq!(scalar_unary(Op::ScalarAbs, 0.0), 0.0);
}

#[test]
fn op06_scalar_reciprocal() {
    assert_eq!(scalar_unary(Op::ScalarReciprocal, 4.0), 0.25);
    assert_eq!(scalar_unary(Op::ScalarReciprocal, -0.5), -2.0);
    assert_eq!(scalar_unary(Op::ScalarReciprocal, 0.0), f64::INFINITY);
}

#[test]
fn op07_scalar_sin() {
    close(scalar_unary(Op::ScalarSin, FRAC_PI_2), 1.0);
    close(scalar_unary(Op::ScalarSin, FRAC_PI_6), 0.5);
    close(scalar_unary(Op::ScalarSin, -FRAC_PI_2), -1.0);
    assert_eq!(scalar_unary(Op::ScalarSin, 0.0), 0.0);
}

#[test]
fn op08_scalar_cos() {
    close(scalar_unary(Op::ScalarCos, FRAC_PI_3), 0.5);
    close(scalar_unary(Op::ScalarCos, PI), -1.0);
    assert_eq!(scalar_unary(Op::ScalarCos, 0.0), 1.0);
}

#[test]
fn op09_scalar_tan() {
    close(scalar_unary(Op::ScalarTan, FRAC_PI_4), 1.0);
    close(scalar_unary(Op::ScalarTan, -FRAC_PI_4), -1.0);
    assert_eq!(scalar_unary(Op::ScalarTan, 0.0), 0.0);
}

#[test]
fn op10_scalar_arcsin() {
    close(scalar_unary(Op::ScalarArcsin, 0.5), FRAC_PI_6);
    close(scalar_unary(Op::ScalarArcsin, 1.0), FRAC_PI_2);
    assert!(scalar_unary(Op::ScalarArcsin, 2.0).is_nan());
    assert!(scalar_unary(Op::ScalarArcsin, -1.5).is_nan());
}

#[test]
fn op11_scalar_arccos() {
    close(scalar_unary(Op::ScalarArccos, 0.5), FRAC_PI_3);
    close(scalar_unary(Op::ScalarArccos, -1.0), PI);
    assert_eq!(scalar_unary(Op::ScalarArccos, 1.0), 0.0);
    assert!(scalar_unary(Op::ScalarArccos, 1.5).is_nan());
}

#[test]
fn op12_scalar_arctan() {
    close(scalar_unary(Op::ScalarArctan, 1.0), FRAC_PI_4);
    close(scalar_unary(Op::ScalarArctan, -1.0), -FRAC_PI_4);
    close(scalar_unary(Op::ScalarArctan, f64::INFINITY), FRAC_PI_2);
}

#[test]
fn op13_scalar_exp() {
    assert_eq!(scalar_unary(Op::ScalarExp, 0.0), 1.0);
    close(scalar_unary(Op::ScalarExp, 1.0), E);
    close(scalar_unary(Op::ScalarExp, LN_2), 2.0);
    assert_eq!(scalar_unary(Op::ScalarExp, f64::NEG_INFINITY), 0.0);
}

#[test]
fn op14_scalar_log_is_natural_with_nan_and_minus_inf() {
    close(scalar_unary(Op::ScalarLog, E), 1.0);
    assert_eq!(scalar_unary(Op::ScalarLog, 1.0), 0.0);
    close(scalar_unary(Op::ScalarLog, 2.0), LN_2);
    assert_eq!(scalar_unary(Op::ScalarLog, 0.0), f64::NEG_INFINITY);
    assert!(scalar_unary(Op::ScalarLog, -1.0).is_nan());
}

#[test]
fn op15_scalar_heaviside_is_one_at_exactly_zero() {
    // SPEC 2.3 [QUIRK]: the scalar op uses >= (the vector and matrix ops use >).
    assert_eq!(scalar_unary(Op::ScalarHeaviside, 0.0), 1.0);
    assert_eq!(scalar_unary(Op::ScalarHeaviside, -0.0), 1.0);
    assert_eq!(scalar_unary(Op::ScalarHeaviside, 2.5), 1.0);
    assert_eq!(scalar_unary(Op::ScalarHeaviside, 1e-300), 1.0);
    assert_eq!(scalar_unary(Op::ScalarHeaviside, -1e-300), 0.0);
    assert_eq!(scalar_unary(Op::ScalarHeaviside, -3.0), 0.0);
}

// ---------------------------------------------------------------------------------------------
// 16-17: vector and matrix heaviside

#[test]
fn op16_vector_heaviside_is_zero_at_exactly_zero() {
    assert_eq!(
        vector_unary(Op::VectorHeaviside, [0.0, -1.0, 2.0, -0.0]),
        [0.0, 0.0, 1.0, 0.0]
    );
    assert_eq!(
        vector_unary(Op::VectorHeaviside, [1e-300, -1e-300, 7.0, 0.0]),
        [1.0, 0.0, 1.0, 0.0]
    );
}

#[test]
fn op17_matrix_heaviside_is_zero_at_exactly_zero() {
    let x = [
        [0.0, 1.0, -1.0, 0.5],
        [-0.0, 0.0, 3.0, -2.0],
        [1e-300, -1e-300, 0.0, 0.0],
        [5.0, 0.0, -5.0, 0.0],
    ];
    let expected = [
        [0.0, 1.0, 0.0, 1.0],
        [0.0, 0.0, 1.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
    ];
    assert_eq!(matrix_unary(Op::MatrixHeaviside, x), expected);
}

// ---------------------------------------------------------------------------------------------
// 18-28: vector ops

#[test]
fn op18_scalar_vector_product_reads_scalar_in1_and_vector_in2() {
    let mut m = mem::<4>();
    m.scalars[1] = 3.0;
    m.scalars[2] = 100.0;
    m.vectors[1] = [10.0, 10.0, 10.0, 10.0];
    m.vectors[2] = [1.0, -2.0, 0.0, 0.5];
    exec(&mut m, Instruction::new(Op::ScalarVectorProduct, 1, 2, 3));
    assert_eq!(m.vectors[3], [3.0, -6.0, 0.0, 1.5]);
}

#[test]
fn op19_scalar_broadcast() {
    let mut m = mem::<4>();
    m.scalars[2] = 2.5;
    exec(&mut m, Instruction::unary(Op::ScalarBroadcast, 2, 1));
    assert_eq!(m.vectors[1], [2.5; 4]);
    let mut m8 = mem::<8>();
    m8.scalars[2] = -1.25;
    exec(&mut m8, Instruction::unary(Op::ScalarBroadcast, 2, 1));
    assert_eq!(m8.vectors[1], [-1.25; 8]);
}

#[test]
fn op20_vector_reciprocal() {
    assert_eq!(
        vector_unary(Op::VectorReciprocal, [1.0, 2.0, -4.0, 0.5]),
        [1.0, 0.5, -0.25, 2.0]
    );
    let r = vector_unary(Op::VectorReciprocal, [0.0, -0.0, 8.0, 1.0]);
    assert_eq!(r, [f64::INFINITY, f64::NEG_INFINITY, 0.125, 1.0]);
}

#[test]
fn op21_vector_norm_is_euclidean() {
    let mut m = mem::<4>();
    m.vectors[1] = [3.0, 0.0, -4.0, 0.0];
    exec(&mut m, Instruction::unary(Op::VectorNorm, 1, 2));
    assert_eq!(m.scalars[2], 5.0);
    m.vectors[1] = [1.0, -1.0, 1.0, -1.0];
    exec(&mut m, Instruction::unary(Op::VectorNorm, 1, 2));
    assert_eq!(m.scalars[2], 2.0);
}

#[test]
fn op22_vector_abs() {
    assert_eq!(
        vector_unary(Op::VectorAbs, [1.0, -2.0, 0.0, -3.5]),
        [1.0, 2.0, 0.0, 3.5]
    );
}

#[test]
fn op23_vector_sum() {
    assert_eq!(
        vector_binary(Op::VectorSum, [1.0, 2.0, 3.0, 4.0], [0.5, -2.0, 10.0, -8.0]),
        [1.5, 0.0, 13.0, -4.0]
    );
}

#[test]
fn op24_vector_diff_is_in1_minus_in2() {
    assert_eq!(
        vector_binary(
            Op::VectorDiff,
            [1.0, 2.0, 3.0, 4.0],
            [0.5, -2.0, 10.0, -8.0]
        ),
        [0.5, 4.0, -7.0, 12.0]
    );
}

#[test]
fn op25_vector_product_is_element_wise() {
    assert_eq!(
        vector_binary(
            Op::VectorProduct,
            [1.0, 2.0, 3.0, 4.0],
            [0.5, -2.0, 10.0, -8.0]
        ),
        [0.5, -4.0, 30.0, -32.0]
    );
}

#[test]
fn op26_vector_division_is_element_wise_in1_over_in2() {
    assert_eq!(
        vector_binary(
            Op::VectorDivision,
            [1.0, 2.0, 3.0, 4.0],
            [0.5, -2.0, 4.0, -8.0]
        ),
        [2.0, -1.0, 0.75, -0.5]
    );
    let r = vector_binary(
        Op::VectorDivision,
        [1.0, -1.0, 0.0, 2.0],
        [0.0, 0.0, 0.0, 1.0],
    );
    assert_eq!(r[0], f64::INFINITY);
    assert_eq!(r[1], f64::NEG_INFINITY);
    assert!(r[2].is_nan());
    assert_eq!(r[3], 2.0);
}

#[test]
fn op27_vector_inner_product() {
    let mut m = mem::<4>();
    m.vectors[1] = [1.0, 2.0, 3.0, 4.0];
    m.vectors[2] = [5.0, 6.0, 7.0, 8.0];
    exec(&mut m, Instruction::new(Op::VectorInnerProduct, 1, 2, 3));
    assert_eq!(m.scalars[3], 70.0);
    exec(&mut m, Instruction::new(Op::VectorInnerProduct, 1, 1, 3));
    assert_eq!(m.scalars[3], 30.0);
}

#[test]
fn op28_vector_outer_product_rows_follow_in1() {
    let mut m = mem::<4>();
    m.vectors[1] = [1.0, 2.0, 3.0, 4.0];
    m.vectors[2] = [1.0, 10.0, 100.0, 1000.0];
    exec(&mut m, Instruction::new(Op::VectorOuterProduct, 1, 2, 3));
    // M[i][j] = a[i] * b[j]
    let expected = [
        [1.0, 10.0, 100.0, 1000.0],
        [2.0, 20.0, 200.0, 2000.0],
        [3.0, 30.0, 300.0, 3000.0],
        [4.0, 40.0, 400.0, 4000.0],
    ];
    assert_eq!(m.matrices[3], expected);
    assert_eq!(m.matrices[3][1][2], 200.0);
}

// ---------------------------------------------------------------------------------------------
// 29-43: matrix ops

#[test]
fn op29_scalar_matrix_product_reads_scalar_in1_and_matrix_in2() {
    let mut m = mem::<4>();
    m.scalars[1] = -2.0;
    m.scalars[2] = 100.0;
    m.matrices[1] = MB;
    m.matrices[2] = MA;
    exec(&mut m, Instruction::new(Op::ScalarMatrixProduct, 1, 2, 3));
    let expected = [
        [-2.0, 4.0, -6.0, 8.0],
        [-1.0, -0.0, 1.0, -4.0],
        [2.0, -16.0, -0.5, -2.0],
        [-8.0, -8.0, 6.0, -0.0],
    ];
    assert_eq!(m.matrices[3], expected);
}

#[test]
fn op30_matrix_reciprocal() {
    let x = [
        [1.0, 2.0, 4.0, 8.0],
        [-1.0, -2.0, -4.0, -8.0],
        [0.5, 0.25, 0.125, 0.0],
        [10.0, -0.5, 1.0, -1.0],
    ];
    let expected = [
        [1.0, 0.5, 0.25, 0.125],
        [-1.0, -0.5, -0.25, -0.125],
        [2.0, 4.0, 8.0, f64::INFINITY],
        [0.1, -2.0, 1.0, -1.0],
    ];
    assert_eq!(matrix_unary(Op::MatrixReciprocal, x), expected);
}

#[test]
fn op31_matrix_vector_product_dots_each_row_with_the_vector() {
    let mut m = mem::<4>();
    m.matrices[1] = [
        [1.0, 2.0, 3.0, 4.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [1.0, 1.0, 1.0, 1.0],
    ];
    m.vectors[2] = [1.0, 10.0, 100.0, 1000.0];
    exec(&mut m, Instruction::new(Op::MatrixVectorProduct, 1, 2, 3));
    // out[i] = row i . v  (columns would give [1001, 1012, 1003, 1004])
    assert_eq!(m.vectors[3], [4321.0, 10.0, 0.0, 1111.0]);
}

#[test]
fn op31_matrix_vector_product_at_f2() {
    let mut m = mem::<2>();
    m.matrices[0] = [[1.0, 2.0], [3.0, 4.0]];
    m.vectors[1] = [5.0, 6.0];
    exec(&mut m, Instruction::new(Op::MatrixVectorProduct, 0, 1, 2));
    assert_eq!(m.vectors[2], [17.0, 39.0]);
}

#[test]
fn op32_vector_column_broadcast_makes_every_column_the_vector() {
    let mut m = mem::<4>();
    m.vectors[1] = [1.0, 2.0, 3.0, 4.0];
    exec(&mut m, Instruction::unary(Op::VectorColumnBroadcast, 1, 2));
    let expected = [
        [1.0, 1.0, 1.0, 1.0],
        [2.0, 2.0, 2.0, 2.0],
        [3.0, 3.0, 3.0, 3.0],
        [4.0, 4.0, 4.0, 4.0],
    ];
    assert_eq!(m.matrices[2], expected);
}

#[test]
fn op33_vector_row_broadcast_makes_every_row_the_vector() {
    let mut m = mem::<4>();
    m.vectors[1] = [1.0, 2.0, 3.0, 4.0];
    exec(&mut m, Instruction::unary(Op::VectorRowBroadcast, 1, 2));
    assert_eq!(m.matrices[2], [[1.0, 2.0, 3.0, 4.0]; 4]);
}

#[test]
fn op34_matrix_norm_is_frobenius() {
    let mut m = mem::<4>();
    m.matrices[1] = [[1.0, -1.0, 1.0, -1.0]; 4];
    exec(&mut m, Instruction::unary(Op::MatrixNorm, 1, 2));
    assert_eq!(m.scalars[2], 4.0);
    m.matrices[1] = [
        [3.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, -4.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ];
    exec(&mut m, Instruction::unary(Op::MatrixNorm, 1, 2));
    assert_eq!(m.scalars[2], 5.0);
}

/// Rows: [3,0,0,0], [4,0,1,0], [0,0,0,2], [0,0,0,0].
/// Column norms: 5, 0, 1, 2.  Row norms: 3, sqrt(17), 2, 0.
const NORMS: M4 = [
    [3.0, 0.0, 0.0, 0.0],
    [4.0, 0.0, 1.0, 0.0],
    [0.0, 0.0, 0.0, 2.0],
    [0.0, 0.0, 0.0, 0.0],
];

#[test]
fn op35_matrix_column_norm() {
    let mut m = mem::<4>();
    m.matrices[1] = NORMS;
    exec(&mut m, Instruction::unary(Op::MatrixColumnNorm, 1, 2));
    assert_eq!(m.vectors[2], [5.0, 0.0, 1.0, 2.0]);
}

#[test]
fn op36_matrix_row_norm() {
    let mut m = mem::<4>();
    m.matrices[1] = NORMS;
    exec(&mut m, Instruction::unary(Op::MatrixRowNorm, 1, 2));
    close_v(&m.vectors[2], &[3.0, 17f64.sqrt(), 2.0, 0.0]);
}

#[test]
fn op37_matrix_transpose() {
    let t = matrix_unary(Op::MatrixTranspose, MA);
    let expected = [
        [1.0, 0.5, -1.0, 4.0],
        [-2.0, 0.0, 8.0, 4.0],
        [3.0, -0.5, 0.25, -3.0],
        [-4.0, 2.0, 1.0, 0.0],
    ];
    assert_eq!(t, expected);
}

#[test]
fn op37_matrix_transpose_in_place() {
    let mut m = mem::<4>();
    m.matrices[2] = MA;
    exec(&mut m, Instruction::unary(Op::MatrixTranspose, 2, 2));
    let expected = [
        [1.0, 0.5, -1.0, 4.0],
        [-2.0, 0.0, 8.0, 4.0],
        [3.0, -0.5, 0.25, -3.0],
        [-4.0, 2.0, 1.0, 0.0],
    ];
    close_m(&m.matrices[2], &expected);
    exec(&mut m, Instruction::unary(Op::MatrixTranspose, 2, 2));
    assert_eq!(m.matrices[2], MA);
}

#[test]
fn op38_matrix_abs() {
    let expected = [
        [1.0, 2.0, 3.0, 4.0],
        [0.5, 0.0, 0.5, 2.0],
        [1.0, 8.0, 0.25, 1.0],
        [4.0, 4.0, 3.0, 0.0],
    ];
    assert_eq!(matrix_unary(Op::MatrixAbs, MA), expected);
}

#[test]
fn op39_matrix_sum() {
    let expected = [
        [3.0, -1.0, 2.0, -3.5],
        [4.5, -4.0, 1.5, 3.0],
        [-0.5, 10.0, 0.5, -7.0],
        [2.0, 4.5, 0.0, 1.0],
    ];
    assert_eq!(matrix_binary(Op::MatrixSum, MA, MB), expected);
}

#[test]
fn op40_matrix_diff_is_in1_minus_in2() {
    let expected = [
        [-1.0, -3.0, 4.0, -4.5],
        [-3.5, 4.0, -2.5, 1.0],
        [-1.5, 6.0, 0.0, 9.0],
        [6.0, 3.5, -6.0, -1.0],
    ];
    assert_eq!(matrix_binary(Op::MatrixDiff, MA, MB), expected);
}

#[test]
fn op41_matrix_product_is_element_wise() {
    let expected = [
        [2.0, -2.0, -3.0, -2.0],
        [2.0, 0.0, -1.0, 2.0],
        [-0.5, 16.0, 0.0625, -8.0],
        [-8.0, 2.0, -9.0, 0.0],
    ];
    assert_eq!(matrix_binary(Op::MatrixProduct, MA, MB), expected);
}

#[test]
fn op42_matrix_division_is_element_wise_in1_over_in2() {
    let expected = [
        [0.5, -2.0, -3.0, -8.0],
        [0.125, 0.0, -0.25, 2.0],
        [-2.0, 4.0, 1.0, -0.125],
        [-2.0, 8.0, -1.0, 0.0],
    ];
    assert_eq!(matrix_binary(Op::MatrixDivision, MA, MB), expected);
    let by_zero = matrix_binary(Op::MatrixDivision, MA, [[0.0; 4]; 4]);
    assert_eq!(by_zero[0][0], f64::INFINITY);
    assert_eq!(by_zero[0][1], f64::NEG_INFINITY);
    assert!(by_zero[1][1].is_nan());
}

#[test]
fn op43_matrix_matrix_product_is_a_times_b() {
    let a = [
        [1.0, 2.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0, 0.0],
    ];
    let b = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [2.0, 3.0, 4.0, 5.0],
    ];
    // A·B (B·A would be rows [1,2,0,0], [0,1,0,0], [0,0,0,1], [7,7,0,4]).
    let expected = [
        [1.0, 2.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [2.0, 3.0, 4.0, 5.0],
        [1.0, 0.0, 0.0, 0.0],
    ];
    assert_eq!(matrix_binary(Op::MatrixMatrixProduct, a, b), expected);
}

#[test]
fn op43_matrix_matrix_product_at_f2_and_in_place() {
    let mut m = mem::<2>();
    m.matrices[1] = [[1.0, 2.0], [3.0, 4.0]];
    m.matrices[2] = [[5.0, 6.0], [7.0, 8.0]];
    exec(&mut m, Instruction::new(Op::MatrixMatrixProduct, 1, 2, 3));
    assert_eq!(m.matrices[3], [[19.0, 22.0], [43.0, 50.0]]);
    // Output aliasing an input: m1 = m1 · m1.
    exec(&mut m, Instruction::new(Op::MatrixMatrixProduct, 1, 1, 1));
    assert_eq!(m.matrices[1], [[7.0, 10.0], [15.0, 22.0]]);
}

// ---------------------------------------------------------------------------------------------
// 44-49: min and max

#[test]
fn op44_scalar_min() {
    assert_eq!(scalar_binary(Op::ScalarMin, 2.0, -1.0), -1.0);
    assert_eq!(scalar_binary(Op::ScalarMin, -3.0, 5.0), -3.0);
}

#[test]
fn op45_vector_min() {
    assert_eq!(
        vector_binary(Op::VectorMin, [1.0, -2.0, 3.0, 0.0], [0.5, 2.0, 3.0, -0.25]),
        [0.5, -2.0, 3.0, -0.25]
    );
}

#[test]
fn op46_matrix_min() {
    let expected = [
        [1.0, -2.0, -1.0, -4.0],
        [0.5, -4.0, -0.5, 1.0],
        [-1.0, 2.0, 0.25, -8.0],
        [-2.0, 0.5, -3.0, 0.0],
    ];
    assert_eq!(matrix_binary(Op::MatrixMin, MA, MB), expected);
}

#[test]
fn op47_scalar_max() {
    assert_eq!(scalar_binary(Op::ScalarMax, 2.0, -1.0), 2.0);
    assert_eq!(scalar_binary(Op::ScalarMax, -3.0, 5.0), 5.0);
}

#[test]
fn op48_vector_max() {
    assert_eq!(
        vector_binary(Op::VectorMax, [1.0, -2.0, 3.0, 0.0], [0.5, 2.0, 3.0, -0.25]),
        [1.0, 2.0, 3.0, 0.0]
    );
}

#[test]
fn op49_matrix_max() {
    let expected = [
        [2.0, 1.0, 3.0, 0.5],
        [4.0, 0.0, 2.0, 2.0],
        [0.5, 8.0, 0.25, 1.0],
        [4.0, 4.0, 3.0, 1.0],
    ];
    assert_eq!(matrix_binary(Op::MatrixMax, MA, MB), expected);
}

// ---------------------------------------------------------------------------------------------
// 50-55: means and standard deviations

#[test]
fn op50_vector_mean() {
    let mut m = mem::<4>();
    m.vectors[1] = [1.0, 2.0, 3.0, 6.0];
    exec(&mut m, Instruction::unary(Op::VectorMean, 1, 2));
    assert_eq!(m.scalars[2], 3.0);
}

#[test]
fn op50_vector_mean_at_f8() {
    let mut m = mem::<8>();
    m.vectors[1] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    exec(&mut m, Instruction::unary(Op::VectorMean, 1, 2));
    assert_eq!(m.scalars[2], 4.5);
}

#[test]
fn op51_matrix_mean_over_all_elements() {
    let mut m = mem::<4>();
    // Sum of MA: row sums -2, 2, 8.25, 5 -> 13.25; / 16 = 0.828125.
    m.matrices[1] = MA;
    exec(&mut m, Instruction::unary(Op::MatrixMean, 1, 2));
    assert_eq!(m.scalars[2], 0.828125);
}

#[test]
fn op52_matrix_row_mean() {
    let mut m = mem::<4>();
    m.matrices[1] = MA;
    exec(&mut m, Instruction::unary(Op::MatrixRowMean, 1, 2));
    assert_eq!(m.vectors[2], [-0.5, 0.5, 2.0625, 1.25]);
}

#[test]
fn op53_matrix_row_st_dev() {
    let mut m = mem::<4>();
    m.matrices[1] = [
        [2.0, 2.0, 2.0, 2.0],   // constant: exactly 0
        [1.0, 3.0, 1.0, 3.0],   // mean 2, mean of squares 5 -> 1
        [0.0, 0.0, 0.0, 4.0],   // mean 1, mean of squares 4 -> sqrt(3)
        [-1.0, 1.0, -1.0, 1.0], // mean 0, mean of squares 1 -> 1
    ];
    exec(&mut m, Instruction::unary(Op::MatrixRowStDev, 1, 2));
    assert_eq!(m.vectors[2][0], 0.0);
    assert_eq!(m.vectors[2][1], 1.0);
    close(m.vectors[2][2], 3f64.sqrt());
    assert_eq!(m.vectors[2][3], 1.0);
}

#[test]
fn op54_vector_st_dev_is_population_std() {
    let mut m = mem::<4>();
    m.vectors[1] = [1.0, 3.0, 1.0, 3.0];
    exec(&mut m, Instruction::unary(Op::VectorStDev, 1, 2));
    assert_eq!(m.scalars[2], 1.0);
    m.vectors[1] = [0.0, 0.0, 0.0, 4.0];
    exec(&mut m, Instruction::unary(Op::VectorStDev, 1, 2));
    close(m.scalars[2], 3f64.sqrt());
}

#[test]
fn op54_vector_st_dev_of_a_constant_vector_is_zero() {
    // 2.0 is exact: dot/F = 4, mean^2 = 4, so the difference is exactly 0 (no NaN).
    let mut m = mem::<4>();
    m.vectors[1] = [2.0; 4];
    m.scalars[2] = 9.0;
    exec(&mut m, Instruction::unary(Op::VectorStDev, 1, 2));
    assert_eq!(m.scalars[2], 0.0);
}

#[test]
fn op55_matrix_st_dev() {
    let mut m = mem::<4>();
    m.matrices[1] = [[2.0; 4]; 4];
    m.scalars[2] = 9.0;
    exec(&mut m, Instruction::unary(Op::MatrixStDev, 1, 2));
    assert_eq!(m.scalars[2], 0.0);
    // Half 1s and half 3s: mean 2, mean of squares 5 -> 1.
    m.matrices[1] = [
        [1.0, 3.0, 1.0, 3.0],
        [3.0, 1.0, 3.0, 1.0],
        [1.0, 1.0, 3.0, 3.0],
        [3.0, 3.0, 1.0, 1.0],
    ];
    exec(&mut m, Instruction::unary(Op::MatrixStDev, 1, 2));
    assert_eq!(m.scalars[2], 1.0);
    // One 8 among zeros: mean 0.5, mean of squares 4 -> sqrt(3.75).
    let mut one = [[0.0; 4]; 4];
    one[2][1] = 8.0;
    m.matrices[1] = one;
    exec(&mut m, Instruction::unary(Op::MatrixStDev, 1, 2));
    close(m.scalars[2], 3.75f64.sqrt());
}

// ---------------------------------------------------------------------------------------------
// 56-58: constant sets

#[test]
fn op56_scalar_const_set() {
    let mut m = mem::<4>();
    m.scalars[1] = 7.0;
    exec(&mut m, Instruction::constant(2, -0.3));
    assert_eq!(m.scalars[2], -0.3);
    assert_eq!(m.scalars[1], 7.0);
    // The activation is an f64: no rounding through f32.
    exec(&mut m, Instruction::constant(2, 0.1));
    assert_eq!(m.scalars[2], 0.1);
}

#[test]
fn op57_vector_const_set_changes_exactly_one_element() {
    // (index fraction, element index at F = 4): floor(4 f).
    for (f, index) in [
        (0.0, 0),
        (0.24, 0),
        (0.25, 1),
        (0.5, 2),
        (0.74, 2),
        (0.75, 3),
        (0.999, 3),
    ] {
        let mut m = mem::<4>();
        m.vectors[3] = [10.0, 20.0, 30.0, 40.0];
        exec(
            &mut m,
            Instruction::set(Op::VectorConstSet, 3, [f, -1.5, 0.0]),
        );
        let mut expected = [10.0, 20.0, 30.0, 40.0];
        expected[index] = -1.5;
        assert_eq!(m.vectors[3], expected, "index fraction {f}");
    }
}

#[test]
fn op57_vector_const_set_at_f2_and_f8() {
    let mut m2 = mem::<2>();
    m2.vectors[1] = [5.0, 6.0];
    exec(
        &mut m2,
        Instruction::set(Op::VectorConstSet, 1, [0.5, 0.25, 0.0]),
    );
    assert_eq!(m2.vectors[1], [5.0, 0.25]);
    exec(
        &mut m2,
        Instruction::set(Op::VectorConstSet, 1, [0.49, 2.0, 0.0]),
    );
    assert_eq!(m2.vectors[1], [2.0, 0.25]);

    let mut m8 = mem::<8>();
    m8.vectors[1] = [1.0; 8];
    // floor(8 * 0.3) = 2
    exec(
        &mut m8,
        Instruction::set(Op::VectorConstSet, 1, [0.3, -4.0, 0.0]),
    );
    assert_eq!(m8.vectors[1], [1.0, 1.0, -4.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    // floor(8 * 0.9375) = 7
    exec(
        &mut m8,
        Instruction::set(Op::VectorConstSet, 1, [0.9375, 3.0, 0.0]),
    );
    assert_eq!(m8.vectors[1], [1.0, 1.0, -4.0, 1.0, 1.0, 1.0, 1.0, 3.0]);
}

#[test]
fn op58_matrix_const_set_changes_exactly_one_element() {
    let mut m = mem::<4>();
    m.matrices[1] = MA;
    // row floor(4 * 0.25) = 1, column floor(4 * 0.75) = 3
    exec(
        &mut m,
        Instruction::set(Op::MatrixConstSet, 1, [0.25, 0.75, 2.5]),
    );
    let mut expected = MA;
    expected[1][3] = 2.5;
    assert_eq!(m.matrices[1], expected);
    // row 3, column 0: the first fraction is the row.
    exec(
        &mut m,
        Instruction::set(Op::MatrixConstSet, 1, [0.8, 0.1, -7.0]),
    );
    expected[3][0] = -7.0;
    assert_eq!(m.matrices[1], expected);
}

#[test]
fn op58_matrix_const_set_at_f8() {
    let mut m = mem::<8>();
    // row floor(8 * 0.5) = 4, column floor(8 * 0.125) = 1
    exec(
        &mut m,
        Instruction::set(Op::MatrixConstSet, 2, [0.5, 0.125, 1.5]),
    );
    let mut expected = [[0.0; 8]; 8];
    expected[4][1] = 1.5;
    assert_eq!(m.matrices[2], expected);
}

// ---------------------------------------------------------------------------------------------
// 59-64: random sets

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn assert_uniform(xs: &[f64], lo: f64, hi: f64) {
    for &x in xs {
        assert!(x > lo && x < hi, "{x} is outside ({lo}, {hi})");
    }
    let (mean, sd) = mean_sd(xs);
    // Uniform(lo, hi): mean (lo + hi) / 2, sd (hi - lo) / sqrt(12).
    let expected_sd = (hi - lo) / 12f64.sqrt();
    assert!(
        (mean - (lo + hi) / 2.0).abs() < 0.05 * (hi - lo),
        "mean {mean}"
    );
    assert!((sd - expected_sd).abs() < 0.05 * expected_sd, "sd {sd}");
    let distinct = xs.iter().filter(|&&x| x != xs[0]).count();
    assert!(distinct > xs.len() / 2, "draws are not random");
}

fn assert_gaussian(xs: &[f64], mean: f64, sd: f64) {
    let (m, s) = mean_sd(xs);
    assert!(
        (m - mean).abs() < 0.05 * sd.max(0.1),
        "mean {m}, expected {mean}"
    );
    assert!((s - sd).abs() < 0.05 * sd, "sd {s}, expected {sd}");
    assert!(xs.iter().all(|x| x.is_finite()));
}

#[test]
fn op59_scalar_uniform_set_stays_in_range() {
    let mut m = mem::<4>();
    let mut rng = MtRng::new(71);
    let ins = Instruction::set(Op::ScalarUniformSet, 2, [-0.5, 2.0, 0.0]);
    let xs: Vec<f64> = (0..5000)
        .map(|_| {
            exec_rng(&mut m, ins, &mut rng);
            m.scalars[2]
        })
        .collect();
    assert_uniform(&xs, -0.5, 2.0);
}

#[test]
fn op60_vector_uniform_set_draws_every_element_in_range() {
    let mut m = mem::<32>();
    let mut rng = MtRng::new(72);
    let ins = Instruction::set(Op::VectorUniformSet, 1, [-1.0, 0.25, 0.0]);
    let mut xs = Vec::new();
    for _ in 0..100 {
        exec_rng(&mut m, ins, &mut rng);
        xs.extend_from_slice(&m.vectors[1]);
    }
    assert_uniform(&xs, -1.0, 0.25);
    // Elements of one draw differ.
    assert!(m.vectors[1].iter().any(|&x| x != m.vectors[1][0]));
}

#[test]
fn op61_matrix_uniform_set_draws_every_element_in_range() {
    let mut m = mem::<32>();
    let mut rng = MtRng::new(73);
    let ins = Instruction::set(Op::MatrixUniformSet, 0, [3.0, 5.0, 0.0]);
    let mut xs = Vec::new();
    for _ in 0..5 {
        exec_rng(&mut m, ins, &mut rng);
        xs.extend(m.matrices[0].iter().flatten());
    }
    assert_uniform(&xs, 3.0, 5.0);
}

#[test]
fn uniform_set_ops_stay_within_range_at_f4() {
    let mut m = mem::<4>();
    let mut rng = MtRng::new(33);
    for _ in 0..200 {
        exec_rng(
            &mut m,
            Instruction::set(Op::VectorUniformSet, 1, [0.0, 0.5, 0.0]),
            &mut rng,
        );
        exec_rng(
            &mut m,
            Instruction::set(Op::MatrixUniformSet, 1, [-2.0, -1.0, 0.0]),
            &mut rng,
        );
        assert!(m.vectors[1].iter().all(|&x| x > 0.0 && x < 0.5));
        assert!(
            m.matrices[1]
                .iter()
                .flatten()
                .all(|&x| x > -2.0 && x < -1.0)
        );
    }
}

#[test]
fn op62_scalar_gaussian_set_statistics() {
    let mut m = mem::<4>();
    let mut rng = MtRng::new(111);
    let ins = Instruction::set(Op::ScalarGaussianSet, 3, [1.5, 0.5, 0.0]);
    let xs: Vec<f64> = (0..10000)
        .map(|_| {
            exec_rng(&mut m, ins, &mut rng);
            m.scalars[3]
        })
        .collect();
    assert_gaussian(&xs, 1.5, 0.5);
}

#[test]
fn op63_vector_gaussian_set_statistics() {
    let mut m = mem::<32>();
    let mut rng = MtRng::new(112);
    let ins = Instruction::set(Op::VectorGaussianSet, 2, [-0.75, 2.0, 0.0]);
    let mut xs = Vec::new();
    for _ in 0..200 {
        exec_rng(&mut m, ins, &mut rng);
        xs.extend_from_slice(&m.vectors[2]);
    }
    assert_gaussian(&xs, -0.75, 2.0);
}

#[test]
fn op64_matrix_gaussian_set_statistics() {
    let mut m = mem::<32>();
    let mut rng = MtRng::new(113);
    let ins = Instruction::set(Op::MatrixGaussianSet, 1, [0.0, 1.0, 0.0]);
    let mut xs = Vec::new();
    for _ in 0..8 {
        exec_rng(&mut m, ins, &mut rng);
        xs.extend(m.matrices[1].iter().flatten());
    }
    assert_gaussian(&xs, 0.0, 1.0);
}

#[test]
fn gaussian_set_with_zero_sd_gives_the_mean() {
    let mut m = mem::<4>();
    exec(
        &mut m,
        Instruction::set(Op::ScalarGaussianSet, 1, [0.25, 0.0, 0.0]),
    );
    assert_eq!(m.scalars[1], 0.25);
    exec(
        &mut m,
        Instruction::set(Op::VectorGaussianSet, 1, [-2.0, 0.0, 0.0]),
    );
    assert_eq!(m.vectors[1], [-2.0; 4]);
}

#[test]
fn random_set_ops_only_write_their_output() {
    let mut m = mem::<4>();
    m.scalars[1] = 5.0;
    m.vectors[1] = [1.0; 4];
    m.matrices[1] = MA;
    exec(
        &mut m,
        Instruction::set(Op::ScalarUniformSet, 2, [0.0, 1.0, 0.0]),
    );
    exec(
        &mut m,
        Instruction::set(Op::VectorGaussianSet, 2, [0.0, 1.0, 0.0]),
    );
    exec(
        &mut m,
        Instruction::set(Op::MatrixUniformSet, 2, [0.0, 1.0, 0.0]),
    );
    assert_eq!(m.scalars[1], 5.0);
    assert_eq!(m.vectors[1], [1.0; 4]);
    assert_eq!(m.matrices[1], MA);
}

// ---------------------------------------------------------------------------------------------
// Printed forms (SPEC 2.3 "printed as", with Rust's shortest float form for data).

#[test]
fn printed_forms_match_the_spec() {
    let cases: Vec<(Instruction, &str)> = vec![
        (Instruction::NO_OP, "NoOp()"),
        (Instruction::new(Op::ScalarDiff, 0, 1, 3), "s3 = s0 - s1"),
        (
            Instruction::new(Op::ScalarDivision, 2, 3, 4),
            "s4 = s2 / s3",
        ),
        (
            Instruction::unary(Op::ScalarReciprocal, 2, 5),
            "s5 = 1 / s2",
        ),
        (
            Instruction::unary(Op::ScalarArcsin, 2, 1),
            "s1 = arcsin(s2)",
        ),
        (
            Instruction::unary(Op::ScalarHeaviside, 2, 3),
            "s3 = heaviside(s2, 1.0)",
        ),
        (
            Instruction::unary(Op::VectorHeaviside, 2, 3),
            "v3 = heaviside(v2, 1.0)",
        ),
        (
            Instruction::unary(Op::MatrixHeaviside, 0, 1),
            "m1 = heaviside(m0, 1.0)",
        ),
        (
            Instruction::new(Op::ScalarVectorProduct, 1, 2, 3),
            "v3 = s1 * v2",
        ),
        (
            Instruction::unary(Op::ScalarBroadcast, 1, 2),
            "v2 = bcast(s1)",
        ),
        (Instruction::unary(Op::VectorNorm, 1, 2), "s2 = norm(v1)"),
        (
            Instruction::new(Op::VectorInnerProduct, 0, 2, 1),
            "s1 = dot(v0, v2)",
        ),
        (
            Instruction::new(Op::VectorOuterProduct, 0, 1, 2),
            "m2 = outer(v0, v1)",
        ),
        (
            Instruction::new(Op::ScalarMatrixProduct, 2, 1, 3),
            "m3 = s2 * m1",
        ),
        (
            Instruction::new(Op::MatrixVectorProduct, 1, 0, 3),
            "v3 = dot(m1, v0)",
        ),
        (
            Instruction::unary(Op::VectorColumnBroadcast, 2, 1),
            "m1 = bcast(v2, axis=0)",
        ),
        (
            Instruction::unary(Op::VectorRowBroadcast, 2, 1),
            "m1 = bcast(v2, axis=1)",
        ),
        (
            Instruction::unary(Op::MatrixColumnNorm, 2, 1),
            "v1 = norm(m2, axis=0)",
        ),
        (
            Instruction::unary(Op::MatrixRowNorm, 2, 1),
            "v1 = norm(m2, axis=1)",
        ),
        (
            Instruction::unary(Op::MatrixTranspose, 0, 0),
            "m0 = transpose(m0)",
        ),
        (
            Instruction::new(Op::MatrixMatrixProduct, 0, 1, 2),
            "m2 = matmul(m0, m1)",
        ),
        (
            Instruction::new(Op::ScalarMin, 1, 2, 3),
            "s3 = minimum(s1, s2)",
        ),
        (
            Instruction::new(Op::MatrixMax, 1, 2, 3),
            "m3 = maximum(m1, m2)",
        ),
        (Instruction::unary(Op::VectorMean, 1, 2), "s2 = mean(v1)"),
        (
            Instruction::unary(Op::MatrixRowMean, 0, 1),
            "v1 = mean(m0, axis=1)",
        ),
        (
            Instruction::unary(Op::MatrixRowStDev, 0, 1),
            "v1 = std(m0, axis=1)",
        ),
        (Instruction::unary(Op::VectorStDev, 0, 1), "s1 = std(v0)"),
        (Instruction::unary(Op::MatrixStDev, 0, 1), "s1 = std(m0)"),
        (Instruction::constant(2, 0.5), "s2 = 0.5"),
        (Instruction::constant(1, -3.0), "s1 = -3.0"),
        (
            Instruction::set(Op::VectorConstSet, 3, [0.25, -1.5, 0.0]),
            "v3[0.25] = -1.5",
        ),
        (
            Instruction::set(Op::MatrixConstSet, 1, [0.25, 0.75, 2.5]),
            "m1[0.25, 0.75] = 2.5",
        ),
        (
            Instruction::set(Op::ScalarUniformSet, 2, [-1.0, 1.0, 0.0]),
            "s2 = uniform(-1.0, 1.0)",
        ),
        (
            Instruction::set(Op::VectorUniformSet, 2, [-1.0, 0.5, 0.0]),
            "v2 = uniform(-1.0, 0.5, n_features)",
        ),
        (
            Instruction::set(Op::MatrixUniformSet, 0, [0.0, 1.0, 0.0]),
            "m0 = uniform(0.0, 1.0, (n_features, n_features))",
        ),
        (
            Instruction::set(Op::ScalarGaussianSet, 3, [0.5, 0.25, 0.0]),
            "s3 = gaussian(0.5, 0.25)",
        ),
        (
            Instruction::set(Op::VectorGaussianSet, 1, [0.0, 1.0, 0.0]),
            "v1 = gaussian(0.0, 1.0, n_features)",
        ),
        (
            Instruction::set(Op::MatrixGaussianSet, 0, [0.5, 0.25, 0.0]),
            "m0 = gaussian(0.5, 0.25, (n_features, n_features))",
        ),
    ];
    for (ins, text) in cases {
        assert_eq!(ins.to_string(), text, "{:?}", ins.op);
    }
}

#[test]
fn printed_algorithm_indents_instructions_under_headers() {
    let a = Algorithm {
        setup: vec![Instruction::constant(2, 0.5)],
        predict: vec![Instruction::new(Op::VectorInnerProduct, 1, 0, 1)],
        learn: vec![],
    };
    assert_eq!(
        a.to_string(),
        "def Setup():\n  s2 = 0.5\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n"
    );
}

#[test]
fn every_op_prints_its_operand_letters() {
    // Every printed line names the out address with the output kind's letter (no `?`).
    for op in Op::ALL {
        let ins = match op.class() {
            Class::Set => Instruction::set(*op, 1, [0.5, 0.5, 0.5]),
            _ => Instruction::new(*op, 1, 1, 1),
        };
        let text = ins.to_string();
        assert!(!text.contains('?'), "{op:?}: {text}");
        if let Some(kind) = op.info().output {
            assert!(
                text.starts_with(&format!("{}1", kind.letter())),
                "{op:?}: {text}"
            );
        }
    }
}
