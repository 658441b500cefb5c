//! Labelled image sets for the projected binary classification tasks: IDX (MNIST,
//! Fashion-MNIST), CIFAR-10 binary batches, and tables (CSV, `.npy`, `.npz`) whose last column
//! is the class.
//!
//! A set is read once per process and shared by every task that uses it (see [`load`]); every
//! reader checks what it reads and reports a [`DataError`] naming the file.

pub mod cifar;
pub mod idx;

pub use cifar::read_cifar10;
pub use idx::{IdxArray, read_idx, read_idx_images};

use super::files::{DataError, read_dataset};
use super::{TaskError, TaskKind, TaskSpec};
use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::SystemTime;

/// The environment variable naming the folder where dataset paths are looked for.
pub const DATA_ENV: &str = "AUTOML_ZERO_DATA";

/// How a dataset is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    /// IDX files (MNIST, Fashion-MNIST): a folder holding `train-images-idx3-ubyte[.gz]` and
    /// `train-labels-idx1-ubyte[.gz]`, or the images file itself.
    Idx,
    /// CIFAR-10 binary batches: a folder holding `data_batch_1.bin` ... `data_batch_5.bin`, or
    /// one batch file.
    Cifar10,
    /// A CSV file (`.csv` or `.csv.gz`): pixels, then the class in the last column.
    Csv,
    /// A `.npy` file: a 2-D array of pixels, then the class in the last column.
    Npy,
    /// A `.npz` file: `x`/`y` arrays, or one array with the class in the last column.
    Npz,
}

/// Where a projected task's images come from (`dataset = { format = "idx", path = "..." }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// How the files are stored.
    pub format: DatasetFormat,
    /// The file or folder; a relative path is looked for under the data folder (`--data-dir`,
    /// then `$AUTOML_ZERO_DATA`), then under the config's folder.
    pub path: PathBuf,
    /// Classes are 0 .. num_classes - 1; a label outside is an error.
    #[serde(default = "ten")]
    pub num_classes: usize,
}

fn ten() -> usize {
    10
}

/// The pixels of an image set, row-major, one row per image.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// Unsigned bytes (IDX, CIFAR-10).
    Bytes(Vec<u8>),
    /// Numbers read from a table.
    Floats(Vec<f64>),
}

/// A labelled image set: `labels.len()` images of `num_features` pixels each.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// Pixels per image (784 for MNIST, 3072 for CIFAR-10).
    pub num_features: usize,
    /// The class of each image.
    pub labels: Vec<u8>,
    /// The pixels.
    pub pixels: Pixels,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Images per class, indexed by class (up to the largest label present).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![
            0;
            self.labels
                .iter()
                .map(|&l| l as usize + 1)
                .max()
                .unwrap_or(0)
        ];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// The pixels of image `i` as numbers; panics if `i >= self.len()`.
    pub fn row(&self, i: usize) -> Vec<f64> {
        let range = i * self.num_features..(i + 1) * self.num_features;
        match &self.pixels {
            Pixels::Bytes(b) => b[range].iter().map(|&v| f64::from(v)).collect(),
            Pixels::Floats(x) => x[range].to_vec(),
        }
    }

    /// Image `i` times a `num_features × F` matrix given as its rows; panics if `i` or the
    /// matrix is out of range.
    pub fn project<const F: usize>(&self, i: usize, matrix: &[[f64; F]]) -> [f64; F] {
        assert_eq!(matrix.len(), self.num_features, "projection matrix rows");
        let range = i * self.num_features..(i + 1) * self.num_features;
        let mut out = [0.0; F];
        let mut add = |row: &[f64; F], v: f64| {
            for (o, r) in out.iter_mut().zip(row) {
                *o += v * r;
            }
        };
        match &self.pixels {
            // Many pixels of MNIST-like images are 0; skipping them halves the work.
            Pixels::Bytes(b) => {
                for (row, &v) in matrix.iter().zip(&b[range]) {
                    if v != 0 {
                        add(row, f64::from(v));
                    }
                }
            }
            Pixels::Floats(x) => {
                for (row, &v) in matrix.iter().zip(&x[range]) {
                    add(row, v);
                }
            }
        }
        out
    }
}

/// Opens a file for reading, decompressing it if it starts with the gzip magic bytes.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read>, DataError> {
    let io = |reason| DataError::Io {
        path: path.to_owned(),
        reason,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io)?);
    let gzipped = reader.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzipped {
        Box::new(MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    })
}

/// Errors on the first label that is not below `num_classes`, naming the item (0-based).
pub(crate) fn check_labels(
    labels: &[u8],
    num_classes: usize,
    path: &Path,
    item: &str,
) -> Result<(), DataError> {
    match labels.iter().position(|&l| l as usize >= num_classes) {
        None => Ok(()),
        Some(i) => Err(DataError::Invalid {
            path: path.to_owned(),
            array: None,
            message: format!(
                "{item} {i} (0-based) has label {}, out of range: the classes are 0..={}",
                labels[i],
                num_classes.saturating_sub(1)
            ),
        }),
    }
}

