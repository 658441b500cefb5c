//! Values between Python and the engine: Python values as TOML (config overrides), TOML and
//! JSON values as Python objects, numpy arrays as tables.

use automl_zero_engine::tasks::Dataset;
use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// A Python value as a TOML value; `key` names it in errors.
pub fn to_toml(value: &Bound<'_, PyAny>, key: &str) -> PyResult<toml::Value> {
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        let n: i64 = value
            .extract()
            .map_err(|_| PyValueError::new_err(format!("{key}: {value} is too large")))?;
        return Ok(toml::Value::Integer(n));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(value.extract()?));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(toml::Value::String(s.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut table = toml::Table::new();
        for (k, v) in dict.iter() {
            let k: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("{key}: table keys must be strings")))?;
            let inner = to_toml(&v, &format!("{key}.{k}"))?;
            table.insert(k, inner);
        }
        return Ok(toml::Value::Table(table));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value
            .try_iter()?
            .enumerate()
            .map(|(i, v)| to_toml(&v?, &format!("{key}[{i}]")))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(toml::Value::Array(items));
    }
    // numpy scalars and other numbers.
    if let Ok(n) = value
        .call_method0("__index__")
        .and_then(|v| v.extract::<i64>())
    {
        return Ok(toml::Value::Integer(n));
    }
    if let Ok(x) = value
        .call_method0("__float__")
        .and_then(|v| v.extract::<f64>())
    {
        return Ok(toml::Value::Float(x));
    }
    Err(PyTypeError::new_err(format!(
        "{key}: a {} is not a config value (give a number, a bool, a string, a list or a dict)",
        value.get_type().name()?
    )))
}

/// The `key=value` override the engine applies for a Python value.
pub fn assignment(key: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = to_toml(value, key)?;
    Ok(format!("{key}={}", inline(&value)))
}

/// A TOML value written inline (tables as `{ a = 1 }`).
fn inline(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(t) => {
            let items: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), inline(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        toml::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// A key as TOML writes it: bare when it can be.
fn toml_key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

/// The leaves of a TOML table as `key=value` overrides (`search.population_size=100`, lists
/// of tables by entry number: `search_tasks.0.num_tasks=3`).
pub fn flatten(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(t, &key, out),
            toml::Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_table()) => {
                for (i, entry) in a.iter().enumerate() {
                    if let toml::Value::Table(t) = entry {
                        flatten(t, &format!("{key}.{i}"), out);
                    }
                }
            }
            other => out.push(format!("{key}={}", inline(other))),
        }
    }
}

/// The overrides of an estimator's `config`: a dict of keys and values, or the path of a TOML
/// file whose keys are read as such (`[search] population_size = 100`, say).
#[pyfunction]
pub fn overrides(config: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(dict) = config.cast::<PyDict>() {
        return dict
            .iter()
            .map(|(k, v)| {
                let k: String = k.extract().map_err(|_| {
                    PyTypeError::new_err("config: the keys of a config dict must be strings")
                })?;
                assignment(&k, &v)
            })
            .collect();
    }
    let path: std::path::PathBuf = config.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "config: a {} is neither a dict of keys nor a TOML file's path",
            config
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    let text = std::fs::read_to_string(&path).map_err(|e| {
        pyo3::exceptions::PyFileNotFoundError::new_err(format!(
            "config: cannot read {}: {e}",
            path.display()
        ))
    })?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| PyValueError::new_err(format!("config: {}: {e}", path.display())))?;
    let mut out = Vec::new();
    flatten(&table, "", &mut out);
    Ok(out)
}

/// A TOML value as a Python object.
pub fn toml_to_py<'py>(py: Python<'py>, value: &toml::Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        toml::Value::String(s) => s.into_pyobject(py)?.into_any(),
        toml::Value::Integer(n) => n.into_pyobject(py)?.into_any(),
        toml::Value::Float(x) => x.into_pyobject(py)?.into_any(),
        toml::Value::Boolean(b) => b.into_pyobject(py)?.to_owned().into_any(),
        toml::Value::Datetime(d) => d.to_string().into_pyobject(py)?.into_any(),
        toml::Value::Array(a) => {
            let items = a
                .iter()
                .map(|v| toml_to_py(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        toml::Value::Table(t) => {
            let dict = PyDict::new(py);
            for (k, v) in t {
                dict.set_item(k, toml_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A JSON value as a Python object.
pub fn json_to_py<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|v| json_to_py(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(o) => {
            let dict = PyDict::new(py);
            for (k, v) in o {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A serialisable value as a Python object (through JSON).
pub fn to_py<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| PyValueError::new_err(format!("cannot convert: {e}")))?;
    json_to_py(py, &json)
}

/// The rows of `x` (row-major, read in place when C-contiguous), checked to be a 2-D table with
/// at least one feature and finite values; `name` names the argument in errors.
pub fn rows(x: &PyReadonlyArray2<'_, f64>, name: &str) -> PyResult<Vec<f64>> {
    let [n, d] = [x.shape()[0], x.shape()[1]];
    if d == 0 {
        return Err(PyValueError::new_err(format!(
            "{name} has 0 features (shape ({n}, 0)); it needs at least 1"
        )));
    }
    let values = match x.as_slice() {
        Ok(slice) => slice.to_vec(),
        Err(_) => x.as_array().iter().copied().collect(),
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "{name}[{}, {}] is {}: the values must be finite",
            i / d,
            i % d,
            values[i]
        )));
    }
    Ok(values)
}

/// A table of `x`'s rows and `y`'s labels, checked to match.
pub fn dataset(x: &PyReadonlyArray2<'_, f64>, y: &PyReadonlyArray1<'_, f64>) -> PyResult<Dataset> {
    let features = rows(x, "X")?;
    let labels: Vec<f64> = y.as_array().iter().copied().collect();
    let n = x.shape()[0];
    if labels.len() != n {
        return Err(PyValueError::new_err(format!(
            "X has {n} rows but y has {} labels",
            labels.len()
        )));
    }
    if let Some(i) = labels.iter().position(|v| !v.is_finite()) {
        return Err(PyValueError::new_err(format!(
            "y[{i}] is {}: the labels must be finite",
            labels[i]
        )));
    }
    Ok(Dataset {
        features,
        labels,
        num_features: x.shape()[1],
        names: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_file_flattens_into_overrides() {
        let table: toml::Table = toml::from_str(
            "max_experiments = 2\n[search]\npopulation_size = 100\nlearn = { ops = \"all\" }\n\
             mutations = [\"alter_param\"]\n[[search_tasks]]\nnum_tasks = 3\n",
        )
        .unwrap();
        let mut out = Vec::new();
        flatten(&table, "", &mut out);
        out.sort();
        assert_eq!(
            out,
            [
                "max_experiments=2",
                "search.learn.ops=\"all\"",
                "search.mutations=[\"alter_param\"]",
                "search.population_size=100",
                "search_tasks.0.num_tasks=3",
            ]
        );
    }

    #[test]
    fn inline_tables_read_back() {
        let mut t = toml::Table::new();
        t.insert("num_train_examples".into(), toml::Value::Integer(5));
        t.insert("odd key".into(), toml::Value::Float(0.5));
        let text = inline(&toml::Value::Table(t));
        assert_eq!(text, "{ num_train_examples = 5, \"odd key\" = 0.5 }");
        let back: toml::Table = toml::from_str(&format!("v = {text}")).unwrap();
        assert_eq!(back["v"]["odd key"].as_float(), Some(0.5));
    }
}
