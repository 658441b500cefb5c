//! The run folder: config, progress, best program and summary of a search.

use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use automl_zero_engine::checkpoint::{LATEST, PREVIOUS};
use automl_zero_engine::evolution::StopReason;

/// Files whose presence marks a folder as holding a run.
const RUN_FILES: [&str; 5] = [
    "config.toml",
    "progress.jsonl",
    "summary.json",
    LATEST,
    PREVIOUS,
];

/// An open run folder.
pub struct RunDir {
    pub path: PathBuf,
    progress: File,
    /// The folders this process made for the run folder (it and any missing parents), the
    /// innermost first.
    made: Vec<PathBuf>,
}

/// What `finished` reads of a `summary.json` (other fields are ignored).
#[derive(serde::Deserialize)]
struct Ended {
    interrupted: bool,
    stop_reason: Option<StopReason>,
}

/// Whether the summary in a run folder says its run finished (`Some(stop reason)`); `None` when
/// there is no summary, or it says the run was interrupted.
pub fn finished(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path.join("summary.json")).ok()?;
    let ended: Ended = serde_json::from_str(&text).ok()?;
    if ended.interrupted {
        return None;
    }
    Some(
        ended
            .stop_reason
            .map_or("unknown", StopReason::name)
            .to_string(),
    )
}

/// The checkpoint a run folder can be resumed from, the latest first.
fn checkpoint_in(path: &Path) -> Option<PathBuf> {
    [LATEST, PREVIOUS]
        .into_iter()
        .map(|f| path.join(f))
        .find(|f| f.exists())
}

impl RunDir {
    /// Creates the folder (and its parents) and opens `progress.jsonl`; a folder that already
    /// holds a run is refused.
    pub fn create(path: PathBuf) -> Result<RunDir> {
        if RUN_FILES.iter().any(|f| path.join(f).exists()) {
            let shown = path.display();
            if let Some(reason) = finished(&path) {
                anyhow::bail!(
                    "the run folder {shown} already holds a finished run (stop reason: \
                     {reason}): give another --out"
                );
            }
            if let Some(checkpoint) = checkpoint_in(&path) {
                let target = if checkpoint.ends_with(LATEST) {
                    path.clone()
                } else {
                    checkpoint.clone()
                };
                anyhow::bail!(
                    "the run folder {shown} already holds a run ({} exists): carry it on with \
                     `automl-zero search --resume {}`, or give another --out",
                    checkpoint.display(),
                    target.display()
                );
            }
            if path.join("progress.jsonl").exists() {
                anyhow::bail!(
                    "the run folder {shown} already holds a run that stopped before its first \
                     checkpoint ({shown}/progress.jsonl exists), so it cannot be resumed: remove \
                     its run files (config.toml, progress.jsonl) or give another --out"
                );
            }
            anyhow::bail!(
                "the folder {shown} holds a config.toml, which a run would overwrite: give \
                 another --out"
            );
        }
        let made: Vec<PathBuf> = path
            .ancestors()
            .take_while(|p| !p.as_os_str().is_empty() && !p.exists())
            .map(Path::to_path_buf)
            .collect();
        fs::create_dir_all(&path)
            .with_context(|| format!("cannot create the run folder {}", path.display()))?;
        let progress_path = path.join("progress.jsonl");
        let progress = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&progress_path)
            .with_context(|| format!("cannot open {}", progress_path.display()))?;
        Ok(RunDir {
            path,
            progress,
            made,
        })
    }

    /// Undoes [`RunDir::create`] for a run that failed before it had anything to keep (no
    /// checkpoint, no progress report, no best program): removes the files a run writes, and the
    /// folders this process made for it, if they are now empty. Otherwise leaves all as it is.
    pub fn discard(self) {
        let progress_path = self.path.join("progress.jsonl");
        let reported = fs::metadata(&progress_path).is_ok_and(|m| m.len() > 0);
        if reported || checkpoint_in(&self.path).is_some() || self.path.join("best.txt").exists() {
            return;
        }
        drop(self.progress);
        for f in RUN_FILES {
            let _ = fs::remove_file(self.path.join(f));
        }
        for dir in &self.made {
            // Fails, as it should, when the folder holds anything else.
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }

    /// Opens an existing run folder to carry on a run: `progress.jsonl` keeps its first `lines`
    /// lines (those written before the checkpoint) and is appended to. Also returns a warning
    /// when the file holds fewer lines than that (removed, or lost in a crash).
    pub fn reopen(path: PathBuf, lines: u64) -> Result<(RunDir, Option<String>)> {
        let progress_path = path.join("progress.jsonl");
        let text = match fs::read_to_string(&progress_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", progress_path.display()));
            }
        };
        let keep: String = text.split_inclusive('\n').take(lines as usize).collect();
        let kept = keep.lines().count() as u64;
        let warning = (kept < lines).then(|| {
            format!(
                "warning: {} holds {kept} of the {lines} progress reports made before the checkpoint; \
                 the run carries on, but its plot will lack the missing ones",
                progress_path.display()
            )
        });
        write_atomic(&progress_path, keep.as_bytes())?;
        let progress = OpenOptions::new()
            .append(true)
            .open(&progress_path)
            .with_context(|| format!("cannot open {}", progress_path.display()))?;
        Ok((
            RunDir {
                path,
                progress,
                made: Vec::new(),
            },
            warning,
        ))
    }

    /// The best population fitness of the progress reports in `progress.jsonl` (of a run being
    /// resumed); `None` when there is none.
    pub fn best_reported(&self) -> Option<f64> {
        let text = fs::read_to_string(self.path.join("progress.jsonl")).ok()?;
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["best"].as_f64())
            .reduce(f64::max)
    }

    /// Appends one JSON line to `progress.jsonl`.
    pub fn append_progress(&mut self, line: &serde_json::Value) -> Result<()> {
        writeln!(self.progress, "{line}").context("cannot write progress.jsonl")?;
        Ok(())
    }

    /// Writes a file of the run folder atomically (beside, then renamed).
    pub fn write(&self, name: &str, contents: &str) -> Result<()> {
        write_atomic(&self.path.join(name), contents.as_bytes())
    }
}

/// Writes a file by writing a sibling, syncing it and renaming it over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.sync_all()
        .with_context(|| format!("cannot sync {}", tmp.display()))?;
    fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// The default run folder name: `runs/<date>-<time>-<seed>` in UTC.
pub fn default_path(seed: u64) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    PathBuf::from("runs").join(format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}-{seed}",
        t / 3600,
        t / 60 % 60,
        t % 60
    ))
}

/// The calendar date of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_787), (2026, 11, 30));
    }
}
