//! `automl_zero.Config`: an experiment config (TOML), read from a file or text, changed key by
//! key; and the config the estimators make for a table.

use crate::algorithm::Reduced;
use crate::convert::{self, assignment};
use automl_zero_engine::config::table::{Plan, Problem, attach_table, table_config};
use automl_zero_engine::config::{Config, DEMO};
use automl_zero_engine::tasks::Dataset;
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::sync::Arc;

/// What a pickled config is made of: its text, origin, folder and overrides.
type Parts = (String, String, PathBuf, Vec<String>);

/// An experiment config: the TOML schema of docs/config.md, checked when read and when changed.
#[pyclass(name = "Config", module = "automl_zero")]
#[derive(Clone)]
pub struct PyConfig {
    /// The text it was read from.
    text: String,
    /// Where the text came from, for messages.
    origin: String,
    /// The folder its relative paths start from.
    pub base_dir: PathBuf,
    /// The changes made since (`key=value`).
    overrides: Vec<String>,
    /// The table its files tasks read, when held in memory.
    table: Option<Arc<Dataset>>,
    /// The config itself.
    pub inner: Config,
}

/// A config error as a Python ValueError.
pub fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

impl PyConfig {
    /// Reads text with overrides.
    fn read(
        text: String,
        origin: String,
        base_dir: PathBuf,
        overrides: Vec<String>,
    ) -> PyResult<Self> {
        let inner = Config::from_text(&text, &origin, &overrides).map_err(value_error)?;
        Ok(PyConfig {
            text,
            origin,
            base_dir,
            overrides,
            table: None,
            inner,
        })
    }

    /// Whether its files tasks read a table held in memory.
    pub fn in_memory(&self) -> bool {
        self.table.is_some()
    }
}

