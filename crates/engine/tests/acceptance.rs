//! Acceptance checks: the hand-written algorithms learn what they should.
//!
//! - The built-in linear algorithm solves linear regression (mean fitness above 0.9999).
//! - The built-in neural net fits the 2-layer teacher tasks (above 0.9) and beats the linear
//!   algorithm there.
//! - The linear program written as text, read from a file, solves linear regression with 1000
//!   training examples (above 0.9998).
//! - Scores are exactly reproducible.

use automl_zero_engine::builtins::{Builtin, Generator};
use automl_zero_engine::evaluation::{EvalSettings, Evaluator};
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::program::{Algorithm, parse_file};
use automl_zero_engine::rng::Rng;
use automl_zero_engine::tasks::{TaskKind, TaskSpec, build_tasks};
use std::path::Path;

const LINEAR_SIZES: MemorySizes = MemorySizes {
    scalars: 4,
    vectors: 3,
    matrices: 1,
};
const NN_SIZES: MemorySizes = MemorySizes {
    scalars: 5,
    vectors: 9,
    matrices: 2,
};
const MAX_ABS_ERROR: f64 = 100.0;
const SEED: u64 = 1;

const LINEAR_PROGRAM: &str = "\
def Setup():
  s2 = 0.01
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s3 = s3 * s2
  v2 = s3 * v0
  v1 = v1 + v2
";

fn builtin(which: Builtin, sizes: MemorySizes) -> Algorithm {
    Generator {
        sizes,
        size_init: [0; 3],
        ops: Default::default(),
    }
    .build(which, &mut Rng::new(0, 0))
    .unwrap()
}

fn evaluator(kind: TaskKind, num_train: usize, sizes: MemorySizes) -> Evaluator<4> {
    let specs = vec![TaskSpec::generated(kind, 4, num_train, 100, 10)];
    let tasks = build_tasks::<4>(&specs, "search_tasks", Path::new(".")).unwrap();
    assert_eq!(tasks.len(), 10);
    Evaluator::new(tasks, EvalSettings::plain(sizes, MAX_ABS_ERROR))
}

/// Scores twice on the same evaluator and once on a fresh one; all three must be identical.
fn reproducible_score(
    alg: &Algorithm,
    kind: TaskKind,
    num_train: usize,
    sizes: MemorySizes,
) -> f64 {
    let mut e = evaluator(kind, num_train, sizes);
    let first = e.evaluate(alg, SEED).unwrap();
    let again = e.evaluate(alg, SEED).unwrap();
    let fresh = evaluator(kind, num_train, sizes)
        .evaluate(alg, SEED)
        .unwrap();
    assert_eq!(first.to_bits(), again.to_bits(), "{first} vs {again}");
    assert_eq!(first.to_bits(), fresh.to_bits(), "{first} vs {fresh}");
    first
}

#[test]
fn builtin_linear_solves_linear_regression() {
    let alg = builtin(Builtin::Linear, LINEAR_SIZES);
    let score = reproducible_score(&alg, TaskKind::ScalarLinearRegression, 10_000, LINEAR_SIZES);
    eprintln!("linear on 10 linear tasks (10000 train): {score}");
    assert!(score > 0.9999, "{score}");
}

#[test]
fn builtin_neural_net_fits_the_teacher_and_beats_linear() {
    let kind = TaskKind::Scalar2layerNnRegression;
    let nn = builtin(Builtin::NeuralNet, NN_SIZES);
    assert!(nn.has_random_ops());
    let linear = builtin(Builtin::Linear, NN_SIZES);
    let nn_score = reproducible_score(&nn, kind, 10_000, NN_SIZES);
    let linear_score = reproducible_score(&linear, kind, 10_000, NN_SIZES);
    eprintln!("on 10 teacher tasks (10000 train): neural_net {nn_score}, linear {linear_score}");
    assert!(nn_score > 0.9, "neural_net {nn_score}");
    assert!(
        nn_score > linear_score,
        "neural_net {nn_score} <= linear {linear_score}"
    );
}

#[test]
fn linear_program_from_a_file_solves_linear_regression() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("linear.txt");
    std::fs::write(&path, LINEAR_PROGRAM).unwrap();
    let alg = parse_file(&path, &LINEAR_SIZES).unwrap();
    assert_eq!(alg.to_string(), LINEAR_PROGRAM);
    let score = reproducible_score(&alg, TaskKind::ScalarLinearRegression, 1000, LINEAR_SIZES);
    eprintln!("linear program file on 10 linear tasks (1000 train): {score}");
    assert!(score > 0.9998, "{score}");
}

#[test]
fn random_ops_follow_the_seed() {
    // Same seed: same score (checked above); a different seed draws other initial weights.
    let kind = TaskKind::Scalar2layerNnRegression;
    let nn = builtin(Builtin::NeuralNet, NN_SIZES);
    let mut e = evaluator(kind, 100, NN_SIZES);
    let a = e.evaluate(&nn, SEED).unwrap();
    let b = e.evaluate(&nn, SEED).unwrap();
    let c = e.evaluate(&nn, SEED + 1).unwrap();
    assert_eq!(a.to_bits(), b.to_bits());
    assert_ne!(a.to_bits(), c.to_bits());
}
