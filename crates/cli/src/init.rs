//! `automl-zero init`: a complete, commented config for the user's data file.

use anyhow::{Context, Result, bail};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::baselines::baseline_fitness;
use automl_zero_engine::interpreter::FEATURE_SIZES;
use automl_zero_engine::tasks::file_tasks::padded_size;
use automl_zero_engine::tasks::{LabelColumn, Labels, build_tasks, read_table};
use automl_zero_engine::with_features;
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
    let allowed = match args.task {
        TaskType::Regression => Labels::Any,
        TaskType::Classification => Labels::Binary,
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
    let Some(features) = padded_size(data.num_features) else {
        bail!(
            "{}: {} features; the engine takes at most {} (select or project features first)",
            args.data.display(),
            data.num_features,
            FEATURE_SIZES[FEATURE_SIZES.len() - 1]
        );
    };
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
    let plan = Plan {
        data: relative_to(&args.data, out.parent().unwrap_or(Path::new(""))),
        task: args.task,
        label: label.filter(|_| label_index + 1 != data.num_features + 1),
        label_name,
        rows: data.num_rows(),
        num_features: data.num_features,
        features,
    };
    let draft = plan.text(None);
    let base = out.parent().unwrap_or(Path::new("")).to_path_buf();
    let config = Config::from_text(&draft, &out.display().to_string(), &[])
        .context("the written config does not parse (a bug: please report it)")?;
    let baseline = with_features!(features, F => {
        let tasks = build_tasks::<F>(&config.select_tasks, "select_tasks", &base)?;
        tasks.iter().map(baseline_fitness).sum::<f64>() / tasks.len() as f64
    }, _ => unreachable!("padded_size gives a supported size"));
    std::fs::write(&out, plan.text(Some(baseline)))
        .with_context(|| format!("cannot write {}", out.display()))?;
    let what = match args.task {
        TaskType::Regression => "least squares",
        TaskType::Classification => "logistic regression",
    };
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
        "{what} reaches fitness {baseline:.6} on its select tasks: the run stops once a candidate beats that, or after 10 minutes."
    );
    println!("Next: automl-zero search {}", out.display());
    Ok(())
}

/// What a written config is made of.
struct Plan {
    data: PathBuf,
    task: TaskType,
    label: Option<LabelColumn>,
    label_name: String,
    rows: usize,
    num_features: usize,
    features: usize,
}

/// Shares of the rows held out: test rows (once), validation rows (per task).
const TEST_FRACTION: f64 = 0.2;
const VALID_FRACTION: f64 = 0.25;

impl Plan {
    /// Passes over the training rows: about 2,000 training steps per task, 1 to 20 epochs.
    fn epochs(&self) -> usize {
        let train = (self.rows as f64 * (1.0 - TEST_FRACTION) * (1.0 - VALID_FRACTION)).max(1.0);
        ((2000.0 / train).ceil() as usize).clamp(1, 20)
    }

    /// The config text; `sufficient` is the stop fitness (a placeholder before it is known).
    fn text(&self, sufficient: Option<f64>) -> String {
        let eval_type = match self.task {
            TaskType::Regression => "rms_error",
            TaskType::Classification => "accuracy",
        };
        let scoring = match self.task {
            TaskType::Regression => "1 - (2/pi)·atan(RMS error of the standardised labels)",
            TaskType::Classification => "accuracy",
        };
        let label = match &self.label {
            None => String::new(),
            Some(LabelColumn::Name(n)) => format!("label = {}\n", toml_string(n)),
            Some(LabelColumn::Number(n)) => format!("label = {n}\n"),
        };
        let task = |list: &str, what: &str, tasks: usize, seed: u32| {
            format!(
                "[[{list}]]   # {what}\n\
                 kind = \"files\"\n\
                 train_file = {data}\n\
                 {label}\
                 eval_type = \"{eval_type}\"\n\
                 features_size = {features}\n\
                 num_train_epochs = {epochs}\n\
                 num_tasks = {tasks}\n\
                 data_seeds = [{seed}]\n\
                 valid_fraction = {VALID_FRACTION}\n\
                 test_fraction = {TEST_FRACTION}\n",
                data = toml_string(&self.data.to_string_lossy()),
                features = self.features,
                epochs = self.epochs(),
            )
        };
        let padded = if self.features > self.num_features {
            format!(
                " (padded with {} zero feature{} to {}, a size the engine runs)",
                self.features - self.num_features,
                if self.features - self.num_features == 1 {
                    ""
                } else {
                    "s"
                },
                self.features
            )
        } else {
            String::new()
        };
        format!(
            "# automl-zero config for {data}: {rows} rows, {n} features{padded}, label {label_name}.
# Written by `automl-zero init`; every key is described in docs/config.md.
#   automl-zero search THIS_FILE                          # search (10 minutes at most)
#   automl-zero predict RUN_FOLDER --input NEW_ROWS.csv    # train the found learner, predict
#
# Each task is a resample of the file: its rows shuffled by the task's data seed, a quarter of
# them validated on, the rest trained on. A fifth of the rows (the same for every task) are test
# rows that only the final report sees. Features and labels are standardised with each task's
# training rows; predictions and reported errors are in the label's own units.
# Fitness: {scoring}.

random_seed = 0          # 0: draw one (recorded in the run folder); --seed N overrides
max_experiments = 1
sufficient_fitness = {sufficient:.6}   # what {baseline} reaches on the select tasks: stop once beaten
checkpoint_every_seconds = 60

[memory]                 # scalars s0 (label), s1 (prediction), ...; vectors v0 (features), ...
scalars = 6
vectors = 4
matrices = 1

[search]
population_size = 500
tournament_size = 10
# Start from gradient-descent {start} (the built-in `linear`) and improve on it; \"random\" starts
# from random programs, as the paper did (slower: give it hours).
initial_population = \"linear\"
mutate_prob = 0.9
mutations = [\"alter_param\", \"randomize_instruction\", \"insert_instruction\", \"remove_instruction\"]
max_seconds = 600        # the whole run's time limit
progress_every = 10_000
fec = {{ num_train_examples = 10, num_valid_examples = 10 }}
# Ops: a preset (\"linear\", \"neural\": also 2-layer networks, \"all\") or a list of op names.
# With \"neural\" or \"all\", give memory more room (e.g. vectors = 9, matrices = 3).
setup = {{ ops = \"linear\", size_init = 1, size_min = 1, size_max = 8 }}
predict = {{ ops = \"linear\", size_init = 1, size_min = 1, size_max = 8 }}
learn = {{ ops = \"linear\", size_init = 4, size_min = 1, size_max = 12 }}

{search}
{select}
{final}",
            data = self.data.display(),
            rows = self.rows,
            n = self.num_features,
            label_name = self.label_name,
            sufficient = sufficient.unwrap_or(0.5),
            baseline = match self.task {
                TaskType::Regression => "least squares",
                TaskType::Classification => "logistic regression",
            },
            start = match self.task {
                TaskType::Regression => "linear regression",
                TaskType::Classification => "logistic regression",
            },
            search = task("search_tasks", "what the search evaluates on", 5, 1),
            select = task("select_tasks", "what picks the best candidate", 5, 1001),
            final = task("final_tasks", "what the final report scores (with the test rows)", 10, 2001),
        )
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
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
