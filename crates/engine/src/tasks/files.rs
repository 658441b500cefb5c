//! Reading user datasets from CSV (optionally gzipped), `.npy` and `.npz` files.
//!
//! Every format yields a [`Dataset`]: a table whose last column is the label. Malformed input
//! of any kind is reported as a [`DataError`] naming the file and, where it applies, the line
//! (CSV) or the array (npy/npz); no input makes the reader panic.

use std::fmt::Display;
use std::fs::{self, File};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use npyz::zip::ZipArchive;
use npyz::{DType, Deserialize, NpyFile, Order, TypeChar};

/// A table of examples: each row has `features.len() / num_rows` features and one label.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Row-major features, `num_rows * num_features` values.
    pub features: Vec<f64>,
    /// One label per row.
    pub labels: Vec<f64>,
    /// Features per row.
    pub num_features: usize,
    /// The header's names of the feature columns, then of the label (a CSV with a header).
    pub names: Option<Vec<String>>,
}

/// A table of numbers read from a data file, before a column is taken as the label.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Row-major values, `rows × columns`.
    pub values: Vec<f64>,
    /// Values per row.
    pub columns: usize,
    /// The header's column names (a CSV with a header).
    pub names: Option<Vec<String>>,
    /// The 1-based line of each row (CSV), for messages; empty for npy data.
    lines: Vec<usize>,
}

/// Which column of a data file holds the label: its header name or its 1-based number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum LabelColumn {
    /// The column's 1-based number.
    Number(usize),
    /// The column's name in the header.
    Name(String),
}

impl std::fmt::Display for LabelColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabelColumn::Number(n) => write!(f, "column {n}"),
            LabelColumn::Name(name) => write!(f, "column `{name}`"),
        }
    }
}

impl Table {
    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.values.len() / self.columns.max(1)
    }

    /// The values of row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.columns..(i + 1) * self.columns]
    }

    /// Where row `i` is, for messages.
    fn location(&self, row: usize, column: usize) -> String {
        match self.lines.get(row) {
            Some(line) => format!("line {line}, column {}", column + 1),
            None => format!("row {row} (0-based)"),
        }
    }

    /// The 0-based index of the label column (default: the last).
    pub fn label_index(
        &self,
        path: &Path,
        label: Option<&LabelColumn>,
    ) -> Result<usize, DataError> {
        let fail = |message: String| invalid(path, None, message);
        match label {
            None => Ok(self.columns - 1),
            Some(LabelColumn::Number(n)) if (1..=self.columns).contains(n) => Ok(n - 1),
            Some(LabelColumn::Number(n)) => Err(fail(format!(
                "the label is column {n}, but the file has {} columns (numbered from 1)",
                self.columns
            ))),
            Some(LabelColumn::Name(name)) => {
                let Some(names) = &self.names else {
                    return Err(fail(format!(
                        "the label is column `{name}`, but the file has no header naming its columns; give the column's number instead"
                    )));
                };
                names.iter().position(|n| n == name).ok_or_else(|| {
                    fail(format!(
                        "no column is named `{name}`; the header names {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
            }
        }
    }

    /// The table as examples: the label column (default: the last) split off, checked against
    /// what `allowed` labels may be.
    pub fn into_dataset(
        self,
        path: &Path,
        label: Option<&LabelColumn>,
        allowed: Labels,
    ) -> Result<Dataset, DataError> {
        if self.columns < 2 {
            return Err(invalid(
                path,
                None,
                format!(
                    "expected at least 2 columns (features and a label), found {}",
                    self.columns
                ),
            ));
        }
        let label_index = self.label_index(path, label)?;
        let rows = self.num_rows();
        let mut features = Vec::with_capacity(rows * (self.columns - 1));
        let mut labels = Vec::with_capacity(rows);
        for r in 0..rows {
            let row = self.row(r);
            let y = row[label_index];
            if allowed == Labels::Binary && !is_binary(y) {
                return Err(DataError::NotBinaryLabel {
                    path: path.to_owned(),
                    location: self.location(r, label_index),
                    value: y,
                });
            }
            labels.push(y);
            features.extend(
                row.iter()
                    .enumerate()
                    .filter(|(c, _)| *c != label_index)
                    .map(|(_, v)| *v),
            );
        }
        let names = self.names.map(|mut names| {
            let label_name = names.remove(label_index);
            names.push(label_name);
            names
        });
        Ok(Dataset {
            features,
            labels,
            num_features: self.columns - 1,
            names,
        })
    }
}

impl Dataset {
    /// Number of rows (examples).
    pub fn num_rows(&self) -> usize {
        self.labels.len()
    }

    /// The features of row `i`; panics if `i >= self.num_rows()`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.features[i * self.num_features..(i + 1) * self.num_features]
    }
}

/// What a data file's labels may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// Any finite number (regression).
    Any,
    /// 0 or 1 (the classes of an accuracy task).
    Binary,
}

/// An error reading a data file; its Display always names the file and, where it applies, the line (CSV) or the array/entry (npy/npz).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened, read or (for `.csv.gz`) decompressed.
    #[error("cannot read {}: {reason}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        reason: io::Error,
    },
    /// The file name has none of the supported extensions.
    #[error(
        "{}: unknown data format (expected a .csv, .csv.gz, .npy or .npz file)",
        .path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A CSV line is malformed in a way not covered by the more specific variants.
    #[error("{}: line {line}: {message}", .path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A CSV row has a different number of columns than the first data row.
    #[error(
        "{}: line {line}: expected {expected} columns ({} and a label) like line {first_line}, found {found}",
        .path.display(),
        count_features(.expected - 1)
    )]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// 1-based number of the offending line.
        line: usize,
        /// 1-based number of the first data line, which sets the column count.
        first_line: usize,
        /// Columns in the first data row.
        expected: usize,
        /// Columns in the offending row.
        found: usize,
    },
    /// The first row mixes numbers with text or empty cells, so it is neither a header (no
    /// numbers) nor a data row (only numbers).
    #[error(
        "{}: line {line}, column {column}: {} in a row that also holds numbers \
         (a header row holds no numbers, a data row only numbers)",
        .path.display(),
        describe_cell(.text)
    )]
    MixedFirstRow {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column number of the first cell that is not a number.
        column: usize,
        /// The offending field, trimmed (empty for an empty cell).
        text: String,
    },
    /// The header has a different number of columns than the data rows.
    #[error(
        "{}: line {line}: the header has {header_columns} columns, but the data rows have {found} (line {first_line})",
        .path.display()
    )]
    HeaderWidth {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the header.
        line: usize,
        /// Columns in the header.
        header_columns: usize,
        /// 1-based number of the first data line.
        first_line: usize,
        /// Columns in the first data row.
        found: usize,
    },
    /// A CSV field (after the header) is not a number.
    #[error("{}: line {line}, column {column}: `{text}` is not a number", .path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The offending field, trimmed.
        text: String,
    },
    /// A label is not 0 or 1, but the data are for an accuracy task.
    #[error(
        "{}: {location}: the label is {value}, but labels of accuracy tasks must be 0 or 1",
        .path.display()
    )]
    NotBinaryLabel {
        /// The file.
        path: PathBuf,
        /// Where: `line L, column C` (CSV) or `row R (0-based)` (npy/npz).
        location: String,
        /// The offending label.
        value: f64,
    },
    /// A CSV field is NaN or infinite.
    #[error(
        "{}: line {line}, column {column}: {} in the data",
        .path.display(),
        non_finite_name(*.value)
    )]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The offending value.
        value: f64,
    },
    /// The file (or one array in it) does not hold a usable table.
    #[error("{}: {}{message}", .path.display(), array_prefix(.array.as_deref()))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The `.npz` array concerned, if any.
        array: Option<String>,
        /// What is wrong.
        message: String,
    },
}

