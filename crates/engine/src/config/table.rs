//! The config for a table of the user's: what `automl-zero init` writes (as commented TOML) and
//! what the Python estimators search with. One source: [`Plan::text`] is the config, and
//! [`table_config`] reads it back, measures the data (the linear baseline's fitness, which
//! becomes the stop fitness, and the probe sizes the FEC can use) and writes it again.

use super::{Config, ConfigError};
use crate::evaluation::baselines::baseline_fitness;
use crate::interpreter::FEATURE_SIZES;
use crate::tasks::{Dataset, LabelColumn, Task, TaskError, build_tasks};
use crate::with_features;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the name `train_file` of a table held in memory says (it names no file).
pub const IN_MEMORY: &str = "<the table in memory>";

/// Shares of the rows held out: test rows (once), validation rows (per task).
pub const TEST_FRACTION: f64 = 0.2;
/// The share of a task's rows it validates on.
pub const VALID_FRACTION: f64 = 0.25;
/// The search's time limit unless told otherwise, in seconds.
pub const MAX_SECONDS: f64 = 600.0;
/// The highest stop fitness written (a fitness never exceeds 1).
pub const MAX_STOP_FITNESS: f64 = 0.999999;
/// Training and validation examples of the FEC probe, at most (fewer on small tables).
pub const FEC_EXAMPLES: usize = 10;

/// What the table's label is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A number to predict (scored by RMS error).
    Regression,
    /// A class, 0 or 1 (scored by accuracy).
    Classification,
}

impl Problem {
    /// The linear model the problem's stop fitness comes from.
    pub fn baseline(self) -> &'static str {
        match self {
            Problem::Regression => "least squares",
            Problem::Classification => "logistic regression",
        }
    }
}

/// What a table's config is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The data file, as the config names it (relative to the config's folder), or
    /// [`IN_MEMORY`].
    pub data: PathBuf,
    /// Regression or classification.
    pub problem: Problem,
    /// The label's column, when it is not the last.
    pub label: Option<LabelColumn>,
    /// The label's name, for the header comment.
    pub label_name: String,
    /// Rows of the table.
    pub rows: usize,
    /// Feature columns of the table.
    pub num_features: usize,
    /// The feature size the engine runs (`num_features` padded).
    pub features: usize,
    /// The search's time limit (none: it ends on `search.max_individuals`, say, given as an
    /// override).
    pub max_seconds: Option<f64>,
}

/// Figures measured on the data that the config states.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// What the linear baseline reaches on the select tasks: the stop fitness.
    pub baseline: f64,
    /// Training and validation examples of the FEC probe.
    pub fec: [usize; 2],
}

/// A table's config, measured on its data.
#[derive(Debug, Clone)]
pub struct TableConfig {
    /// The commented TOML text (without the overrides).
    pub text: String,
    /// The config, overrides applied; its files tasks read the table in memory if given one.
    pub config: Config,
    /// What was measured on the data.
    pub measured: Measured,
}

/// An error making a table's config.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The config does not read, or an override is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Its tasks cannot be built on this table.
    #[error(transparent)]
    Tasks(#[from] TaskError),
}

/// The feature size the engine runs for `num_features` features, or an error saying the most
/// it takes.
pub fn features_for(num_features: usize) -> Result<usize, String> {
    crate::tasks::file_tasks::padded_size(num_features).ok_or_else(|| {
        format!(
            "{num_features} features; the engine takes at most {} (select or project features first)",
            FEATURE_SIZES[FEATURE_SIZES.len() - 1]
        )
    })
}

/// The config of a plan, with `overrides` (`key=value`, as `--set` takes them) applied last:
/// written once with placeholders, its tasks built on the data (the file, relative to
/// `base_dir`, or `table`), the baseline and FEC probe measured, then written with them.
pub fn table_config(
    plan: &Plan,
    base_dir: &Path,
    table: Option<&Arc<Dataset>>,
    overrides: &[String],
) -> Result<TableConfig, TableError> {
    let parse = |text: &str| -> Result<Config, TableError> {
        let mut config = Config::from_text(text, &origin(plan), overrides)?;
        if let Some(table) = table {
            attach_table(&mut config, table);
        }
        Ok(config)
    };
    let draft = parse(&plan.text(None))?;
    let measured = measure(&draft, base_dir)?;
    let text = plan.text(Some(measured));
    let config = parse(&text)?;
    Ok(TableConfig {
        text,
        config,
        measured,
    })
}

/// Where a plan's config comes from, for messages.
fn origin(plan: &Plan) -> String {
    match plan.data.to_str() {
        Some(IN_MEMORY) => "the estimator's config".to_string(),
        _ => format!("the config for {}", plan.data.display()),
    }
}

/// Makes every files task of `config` read `table` instead of its `train_file`.
pub fn attach_table(config: &mut Config, table: &Arc<Dataset>) {
    let lists = [
        &mut config.search_tasks,
        &mut config.select_tasks,
        &mut config.final_tasks,
    ];
    for spec in lists.into_iter().flatten() {
        if spec.kind == crate::tasks::TaskKind::Files {
            spec.table = Some(table.clone());
        }
    }
}

/// The baseline on the select tasks (the search tasks without them) and the largest FEC probe
/// every search task holds.
fn measure(config: &Config, base_dir: &Path) -> Result<Measured, TableError> {
    let select = if config.select_tasks.is_empty() {
        (&config.search_tasks, "search_tasks")
    } else {
        (&config.select_tasks, "select_tasks")
    };
    let features = crate::tasks::collection_features(select.0, select.1)?;
    let measured = with_features!(features, F => {
        let tasks = build_tasks::<F>(select.0, select.1, base_dir)?;
        let baseline = tasks.iter().map(baseline_fitness).sum::<f64>() / tasks.len() as f64;
        let search = build_tasks::<F>(&config.search_tasks, "search_tasks", base_dir)?;
        Measured { baseline, fec: probe(&search) }
    }, _ => unreachable!("collection_features checked the size"));
    Ok(measured)
}

