//! `search`: the experiment protocol of a config, run on a thread of its own while the calling
//! thread hands its reports to Python and watches for Ctrl-C (which stops the search, keeping
//! the best found so far).

use crate::algorithm::PyAlgorithm;
use crate::config::{PyConfig, value_error};
use crate::convert;
use crate::folder::RunFolder;
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::Workers;
use automl_zero_engine::evolution::Progress;
use automl_zero_engine::experiment::{
    self, ExperimentResult, Observer, RunOptions, RunResult, RunState, seed_from_clock,
};
use automl_zero_engine::program::Algorithm;
use automl_zero_engine::tasks::resolve_dataset_paths;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the calling thread looks for Ctrl-C while the search runs.
const POLL: Duration = Duration::from_millis(50);

/// What the search thread tells the calling thread.
enum Event {
    Progress(serde_json::Value),
    Message(String),
    Done(Box<Result<RunResult, String>>),
}

/// The observer on the search thread: passes reports on, and keeps the run folder if any.
struct Forward {
    tx: Sender<Event>,
    folder: Option<RunFolder>,
}

impl Observer for Forward {
    fn progress(&mut self, p: &Progress) {
        let line = serde_json::to_value(p).unwrap_or_default();
        if let Some(f) = &mut self.folder {
            f.progress(&line);
        }
        let _ = self.tx.send(Event::Progress(line));
    }

    fn experiment(&mut self, r: &ExperimentResult, candidate: &Algorithm) {
        if r.best_so_far
            && let Some(f) = &mut self.folder
        {
            f.best(candidate);
        }
        let _ = self.tx.send(Event::Message(format!(
            "Experiment {} done after {} individuals ({}): search fitness {:.6}, select fitness {:.6}",
            r.experiment,
            r.individuals,
            r.stop_reason.name(),
            r.search_fitness,
            r.select_fitness
        )));
    }

    fn message(&mut self, text: &str) {
        let _ = self.tx.send(Event::Message(text.to_string()));
    }

    fn checkpoint(&mut self, config: &Config, state: &RunState) {
        if let Some(f) = &mut self.folder {
            f.checkpoint(config, state);
        }
    }
}

/// The outcome of a search: the best algorithm, the summary (summary.json's content), the
/// progress reports, and the config it ran (its seed filled in).
#[pyclass(name = "SearchResult", module = "automl_zero", frozen)]
pub struct PySearchResult {
    /// The best algorithm found.
    #[pyo3(get)]
    best: Py<PyAlgorithm>,
    /// summary.json's content.
    #[pyo3(get)]
    summary: Py<PyDict>,
    /// Every progress report, in order (progress.jsonl's lines).
    #[pyo3(get)]
    history: Py<PyList>,
    /// The config as run (its seed filled in).
    #[pyo3(get)]
    config: Py<PyConfig>,
}