/// Reads a table (CSV, `.npy` or `.npz`) whose last column is a class below `num_classes`.
pub fn read_table_images(path: &Path, num_classes: usize) -> Result<ImageSet, DataError> {
    let table = read_dataset(path)?;
    let labels = table
        .labels
        .iter()
        .enumerate()
        .map(|(i, &y)| {
            if y.fract() == 0.0 && y >= 0.0 && y < num_classes as f64 {
                Ok(y as u8)
            } else {
                Err(DataError::Invalid {
                    path: path.to_owned(),
                    array: None,
                    message: format!(
                        "data row {} (1-based, after any header) has class {y}: expected an integer in 0..={}",
                        i + 1,
                        num_classes.saturating_sub(1)
                    ),
                })
            }
        })
        .collect::<Result<Vec<u8>, _>>()?;
    Ok(ImageSet {
        num_features: table.num_features,
        labels,
        pixels: Pixels::Floats(table.features),
    })
}

/// The files a dataset is read from, in order: IDX images then labels, CIFAR batches, or the
/// table.
pub fn dataset_files(format: DatasetFormat, path: &Path) -> Result<Vec<PathBuf>, DataError> {
    let invalid = |message: String| DataError::Invalid {
        path: path.to_owned(),
        array: None,
        message,
    };
    match format {
        DatasetFormat::Idx if path.is_dir() => {
            let find = |names: &[&str]| names.iter().map(|n| path.join(n)).find(|p| p.is_file());
            let images = find(&[
                "train-images-idx3-ubyte.gz",
                "train-images-idx3-ubyte",
                "train-images.idx3-ubyte",
            ]);
            let labels = find(&[
                "train-labels-idx1-ubyte.gz",
                "train-labels-idx1-ubyte",
                "train-labels.idx1-ubyte",
            ]);
            match (images, labels) {
                (Some(images), Some(labels)) => Ok(vec![images, labels]),
                _ => Err(invalid(
                    "no IDX training files here: expected train-images-idx3-ubyte and train-labels-idx1-ubyte (each optionally .gz)".into(),
                )),
            }
        }
        DatasetFormat::Idx => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let labels = name.replace("images", "labels").replace("idx3", "idx1");
            if labels == name {
                return Err(invalid(
                    "cannot tell the labels file of this IDX images file: name the files like train-images-idx3-ubyte and train-labels-idx1-ubyte, or give their folder".into(),
                ));
            }
            Ok(vec![path.to_owned(), path.with_file_name(labels)])
        }
        DatasetFormat::Cifar10 if path.is_dir() => {
            // The archive unpacks into cifar-10-batches-bin; accept its parent too.
            let nested = path.join("cifar-10-batches-bin");
            let dir = if nested.is_dir() { nested } else { path.into() };
            Ok(cifar::CIFAR_TRAIN_BATCHES
                .iter()
                .map(|name| dir.join(name))
                .collect())
        }
        DatasetFormat::Cifar10 => Ok(vec![path.to_owned()]),
        DatasetFormat::Csv | DatasetFormat::Npy | DatasetFormat::Npz => {
            let (format_name, endings): (&str, &[&str]) = match format {
                DatasetFormat::Csv => ("csv", &[".csv", ".csv.gz"]),
                DatasetFormat::Npy => ("npy", &[".npy"]),
                _ => ("npz", &[".npz"]),
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if !endings.iter().any(|e| name.ends_with(e)) {
                return Err(invalid(format!(
                    "the dataset format is `{format_name}`, so the file name should end in {}",
                    endings.join(" or ")
                )));
            }
            Ok(vec![path.to_owned()])
        }
    }
}

/// Reads a dataset from the files [`dataset_files`] names (no caching).
pub fn read_images(
    format: DatasetFormat,
    files: &[PathBuf],
    num_classes: usize,
) -> Result<ImageSet, DataError> {
    match (format, files) {
        (DatasetFormat::Idx, [images, labels]) => read_idx_images(images, labels, num_classes),
        (DatasetFormat::Cifar10, _) => read_cifar10(files, num_classes),
        (_, [table]) => read_table_images(table, num_classes),
        _ => unreachable!("dataset_files gives one file per table and two per IDX set"),
    }
}

/// Identifies one version of a dataset: its format, classes, files and their sizes and times.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    format: DatasetFormat,
    num_classes: usize,
    files: Vec<(PathBuf, u64, Option<SystemTime>)>,
}

