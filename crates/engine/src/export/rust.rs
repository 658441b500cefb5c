//! The Rust export: plain arrays, no crates.

use super::{ExportOptions, describe, element_index, note};
use crate::memory::MemorySizes;
use crate::ops::{Kind, Op};
use crate::program::{Algorithm, Component, Instruction};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Helper functions a module may need, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Helper {
    MapV,
    ZipV,
    MapM,
    ZipM,
    Dot,
    Sum,
    Std,
    ScaleV,
    ScaleM,
    Outer,
    MatVec,
    ColumnBcast,
    ColumnNorm,
    RowNorm,
    Transpose,
    Matmul,
    RowMean,
    RowStd,
    MatrixStd,
}

impl Helper {
    /// The helpers this one calls.
    fn needs(self) -> &'static [Helper] {
        use Helper::*;
        match self {
            Std => &[Sum, Dot],
            ScaleV => &[MapV],
            ScaleM => &[MapM],
            MatVec | RowNorm => &[Dot],
            RowMean => &[Sum],
            RowStd => &[Std, Sum, Dot],
            MatrixStd => &[Sum, Dot],
            _ => &[],
        }
    }

    fn code(self) -> &'static str {
        use Helper::*;
        match self {
            MapV => {
                "/// `f` applied to every element.\nfn map_v(a: &Vector, f: impl Fn(f64) -> f64) -> Vector {\n    std::array::from_fn(|k| f(a[k]))\n}\n"
            }
            ZipV => {
                "/// `f` applied to every pair of elements.\nfn zip_v(a: &Vector, b: &Vector, f: impl Fn(f64, f64) -> f64) -> Vector {\n    std::array::from_fn(|k| f(a[k], b[k]))\n}\n"
            }
            MapM => {
                "/// `f` applied to every element.\nfn map_m(a: &Matrix, f: impl Fn(f64) -> f64) -> Matrix {\n    std::array::from_fn(|r| std::array::from_fn(|c| f(a[r][c])))\n}\n"
            }
            ZipM => {
                "/// `f` applied to every pair of elements.\nfn zip_m(a: &Matrix, b: &Matrix, f: impl Fn(f64, f64) -> f64) -> Matrix {\n    std::array::from_fn(|r| std::array::from_fn(|c| f(a[r][c], b[r][c])))\n}\n"
            }
            Dot => {
                "/// The dot product, summed in index order.\nfn dot(a: &Vector, b: &Vector) -> f64 {\n    let mut s = 0.0;\n    for k in 0..FEATURES {\n        s += a[k] * b[k];\n    }\n    s\n}\n"
            }
            Sum => {
                "/// The sum of the elements.\nfn sum(a: &Vector) -> f64 {\n    a.iter().sum()\n}\n"
            }
            Std => {
                "/// Population standard deviation: sqrt(mean(x²) - mean(x)²).\nfn std(a: &Vector) -> f64 {\n    let mean = sum(a) / FEATURES as f64;\n    (dot(a, a) / FEATURES as f64 - mean * mean).sqrt()\n}\n"
            }
            ScaleV => {
                "/// `k` times every element.\nfn scale_v(k: f64, a: &Vector) -> Vector {\n    map_v(a, |x| k * x)\n}\n"
            }
            ScaleM => {
                "/// `k` times every element.\nfn scale_m(k: f64, a: &Matrix) -> Matrix {\n    map_m(a, |x| k * x)\n}\n"
            }
            Outer => {
                "/// The outer product: M[i][j] = a[i] b[j].\nfn outer(a: &Vector, b: &Vector) -> Matrix {\n    std::array::from_fn(|r| std::array::from_fn(|c| a[r] * b[c]))\n}\n"
            }
            MatVec => {
                "/// The matrix times a column vector.\nfn mat_vec(a: &Matrix, x: &Vector) -> Vector {\n    std::array::from_fn(|r| dot(&a[r], x))\n}\n"
            }
            ColumnBcast => {
                "/// Every column is `a`: M[i][j] = a[i].\nfn column_bcast(a: &Vector) -> Matrix {\n    std::array::from_fn(|r| [a[r]; FEATURES])\n}\n"
            }
            ColumnNorm => {
                "/// The Euclidean norm of each column.\nfn column_norm(a: &Matrix) -> Vector {\n    std::array::from_fn(|c| (0..FEATURES).map(|r| a[r][c] * a[r][c]).sum::<f64>().sqrt())\n}\n"
            }
            RowNorm => {
                "/// The Euclidean norm of each row.\nfn row_norm(a: &Matrix) -> Vector {\n    std::array::from_fn(|r| dot(&a[r], &a[r]).sqrt())\n}\n"
            }
            Transpose => {
                "/// The transpose.\nfn transpose(a: &Matrix) -> Matrix {\n    std::array::from_fn(|r| std::array::from_fn(|c| a[c][r]))\n}\n"
            }
            Matmul => {
                "/// The matrix product.\nfn matmul(a: &Matrix, b: &Matrix) -> Matrix {\n    let mut p = [[0.0; FEATURES]; FEATURES];\n    for (i, row) in p.iter_mut().enumerate() {\n        for k in 0..FEATURES {\n            let aik = a[i][k];\n            for j in 0..FEATURES {\n                row[j] += aik * b[k][j];\n            }\n        }\n    }\n    p\n}\n"
            }
            RowMean => {
                "/// The mean of each row.\nfn row_mean(a: &Matrix) -> Vector {\n    std::array::from_fn(|r| sum(&a[r]) / FEATURES as f64)\n}\n"
            }
            RowStd => {
                "/// The population standard deviation of each row.\nfn row_std(a: &Matrix) -> Vector {\n    std::array::from_fn(|r| std(&a[r]))\n}\n"
            }
            MatrixStd => {
                "/// Population standard deviation of all elements: sqrt(mean(x²) - mean(x)²).\nfn matrix_std(a: &Matrix) -> f64 {\n    let n = (FEATURES * FEATURES) as f64;\n    let mean = a.iter().map(sum).sum::<f64>() / n;\n    let squares = a.iter().map(|row| dot(row, row)).sum::<f64>() / n;\n    (squares - mean * mean).sqrt()\n}\n"
            }
        }
    }
}

