//! Tasks: the datasets an algorithm learns, generated from seeds or read from files.

pub mod file_tasks;
pub mod files;
mod generated;
pub mod images;
pub mod projected;
mod spec;

pub use files::{
    DataError, Dataset, LabelColumn, Labels, Table, read_dataset, read_dataset_with, read_table,
};
pub use generated::{linear_weights, teacher_weights};
pub use images::{DatasetFormat, DatasetSpec, ImageSet, resolve_dataset_paths};
pub use spec::{EvalType, FixedExamples, TaskKind, TaskSpec};

use crate::memory::Vector;
use crate::rng::{MtRng, Rng, offset, salt};
use std::path::Path;

/// Default param seeds of a task list that gives none (SPEC 6.2).
const DEFAULT_PARAM_SEEDS: [u32; 8] = [1001, 1012, 1010, 1000, 1006, 1008, 1007, 1003];
/// Default data seeds of a task list that gives none (SPEC 6.2).
const DEFAULT_DATA_SEEDS: [u32; 8] = [11001, 11012, 11010, 11000, 11006, 11008, 11007, 11003];

/// One task: training and validation examples with a fixed order per epoch.
#[derive(Debug, Clone)]
pub struct Task<const F: usize> {
    /// Position of the task in its collection, counted across specs.
    pub index: usize,
    /// How predictions are scored.
    pub eval_type: EvalType,
    /// Training features.
    pub train_features: Vec<Vector<F>>,
    /// Training labels.
    pub train_labels: Vec<f64>,
    /// Validation features.
    pub valid_features: Vec<Vector<F>>,
    /// Validation labels.
    pub valid_labels: Vec<f64>,
    /// Test features (empty unless the task has a test split).
    pub test_features: Vec<Vector<F>>,
    /// Test labels.
    pub test_labels: Vec<f64>,
    /// The order of the training examples in each epoch (epoch 0 is the data order).
    pub epochs: Vec<Vec<u32>>,
    /// The seed the data came from.
    pub data_seed: u32,
    /// The seed the hidden parameters came from.
    pub param_seed: u32,
    /// How the labels were scaled from the data's units (file tasks).
    pub label_scale: LabelScale,
}

/// How a task's labels were scaled: `label = (y - mean) / sd` for `y` in the data's units.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelScale {
    /// The training labels' mean.
    pub mean: f64,
    /// The training labels' standard deviation.
    pub sd: f64,
}

impl Default for LabelScale {
    fn default() -> Self {
        LabelScale { mean: 0.0, sd: 1.0 }
    }
}

impl LabelScale {
    /// A label in the data's units, scaled.
    pub fn scale(&self, y: f64) -> f64 {
        (y - self.mean) / self.sd
    }

    /// A scaled label or prediction, in the data's units.
    pub fn unscale(&self, y: f64) -> f64 {
        self.mean + self.sd * y
    }
}

impl<const F: usize> Task<F> {
    /// Builds a task from examples, with `epochs` orders shuffled by the data seed as the
    /// original shuffles them: epoch 0 in data order, each later one the previous shuffled again.
    pub fn new(
        index: usize,
        eval_type: EvalType,
        train: (Vec<Vector<F>>, Vec<f64>),
        valid: (Vec<Vector<F>>, Vec<f64>),
        epochs: usize,
        seeds: (u32, u32),
    ) -> Task<F> {
        let n = train.0.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut rng = MtRng::new(seeds.0.wrapping_add(offset::EPOCHS));
        let mut orders = Vec::with_capacity(epochs);
        for _ in 0..epochs {
            orders.push(order.clone());
            rng.shuffle(&mut order);
        }
        Task {
            index,
            eval_type,
            train_features: train.0,
            train_labels: train.1,
            valid_features: valid.0,
            valid_labels: valid.1,
            test_features: Vec::new(),
            test_labels: Vec::new(),
            epochs: orders,
            data_seed: seeds.0,
            param_seed: seeds.1,
            label_scale: LabelScale::default(),
        }
    }

    /// The task with this test split (examples scored only by the final evaluation).
    pub fn with_test(mut self, test: (Vec<Vector<F>>, Vec<f64>)) -> Task<F> {
        (self.test_features, self.test_labels) = test;
        self
    }

    /// The task with labels scaled by `scale` from the data's units.
    pub fn with_label_scale(mut self, scale: LabelScale) -> Task<F> {
        self.label_scale = scale;
        self
    }

    /// Training steps over all epochs.
    pub fn max_train_examples(&self) -> usize {
        self.train_labels.len() * self.epochs.len()
    }

    /// Number of validation examples.
    pub fn valid_steps(&self) -> usize {
        self.valid_labels.len()
    }
}

/// An error building tasks, naming the config key or the file.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A spec field is wrong.
    #[error("{0}")]
    Spec(String),
    /// A data file could not be used.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// The feature size shared by all specs of a collection.
