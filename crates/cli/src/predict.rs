//! `automl-zero predict`: train a found learner as its run's tasks do, then predict new rows.

use anyhow::{Context, Result, bail};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::{Metrics, train_then_predict};
use automl_zero_engine::interpreter::{Program, sigmoid};
use automl_zero_engine::memory::Memory;
use automl_zero_engine::program::parse_file;
use automl_zero_engine::rng::MtRng;
use automl_zero_engine::tasks::file_tasks::{self, FileData};
use automl_zero_engine::tasks::{
    Dataset, EvalType, Labels, Task, TaskKind, TaskSpec, first_data_seed, read_table,
};
use automl_zero_engine::with_features;
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Arguments of `predict`.
#[derive(Args)]
#[command(after_help = "Examples:
  automl-zero predict runs/houses --input new_houses.csv --out predictions.csv
  automl-zero predict runs/houses --input test.csv              # test.csv has labels: metrics too
  automl-zero predict best.txt --config houses.toml --train all_houses.csv --input new.csv

The learner is trained exactly as the run's tasks train it (the config's scaling, epochs and
eval type), on every row of the training file, then predicts the input rows in order.")]
pub struct PredictArgs {
    /// A run folder (its best.txt and config.toml), or a program file.
    target: PathBuf,
    /// The rows to predict: the training file's feature columns (a label column may follow, in
    /// the training file's place: then the metrics are printed too); header optional.
    #[arg(long)]
    input: PathBuf,
    /// Train on this file instead of the config's training file (same columns).
    #[arg(long)]
    train: Option<PathBuf>,
    /// The config (default: the config.toml beside the program).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The true labels of the input rows (one column, header optional), for the metrics.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Write the predictions here (CSV) instead of printing them.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Seed of the learner's random ops.
    #[arg(long, default_value_t = 1)]
    seed: u32,
}