fn non_finite_name(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "infinity"
    } else {
        "-infinity"
    }
}

fn describe_cell(text: &str) -> String {
    if text.is_empty() {
        "empty cell".to_owned()
    } else {
        format!("`{text}` is not a number")
    }
}

fn count_features(n: usize) -> String {
    format!("{n} feature{}", if n == 1 { "" } else { "s" })
}

fn array_prefix(array: Option<&str>) -> String {
    array.map_or_else(String::new, |name| format!("array `{name}`: "))
}

/// Reads a dataset, choosing the format from the file name: `.csv` or `.csv.gz` (gzip via flate2), `.npy`, `.npz`.
pub fn read_dataset(path: &Path) -> Result<Dataset, DataError> {
    read_dataset_with(path, Labels::Any)
}

/// Reads a dataset like [`read_dataset`], checking that its labels are what `labels` allows.
pub fn read_dataset_with(path: &Path, labels: Labels) -> Result<Dataset, DataError> {
    read_table(path)?.into_dataset(path, None, labels)
}

/// Whether a label is a class of an accuracy task: 0 or 1.
pub(crate) fn is_binary(label: f64) -> bool {
    label == 0.0 || label == 1.0
}

/// Reads a table of numbers, choosing the format from the file name: `.csv` or `.csv.gz`,
/// `.npy`, `.npz` (a features/labels pair becomes a table whose last column is the label).
pub fn read_table(path: &Path) -> Result<Table, DataError> {
    let io_error = |reason| DataError::Io {
        path: path.to_owned(),
        reason,
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".csv") {
        parse_csv(&fs::read(path).map_err(io_error)?, path)
    } else if name.ends_with(".csv.gz") {
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|file| MultiGzDecoder::new(BufReader::new(file)).read_to_end(&mut bytes))
            .map_err(io_error)?;
        parse_csv(&bytes, path)
    } else if name.ends_with(".npy") {
        let bytes = fs::read(path).map_err(io_error)?;
        let table = parse_npy(&bytes).map_err(|message| invalid(path, None, message))?;
        array_table(table, path, None)
    } else if name.ends_with(".npz") {
        read_npz(path)
    } else {
        Err(DataError::UnknownFormat {
            path: path.to_owned(),
        })
    }
}