/// A float as a Rust expression of type f64 that reads back exactly.
fn float(x: f64) -> String {
    if x.is_nan() {
        "f64::NAN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "f64::INFINITY"
        } else {
            "f64::NEG_INFINITY"
        }
        .into()
    } else {
        format!("{x:?}")
    }
}

/// The helpers an op's statement calls.
fn op_helpers(op: Op) -> &'static [Helper] {
    use Helper::*;
    use Op::*;
    match op {
        VectorHeaviside | VectorReciprocal | VectorAbs => &[MapV],
        MatrixHeaviside | MatrixReciprocal | MatrixAbs => &[MapM],
        VectorSum | VectorDiff | VectorProduct | VectorDivision | VectorMin | VectorMax => &[ZipV],
        MatrixSum | MatrixDiff | MatrixProduct | MatrixDivision | MatrixMin | MatrixMax => &[ZipM],
        ScalarVectorProduct => &[ScaleV],
        ScalarMatrixProduct => &[ScaleM],
        VectorNorm | VectorInnerProduct | MatrixNorm => &[Dot],
        VectorOuterProduct => &[Outer],
        MatrixVectorProduct => &[MatVec],
        VectorColumnBroadcast => &[ColumnBcast],
        MatrixColumnNorm => &[ColumnNorm],
        MatrixRowNorm => &[RowNorm],
        MatrixTranspose => &[Transpose],
        MatrixMatrixProduct => &[Matmul],
        VectorMean | MatrixMean => &[Sum],
        MatrixRowMean => &[RowMean],
        MatrixRowStDev => &[RowStd],
        VectorStDev => &[Std],
        MatrixStDev => &[MatrixStd],
        _ => &[],
    }
}