/// The FEC probe's training and validation examples: [`FEC_EXAMPLES`] or fewer, as many as
/// every task has.
fn probe<const F: usize>(tasks: &[Task<F>]) -> [usize; 2] {
    let fewest = |n: fn(&Task<F>) -> usize| tasks.iter().map(n).min().unwrap_or(0);
    [
        fewest(Task::max_train_examples).clamp(1, FEC_EXAMPLES),
        fewest(Task::valid_steps).clamp(1, FEC_EXAMPLES),
    ]
}

impl Plan {
    /// A plan for a table held in memory (no label column to name, no file).
    pub fn in_memory(problem: Problem, rows: usize, num_features: usize) -> Result<Plan, String> {
        Ok(Plan {
            data: PathBuf::from(IN_MEMORY),
            problem,
            label: None,
            label_name: "y".to_string(),
            rows,
            num_features,
            features: features_for(num_features)?,
            max_seconds: Some(MAX_SECONDS),
        })
    }

    /// Passes over the training rows: about 2,000 training steps per task, 1 to 20 epochs.
    pub fn epochs(&self) -> usize {
        let train = (self.rows as f64 * (1.0 - TEST_FRACTION) * (1.0 - VALID_FRACTION)).max(1.0);
        ((2000.0 / train).ceil() as usize).clamp(1, 20)
    }

    /// The config text; `measured` fills in the stop fitness and FEC probe (placeholders
    /// before they are known).
    pub fn text(&self, measured: Option<Measured>) -> String {
        let Measured { baseline, fec } = measured.unwrap_or(Measured {
            baseline: 0.5,
            fec: [1, 1],
        });
        // A stop fitness is below 1 (a baseline that is perfect leaves the limits to end it).
        let baseline = baseline.min(MAX_STOP_FITNESS);
        let max_seconds = match self.max_seconds {
            Some(s) => format!("max_seconds = {s}        # the whole run's time limit"),
            None => "# no time limit: search.max_individuals (or another limit) ends it".into(),
        };
        format!(
            "{header}
random_seed = 0          # 0: draw one (recorded in the run folder); --seed N overrides
max_experiments = 1
sufficient_fitness = {baseline:.6}   # what {what} reaches on the select tasks: stop once beaten
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
{max_seconds}
progress_every = 10_000
fec = {{ num_train_examples = {train}, num_valid_examples = {valid} }}
# Ops: a preset (\"linear\", \"neural\": also 2-layer networks, \"all\") or a list of op names.
# With \"neural\" or \"all\", give memory more room (e.g. vectors = 9, matrices = 3).
setup = {{ ops = \"linear\", size_init = 1, size_min = 1, size_max = 8 }}
predict = {{ ops = \"linear\", size_init = 1, size_min = 1, size_max = 8 }}
learn = {{ ops = \"linear\", size_init = 4, size_min = 1, size_max = 12 }}

{search}
{select}
{final}",
            header = self.header(),
            what = self.problem.baseline(),
            start = match self.problem {
                Problem::Regression => "linear regression",
                Problem::Classification => "logistic regression",
            },
            train = fec[0],
            valid = fec[1],
            search = self.task("search_tasks", "what the search evaluates on", 5, 1),
            select = self.task("select_tasks", "what picks the best candidate", 5, 1001),
            final = self.task(
                "final_tasks",
                "what the final report scores (with the test rows)",
                10,
                2001
            ),
        )
    }

    /// The comment at the top of the config.
    fn header(&self) -> String {
        let padded = if self.features > self.num_features {
            let n = self.features - self.num_features;
            format!(
                " (padded with {n} zero feature{} to {}, a size the engine runs)",
                if n == 1 { "" } else { "s" },
                self.features
            )
        } else {
            String::new()
        };
        let scoring = match self.problem {
            Problem::Regression => "1 - (2/pi)·atan(RMS error of the standardised labels)",
            Problem::Classification => "accuracy",
        };
        format!(
            "# automl-zero config for {data}: {rows} rows, {n} features{padded}, label {label}.
# Written by `automl-zero init`; every key is described in docs/config.md.
#   automl-zero search THIS_FILE                          # search (10 minutes at most)
#   automl-zero predict RUN_FOLDER --input NEW_ROWS.csv    # train the found learner, predict
#
# Each task is a resample of the file: its rows shuffled by the task's data seed, a quarter of
# them validated on, the rest trained on. A fifth of the rows (the same for every task) are test
# rows that only the final report sees. Features and labels are standardised with each task's
# training rows; predictions and reported errors are in the label's own units.
# Fitness: {scoring}.
",
            data = self.data.display(),
            rows = self.rows,
            n = self.num_features,
            label = self.label_name,
        )
    }

    /// One task list of the config.
    fn task(&self, list: &str, what: &str, tasks: usize, seed: u32) -> String {
        let eval_type = match self.problem {
            Problem::Regression => "rms_error",
            Problem::Classification => "accuracy",
        };
        let label = match &self.label {
            None => String::new(),
            Some(LabelColumn::Name(n)) => format!("label = {}\n", toml_string(n)),
            Some(LabelColumn::Number(n)) => format!("label = {n}\n"),
        };
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
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
