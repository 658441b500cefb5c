//! `automl_zero.Algorithm`: a program (Setup, Predict, Learn) read, printed, simplified,
//! exported and scored.

use crate::config::{PyConfig, for_table, value_error};
use crate::convert;
use automl_zero_engine::evaluation::EvalSettings;
use automl_zero_engine::evaluation::test_split::{Scores, score_with_test};
use automl_zero_engine::experiment::search_settings;
use automl_zero_engine::export::{ExportOptions, Language, export};
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::program::{Algorithm, parse, parse_file};
use automl_zero_engine::simplify::{annotate, simplify};
use automl_zero_engine::tasks::{TaskSpec, resolve_dataset_paths};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// What `__reduce__` returns: a function and its arguments.
pub type Reduced<'py, A> = (Bound<'py, PyAny>, A);

/// A program of AutoML-Zero: Setup, Predict and Learn over scalar, vector and matrix memories.
/// It prints as its readable text, which `Algorithm.from_text` reads back.
#[pyclass(name = "Algorithm", module = "automl_zero", frozen, eq)]
#[derive(Clone, PartialEq)]
pub struct PyAlgorithm {
    /// The program.
    pub inner: Algorithm,
    /// The memory sizes it was read with (and runs with).
    pub sizes: MemorySizes,
    /// How an export builds its module by default (the config's feature size, sigmoid...).
    pub export: ExportOptions,
}

/// Memory sizes from a config, else from the sizes given (20 of each by default).
fn sizes_of(config: Option<&PyConfig>, given: [Option<u16>; 3]) -> PyResult<MemorySizes> {
    if let Some(c) = config {
        return Ok(c.inner.memory);
    }
    let sizes = MemorySizes {
        scalars: given[0].unwrap_or(20),
        vectors: given[1].unwrap_or(20),
        matrices: given[2].unwrap_or(20),
    };
    sizes.check().map_err(PyValueError::new_err)?;
    Ok(sizes)
}

impl PyAlgorithm {
    /// An algorithm with the sizes and export defaults of `config`.
    pub fn with_config(inner: Algorithm, config: &PyConfig) -> Self {
        PyAlgorithm {
            inner,
            sizes: config.inner.memory,
            export: ExportOptions::for_config(&config.inner),
        }
    }

    fn with_sizes(inner: Algorithm, config: Option<&PyConfig>, sizes: MemorySizes) -> Self {
        match config {
            Some(c) => PyAlgorithm::with_config(inner, c),
            None => PyAlgorithm {
                inner,
                sizes,
                export: ExportOptions::default(),
            },
        }
    }
}

#[pymethods]
impl PyAlgorithm {
    /// Reads program text (as printed, or as `best.txt` holds it); addresses are checked
    /// against the memory sizes of `config`, or those given (20 of each by default).
    #[staticmethod]
    #[pyo3(signature = (text, config=None, *, scalars=None, vectors=None, matrices=None))]
    fn from_text(
        text: &str,
        config: Option<PyRef<'_, PyConfig>>,
        scalars: Option<u16>,
        vectors: Option<u16>,
        matrices: Option<u16>,
    ) -> PyResult<Self> {
        let config = config.as_deref();
        let sizes = sizes_of(config, [scalars, vectors, matrices])?;
        let inner = parse(text, &sizes).map_err(value_error)?;
        Ok(PyAlgorithm::with_sizes(inner, config, sizes))
    }

    /// Reads a program file: text, or JSON when its name ends in `.json`.
    #[staticmethod]
    #[pyo3(signature = (path, config=None, *, scalars=None, vectors=None, matrices=None))]
    fn from_file(
        path: PathBuf,
        config: Option<PyRef<'_, PyConfig>>,
        scalars: Option<u16>,
        vectors: Option<u16>,
        matrices: Option<u16>,
    ) -> PyResult<Self> {
        let config = config.as_deref();
        let sizes = sizes_of(config, [scalars, vectors, matrices])?;
        let inner = parse_file(&path, &sizes).map_err(value_error)?;
        Ok(PyAlgorithm::with_sizes(inner, config, sizes))
    }

    /// Reads the JSON form (`to_json`).
    #[staticmethod]
    #[pyo3(signature = (text, config=None))]
    fn from_json(text: &str, config: Option<PyRef<'_, PyConfig>>) -> PyResult<Self> {
        let config = config.as_deref();
        let sizes = sizes_of(config, [None; 3])?;
        let inner = Algorithm::from_json(text).map_err(value_error)?;
        inner.check(&sizes).map_err(PyValueError::new_err)?;
        Ok(PyAlgorithm::with_sizes(inner, config, sizes))
    }

    /// The program as JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The smallest equivalent program (dead code dropped, constants folded).
    fn simplify(&self) -> Self {
        PyAlgorithm {
            inner: simplify(&self.inner).algorithm,
            ..self.clone()
        }
    }

    /// The simplified program's text with a note on each instruction's role.
    fn annotated(&self) -> String {
        simplify(&self.inner).annotated()
    }

    /// The program as a Python module needing only NumPy (`Model().fit(X, y).predict(X)`,
    /// trained as the engine trains); see `export`.
    #[pyo3(signature = (*, features=None, simplified=true))]
    fn to_python(&self, features: Option<usize>, simplified: bool) -> PyResult<String> {
        self.export("python", features, simplified)
    }

