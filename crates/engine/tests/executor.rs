//! The executor's golden facts (SPEC 4.7) and its other documented behaviour (SPEC 4.3-4.5):
//! early stopping, the ACCURACY quirks, validation on the full validation size, and the best
//! fitness over epochs.

use automl_zero_engine::evaluation::{Combination, Errors, Outcome, execute, flip_and_squash};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::{Algorithm, Instruction};
use automl_zero_engine::rng::MtRng;
use automl_zero_engine::tasks::{EvalType, Task, TaskKind, TaskSpec, build_tasks};
use std::path::Path;

mod common;

const SIZES: MemorySizes = MemorySizes {
    scalars: 8,
    vectors: 4,
    matrices: 2,
};
const NUM_TRAIN: usize = 1000;
const NUM_VALID: usize = 100;
/// The SearchExperimentSpec default.
const MAX_ABS_ERROR: f64 = 100.0;
/// A bound no test reaches (the original's tests use 1e9 where they count examples).
const LARGE_MAX_ABS_ERROR: f64 = 1e9;

const S_LABEL: u16 = 0;
const S_PREDICTION: u16 = 1;

/// FlipAndSquash written out independently of the engine: 1 - (2/π) atan(x).
fn fas(x: f64) -> f64 {
    1.0 - 2.0 / std::f64::consts::PI * x.atan()
}

/// The logistic function written out independently of the engine.
fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A no-op padded algorithm (SPEC 4.7): three no-ops in each component.
fn no_op_algorithm() -> Algorithm {
    let mut a = Algorithm::default();
    a.pad([3, 3, 3]);
    a
}

/// A no-op padded algorithm with instructions placed into its components.
fn algorithm(setup: &[Instruction], predict: &[Instruction], learn: &[Instruction]) -> Algorithm {
    let mut a = no_op_algorithm();
    for (list, extra) in [
        (&mut a.setup, setup),
        (&mut a.predict, predict),
        (&mut a.learn, learn),
    ] {
        for (i, ins) in extra.iter().enumerate() {
            // Keep a no-op before and after, as the original's tests do.
            list.insert(2 * i + 1, *ins);
        }
    }
    a
}

fn spec(kind: TaskKind, num_train: usize, num_valid: usize) -> TaskSpec {
    TaskSpec::generated(kind, 4, num_train, num_valid, 1)
}

fn task(spec: TaskSpec) -> Task<4> {
    let mut tasks = build_tasks::<4>(&[spec], "search_tasks", Path::new(".")).unwrap();
    assert_eq!(tasks.len(), 1);
    tasks.remove(0)
}

fn ones(num_train: usize, num_valid: usize) -> Task<4> {
    task(spec(TaskKind::UnitTestOnes, num_train, num_valid))
}

fn increment(num_train: usize, num_valid: usize, inc: Option<f64>) -> Task<4> {
    let mut s = spec(TaskKind::UnitTestIncrement, num_train, num_valid);
    s.increment = inc;
    task(s)
}

fn accuracy_ones(num_train: usize, num_valid: usize) -> Task<4> {
    let mut s = spec(TaskKind::UnitTestOnes, num_train, num_valid);
    s.eval_type = EvalType::Accuracy;
    task(s)
}

/// The result of a run: the outcome and the memory afterwards.
struct Run {
    outcome: Outcome,
    memory: Memory<4>,
}

fn run_with(
    a: &Algorithm,
    task: &Task<4>,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    errors: Option<&mut Errors>,
) -> Run {
    let program = Program::compile(a, &SIZES, 4).unwrap();
    let mut memory = Memory::<4>::new(SIZES);
    let mut rng = MtRng::new(00);
    let outcome = execute(
        &program,
        task,
        num_train,
        num_valid,
        max_abs_error,
        &mut memory,
        &mut rng,
        errors,
    );
    assert!(
        (0.0..=1.0).contains(&outcome.fitness),
        "fitness {} is outside [0, 1]",
        outcome.fitness
    );
    Run { outcome, memory }
}

fn run_large(a: &Algorithm, task: &Task<4>) -> Run {
    run_with(a, task, NUM_TRAIN, NUM_VALID, LARGE_MAX_ABS_ERROR, None)
}

fn run_default(a: &Algorithm, task: &Task<4>) -> Run {
    run_with(a, task, NUM_TRAIN, NUM_VALID, MAX_ABS_ERROR, None)
}

/// A fixed task of 10 zero-feature examples per split with the given labels.
fn fixed_task(train_labels: Vec<f64>, valid_labels: Vec<f64>) -> Task<4> {
    let train = (vec![[0.0; 4]; train_labels.len()], train_labels);
    let valid = (vec![[0.0; 4]; valid_labels.len()], valid_labels);
    Task::new(0, EvalType::RmsError, train, valid, 1, (11001, 1001))
}

// ---------------------------------------------------------------------------------------------
// SPEC 4.7 golden facts