/// One instruction as a Rust statement on the locals `s`, `v`, `m` (and `rng`).
fn statement(ins: &Instruction, features: usize) -> String {
    use Op::*;
    let (o, a, b) = (ins.out, ins.in1, ins.in2);
    let d = |k: usize| float(ins.data[k] as f64);
    let method = |f: &str| format!("s[{o}] = s[{a}].{f}();");
    let scalar = |sym: &str| format!("s[{o}] = s[{a}] {sym} s[{b}];");
    let map = |kind: char, f: &str| format!("{kind}[{o}] = map_{kind}(&{kind}[{a}], {f});");
    let zip =
        |kind: char, f: &str| format!("{kind}[{o}] = zip_{kind}(&{kind}[{a}], &{kind}[{b}], {f});");
    match ins.op {
        NoOp => String::new(),
        ScalarSum => scalar("+"),
        ScalarDiff => scalar("-"),
        ScalarProduct => scalar("*"),
        ScalarDivision => scalar("/"),
        ScalarAbs => method("abs"),
        ScalarReciprocal => format!("s[{o}] = 1.0 / s[{a}];"),
        ScalarSin => method("sin"),
        ScalarCos => method("cos"),
        ScalarTan => method("tan"),
        ScalarArcsin => method("asin"),
        ScalarArccos => method("acos"),
        ScalarArctan => method("atan"),
        ScalarExp => method("exp"),
        ScalarLog => method("ln"),
        ScalarHeaviside => format!("s[{o}] = if s[{a}] >= 0.0 {{ 1.0 }} else {{ 0.0 }};"),
        VectorHeaviside => map('v', "|x| if x > 0.0 { 1.0 } else { 0.0 }"),
        MatrixHeaviside => map('m', "|x| if x > 0.0 { 1.0 } else { 0.0 }"),
        ScalarVectorProduct => format!("v[{o}] = scale_v(s[{a}], &v[{b}]);"),
        ScalarBroadcast => format!("v[{o}] = [s[{a}]; FEATURES];"),
        VectorReciprocal => map('v', "|x| 1.0 / x"),
        VectorNorm => format!("s[{o}] = dot(&v[{a}], &v[{a}]).sqrt();"),
        VectorAbs => map('v', "f64::abs"),
        VectorSum => zip('v', "|x, y| x + y"),
        VectorDiff => zip('v', "|x, y| x - y"),
        VectorProduct => zip('v', "|x, y| x * y"),
        VectorDivision => zip('v', "|x, y| x / y"),
        VectorInnerProduct => format!("s[{o}] = dot(&v[{a}], &v[{b}]);"),
        VectorOuterProduct => format!("m[{o}] = outer(&v[{a}], &v[{b}]);"),
        ScalarMatrixProduct => format!("m[{o}] = scale_m(s[{a}], &m[{b}]);"),
        MatrixReciprocal => map('m', "|x| 1.0 / x"),
        MatrixVectorProduct => format!("v[{o}] = mat_vec(&m[{a}], &v[{b}]);"),
        VectorColumnBroadcast => format!("m[{o}] = column_bcast(&v[{a}]);"),
        VectorRowBroadcast => format!("m[{o}] = [v[{a}]; FEATURES];"),
        MatrixNorm => {
            format!("s[{o}] = m[{a}].iter().map(|row| dot(row, row)).sum::<f64>().sqrt();")
        }
        MatrixColumnNorm => format!("v[{o}] = column_norm(&m[{a}]);"),
        MatrixRowNorm => format!("v[{o}] = row_norm(&m[{a}]);"),
        MatrixTranspose => format!("m[{o}] = transpose(&m[{a}]);"),
        MatrixAbs => map('m', "f64::abs"),
        MatrixSum => zip('m', "|x, y| x + y"),
        MatrixDiff => zip('m', "|x, y| x - y"),
        MatrixProduct => zip('m', "|x, y| x * y"),
        MatrixDivision => zip('m', "|x, y| x / y"),
        MatrixMatrixProduct => format!("m[{o}] = matmul(&m[{a}], &m[{b}]);"),
        ScalarMin => format!("s[{o}] = if s[{b}] < s[{a}] {{ s[{b}] }} else {{ s[{a}] }};"),
        VectorMin => zip('v', "|x, y| if y < x { y } else { x }"),
        MatrixMin => zip('m', "|x, y| if x < y { x } else { y }"),
        ScalarMax => format!("s[{o}] = if s[{a}] < s[{b}] {{ s[{b}] }} else {{ s[{a}] }};"),
        VectorMax => zip('v', "|x, y| if x < y { y } else { x }"),
        MatrixMax => zip('m', "|x, y| if x > y { x } else { y }"),
        VectorMean => format!("s[{o}] = sum(&v[{a}]) / FEATURES as f64;"),
        MatrixMean => {
            format!("s[{o}] = m[{a}].iter().map(sum).sum::<f64>() / (FEATURES * FEATURES) as f64;")
        }
        MatrixRowMean => format!("v[{o}] = row_mean(&m[{a}]);"),
        MatrixRowStDev => format!("v[{o}] = row_std(&m[{a}]);"),
        VectorStDev => format!("s[{o}] = std(&v[{a}]);"),
        MatrixStDev => format!("s[{o}] = matrix_std(&m[{a}]);"),
        ScalarConstSet => format!("s[{o}] = {};", float(ins.activation)),
        VectorConstSet => format!(
            "v[{o}][{}] = {};",
            element_index(features, ins.data[0]),
            d(1)
        ),
        MatrixConstSet => format!(
            "m[{o}][{}][{}] = {};",
            element_index(features, ins.data[0]),
            element_index(features, ins.data[1]),
            d(2)
        ),
        ScalarUniformSet | VectorUniformSet | MatrixUniformSet => {
            random(ins.op, o, "uniform", &d(0), &d(1))
        }
        ScalarGaussianSet | VectorGaussianSet | MatrixGaussianSet => {
            random(ins.op, o, "gaussian", &d(0), &d(1))
        }
    }
}

