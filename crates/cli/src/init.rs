//! `automl-zero init`: a complete, commented config for the user's data file.

use anyhow::{Context, Result, bail};
use automl_zero_engine::config::table::{self, Plan, Problem, features_for, table_config};
use automl_zero_engine::tasks::{LabelColumn, Labels, read_table};
use clap::{Args, ValueEnum};
use std::path::{Component, Path, PathBuf};

/// What the data's label is.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum TaskType {
    /// A number to predict (scored by RMS error).
    Regression,
    /// A class, 0 or 1 (scored by accuracy).
    Classification,
}

/// Arguments of `init`.
#[derive(Args)]
#[command(after_help = "Examples:
  automl-zero init --data houses.csv --task regression --label price --out houses.toml
  automl-zero search houses.toml
  automl-zero predict runs/<run folder> --input new_houses.csv --out predictions.csv")]
pub struct InitArgs {
    /// The data file (CSV with an optional header, .csv.gz, .npy or .npz), one row per example.
    #[arg(long)]
    data: PathBuf,
    /// Regression (a number) or classification (labels 0 and 1).
    #[arg(long, value_enum)]
    task: TaskType,
    /// The label's column: its header name or its 1-based number (default: the last column).
    #[arg(long, value_name = "COLUMN")]
    label: Option<String>,
    /// Where to write the config (default: the data file's name with .toml, in this folder).
    #[arg(long, value_name = "CONFIG")]
    out: Option<PathBuf>,
    /// Overwrite the config file if it exists.
    #[arg(long)]
    force: bool,
}

/// Runs `init`.
pub fn run(args: InitArgs) -> Result<()> {
    let label = args.label.as_deref().map(|l| match l.parse::<usize>() {
        Ok(n) => LabelColumn::Number(n),
        Err(_) => LabelColumn::Name(l.to_string()),
    });
    let (allowed, problem) = match args.task {
        TaskType::Regression => (Labels::Any, Problem::Regression),
        TaskType::Classification => (Labels::Binary, Problem::Classification),
    };
    let table = read_table(&args.data)?;
    let names = table.names.clone();
    let label_index = table
        .label_index(&args.data, label.as_ref())
        .context("--label")?;
    let data = table
        .into_dataset(&args.data, label.as_ref(), allowed)
        .with_context(|| match args.task {
            TaskType::Classification => "--task classification needs labels 0 and 1".to_string(),
            TaskType::Regression => "reading the data".to_string(),
        })?;
    let features = features_for(data.num_features)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.data.display()))?;
    if data.num_rows() < 20 {
        bail!(
            "{}: {} rows; a search needs at least 20 to train, validate and test on",
            args.data.display(),
            data.num_rows()
        );
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args.data.file_name().map_or("data".into(), |n| {
            let n = n.to_string_lossy();
            n.split('.').next().unwrap_or("data").to_string()
        });
        PathBuf::from(format!("{stem}.toml"))
    });
    if out.exists() && !args.force {
        bail!("{} exists; give --force to overwrite it", out.display());
    }
    let label_name = names
        .as_ref()
        .map(|n| n[label_index].clone())
        .unwrap_or_else(|| format!("column {}", label_index + 1));
    let base = out.parent().unwrap_or(Path::new("")).to_path_buf();
    let plan = Plan {
        data: relative_to(&args.data, &base),
        problem,
        label: label.filter(|_| label_index + 1 != data.num_features + 1),
        label_name,
        rows: data.num_rows(),
        num_features: data.num_features,
        features,
        max_seconds: Some(table::MAX_SECONDS),
    };
    let made = table_config(&plan, &base, None, &[])
        .context("the written config does not work (a bug: please report it)")?;
    std::fs::write(&out, &made.text).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "Wrote {}: {} on {} rows of {} feature{}{}, label `{}`.",
        out.display(),
        match args.task {
            TaskType::Regression => "regression",
            TaskType::Classification => "classification",
        },
        plan.rows,
        plan.num_features,
        if plan.num_features == 1 { "" } else { "s" },
        if features > plan.num_features {
            format!(" (padded to {features})")
        } else {
            String::new()
        },
        plan.label_name
    );
    println!(
        "{} reaches fitness {:.6} on its select tasks: the run stops once a candidate beats that, or after 10 minutes.",
        problem.baseline(),
        made.measured.baseline
    );
    println!("Next: automl-zero search {}", out.display());
    Ok(())
}

/// `path` relative to the folder `dir` (both taken from the working folder), or absolute when
/// they share no folder.
fn relative_to(path: &Path, dir: &Path) -> PathBuf {
    let absolute = |p: &Path| {
        let p = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
    };
    let (path, dir) = (absolute(path), absolute(dir));
    let (p, d): (Vec<Component>, Vec<Component>) =
        (path.components().collect(), dir.components().collect());
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return path;
    }
    let d: Vec<Component> = d.into_iter().filter(|c| *c != Component::CurDir).collect();
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &p[common..] {
        rel.push(c);
    }
    rel
}
