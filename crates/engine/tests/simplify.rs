//! Simplification keeps what a program computes:
//!
//! - the demo-style linear regression program with junk simplifies to the six instructions of
//!   linear regression by gradient descent, and a program found by the demo to twelve, both
//!   with unchanged fitness;
//! - for random programs over every non-random op, the simplified program gives bit-identical
//!   errors on every example of the first epoch and the same fitness, on regression and
//!   classification tasks, and simplifying twice changes nothing.

use automl_zero_engine::evaluation::{Errors, EvalSettings, Evaluator, execute};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::{Algorithm, Component, Instruction, parse};
use automl_zero_engine::rng::{MtRng, Rng};
use automl_zero_engine::simplify::simplify;
use automl_zero_engine::tasks::{EvalType, Task, TaskKind, TaskSpec, build_tasks};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use std::path::Path;

const DEMO_SIZES: MemorySizes = MemorySizes {
    scalars: 4,
    vectors: 3,
    matrices: 1,
};

/// Linear regression as the demo finds it: Setup 10, Predict 2, Learn 8 instructions, most of
/// them junk (dead, or writing values already held).
const DEMO_STYLE: &str = "\
def Setup():
  s3 = 0.5
  s2 = s3 * s3
  v2 = s0 * v1
  s1 = dot(v0, v2)
  v1 = v2 + v1
  s3 = 0.0
  v2 = s3 * v0
  s2 = s2 * s2
  v1 = v1 + v2
  s2 = 0.0625
def Predict():
  s3 = s0 - s1
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  v2 = s1 * v0
  s3 = s3 * s2
  s1 = s2 * s3
  v2 = s3 * v0
  s2 = 0.0625
  v1 = v2 + v1
  s1 = dot(v2, v2)
";

/// What a search of the demo found (`automl-zero search --seed 7`).
const DEMO_FOUND: &str = "\
def Setup():
  s2 = s2 - s1
  s2 = -0.14235128776926387
  s3 = 3.247995770654643
  v1 = v1 + v0
  s3 = s0 - s3
  v1 = s0 * v1
  v2 = v1 + v0
  v2 = s3 * v2
  v2 = s2 * v1
  v2 = v2 + v0
def Predict():
  s3 = s0 * s3
  s1 = dot(v0, v1)
def Learn():
  v1 = s1 * v0
  s3 = s3 - s0
  v1 = v1 + v2
  v2 = s3 * v0
  v2 = v2 + v1
  v1 = v2 + v2
  v1 = s2 * v1
  s2 = -0.0742712169272289
";

fn demo_evaluator() -> Evaluator<4> {
    let specs = vec![TaskSpec::generated(
        TaskKind::ScalarLinearRegression,
        4,
        100,
        100,
        10,
    )];
    let tasks = build_tasks::<4>(&specs, "search_tasks", Path::new(".")).unwrap();
    Evaluator::new(tasks, EvalSettings::plain(DEMO_SIZES, 100.0))
}

#[test]
fn the_demo_style_linear_program_simplifies_to_six_instructions() {
    let original = parse(DEMO_STYLE, &DEMO_SIZES).unwrap();
    let s = simplify(&original);
    assert_eq!(
        s.algorithm.to_string(),
        "def Setup():\n  s2 = 0.0625\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v2 + v1\n"
    );
    assert!(s.algorithm.len() <= 6);
    assert_eq!((s.total, s.live), (20, 12));
    let mut e = demo_evaluator();
    let before = e.evaluate_tasks(&original, 1, 0..10).unwrap();
    let after = e.evaluate_tasks(&s.algorithm, 1, 0..10).unwrap();
    assert_eq!(before, after);
    assert!(before.iter().all(|f| *f > 0.99), "{before:?}");
}

#[test]
fn a_program_found_by_the_demo_keeps_its_fitness() {
    let original = parse(DEMO_FOUND, &DEMO_SIZES).unwrap();
    let s = simplify(&original);
    // The first Learn uses another learning rate than the later ones, and the sign of the
    // zero in s3 reaches the weights when a label is 0: both stay.
    assert_eq!(
        s.algorithm.to_string(),
        "def Setup():\n  s2 = -0.14235128776926387\n  s3 = -3.247995770654643\ndef Predict():\n  s3 = s0 * s3\n  s1 = dot(v0, v1)\ndef Learn():\n  v1 = s1 * v0\n  s3 = s3 - s0\n  v1 = v1 + v2\n  v2 = s3 * v0\n  v2 = v2 + v1\n  v1 = v2 + v2\n  v1 = s2 * v1\n  s2 = -0.0742712169272289\n"
    );
    assert_eq!((s.total, s.live, s.algorithm.len()), (20, 17, 12));
    let mut e = demo_evaluator();
    let before = e.evaluate_tasks(&original, 1, 0..10).unwrap();
    let after = e.evaluate_tasks(&s.algorithm, 1, 0..10).unwrap();
    assert_eq!(before, after);
    assert!(
        s.annotated()
            .contains("# the prediction: the features (v0) · the weights v1")
    );
}