fn random(op: Op, o: u16, f: &str, x: &str, y: &str) -> String {
    match op.info().output {
        Some(Kind::Scalar) => format!("s[{o}] = rng.{f}({x}, {y});"),
        Some(Kind::Vector) => format!("for x in v[{o}].iter_mut() {{ *x = rng.{f}({x}, {y}); }}"),
        _ => format!("for x in m[{o}].iter_mut().flatten() {{ *x = rng.{f}({x}, {y}); }}"),
    }
}

/// The memory kinds (and the generator) one component touches.
fn uses(code: &[Instruction]) -> [bool; 4] {
    let mut used = [false; 4];
    for ins in code {
        for (kind, _) in ins.reads().chain(ins.writes()) {
            used[match kind {
                Kind::Scalar => 0,
                Kind::Vector => 1,
                Kind::Matrix => 2,
            }] = true;
        }
        used[3] |= ins.op.info().random;
    }
    used
}

/// The body of one method: binds the fields it uses, then runs the instructions.
fn body(
    a: &Algorithm,
    c: Component,
    options: &ExportOptions,
    helpers: &mut BTreeSet<Helper>,
    inputs: bool,
) -> String {
    let code = a.component(c);
    let mut used = uses(code);
    if inputs {
        used[0] = true;
        used[1] = true;
    }
    let mut out = String::new();
    if used.iter().any(|u| *u) {
        let fields: Vec<&str> = ["s", "v", "m", "rng"]
            .into_iter()
            .zip(used)
            .filter(|(_, u)| *u)
            .map(|(f, _)| f)
            .collect();
        let _ = writeln!(
            out,
            "        let Model {{ {}, .. }} = self;",
            fields.join(", ")
        );
    }
    if inputs {
        let label = if c == Component::Learn {
            "label"
        } else {
            "0.0"
        };
        let _ = writeln!(out, "        v[0] = *features;\n        s[0] = {label};");
    }
    for (i, ins) in code.iter().enumerate() {
        if ins.op == Op::NoOp {
            continue;
        }
        if let Some(note) = note(options, c as usize, i) {
            let _ = writeln!(out, "        // {note}");
        }
        for &h in op_helpers(ins.op) {
            helpers.insert(h);
            helpers.extend(h.needs());
        }
        let _ = writeln!(out, "        {} // {ins}", statement(ins, options.features));
    }
    out
}

const RNG: &str = r#"
/// The generator of the random ops: SplitMix64, with Box-Muller for normal draws.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in the open interval (0, 1).
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A uniform draw in (low, high); `low` when the interval is empty or inverted.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        if low < high {
            low + (high - low) * self.unit()
        } else {
            low
        }
    }

    /// A normal draw with the given mean and standard deviation.
    pub fn gaussian(&mut self, mean: f64, sd: f64) -> f64 {
        let radius = (-2.0 * self.unit().ln()).sqrt();
        mean + sd * radius * (2.0 * std::f64::consts::PI * self.unit()).cos()
    }
}
"#;

