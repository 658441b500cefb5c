//! `automl_zero._core.TrainedModel`: a found learner trained on a table, predicting new rows
//! (the estimators' fitted model).

use crate::algorithm::{PyAlgorithm, Reduced};
use crate::config::{PyConfig, value_error};
use crate::convert;
use automl_zero_engine::model::Trained;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A learner trained on every row of a table, as the config's tasks train it.
#[pyclass(name = "TrainedModel", module = "automl_zero._core", frozen)]
pub struct PyModel {
    inner: Trained,
}

#[pymethods]
impl PyModel {
    /// Trains `algorithm` on every row of (X, y) as `config`'s files tasks train (their
    /// scaling and epochs); `seed` feeds its random ops.
    #[staticmethod]
    #[pyo3(signature = (algorithm, config, x, y, seed=1))]
    fn fit(
        py: Python<'_>,
        algorithm: PyRef<'_, PyAlgorithm>,
        config: PyRef<'_, PyConfig>,
        x: PyReadonlyArray2<'_, f64>,
        y: PyReadonlyArray1<'_, f64>,
        seed: u32,
    ) -> PyResult<Self> {
        let table = convert::dataset(&x, &y)?;
        let (algorithm, config) = (algorithm.inner.clone(), config.inner.clone());
        let inner = py
            .detach(move || Trained::fit(&algorithm, &config, table, seed))
            .map_err(value_error)?;
        Ok(PyModel { inner })
    }

    /// The learner's output for each row of X: in the label's units (regression) or a logit
    /// (classification).
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let expected = self.inner.num_features();
        if x.shape()[1] != expected {
            return Err(PyValueError::new_err(format!(
                "X has {} features, but the model was trained on {expected}",
                x.shape()[1]
            )));
        }
        let outputs = match x.as_slice() {
            Ok(rows) => py.detach(|| self.inner.predict(rows)),
            Err(_) => {
                let rows = convert::rows(&x, "X")?;
                py.detach(|| self.inner.predict(&rows))
            }
        }
        .map_err(value_error)?;
        Ok(outputs.into_pyarray(py))
    }

    /// The feature columns it was trained on.
    #[getter]
    fn num_features(&self) -> usize {
        self.inner.num_features()
    }

    /// The model as JSON (the program, the trained memory and the scaling).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(value_error)
    }

    /// Reads the JSON of `to_json`.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        let inner: Trained = serde_json::from_str(json)
            .map_err(|e| PyValueError::new_err(format!("not a trained model's JSON: {e}")))?;
        Ok(PyModel { inner })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py, (String,)>> {
        let restore = slf.get_type().getattr("from_json")?;
        Ok((restore, (slf.get().to_json()?,)))
    }
}