fn invalid(path: &Path, array: Option<&str>, message: impl Into<String>) -> DataError {
    DataError::Invalid {
        path: path.to_owned(),
        array: array.map(str::to_owned),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

/// Parses CSV text: rows of numbers, optional header, `#` comments, blank lines.
///
/// The first row (after blank and comment lines) is a header if none of its cells is a number
/// and none is empty; it must then have as many columns as the data rows. A first row that mixes
/// numbers with text or empty cells is an error, as is any later cell that is not a number.
fn parse_csv(bytes: &[u8], path: &Path) -> Result<Table, DataError> {
    let mut values = Vec::new();
    let mut lines = Vec::new();
    let mut names = None;
    // Line number and column count of the first data row.
    let mut first_row: Option<(usize, usize)> = None;
    // Line number and column count of the header, if there is one.
    let mut header: Option<(usize, usize)> = None;
    let mut seen_any_row = false;
    let mut fields: Vec<&str> = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let text = std::str::from_utf8(raw).map_err(|e| DataError::Line {
            path: path.to_owned(),
            line,
            message: format!("not valid UTF-8 text (at byte {})", e.valid_up_to() + 1),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text).trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        fields.clear();
        fields.extend(text.split(',').map(str::trim));

        let is_first_row = !seen_any_row;
        seen_any_row = true;
        if is_first_row {
            let is_number = |field: &&str| field.parse::<f64>().is_ok();
            if !fields.iter().any(is_number) {
                if let Some(index) = fields.iter().position(|field| field.is_empty()) {
                    return Err(DataError::Line {
                        path: path.to_owned(),
                        line,
                        message: format!(
                            "column {} of the header is empty (a header names every column)",
                            index + 1
                        ),
                    });
                }
                header = Some((line, fields.len()));
                names = Some(fields.iter().map(|f| f.to_string()).collect());
                continue;
            }
            if let Some(index) = fields.iter().position(|field| !is_number(field)) {
                return Err(DataError::MixedFirstRow {
                    path: path.to_owned(),
                    line,
                    column: index + 1,
                    text: fields[index].to_owned(),
                });
            }
        }
        if let (None, Some((header_line, header_columns))) = (first_row, header)
            && header_columns != fields.len()
        {
            return Err(DataError::HeaderWidth {
                path: path.to_owned(),
                line: header_line,
                header_columns,
                first_line: line,
                found: fields.len(),
            });
        }
        match first_row {
            // One column holding another separator: a file that does not use commas.
            None if fields.len() == 1 && !separator_hint(fields[0]).is_empty() => {
                return Err(DataError::Line {
                    path: path.to_owned(),
                    line,
                    message: format!("found 1 column{}", separator_hint(fields[0])),
                });
            }
            None => first_row = Some((line, fields.len())),
            Some((first_line, expected)) if fields.len() != expected => {
                return Err(DataError::RaggedRow {
                    path: path.to_owned(),
                    line,
                    first_line,
                    expected,
                    found: fields.len(),
                });
            }
            Some(_) => {}
        }

        for (index, field) in fields.iter().enumerate() {
            values.push(parse_field(field, path, line, index + 1)?);
        }
        lines.push(line);
    }
    let Some((_, columns)) = first_row else {
        return Err(invalid(path, None, "no data rows"));
    };
    Ok(Table {
        values,
        columns,
        names,
        lines,
    })
}

/// For the one field of a line: which other separator the file seems to use, and that columns
/// must be separated by commas; empty when the field holds none.
fn separator_hint(field: &str) -> String {
    let seen = [
        (';', "semicolons (`;`)"),
        ('\t', "tabs"),
        ('|', "vertical bars (`|`)"),
    ]
    .into_iter()
    .map(|(c, name)| (field.matches(c).count(), name))
    .filter(|&(count, _)| count > 0)
    .max_by_key(|&(count, _)| count);
    match seen {
        Some((_, name)) => format!(
            "; the file seems to separate its columns with {name}, but columns must be \
             separated by commas"
        ),
        None => String::new(),
    }
}

/// Parses one trimmed CSV field as a finite number.
fn parse_field(field: &str, path: &Path, line: usize, column: usize) -> Result<f64, DataError> {
    if field.is_empty() {
        return Err(DataError::Line {
            path: path.to_owned(),
            line,
            message: format!("column {column} is empty"),
        });
    }
    let value: f64 = field.parse().map_err(|_| DataError::NotANumber {
        path: path.to_owned(),
        line,
        column,
        text: field.to_owned(),
    })?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(DataError::NonFinite {
            path: path.to_owned(),
            line,
            column,
            value,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// npy / npz

/// A numeric array read from npy data, converted to `f64` and stored in C (row-major) order.
struct Array {
    shape: Vec<usize>,
    values: Vec<f64>,
}

/// The element types we convert to `f64`.
#[derive(Clone, Copy)]
enum Element {
    F32,
    F64,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Bool,
}

impl Element {
    fn of(dtype: &DType) -> Option<Element> {
        let DType::Plain(type_str) = dtype else {
            return None;
        };
        Some(match (type_str.type_char(), type_str.size_field()) {
            (TypeChar::Float, 4) => Element::F32,
            (TypeChar::Float, 8) => Element::F64,
            (TypeChar::Int, 1) => Element::I8,
            (TypeChar::Int, 2) => Element::I16,
            (TypeChar::Int, 4) => Element::I32,
            (TypeChar::Int, 8) => Element::I64,
            (TypeChar::Uint, 1) => Element::U8,
            (TypeChar::Uint, 2) => Element::U16,
            (TypeChar::Uint, 4) => Element::U32,
            (TypeChar::Uint, 8) => Element::U64,
            (TypeChar::Bool, 1) => Element::Bool,
            _ => return None,
        })
    }

    fn size(self) -> u64 {
        match self {
            Element::I8 | Element::U8 | Element::Bool => 1,
            Element::I16 | Element::U16 => 2,
            Element::F32 | Element::I32 | Element::U32 => 4,
            Element::F64 | Element::I64 | Element::U64 => 8,
        }
    }

    /// Reads all elements of `npy`, whose dtype must match `self`.
    fn read_all(self, npy: NpyFile<&[u8]>) -> Result<Vec<f64>, String> {
        // Integers wider than 52 bits may round; that is inherent to an `f64` table.
        match self {
            Element::F32 => read_values::<f32>(npy, f64::from),
            Element::F64 => read_values(npy, |v: f64| v),
            Element::I8 => read_values::<i8>(npy, f64::from),
            Element::I16 => read_values::<i16>(npy, f64::from),
            Element::I32 => read_values::<i32>(npy, f64::from),
            Element::I64 => read_values(npy, |v: i64| v as f64),
            Element::U8 => read_values::<u8>(npy, f64::from),
            Element::U16 => read_values::<u16>(npy, f64::from),
            Element::U32 => read_values::<u32>(npy, f64::from),
            Element::U64 => read_values(npy, |v: u64| v as f64),
            Element::Bool => read_values(npy, |v: bool| f64::from(u8::from(v))),
        }
    }
}

fn read_values<T: Deserialize>(
    npy: NpyFile<&[u8]>,
    convert: impl Fn(T) -> f64,
) -> Result<Vec<f64>, String> {
    npy.data::<T>()
        .map_err(|e| brief(&e))?
        .map(|value| value.map(&convert))
        .collect::<io::Result<_>>()
        .map_err(|e| format!("cannot read the array data: {}", brief(&e)))
}

/// The first line of an error message, at most 200 characters (parser errors can quote the
/// whole header).
fn brief(error: &dyn Display) -> String {
    let text = error.to_string();
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None => line.to_owned(),
    }
}

/// Parses the bytes of an `.npy` file into an [`Array`]; errors are messages without location.
fn parse_npy(bytes: &[u8]) -> Result<Array, String> {
    let data_start = check_preamble(bytes)?;
    let npy = NpyFile::new(bytes).map_err(|e| format!("invalid .npy header: {}", brief(&e)))?;
    let dtype = npy.dtype();
    let element = Element::of(&dtype).ok_or_else(|| {
        format!(
            "unsupported dtype {}: expected floats, integers or booleans",
            dtype.descr()
        )
    })?;
    let shape = npy
        .shape()
        .iter()
        .map(|&dim| usize::try_from(dim))
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|_| "the array is too large".to_owned())?;
    let count = npy.len();
    // Checked before reading so that a lying header cannot trigger a huge allocation.
    let available = (bytes.len() - data_start) as u64;
    let needed = count.checked_mul(element.size());
    if needed.is_none_or(|needed| needed > available) {
        return Err(format!(
            "truncated data: shape {shape:?} needs {count} values of {} bytes, but only {available} bytes follow the header",
            element.size()
        ));
    }
    let fortran = npy.order() == Order::Fortran;
    let mut values = element.read_all(npy)?;
    // Fortran order stores the transpose. Only 2-D arrays need reordering: 1-D ones are the
    // same either way and others are rejected by the callers.
    if let (true, &[rows, columns]) = (fortran, &shape[..]) {
        values = transpose(&values, columns, rows);
    }
    Ok(Array { shape, values })
}

/// Transposes a row-major `rows x columns` matrix.
fn transpose(values: &[f64], rows: usize, columns: usize) -> Vec<f64> {
    (0..columns)
        .flat_map(|c| (0..rows).map(move |r| values[r * columns + c]))
        .collect()
}

/// Checks the magic string, version and header length of npy bytes, returns where the data
/// starts, and screens the header text (see [`check_header_text`]).
fn check_preamble(bytes: &[u8]) -> Result<usize, String> {
    const TRUNCATED: &str = "truncated .npy header";
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err("not a .npy array (missing the \\x93NUMPY magic string)".to_owned());
    }
    let (length, start) = match bytes.get(6..8) {
        Some([1, 0]) => (
            bytes
                .get(8..10)
                .map(|b| u16::from_le_bytes([b[0], b[1]]).into()),
            10,
        ),
        Some([2 | 3, 0]) => (
            bytes
                .get(8..12)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            12,
        ),
        Some([major, minor]) => {
            return Err(format!("unsupported .npy format version {major}.{minor}"));
        }
        _ => return Err(TRUNCATED.to_owned()),
    };
    let end = length
        .and_then(|length| usize::try_from(length).ok())
        .and_then(|length| length.checked_add(start))
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| TRUNCATED.to_owned())?;
    check_header_text(&bytes[start..end])?;
    Ok(end)
}

/// Rejects header texts that the header parser cannot handle safely: brackets nested deeper than
/// any real header (deep recursion) and integer literals whose product overflows `u64` (npyz
/// multiplies the shape without overflow checks). Integers are counted wherever they appear, so
/// the product bounds that of the shape.
fn check_header_text(text: &[u8]) -> Result<(), String> {
    const MAX_DEPTH: usize = 32;
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let unsupported = || "unsupported .npy header (implausible shape or nesting)".to_owned();
    let mut depth = 0_usize;
    let mut product = 1_u64;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(unsupported());
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'0'..=b'9' if i == 0 || !is_word(text[i - 1]) => {
                let start = i;
                while text.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let digits = &text[start..i];
                if matches!(text.get(i), Some(b'L' | b'l')) {
                    i += 1; // Python 2 long suffix, as in `(3L, 4L)`.
                }
                // Hex, underscores, floats...: not written by numpy, and hard to bound.
                if text.get(i).is_some_and(|&b| is_word(b) || b == b'.') {
                    return Err(unsupported());
                }
                let value = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|digits| digits.parse::<u64>().ok())
                    .ok_or_else(unsupported)?;
                product = product.checked_mul(value.max(1)).ok_or_else(unsupported)?;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// A table from a 2-D array.
fn array_table(table: Array, path: &Path, array: Option<&str>) -> Result<Table, DataError> {
    let fail = |message: String| invalid(path, array, message);
    let [rows, columns] = table.shape[..] else {
        return Err(fail(format!(
            "expected a 2-D array of floats (rows, features + label), found shape {:?}",
            table.shape
        )));
    };
    if columns == 0 {
        return Err(fail(format!(
            "expected at least 1 column, found shape {:?}",
            table.shape
        )));
    }
    if rows == 0 {
        return Err(fail("the array has no rows".to_owned()));
    }
    check_finite(&table.values, columns).map_err(fail)?;
    Ok(Table {
        values: table.values,
        columns,
        names: None,
        lines: Vec::new(),
    })
}

/// Errors on the first NaN or infinity in a row-major table, naming its row and column.
fn check_finite(values: &[f64], columns: usize) -> Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(format!(
            "row {}, column {} (0-based): {} in the data",
            index / columns,
            index % columns,
            non_finite_name(values[index])
        )),
    }
}

