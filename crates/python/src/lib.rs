//! The private extension module `automl_zero._core`: the engine's configs, algorithms, search
//! and trained learners for Python. The package `automl_zero` (python/automl_zero) holds the
//! user-facing API around it: `search`, the scikit-learn estimators.

mod algorithm;
mod config;
mod convert;
mod folder;
mod model;
mod search;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<config::PyConfig>()?;
    m.add_class::<algorithm::PyAlgorithm>()?;
    m.add_class::<search::PySearchResult>()?;
    m.add_class::<model::PyModel>()?;
    m.add_function(wrap_pyfunction!(search::search, m)?)?;
    m.add_function(wrap_pyfunction!(convert::overrides, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
