//! The Python (NumPy) export.

use super::{ExportOptions, describe, note};
use crate::memory::MemorySizes;
use crate::ops::Op;
use crate::program::{Algorithm, Component, Instruction};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Helper functions a module may need, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Helper {
    Index,
    Std,
    Uniform,
    Gaussian,
}

impl Helper {
    fn code(self) -> &'static str {
        match self {
            Helper::Index => {
                r#"def _index(n, fraction):
    """The element an index fraction selects: floor(n * fraction) in float32, at most n - 1."""
    return min(int(np.float32(n) * np.float32(fraction)), n - 1)
"#
            }
            Helper::Std => {
                r#"def _std(x, axis=None):
    """Population standard deviation as the engine computes it: sqrt(mean(x*x) - mean(x)**2)."""
    mean = np.mean(x, axis=axis)
    return np.sqrt(np.mean(x * x, axis=axis) - mean * mean)
"#
            }
            Helper::Uniform => {
                r#"def _uniform(rng, low, high, size=None):
    """Uniform draws in [low, high); low itself when the interval is empty or inverted."""
    if low < high:
        return low + (high - low) * rng.random(size)
    return low if size is None else np.full(size, low)
"#
            }
            Helper::Gaussian => {
                r#"def _gaussian(rng, mean, sd, size=None):
    """Normal draws with the given mean and standard deviation."""
    return mean + sd * rng.standard_normal(size)
"#
            }
        }
    }
}

/// A float as a Python expression that reads back exactly.
fn float(x: f64) -> String {
    if x.is_nan() {
        "np.nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "np.inf" } else { "-np.inf" }.into()
    } else {
        format!("{x:?}")
    }
}