#[test]
fn predict_counting_in_s1_ends_at_train_plus_valid() {
    // s2 = 1; s1 = s2 + s1, in Predict.
    let a = algorithm(
        &[],
        &[
            Instruction::constant(2, 1.0),
            Instruction::new(Op::ScalarSum, 2, S_PREDICTION, S_PREDICTION),
        ],
        &[],
    );
    let r = run_large(&a, &ones(NUM_TRAIN, NUM_VALID));
    assert_eq!(r.memory.scalars[1], 1100.0);
    assert_eq!(r.outcome.train_steps, 1000);
}

#[test]
fn learn_counting_in_s1_ends_at_train() {
    let a = algorithm(
        &[],
        &[],
        &[
            Instruction::constant(2, 1.0),
            Instruction::new(Op::ScalarSum, 2, S_PREDICTION, S_PREDICTION),
        ],
    );
    let r = run_large(&a, &ones(NUM_TRAIN, NUM_VALID));
    assert_eq!(r.memory.scalars[1], 1000.0);
}

#[test]
fn constant_prediction_0_9_on_ones_gives_flip_and_squash_of_0_1() {
    let a = algorithm(&[], &[Instruction::constant(S_PREDICTION, 0.9)], &[]);
    let r = run_large(&a, &ones(NUM_TRAIN, NUM_VALID));
    assert!(
        (r.outcome.fitness - fas(0.1)).abs() < 1e-12,
        "{}",
        r.outcome.fitness
    );
    // The same with the default max_abs_error.
    let r = run_default(&a, &ones(NUM_TRAIN, NUM_VALID));
    assert!(
        (r.outcome.fitness - fas(0.1)).abs() < 1e-12,
        "{}",
        r.outcome.fitness
    );
}

fn accuracy_with_logit(logit: f64) -> f64 {
    let a = algorithm(&[], &[Instruction::constant(S_PREDICTION, logit)], &[]);
    run_large(&a, &accuracy_ones(NUM_TRAIN, NUM_VALID))
        .outcome
        .fitness
}

#[test]
fn accuracy_logit_minus_3_gives_0() {
    assert_eq!(accuracy_with_logit(-3.0), 0.0);
}

#[test]
fn accuracy_logit_plus_3_gives_1() {
    assert_eq!(accuracy_with_logit(3.0), 1.0);
}

#[test]
fn accuracy_logit_plus_inf_gives_1() {
    assert_eq!(accuracy_with_logit(f64::INFINITY), 1.0);
}

#[test]
fn accuracy_logit_minus_inf_gives_0() {
    assert_eq!(accuracy_with_logit(f64::NEG_INFINITY), 0.0);
}

#[test]
fn accuracy_logits_of_plus_and_minus_inf_work_with_the_default_max_abs_error() {
    let run = |logit: f64| {
        let a = algorithm(&[], &[Instruction::constant(S_PREDICTION, logit)], &[]);
        run_default(&a, &accuracy_ones(NUM_TRAIN, NUM_VALID)).outcome
    };
    let up = run(f64::INFINITY);
    assert_eq!(up.fitness, 1.0);
    assert_eq!(up.train_steps, 1000);
    let down = run(f64::NEG_INFINITY);
    assert_eq!(down.fitness, 0.0);
    // Not an early stop: training ran to the end.
    assert_eq!(down.train_steps, 1000);
}

#[test]
fn increment_task_errors_are_recorded_for_11_train_and_9_valid() {
    let mut errors = Errors::default();
    let t = increment(11, 9, None);
    run_with(
        &no_op_algorithm(),
        &t,
        11,
        9,
        LARGE_MAX_ABS_ERROR,
        Some(&mut errors),
    );
    let train: Vec<f64> = (0..=10).map(f64::from).collect();
    let valid: Vec<f64> = (0..=8).map(f64::from).collect();
    assert_eq!(errors.train, train);
    assert_eq!(errors.valid, valid);
}

#[test]
fn increment_0_1_gives_flip_and_squash_of_5_7301812() {
    // Predict leaves s1 = 0, so the RMS is over the validation labels 0.1 k, k = 0..99:
    // sqrt(0.01 * 328350 / 100) = 5.7301809...
    let t = increment(NUM_TRAIN, NUM_VALID, Some(0.1));
    let r = run_large(&no_op_algorithm(), &t);
    assert!(
        (r.outcome.fitness - fas(5.7301812)).abs() < 1e-4,
        "{} vs {}",
        r.outcome.fitness,
        fas(5.7301812)
    );
    let exact = (0..100).map(|k| (0.1 * k as f64).powi(2)).sum::<f64>() / 100.0;
    assert!((r.outcome.fitness - fas(exact.sqrt())).abs() < 1e-12);
}

