//! Checkpoints: a run's whole state in one file of its run folder, written atomically, checked
//! when read.
//!
//! The file is a header line `automl-zero-checkpoint v1 <bytes> <hash>` followed by the state as
//! JSON; the hash covers the JSON, so a truncated or damaged file is refused by name. A new
//! checkpoint is written beside the old one, flushed to disk, and only then renamed over it; the
//! previous good checkpoint is kept as `checkpoint.prev.json`.

use crate::config::Config;
use crate::experiment::RunState;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The latest checkpoint's file name in a run folder.
pub const LATEST: &str = "checkpoint.json";
/// The previous good checkpoint's file name in a run folder.
pub const PREVIOUS: &str = "checkpoint.prev.json";

const MAGIC: &str = "automl-zero-checkpoint";
const VERSION: u32 = 1;

/// Everything needed to carry on a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The effective config (seed and resolved dataset paths included).
    pub config: Config,
    /// The run's state.
    pub state: RunState,
}

/// A checkpoint that could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: std::io::Error,
    },
    /// The file is not a whole, intact checkpoint.
    #[error("{path}: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// FNV-1a over the bytes, 64 bits: enough to tell a damaged file from an intact one.
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CheckpointError + '_ {
    move |reason| CheckpointError::Io {
        path: path.to_path_buf(),
        reason,
    }
}

/// Writes a checkpoint into a run folder atomically; the one it replaces becomes the previous.
pub fn write(dir: &Path, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let body = serde_json::to_vec(checkpoint).expect("checkpoints serialize");
    let header = format!("{MAGIC} v{VERSION} {} {:016x}\n", body.len(), hash(&body));
    let latest = dir.join(LATEST);
    let previous = dir.join(PREVIOUS);
    let fresh = dir.join(format!("{LATEST}.partial"));
    {
        let mut f = File::create(&fresh).map_err(io(&fresh))?;
        f.write_all(header.as_bytes()).map_err(io(&fresh))?;
        f.write_all(&body).map_err(io(&fresh))?;
        f.sync_all().map_err(io(&fresh))?;
    }
    if latest.exists() {
        fs::rename(&latest, &previous).map_err(io(&previous))?;
    }
    fs::rename(&fresh, &latest).map_err(io(&latest))?;
    if let Ok(d) = File::open(dir) {
        // Make the renames durable; a folder that cannot be synced is no reason to fail.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads and checks a checkpoint file.
pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
    let bytes = fs::read(path).map_err(io(path))?;
    let damaged = |reason: String| CheckpointError::Damaged {
        path: path.to_path_buf(),
        reason,
    };
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| damaged("not a checkpoint (no header line)".into()))?;
    let header = std::str::from_utf8(&bytes[..newline])
        .map_err(|_| damaged("not a checkpoint (header is not text)".into()))?;
    let fields: Vec<&str> = header.split(' ').collect();
    if fields.len() != 4 || fields[0] != MAGIC {
        return Err(damaged(format!(
            "not a checkpoint (header {:?})",
            header.chars().take(60).collect::<String>()
        )));
    }
    if fields[1] != format!("v{VERSION}") {
        return Err(damaged(format!(
            "checkpoint format {} is not the v{VERSION} this version reads",
            fields[1]
        )));
    }
    let body = &bytes[newline + 1..];
    let length: usize = fields[2]
        .parse()
        .map_err(|_| damaged("damaged header (length)".into()))?;
    if body.len() != length {
        return Err(damaged(format!(
            "truncated or damaged: {} bytes of state where the header says {length}",
            body.len()
        )));
    }
    if format!("{:016x}", hash(body)) != fields[3] {
        return Err(damaged(
            "damaged: the state does not match the checksum in its header".into(),
        ));
    }
    let checkpoint: Checkpoint =
        serde_json::from_slice(body).map_err(|e| damaged(format!("unreadable state: {e}")))?;
    // Children are checked only when they are compiled, so their parents are checked here.
    let sizes = checkpoint.config.memory;
    for (i, island) in checkpoint.state.search.islands.iter().enumerate() {
        for (m, algorithm) in island.population.algorithms.iter().enumerate() {
            algorithm
                .check(&sizes)
                .map_err(|e| damaged(format!("island {i}, member {m}: {e}")))?;
        }
    }
    Ok(checkpoint)
}

/// The checkpoint file to resume from: the file itself, or a run folder's latest checkpoint.
pub fn locate(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(LATEST)
    } else {
        path.to_path_buf()
    }
}