pub fn collection_features(specs: &[TaskSpec], key: &str) -> Result<usize, TaskError> {
    let Some(first) = specs.first() else {
        return Err(TaskError::Spec(format!("{key}: no tasks are listed")));
    };
    for (i, spec) in specs.iter().enumerate() {
        spec.check(&format!("{key}[{i}]"))
            .map_err(TaskError::Spec)?;
        if spec.features_size != first.features_size {
            return Err(TaskError::Spec(format!(
                "{key}[{i}].features_size: {} differs from the {} of the first task; all tasks of a list share one feature size",
                spec.features_size, first.features_size
            )));
        }
    }
    Ok(first.features_size)
}

/// The seed of task `i` from a list: the listed one, else the previous plus 1.
pub fn nth_seed(list: &[u32], defaults: &[u32], i: usize) -> u32 {
    let list = if list.is_empty() { defaults } else { list };
    match list.get(i) {
        Some(&s) => s,
        None => list[list.len() - 1].wrapping_add((i + 1 - list.len()) as u32),
    }
}

/// The data seed of a spec's first task.
pub fn first_data_seed(spec: &TaskSpec) -> u32 {
    nth_seed(&spec.data_seeds, &DEFAULT_DATA_SEEDS, 0)
}

/// Builds every task of a collection, in order; file paths are relative to `base_dir`.
pub fn build_tasks<const F: usize>(
    specs: &[TaskSpec],
    key: &str,
    base_dir: &Path,
) -> Result<Vec<Task<F>>, TaskError> {
    let features = collection_features(specs, key)?;
    if features != F {
        return Err(TaskError::Spec(format!(
            "{key}: tasks have {features} features, the engine was started for {F}"
        )));
    }
    let mut tasks = Vec::new();
    for (spec_index, spec) in specs.iter().enumerate() {
        let key = format!("{key}[{spec_index}]");
        let file_data = match spec.kind {
            TaskKind::Files => Some(file_tasks::read(spec, &key, base_dir)?),
            _ => None,
        };
        // Read once per process, shared by every task (and experiment) that uses it.
        let images = match spec.kind {
            TaskKind::ProjectedBinaryClassification => {
                Some(images::load_for_spec(spec, &key, base_dir)?)
            }
            _ => None,
        };
        for i in 0..spec.num_tasks {
            let data_seed = nth_seed(&spec.data_seeds, &DEFAULT_DATA_SEEDS, i);
            let param_seed = nth_seed(&spec.param_seeds, &DEFAULT_PARAM_SEEDS, i);
            let mut test = (Vec::new(), Vec::new());
            let mut label_scale = LabelScale::default();
            let (train, valid) = match (&file_data, &images) {
                (Some(data), _) => {
                    let examples = file_tasks::examples::<F>(data, spec, data_seed);
                    (test, label_scale) = (examples.test, examples.label_scale);
                    (examples.train, examples.valid)
                }
                (None, Some(images)) => {
                    let (train, valid, t) =
                        projected::examples::<F>(spec, &key, images, data_seed)?;
                    test = t;
                    (train, valid)
                }
                (None, None) => generated::examples::<F>(spec, &key, data_seed, param_seed)?,
            };
            check_examples(
                spec,
                &key,
                i,
                data_seed,
                [("train", &train), ("valid", &valid), ("test", &test)],
            )?;
            tasks.push(
                Task::new(
                    tasks.len(),
                    spec.eval_type,
                    train,
                    valid,
                    spec.num_train_epochs,
                    (data_seed, param_seed),
                )
                .with_test(test)
                .with_label_scale(label_scale),
            );
        }
    }
    Ok(tasks)
}

/// Warnings about splits that cannot teach or test much: rows of one class only (accuracy), or
/// one label value only (regression); at most one line per split.
pub fn split_warnings<const F: usize>(tasks: &[Task<F>], key: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut warned = Vec::new();
    for (t, task) in tasks.iter().enumerate() {
        for (split, labels) in [
            ("training", &task.train_labels),
            ("validation", &task.valid_labels),
            ("test", &task.test_labels),
        ] {
            let Some(&first) = labels.first() else {
                continue;
            };
            if labels.len() < 2 || labels.iter().any(|&y| y != first) || warned.contains(&split) {
                continue;
            }
            warned.push(split);
            let what = match task.eval_type {
                EvalType::Accuracy => format!("hold only class {first}"),
                EvalType::RmsError => {
                    format!("all have the label {}", task.label_scale.unscale(first))
                }
            };
            warnings.push(format!("{key}: the {split} rows of task {t} {what}"));
        }
    }
    warnings
}

/// Checks the examples of task `i` of a spec once built: every feature and label must be finite,
/// and the labels of accuracy tasks 0 or 1.
fn check_examples<const F: usize>(
    spec: &TaskSpec,
    key: &str,
    i: usize,
    data_seed: u32,
    splits: [(&str, &generated::Split<F>); 3],
) -> Result<(), TaskError> {
    let task = || {
        format!(
            "{key}: task {i} ({}, data seed {data_seed})",
            spec.kind.name()
        )
    };
    for (name, (features, labels)) in splits {
        let bad_feature = features
            .iter()
            .enumerate()
            .find_map(|(j, x)| x.iter().find(|v| !v.is_finite()).map(|&v| (j, v)));
        if let Some((j, v)) = bad_feature {
            return Err(TaskError::Spec(format!(
                "{}: {name} example {j} has a feature {v}; task data must be finite",
                task()
            )));
        }
        if let Some((j, &v)) = labels.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(TaskError::Spec(format!(
                "{}: {name} example {j} has the label {v}; task data must be finite",
                task()
            )));
        }
        if spec.eval_type == EvalType::Accuracy
            && let Some((j, &v)) = labels
                .iter()
                .enumerate()
                .find(|(_, y)| !files::is_binary(**y))
        {
            return Err(TaskError::Spec(format!(
                "{}: {name} example {j} has the label {v}, but labels of accuracy tasks must be 0 or 1",
                task()
            )));
        }
    }
    Ok(())
}

