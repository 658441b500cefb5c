//! A found learner trained on a whole table and kept, to predict new rows: the fitted model of
//! the Python estimators. It trains as `automl-zero predict` does (the config's first files
//! task: its scaling, epochs and first data seed, on every row), then predicts each new row on
//! its own, from the memory training left, so that a row's prediction does not depend on the
//! rows predicted with it.

use crate::config::Config;
use crate::evaluation::train_then_predict;
use crate::interpreter::{FEATURE_SIZES, Program};
use crate::memory::{FEATURES, LABEL, Memory, MemorySizes, PREDICTION};
use crate::program::{Algorithm, Component};
use crate::rng::MtRng;
use crate::tasks::file_tasks::{self, FileData, Scaling};
use crate::tasks::{Dataset, EvalType, Task, TaskKind, TaskSpec, first_data_seed};
use crate::with_features;
use serde::{Deserialize, Serialize};

/// A learner trained on a table: its algorithm, the memory training left, and the scaling of
/// the table's columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    /// The learner.
    pub algorithm: Algorithm,
    /// The memory sizes it runs with.
    pub sizes: MemorySizes,
    /// The feature size F it runs with (the table's features padded).
    pub features_size: usize,
    /// Regression (predictions in the label's units) or classification (logits).
    pub eval_type: EvalType,
    /// The features' (and regression labels') scaling, fitted on the table.
    pub scaling: Scaling,
    /// The scalars after training.
    pub scalars: Vec<f64>,
    /// The vectors after training, F values each, one after another.
    pub vectors: Vec<f64>,
    /// The matrices after training, F·F values each (row-major), one after another.
    pub matrices: Vec<f64>,
    /// The seed of the random ops (each row's prediction starts the stream afresh).
    pub seed: u32,
}

/// An error training or applying a learner.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The config has no task that reads a table.
    #[error("the config has no files task, so there is no way to train like its search did")]
    NoFilesTask,
    /// The table does not suit the config.
    #[error("{0}")]
    Table(String),
    /// The learner does not fit the config's memory.
    #[error("the learner does not fit the memory: {0}")]
    Program(String),
    /// Training diverged.
    #[error(
        "the learner diverged while training on the {rows} rows (an error above search.max_abs_error = {max_abs_error})"
    )]
    Diverged {
        /// Rows trained on.
        rows: usize,
        /// The config's limit.
        max_abs_error: f64,
    },
}

/// The files task a learner trains like: the first of the final, select or search tasks.
pub fn training_spec(config: &Config) -> Option<&TaskSpec> {
    [
        &config.final_tasks,
        &config.select_tasks,
        &config.search_tasks,
    ]
    .into_iter()
    .flatten()
    .find(|s| s.kind == TaskKind::Files)
}

impl Trained {
    /// Trains `algorithm` on every row of `table` as the config's files tasks train, with
    /// `seed` feeding its random ops.
    pub fn fit(
        algorithm: &Algorithm,
        config: &Config,
        table: Dataset,
        seed: u32,
    ) -> Result<Trained, ModelError> {
        let spec = training_spec(config).ok_or(ModelError::NoFilesTask)?;
        check_table(&table, spec)?;
        let rows = table.num_rows();
        let empty = Dataset {
            features: Vec::new(),
            labels: Vec::new(),
            num_features: table.num_features,
            names: None,
        };
        // Every row trains: the table is the pool, and validates on no row.
        let data = FileData {
            pool: (0..rows).collect(),
            valid: Some(empty),
            train: table,
            test_rows: Vec::new(),
        };
        let features = spec.features_size;
        with_features!(features, F => train::<F>(algorithm, config, spec, &data, seed),
            _ => Err(ModelError::Table(format!("features_size {features} is not one of {FEATURE_SIZES:?}"))))
    }

    /// The feature columns the model was trained on.
    pub fn num_features(&self) -> usize {
        self.scaling.feature_mean.len()
    }

    /// The learner's output for each row of `rows` (row-major, `num_features()` values each):
    /// in the label's units (regression) or a logit (classification).
    pub fn predict(&self, rows: &[f64]) -> Result<Vec<f64>, ModelError> {
        let n = self.num_features();
        if n == 0 || !rows.len().is_multiple_of(n) {
            return Err(ModelError::Table(format!(
                "{} values do not make rows of {n} features",
                rows.len()
            )));
        }
        let features = self.features_size;
        with_features!(features, F => self.predict_for::<F>(rows, n),
            _ => Err(ModelError::Table(format!("features_size {features} is not one of {FEATURE_SIZES:?}"))))
    }

