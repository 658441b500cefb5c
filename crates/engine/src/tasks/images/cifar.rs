//! CIFAR-10's binary batches (`data_batch_1.bin` ... `data_batch_5.bin`): records of one label
//! byte followed by 3072 pixel bytes, the red, green and blue planes of a 32x32 image.

use super::{ImageSet, Pixels, check_labels, open};
use crate::tasks::files::DataError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Pixel bytes of one CIFAR-10 image (3 planes of 32x32).
pub const CIFAR_PIXELS: usize = 3 * 32 * 32;
/// Bytes of one record: the label, then the pixels.
pub const CIFAR_RECORD: usize = 1 + CIFAR_PIXELS;

/// The training batches of the binary distribution, in the order they are read.
pub const CIFAR_TRAIN_BATCHES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];

/// Reads CIFAR-10 binary batch files (gzipped or not), concatenated in the order given; every
/// label must be below `num_classes`.
pub fn read_cifar10(files: &[PathBuf], num_classes: usize) -> Result<ImageSet, DataError> {
    let mut labels = Vec::new();
    let mut pixels = Vec::new();
    for path in files {
        let (l, p) = read_batch(path, num_classes)?;
        labels.extend(l);
        pixels.extend(p);
    }
    Ok(ImageSet {
        num_features: CIFAR_PIXELS,
        labels,
        pixels: Pixels::Bytes(pixels),
    })
}

/// The labels and pixels of one batch file.
fn read_batch(path: &Path, num_classes: usize) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let invalid = |message: String| DataError::Invalid {
        path: path.to_owned(),
        array: None,
        message,
    };
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(|reason| DataError::Io {
            path: path.to_owned(),
            reason,
        })?;
    if bytes.is_empty() {
        return Err(invalid("the file holds no records".into()));
    }
    if bytes.len() % CIFAR_RECORD != 0 {
        return Err(invalid(format!(
            "{} bytes is not a whole number of {CIFAR_RECORD}-byte CIFAR-10 records (1 label byte and {CIFAR_PIXELS} pixels); record {} is truncated",
            bytes.len(),
            bytes.len() / CIFAR_RECORD
        )));
    }
    let records = bytes.len() / CIFAR_RECORD;
    let mut labels = Vec::with_capacity(records);
    let mut pixels = Vec::with_capacity(records * CIFAR_PIXELS);
    for record in bytes.chunks_exact(CIFAR_RECORD) {
        labels.push(record[0]);
        pixels.extend_from_slice(&record[1..]);
    }
    check_labels(&labels, num_classes, path, "record")?;
    Ok((labels, pixels))
}