#[test]
fn predict_summing_the_feature_mean_over_the_increment_task_gives_504450() {
    // s2 = mean(v0); s1 = s2 + s1: 0 + ... + 999 in training and 0 + ... + 99 in validation.
    let a = algorithm(
        &[],
        &[
            Instruction::unary(Op::VectorMean, 0, 2),
            Instruction::new(Op::ScalarSum, 2, S_PREDICTION, S_PREDICTION),
        ],
        &[],
    );
    let r = run_large(&a, &increment(NUM_TRAIN, NUM_VALID, None));
    assert_eq!(r.memory.scalars[1], 504450.0);
}

#[test]
fn learn_summing_labels_into_s1_gives_499500() {
    let a = algorithm(
        &[],
        &[],
        &[Instruction::new(
            Op::ScalarSum,
            S_LABEL,
            S_PREDICTION,
            S_PREDICTION,
        )],
    );
    let r = run_large(&a, &increment(NUM_TRAIN, NUM_VALID, None));
    assert_eq!(r.memory.scalars[1], 499500.0);
}

#[test]
fn validation_never_sees_labels() {
    // Predict sums s0 into s1: s0 is 0 during every Predict, training and validation.
    let a = algorithm(
        &[],
        &[Instruction::new(
            Op::ScalarSum,
            S_LABEL,
            S_PREDICTION,
            S_PREDICTION,
        )],
        &[],
    );
    let r = run_large(&a, &increment(NUM_TRAIN, NUM_VALID, None));
    assert_eq!(r.memory.scalars[1], 0.0);
    // s0 was reset to 0 by the last validation Predict.
    assert_eq!(r.memory.scalars[0], 0.0);
}

#[test]
fn predict_records_the_label_cell_as_zero_during_validation() {
    // Predict copies s0 into s3 and accumulates it into s4; Learn copies s4 into s5, so s5
    // holds the predict-time label sum at the end of training. s4 must not grow afterwards.
    let a = algorithm(
        &[],
        &[
            Instruction::new(Op::ScalarSum, S_LABEL, 4, 4),
            Instruction::new(Op::ScalarSum, S_LABEL, 7, 3),
        ],
        &[Instruction::new(Op::ScalarSum, 4, 7, 5)],
    );
    let r = run_large(&a, &increment(NUM_TRAIN, NUM_VALID, None));
    assert_eq!(r.memory.scalars[4], 0.0);
    assert_eq!(r.memory.scalars[5], 0.0);
    assert_eq!(r.memory.scalars[3], 0.0);
}

// Any NaN or inf, or a value at max_abs_error + 10, placed in s1 in Setup, Predict or Learn
// gives fitness 0.

fn bad_value_fitness(setup: &[Instruction], predict: &[Instruction], learn: &[Instruction]) -> f64 {
    let a = algorithm(setup, predict, learn);
    let ones_fitness = run_default(&a, &ones(NUM_TRAIN, NUM_VALID)).outcome.fitness;
    let inc_fitness = run_default(&a, &increment(NUM_TRAIN, NUM_VALID, None))
        .outcome
        .fitness;
    assert_eq!(ones_fitness, inc_fitness);
    ones_fitness
}

fn one_over_zero() -> [Instruction; 2] {
    // s2 = 1; s1 = s2 / s3 (s3 is 0) -> +inf
    [
        Instruction::constant(2, 1.0),
        Instruction::new(Op::ScalarDivision, 2, 3, S_PREDICTION),
    ]
}

fn zero_over_zero() -> [Instruction; 1] {
    // s1 = s2 / s2 (s2 is 0) -> NaN
    [Instruction::new(Op::ScalarDivision, 2, 2, S_PREDICTION)]
}

fn too_large() -> [Instruction; 1] {
    [Instruction::constant(S_PREDICTION, MAX_ABS_ERROR + 10.0)]
}

#[test]
fn large_value_in_setup_gives_0() {
    assert_eq!(bad_value_fitness(&too_large(), &[], &[]), 0.0);
}

#[test]
fn large_value_in_predict_gives_0() {
    assert_eq!(bad_value_fitness(&[], &too_large(), &[]), 0.0);
}

#[test]
fn large_value_in_learn_gives_0() {
    assert_eq!(bad_value_fitness(&[], &[], &too_large()), 0.0);
}

#[test]
fn infinity_in_setup_gives_0() {
    assert_eq!(bad_value_fitness(&one_over_zero(), &[], &[]), 0.0);
}

#[test]
fn infinity_in_predict_gives_0() {
    let [one, div] = one_over_zero();
    assert_eq!(bad_value_fitness(&[one], &[div], &[]), 0.0);
}

#[test]
fn infinity_in_learn_gives_0() {
    let [one, div] = one_over_zero();
    assert_eq!(bad_value_fitness(&[one], &[], &[div]), 0.0);
}

#[test]
fn nan_in_setup_gives_0() {
    assert_eq!(bad_value_fitness(&zero_over_zero(), &[], &[]), 0.0);
}

#[test]
fn nan_in_predict_gives_0() {
    assert_eq!(bad_value_fitness(&[], &zero_over_zero(), &[]), 0.0);
}

