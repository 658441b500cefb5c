//! Task specifications as a config states them (`[[search_tasks]]` and friends).

use super::files::{Dataset, LabelColumn};
use super::images::DatasetSpec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// What kind of data a task holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Labels are a random linear function of Gaussian features (SPEC 6.3).
    ScalarLinearRegression,
    /// Labels come from a random 2-layer ReLU teacher network (SPEC 6.3); needs F >= 4.
    #[serde(rename = "scalar_2layer_nn_regression")]
    Scalar2layerNnRegression,
    /// Every feature and label is 0.
    UnitTestZeros,
    /// Every feature and label is 1.
    UnitTestOnes,
    /// Example k has every feature and the label equal to k * increment.
    UnitTestIncrement,
    /// Explicit examples listed in the config.
    UnitTestFixed,
    /// Examples read from the user's files (CSV, `.npy`, `.npz`).
    Files,
    /// Two classes of a real image set, projected to F dimensions and standardised (SPEC 6.3).
    ProjectedBinaryClassification,
}

impl TaskKind {
    /// The kind as a config writes it.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::ScalarLinearRegression => "scalar_linear_regression",
            TaskKind::Scalar2layerNnRegression => "scalar_2layer_nn_regression",
            TaskKind::UnitTestZeros => "unit_test_zeros",
            TaskKind::UnitTestOnes => "unit_test_ones",
            TaskKind::UnitTestIncrement => "unit_test_increment",
            TaskKind::UnitTestFixed => "unit_test_fixed",
            TaskKind::Files => "files",
            TaskKind::ProjectedBinaryClassification => "projected_binary_classification",
        }
    }
}

/// How a task's predictions are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalType {
    /// Fitness = FlipAndSquash(root mean squared error).
    RmsError,
    /// Fitness = 1 - error rate, with the prediction a logit and labels 0 or 1.
    Accuracy,
}

/// Explicit examples for a `unit_test_fixed` task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedExamples {
    /// Training feature vectors, each of length `features_size`.
    pub train_features: Vec<Vec<f64>>,
    /// Training labels.
    pub train_labels: Vec<f64>,
    /// Validation feature vectors.
    pub valid_features: Vec<Vec<f64>>,
    /// Validation labels.
    pub valid_labels: Vec<f64>,
}

/// The most training epochs a task may ask for.
pub const MAX_EPOCHS: usize = 10_000;

/// One entry of a task list: `num_tasks` tasks of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The kind of task.
    pub kind: TaskKind,
    /// F, the length of the features vector: 2, 4, 8, 16 or 32 (a file with fewer features is
    /// padded with zero features).
    pub features_size: usize,
    /// Unique training examples per task (for file tasks: at most this many are used; 0 = all).
    #[serde(default)]
    pub num_train_examples: usize,
    /// Passes over the training examples.
    #[serde(default = "one")]
    pub num_train_epochs: usize,
    /// Validation examples per task (for file tasks: at most this many; 0 = all).
    #[serde(default)]
    pub num_valid_examples: usize,
    /// Test examples per task (`projected_binary_classification`), scored by the final evaluation.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_test_examples: usize,
    /// How many tasks this entry makes.
    #[serde(default = "one")]
    pub num_tasks: usize,
    /// How predictions are scored.
    pub eval_type: EvalType,
    /// Seeds of the tasks' data; missing ones continue from the previous one plus 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_seeds: Vec<u32>,
    /// Seeds of the tasks' hidden parameters (teacher weights).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub param_seeds: Vec<u32>,
    /// The step of a `unit_test_increment` task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment: Option<f64>,
    /// The examples of a `unit_test_fixed` task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<FixedExamples>,
    /// `files`: the training data file (or the only file, with `valid_fraction`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_file: Option<PathBuf>,
    /// `files`: the validation data file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_file: Option<PathBuf>,
    /// `files`: the fraction of `train_file`'s rows each task holds out for validation, drawn
    /// by the task's data seed (default 0.25 without `valid_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_fraction: Option<f64>,
    /// `files`: the fraction of `train_file`'s rows held out as test rows: the same rows for
    /// every task, never trained or validated on, scored by the final evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// `files`: the label's column, by header name or 1-based number (default: the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelColumn>,
    /// `files`: standardise features (and regression labels) with the training rows'
    /// statistics (default: on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standardize: Option<bool>,
    /// `projected_binary_classification`: the image set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetSpec>,
    /// `projected_binary_classification`: the (positive, negative) classes; absent: each task
    /// draws a pair by its data seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<[u8; 2]>,
    /// `projected_binary_classification`: the pairs drawn from (default: every pair of classes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<[u8; 2]>,
    /// `projected_binary_classification`: pairs never drawn (in either order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_out_pairs: Vec<[u8; 2]>,
    /// `files`: rows held in memory, read in place of `train_file` (which then only names
    /// them in messages): a table handed over by a program, such as the Python bindings.
    /// Never part of a config file.
    #[serde(skip)]
    pub table: Option<Arc<Dataset>>,
}