/// Replaces every spec's seeds with `num_tasks` fresh random ones drawn from `seed`.
pub fn randomize_seeds(specs: &mut [TaskSpec], seed: u64) {
    let mut params = Rng::new(seed, salt::TASK_SEEDS);
    let mut data = Rng::new(seed, salt::TASK_SEEDS ^ 0xDA7A);
    for spec in specs {
        spec.param_seeds = (0..spec.num_tasks).map(|_| params.seed32()).collect();
        spec.data_seeds = (0..spec.num_tasks).map(|_| data.seed32()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_seeds_continue_from_the_last_plus_one() {
        assert_eq!(nth_seed(&[5, 9], &DEFAULT_DATA_SEEDS, 0), 5);
        assert_eq!(nth_seed(&[5, 9], &DEFAULT_DATA_SEEDS, 1), 9);
        assert_eq!(nth_seed(&[5, 9], &DEFAULT_DATA_SEEDS, 2), 10);
        assert_eq!(nth_seed(&[5, 9], &DEFAULT_DATA_SEEDS, 4), 12);
        assert_eq!(nth_seed(&[], &DEFAULT_DATA_SEEDS, 0), 11001);
        assert_eq!(nth_seed(&[], &DEFAULT_DATA_SEEDS, 8), 11004);
    }

    #[test]
    fn epoch_zero_is_data_order_and_later_epochs_are_permutations() {
        let x = vec![[0.0; 2]; 50];
        let y = vec![0.0; 50];
        let t: Task<2> = Task::new(
            0,
            EvalType::RmsError,
            (x.clone(), y.clone()),
            (x, y),
            3,
            (7, 8),
        );
        assert_eq!(t.epochs[0], (0..50).collect::<Vec<u32>>());
        assert_ne!(t.epochs[1], t.epochs[0]);
        assert_ne!(t.epochs[2], t.epochs[1]);
        let mut sorted = t.epochs[2].clone();
        sorted.sort();
        assert_eq!(sorted, t.epochs[0]);
        assert_eq!(t.max_train_examples(), 150);
    }

    #[test]
    fn tasks_get_global_indices_and_distinct_seeds() {
        let specs = vec![
            TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 10, 10, 2),
            TaskSpec::generated(TaskKind::UnitTestOnes, 4, 10, 10, 3),
        ];
        let tasks = build_tasks::<4>(&specs, "search_tasks", Path::new(".")).unwrap();
        assert_eq!(tasks.len(), 5);
        assert_eq!(tasks[4].index, 4);
        assert_ne!(tasks[0].train_labels, tasks[1].train_labels);
    }

    #[test]
    fn generated_data_that_overflows_is_an_error_naming_the_task() {
        let mut spec = TaskSpec::generated(TaskKind::UnitTestIncrement, 4, 10, 5, 2);
        spec.increment = Some(1e308);
        let e = build_tasks::<4>(&[spec], "search_tasks", Path::new("."))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "search_tasks[0]: task 0 (unit_test_increment, data seed 11001): train example 2 \
             has a feature inf; task data must be finite"
        );
    }

    #[test]
    fn generated_accuracy_labels_must_be_0_or_1() {
        let mut spec = TaskSpec::generated(TaskKind::UnitTestIncrement, 4, 10, 5, 1);
        spec.eval_type = EvalType::Accuracy;
        let e = build_tasks::<4>(&[spec], "final_tasks", Path::new("."))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "final_tasks[0]: task 0 (unit_test_increment, data seed 11001): train example 2 \
             has the label 2, but labels of accuracy tasks must be 0 or 1"
        );
        for kind in [TaskKind::UnitTestZeros, TaskKind::UnitTestOnes] {
            let mut spec = TaskSpec::generated(kind, 4, 10, 5, 1);
            spec.eval_type = EvalType::Accuracy;
            build_tasks::<4>(&[spec], "final_tasks", Path::new(".")).unwrap();
        }
    }

    #[test]
    fn mixed_feature_sizes_are_an_error_naming_the_key() {
        let specs = vec![
            TaskSpec::generated(TaskKind::UnitTestOnes, 4, 10, 10, 1),
            TaskSpec::generated(TaskKind::UnitTestOnes, 8, 10, 10, 1),
        ];
        let e = collection_features(&specs, "final_tasks")
            .unwrap_err()
            .to_string();
        assert!(e.contains("final_tasks[1].features_size"), "{e}");
    }
}