/// Runs `predict`.
pub fn run(args: PredictArgs) -> Result<()> {
    let (program_path, config_path) = locate(&args)?;
    let (config, base) = Config::load(&config_path, &[])?;
    let spec = training_spec(&config, &config_path)?;
    let train_path = match &args.train {
        Some(path) => path.clone(),
        None => base.join(spec.train_file.as_ref().expect("a files task has one")),
    };
    let allowed = match spec.eval_type {
        EvalType::Accuracy => Labels::Binary,
        EvalType::RmsError => Labels::Any,
    };
    let train = read_table(&train_path)?.into_dataset(&train_path, spec.label.as_ref(), allowed)?;
    let input = read_input(&args, &spec, train.num_features, allowed)?;
    let has_labels = input.1;
    let algorithm = parse_file(&program_path, &config.memory)?;
    let data = FileData {
        pool: (0..train.num_rows()).collect(),
        train,
        valid: Some(input.0),
        test_rows: Vec::new(),
    };
    let (predictions, labels, task_scale) = with_features!(spec.features_size, F => {
        let examples = file_tasks::examples::<F>(&data, &spec, first_data_seed(&spec));
        let task = Task::new(0, spec.eval_type, examples.train, examples.valid, spec.num_train_epochs, (first_data_seed(&spec), 0))
            .with_label_scale(examples.label_scale);
        let program = Program::compile(&algorithm, &config.memory, F).map_err(anyhow::Error::msg)?;
        let mut memory = Memory::<F>::new(config.memory);
        let predicted = train_then_predict(&program, &task, task.max_train_examples(),
            config.search.max_abs_error, &mut memory, &mut MtRng::new(args.seed), &[&task.valid_features]);
        let Some(mut predicted) = predicted else {
            bail!("the learner diverged while training on {} (an error above search.max_abs_error = {})",
                train_path.display(), config.search.max_abs_error);
        };
        (predicted.remove(0), task.valid_labels.clone(), task.label_scale)
    }, _ => bail!("{}: features_size {} is not supported", config_path.display(), spec.features_size));
    let csv = predictions_csv(spec.eval_type, &predictions, task_scale);
    match &args.out {
        Some(path) => {
            std::fs::write(path, csv).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => print!("{csv}"),
    }
    if has_labels {
        let metrics = Metrics::of(spec.eval_type, Some(&predictions), &labels, task_scale);
        eprintln!(
            "{} rows of {}: {metrics}",
            predictions.len(),
            args.input.display()
        );
    }
    Ok(())
}

/// The program file and the config it runs with.
fn locate(args: &PredictArgs) -> Result<(PathBuf, PathBuf)> {
    let (program, folder) = if args.target.is_dir() {
        (args.target.join("best.txt"), args.target.clone())
    } else {
        let folder = args.target.parent().unwrap_or(Path::new("")).to_path_buf();
        (args.target.clone(), folder)
    };
    if !program.is_file() {
        bail!("{} does not exist", program.display());
    }
    let config = match &args.config {
        Some(c) => c.clone(),
        None => {
            let beside = folder.join("config.toml");
            if !beside.is_file() {
                bail!(
                    "no config.toml beside {}: give --config CONFIG (the config it was searched with)",
                    program.display()
                );
            }
            beside
        }
    };
    Ok((program, config))
}

/// The files task the learner trains like: the first of the final, select or search tasks.
fn training_spec(config: &Config, path: &Path) -> Result<TaskSpec> {
    let spec = [
        &config.final_tasks,
        &config.select_tasks,
        &config.search_tasks,
    ]
    .into_iter()
    .flatten()
    .find(|s| s.kind == TaskKind::Files);
    match spec {
        // Every input row is predicted.
        Some(s) => Ok(TaskSpec {
            num_valid_examples: 0,
            ..s.clone()
        }),
        None => bail!(
            "{}: no task reads a data file, so there is nothing to train on like the run did",
            path.display()
        ),
    }
}

/// The input rows (with zero labels when the file has none), and whether it has labels.
fn read_input(
    args: &PredictArgs,
    spec: &TaskSpec,
    num_features: usize,
    allowed: Labels,
) -> Result<(Dataset, bool)> {
    let table = read_table(&args.input)?;
    let (mut data, labelled) = if table.columns == num_features + 1 {
        (
            table.into_dataset(&args.input, spec.label.as_ref(), allowed)?,
            true,
        )
    } else if table.columns == num_features {
        let rows = table.num_rows();
        let mut t = table;
        // A features-only table: a zero label column appended.
        t.values = t
            .values
            .chunks(num_features)
            .flat_map(|r| r.iter().copied().chain([0.0]))
            .collect();
        t.columns += 1;
        t.names = None;
        let data = t.into_dataset(&args.input, None, Labels::Any)?;
        debug_assert_eq!(data.num_rows(), rows);
        (data, false)
    } else {
        bail!(
            "{}: rows have {} columns, but the training file has {num_features} features (and a label)",
            args.input.display(),
            table.columns
        );
    };
    let Some(path) = &args.labels else {
        return Ok((data, labelled));
    };
    let labels = read_table(path)?;
    if labels.columns != 1 || labels.num_rows() != data.num_rows() {
        bail!(
            "{}: expected one column of {} labels, found {} columns and {} rows",
            path.display(),
            data.num_rows(),
            labels.columns,
            labels.num_rows()
        );
    }
    if allowed == Labels::Binary
        && let Some(y) = labels.values.iter().find(|&&y| y != 0.0 && y != 1.0)
    {
        bail!("{}: the label {y} is not 0 or 1", path.display());
    }
    data.labels = labels.values;
    Ok((data, true))
}

/// The predictions as CSV, in the label's units: `prediction`, or for classification the class
/// and its `probability`.
fn predictions_csv(
    eval_type: EvalType,
    predictions: &[f64],
    scale: automl_zero_engine::tasks::LabelScale,
) -> String {
    let mut out = String::new();
    match eval_type {
        EvalType::RmsError => {
            out.push_str("prediction\n");
            for p in predictions {
                let _ = writeln!(out, "{}", scale.unscale(*p));
            }
        }
        EvalType::Accuracy => {
            out.push_str("prediction,probability\n");
            for p in predictions {
                let q = sigmoid(*p);
                let _ = writeln!(out, "{},{q}", u8::from(q > 0.5));
            }
        }
    }
    out
}