#[test]
fn nan_in_learn_gives_0() {
    assert_eq!(bad_value_fitness(&[], &[], &zero_over_zero()), 0.0);
}

#[test]
fn negative_infinity_and_constants_are_caught_too() {
    let neg_inf = [Instruction::constant(S_PREDICTION, f64::NEG_INFINITY)];
    assert_eq!(bad_value_fitness(&neg_inf, &[], &[]), 0.0);
    assert_eq!(bad_value_fitness(&[], &neg_inf, &[]), 0.0);
    let nan = [Instruction::constant(S_PREDICTION, f64::NAN)];
    assert_eq!(bad_value_fitness(&[], &nan, &[]), 0.0);
    assert_eq!(bad_value_fitness(&[], &[], &nan), 0.0);
}

#[test]
fn a_bad_value_stops_training_at_once() {
    // NaN from the first Predict: one training step, then stop.
    let a = algorithm(&[], &zero_over_zero(), &[]);
    let r = run_default(&a, &ones(NUM_TRAIN, NUM_VALID));
    assert_eq!(r.outcome.fitness, 0.0);
    assert_eq!(r.outcome.train_steps, 1);
    // A large value written by Learn is seen by the second Predict.
    let a = algorithm(&[], &[], &too_large());
    let r = run_default(&a, &ones(NUM_TRAIN, NUM_VALID));
    assert_eq!(r.outcome.fitness, 0.0);
    assert_eq!(r.outcome.train_steps, 2);
}

#[test]
fn single_training_label_of_1000_gives_0() {
    let mut labels = vec![0.0; 10];
    labels[2] = 1000.0;
    let t = fixed_task(labels, vec![0.0; 10]);
    let r = run_default(&no_op_algorithm(), &t);
    assert_eq!(r.outcome.fitness, 0.0);
    assert_eq!(r.outcome.train_steps, 3);
}

#[test]
fn errors_within_max_abs_error_do_not_stop() {
    let t = fixed_task(vec![0.0; 10], vec![0.0; 10]);
    let r = run_default(&no_op_algorithm(), &t);
    assert_eq!(r.outcome.fitness, 1.0);
    // An error of exactly max_abs_error is allowed (the check is `>`).
    let mut labels = vec![0.0; 10];
    labels[4] = MAX_ABS_ERROR;
    let t = fixed_task(labels, vec![0.0; 10]);
    let r = run_default(&no_op_algorithm(), &t);
    assert_eq!(r.outcome.fitness, 1.0);
    assert_eq!(r.outcome.train_steps, 10);
}

#[test]
fn single_validation_label_of_1000_gives_0() {
    let mut labels = vec![0.0; 10];
    labels[2] = 1000.0;
    let t = fixed_task(vec![0.0; 10], labels);
    let r = run_default(&no_op_algorithm(), &t);
    assert_eq!(r.outcome.fitness, 0.0);
    // Training was complete; the stop came in validation.
    assert_eq!(r.outcome.train_steps, 10);
}

#[test]
fn zeros_task_with_no_op_algorithm_gives_1() {
    let r = run_default(
        &no_op_algorithm(),
        &task(spec(TaskKind::UnitTestZeros, NUM_TRAIN, NUM_VALID)),
    );
    assert_eq!(r.outcome.fitness, fas(0.0));
    assert_eq!(r.outcome.fitness, 1.0);
}

// ---------------------------------------------------------------------------------------------
// Other executor behaviour (SPEC 4.3-4.5)

#[test]
fn accuracy_learn_sees_the_sigmoid_of_s1() {
    // Predict: s1 = 2. Learn copies s1 into s3 (s3 = s1 + s7, s7 = 0).
    let a = algorithm(
        &[],
        &[Instruction::constant(S_PREDICTION, 2.0)],
        &[Instruction::new(Op::ScalarSum, S_PREDICTION, 7, 3)],
    );
    let mut errors = Errors::default();
    let r = run_with(
        &a,
        &accuracy_ones(10, 5),
        10,
        5,
        MAX_ABS_ERROR,
        Some(&mut errors),
    );
    let p = logistic(2.0);
    assert!(
        (r.memory.scalars[3] - p).abs() < 1e-15,
        "{}",
        r.memory.scalars[3]
    );
    // The training error is |label - sigmoid(logit)|.
    assert_eq!(errors.train.len(), 10);
    for e in &errors.train {
        assert!((e - (1.0 - p)).abs() < 1e-15, "{e}");
    }
    // Validation does not write the sigmoid: s1 is the raw logit at the end.
    assert_eq!(r.memory.scalars[1], 2.0);
    assert_eq!(r.outcome.fitness, 1.0);
}

#[test]
fn rms_error_learn_sees_the_raw_s1() {
    let a = algorithm(
        &[],
        &[Instruction::constant(S_PREDICTION, 2.0)],
        &[Instruction::new(Op::ScalarSum, S_PREDICTION, 7, 3)],
    );
    let r = run_default(&a, &ones(10, 5));
    assert_eq!(r.memory.scalars[3], 2.0);
}