/// Datasets read so far in this process.
static CACHE: LazyLock<Mutex<HashMap<CacheKey, Arc<ImageSet>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Reads a dataset, or returns the copy read earlier in this process if its files have not
/// changed since: a run reads each dataset once, however many tasks and experiments use it.
pub fn load(
    format: DatasetFormat,
    path: &Path,
    num_classes: usize,
) -> Result<Arc<ImageSet>, DataError> {
    let files = dataset_files(format, path)?;
    let mut key = CacheKey {
        format,
        num_classes,
        files: Vec::with_capacity(files.len()),
    };
    for file in &files {
        let io = |reason| DataError::Io {
            path: file.clone(),
            reason,
        };
        let meta = std::fs::metadata(file).map_err(io)?;
        let canonical = file.canonicalize().map_err(io)?;
        key.files
            .push((canonical, meta.len(), meta.modified().ok()));
    }
    // Held while reading, so that two threads never read the same set twice.
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(images) = cache.get(&key) {
        return Ok(images.clone());
    }
    let images = Arc::new(read_images(format, &files, num_classes)?);
    cache.insert(key, images.clone());
    Ok(images)
}

/// Forgets every dataset read so far (their memory is freed once no caller holds them).
pub fn clear_cache() {
    CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clear();
}

/// Finds a dataset path: an absolute path as is; a relative one under `data_dir`, then under
/// `$AUTOML_ZERO_DATA`, then under `base_dir` (the config's folder), the first that exists.
/// The error lists the places looked at.
pub fn resolve_data_path(
    path: &Path,
    base_dir: &Path,
    data_dir: Option<&Path>,
) -> Result<PathBuf, String> {
    let env = std::env::var_os(DATA_ENV).filter(|v| !v.is_empty());
    let candidates: Vec<PathBuf> = if path.is_absolute() {
        vec![path.to_owned()]
    } else {
        data_dir
            .map(Path::to_path_buf)
            .into_iter()
            .chain(env.map(PathBuf::from))
            .chain([base_dir.to_path_buf()])
            .map(|dir| dir.join(path))
            .collect()
    };
    if let Some(found) = candidates.iter().find(|p| p.exists()) {
        return Ok(found.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    Err(format!(
        "`{}` not found (looked at {}); give the folder that holds it with --data-dir DIR or the environment variable {DATA_ENV}",
        path.display(),
        looked.join(", ")
    ))
}

/// Replaces the dataset path of every projected task in `specs` by the absolute path it
/// resolves to (see [`resolve_data_path`]), and the data files of `files` tasks by their
/// absolute paths under `base_dir`, so that a config written out later reads the same files
/// from anywhere.
pub fn resolve_dataset_paths(
    specs: &mut [TaskSpec],
    key: &str,
    base_dir: &Path,
    data_dir: Option<&Path>,
) -> Result<(), TaskError> {
    for (i, spec) in specs.iter_mut().enumerate() {
        // A table in memory is no file: its `train_file` only names it.
        let train_file = match spec.table {
            Some(_) => &mut None,
            None => &mut spec.train_file,
        };
        for (name, file) in [
            ("train_file", train_file),
            ("valid_file", &mut spec.valid_file),
        ] {
            let Some(file) = file else { continue };
            *file = absolute(&base_dir.join(&*file));
            // Checked now, so that a run does not fail on its select or final tasks' data only
            // after its search.
            if !file.is_file() {
                return Err(TaskError::Spec(format!(
                    "{key}[{i}].{name}: {} does not exist (or is not a file)",
                    file.display()
                )));
            }
        }
    }
    for (i, spec) in specs.iter_mut().enumerate() {
        if spec.kind != TaskKind::ProjectedBinaryClassification {
            continue;
        }
        let Some(dataset) = spec.dataset.as_mut() else {
            continue;
        };
        let found = resolve_data_path(&dataset.path, base_dir, data_dir)
            .map_err(|e| TaskError::Spec(format!("{key}[{i}].dataset.path: {e}")))?;
        dataset.path = absolute(&found);
    }
    Ok(())
}

/// A path made absolute (symbolic links resolved when it exists), so that it reads the same
/// file from any working folder.
fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_owned())
}

/// The image set of a projected task spec, read once per process (paths resolved as
/// [`resolve_data_path`] does, without a `--data-dir`).
pub(crate) fn load_for_spec(
    spec: &TaskSpec,
    key: &str,
    base_dir: &Path,
) -> Result<Arc<ImageSet>, TaskError> {
    let dataset = spec.dataset.as_ref().ok_or_else(|| {
        TaskError::Spec(format!("{key}.dataset: a projected task needs a dataset"))
    })?;
    let path = resolve_data_path(&dataset.path, base_dir, None)
        .map_err(|e| TaskError::Spec(format!("{key}.dataset.path: {e}")))?;
    Ok(load(dataset.format, &path, dataset.num_classes)?)
}