/// Pairs of (features, labels) array names accepted in an `.npz` file.
const NPZ_PAIRS: [(&str, &str); 3] = [("x", "y"), ("X", "y"), ("features", "labels")];

/// Reads an `.npz` archive: one table array, or a features/labels pair (see [`NPZ_PAIRS`]).
fn read_npz(path: &Path) -> Result<Table, DataError> {
    let file = File::open(path).map_err(|reason| DataError::Io {
        path: path.to_owned(),
        reason,
    })?;
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(|e| {
        invalid(
            path,
            None,
            format!("not a valid .npz (zip) archive: {}", brief(&e)),
        )
    })?;
    let mut names: Vec<String> = zip
        .file_names()
        .filter_map(|name| name.strip_suffix(".npy"))
        .map(str::to_owned)
        .collect();
    names.sort();
    let has = |name: &str| names.iter().any(|n| n == name);

    if let Some(&(x_name, y_name)) = NPZ_PAIRS.iter().find(|(x, y)| has(x) && has(y)) {
        let x = read_npz_array(&mut zip, x_name, path)?;
        let y = read_npz_array(&mut zip, y_name, path)?;
        return pair_table(x, y, (x_name, y_name), path);
    }
    match &names[..] {
        [name] => {
            let table = read_npz_array(&mut zip, name, path)?;
            array_table(table, path, Some(name))
        }
        [] => Err(invalid(path, None, "the archive holds no .npy arrays")),
        _ => Err(invalid(
            path,
            None,
            format!(
                "expected one array (features and label) or a pair named x/y, X/y or \
                 features/labels; found arrays {names:?}"
            ),
        )),
    }
}