#[test]
fn accuracy_sigmoid_in_s1_feeds_the_next_predict() {
    // Predict: s1 = s1 + s2 with s2 = 1 from Setup. The sigmoid written after each training
    // Predict is what the next Predict adds 1 to.
    let a = algorithm(
        &[Instruction::constant(2, 1.0)],
        &[Instruction::new(
            Op::ScalarSum,
            S_PREDICTION,
            2,
            S_PREDICTION,
        )],
        &[],
    );
    let mut errors = Errors::default();
    run_with(
        &a,
        &accuracy_ones(3, 1),
        3,
        1,
        MAX_ABS_ERROR,
        Some(&mut errors),
    );
    let p1 = logistic(1.0);
    let p2 = logistic(p1 + 1.0);
    let p3 = logistic(p2 + 1.0);
    let expected = [1.0 - p1, 1.0 - p2, 1.0 - p3];
    assert_eq!(errors.train.len(), 3);
    for (e, x) in errors.train.iter().zip(expected) {
        assert!((e - x).abs() < 1e-15, "{:?} vs {expected:?}", errors.train);
    }
}

#[test]
fn accuracy_nan_logit_in_validation_counts_as_class_0_without_stopping() {
    // Predict: s1 = log(mean(v0)). Training features are 1 (logit 0), validation features -1
    // (logit NaN).
    let predict = [
        Instruction::unary(Op::VectorMean, 0, 2),
        Instruction::unary(Op::ScalarLog, 2, S_PREDICTION),
    ];
    let a = algorithm(&[], &predict, &[]);
    let make = |valid_label: f64| {
        Task::<4>::new(
            0,
            EvalType::Accuracy,
            (vec![[1.0; 4]; 4], vec![1.0; 4]),
            (vec![[-1.0; 4]; 4], vec![valid_label; 4]),
            1,
            (1, 2),
        )
    };
    let mut errors = Errors::default();
    let r = run_with(&a, &make(0.0), 4, 4, MAX_ABS_ERROR, Some(&mut errors));
    assert_eq!(r.outcome.fitness, 1.0);
    assert_eq!(errors.valid, vec![0.0; 4]);
    let r = run_with(&a, &make(1.0), 4, 4, MAX_ABS_ERROR, None);
    assert_eq!(r.outcome.fitness, 0.0);
}

#[test]
fn rms_loss_is_divided_by_the_full_validation_size() {
    // No-op on ones: 50 of 100 validation examples, each with error 1 -> sqrt(50 / 100).
    let r = run_with(
        &no_op_algorithm(),
        &ones(20, 100),
        20,
        50,
        MAX_ABS_ERROR,
        None,
    );
    assert!(
        (r.outcome.fitness - fas(0.5f64.sqrt())).abs() < 1e-12,
        "{}",
        r.outcome.fitness
    );
}

#[test]
fn accuracy_loss_is_divided_by_the_full_validation_size() {
    let a = algorithm(&[], &[Instruction::constant(S_PREDICTION, -3.0)], &[]);
    let r = run_with(&a, &accuracy_ones(20, 100), 20, 25, MAX_ABS_ERROR, None);
    assert_eq!(r.outcome.fitness, 0.75);
}

#[test]
fn train_steps_are_capped_by_the_task() {
    let r = run_with(
        &no_op_algorithm(),
        &ones(30, 10),
        1000,
        10,
        MAX_ABS_ERROR,
        None,
    );
    assert_eq!(r.outcome.train_steps, 30);
    let r = run_with(
        &no_op_algorithm(),
        &ones(30, 10),
        12,
        10,
        MAX_ABS_ERROR,
        None,
    );
    assert_eq!(r.outcome.train_steps, 12);
}

#[test]
fn zero_train_steps_give_fitness_0() {
    let r = run_with(
        &no_op_algorithm(),
        &ones(30, 10),
        0,
        10,
        MAX_ABS_ERROR,
        None,
    );
    assert_eq!(r.outcome.fitness, 0.0);
    assert_eq!(r.outcome.train_steps, 0);
}