/// One instruction as a Python statement on the locals `s`, `v`, `m` and `n`.
fn statement(ins: &Instruction, helpers: &mut BTreeSet<Helper>) -> String {
    use Op::*;
    let (o, a, b) = (ins.out, ins.in1, ins.in2);
    let d = |k: usize| float(ins.data[k] as f64);
    let mut need = |h: Helper| {
        helpers.insert(h);
    };
    let unary = |kind: char, f: &str| format!("{kind}[{o}] = {f}({kind}[{a}])");
    let binary = |kind: char, sym: &str| format!("{kind}[{o}] = {kind}[{a}] {sym} {kind}[{b}]");
    match ins.op {
        NoOp => "pass".into(),
        ScalarSum => binary('s', "+"),
        ScalarDiff => binary('s', "-"),
        ScalarProduct => binary('s', "*"),
        ScalarDivision => binary('s', "/"),
        ScalarAbs => unary('s', "abs"),
        ScalarReciprocal => format!("s[{o}] = 1.0 / s[{a}]"),
        ScalarSin => unary('s', "np.sin"),
        ScalarCos => unary('s', "np.cos"),
        ScalarTan => unary('s', "np.tan"),
        ScalarArcsin => unary('s', "np.arcsin"),
        ScalarArccos => unary('s', "np.arccos"),
        ScalarArctan => unary('s', "np.arctan"),
        ScalarExp => unary('s', "np.exp"),
        ScalarLog => unary('s', "np.log"),
        ScalarHeaviside => format!("s[{o}] = 1.0 if s[{a}] >= 0.0 else 0.0"),
        VectorHeaviside => format!("v[{o}] = np.where(v[{a}] > 0.0, 1.0, 0.0)"),
        MatrixHeaviside => format!("m[{o}] = np.where(m[{a}] > 0.0, 1.0, 0.0)"),
        ScalarVectorProduct => format!("v[{o}] = s[{a}] * v[{b}]"),
        ScalarBroadcast => format!("v[{o}] = s[{a}]"),
        VectorReciprocal => format!("v[{o}] = 1.0 / v[{a}]"),
        VectorNorm => format!("s[{o}] = np.sqrt(np.dot(v[{a}], v[{a}]))"),
        VectorAbs => unary('v', "np.abs"),
        VectorSum => binary('v', "+"),
        VectorDiff => binary('v', "-"),
        VectorProduct => binary('v', "*"),
        VectorDivision => binary('v', "/"),
        VectorInnerProduct => format!("s[{o}] = np.dot(v[{a}], v[{b}])"),
        VectorOuterProduct => format!("m[{o}] = np.outer(v[{a}], v[{b}])"),
        ScalarMatrixProduct => format!("m[{o}] = s[{a}] * m[{b}]"),
        MatrixReciprocal => format!("m[{o}] = 1.0 / m[{a}]"),
        MatrixVectorProduct => format!("v[{o}] = m[{a}] @ v[{b}]"),
        VectorColumnBroadcast => format!("m[{o}] = v[{a}][:, np.newaxis]"),
        VectorRowBroadcast => format!("m[{o}] = v[{a}]"),
        MatrixNorm => format!("s[{o}] = np.sqrt(np.sum(m[{a}] * m[{a}]))"),
        MatrixColumnNorm => format!("v[{o}] = np.sqrt(np.sum(m[{a}] * m[{a}], axis=0))"),
        MatrixRowNorm => format!("v[{o}] = np.sqrt(np.sum(m[{a}] * m[{a}], axis=1))"),
        MatrixTranspose => format!("m[{o}] = m[{a}].T.copy()"),
        MatrixAbs => unary('m', "np.abs"),
        MatrixSum => binary('m', "+"),
        MatrixDiff => binary('m', "-"),
        MatrixProduct => binary('m', "*"),
        MatrixDivision => binary('m', "/"),
        MatrixMatrixProduct => binary('m', "@"),
        ScalarMin => format!("s[{o}] = s[{b}] if s[{b}] < s[{a}] else s[{a}]"),
        VectorMin => format!("v[{o}] = np.where(v[{b}] < v[{a}], v[{b}], v[{a}])"),
        MatrixMin => format!("m[{o}] = np.where(m[{a}] < m[{b}], m[{a}], m[{b}])"),
        ScalarMax => format!("s[{o}] = s[{b}] if s[{a}] < s[{b}] else s[{a}]"),
        VectorMax => format!("v[{o}] = np.where(v[{a}] < v[{b}], v[{b}], v[{a}])"),
        MatrixMax => format!("m[{o}] = np.where(m[{a}] > m[{b}], m[{a}], m[{b}])"),
        VectorMean => format!("s[{o}] = np.mean(v[{a}])"),
        MatrixMean => format!("s[{o}] = np.mean(m[{a}])"),
        MatrixRowMean => format!("v[{o}] = np.mean(m[{a}], axis=1)"),
        MatrixRowStDev => {
            need(Helper::Std);
            format!("v[{o}] = _std(m[{a}], axis=1)")
        }
        VectorStDev => {
            need(Helper::Std);
            format!("s[{o}] = _std(v[{a}])")
        }
        MatrixStDev => {
            need(Helper::Std);
            format!("s[{o}] = _std(m[{a}])")
        }
        ScalarConstSet => format!("s[{o}] = {}", float(ins.activation)),
        VectorConstSet => {
            need(Helper::Index);
            format!("v[{o}][_index(n, {})] = {}", d(0), d(1))
        }
        MatrixConstSet => {
            need(Helper::Index);
            format!(
                "m[{o}][_index(n, {}), _index(n, {})] = {}",
                d(0),
                d(1),
                d(2)
            )
        }
        ScalarUniformSet | VectorUniformSet | MatrixUniformSet => {
            need(Helper::Uniform);
            random(ins.op, o, "_uniform", &d(0), &d(1))
        }
        ScalarGaussianSet | VectorGaussianSet | MatrixGaussianSet => {
            need(Helper::Gaussian);
            random(ins.op, o, "_gaussian", &d(0), &d(1))
        }
    }
}

