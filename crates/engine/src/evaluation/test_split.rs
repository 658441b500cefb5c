//! The final evaluation: the validation fitness, the test split (examples that neither the
//! search nor the selection of candidates ever saw) and metrics in the data's units.

use super::{Cost, EvalSettings, Metrics, execute, train_then_predict};
use crate::interpreter::{FEATURE_SIZES, Program};
use crate::memory::Memory;
use crate::program::Algorithm;
use crate::rng::MtRng;
use crate::tasks::{Task, TaskError, TaskSpec, build_tasks, collection_features};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The validation and test fitness of one algorithm on one task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestOutcome {
    /// The best validation fitness over epochs, as [`execute`] gives it.
    pub fitness: f64,
    /// The fitness on the test split of the model at the end of training (none without a test
    /// split).
    pub test_fitness: Option<f64>,
    /// Training steps of the validation run (the test run repeats them).
    pub train_steps: u64,
}

/// Trains on a task as [`execute`] does (advancing `rng` the same way), then scores the test
/// split too, with the validation split's rules (SPEC 4.5).
///
/// The test split is scored once, by the model at the end of training: the run is replayed
/// from the same random state on a copy of the task whose training examples are those of every
/// epoch, in the order they were visited, and whose validation split is the test split. With
/// one epoch the replayed model is the very model that was validated; with more, it differs
/// only if Predict has side effects that the validation passes between epochs would have left.
/// A run stopped by `max_abs_error` scores 0 on the test split.
pub fn execute_with_test<const F: usize>(
    program: &Program,
    task: &Task<F>,
    num_train: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
) -> TestOutcome {
    let start = rng.clone();
    let outcome = execute(
        program,
        task,
        num_train,
        task.valid_steps(),
        max_abs_error,
        memory,
        rng,
        None,
    );
    let test_fitness = (!task.test_labels.is_empty()).then(|| {
        let view = test_view(task, num_train);
        let steps = view.train_labels.len();
        let test = execute(
            program,
            &view,
            steps,
            view.valid_steps(),
            max_abs_error,
            memory,
            &mut start.clone(),
            None,
        );
        test.fitness
    });
    TestOutcome {
        fitness: outcome.fitness,
        test_fitness,
        train_steps: outcome.train_steps,
    }
}

/// A one-epoch task holding the first `num_train` training steps of `task` in the order they
/// are taken, validated on `task`'s test split.
fn test_view<const F: usize>(task: &Task<F>, num_train: usize) -> Task<F> {
    let per_epoch = task.train_labels.len();
    let total = num_train.min(task.max_train_examples());
    let order = (0..total).map(|t| task.epochs[t / per_epoch][t % per_epoch] as usize);
    let features = order.clone().map(|i| task.train_features[i]).collect();
    let labels = order.map(|i| task.train_labels[i]).collect();
    Task::new(
        task.index,
        task.eval_type,
        (features, labels),
        (task.test_features.clone(), task.test_labels.clone()),
        1,
        (task.data_seed, task.param_seed),
    )
}

/// The fitnesses of an algorithm on a task list: validation (as `experiment::score` reports
/// it) and test.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// The validation fitnesses combined.
    pub fitness: f64,
    /// The validation fitness of each task.
    pub per_task: Vec<f64>,
    /// The test fitnesses of the tasks that have a test split, combined (none if no task has).
    pub test_fitness: Option<f64>,
    /// The test fitness of each task.
    pub per_task_test: Vec<Option<f64>>,
    /// Metrics in the data's units on the validation rows, and on the test rows when the
    /// tasks have them: means over the tasks of the trained model's (see [`Metrics`]).
    pub metrics: SplitMetrics,
}

/// Metrics of the validation and test rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitMetrics {
    /// On the validation rows.
    pub valid: Option<Metrics>,
    /// On the test rows (absent without test rows).
    pub test: Option<Metrics>,
}

