//! The run folder: config, progress, best program and summary of a search.

use anyhow::{Context, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// An open run folder.
pub struct RunDir {
    pub path: PathBuf,
    progress: File,
}

impl RunDir {
    /// Creates the folder (and its parents) and opens `progress.jsonl`.
    pub fn create(path: PathBuf) -> Result<RunDir> {
        fs::create_dir_all(&path)
            .with_context(|| format!("cannot create the run folder {}", path.display()))?;
        let progress_path = path.join("progress.jsonl");
        let progress = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&progress_path)
            .with_context(|| format!("cannot open {}", progress_path.display()))?;
        Ok(RunDir { path, progress })
    }

    /// Opens an existing run folder to carry on a run: `progress.jsonl` keeps its first `lines`
    /// lines (those written before the checkpoint) and is appended to.
    pub fn reopen(path: PathBuf, lines: u64) -> Result<RunDir> {
        let progress_path = path.join("progress.jsonl");
        let text = fs::read_to_string(&progress_path).unwrap_or_default();
        let keep: String = text.split_inclusive('\n').take(lines as usize).collect();
        write_atomic(&progress_path, keep.as_bytes())?;
        let progress = OpenOptions::new()
            .append(true)
            .open(&progress_path)
            .with_context(|| format!("cannot open {}", progress_path.display()))?;
        Ok(RunDir { path, progress })
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