fn random(op: Op, o: u16, f: &str, x: &str, y: &str) -> String {
    match op.info().output {
        Some(crate::ops::Kind::Scalar) => format!("s[{o}] = {f}(self.rng, {x}, {y})"),
        Some(crate::ops::Kind::Vector) => format!("v[{o}] = {f}(self.rng, {x}, {y}, n)"),
        _ => format!("m[{o}] = {f}(self.rng, {x}, {y}, (n, n))"),
    }
}

/// The body of one method: the instructions with their printed form and note as comments.
fn body(
    a: &Algorithm,
    c: Component,
    options: &ExportOptions,
    helpers: &mut BTreeSet<Helper>,
) -> String {
    let mut out = String::new();
    let code = a.component(c);
    if code.is_empty() {
        return "            pass\n".into();
    }
    for (i, ins) in code.iter().enumerate() {
        if let Some(note) = note(options, c as usize, i) {
            let _ = writeln!(out, "            # {note}");
        }
        let _ = writeln!(out, "            {}  # {ins}", statement(ins, helpers));
    }
    out
}

/// The whole Python module.
pub(super) fn module(a: &Algorithm, sizes: &MemorySizes, options: &ExportOptions) -> String {
    let mut helpers = BTreeSet::new();
    let setup = body(a, Component::Setup, options, &mut helpers);
    let predict = body(a, Component::Predict, options, &mut helpers);
    let learn = body(a, Component::Learn, options, &mut helpers);
    let program: String = a
        .to_string()
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    let accuracy = if options.accuracy { "True" } else { "False" };
    let mut text = String::new();
    let _ = write!(
        text,
        r#""""{title}

Exported by `automl-zero export` from this program:

{program}
A self-contained module: it needs only NumPy. The class `Model` holds the memory the
program uses ({memory}) and runs its three functions with the
semantics of the engine:

    model = Model().fit(X, y)        # X: (rows, features) array, y: labels; returns the model
    model.predict(X_new)             # predictions in the label's units (classes 0/1)
    model.predict_proba(X_new)       # classification: (rows, 2) class probabilities

fit() trains from scratch as the engine trains on a file task: features (and regression labels)
standardised with the rows' mean and standard deviation (standardize={standardize}), features
padded with zeros to FEATURES, {epochs} pass(es) over the rows in a shuffled order (shuffle=False
keeps the given order), Predict then Learn on each row. One example at a time:

    model = Model()                  # or Model(features=FEATURES, seed=SEED, accuracy={accuracy})
    model.setup()                    # once, before training
    for x, y in training_examples:
        model.predict(x)             # one row (1-D): s0 = 0, v0 = x; returns s1
        model.learn(x, y)            # s0 = y, v0 = x; right after predict(x)
    prediction = model.predict(x)

Memory starts at zero and carries over between calls. The prediction is s1 after Predict.
Classification (the engine's ACCURACY tasks): s1 is a logit, class 1 when sigmoid(s1) > 0.5.
During training the engine overwrites s1 with sigmoid(s1) between Predict and Learn;
Model(accuracy=True) does that at the start of learn(). predict() always returns the raw s1.
Random ops draw from numpy.random.default_rng(seed); their draws differ from the engine's own
generator, so a program with random ops matches the engine in distribution only.
"""

import numpy as np

FEATURES = {features}  # F: the length of the features vector
EPOCHS = {epochs}  # passes over the rows that fit() makes
STANDARDIZE = {standardize}  # whether fit() standardises features and regression labels
SEED = {seed}  # seed of the random ops' generator, numpy.random.default_rng(SEED)
SCALARS, VECTORS, MATRICES = {s}, {v}, {m}  # memory sizes: s0..., v0..., m0...


def _sigmoid(x):
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))
"#,
        title = options.title,
        memory = describe(sizes),
        features = options.features,
        epochs = options.epochs,
        standardize = if options.standardize { "True" } else { "False" },
        seed = options.seed,
        s = sizes.scalars,
        v = sizes.vectors,
        m = sizes.matrices,
    );
    for h in &helpers {
        let _ = write!(text, "\n\n{}", h.code());
    }
    let _ = write!(
        text,
        r#"

class Model:
    """The algorithm's memory (scalars s, vectors v, matrices m) and its three functions."""

    def __init__(self, features=FEATURES, seed=SEED, accuracy={accuracy}):
        self.n = features
        self.accuracy = accuracy
        self.rng = np.random.default_rng(seed)
        self.s = np.zeros(SCALARS)
        self.v = np.zeros((VECTORS, features))
        self.m = np.zeros((MATRICES, features, features))

    def setup(self):
        """Runs once, before training."""
        s, v, m, n = self.s, self.v, self.m, self.n
        with np.errstate(all="ignore"):
{setup}
    def fit(self, X, y, epochs=EPOCHS, standardize=STANDARDIZE, shuffle=True):
        """Trains from scratch on the rows of X (rows, features) with labels y; returns self."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        if X.ndim != 2 or X.shape[1] > self.n or y.shape != (X.shape[0],):
            raise ValueError(
                f"fit takes X of shape (rows, at most {{self.n}} features) and y of shape (rows,); "
                f"got {{X.shape}} and {{y.shape}}")
        sd = X.std(axis=0) if standardize else np.ones(X.shape[1])
        self.x_mean = X.mean(axis=0) if standardize else np.zeros(X.shape[1])
        self.x_sd = np.where((sd > 0) & np.isfinite(sd), sd, 1.0)
        y_sd = y.std() if standardize and not self.accuracy else 1.0
        self.y_mean = y.mean() if standardize and not self.accuracy else 0.0
        self.y_sd = y_sd if y_sd > 0 and np.isfinite(y_sd) else 1.0
        rows, labels = self._rows(X), (y - self.y_mean) / self.y_sd
        self.s[:], self.v[:], self.m[:] = 0.0, 0.0, 0.0
        self.setup()
        order = self.rng.permutation(len(y)) if shuffle else np.arange(len(y))
        for epoch in range(epochs):
            if epoch > 0 and shuffle:
                order = order[self.rng.permutation(len(y))]
            for i in order:
                self.predict(rows[i])
                self.learn(rows[i], labels[i])
        return self

    def _rows(self, X):
        """Rows scaled as fit() scaled the training rows, padded with zeros to the feature size."""
        X = (np.asarray(X, dtype=float) - self.x_mean) / self.x_sd
        return np.hstack([X, np.zeros((X.shape[0], self.n - X.shape[1]))])

    def _outputs(self, X):
        """s1 for each row of X in turn (the memory carrying over), after fit()."""
        if not hasattr(self, "x_mean"):
            raise ValueError("call fit(X, y) before predicting rows")
        return np.array([self.predict(row) for row in self._rows(X)])

    def predict_proba(self, X):
        """Classification: the probabilities of classes 0 and 1 of each row of X."""
        p = _sigmoid(self._outputs(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, features):
        """One row (1-D): the prediction s1 (s0 is 0 here). Rows (2-D), after fit(): predictions
        in the label's units (classes 0/1 when classifying)."""
        if np.ndim(features) == 2:
            out = self._outputs(features)
            if self.accuracy:
                return (_sigmoid(out) > 0.5).astype(int)
            return self.y_mean + self.y_sd * out
        s, v, m, n = self.s, self.v, self.m, self.n
        v[0] = features
        s[0] = 0.0
        with np.errstate(all="ignore"):
{predict}        return float(s[1])

    def learn(self, features, label):
        """Learns from one training example, right after predict() on it (s0 is the label)."""
        s, v, m, n = self.s, self.v, self.m, self.n
        with np.errstate(all="ignore"):
            if self.accuracy:
                s[1] = _sigmoid(s[1])
        v[0] = features
        s[0] = label
        with np.errstate(all="ignore"):
{learn}"#
    );
    text
}
