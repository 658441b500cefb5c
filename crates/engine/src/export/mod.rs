//! Export: an algorithm as a self-contained module in Python (NumPy) or Rust (plain arrays).
//!
//! The module holds one class (Python) or struct (Rust), `Model`, constructible with no
//! arguments, with the memory of the algorithm (the fewest cells its addresses need) and three
//! methods with the engine's semantics (SPEC 4): `setup()` once, `predict(features)` returning
//! the prediction `s1` (with `s0` = 0), and `learn(features, label)` (with `s0` = the label).
//! On ACCURACY tasks the engine overwrites `s1` with its sigmoid between Predict and Learn
//! during training; the exported model does that at the start of `learn` when built with
//! `accuracy` set (by default as [`ExportOptions::accuracy`] says). Random ops draw from a
//! seedable generator named at the top of the file: `numpy.random.default_rng(seed)` in
//! Python, an embedded SplitMix64 with Box-Muller normals in Rust. Their draws differ from the engine's generator, so a program
//! with random ops matches the engine in distribution only.
//!
//! Every op computes what [`crate::interpreter`] computes: heaviside is `>= 0` for scalars and
//! `> 0` for vectors and matrices, minimum and maximum keep the engine's order of comparison
//! (so NaN operands give the same result), standard deviations are `sqrt(mean(x²) - mean(x)²)`,
//! and an index fraction f is element `floor(F·f)` computed in f32.
//!
//! The Python model also takes whole arrays, as scikit-learn models do: `fit(X, y)` trains from
//! scratch as the engine trains on a file task (standardised with the rows' statistics, padded
//! to F, `epochs` passes in a shuffled order) and `predict(X)` / `predict_proba(X)` answer in the
//! label's units.

mod python;
mod rust;

use crate::memory::MemorySizes;
use crate::program::Algorithm;
use std::fmt;
use std::str::FromStr;

/// A language an algorithm can be exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A Python module using NumPy.
    Python,
    /// A Rust module using plain arrays and no crates.
    Rust,
}

impl Language {
    /// The usual file extension of the language.
    pub fn extension(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::Rust => "rs",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Python => "python",
            Language::Rust => "rust",
        })
    }
}

impl FromStr for Language {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "python" | "py" => Ok(Language::Python),
            "rust" | "rs" => Ok(Language::Rust),
            _ => Err(ExportError::Language(s.to_string())),
        }
    }
}

/// What an export needs besides the algorithm.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportOptions {
    /// The feature size F the model is built for (Python: the constructor's default).
    pub features: usize,
    /// The default seed of the random ops' generator.
    pub seed: u64,
    /// A note per instruction (see [`crate::simplify::annotate`]), written as comments.
    pub notes: Option<[Vec<String>; 3]>,
    /// A line saying what the algorithm is, for the module's header.
    pub title: String,
    /// Whether a model applies the sigmoid of ACCURACY tasks before learning unless told
    /// otherwise (the default of its `accuracy` setting).
    pub accuracy: bool,
    /// Passes over the rows that the Python model's `fit` makes by default (the config's
    /// `num_train_epochs`).
    pub epochs: usize,
    /// Whether the Python model's `fit` standardises features (and regression labels) by
    /// default, as file tasks do.
    pub standardize: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            features: 4,
            seed: 0,
            notes: None,
            title: "An algorithm found by AutoML-Zero.".to_string(),
            accuracy: false,
            epochs: 1,
            standardize: true,
        }
    }
}

impl ExportOptions {
    /// The options a config's search tasks imply: their feature size (else 4), the sigmoid of
    /// classification (ACCURACY) tasks, their epochs, and standardisation (file tasks
    /// standardise unless told not to).
    pub fn for_config(config: &crate::config::Config) -> ExportOptions {
        use crate::tasks::{EvalType, TaskKind};
        let first = config.search_tasks.first();
        ExportOptions {
            features: first.map_or(4, |t| t.features_size),
            accuracy: first.is_some_and(|t| t.eval_type == EvalType::Accuracy),
            epochs: first.map_or(1, |t| t.num_train_epochs),
            standardize: first
                .is_none_or(|t| t.kind == TaskKind::Files && t.standardize.unwrap_or(true)),
            ..ExportOptions::default()
        }
    }
}

/// An error exporting an algorithm.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    /// The feature size is not usable.
    #[error("features: {0} is out of range 1..=256")]
    Features(usize),
    /// The language is not one we export to.
    #[error("unknown export language `{0}`: use `python` or `rust`")]
    Language(String),
}

/// The algorithm as a module in the given language.
pub fn export(
    algorithm: &Algorithm,
    language: Language,
    options: &ExportOptions,
) -> Result<String, ExportError> {
    if !(1..=256).contains(&options.features) {
        return Err(ExportError::Features(options.features));
    }
    let sizes = crate::simplify::memory_needed(algorithm);
    Ok(match language {
        Language::Python => python::module(algorithm, &sizes, options),
        Language::Rust => rust::module(algorithm, &sizes, options),
    })
}

/// The element an index fraction selects at feature size `features`, as the interpreter
/// computes it: `floor(F·f)` in f32, at most F - 1.
pub fn element_index(features: usize, fraction: f32) -> usize {
    ((features as f32 * fraction) as usize).min(features - 1)
}

/// The memory sizes as a short phrase for headers.
fn describe(sizes: &MemorySizes) -> String {
    format!(
        "{} scalars, {} vectors, {} matrices",
        sizes.scalars, sizes.vectors, sizes.matrices
    )
}

/// The note of instruction `i` of component `c`, if any.
fn note(options: &ExportOptions, c: usize, i: usize) -> Option<&str> {
    options
        .notes
        .as_ref()
        .and_then(|n| n[c].get(i))
        .map(String::as_str)
        .filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_indices_follow_the_interpreter() {
        assert_eq!(element_index(4, 0.25), 1);
        assert_eq!(element_index(4, 0.999_999_9), 3);
        assert_eq!(element_index(8, 0.3), 2);
        assert_eq!(element_index(2, 0.0), 0);
    }

    #[test]
    fn languages_parse_and_bad_sizes_are_refused() {
        assert_eq!("python".parse::<Language>().unwrap(), Language::Python);
        assert_eq!("rust".parse::<Language>().unwrap(), Language::Rust);
        assert!("cobol".parse::<Language>().is_err());
        let options = ExportOptions {
            features: 0,
            ..ExportOptions::default()
        };
        assert_eq!(
            export(&Algorithm::default(), Language::Python, &options),
            Err(ExportError::Features(0))
        );
    }
}
