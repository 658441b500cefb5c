//! Helpers shared by the integration tests that compare evaluation paths on random programs.
#![allow(dead_code)] // each test file uses its own subset

use automl_zero_engine::builtins::{Builtin, Generator};
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::Algorithm;
use automl_zero_engine::rng::Rng;
use automl_zero_engine::tasks::{EvalType, Task, TaskKind, TaskSpec, build_tasks};
use std::path::Path;

/// Every op that draws no random numbers.
pub fn deterministic_ops() -> Vec<Op> {
    Op::ALL
        .iter()
        .copied()
        .filter(|op| !op.info().random)
        .collect()
}

/// `count` random programs over `ops` (Setup, Predict and Learn of 5, 4 and 6 instructions).
pub fn random_programs(sizes: MemorySizes, ops: &[Op], count: usize, seed: u64) -> Vec<Algorithm> {
    let generator = Generator {
        sizes,
        size_init: [5, 4, 6],
        ops: [ops.to_vec(), ops.to_vec(), ops.to_vec()],
    };
    let mut rng = Rng::new(seed, 0);
    (0..count)
        .map(|_| generator.build(Builtin::Random, &mut rng).unwrap())
        .collect()
}

/// `count` linear regression tasks of 30 examples per epoch, `epochs` epochs and 20 validation
/// examples, each with its own data, scored by `eval_type`.
pub fn linear_tasks<const F: usize>(
    count: usize,
    epochs: usize,
    eval_type: EvalType,
) -> Vec<Task<F>> {
    let mut spec = TaskSpec::generated(TaskKind::ScalarLinearRegression, F, 30, 20, count);
    spec.num_train_epochs = epochs;
    let mut tasks = build_tasks::<F>(&[spec], "search_tasks", Path::new(".")).unwrap();
    for task in &mut tasks {
        task.eval_type = eval_type;
    }
    tasks
}