    /// The program as a module in `language` ("python" or "rust"), for `features` features
    /// (default: the config's feature size), simplified first unless told otherwise.
    #[pyo3(signature = (language="python", features=None, simplified=true))]
    fn export(
        &self,
        language: &str,
        features: Option<usize>,
        simplified: bool,
    ) -> PyResult<String> {
        let language: Language = language
            .parse()
            .map_err(|e| PyValueError::new_err(format!("language: {e}")))?;
        let (algorithm, notes) = if simplified {
            let s = simplify(&self.inner);
            (s.algorithm, s.notes)
        } else {
            (self.inner.clone(), annotate(&self.inner))
        };
        let options = ExportOptions {
            features: features.unwrap_or(self.export.features),
            notes: Some(notes),
            title: "An algorithm found by AutoML-Zero.".into(),
            ..self.export.clone()
        };
        export(&algorithm, language, &options)
            .map_err(|e| PyValueError::new_err(format!("features: {e}")))
    }

    /// Scores the program: on a config's task list (`tasks`: "search", "select" or "final"), or
    /// on a table (`X`, `y`, with `task` "regression" or "classification") resampled as the
    /// estimators resample it. Returns a dict: `fitness`, `per_task`, `test_fitness`,
    /// `per_task_test` and `metrics` (in the data's units, on the validation and test rows).
    #[pyo3(signature = (config=None, *, x=None, y=None, tasks="final", task="regression", seed=1))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        config: Option<PyRef<'_, PyConfig>>,
        x: Option<numpy::PyReadonlyArray2<'_, f64>>,
        y: Option<numpy::PyReadonlyArray1<'_, f64>>,
        tasks: &str,
        task: &str,
        seed: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let config = match (config, x, y) {
            (Some(c), None, None) => c.clone(),
            (None, Some(x), Some(y)) => table_config(py, x, y, task)?,
            _ => {
                return Err(PyValueError::new_err(
                    "evaluate: give a config, or X and y (not both)",
                ));
            }
        };
        let (key, mut specs, settings) = task_list(&config, tasks)?;
        resolve_dataset_paths(&mut specs, key, &config.base_dir, None).map_err(value_error)?;
        let algorithm = self.inner.clone();
        let base = config.base_dir.clone();
        let scores = py
            .detach(move || score_with_test(&algorithm, &specs, key, &settings, &base, seed))
            .map_err(value_error)?;
        scores_dict(py, &scores)
    }

    /// Instructions in all three components.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        self.inner.to_string()
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<Reduced<'py, (String, [u16; 3], String)>> {
        let this = slf.get();
        let restore = slf.get_type().getattr("_restore")?;
        let sizes = [this.sizes.scalars, this.sizes.vectors, this.sizes.matrices];
        let export = format!(
            "{} {} {} {}",
            this.export.features, this.export.accuracy, this.export.epochs, this.export.standardize
        );
        Ok((restore, (this.inner.to_json(), sizes, export)))
    }

    /// Rebuilds a pickled algorithm.
    #[staticmethod]
    fn _restore(json: &str, sizes: [u16; 3], export: &str) -> PyResult<Self> {
        let inner = Algorithm::from_json(json).map_err(value_error)?;
        let parts: Vec<&str> = export.split(' ').collect();
        let bad = || PyValueError::new_err("a damaged pickle of an Algorithm");
        let [features, accuracy, epochs, standardize] = parts[..] else {
            return Err(bad());
        };
        Ok(PyAlgorithm {
            inner,
            sizes: MemorySizes {
                scalars: sizes[0],
                vectors: sizes[1],
                matrices: sizes[2],
            },
            export: ExportOptions {
                features: features.parse().map_err(|_| bad())?,
                accuracy: accuracy == "true",
                epochs: epochs.parse().map_err(|_| bad())?,
                standardize: standardize == "true",
                ..ExportOptions::default()
            },
        })
    }
}

/// The config the estimators make for a table, with `task` "regression" or "classification".
fn table_config(
    py: Python<'_>,
    x: numpy::PyReadonlyArray2<'_, f64>,
    y: numpy::PyReadonlyArray1<'_, f64>,
    task: &str,
) -> PyResult<PyConfig> {
    let classification = match task {
        "regression" => false,
        "classification" => true,
        other => {
            return Err(PyValueError::new_err(format!(
                "task: `{other}` is neither \"regression\" nor \"classification\""
            )));
        }
    };
    let table = convert::dataset(&x, &y)?;
    Ok(for_table(py, table, classification, None, Vec::new())?.0)
}

/// A config's task list by name, with the settings it is scored with (the search's for the
/// search tasks, as `automl-zero eval` does).
fn task_list(
    config: &PyConfig,
    tasks: &str,
) -> PyResult<(&'static str, Vec<TaskSpec>, EvalSettings)> {
    let c = &config.inner;
    let plain = EvalSettings::plain(c.memory, c.search.max_abs_error);
    let (key, specs, settings) = match tasks {
        "search" => (
            "search_tasks",
            &c.search_tasks,
            search_settings(c).map_err(value_error)?,
        ),
        "select" => ("select_tasks", &c.select_tasks, plain),
        "final" => ("final_tasks", &c.final_tasks, plain),
        other => {
            return Err(PyValueError::new_err(format!(
                "tasks: `{other}` is not \"search\", \"select\" or \"final\""
            )));
        }
    };
    if specs.is_empty() {
        return Err(PyValueError::new_err(format!(
            "tasks: the config lists no {key}"
        )));
    }
    Ok((key, specs.clone(), settings))
}

/// Scores as a dict.
fn scores_dict<'py>(py: Python<'py>, s: &Scores) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("fitness", s.fitness)?;
    dict.set_item("per_task", s.per_task.clone())?;
    dict.set_item("test_fitness", s.test_fitness)?;
    dict.set_item("per_task_test", s.per_task_test.clone())?;
    dict.set_item("metrics", convert::to_py(py, &s.metrics)?)?;
    Ok(dict)
}