#[test]
fn execute_wipes_memory_and_runs_setup_once() {
    // Setup: s3 = s3 + s2 with s2 = 1 (so a second Setup run, or a missing wipe, shows).
    let a = algorithm(
        &[
            Instruction::constant(2, 1.0),
            Instruction::new(Op::ScalarSum, 3, 2, 3),
        ],
        &[],
        &[],
    );
    let program = Program::compile(&a, &SIZES, 4).unwrap();
    let mut memory = Memory::<4>::new(SIZES);
    memory.scalars[3] = 50.0;
    memory.vectors[2] = [9.0; 4];
    memory.matrices[1] = [[9.0; 4]; 4];
    let t = ones(10, 10);
    execute(
        &program,
        &t,
        10,
        10,
        MAX_ABS_ERROR,
        &mut memory,
        &mut MtRng::new(00),
        None,
    );
    assert_eq!(memory.scalars[3], 1.0);
    // Cells the program never touches are not wiped (nothing reads them), except the train
    // loop's own s0, s1 and v0.
    assert_eq!(memory.vectors[2], [9.0; 4]);
    assert_eq!(memory.matrices[1], [[9.0; 4]; 4]);
    memory.scalars[1] = 4.0;
    memory.vectors[0] = [4.0; 4];
    let empty = Program::compile(&no_op_algorithm(), &SIZES, 4).unwrap();
    let outcome = execute(
        &empty,
        &t,
        10,
        10,
        MAX_ABS_ERROR,
        &mut memory,
        &mut MtRng::new(00),
        None,
    );
    // A prediction of 0 on labels 1: the stale s1 was wiped.
    assert_eq!(outcome.fitness, fas(1.0));
}

// ---------------------------------------------------------------------------------------------
// Epochs (SPEC 4.3): the fitness is the best validation fitness over epochs.

fn ones_epochs(num_train: usize, num_valid: usize, epochs: usize) -> Task<4> {
    let mut s = spec(TaskKind::UnitTestOnes, num_train, num_valid);
    s.num_train_epochs = epochs;
    task(s)
}

/// Predict: s1 = s2 (via s1 = s2 + s7, s7 = 0). Learn: s2 = s2 + s4, with s4 = `step` in Setup.
fn counter_algorithm(step: f64) -> Algorithm {
    algorithm(
        &[Instruction::constant(4, step)],
        &[Instruction::new(Op::ScalarSum, 2, 7, S_PREDICTION)],
        &[Instruction::new(Op::ScalarSum, 2, 4, 2)],
    )
}

/// The counter after `n` additions of `step`, summed in the same order as the algorithm.
fn counter_after(step: f64, n: usize) -> f64 {
    let mut c = 0.0;
    for _ in 0..n {
        c += step;
    }
    c
}

#[test]
fn two_epochs_train_twice_as_long() {
    let t = ones_epochs(10, 10, 2);
    assert_eq!(t.max_train_examples(), 20);
    let r = run_with(
        &counter_algorithm(1.0),
        &t,
        1000,
        10,
        LARGE_MAX_ABS_ERROR,
        None,
    );
    assert_eq!(r.outcome.train_steps, 20);
    assert_eq!(r.memory.scalars[2], 20.0);
}

#[test]
fn fitness_is_the_best_over_epochs_when_the_first_epoch_is_better() {
    // After epoch 1 the prediction is ~1 (error ~0); after epoch 2 it is ~2 (error ~1).
    let step = 0.1;
    let t = ones_epochs(10, 10, 2);
    let r = run_with(&counter_algorithm(step), &t, 20, 10, MAX_ABS_ERROR, None);
    let first = fas((1.0 - counter_after(step, 10)).abs());
    let second = fas((1.0 - counter_after(step, 20)).abs());
    assert!(first > second);
    assert!(
        (r.outcome.fitness - first).abs() < 1e-12,
        "{} vs {first}",
        r.outcome.fitness
    );
    assert_eq!(r.outcome.train_steps, 20);
}

#[test]
fn fitness_is_the_best_over_epochs_when_the_second_epoch_is_better() {
    // After epoch 1 the prediction is 0.5 (error 0.5); after epoch 2 it is ~1 (error ~0).
    let step = 0.05;
    let t = ones_epochs(10, 10, 2);
    let r = run_with(&counter_algorithm(step), &t, 20, 10, MAX_ABS_ERROR, None);
    let first = fas((1.0 - counter_after(step, 10)).abs());
    let second = fas((1.0 - counter_after(step, 20)).abs());
    assert!(second > first);
    assert!(
        (r.outcome.fitness - second).abs() < 1e-12,
        "{} vs {second}",
        r.outcome.fitness
    );
    // With one epoch only, the fitness is the first epoch's.
    let r1 = run_with(
        &counter_algorithm(step),
        &ones_epochs(10, 10, 1),
        20,
        10,
        MAX_ABS_ERROR,
        None,
    );
    assert!((r1.outcome.fitness - first).abs() < 1e-12);
}

/// Learn counts steps in s6 (s6 = s6 + s5, s5 = 1); Predict squares the count into s1
/// (cubes it when `cube`).
fn blow_up_algorithm(cube: bool) -> Algorithm {
    let mut predict = vec![Instruction::new(Op::ScalarProduct, 6, 6, S_PREDICTION)];
    if cube {
        predict.push(Instruction::new(
            Op::ScalarProduct,
            S_PREDICTION,
            6,
            S_PREDICTION,
        ));
    }
    algorithm(
        &[Instruction::constant(5, 1.0)],
        &predict,
        &[Instruction::new(Op::ScalarSum, 6, 5, 6)],
    )
}

