//! A program whose predictions cannot depend on the data is scored from one recorded trace:
//! replaying it on any task gives exactly what running the program on that task gives.

use automl_zero_engine::builtins::{Builtin, Generator, linear};
use automl_zero_engine::evaluation::{Errors, Trace, execute, replay, trace};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::liveness::{live_instructions, prediction_reads_data};
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::parse;
use automl_zero_engine::rng::{MtRng, Rng};
use automl_zero_engine::tasks::{EvalType, Task, TaskKind, TaskSpec, build_tasks};
use std::path::Path;

const SIZES: MemorySizes = MemorySizes {
    scalars: 5,
    vectors: 4,
    matrices: 2,
};

fn tasks(eval_type: EvalType) -> Vec<Task<4>> {
    let mut spec = match eval_type {
        EvalType::RmsError => TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 12, 7, 4),
        EvalType::Accuracy => {
            let mut s = TaskSpec::generated(TaskKind::UnitTestOnes, 4, 12, 7, 4);
            s.eval_type = EvalType::Accuracy;
            s
        }
    };
    spec.num_train_epochs = 3;
    build_tasks::<4>(&[spec], "search_tasks", Path::new(".")).unwrap()
}

fn reads_data(text: &str) -> bool {
    let a = parse(text, &SIZES).unwrap();
    prediction_reads_data(&a, &live_instructions(&a))
}

#[test]
fn the_analysis_finds_paths_from_the_data_to_the_prediction() {
    // Linear regression reads the features, and learns from the label.
    let lin = linear(0.01);
    assert!(prediction_reads_data(&lin, &live_instructions(&lin)));
    // A constant, and a counter that Learn advances, read nothing of the data.
    assert!(!reads_data(
        "def Setup():\n  s2 = 0.5\ndef Predict():\n  s1 = s2 + s2\ndef Learn():\n"
    ));
    assert!(!reads_data(
        "def Setup():\n  s3 = 1.0\ndef Predict():\n  s1 = s2 + s3\ndef Learn():\n  s2 = s2 + s3\n"
    ));
    // The label reaches the prediction through a value Learn leaves behind.
    assert!(reads_data(
        "def Setup():\ndef Predict():\n  s1 = s2 + s2\ndef Learn():\n  s2 = s0 + s0\n"
    ));
    // The features reach it two loop iterations later, through v1 then s2.
    assert!(reads_data(
        "def Setup():\ndef Predict():\n  s1 = s2 + s2\n  s2 = dot(v1, v1)\ndef Learn():\n  v1 = v0 + v0\n"
    ));
    // Overwriting a data-derived value with a constant cuts the path.
    assert!(!reads_data(
        "def Setup():\ndef Predict():\n  s2 = dot(v0, v0)\n  s2 = 0.25\n  s1 = s2 + s2\ndef Learn():\n"
    ));
    // s0 holds 0 during Predict, so reading it there reads no data.
    assert!(!reads_data(
        "def Setup():\ndef Predict():\n  s1 = s0 + s0\ndef Learn():\n"
    ));
}