/// Reads and parses the array `name` of an `.npz` archive.
fn read_npz_array<R: Read + io::Seek>(
    zip: &mut ZipArchive<R>,
    name: &str,
    path: &Path,
) -> Result<Array, DataError> {
    let fail = |message: String| invalid(path, Some(name), message);
    let mut bytes = Vec::new();
    zip.by_name(&format!("{name}.npy"))
        .map_err(|e| fail(format!("cannot open the entry: {}", brief(&e))))?
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read the entry: {}", brief(&e))))?;
    parse_npy(&bytes).map_err(fail)
}

/// A table of a features array of shape (rows, features) (or (rows,) for a single feature)
/// and, as its last column, a labels array of shape (rows,) or (rows, 1).
fn pair_table(
    x: Array,
    y: Array,
    (x_name, y_name): (&str, &str),
    path: &Path,
) -> Result<Table, DataError> {
    let (rows, num_features) = match x.shape[..] {
        [rows] => (rows, 1),
        [rows, features] if features > 0 => (rows, features),
        _ => {
            return Err(invalid(
                path,
                Some(x_name),
                format!(
                    "expected a 2-D array (rows, features) with at least 1 feature, found shape {:?}",
                    x.shape
                ),
            ));
        }
    };
    let y_rows = match y.shape[..] {
        [rows] | [rows, 1] => rows,
        _ => {
            return Err(invalid(
                path,
                Some(y_name),
                format!(
                    "expected a 1-D array of labels (rows,) or (rows, 1), found shape {:?}",
                    y.shape
                ),
            ));
        }
    };
    if rows != y_rows {
        return Err(invalid(
            path,
            None,
            format!(
                "arrays `{x_name}` and `{y_name}` have different numbers of rows ({rows} and {y_rows})"
            ),
        ));
    }
    if rows == 0 {
        return Err(invalid(path, Some(x_name), "the array has no rows"));
    }
    check_finite(&x.values, num_features).map_err(|m| invalid(path, Some(x_name), m))?;
    check_finite(&y.values, 1).map_err(|m| invalid(path, Some(y_name), m))?;
    let mut values = Vec::with_capacity(rows * (num_features + 1));
    for (row, label) in x.values.chunks_exact(num_features).zip(&y.values) {
        values.extend_from_slice(row);
        values.push(*label);
    }
    Ok(Table {
        values,
        columns: num_features + 1,
        names: None,
        lines: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;
    use npyz::WriterBuilder;
    use npyz::npz::NpzWriter;

    /// Writes `bytes` to `dir/name` and returns the path.
    fn write_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    fn read_bytes(name: &str, bytes: &[u8]) -> Result<Dataset, DataError> {
        let dir = tempfile::tempdir().unwrap();
        read_dataset(&write_file(&dir, name, bytes))
    }

    fn read_csv(text: &str) -> Result<Dataset, DataError> {
        read_bytes("data.csv", text.as_bytes())
    }

    fn error_text(result: Result<Dataset, DataError>) -> String {
        result.expect_err("expected an error").to_string()
    }

    /// A version 1.0 npy file with a hand-written header, padded as numpy does.
    fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let fortran = if fortran { "True" } else { "False" };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        // magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
        let unpadded = 10 + header.len() + 1;
        header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
        header.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        assert_eq!(bytes.len() % 64, 0);
        bytes.extend_from_slice(data);
        bytes
    }

    fn f64_le(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn f32_le(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// 3 rows of 3 features and a label.
    const TABLE: [f64; 12] = [
        1.0, 2.0, 3.0, 10.0, //
        4.0, 5.0, 6.0, 20.0, //
        7.0, 8.0, 9.0, 30.0,
    ];

    /// The dataset without its header's names.
    fn unnamed(data: Dataset) -> Dataset {
        Dataset {
            names: None,
            ..data
        }
    }

    fn expected_table() -> Dataset {
        Dataset {
            features: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
            labels: vec![10.0, 20.0, 30.0],
            num_features: 3,
            names: None,
        }
    }

    #[test]
    fn csv_without_header() {
        let data = read_csv("1,2,3,10\n4,5,6,20\n7,8,9,30\n").unwrap();
        assert_eq!(data, expected_table());
        assert_eq!(data.num_rows(), 3);
        assert_eq!(data.row(1), &[4.0, 5.0, 6.0]);
    }

    #[test]
    fn csv_with_header() {
        let data = read_csv("a, b, c, label\n1,2,3,10\n4,5,6,20\n7,8,9,30").unwrap();
        assert_eq!(data.names.clone().unwrap(), ["a", "b", "c", "label"]);
        assert_eq!(unnamed(data), expected_table());
        // Header cells may look almost like numbers, as long as none is one.
        let data = read_csv("x1,2b,label\n1,2,3\n").unwrap();
        assert_eq!(data.labels, [3.0]);
    }

    #[test]
    fn csv_first_row_mixing_numbers_and_text_is_an_error() {
        // Neither a header (it holds numbers) nor data (it holds text): the row is not dropped.
        let message = error_text(read_csv("0.5,abc,0.3\n1,2,3\n"));
        assert!(
            message.ends_with(
                "data.csv: line 1, column 2: `abc` is not a number in a row that also holds \
                 numbers (a header row holds no numbers, a data row only numbers)"
            ),
            "{message}"
        );
        let message = error_text(read_csv("# comment\n\nx1,2,label\n1,2,3\n"));
        assert!(
            message.contains("data.csv: line 3, column 1: `x1` is not a number"),
            "{message}"
        );
        let message = error_text(read_csv("0.5,,0.3\n1,2,3\n"));
        assert!(
            message.contains(
                "data.csv: line 1, column 2: empty cell in a row that also holds numbers"
            ),
            "{message}"
        );
        let message = error_text(read_csv("a,,c\n1,2,3\n"));
        assert!(
            message.ends_with(
                "data.csv: line 1: column 2 of the header is empty (a header names every column)"
            ),
            "{message}"
        );
    }

    #[test]
    fn csv_header_must_match_the_data_width() {
        let message = error_text(read_csv("x,y\n1,2,3,4,5\n1,2,3,4,5\n"));
        assert!(
            message.ends_with(
                "data.csv: line 1: the header has 2 columns, but the data rows have 5 (line 2)"
            ),
            "{message}"
        );
        let message = error_text(read_csv("#c\na,b,c,d,e,f\n\n1,2,3,4,5\n"));
        assert!(
            message
                .ends_with("line 2: the header has 6 columns, but the data rows have 5 (line 4)"),
            "{message}"
        );
    }

    #[test]
    fn csv_comments_blank_lines_whitespace_and_crlf() {
        let text = "\u{feff}# generated\r\n\r\n  x , y , z , t \r\n# mid comment\n 1 ,2, 3,10\r\n\n\t4,5,6 , 20\n   \n7,8,9,30\n#end";
        assert_eq!(unnamed(read_csv(text).unwrap()), expected_table());
        // Scientific notation and signs.
        let data = read_csv("1e-3,-2.5,+3\n").unwrap();
        assert_eq!((data.features, data.labels), (vec![1e-3, -2.5], vec![3.0]));
    }

    #[test]
    fn gzipped_csv() {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder
            .write_all(b"f1,f2,f3,label\n1,2,3,10\n4,5,6,20\n7,8,9,30\n")
            .unwrap();
        let result = read_bytes("data.CSV.gz", &encoder.finish().unwrap());
        assert_eq!(unnamed(result.unwrap()), expected_table());
        let message = error_text(read_bytes("bad.csv.gz", b"1,2\n3,4\n"));
        assert!(
            message.starts_with("cannot read ") && message.contains("bad.csv.gz"),
            "{message}"
        );
    }

    #[test]
    fn csv_ragged_row_names_line() {
        let message = error_text(read_csv(
            "a,b,c,d,e\n\n1,2,3,4,5\n1,2,3,4,5\n# c\n\n1,2,3,4\n",
        ));
        assert!(
            message.ends_with(
                "data.csv: line 7: expected 5 columns (4 features and a label) like line 3, found 4"
            ),
            "{message}"
        );
    }

    #[test]
    fn csv_non_number_names_line_and_column() {
        let message = error_text(read_csv("1,2\n3,4\n5, abc \n"));
        assert!(
            message.ends_with("data.csv: line 3, column 2: `abc` is not a number"),
            "{message}"
        );
        let message = error_text(read_csv("1,2,3\n4,,6\n"));
        assert!(
            message.ends_with("data.csv: line 2: column 2 is empty"),
            "{message}"
        );
        let result = read_bytes("data.csv", b"1,2\n3,\xff\n");
        assert!(matches!(result, Err(DataError::Line { line: 2, .. })));
    }

    #[test]
    fn csv_nan_and_infinity_are_errors() {
        let message = error_text(read_csv("h,l\n1,2\n3,4\nnan,5\n"));
        assert!(
            message.ends_with("data.csv: line 4, column 1: NaN in the data"),
            "{message}"
        );
        let message = error_text(read_csv("1,inf\n"));
        assert!(
            message.ends_with("line 1, column 2: infinity in the data"),
            "{message}"
        );
        let message = error_text(read_csv("1,2\n-Infinity,3\n"));
        assert!(
            message.ends_with("line 2, column 1: -infinity in the data"),
            "{message}"
        );
    }

    #[test]
    fn binary_labels_are_checked_naming_the_line_or_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_file(&dir, "acc.csv", b"x,y,label\n1,2,0\n3,4,1\n\n5,6,1.5\n");
        assert_eq!(read_dataset(&path).unwrap().labels, [0.0, 1.0, 1.5]);
        let message = error_text(read_dataset_with(&path, Labels::Binary));
        assert!(
            message.ends_with(
                "acc.csv: line 5, column 3: the label is 1.5, but labels of accuracy tasks must be 0 or 1"
            ),
            "{message}"
        );
        let path = write_file(&dir, "ok.csv", b"1,2,0\n3,4,1\n5,6,-0\n");
        assert_eq!(
            read_dataset_with(&path, Labels::Binary).unwrap().labels,
            [0.0, 1.0, 0.0]
        );
        let bytes = npy_bytes("<f8", false, "(3, 4)", &f64_le(&TABLE));
        let path = write_file(&dir, "acc.npy", &bytes);
        let message = error_text(read_dataset_with(&path, Labels::Binary));
        assert!(
            message.ends_with("acc.npy: row 0 (0-based): the label is 10, but labels of accuracy tasks must be 0 or 1"),
            "{message}"
        );
    }

    #[test]
    fn csv_needs_rows_and_two_columns() {
        for text in ["", "\n\n# only comments\n", "a,b,c\n"] {
            assert!(error_text(read_csv(text)).ends_with("data.csv: no data rows"));
        }
        let message = error_text(read_csv("label\n1\n2\n"));
        assert!(
            message
                .ends_with("data.csv: expected at least 2 columns (features and a label), found 1"),
            "{message}"
        );
        assert!(!message.contains("separate"), "{message}");
    }

    #[test]
    fn a_file_separated_by_semicolons_tabs_or_bars_is_told_to_use_commas() {
        for (text, name) in [
            ("x1;x2;y\n1;2;3\n4;5;6\n", "semicolons (`;`)"),
            ("1;2;3\n4;5;6\n", "semicolons (`;`)"),
            ("x1\tx2\ty\n1\t2\t3\n", "tabs"),
            ("x1|x2|y\n1|2|3\n", "vertical bars (`|`)"),
        ] {
            let message = error_text(read_csv(text));
            assert!(
                message.contains("data.csv")
                    && message.contains(": found 1 column;")
                    && message.contains(&format!("seems to separate its columns with {name}"))
                    && message.ends_with("columns must be separated by commas"),
                "{text:?}: {message}"
            );
        }
    }

    #[test]
    fn missing_file_and_unknown_extension_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "missing.csv",
            "missing.csv.gz",
            "missing.npy",
            "missing.npz",
        ] {
            let path = dir.path().join(name);
            let message = error_text(read_dataset(&path));
            assert!(
                message.starts_with(&format!("cannot read {}: ", path.display())),
                "{message}"
            );
        }
        let path = write_file(&dir, "data.txt", b"1,2\n");
        assert!(matches!(
            read_dataset(&path),
            Err(DataError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn npy_f64_and_f32_by_hand() {
        let bytes = npy_bytes("<f8", false, "(3, 4)", &f64_le(&TABLE));
        assert_eq!(read_bytes("data.npy", &bytes).unwrap(), expected_table());
        let table32: Vec<f32> = TABLE.iter().map(|&v| v as f32).collect();
        let bytes = npy_bytes("<f4", false, "(3, 4)", &f32_le(&table32));
        assert_eq!(read_bytes("data.npy", &bytes).unwrap(), expected_table());
        let big_endian: Vec<u8> = TABLE.iter().flat_map(|v| v.to_be_bytes()).collect();
        let bytes = npy_bytes(">f8", false, "(3, 4)", &big_endian);
        assert_eq!(read_bytes("data.npy", &bytes).unwrap(), expected_table());
    }

    #[test]
    fn npy_fortran_order() {
        let column_major: Vec<f64> = (0..4)
            .flat_map(|c| (0..3).map(move |r| TABLE[r * 4 + c]))
            .collect();
        let bytes = npy_bytes("<f8", true, "(3, 4)", &f64_le(&column_major));
        assert_eq!(read_bytes("data.npy", &bytes).unwrap(), expected_table());
    }

    #[test]
    fn npy_integers_via_npyz_writer() {
        let mut bytes = Vec::new();
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[3, 4])
            .writer(&mut bytes)
            .begin_nd()
            .unwrap();
        writer.extend(TABLE.iter().map(|&v| v as i32)).unwrap();
        writer.finish().unwrap();
        assert_eq!(read_bytes("data.npy", &bytes).unwrap(), expected_table());
        let bytes = npy_bytes("|u1", false, "(3, 4)", &TABLE.map(|v| v as u8));
        assert_eq!(read_bytes("data.npy", &bytes).unwrap(), expected_table());
    }

    #[test]
    fn npy_bad_shapes_and_values() {
        let message = error_text(read_bytes(
            "x.npy",
            &npy_bytes("<f8", false, "(3,)", &f64_le(&[1.0, 2.0, 3.0])),
        ));
        assert!(
            message.ends_with(
                "x.npy: expected a 2-D array of floats (rows, features + label), found shape [3]"
            ),
            "{message}"
        );
        let message = error_text(read_bytes(
            "x.npy",
            &npy_bytes("<f8", false, "(2, 1)", &f64_le(&[1.0, 2.0])),
        ));
        assert!(message.contains("at least 2 columns"), "{message}");
        let message = error_text(read_bytes("x.npy", &npy_bytes("<f8", false, "(0, 3)", &[])));
        assert!(
            message.ends_with("x.npy: the array has no rows"),
            "{message}"
        );
        let mut table = TABLE;
        table[6] = f64::NAN;
        let message = error_text(read_bytes(
            "x.npy",
            &npy_bytes("<f8", false, "(3, 4)", &f64_le(&table)),
        ));
        assert!(
            message.ends_with("x.npy: row 1, column 2 (0-based): NaN in the data"),
            "{message}"
        );
        let message = error_text(read_bytes(
            "x.npy",
            &npy_bytes("<U3", false, "(3, 4)", &[0; 144]),
        ));
        assert!(message.contains("unsupported dtype '<U3'"), "{message}");
    }

    #[test]
    fn npy_truncated_and_malformed() {
        let bytes = npy_bytes("<f8", false, "(3, 4)", &f64_le(&TABLE));
        for len in [0, 5, 9, 40, 64, 65, bytes.len() - 1] {
            let message = error_text(read_bytes("x.npy", &bytes[..len]));
            assert!(message.contains("x.npy: "), "{message}");
        }
        let message = error_text(read_bytes("x.npy", &bytes[..bytes.len() - 1]));
        assert!(message.contains("truncated data"), "{message}");
        // Shapes whose product overflows, and absurd nesting, are rejected without panicking.
        let huge = npy_bytes("<f8", false, "(4294967296, 4294967296, 16)", &[]);
        assert!(read_bytes("x.npy", &huge).is_err());
        let huge = npy_bytes("<f8", false, "(0, 4294967296, 4294967296)", &[]);
        assert!(read_bytes("x.npy", &huge).is_err());
        let deep = npy_bytes(
            "<f8",
            false,
            &format!("{}3, 4{}", "(".repeat(5000), ")".repeat(5000)),
            &[],
        );
        assert!(read_bytes("x.npy", &deep).is_err());
        let mut garbage_header = npy_bytes("<f8", false, "(3, 4)", &f64_le(&TABLE));
        garbage_header[20] = b'@';
        assert!(error_text(read_bytes("x.npy", &garbage_header)).contains("invalid .npy header"));
    }

    fn npz_bytes(arrays: &[(&str, &[u64], &[f64])]) -> Vec<u8> {
        let mut buffer = io::Cursor::new(Vec::new());
        let mut npz = NpzWriter::new(&mut buffer);
        for &(name, shape, values) in arrays {
            npz.array(name, Default::default())
                .unwrap()
                .default_dtype()
                .shape(shape)
                .begin_nd()
                .unwrap()
                .extend(values.iter().copied())
                .unwrap();
        }
        drop(npz);
        buffer.into_inner()
    }

    #[test]
    fn npz_pairs_and_single_table() {
        let features = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        let labels = [10.0, 20.0, 30.0];
        for (x, y, y_shape) in [
            ("x", "y", &[3][..]),
            ("X", "y", &[3, 1][..]),
            ("features", "labels", &[3][..]),
        ] {
            let bytes = npz_bytes(&[(x, &[3, 3], &features), (y, y_shape, &labels)]);
            assert_eq!(
                read_bytes("d.npz", &bytes).unwrap(),
                expected_table(),
                "{x}/{y}"
            );
        }
        let bytes = npz_bytes(&[("data", &[3, 4], &TABLE)]);
        assert_eq!(read_bytes("d.npz", &bytes).unwrap(), expected_table());
    }

    #[test]
    fn npz_errors_name_the_array() {
        let bytes = npz_bytes(&[("x", &[3, 3], &[0.0; 9]), ("y", &[2], &[0.0; 2])]);
        let message = error_text(read_bytes("d.npz", &bytes));
        assert!(
            message.ends_with("d.npz: arrays `x` and `y` have different numbers of rows (3 and 2)"),
            "{message}"
        );
        let bytes = npz_bytes(&[("x", &[3, 3], &[0.0; 9]), ("y", &[3, 2], &[0.0; 6])]);
        let message = error_text(read_bytes("d.npz", &bytes));
        assert!(
            message.contains("d.npz: array `y`: expected a 1-D array"),
            "{message}"
        );
        let mut x = [0.0; 9];
        x[4] = f64::INFINITY;
        let bytes = npz_bytes(&[("x", &[3, 3], &x), ("y", &[3], &[0.0; 3])]);
        let message = error_text(read_bytes("d.npz", &bytes));
        assert!(
            message.ends_with("d.npz: array `x`: row 1, column 1 (0-based): infinity in the data"),
            "{message}"
        );
        let bytes = npz_bytes(&[("table", &[4], &[0.0; 4])]);
        let message = error_text(read_bytes("d.npz", &bytes));
        assert!(
            message.contains("d.npz: array `table`: expected a 2-D array"),
            "{message}"
        );
        let bytes = npz_bytes(&[("a", &[2, 2], &[0.0; 4]), ("b", &[2, 2], &[0.0; 4])]);
        let message = error_text(read_bytes("d.npz", &bytes));
        assert!(message.contains("found arrays [\"a\", \"b\"]"), "{message}");
        assert!(error_text(read_bytes("d.npz", &npz_bytes(&[]))).contains("no .npy arrays"));
        let message = error_text(read_bytes("d.npz", b"not a zip"));
        assert!(
            message.contains("d.npz: not a valid .npz (zip) archive"),
            "{message}"
        );
    }

    /// A xorshift64 generator for the fuzz loop.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn fuzz_random_bytes_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let valid_npy = npy_bytes("<f8", false, "(3, 4)", &f64_le(&TABLE));
        let valid_npz = npz_bytes(&[("x", &[3, 3], &[0.0; 9]), ("y", &[3], &[0.0; 3])]);
        let alphabet = b"0123456789,.-+eE \n\r#naifNAIF\t\"x";
        for i in 0..2000 {
            let len = rng.below(300);
            let bytes: Vec<u8> = match i % 4 {
                // Raw random bytes.
                0 => (0..len).map(|_| rng.next() as u8).collect(),
                // CSV-like text.
                1 => (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len())])
                    .collect(),
                // Mutated and truncated valid files.
                _ => {
                    let valid = if i % 4 == 2 { &valid_npy } else { &valid_npz };
                    let mut bytes = valid[..rng.below(valid.len() + 1)].to_vec();
                    for _ in 0..1 + rng.below(4) {
                        if !bytes.is_empty() {
                            let at = rng.below(bytes.len());
                            bytes[at] = rng.next() as u8;
                        }
                    }
                    bytes
                }
            };
            for name in ["f.csv", "f.npy", "f.npz", "f.csv.gz"] {
                let path = write_file(&dir, name, &bytes);
                if let Err(error) = read_dataset(&path) {
                    assert!(error.to_string().contains(name), "{error}");
                }
            }
        }
    }
}