#[test]
fn a_failure_in_a_later_epoch_keeps_the_best_so_far() {
    // Epoch 1 predicts c^2 for c = 0..9 (errors up to 80); validation sees c = 10, so s1 = 100
    // and the error is 99 on every example. Epoch 2 predicts 100 (error 99), then 121
    // (error 120 > 100): it stops on its second step.
    let t = ones_epochs(10, 10, 2);
    let r = run_with(&blow_up_algorithm(false), &t, 20, 10, MAX_ABS_ERROR, None);
    assert!(r.outcome.fitness > 0.0);
    assert!(
        (r.outcome.fitness - fas(99.0)).abs() < 1e-12,
        "{}",
        r.outcome.fitness
    );
    assert_eq!(r.outcome.train_steps, 12);
}

#[test]
fn a_failure_in_the_first_epoch_gives_0() {
    // c^3 exceeds 101 at c = 5, within the first epoch.
    let t = ones_epochs(10, 10, 2);
    let r = run_with(&blow_up_algorithm(true), &t, 20, 10, MAX_ABS_ERROR, None);
    assert_eq!(r.outcome.fitness, 0.0);
    assert_eq!(r.outcome.train_steps, 6);
}

#[test]
fn errors_are_recorded_for_the_first_epoch_only() {
    let mut errors = Errors::default();
    let t = ones_epochs(5, 3, 3);
    run_with(
        &no_op_algorithm(),
        &t,
        15,
        3,
        MAX_ABS_ERROR,
        Some(&mut errors),
    );
    assert_eq!(errors.train, vec![1.0; 5]);
    assert_eq!(errors.valid, vec![1.0; 3]);
}

#[test]
fn later_epochs_visit_every_example_once() {
    // Learn sums labels into s3 over 3 epochs of the increment task (labels 0..9): 3 * 45.
    let mut s = spec(TaskKind::UnitTestIncrement, 10, 5);
    s.num_train_epochs = 3;
    let t = task(s);
    let a = algorithm(&[], &[], &[Instruction::new(Op::ScalarSum, S_LABEL, 3, 3)]);
    let r = run_with(&a, &t, 30, 5, MAX_ABS_ERROR, None);
    assert_eq!(r.memory.scalars[3], 135.0);
    assert_eq!(r.outcome.train_steps, 30);
}

// ---------------------------------------------------------------------------------------------
// FlipAndSquash and the combination of task fitnesses

#[test]
fn flip_and_squash_maps_errors_onto_fitness() {
    assert_eq!(flip_and_squash(0.0), 1.0);
    assert!((flip_and_squash(1.0) - 0.5).abs() < 1e-15);
    assert!((flip_and_squash(0.1) - fas(0.1)).abs() < 1e-15);
    assert!((flip_and_squash(5.7301812) - fas(5.7301812)).abs() < 1e-15);
    assert_eq!(flip_and_squash(f64::NAN), 0.0);
    assert_eq!(flip_and_squash(f64::INFINITY), 0.0);
    assert!(flip_and_squash(1e300) >= 0.0);
}

#[test]
fn median_combination_is_the_upper_median() {
    assert_eq!(Combination::Median.combine(&[0.1, 0.9, 0.5, 0.3]), 0.5);
    assert_eq!(Combination::Median.combine(&[0.3, 0.1, 0.2]), 0.2);
    assert_eq!(Combination::Median.combine(&[0.7, 0.2]), 0.7);
    assert_eq!(Combination::Median.combine(&[0.4]), 0.4);
}

#[test]
fn mean_combination_is_the_mean() {
    assert_eq!(Combination::Mean.combine(&[0.25, 0.75, 0.5, 1.0]), 0.625);
    assert_eq!(Combination::Mean.combine(&[0.4]), 0.4);
    assert_eq!(Combination::default(), Combination::Mean);
}

#[test]
fn learn_sees_the_features_and_predict_a_zero_label_whatever_the_other_wrote() {
    use Op::*;
    // Predict doubles v0 after reading s2; Learn sets s2 = v0·v0, which must be 4 (the ones
    // task's features), not 16.
    let a = algorithm(
        &[],
        &[
            Instruction::new(ScalarSum, 2, 7, S_PREDICTION),
            Instruction::new(VectorSum, 0, 0, 0),
        ],
        &[Instruction::new(VectorInnerProduct, 0, 0, 2)],
    );
    let fitness = run_with(&a, &ones(100, 10), 100, 10, MAX_ABS_ERROR, None)
        .outcome
        .fitness;
    assert_eq!(fitness, fas(3.0));
    // Learn leaves s0 = 2 (twice the label); Predict must still see s0 = 0.
    let a = algorithm(
        &[],
        &[Instruction::new(ScalarSum, S_LABEL, S_LABEL, S_PREDICTION)],
        &[Instruction::new(ScalarSum, S_LABEL, S_LABEL, S_LABEL)],
    );
    let fitness = run_with(&a, &ones(100, 10), 100, 10, MAX_ABS_ERROR, None)
        .outcome
        .fitness;
    assert_eq!(fitness, fas(1.0));
}