    fn predict_for<const F: usize>(&self, rows: &[f64], n: usize) -> Result<Vec<f64>, ModelError> {
        let program =
            Program::compile(&self.algorithm, &self.sizes, F).map_err(ModelError::Program)?;
        let trained = self.memory::<F>();
        let mut memory = trained.clone();
        let mut rng = MtRng::new(self.seed);
        let outputs = rows.chunks(n).map(|row| {
            memory.copy_used(&trained, program.needs());
            if program.is_random() {
                rng = MtRng::new(self.seed);
            }
            memory.vectors[FEATURES as usize] = self.scaling.features::<F>(row);
            memory.scalars[LABEL as usize] = 0.0;
            program.run(Component::Predict, &mut memory, &mut rng);
            let output = memory.scalars[PREDICTION as usize];
            match self.eval_type {
                EvalType::RmsError => self.scaling.label.unscale(output),
                EvalType::Accuracy => output,
            }
        });
        Ok(outputs.collect())
    }

    /// The trained memory, unflattened.
    fn memory<const F: usize>(&self) -> Memory<F> {
        let mut memory = Memory::<F>::new(self.sizes);
        memory.scalars.copy_from_slice(&self.scalars);
        for (v, values) in memory.vectors.iter_mut().zip(self.vectors.chunks(F)) {
            v.copy_from_slice(values);
        }
        for (m, values) in memory.matrices.iter_mut().zip(self.matrices.chunks(F * F)) {
            for (row, values) in m.iter_mut().zip(values.chunks(F)) {
                row.copy_from_slice(values);
            }
        }
        memory
    }
}

/// Checks that a table suits a files task: its features fit F, its labels are 0 or 1 for a
/// classification task, every value is finite, and it has rows.
fn check_table(table: &Dataset, spec: &TaskSpec) -> Result<(), ModelError> {
    let fail = |what: String| Err(ModelError::Table(what));
    if table.num_rows() == 0 {
        return fail("the table has no rows".into());
    }
    if table.num_features > spec.features_size {
        return fail(format!(
            "the table has {} features, but the config's tasks {}",
            table.num_features, spec.features_size
        ));
    }
    if table
        .features
        .iter()
        .chain(&table.labels)
        .any(|v| !v.is_finite())
    {
        return fail("the table holds a value that is not finite".into());
    }
    if spec.eval_type == EvalType::Accuracy && table.labels.iter().any(|&y| y != 0.0 && y != 1.0) {
        return fail("labels of a classification task must be 0 or 1".into());
    }
    Ok(())
}

/// Trains at feature size F.
fn train<const F: usize>(
    algorithm: &Algorithm,
    config: &Config,
    spec: &TaskSpec,
    data: &FileData,
    seed: u32,
) -> Result<Trained, ModelError> {
    let data_seed = first_data_seed(spec);
    let examples = file_tasks::examples::<F>(data, spec, data_seed);
    let task = Task::new(
        0,
        spec.eval_type,
        examples.train,
        examples.valid,
        spec.num_train_epochs,
        (data_seed, 0),
    )
    .with_label_scale(examples.label_scale);
    let program = Program::compile(algorithm, &config.memory, F).map_err(ModelError::Program)?;
    let mut memory = Memory::<F>::new(config.memory);
    let max_abs_error = config.search.max_abs_error;
    let steps = task.max_train_examples();
    let mut rng = MtRng::new(seed);
    if train_then_predict(
        &program,
        &task,
        steps,
        max_abs_error,
        &mut memory,
        &mut rng,
        &[],
    )
    .is_none()
    {
        return Err(ModelError::Diverged {
            rows: data.train.num_rows(),
            max_abs_error,
        });
    }
    Ok(Trained {
        algorithm: algorithm.clone(),
        sizes: config.memory,
        features_size: F,
        eval_type: spec.eval_type,
        scaling: examples.scaling,
        scalars: memory.scalars.clone(),
        vectors: memory.vectors.iter().flatten().copied().collect(),
        matrices: memory
            .matrices
            .iter()
            .flatten()
            .flatten()
            .copied()
            .collect(),
        seed,
    })
}