#[pymethods]
impl PySearchResult {
    /// Whether Ctrl-C (or a callback) stopped the search before its limits.
    #[getter]
    fn interrupted(&self, py: Python<'_>) -> PyResult<bool> {
        match self.summary.bind(py).get_item("interrupted")? {
            Some(v) => v.extract(),
            None => Ok(false),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = self.summary.bind(py);
        let get = |k: &str| -> PyResult<String> {
            Ok(s.get_item(k)?.map_or("None".to_string(), |v| v.to_string()))
        };
        Ok(format!(
            "SearchResult(final_fitness={}, individuals={}, stop_reason={})",
            get("final_fitness")?,
            get("individuals")?,
            get("stop_reason")?
        ))
    }
}

/// Runs a search of `config` (see the Python `automl_zero.search`).
#[pyfunction]
#[pyo3(signature = (config, *, seed=None, threads=None, out=None, on_progress=None, on_message=None))]
pub fn search(
    py: Python<'_>,
    config: PyRef<'_, PyConfig>,
    seed: Option<u64>,
    threads: Option<usize>,
    out: Option<PathBuf>,
    on_progress: Option<Bound<'_, PyAny>>,
    on_message: Option<Bound<'_, PyAny>>,
) -> PyResult<PySearchResult> {
    let run = prepare(&config, seed)?;
    let workers = Workers::new(threads.unwrap_or(0))
        .map_err(|e| PyValueError::new_err(format!("threads: {e}")))?;
    let folder = match &out {
        Some(path) if config.in_memory() => {
            return Err(PyValueError::new_err(format!(
                "out: {}: a search on a table held in memory writes no run folder",
                path.display()
            )));
        }
        Some(path) => Some(RunFolder::create(path, &run.inner).map_err(value_error)?),
        None => None,
    };
    let interrupt = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let thread = spawn(
        &run,
        RunOptions {
            workers,
            interrupt: interrupt.clone(),
        },
        Forward { tx, folder },
    )?;
    let callbacks = Callbacks {
        on_progress,
        on_message,
    };
    let (result, history, error) = watch(py, rx, &interrupt, &callbacks);
    let _ = thread.join();
    if let Some(e) = error {
        return Err(e);
    }
    let result = result.map_err(PyRuntimeError::new_err)?;
    if let Some(path) = &out {
        RunFolder::finish(path, &run.inner, &result).map_err(value_error)?;
    }
    let best = PyAlgorithm::with_config(result.best.clone(), &run);
    Ok(PySearchResult {
        best: Py::new(py, best)?,
        summary: convert::to_py(py, &result.summary)?
            .cast_into::<PyDict>()?
            .unbind(),
        history: PyList::new(py, history)?.unbind(),
        config: Py::new(py, run)?,
    })
}

/// The config to run: the seed set (0 or none in the config: drawn from the clock), data
/// paths made absolute and checked, and a way to end.
fn prepare(config: &PyConfig, seed: Option<u64>) -> PyResult<PyConfig> {
    let mut run = config.clone();
    let c = &mut run.inner;
    c.check_ends()
        .map_err(|e| PyValueError::new_err(format!("config: {e}")))?;
    if let Some(seed) = seed {
        c.random_seed = seed;
    }
    if c.random_seed == 0 {
        c.random_seed = seed_from_clock();
    }
    for (key, specs) in [
        ("search_tasks", &mut c.search_tasks),
        ("select_tasks", &mut c.select_tasks),
        ("final_tasks", &mut c.final_tasks),
    ] {
        resolve_dataset_paths(specs, key, &run.base_dir, None).map_err(value_error)?;
    }
    c.search.initial_population.resolve(&run.base_dir);
    Ok(run)
}

/// Starts the search thread (with the main thread's stack size: the interpreter needs more
/// than a default thread's 2 MiB in an unoptimised build).
fn spawn(
    run: &PyConfig,
    options: RunOptions,
    mut forward: Forward,
) -> PyResult<std::thread::JoinHandle<()>> {
    let (config, base) = (run.inner.clone(), run.base_dir.clone());
    std::thread::Builder::new()
        .name("automl-zero-search".into())
        .stack_size(8 << 20)
        .spawn(move || {
            let result = experiment::run(&config, &base, options, &mut forward, None);
            let _ = forward
                .tx
                .send(Event::Done(Box::new(result.map_err(|e| e.to_string()))));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the search thread: {e}")))
}

/// The Python functions reports go to.
struct Callbacks<'py> {
    on_progress: Option<Bound<'py, PyAny>>,
    on_message: Option<Bound<'py, PyAny>>,
}

/// Hands the search thread's reports to the callbacks until it is done, polling for Ctrl-C;
/// returns its result, the progress reports as dicts, and an error raised by a callback (a
/// KeyboardInterrupt, or a callback returning False, only stops the search: the result says
/// it was interrupted).
fn watch<'py>(
    py: Python<'py>,
    mut rx: Receiver<Event>,
    interrupt: &AtomicBool,
    callbacks: &Callbacks<'py>,
) -> (
    Result<RunResult, String>,
    Vec<Bound<'py, PyAny>>,
    Option<PyErr>,
) {
    let (mut history, mut error) = (Vec::new(), None);
    let result = loop {
        // The receiver goes along (it may not be shared), and comes back.
        let (back, event) = py.detach(move || {
            let event = rx.recv_timeout(POLL);
            (rx, event)
        });
        rx = back;
        let outcome = match event {
            Ok(Event::Done(result)) => break *result,
            Ok(Event::Progress(line)) => convert::json_to_py(py, &line).and_then(|record| {
                history.push(record.clone());
                call(&callbacks.on_progress, record)
            }),
            Ok(Event::Message(text)) => {
                let text = pyo3::types::PyString::new(py, &text).into_any();
                call(&callbacks.on_message, text)
            }
            Err(RecvTimeoutError::Timeout) => Ok(false),
            Err(RecvTimeoutError::Disconnected) => break Err("the search thread stopped".into()),
        };
        match outcome.and_then(|stop| py.check_signals().map(|()| stop)) {
            Ok(false) => {}
            Ok(true) => interrupt.store(true, Ordering::SeqCst),
            Err(e) => {
                interrupt.store(true, Ordering::SeqCst);
                if !e.is_instance_of::<PyKeyboardInterrupt>(py) && error.is_none() {
                    error = Some(e);
                }
            }
        }
    };
    (result, history, error)
}

/// Calls a callback with one argument, if there is one; whether it returned False (stop).
fn call(callback: &Option<Bound<'_, PyAny>>, arg: Bound<'_, PyAny>) -> PyResult<bool> {
    match callback {
        Some(f) => {
            let answer = f.call1((arg,))?;
            Ok(answer.is_instance_of::<pyo3::types::PyBool>() && !answer.is_truthy()?)
        }
        None => Ok(false),
    }
}