// ---------------------------------------------------------------------------------------------
// A full run resumed from its FEC probe, and a memory reused between programs

/// Random programs over every deterministic op.
fn random_deterministic_programs(count: usize, seed: u64) -> Vec<Algorithm> {
    common::random_programs(SIZES, &common::deterministic_ops(), count, seed)
}

#[test]
fn a_run_resumed_from_its_probe_equals_a_run_from_scratch() {
    use automl_zero_engine::evaluation::{probe, resume};
    // 30 examples per epoch and 75 training steps: the resumed run crosses two epoch ends.
    let mut s = TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 30, 20, 1);
    s.num_train_epochs = 3;
    let task = task(s);
    let (mut memory, mut snapshot) = (Memory::<4>::new(SIZES), Memory::<4>::new(SIZES));
    let mut errors = Errors::default();
    let (mut resumed, mut diverged, mut scored) = (0, 0, 0);
    for (i, a) in random_deterministic_programs(3000, 5).iter().enumerate() {
        let program = Program::compile(a, &SIZES, 4).unwrap();
        for (probe_steps, max_abs_error) in [(10, MAX_ABS_ERROR), (10, 2.0), (29, MAX_ABS_ERROR)] {
            let mut rng = MtRng::new(10);
            let (probed, taken) = probe(
                &program,
                &task,
                probe_steps,
                10,
                max_abs_error,
                &mut memory,
                &mut rng,
                &mut errors,
                Some(&mut snapshot),
            );
            let expected = run_with(a, &task, 75, 20, max_abs_error, None).outcome;
            if !taken {
                // Only a probe whose training diverged (so that it recorded fewer errors than
                // its steps) takes no snapshot.
                assert!(errors.train.len() < probe_steps, "program {i}\n{a}");
                assert!(probed.fitness == 0.0, "program {i}\n{a}");
                diverged += 1;
                continue;
            }
            let got = resume(
                &program,
                &task,
                &snapshot,
                probe_steps,
                75,
                20,
                max_abs_error,
                &mut memory,
                &mut rng,
            );
            assert_eq!(got.train_steps, expected.train_steps, "program {i}\n{a}");
            assert_eq!(got.valid_steps, expected.valid_steps, "program {i}\n{a}");
            assert_eq!(
                got.fitness.to_bits(),
                expected.fitness.to_bits(),
                "program {i}: resumed {} vs from scratch {}\n{a}",
                got.fitness,
                expected.fitness
            );
            resumed += 1;
            if expected.fitness > 0.0 {
                scored += 1;
            }
        }
    }
    // The programs exercise both paths and reach non-zero fitness often enough to matter.
    assert!(
        resumed > 1000 && diverged > 100 && scored > 300,
        "{resumed} {diverged} {scored}"
    );
}

#[test]
fn a_probe_covering_a_whole_epoch_takes_no_snapshot() {
    use automl_zero_engine::evaluation::probe;
    let task = ones(10, 10);
    let a = algorithm(&[], &[], &[]);
    let program = Program::compile(&a, &SIZES, 4).unwrap();
    let (mut memory, mut snapshot) = (Memory::<4>::new(SIZES), Memory::<4>::new(SIZES));
    let mut errors = Errors::default();
    let mut rng = MtRng::new(00);
    for (steps, expected) in [(9, true), (10, false), (0, false)] {
        let (_, taken) = probe(
            &program,
            &task,
            steps,
            10,
            MAX_ABS_ERROR,
            &mut memory,
            &mut rng,
            &mut errors,
            Some(&mut snapshot),
        );
        assert_eq!(taken, expected, "{steps} probe steps");
    }
}

#[test]
fn a_memory_left_dirty_by_a_larger_program_changes_no_result() {
    let task = increment(40, 20, Some(0.1));
    let programs = random_deterministic_programs(400, 9);
    let mut shared = Memory::<4>::new(SIZES);
    let mut rng = MtRng::new(00);
    let mut differing = 0;
    for (i, a) in programs.iter().enumerate() {
        let program = Program::compile(a, &SIZES, 4).unwrap();
        let fresh = run_with(a, &task, 40, 20, LARGE_MAX_ABS_ERROR, None).outcome;
        // Fill every cell, so that anything the next run fails to wipe shows.
        shared.scalars.fill(7.5);
        shared.vectors.fill([-3.0; 4]);
        shared.matrices.fill([[2.0; 4]; 4]);
        let reused = execute(
            &program,
            &task,
            40,
            20,
            LARGE_MAX_ABS_ERROR,
            &mut shared,
            &mut rng,
            None,
        );
        assert_eq!(
            reused.fitness.to_bits(),
            fresh.fitness.to_bits(),
            "program {i}\n{a}"
        );
        differing += usize::from(fresh.fitness > 0.0);
    }
    assert!(differing > 50, "{differing}");
}
