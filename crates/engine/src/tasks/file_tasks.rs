//! Tasks made from the user's data files.
//!
//! A file is read once per task list entry. Every task shuffles its rows by its own data seed
//! before splitting them into training and validation rows, so that `num_tasks` tasks are that
//! many different resamples, a new data seed (`randomize_task_seeds`) draws new splits, and no
//! program can read a label from the order of the rows. A `test_fraction` holds out the same
//! rows for every task (never trained or validated on). Features, and the labels of regression
//! tasks, are standardised with the training rows' statistics; a file with fewer than F
//! features is padded with zero features, which no weight can use.

use super::files::{Dataset, Labels, read_table};
use super::{EvalType, LabelScale, TaskError, TaskSpec};
use crate::memory::Vector;
use crate::rng::{MtRng, offset};
use std::path::{Path, PathBuf};

/// The default share of rows a task validates on when no `valid_file` is given.
pub const DEFAULT_VALID_FRACTION: f64 = 0.25;

/// A spec's data, read once for all its tasks.
#[derive(Debug, Clone)]
pub struct FileData {
    /// The training file's rows (test rows included).
    pub train: Dataset,
    /// The validation file's rows, if the spec names one.
    pub valid: Option<Dataset>,
    /// Rows of `train` held out as test rows, the same for every task.
    pub test_rows: Vec<usize>,
    /// Rows of `train` the tasks draw their training and validation rows from.
    pub pool: Vec<usize>,
}

/// The examples of one file task, scaled and padded to F.
pub struct FileExamples<const F: usize> {
    /// Training features and labels.
    pub train: (Vec<Vector<F>>, Vec<f64>),
    /// Validation features and labels.
    pub valid: (Vec<Vector<F>>, Vec<f64>),
    /// Test features and labels (empty without `test_fraction`).
    pub test: (Vec<Vector<F>>, Vec<f64>),
    /// How the labels were scaled.
    pub label_scale: LabelScale,
    /// How the features and labels were scaled (fitted on the training rows).
    pub scaling: Scaling,
}

/// Reads a spec's files (paths relative to `base_dir`), or takes its table in memory, and
/// holds out its test rows.
pub fn read(spec: &TaskSpec, key: &str, base_dir: &Path) -> Result<FileData, TaskError> {
    let labels = match spec.eval_type {
        EvalType::Accuracy => Labels::Binary,
        EvalType::RmsError => Labels::Any,
    };
    let too_wide = |data: &Dataset, name: &dyn std::fmt::Display| {
        TaskError::Spec(format!(
            "{name}: rows have {} features, but {key}.features_size is {}; set it to {}",
            data.num_features,
            spec.features_size,
            padded_size(data.num_features).map_or("at most 32 features".into(), |f| f.to_string())
        ))
    };
    let read = |path: &PathBuf| -> Result<Dataset, TaskError> {
        let path = base_dir.join(path);
        let data = read_table(&path)?.into_dataset(&path, spec.label.as_ref(), labels)?;
        if data.num_features > spec.features_size {
            return Err(too_wide(&data, &path.display()));
        }
        Ok(data)
    };
    let train_file = spec
        .train_file
        .as_ref()
        .expect("checked by TaskSpec::check");
    let train = match &spec.table {
        Some(table) if table.num_features > spec.features_size => {
            return Err(too_wide(table, &"the table"));
        }
        Some(table) => in_memory(table, spec, key, labels)?,
        None => read(train_file)?,
    };
    let valid = spec.valid_file.as_ref().map(read).transpose()?;
    if let Some(v) = &valid
        && v.num_features != train.num_features
    {
        return Err(TaskError::Spec(format!(
            "{key}: the validation file has {} features but the training file {}",
            v.num_features, train.num_features
        )));
    }
    let (test_rows, pool) = hold_out(train.num_rows(), spec.test_fraction);
    let needed = if valid.is_some() { 1 } else { 2 };
    if pool.len() < needed {
        let source = match &spec.table {
            Some(_) => "the table".to_string(),
            None => base_dir.join(train_file).display().to_string(),
        };
        return Err(TaskError::Spec(format!(
            "{key}: {source} has {} rows{}; a task needs at least {needed} to train{}",
            train.num_rows(),
            if test_rows.is_empty() {
                String::new()
            } else {
                format!(" ({} held out as test rows)", test_rows.len())
            },
            if needed == 2 {
                " and validate on"
            } else {
                " on"
            },
        )));
    }
    Ok(FileData {
        train,
        valid,
        test_rows,
        pool,
    })
}

/// A spec's table in memory, checked as a file's rows are: its labels 0 or 1 for accuracy
/// tasks.
fn in_memory(
    table: &Dataset,
    spec: &TaskSpec,
    key: &str,
    labels: Labels,
) -> Result<Dataset, TaskError> {
    if labels == Labels::Binary
        && let Some((row, y)) = table
            .labels
            .iter()
            .enumerate()
            .find(|(_, y)| !super::files::is_binary(**y))
    {
        return Err(TaskError::Spec(format!(
            "{key}: row {row} of the table has the label {y}, but labels of {} tasks must be 0 or 1",
            spec.kind.name()
        )));
    }
    Ok(table.clone())
}