/// Replays every data-blind random program on every task and compares with real runs.
fn check_replay(eval_type: EvalType, max_abs_error: f64) -> (usize, usize) {
    // (checked, fell back)
    let tasks = tasks(eval_type);
    let ops: Vec<Op> = Op::ALL
        .iter()
        .copied()
        .filter(|op| !op.info().random)
        .collect();
    let generator = Generator {
        sizes: SIZES,
        size_init: [3, 3, 3],
        ops: [ops.clone(), ops.clone(), ops],
    };
    let mut rng = Rng::new(5, 0);
    let mut memory = Memory::<4>::new(SIZES);
    let (mut checked, mut fell_back) = (0, 0);
    for _ in 0..4000 {
        let a = generator.build(Builtin::Random, &mut rng).unwrap();
        let live = live_instructions(&a);
        if prediction_reads_data(&a, &live) {
            continue;
        }
        let program = Program::compile(&a, &SIZES, 4).unwrap();
        let lead = &tasks[0];
        let (n, v) = (lead.max_train_examples(), lead.valid_steps());
        let mut recorded = Trace::default();
        trace(&program, lead, n, v, &mut memory, &mut recorded);
        for task in &tasks {
            let mut expected_errors = Errors::default();
            let expected = execute(
                &program,
                task,
                n,
                v,
                max_abs_error,
                &mut memory,
                &mut MtRng::new(0),
                Some(&mut expected_errors),
            );
            let mut errors = Errors::default();
            match replay(&recorded, task, n, v, max_abs_error, Some(&mut errors)) {
                None => fell_back += 1,
                Some(outcome) => {
                    checked += 1;
                    assert_eq!(outcome.fitness.to_bits(), expected.fitness.to_bits(), "{a}");
                    assert_eq!(outcome, expected, "{a}");
                    let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&errors.train), bits(&expected_errors.train), "{a}");
                    assert_eq!(bits(&errors.valid), bits(&expected_errors.valid), "{a}");
                }
            }
        }
    }
    (checked, fell_back)
}

#[test]
fn replays_equal_runs_on_regression_tasks() {
    let (checked, _) = check_replay(EvalType::RmsError, 100.0);
    assert!(checked > 1000, "{checked}");
    // A tight bound makes runs stop in training and in validation.
    let (checked, _) = check_replay(EvalType::RmsError, 0.5);
    assert!(checked > 1000, "{checked}");
}

#[test]
fn a_validation_stopped_before_a_later_epoch_is_not_replayed() {
    // Every Predict adds 0.01 to the prediction; the labels are 1. With errors bounded by
    // 0.15, the first validation stops at its third example (1.15 in floating point is a hair
    // above it), so the second epoch starts from a memory that the trace, which validated all
    // seven, never had.
    let a = parse(
        "def Setup():\n  s3 = 0.01\n  s2 = 1.0\ndef Predict():\n  s2 = s2 + s3\n  s1 = s2 + s4\ndef Learn():\n",
        &SIZES,
    )
    .unwrap();
    assert!(!prediction_reads_data(&a, &live_instructions(&a)));
    let mut spec = TaskSpec::generated(TaskKind::UnitTestOnes, 4, 12, 7, 1);
    spec.num_train_epochs = 2;
    let tasks = build_tasks::<4>(&[spec], "search_tasks", Path::new(".")).unwrap();
    let task = &tasks[0];
    let program = Program::compile(&a, &SIZES, 4).unwrap();
    let mut memory = Memory::<4>::new(SIZES);
    let (n, v) = (task.max_train_examples(), task.valid_steps());
    let mut recorded = Trace::default();
    trace(&program, task, n, v, &mut memory, &mut recorded);
    assert_eq!(replay(&recorded, task, n, v, 0.15, None), None);
    let mut run = |bound| {
        execute(
            &program,
            task,
            n,
            v,
            bound,
            &mut memory,
            &mut MtRng::new(0),
            None,
        )
    };
    let real = run(0.15);
    // Training 12 + 1 steps (the second epoch's first prediction, 1.16, is out of bounds).
    assert_eq!(
        (real.fitness, real.train_steps, real.valid_steps),
        (0.0, 13, 3)
    );
    // With a looser bound every validation completes, and the replay is the run.
    let loose = replay(&recorded, task, n, v, 0.5, None).unwrap();
    assert_eq!(loose, run(0.5));
}

#[test]
fn replays_equal_runs_on_accuracy_tasks() {
    let (checked, _) = check_replay(EvalType::Accuracy, 100.0);
    assert!(checked > 1000, "{checked}");
    let (checked, _) = check_replay(EvalType::Accuracy, 0.5);
    assert!(checked > 1000, "{checked}");
}
