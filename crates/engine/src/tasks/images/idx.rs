//! IDX files, the format of MNIST and Fashion-MNIST: a big-endian header (magic number, then
//! one u32 per dimension) followed by the raw unsigned bytes, row-major. Gzipped files are
//! recognised by their content, whatever their name.

use super::{ImageSet, Pixels, check_labels, open};
use crate::tasks::files::DataError;
use std::io::Read;
use std::path::Path;

/// Magic number of an IDX file of unsigned-byte images (items × rows × columns).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (one per item).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The most dimensions an IDX header may declare (MNIST-like files use 1 to 4).
const MAX_DIMS: u8 = 4;

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The sizes of the dimensions, outermost (the item count) first.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<u8>,
}

fn invalid(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Invalid {
        path: path.to_owned(),
        array: None,
        message: message.into(),
    }
}

/// Reads an IDX array of unsigned bytes (gzipped or not) whose magic number must be `magic`.
///
/// The header's sizes must account for every byte of the file: a short file is truncated and
/// a longer one has trailing data; both are errors naming the sizes.
pub fn read_idx(path: &Path, magic: u32, what: &str) -> Result<IdxArray, DataError> {
    let mut reader = open(path)?;
    let io = |reason| DataError::Io {
        path: path.to_owned(),
        reason,
    };
    let mut head = [0u8; 4];
    let got = read_up_to(&mut reader, &mut head).map_err(io)?;
    if got < 4 {
        return Err(invalid(
            path,
            format!("truncated IDX header: {got} bytes, expected at least 4"),
        ));
    }
    let found = u32::from_be_bytes(head);
    if found != magic {
        let hint = match found {
            IMAGES_MAGIC => " (an images file)",
            LABELS_MAGIC => " (a labels file)",
            _ if head[..2] != [0, 0] => " (not an IDX file)",
            _ => "",
        };
        return Err(invalid(
            path,
            format!("wrong magic number 0x{found:08x}{hint}: expected 0x{magic:08x} ({what})"),
        ));
    }
    let num_dims = head[3];
    if num_dims == 0 || num_dims > MAX_DIMS {
        return Err(invalid(
            path,
            format!("the IDX header declares {num_dims} dimensions"),
        ));
    }
    let mut sizes = vec![0u8; 4 * num_dims as usize];
    let got = read_up_to(&mut reader, &mut sizes).map_err(io)?;
    if got < sizes.len() {
        return Err(invalid(
            path,
            format!(
                "truncated IDX header: {num_dims} dimension sizes need {} bytes after the magic number, found {got}",
                sizes.len()
            ),
        ));
    }
    let dims: Vec<usize> = sizes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n < isize::MAX as usize)
        .ok_or_else(|| invalid(path, format!("implausible IDX dimensions {dims:?}")))?;
    // Reading at most one byte more than announced bounds the allocation by the real data.
    let mut values = Vec::new();
    reader
        .take(expected as u64 + 1)
        .read_to_end(&mut values)
        .map_err(io)?;
    if values.len() < expected {
        return Err(invalid(
            path,
            format!(
                "truncated data: dimensions {dims:?} need {expected} bytes after the header, found {}",
                values.len()
            ),
        ));
    }
    if values.len() > expected {
        return Err(invalid(
            path,
            format!(
                "more data than dimensions {dims:?} announce ({expected} bytes after the header)"
            ),
        ));
    }
    Ok(IdxArray { dims, values })
}

/// Reads as many bytes as are available into `buffer`, up to its length.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads an images file (magic 0x00000803) and its labels file (0x00000801): as many labels as
/// images, every label below `num_classes`.
pub fn read_idx_images(
    images: &Path,
    labels: &Path,
    num_classes: usize,
) -> Result<ImageSet, DataError> {
    let x = read_idx(images, IMAGES_MAGIC, "unsigned-byte images")?;
    let y = read_idx(labels, LABELS_MAGIC, "unsigned-byte labels")?;
    let count = x.dims[0];
    if count == 0 {
        return Err(invalid(images, "the file holds no images"));
    }
    if y.dims[0] != count {
        return Err(invalid(
            labels,
            format!(
                "{} labels, but {} holds {count} images",
                y.dims[0],
                images.display()
            ),
        ));
    }
    let num_features = x.values.len() / count;
    if num_features == 0 {
        return Err(invalid(
            images,
            format!("images of dimensions {:?} have no pixels", &x.dims[1..]),
        ));
    }
    check_labels(&y.values, num_classes, labels, "item")?;
    Ok(ImageSet {
        num_features,
        labels: y.values,
        pixels: Pixels::Bytes(x.values),
    })
}