fn one() -> usize {
    1
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl TaskSpec {
    /// A generated task spec with the given sizes and default seeds.
    pub fn generated(
        kind: TaskKind,
        features_size: usize,
        num_train_examples: usize,
        num_valid_examples: usize,
        num_tasks: usize,
    ) -> TaskSpec {
        TaskSpec {
            kind,
            features_size,
            num_train_examples,
            num_train_epochs: 1,
            num_valid_examples,
            num_test_examples: 0,
            num_tasks,
            eval_type: EvalType::RmsError,
            data_seeds: vec![],
            param_seeds: vec![],
            increment: None,
            fixed: None,
            train_file: None,
            valid_file: None,
            valid_fraction: None,
            test_fraction: None,
            label: None,
            standardize: None,
            dataset: None,
            classes: None,
            pairs: vec![],
            held_out_pairs: vec![],
            table: None,
        }
    }

    /// Checks the fields that do not need data, naming the offending key under `key`.
    pub fn check(&self, key: &str) -> Result<(), String> {
        let err = |field: &str, what: String| Err(format!("{key}.{field}: {what}"));
        if !crate::interpreter::FEATURE_SIZES.contains(&self.features_size) {
            return err(
                "features_size",
                format!(
                    "{} is not supported; use 2, 4, 8, 16 or 32",
                    self.features_size
                ),
            );
        }
        if self.num_tasks == 0 {
            return err("num_tasks", "must be at least 1".into());
        }
        if self.num_train_epochs == 0 {
            return err("num_train_epochs", "must be at least 1".into());
        }
        if self.num_train_epochs > MAX_EPOCHS {
            return err(
                "num_train_epochs",
                format!(
                    "{} is more than {MAX_EPOCHS} (one evaluation would run for hours)",
                    self.num_train_epochs
                ),
            );
        }
        for (field, seeds) in [
            ("data_seeds", &self.data_seeds),
            ("param_seeds", &self.param_seeds),
        ] {
            if seeds.len() > self.num_tasks {
                return err(
                    field,
                    format!(
                        "{} seeds for {} task{}: give at most one seed per task",
                        seeds.len(),
                        self.num_tasks,
                        if self.num_tasks == 1 { "" } else { "s" }
                    ),
                );
            }
        }
        let generated = !matches!(self.kind, TaskKind::Files | TaskKind::UnitTestFixed);
        if generated {
            if self.num_train_examples == 0 {
                return err("num_train_examples", "must be at least 1".into());
            }
            if self.num_valid_examples == 0 {
                return err("num_valid_examples", "must be at least 1".into());
            }
        }
        match self.kind {
            TaskKind::ScalarLinearRegression | TaskKind::Scalar2layerNnRegression
                if self.eval_type != EvalType::RmsError =>
            {
                return err(
                    "eval_type",
                    "regression tasks are scored by rms_error".into(),
                );
            }
            TaskKind::Scalar2layerNnRegression if self.features_size < 4 => {
                return err(
                    "features_size",
                    "the 2-layer teacher needs at least 4 features".into(),
                );
            }
            TaskKind::UnitTestFixed if self.fixed.is_none() => {
                return err(
                    "fixed",
                    "a unit_test_fixed task lists its examples in `fixed`".into(),
                );
            }
            TaskKind::Files => {
                if self.train_file.is_none() {
                    return err("train_file", "a files task needs `train_file`".into());
                }
                match (&self.valid_file, self.valid_fraction) {
                    (Some(_), Some(_)) => {
                        return err(
                            "valid_fraction",
                            "give either `valid_file` or `valid_fraction`, not both".into(),
                        );
                    }
                    (None, Some(f)) if !(f > 0.0 && f < 1.0) => {
                        return err("valid_fraction", format!("{f} is not in (0, 1)"));
                    }
                    _ => {}
                }
                let held_out =
                    self.valid_fraction.unwrap_or(0.0) + self.test_fraction.unwrap_or(0.0);
                match self.test_fraction {
                    Some(f) if !(f > 0.0 && f < 1.0) => {
                        return err("test_fraction", format!("{f} is not in (0, 1)"));
                    }
                    Some(_) if held_out >= 1.0 => {
                        return err(
                            "test_fraction",
                            "valid_fraction and test_fraction together hold out every row".into(),
                        );
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        self.check_projected(key)?;
        // Keys of one kind on another would be ignored without a word.
        let foreign = [
            (
                "increment",
                self.increment.is_some(),
                TaskKind::UnitTestIncrement,
            ),
            ("fixed", self.fixed.is_some(), TaskKind::UnitTestFixed),
            ("train_file", self.train_file.is_some(), TaskKind::Files),
            ("valid_file", self.valid_file.is_some(), TaskKind::Files),
            (
                "valid_fraction",
                self.valid_fraction.is_some(),
                TaskKind::Files,
            ),
            (
                "test_fraction",
                self.test_fraction.is_some(),
                TaskKind::Files,
            ),
            ("label", self.label.is_some(), TaskKind::Files),
            ("standardize", self.standardize.is_some(), TaskKind::Files),
        ];
        for (field, used, owner) in foreign {
            if used && self.kind != owner {
                return err(
                    field,
                    format!(
                        "only {} tasks take this key, not {}",
                        owner.name(),
                        self.kind.name()
                    ),
                );
            }
        }
        self.check_finite_values(key)
    }

    /// Checks that the numbers a config gives as task data are finite.
    fn check_finite_values(&self, key: &str) -> Result<(), String> {
        let not_finite = |field: String, value: f64| {
            Err(format!(
                "{key}.{field}: must be a finite number, not {value}"
            ))
        };
        if let Some(increment) = self.increment.filter(|v| !v.is_finite()) {
            return not_finite("increment".into(), increment);
        }
        let Some(fixed) = &self.fixed else {
            return Ok(());
        };
        for (name, rows) in [
            ("train_features", &fixed.train_features),
            ("valid_features", &fixed.valid_features),
        ] {
            for (i, row) in rows.iter().enumerate() {
                if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                    return not_finite(format!("fixed.{name}[{i}][{j}]"), row[j]);
                }
            }
        }
        for (name, labels) in [
            ("train_labels", &fixed.train_labels),
            ("valid_labels", &fixed.valid_labels),
        ] {
            if let Some(i) = labels.iter().position(|v| !v.is_finite()) {
                return not_finite(format!("fixed.{name}[{i}]"), labels[i]);
            }
            if self.eval_type == EvalType::Accuracy
                && let Some(i) = labels.iter().position(|&y| !super::files::is_binary(y))
            {
                return Err(format!(
                    "{key}.fixed.{name}[{i}]: labels of accuracy tasks must be 0 or 1, not {}",
                    labels[i]
                ));
            }
        }
        Ok(())
    }
}

impl TaskSpec {
    /// Checks the keys of `projected_binary_classification` tasks, and that no other kind uses
    /// them.
    fn check_projected(&self, key: &str) -> Result<(), String> {
        let err = |field: &str, what: String| Err(format!("{key}.{field}: {what}"));
        if self.kind != TaskKind::ProjectedBinaryClassification {
            let used = [
                ("num_test_examples", self.num_test_examples > 0),
                ("dataset", self.dataset.is_some()),
                ("classes", self.classes.is_some()),
                ("pairs", !self.pairs.is_empty()),
                ("held_out_pairs", !self.held_out_pairs.is_empty()),
            ];
            if let Some((field, _)) = used.iter().find(|(_, used)| *used) {
                return err(
                    field,
                    format!(
                        "only projected_binary_classification tasks take this key, not {}",
                        self.kind.name()
                    ),
                );
            }
            return Ok(());
        }
        let Some(dataset) = &self.dataset else {
            return err(
                "dataset",
                "a projected task needs `dataset = { format = \"idx\", path = \"...\" }`".into(),
            );
        };
        let classes = dataset.num_classes;
        if !(2..=256).contains(&classes) {
            return err(
                "dataset.num_classes",
                format!("{classes} is not in 2..=256"),
            );
        }
        if self.eval_type != EvalType::Accuracy {
            return err(
                "eval_type",
                "binary classification tasks are scored by accuracy".into(),
            );
        }
        let check_pair = |field: String, [a, b]: [u8; 2]| -> Result<(), String> {
            if a == b {
                return Err(format!("{key}.{field}: [{a}, {b}] names one class twice"));
            }
            if a as usize >= classes || b as usize >= classes {
                return Err(format!(
                    "{key}.{field}: [{a}, {b}] names a class outside 0..={}",
                    classes - 1
                ));
            }
            Ok(())
        };
        if let Some(pair) = self.classes {
            check_pair("classes".into(), pair)?;
        }
        for (name, list) in [
            ("pairs", &self.pairs),
            ("held_out_pairs", &self.held_out_pairs),
        ] {
            for (i, &pair) in list.iter().enumerate() {
                check_pair(format!("{name}[{i}]"), pair)?;
            }
        }
        if self.classes.is_none() && super::projected::candidate_pairs(self).is_empty() {
            return err(
                "held_out_pairs",
                "every class pair is held out: no pair is left to draw from".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TaskKind;

    #[test]
    fn kind_names_are_the_config_names() {
        use TaskKind::*;
        for kind in [
            ScalarLinearRegression,
            Scalar2layerNnRegression,
            UnitTestZeros,
            UnitTestOnes,
            UnitTestIncrement,
            UnitTestFixed,
            Files,
            ProjectedBinaryClassification,
        ] {
            let written = toml::Value::try_from(kind).unwrap();
            assert_eq!(written.as_str(), Some(kind.name()), "{kind:?}");
        }
    }
}
