//! `automl-zero export`: a program as a self-contained Python or Rust module.

use anyhow::{Context, Result};
use automl_zero_engine::config::Config;
use automl_zero_engine::export::{ExportOptions, Language, export};
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::program::parse_file;
use automl_zero_engine::simplify::{Simplified, annotate, simplify};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// The languages `--to` accepts.
#[derive(Clone, Copy, ValueEnum)]
enum To {
    /// A Python module using NumPy.
    Python,
    /// A Rust module with plain arrays and no crates.
    Rust,
}

/// Arguments of `export`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  automl-zero export runs/demo/best.txt --to python -o model.py   # uses runs/demo/config.toml\n  automl-zero export best.txt --to rust --features 8 --simplify -o model.rs"
)]
pub struct ExportArgs {
    /// The program file (readable text, or JSON if it ends in .json).
    program: PathBuf,
    /// The language of the module.
    #[arg(long, value_enum)]
    to: To,
    /// The feature size F, 1 to 256: the exported code is not limited to the engine's sizes
    /// (default: the config's search tasks, else 4).
    #[arg(long)]
    features: Option<usize>,
    /// A config whose memory sizes read the program and whose search tasks give F and, when
    /// they are classification tasks, turn the model's `accuracy` (sigmoid) setting on by default.
    /// Without it, a `config.toml` in the program's folder (a run folder's) is used.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Do not use the config.toml in the program's folder.
    #[arg(long, conflicts_with = "config")]
    no_config: bool,
    /// Simplify the program first (see `automl-zero simplify`).
    #[arg(long)]
    simplify: bool,
    /// The default seed of the module's random ops.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Scalar memory size the program is read with, without a config [default: 20]; any of
    /// the three sizes also leaves the config.toml in the program's folder unused.
    #[arg(long, conflicts_with = "config")]
    scalars: Option<u16>,
    /// Vector memory size the program is read with, without a config [default: 20].
    #[arg(long, conflicts_with = "config")]
    vectors: Option<u16>,
    /// Matrix memory size the program is read with, without a config [default: 20].
    #[arg(long, conflicts_with = "config")]
    matrices: Option<u16>,
    /// Write the module to this file instead of printing it.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// The config `export` reads: `--config`, else the `config.toml` in the program's folder (a
/// run's), unless `--no-config` or a memory size flag says otherwise.
fn config_of(args: &ExportArgs) -> Result<Option<Config>> {
    if let Some(path) = &args.config {
        return Ok(Some(Config::load(path, &[])?.0));
    }
    let sizes_given = args.scalars.or(args.vectors).or(args.matrices).is_some();
    let folder = args.program.parent().unwrap_or(Path::new(""));
    let beside = folder.join("config.toml");
    if args.no_config || sizes_given || !beside.is_file() {
        return Ok(None);
    }
    eprintln!("using {}", beside.display());
    let (config, _) = Config::load(&beside, &[]).map_err(|e| {
        anyhow::anyhow!("{e}\n(the config.toml beside the program; --no-config does without it)")
    })?;
    Ok(Some(config))
}

/// Runs `export`.
pub fn run(args: ExportArgs) -> Result<()> {
    let (sizes, config_features, accuracy, (epochs, standardize)) = match config_of(&args)? {
        Some(config) => {
            let features = config.search_tasks.first().map(|t| t.features_size);
            let o = ExportOptions::for_config(&config);
            (
                config.memory,
                features,
                o.accuracy,
                (o.epochs, o.standardize),
            )
        }
        None => {
            let sizes = MemorySizes {
                scalars: args.scalars.unwrap_or(20),
                vectors: args.vectors.unwrap_or(20),
                matrices: args.matrices.unwrap_or(20),
            };
            sizes.check().map_err(anyhow::Error::msg)?;
            (sizes, None, false, (1, true))
        }
    };
    let program = parse_file(&args.program, &sizes)?;
    let (algorithm, notes) = if args.simplify {
        let s = simplify(&program);
        (s.algorithm, s.notes)
    } else {
        let notes = annotate(&program);
        (program, notes)
    };
    let language = match args.to {
        To::Python => Language::Python,
        To::Rust => Language::Rust,
    };
    let options = ExportOptions {
        features: args.features.or(config_features).unwrap_or(4),
        seed: args.seed,
        notes: Some(notes),
        title: format!(
            "The algorithm of {}{}.",
            args.program.display(),
            if args.simplify { ", simplified" } else { "" }
        ),
        accuracy,
        epochs,
        standardize,
    };
    let module = export(&algorithm, language, &options).context("--features")?;
    match &args.output {
        Some(path) => std::fs::write(path, module)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{module}"),
    }
    Ok(())
}

/// The run folder's `best.py`: the simplified best algorithm of a search, with its notes, for
/// the feature size of the config's search tasks.
pub fn best_py(simplified: &Simplified, config: &Config) -> Result<String> {
    let options = ExportOptions {
        notes: Some(simplified.notes.clone()),
        title: "The best algorithm of this search (best.txt), simplified (best.simplified.txt)."
            .to_string(),
        ..ExportOptions::for_config(config)
    };
    Ok(export(&simplified.algorithm, Language::Python, &options)?)
}
