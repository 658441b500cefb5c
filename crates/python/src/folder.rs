//! The run folder `search(out=...)` writes, in the command line's format: config.toml,
//! progress.jsonl, checkpoint.json (so `automl-zero search --resume` carries it on), best.txt,
//! best.json, best.simplified.txt, best.py and summary.json.

use automl_zero_engine::checkpoint::{self, Checkpoint};
use automl_zero_engine::config::Config;
use automl_zero_engine::experiment::{RunResult, RunState};
use automl_zero_engine::export::{ExportOptions, Language, export};
use automl_zero_engine::program::Algorithm;
use automl_zero_engine::simplify::simplify;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Files that mark a folder as holding a run.
const RUN_FILES: [&str; 4] = [
    "config.toml",
    "progress.jsonl",
    "summary.json",
    checkpoint::LATEST,
];

/// A run folder being written.
pub struct RunFolder {
    path: PathBuf,
    progress: File,
    /// The first error writing to it (reported when the run ends).
    error: Option<String>,
}

/// Writes a file, naming it in the error.
fn write(path: &Path, contents: &str) -> Result<(), String> {
    fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

impl RunFolder {
    /// Creates the folder with its config.toml; a folder that holds a run is refused.
    pub fn create(path: &Path, config: &Config) -> Result<RunFolder, String> {
        if let Some(f) = RUN_FILES.iter().find(|f| path.join(f).exists()) {
            return Err(format!(
                "out: {} already holds a run ({f} exists): give another folder",
                path.display()
            ));
        }
        fs::create_dir_all(path)
            .map_err(|e| format!("out: cannot create {}: {e}", path.display()))?;
        write(&path.join("config.toml"), &config.to_toml())?;
        let progress = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.join("progress.jsonl"))
            .map_err(|e| format!("out: cannot open {}/progress.jsonl: {e}", path.display()))?;
        Ok(RunFolder {
            path: path.to_path_buf(),
            progress,
            error: None,
        })
    }

    /// Keeps the first error.
    fn keep(&mut self, r: Result<(), String>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }

    /// Appends a progress report.
    pub fn progress(&mut self, line: &serde_json::Value) {
        let r = writeln!(self.progress, "{line}").map_err(|e| format!("progress.jsonl: {e}"));
        self.keep(r);
    }

    /// Writes the best algorithm so far.
    pub fn best(&mut self, algorithm: &Algorithm) {
        let a = write(&self.path.join("best.txt"), &algorithm.to_string());
        let b = write(&self.path.join("best.json"), &algorithm.to_json());
        self.keep(a.and(b));
    }

    /// Writes a checkpoint.
    pub fn checkpoint(&mut self, config: &Config, state: &RunState) {
        let checkpoint = Checkpoint {
            config: config.clone(),
            state: state.clone(),
        };
        let r = checkpoint::write(&self.path, &checkpoint).map_err(|e| e.to_string());
        self.keep(r);
    }

    /// Writes what a finished run leaves: the best algorithm (text, JSON, simplified, as a
    /// Python module) and summary.json.
    pub fn finish(path: &Path, config: &Config, result: &RunResult) -> Result<(), String> {
        let best = &result.best;
        write(&path.join("best.txt"), &best.to_string())?;
        write(&path.join("best.json"), &best.to_json())?;
        let simplified = simplify(best);
        write(&path.join("best.simplified.txt"), &simplified.annotated())?;
        let options = ExportOptions {
            notes: Some(simplified.notes.clone()),
            title:
                "The best algorithm of this search (best.txt), simplified (best.simplified.txt)."
                    .to_string(),
            ..ExportOptions::for_config(config)
        };
        let module =
            export(&simplified.algorithm, Language::Python, &options).map_err(|e| e.to_string())?;
        write(&path.join("best.py"), &module)?;
        let summary = serde_json::to_string_pretty(&result.summary).map_err(|e| e.to_string())?;
        write(&path.join("summary.json"), &(summary + "\n"))
    }
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        if let Some(e) = &self.error {
            eprintln!("warning: the run folder is incomplete: {e}");
        }
    }
}