#[pymethods]
impl PyConfig {
    /// Reads a config file; `overrides` is a dict of keys to set (like `set`).
    #[staticmethod]
    #[pyo3(signature = (path, overrides=None))]
    fn from_file(path: PathBuf, overrides: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            pyo3::exceptions::PyFileNotFoundError::new_err(format!(
                "cannot read {}: {e}",
                path.display()
            ))
        })?;
        let base = path.parent().map(PathBuf::from).unwrap_or_default();
        let mut config = PyConfig::read(text, path.display().to_string(), base, Vec::new())?;
        if let Some(o) = overrides {
            config.update(o)?;
        }
        Ok(config)
    }

    /// Reads config text; relative paths in it start from `base_dir` (default: the working
    /// folder).
    #[staticmethod]
    #[pyo3(signature = (text, base_dir=None))]
    fn from_text(text: String, base_dir: Option<PathBuf>) -> PyResult<Self> {
        PyConfig::read(
            text,
            "the config text".into(),
            base_dir.unwrap_or_default(),
            Vec::new(),
        )
    }

    /// The demo config (the original's run_demo.sh): linear regression tasks, six ops.
    #[staticmethod]
    fn demo() -> PyResult<Self> {
        PyConfig::read(
            DEMO.into(),
            "the demo config".into(),
            PathBuf::new(),
            Vec::new(),
        )
    }

    /// Sets a key (`"search.population_size"`, `"search_tasks.0.num_tasks"`) to a value (a
    /// number, bool, string, list or dict); a wrong key or value raises ValueError naming it.
    fn set(&mut self, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut overrides = self.overrides.clone();
        overrides.push(assignment(key, value)?);
        let mut inner =
            Config::from_text(&self.text, &self.origin, &overrides).map_err(value_error)?;
        if let Some(table) = &self.table {
            attach_table(&mut inner, table);
        }
        self.inner = inner;
        self.overrides = overrides;
        Ok(())
    }

    /// Sets every key of a dict, in order.
    fn update(&mut self, values: &Bound<'_, PyDict>) -> PyResult<()> {
        for (k, v) in values.iter() {
            let k: String = k.extract()?;
            self.set(&k, &v)?;
        }
        Ok(())
    }

    /// The value of a key (`"search.population_size"`); KeyError if it has none.
    fn get<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let mut value = toml::Value::try_from(&self.inner).map_err(value_error)?;
        for part in key.split('.') {
            let next = match &value {
                toml::Value::Table(t) => t.get(part).cloned(),
                toml::Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i).cloned()),
                _ => None,
            };
            value = next
                .ok_or_else(|| PyKeyError::new_err(format!("{key}: the config has no such key")))?;
        }
        convert::toml_to_py(py, &value)
    }

    /// The config as TOML text (every key, defaults included).
    fn to_toml(&self) -> String {
        self.inner.to_toml()
    }

    /// The folder relative paths start from.
    #[getter]
    fn base_dir(&self) -> PathBuf {
        self.base_dir.clone()
    }

    /// The search's feature size F.
    #[getter]
    fn features_size(&self) -> usize {
        self.inner
            .search_tasks
            .first()
            .map_or(0, |t| t.features_size)
    }

    /// A copy (changes to it leave this one alone).
    fn copy(&self) -> Self {
        self.clone()
    }

    fn __copy__(&self) -> Self {
        self.clone()
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.clone()
    }

    fn __str__(&self) -> String {
        self.inner.to_toml()
    }

    fn __repr__(&self) -> String {
        format!(
            "Config({}{})",
            self.origin,
            if self.overrides.is_empty() {
                String::new()
            } else {
                format!(" with {}", self.overrides.join(", "))
            }
        )
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py, Parts>> {
        let this = slf.borrow();
        if this.in_memory() {
            return Err(PyValueError::new_err(
                "a config of a table held in memory cannot be pickled",
            ));
        }
        let restore = slf.get_type().getattr("_restore")?;
        Ok((
            restore,
            (
                this.text.clone(),
                this.origin.clone(),
                this.base_dir.clone(),
                this.overrides.clone(),
            ),
        ))
    }

    /// Rebuilds a pickled config.
    #[staticmethod]
    fn _restore(
        text: String,
        origin: String,
        base_dir: PathBuf,
        overrides: Vec<String>,
    ) -> PyResult<Self> {
        PyConfig::read(text, origin, base_dir, overrides)
    }

    /// The config `automl-zero init` would write for the table (X, y) held in memory, with
    /// `overrides` (`key=value`) applied; `max_seconds` None leaves the search without a time
    /// limit. Returns the config and what the linear baseline reaches (its stop fitness).
    #[staticmethod]
    #[pyo3(signature = (x, y, classification, max_seconds, overrides))]
    fn _for_table(
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f64>,
        y: PyReadonlyArray1<'_, f64>,
        classification: bool,
        max_seconds: Option<f64>,
        overrides: Vec<String>,
    ) -> PyResult<(Self, f64)> {
        let table = convert::dataset(&x, &y)?;
        for_table(py, table, classification, max_seconds, overrides)
    }
}

/// The config `automl-zero init` would write for a table held in memory (see
/// `Config._for_table`), and its baseline fitness.
pub fn for_table(
    py: Python<'_>,
    table: Dataset,
    classification: bool,
    max_seconds: Option<f64>,
    overrides: Vec<String>,
) -> PyResult<(PyConfig, f64)> {
    let table = Arc::new(table);
    let problem = if classification {
        Problem::Classification
    } else {
        Problem::Regression
    };
    let plan = Plan {
        max_seconds,
        ..Plan::in_memory(problem, table.num_rows(), table.num_features)
            .map_err(|e| PyValueError::new_err(format!("X has {e}")))?
    };
    let made = py
        .detach(|| table_config(&plan, &PathBuf::new(), Some(&table), &overrides))
        .map_err(value_error)?;
    let config = PyConfig {
        text: made.text,
        origin: "the estimator's config".into(),
        base_dir: PathBuf::new(),
        overrides,
        table: Some(table),
        inner: made.config,
    };
    Ok((config, made.measured.baseline))
}