/// The metrics of a program trained on each task (see [`train_then_predict`]), on its
/// validation and test rows, averaged over the tasks.
fn task_metrics<const F: usize>(
    program: &Program,
    tasks: &[Task<F>],
    train_steps: impl Fn(&Task<F>) -> usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
) -> SplitMetrics {
    let (mut valid, mut test) = (Vec::new(), Vec::new());
    for task in tasks {
        let splits: [&[_]; 2] = [&task.valid_features, &task.test_features];
        let predicted = train_then_predict(
            program,
            task,
            train_steps(task),
            max_abs_error,
            memory,
            rng,
            &splits,
        );
        let of = |k: usize, labels: &[f64]| {
            Metrics::of(
                task.eval_type,
                predicted.as_ref().map(|p| p[k].as_slice()),
                labels,
                task.label_scale,
            )
        };
        valid.push(of(0, &task.valid_labels));
        if !task.test_labels.is_empty() {
            test.push(of(1, &task.test_labels));
        }
    }
    SplitMetrics {
        valid: Metrics::mean(&valid),
        test: Metrics::mean(&test),
    }
}

impl Scores {
    /// Mean and sample standard deviation of the test fitnesses (none without test splits; the
    /// deviation is 0 for a single task).
    pub fn test_mean_sd(&self) -> Option<(f64, f64)> {
        let tests: Vec<f64> = self.per_task_test.iter().flatten().copied().collect();
        if tests.is_empty() {
            return None;
        }
        let n = tests.len() as f64;
        let mean = tests.iter().sum::<f64>() / n;
        let sum_sq: f64 = tests.iter().map(|t| (t - mean) * (t - mean)).sum();
        let sd = if tests.len() > 1 {
            (sum_sq / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Some((mean, sd))
    }
}

/// An error scoring an algorithm on a task list.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// The tasks could not be built.
    #[error(transparent)]
    Tasks(#[from] TaskError),
    /// The algorithm does not fit the memory sizes.
    #[error("{0}")]
    Program(String),
}

/// Scores an algorithm on a task list as `experiment::score` does (same tasks, seed, random
/// stream and train budget) and also on the tasks' test splits.
pub fn score_with_test(
    algorithm: &Algorithm,
    specs: &[TaskSpec],
    key: &str,
    settings: &EvalSettings,
    base_dir: &Path,
    seed: u64,
) -> Result<Scores, ScoreError> {
    let features = collection_features(specs, key)?;
    crate::with_features!(features, F => score_for::<F>(algorithm, specs, key, settings, base_dir, seed),
        _ => Err(ScoreError::Program(format!("{key}: features_size {features} is not one of {FEATURE_SIZES:?}"))))
}

fn score_for<const F: usize>(
    algorithm: &Algorithm,
    specs: &[TaskSpec],
    key: &str,
    settings: &EvalSettings,
    base_dir: &Path,
    seed: u64,
) -> Result<Scores, ScoreError> {
    let tasks = build_tasks::<F>(specs, key, base_dir)?;
    let program = Program::compile(algorithm, &settings.sizes, F).map_err(ScoreError::Program)?;
    let cost = settings.budget.map(|_| Cost::of_algorithm(algorithm));
    let mut memory = Memory::new(settings.sizes);
    let mut rng = MtRng::new(seed as u32);
    let (mut per_task, mut per_task_test) = (Vec::new(), Vec::new());
    let steps = |task: &Task<F>| match (settings.budget, cost) {
        (Some(budget), Some(cost)) => budget.train_examples(cost, task.max_train_examples()),
        _ => task.max_train_examples(),
    };
    for task in &tasks {
        let n = steps(task);
        let outcome = execute_with_test(
            &program,
            task,
            n,
            settings.max_abs_error,
            &mut memory,
            &mut rng,
        );
        per_task.push(outcome.fitness);
        per_task_test.push(outcome.test_fitness);
    }
    let tests: Vec<f64> = per_task_test.iter().flatten().copied().collect();
    let metrics = task_metrics(
        &program,
        &tasks,
        steps,
        settings.max_abs_error,
        &mut memory,
        &mut MtRng::new(seed as u32),
    );
    Ok(Scores {
        fitness: settings.combination.combine(&per_task),
        test_fitness: (!tests.is_empty()).then(|| settings.combination.combine(&tests)),
        per_task,
        per_task_test,
        metrics,
    })
}