/// The whole Rust module.
pub(super) fn module(a: &Algorithm, sizes: &MemorySizes, options: &ExportOptions) -> String {
    let mut helpers = BTreeSet::new();
    let setup = body(a, Component::Setup, options, &mut helpers, false);
    let predict = body(a, Component::Predict, options, &mut helpers, true);
    let learn = body(a, Component::Learn, options, &mut helpers, true);
    let program: String = a
        .to_string()
        .lines()
        .map(|l| format!("//! {l}\n"))
        .collect();
    let mut text = String::new();
    let _ = write!(
        text,
        r#"//! {title}
//!
//! Exported by `automl-zero export` from this program:
//!
//! ```text
{program}//! ```
//!
//! A self-contained module (plain arrays, no crates): add it as `mod model;`. `Model` holds
//! the memory the program uses ({memory}) and runs its three functions with the
//! semantics of the engine:
//!
//! ```text
//! let mut model = Model::new();
//! model.setup();                       // once, before training
//! for (x, y) in &training_examples {{
//!     model.predict(x);                // s0 = 0, v0 = x; returns s1
//!     model.learn(x, *y);              // s0 = y, v0 = x; right after predict(x)
//! }}
//! let prediction = model.predict(&x);
//! ```
//!
//! Memory starts at zero and carries over between calls. The prediction is s1 after Predict.
//! Classification (the engine's ACCURACY tasks): s1 is a logit, class 1 when sigmoid(s1) >
//! 0.5. During training the engine overwrites s1 with sigmoid(s1) between Predict and Learn;
//! a model with `accuracy = true` does that at the start of `learn`. `predict` always returns
//! the raw s1.
//! Random ops draw from `SplitMix64` (below) seeded by `Model::with_seed` (`SEED` by
//! default); their draws differ from the engine's own generator, so a program with random ops
//! matches the engine in distribution only.
#![allow(dead_code, clippy::all)]

/// F: the length of the features vector.
pub const FEATURES: usize = {features};
/// The default seed of the random ops' generator.
pub const SEED: u64 = {seed};
/// Memory sizes: scalars s0..., vectors v0..., matrices m0...
pub const SCALARS: usize = {s};
/// The number of vectors.
pub const VECTORS: usize = {v};
/// The number of matrices.
pub const MATRICES: usize = {m};

/// A vector of the feature size.
pub type Vector = [f64; FEATURES];
/// A row-major FEATURES × FEATURES matrix.
pub type Matrix = [[f64; FEATURES]; FEATURES];
{rng}
/// The algorithm's memory and its three functions.
#[derive(Debug, Clone)]
pub struct Model {{
    /// Scalars: s0 is the label (0 during predict), s1 the prediction.
    pub s: [f64; SCALARS],
    /// Vectors: v0 is the features.
    pub v: [Vector; VECTORS],
    /// Matrices.
    pub m: [Matrix; MATRICES],
    /// Whether `learn` first replaces s1 with sigmoid(s1), as the engine does on ACCURACY tasks.
    pub accuracy: bool,
    /// The generator of the random ops.
    pub rng: SplitMix64,
}}

impl Default for Model {{
    fn default() -> Self {{
        Self::new()
    }}
}}

/// The logistic function.
pub fn sigmoid(x: f64) -> f64 {{
    1.0 / (1.0 + (-x).exp())
}}

impl Model {{
    /// A model with zeroed memory and the default seed.
    pub fn new() -> Self {{
        Self::with_seed(SEED)
    }}

    /// A model with zeroed memory whose random ops draw from `seed`.
    pub fn with_seed(seed: u64) -> Self {{
        Model {{
            s: [0.0; SCALARS],
            v: [[0.0; FEATURES]; VECTORS],
            m: [[[0.0; FEATURES]; FEATURES]; MATRICES],
            accuracy: {accuracy},
            rng: SplitMix64(seed),
        }}
    }}

    /// Runs once, before training.
    pub fn setup(&mut self) {{
{setup}    }}

    /// Returns the prediction s1 for one example (s0 is 0 here).
    pub fn predict(&mut self, features: &Vector) -> f64 {{
{predict}        self.s[1]
    }}

    /// Learns from one training example, right after `predict` on it (s0 is the label).
    pub fn learn(&mut self, features: &Vector, label: f64) {{
        if self.accuracy {{
            self.s[1] = sigmoid(self.s[1]);
        }}
{learn}    }}
}}
"#,
        title = options.title,
        memory = describe(sizes),
        features = options.features,
        seed = options.seed,
        s = sizes.scalars,
        v = sizes.vectors,
        m = sizes.matrices,
        rng = RNG,
        accuracy = options.accuracy,
    );
    for h in &helpers {
        let _ = write!(text, "\n{}", h.code());
    }
    text
}