#[test]
fn notes_follow_what_s1_and_a_rate_hold_at_each_point() {
    // Learn overwrites s1 with a constant before reading it again, and sets the rate s2 that
    // Predict resets every example: neither later read is "the prediction", and the rate
    // holds only for the rest of this Learn.
    let a = parse(
        "def Setup():
  s1 = 0.5
def Predict():
  s2 = 0.25
  s1 = s1 * s2
def Learn():
  s3 = s3 - s1
  s1 = 2.0
  s2 = 1.5
  s1 = s3 - s1
  s3 = s2 - s0
  s3 = s3 * s2
  s1 = s1 * s3
",
        &DEMO_SIZES,
    )
    .unwrap();
    let s = simplify(&a);
    let text = s.annotated();
    let line = |code: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(code))
            .unwrap_or_else(|| panic!("no `{code}` in\n{text}"))
            .to_string()
    };
    assert!(
        line("s3 = s3 - s1").contains("reads the prediction (s1)"),
        "{text}"
    );
    assert!(
        !line("s1 = s3 - s1").contains("reads the prediction"),
        "{text}"
    );
    assert!(
        line("s2 = 1.5").contains("for the rest of this Learn"),
        "{text}"
    );
}

/// Small tasks of both eval types: linear regression with two epochs, and a classification
/// of the sign of a linear function.
fn tasks() -> Vec<Task<4>> {
    let mut spec = TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 20, 10, 1);
    spec.num_train_epochs = 2;
    let mut tasks = build_tasks::<4>(&[spec], "tasks", Path::new(".")).unwrap();
    let mut rng = Rng::new(3, 0);
    let mut examples = |n: usize| {
        let xs: Vec<[f64; 4]> = (0..n)
            .map(|_| std::array::from_fn(|_| rng.normal()))
            .collect();
        let ys = xs
            .iter()
            .map(|x| f64::from(x[0] - 0.5 * x[2] > 0.0))
            .collect();
        (xs, ys)
    };
    let (train, valid) = (examples(20), examples(10));
    tasks.push(Task::new(1, EvalType::Accuracy, train, valid, 2, (5, 6)));
    tasks
}

/// Every op except the random ones.
fn deterministic_ops() -> Vec<Op> {
    Op::ALL
        .iter()
        .copied()
        .filter(|op| !op.info().random)
        .collect()
}

const SIZES: MemorySizes = MemorySizes {
    scalars: 6,
    vectors: 5,
    matrices: 3,
};

/// A random program: sizes of each component up to 8, ops uniform over the deterministic ones
/// with extra constant sets, and now and then a write to s0 or v0.
fn random_program(seed: u64) -> Algorithm {
    let ops = deterministic_ops();
    let mut rng = Rng::new(seed, 0);
    let mut a = Algorithm::default();
    for c in Component::ALL {
        let n = rng.below(9);
        for _ in 0..n {
            let op = if rng.chance(0.2) {
                [Op::ScalarConstSet, Op::VectorConstSet, Op::MatrixConstSet][rng.below(3)]
            } else {
                ops[rng.below(ops.len())]
            };
            let mut ins = Instruction::random(op, &SIZES, &mut rng);
            if rng.chance(0.05)
                && ins.op.info().output != Some(automl_zero_engine::ops::Kind::Matrix)
            {
                ins.out = 0;
            }
            if ins.op == Op::ScalarConstSet && rng.chance(0.3) {
                ins.activation = [0.0, -0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY][rng.below(5)];
            }
            a.component_mut(c).push(ins);
        }
    }
    a
}

/// The fitness and first-epoch errors of an algorithm on a task.
fn run(a: &Algorithm, task: &Task<4>) -> (f64, Errors) {
    let program = Program::compile(a, &SIZES, 4).unwrap();
    let mut memory = Memory::<4>::new(SIZES);
    let mut errors = Errors::default();
    let outcome = execute(
        &program,
        task,
        task.max_train_examples(),
        task.valid_steps(),
        100.0,
        &mut memory,
        &mut MtRng::new(0),
        Some(&mut errors),
    );
    (outcome.fitness, errors)
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

#[test]
fn random_programs_are_sometimes_simplified_a_lot() {
    // A sanity check of the property test's inputs: they exercise folding and dropping.
    let (mut folded, mut dropped, mut nonzero) = (0, 0, 0);
    let tasks = tasks();
    for seed in 0..200 {
        let s = simplify(&random_program(seed));
        folded += s.folded;
        dropped += s.dropped;
        nonzero += usize::from(run(&s.algorithm, &tasks[0]).0 > 0.0);
    }
    assert!(
        folded > 20 && dropped > 20 && nonzero > 20,
        "{folded} {dropped} {nonzero}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn simplify_keeps_fitness_and_errors_and_is_idempotent(seed in any::<u64>()) {
        let original = random_program(seed);
        let s = simplify(&original);
        prop_assert!(s.algorithm.len() <= original.len());
        prop_assert!(s.algorithm.check(&SIZES).is_ok());
        for task in &tasks() {
            let (f0, e0) = run(&original, task);
            let (f1, e1) = run(&s.algorithm, task);
            prop_assert_eq!(f0.to_bits(), f1.to_bits(), "{}\n{}", original, s.algorithm);
            prop_assert!(same_bits(&e0.train, &e1.train), "{}\n{}", original, s.algorithm);
            prop_assert!(same_bits(&e0.valid, &e1.valid), "{}\n{}", original, s.algorithm);
        }
        let again = simplify(&s.algorithm);
        prop_assert_eq!(again.algorithm.to_string(), s.algorithm.to_string());
        prop_assert_eq!((again.folded, again.dropped), (0, 0));
    }
}
