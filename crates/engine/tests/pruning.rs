//! Pruned evaluation (dead code removed, canonical cache) gives the fitness of unpruned
//! evaluation for programs without random ops.

use automl_zero_engine::builtins::{Builtin, Generator};
use automl_zero_engine::evaluation::{Combination, EvalSettings, Evaluator};
use automl_zero_engine::liveness;
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::ops::Op;
use automl_zero_engine::rng::Rng;
use automl_zero_engine::tasks::{EvalType, TaskKind, TaskSpec, build_tasks};
use std::path::Path;

mod common;

fn check_space(ops: &[Op], sizes: MemorySizes, size_init: [usize; 3], eval_type: EvalType) {
    let mut spec = TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 30, 20, 3);
    if eval_type == EvalType::Accuracy {
        spec = TaskSpec::generated(TaskKind::UnitTestOnes, 4, 30, 20, 2);
        spec.eval_type = EvalType::Accuracy;
    }
    spec.num_train_epochs = 2;
    let tasks = build_tasks::<4>(&[spec], "search_tasks", Path::new(".")).unwrap();
    let mut settings = EvalSettings::plain(sizes, 100.0);
    settings.combination = Combination::Mean;
    let mut plain = Evaluator::new(tasks.clone(), settings.clone());
    settings.canonical_cache = 1000;
    let mut pruned = Evaluator::new(tasks, settings);
    let generator = Generator {
        sizes,
        size_init,
        ops: [ops.to_vec(), ops.to_vec(), ops.to_vec()],
    };
    let mut rng = Rng::new(11, 0);
    let mut nonzero = 0;
    for i in 0..3000 {
        let a = generator.build(Builtin::Random, &mut rng).unwrap();
        let full: f64 = {
            let per = plain.evaluate_tasks(&a, 1, 0..plain.tasks().len()).unwrap();
            per.iter().sum::<f64>() / per.len() as f64
        };
        let fast = pruned.evaluate(&a, 1).unwrap();
        assert!(
            full.to_bits() == fast.to_bits() || (full - fast).abs() < 1e-12,
            "program {i}: unpruned {full} vs pruned {fast}\n{a}"
        );
        if full > 0.0 {
            nonzero += 1;
        }
    }
    assert!(nonzero > 100, "{nonzero}");
    assert!(pruned.canonical_hits > 0);
}

#[test]
fn pruning_keeps_fitness_in_the_demo_space() {
    use Op::*;
    let ops = [
        ScalarConstSet,
        VectorInnerProduct,
        ScalarDiff,
        ScalarProduct,
        ScalarVectorProduct,
        VectorSum,
    ];
    let sizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    check_space(&ops, sizes, [10, 2, 8], EvalType::RmsError);
}

#[test]
fn pruning_keeps_fitness_over_every_deterministic_op() {
    let ops: Vec<Op> = Op::ALL
        .iter()
        .copied()
        .filter(|op| !op.info().random)
        .collect();
    let sizes = MemorySizes {
        scalars: 5,
        vectors: 4,
        matrices: 3,
    };
    check_space(&ops, sizes, [4, 4, 4], EvalType::RmsError);
    check_space(&ops, sizes, [4, 4, 4], EvalType::Accuracy);
}

#[test]
fn programs_with_live_random_ops_are_evaluated_afresh() {
    use automl_zero_engine::builtins::neural_net;
    let spec = TaskSpec::generated(TaskKind::Scalar2layerNnRegression, 4, 50, 20, 1);
    let tasks = build_tasks::<4>(&[spec], "search_tasks", Path::new(".")).unwrap();
    let sizes = MemorySizes {
        scalars: 5,
        vectors: 9,
        matrices: 2,
    };
    let mut settings = EvalSettings::plain(sizes, 100.0);
    settings.canonical_cache = 100;
    let mut evaluator = Evaluator::new(tasks, settings);
    let net = neural_net(0.01, 0.1, 0.1);
    let a = evaluator.evaluate(&net, 1).unwrap();
    let b = evaluator.evaluate(&net, 2).unwrap();
    assert_eq!(evaluator.canonical_hits, 0);
    assert_ne!(a, b, "different seeds draw different initial weights");
    // A deterministic program is answered from the cache the second time.
    let linear = automl_zero_engine::builtins::linear(0.01);
    evaluator.evaluate(&linear, 1).unwrap();
    evaluator.evaluate(&linear, 2).unwrap();
    assert_eq!(evaluator.canonical_hits, 1);
}

#[test]
fn liveness_and_the_canonical_key_are_the_same_for_small_and_large_memories() {
    // Memories of up to 64 cells per kind take a narrower path; it must agree with the wide one.
    let small = MemorySizes {
        scalars: 6,
        vectors: 5,
        matrices: 3,
    };
    let programs = common::random_programs(small, Op::ALL, 300, 5);
    let mut narrow = Default::default();
    let mut dead = 0;
    for a in &programs {
        liveness::live_into(a, &small, &mut narrow);
        let wide = liveness::live_instructions(a);
        assert_eq!(narrow, wide, "{a}");
        dead += wide.iter().flatten().filter(|k| !**k).count();
        assert_eq!(
            liveness::canonical_key_of_live(a, &small, &narrow),
            liveness::canonical_key(a),
            "{a}"
        );
    }
    // The programs have dead code, so the flags were tested both ways.
    assert!(dead > 300, "{dead}");
}

#[test]
fn a_member_whose_live_instruction_is_beyond_the_memory_is_an_error_naming_it() {
    // Members are compiled without a full check first; their compiled addresses are checked.
    let spec = TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 30, 20, 3);
    let tasks = build_tasks::<4>(&[spec], "search_tasks", Path::new(".")).unwrap();
    let sizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    let mut settings = EvalSettings::plain(sizes, 100.0);
    settings.canonical_cache = 100;
    let mut evaluator = Evaluator::new(tasks, settings);
    let mut bad = automl_zero_engine::builtins::linear(0.01);
    // Predict's s1 = dot(v0, v7): live, and v7 is beyond three vectors.
    bad.predict[0].in2 = 7;
    let mut fitnesses = Vec::new();
    let made = evaluator.evaluate_made(
        2,
        |i, out| {
            *out = if i == 0 {
                automl_zero_engine::builtins::linear(0.01)
            } else {
                bad.clone()
            };
            1
        },
        std::slice::from_ref(&(0..3)),
        |_, _, _| true,
        &mut fitnesses,
    );
    let error = made.unwrap_err();
    assert!(
        error.contains("Predict, instruction 1") && error.contains("v7 is beyond the memory"),
        "{error}"
    );
    // A caller's algorithm is checked whole, dead instructions included.
    let mut dead = automl_zero_engine::builtins::linear(0.01);
    dead.learn
        .push(automl_zero_engine::program::Instruction::new(
            Op::ScalarSum,
            0,
            0,
            9,
        ));
    let error = evaluator.evaluate(&dead, 1).unwrap_err();
    assert!(
        error.contains("Learn, instruction 5") && error.contains("s9 is beyond the memory"),
        "{error}"
    );
}