/// The smallest feature size the engine runs that holds `n` features.
pub fn padded_size(n: usize) -> Option<usize> {
    crate::interpreter::FEATURE_SIZES
        .into_iter()
        .find(|&f| f >= n)
}

/// Splits `0..n` into the test rows (`fraction` of them, drawn by a fixed stream) and the rest,
/// each in file order.
fn hold_out(n: usize, fraction: Option<f64>) -> (Vec<usize>, Vec<usize>) {
    let mut rows: Vec<usize> = (0..n).collect();
    let Some(fraction) = fraction.filter(|_| n >= 2) else {
        return (Vec::new(), rows);
    };
    MtRng::new(offset::FILE_TEST_ROWS).shuffle(&mut rows);
    let k = ((n as f64 * fraction).round() as usize).clamp(1, n - 1);
    let mut pool = rows.split_off(k);
    rows.sort_unstable();
    pool.sort_unstable();
    (rows, pool)
}

/// The examples of the task with `data_seed`.
pub fn examples<const F: usize>(
    data: &FileData,
    spec: &TaskSpec,
    data_seed: u32,
) -> FileExamples<F> {
    let mut pool = data.pool.clone();
    MtRng::new(data_seed.wrapping_add(offset::FILE_ROWS)).shuffle(&mut pool);
    let cap = |n: usize, limit: usize| if limit == 0 { n } else { n.min(limit) };
    let (train_rows, valid_source, valid_rows): (Vec<usize>, &Dataset, Vec<usize>) =
        match &data.valid {
            Some(valid) => {
                let rows = (0..cap(valid.num_rows(), spec.num_valid_examples)).collect();
                (pool, valid, rows)
            }
            None => {
                let fraction = spec.valid_fraction.unwrap_or(DEFAULT_VALID_FRACTION);
                let n_valid =
                    ((pool.len() as f64 * fraction).round() as usize).clamp(1, pool.len() - 1);
                let valid_rows = pool.split_off(pool.len() - n_valid);
                let n = cap(valid_rows.len(), spec.num_valid_examples);
                (pool, &data.train, valid_rows[..n].to_vec())
            }
        };
    let train_rows = &train_rows[..cap(train_rows.len(), spec.num_train_examples)];
    let standardize = spec.standardize.unwrap_or(true);
    let scaling = Scaling::fit(
        &data.train,
        train_rows,
        standardize,
        standardize && spec.eval_type == EvalType::RmsError,
    );
    FileExamples {
        train: scaling.rows(&data.train, train_rows),
        valid: scaling.rows(valid_source, &valid_rows),
        test: scaling.rows(&data.train, &data.test_rows),
        label_scale: scaling.label,
        scaling,
    }
}

/// Per-column shifts and scales, fitted on training rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scaling {
    /// Each feature's mean (0 when not standardised).
    pub feature_mean: Vec<f64>,
    /// Each feature's standard deviation (1 when not standardised or constant).
    pub feature_sd: Vec<f64>,
    /// The label's.
    pub label: LabelScale,
}

impl Scaling {
    /// The statistics of `rows` of `data` (population standard deviations; a constant column
    /// keeps the scale 1).
    pub fn fit(data: &Dataset, rows: &[usize], features: bool, labels: bool) -> Scaling {
        let d = data.num_features;
        let stats = |value: &dyn Fn(usize) -> f64| -> (f64, f64) {
            let n = rows.len().max(1) as f64;
            let mean = rows.iter().map(|&r| value(r)).sum::<f64>() / n;
            let var = rows.iter().map(|&r| (value(r) - mean).powi(2)).sum::<f64>() / n;
            let sd = var.sqrt();
            (mean, if sd > 0.0 && sd.is_finite() { sd } else { 1.0 })
        };
        let (feature_mean, feature_sd) = if features {
            (0..d).map(|c| stats(&|r| data.row(r)[c])).unzip()
        } else {
            (vec![0.0; d], vec![1.0; d])
        };
        let label = if labels {
            let (mean, sd) = stats(&|r| data.labels[r]);
            LabelScale { mean, sd }
        } else {
            LabelScale::default()
        };
        Scaling {
            feature_mean,
            feature_sd,
            label,
        }
    }

    /// A row's features scaled, padded with zeros to F.
    pub fn features<const F: usize>(&self, row: &[f64]) -> Vector<F> {
        let mut v = [0.0; F];
        for (c, x) in row.iter().enumerate() {
            v[c] = (x - self.feature_mean[c]) / self.feature_sd[c];
        }
        v
    }

    /// Rows of `data`, scaled.
    fn rows<const F: usize>(&self, data: &Dataset, rows: &[usize]) -> (Vec<Vector<F>>, Vec<f64>) {
        let features = rows.iter().map(|&r| self.features(data.row(r))).collect();
        let labels = rows
            .iter()
            .map(|&r| self.label.scale(data.labels[r]))
            .collect();
        (features, labels)
    }
}
