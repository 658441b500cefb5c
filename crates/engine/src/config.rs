//! The experiment configuration: one TOML schema, checked when read, every key documented.

use crate::builtins::Builtin;
use crate::evaluation::{BudgetConfig, Combination, FecConfig};
use crate::memory::MemorySizes;
use crate::mutation::MutationType;
use crate::ops::Op;
use crate::tasks::TaskSpec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub mod table;
mod words;

/// The demo config (the original's run_demo.sh), embedded in the binary.
pub const DEMO: &str = include_str!("../../../configs/demo.toml");

/// A whole experiment: search settings and the three task lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seed of every random stream of the run; 0 draws one (and records it).
    #[serde(default)]
    pub random_seed: u64,
    /// Search experiments to run; 0 runs until `sufficient_fitness` is reached.
    #[serde(default = "one")]
    pub max_experiments: u64,
    /// Stop repeating experiments once a candidate's select fitness exceeds this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sufficient_fitness: Option<f64>,
    /// Draw fresh search and select task seeds for every experiment.
    #[serde(default)]
    pub randomize_task_seeds: bool,
    /// Seconds between checkpoints of a search (0: only when stopped by Ctrl-C or SIGTERM).
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every_seconds: f64,
    /// Memory sizes.
    #[serde(default)]
    pub memory: MemorySizes,
    /// The search.
    pub search: SearchConfig,
    /// Tasks the search evaluates on (T_search).
    pub search_tasks: Vec<TaskSpec>,
    /// Tasks that pick the best candidate among experiments (T_select).
    #[serde(default)]
    pub select_tasks: Vec<TaskSpec>,
    /// Tasks the final algorithm is scored on (T_final; seeds always respected).
    #[serde(default)]
    pub final_tasks: Vec<TaskSpec>,
}

/// How the search runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// `evolution` (regularized evolution) or `random` (random search).
    #[serde(default)]
    pub strategy: Strategy,
    /// Individuals in the population.
    pub population_size: usize,
    /// Individuals drawn (with replacement) per tournament.
    pub tournament_size: usize,
    /// The algorithm the population starts from: a built-in, or a program file.
    #[serde(default = "default_init")]
    pub initial_population: InitialPopulation,
    /// Probability that a child is mutated (else it is a copy of its parent).
    #[serde(default = "default_mutate_prob")]
    pub mutate_prob: f64,
    /// Mutation types to choose among (repeats weigh the choice).
    pub mutations: Vec<MutationType>,
    /// Stop an experiment after this many individuals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_individuals: Option<u64>,
    /// Stop an experiment after this many training steps (FEC probes included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_train_steps: Option<u64>,
    /// End an experiment early once an individual's search fitness exceeds `sufficient_fitness`.
    #[serde(default = "yes")]
    pub stop_at_sufficient_fitness: bool,
    /// Stop the whole run after this many seconds of wall-clock time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<f64>,
    /// How task fitnesses combine: `mean` or `median`.
    #[serde(default)]
    pub fitness_combination: Combination,
    /// An example error above this stops training (fitness 0 in the first epoch).
    #[serde(default = "default_max_abs_error")]
    pub max_abs_error: f64,
    /// Children drawn per island and evaluated together (in parallel) before any joins the
    /// population; 1 is the classic one-at-a-time algorithm; 0 (the default) picks a quarter of
    /// the population, at most 256 (see [`SearchConfig::batch`]).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Populations evolving side by side, exchanging migrants in a ring.
    #[serde(default = "one_usize")]
    pub islands: usize,
    /// Individuals each island evaluates between migrations (0: never).
    #[serde(default = "default_migrate_every")]
    pub migrate_every: u64,
    /// Best members each island sends to the next at a migration.
    #[serde(default = "default_migrants")]
    pub migrants: usize,
    /// Individuals between progress reports.
    #[serde(default = "default_progress_every")]
    pub progress_every: u64,
    /// Functional equivalence checking; absent: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fec: Option<FecConfig>,
    /// Entries of the cache of fitnesses keyed by the pruned, renamed program (0: off).
    #[serde(default = "default_canonical_cache")]
    pub canonical_cache: usize,
    /// Train budget relative to a built-in baseline; absent: off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_budget: Option<BudgetConfig>,
    /// Quantiles of the staged search-task evaluation (hurdles); empty: off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hurdles: Vec<f64>,
    /// Setup's ops and sizes.
    pub setup: ComponentConfig,
    /// Predict's ops and sizes.
    pub predict: ComponentConfig,
    /// Learn's ops and sizes.
    pub learn: ComponentConfig,
}

impl SearchConfig {
    /// The children per island and round: `batch_size`, or when it is 0 a quarter of the
    /// population (at least 1, at most 256).
    pub fn batch(&self) -> usize {
        if self.batch_size == 0 {
            (self.population_size / 4).clamp(1, 256)
        } else {
            self.batch_size
        }
    }
}

/// What the population starts from (`search.initial_population`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "RawInitial")]
pub enum InitialPopulation {
    /// A built-in, by name (`"no_op"`, `"random"`, ...): copies of it (random algorithms for
    /// `random`).
    Builtin(Builtin),
    /// `{ file = "best.txt" }`: copies of the program in a file (readable text, or JSON when
    /// the name ends in `.json`), relative to the config's folder.
    File {
        /// The program file.
        file: PathBuf,
    },
}

impl InitialPopulation {
    /// Makes a program file's path absolute under `base_dir` (the config's folder), so that a
    /// config written out later reads the same file from anywhere.
    pub fn resolve(&mut self, base_dir: &Path) {
        if let InitialPopulation::File { file } = self {
            let joined = base_dir.join(&*file);
            *file = std::path::absolute(&joined).unwrap_or(joined);
        }
    }
}

/// `search.initial_population` as written: a name, or a table naming a file.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "expected a built-in's name (\"no_op\", \"random\", ...) or { file = \"program.txt\" }"
)]
enum RawInitial {
    Name(String),
    File(ProgramFile),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramFile {
    file: PathBuf,
}

impl TryFrom<RawInitial> for InitialPopulation {
    type Error = String;

    fn try_from(raw: RawInitial) -> Result<Self, String> {
        match raw {
            RawInitial::Name(name) => Builtin::from_name(&name).map(InitialPopulation::Builtin),
            RawInitial::File(p) => Ok(InitialPopulation::File { file: p.file }),
        }
    }
}

/// The search strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Regularized evolution: tournament selection, mutation, the oldest replaced.
    #[default]
    Evolution,
    /// Random search: every individual a fresh random algorithm.
    Random,
}

/// Ops and size limits of one component function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// Ops mutations may put here (a list of names, or a preset: `"linear"`, `"neural"`,
    /// `"all"`); empty: the component never changes.
    #[serde(default, deserialize_with = "Op::deserialize_list")]
    pub ops: Vec<Op>,
    /// Initial number of instructions.
    #[serde(default)]
    pub size_init: usize,
    /// Fewest instructions that remove mutations leave (default: `size_init`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_min: Option<usize>,
    /// Most instructions that insert mutations make (default: `size_init`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_max: Option<usize>,
}

impl ComponentConfig {
    /// The size limits, defaults applied.
    pub fn limits(&self) -> (usize, usize) {
        (
            self.size_min.unwrap_or(self.size_init),
            self.size_max.unwrap_or(self.size_init),
        )
    }
}

fn one() -> u64 {
    1
}
fn yes() -> bool {
    true
}
fn default_init() -> InitialPopulation {
    InitialPopulation::Builtin(Builtin::NoOp)
}
fn default_mutate_prob() -> f64 {
    0.9
}
fn default_max_abs_error() -> f64 {
    100.0
}
fn default_canonical_cache() -> usize {
    100_000
}
fn default_batch_size() -> usize {
    0
}
fn one_usize() -> usize {
    1
}
fn default_migrate_every() -> u64 {
    10_000
}
fn default_migrants() -> usize {
    10
}
fn default_checkpoint_every() -> f64 {
    60.0
}
fn default_progress_every() -> u64 {
    10_000
}

/// The most instructions a component may hold.
pub const MAX_COMPONENT_SIZE: usize = 1000;

/// The longest time limit a search takes (`search.max_seconds`), about 31 years: any longer
/// (or infinite) is no time a clock can count to.
pub const MAX_SECONDS_LIMIT: f64 = 1e9;

/// An error reading or checking a config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: std::io::Error,
    },
    /// The TOML is malformed, or a key is unknown or has the wrong type.
    #[error("{origin}: {message}")]
    Syntax {
        /// The file or the override that was wrong.
        origin: String,
        /// The parser's message, with the line and key.
        message: String,
    },
    /// A value is out of range.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file or the override that was wrong.
        origin: String,
        /// The key and what is wrong with it.
        message: String,
    },
}

impl Config {
    /// Reads a config file, applies `key=value` overrides and checks it; returns the config and
    /// the folder its relative paths start from.
    pub fn load(path: &Path, overrides: &[String]) -> Result<(Config, PathBuf), ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            path: origin.clone(),
            reason,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok((Config::from_text(&text, &origin, overrides)?, base))
    }

    /// Parses config text (named `origin` in errors), applies overrides and checks it.
    pub fn from_text(
        text: &str,
        origin: &str,
        overrides: &[String],
    ) -> Result<Config, ConfigError> {
        let syntax = |origin: &str, e: &dyn std::fmt::Display| ConfigError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        };
        let document = toml::de::Deserializer::parse(text).map_err(|e| syntax(origin, &e))?;
        if overrides.is_empty() {
            let config =
                deserialize(document, String::new).map_err(|message| ConfigError::Syntax {
                    origin: origin.into(),
                    message,
                })?;
            config.check().map_err(|message| ConfigError::Invalid {
                origin: origin.into(),
                message,
            })?;
            return Ok(config);
        }
        let mut table: toml::Table = toml::from_str(text).map_err(|e| syntax(origin, &e))?;
        for o in overrides {
            apply_override(&mut table, o).map_err(|message| ConfigError::Invalid {
                origin: format!("--set {o}"),
                message,
            })?;
        }
        let what = format!("{origin} with --set {}", overrides.join(" --set "));
        let hint = || {
            overrides
                .iter()
                .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim()))
                .filter_map(|k| k.split('.').next())
                .map(|k| search_key_hint(&table, k))
                .find(|h| !h.is_empty())
                .unwrap_or_default()
        };
        let config = deserialize(toml::Value::Table(table.clone()), hint).map_err(|message| {
            ConfigError::Syntax {
                origin: what.clone(),
                message,
            }
        })?;
        config.check().map_err(|message| ConfigError::Invalid {
            origin: what,
            message,
        })?;
        Ok(config)
    }

    /// The config as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("configs always serialize")
    }

    /// Checks every value's range, naming the key of the first that is wrong.
    pub fn check(&self) -> Result<(), String> {
        self.memory.check()?;
        let s = &self.search;
        let range = |key: &str, ok: bool, what: &str| -> Result<(), String> {
            if ok {
                Ok(())
            } else {
                Err(format!("search.{key}: {what}"))
            }
        };
        range(
            "population_size",
            s.population_size >= 1,
            "must be at least 1",
        )?;
        range(
            "tournament_size",
            s.tournament_size >= 1,
            "must be at least 1",
        )?;
        range(
            "tournament_size",
            s.tournament_size <= s.population_size,
            "must not exceed population_size",
        )?;
        range(
            "mutate_prob",
            (0.0..=1.0).contains(&s.mutate_prob),
            "must be in [0, 1]",
        )?;
        range(
            "mutations",
            !s.mutations.is_empty(),
            "list at least one mutation type",
        )?;
        range("max_abs_error", s.max_abs_error > 0.0, "must be positive")?;
        if let Some(m) = s.max_individuals {
            range("max_individuals", m >= 1, "must be at least 1")?;
        }
        if let Some(m) = s.max_train_steps {
            range("max_train_steps", m >= 1, "must be at least 1")?;
        }
        range(
            "progress_every",
            s.progress_every >= 1,
            "must be at least 1",
        )?;
        range(
            "batch_size",
            s.batch_size <= 100_000,
            "must be in 0..=100000 (0: a quarter of the population, at most 256)",
        )?;
        range(
            "islands",
            (1..=1000).contains(&s.islands),
            "must be in 1..=1000",
        )?;
        range(
            "migrants",
            s.islands == 1 || s.migrants <= s.population_size,
            "must not exceed population_size",
        )?;
        if !(self.checkpoint_every_seconds >= 0.0 && self.checkpoint_every_seconds.is_finite()) {
            return Err("checkpoint_every_seconds: must be a number of seconds, 0 or more".into());
        }
        if let Some(t) = s.max_seconds {
            range(
                "max_seconds",
                t > 0.0 && t <= MAX_SECONDS_LIMIT,
                "must be a number of seconds above 0, at most 1e9 (about 31 years)",
            )?;
        }
        if let Some(fec) = &s.fec {
            fec.check()?;
        }
        if let Some(b) = &s.train_budget {
            Builtin::from_name(&b.baseline)
                .map_err(|e| format!("search.train_budget.baseline: {e}"))?;
            range(
                "train_budget.threshold_factor",
                b.threshold_factor > 0.0,
                "must be positive",
            )?;
        }
        for (i, q) in s.hurdles.iter().enumerate() {
            range(
                &format!("hurdles[{i}]"),
                *q > 0.0 && *q < 1.0,
                "a quantile must be in (0, 1)",
            )?;
        }
        for (name, c) in [
            ("setup", &s.setup),
            ("predict", &s.predict),
            ("learn", &s.learn),
        ] {
            let (min, max) = c.limits();
            range(
                &format!("{name}.size_init"),
                c.size_init <= MAX_COMPONENT_SIZE,
                &format!("must be at most {MAX_COMPONENT_SIZE}"),
            )?;
            range(
                &format!("{name}.size_max"),
                min <= max,
                &format!(
                    "{max} must be at least size_min ({min}; size_init when size_min is not set)"
                ),
            )?;
            range(
                &format!("{name}.size_max"),
                max <= MAX_COMPONENT_SIZE,
                &format!("must be at most {MAX_COMPONENT_SIZE}"),
            )?;
            let random = InitialPopulation::Builtin(Builtin::Random);
            if c.size_init > 0 && c.ops.is_empty() && s.initial_population == random {
                return Err(format!(
                    "search.{name}.ops: a random initial population needs ops for every component with size_init > 0"
                ));
            }
        }
        if self.sufficient_fitness.is_some_and(|f| !f.is_finite()) {
            return Err("sufficient_fitness: must be a number".into());
        }
        if self
            .sufficient_fitness
            .is_some_and(|f| !(0.0..1.0).contains(&f))
        {
            return Err(
                "sufficient_fitness: must be in [0, 1) (a fitness is at most 1, and must exceed it)"
                    .into(),
            );
        }
        crate::tasks::collection_features(&self.search_tasks, "search_tasks")
            .map_err(|e| e.to_string())?;
        for (key, list) in [
            ("select_tasks", &self.select_tasks),
            ("final_tasks", &self.final_tasks),
        ] {
            if !list.is_empty() {
                let f = crate::tasks::collection_features(list, key).map_err(|e| e.to_string())?;
                if f != self.search_tasks[0].features_size {
                    return Err(format!(
                        "{key}[0].features_size: {f} differs from the search tasks' {}",
                        self.search_tasks[0].features_size
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that a search of this config ends by itself: `max_experiments = 0` needs
    /// `sufficient_fitness` or a run-wide limit (the other commands never repeat experiments).
    pub fn check_ends(&self) -> Result<(), String> {
        let s = &self.search;
        if self.max_experiments == 0
            && self.sufficient_fitness.is_none()
            && s.max_seconds.is_none()
            && s.max_train_steps.is_none()
        {
            return Err(
                "max_experiments: 0 repeats experiments until a select fitness exceeds \
                 sufficient_fitness, which is not set, so the search would never end: set \
                 sufficient_fitness, a number of experiments, search.max_seconds or \
                 search.max_train_steps"
                    .into(),
            );
        }
        Ok(())
    }

    /// The configs that ship with the tool, by name.
    pub fn shipped(name: &str) -> Option<&'static str> {
        match name {
            "demo" => Some(DEMO),
            _ => None,
        }
    }
}

/// Reads a config from a TOML document or value; an error names the key's path and is said in
/// words, with `hint()` after it (a suggestion, or empty).
fn deserialize<'de, D>(document: D, hint: impl FnOnce() -> String) -> Result<Config, String>
where
    D: serde::Deserializer<'de>,
    D::Error: std::fmt::Display,
{
    serde_path_to_error::deserialize(document).map_err(|e| {
        let path = e.path().to_string();
        words::explain(&path, &e.inner().to_string(), &hint())
    })
}

/// A hint for a top-level key that belongs under `[search]` (`max_seconds`, say): empty unless
/// moving it there makes the config read.
fn search_key_hint(table: &toml::Table, key: &str) -> String {
    let Some(value) = table.get(key) else {
        return String::new();
    };
    let mut moved = table.clone();
    moved.remove(key);
    if let Some(toml::Value::Table(search)) = moved.get_mut("search") {
        merge(search, key, value.clone());
    }
    match toml::Value::Table(moved).try_into::<Config>() {
        Ok(_) => format!(" (did you mean `search.{key}`?)"),
        Err(_) => String::new(),
    }
}

/// Puts `value` at `key` in `table`, merged key by key into a table already there.
fn merge(table: &mut toml::Table, key: &str, value: toml::Value) {
    match (table.get_mut(key), value) {
        (Some(toml::Value::Table(old)), toml::Value::Table(new)) => {
            for (k, v) in new {
                merge(old, &k, v);
            }
        }
        (_, value) => {
            table.insert(key.to_string(), value);
        }
    }
}

/// Sets a dotted key (`search.population_size`, or `search_tasks.0.num_tasks` in a list of
/// tables) in a TOML table to a value written in TOML (a bare word is taken as a string).
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<(), String> {
    let (key, value) = assignment
        .split_once('=')
        .ok_or_else(|| "expected key=value, like search.population_size=100".to_string())?;
    let key = key.trim();
    let value = value.trim();
    let parsed: toml::Value = match toml::from_str::<toml::Table>(&format!("v = {value}")) {
        Ok(mut t) => t.remove("v").expect("parsed the key v"),
        Err(_) => toml::Value::String(value.to_string()),
    };
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{key}` is not a key"));
    }
    let mut root = toml::Value::Table(std::mem::take(table));
    let result = set_path(&mut root, &parts, parsed);
    // Put the table back whatever happened, so that the caller's table is never lost.
    *table = match root {
        toml::Value::Table(t) => t,
        _ => unreachable!("the root stays a table"),
    };
    result
}

/// Sets the value at `parts` (table keys, or entry numbers in lists) under `root`.
fn set_path(root: &mut toml::Value, parts: &[&str], value: toml::Value) -> Result<(), String> {
    let mut node = root;
    for (i, part) in parts.iter().enumerate() {
        let parent = parts[..i].join(".");
        let last = i + 1 == parts.len();
        node = match node {
            toml::Value::Table(t) => {
                if last {
                    t.insert(part.to_string(), value);
                    return Ok(());
                }
                let here = parts[..=i].join(".");
                if !t.contains_key(*part) && parts[i + 1].parse::<usize>().is_ok() {
                    return Err(format!(
                        "`{here}` is not in the config, so it has no entry {}: set the whole \
                         list (`--set '{here}=[...]'`)",
                        parts[i + 1]
                    ));
                }
                t.entry(part.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            toml::Value::Array(list) => {
                let n = list.len();
                let index: usize = part.parse().map_err(|_| {
                    format!("`{parent}` is a list: name an entry by its number, like `{parent}.0`")
                })?;
                let entry = list.get_mut(index).ok_or_else(|| {
                    format!(
                        "`{parent}` has {n} entries, numbered from 0: there is no `{parent}.{index}`"
                    )
                })?;
                if last {
                    *entry = value;
                    return Ok(());
                }
                entry
            }
            _ => return Err(format!("`{parent}` is not a table")),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_parses_and_checks() {
        let c = Config::from_text(DEMO, "demo.toml", &[]).unwrap();
        assert_eq!(c.search.population_size, 1000);
        assert_eq!(
            c.memory,
            MemorySizes {
                scalars: 4,
                vectors: 3,
                matrices: 1
            }
        );
        assert_eq!(c.search_tasks[0].num_tasks, 10);
    }

    #[test]
    fn overrides_reach_into_lists_by_number() {
        let set = |o: &str| Config::from_text(DEMO, "demo", &[o.to_string()]);
        let c = set("search_tasks.0.num_tasks=3").unwrap();
        assert_eq!(c.search_tasks[0].num_tasks, 3);
        assert_eq!(c.select_tasks[0].num_tasks, 100);
        let c = set("search.mutations.1=remove_instruction").unwrap();
        assert_eq!(
            c.search.mutations[1],
            crate::mutation::MutationType::RemoveInstruction
        );
        let e = set("search_tasks.1.num_tasks=3").unwrap_err().to_string();
        assert!(
            e.contains("has 1 entries") && e.contains("search_tasks.1"),
            "{e}"
        );
        let e = set("search_tasks.first.num_tasks=3")
            .unwrap_err()
            .to_string();
        assert!(e.contains("search_tasks.0"), "{e}");
        // A list the config does not have cannot be indexed.
        let e = set("search.hurdles.0=0.5").unwrap_err().to_string();
        assert!(e.contains("`search.hurdles` is not in the config"), "{e}");
        // A failed override leaves the table as it was.
        let mut table: toml::Table = toml::from_str(DEMO).unwrap();
        let before = table.clone();
        assert!(apply_override(&mut table, "search_tasks.5.num_tasks=1").is_err());
        assert_eq!(table, before);
    }

    #[test]
    fn a_search_key_set_at_the_top_level_gets_a_hint() {
        let e = Config::from_text(DEMO, "demo", &["max_seconds=5".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `search.max_seconds`"), "{e}");
        let e = Config::from_text(DEMO, "demo", &["fec.cache_size=5".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `search.fec`"), "{e}");
        let e = Config::from_text(DEMO, "demo", &["max_secs=5".into()])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn a_time_limit_is_a_number_of_seconds_a_clock_counts_to() {
        for bad in ["0", "-1", "nan", "inf", "1e300"] {
            let e = Config::from_text(DEMO, "demo", &[format!("search.max_seconds={bad}")])
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("search.max_seconds: must be a number of seconds"),
                "{e}"
            );
        }
        let c = Config::from_text(DEMO, "demo", &["search.max_seconds=1e9".into()]).unwrap();
        assert_eq!(c.search.max_seconds, Some(1e9));
    }

    #[test]
    fn a_run_that_could_never_end_is_refused() {
        let text = DEMO.replace("sufficient_fitness = 0.9999", "");
        // The config reads (eval and the other commands never repeat experiments)...
        let c = Config::from_text(&text, "demo", &[]).unwrap();
        // ...but a search of it would not end.
        let e = c.check_ends().unwrap_err();
        assert!(e.contains("never end"), "{e}");
        for ok in [
            "max_experiments=2",
            "search.max_seconds=10",
            "search.max_train_steps=1000000",
            "sufficient_fitness=0.5",
        ] {
            let c = Config::from_text(&text, "demo", &[ok.into()]).unwrap();
            c.check_ends().unwrap();
        }
    }

    #[test]
    fn overrides_change_values_and_bad_keys_are_named() {
        let c = Config::from_text(DEMO, "demo", &["search.population_size=100".into()]).unwrap();
        assert_eq!(c.search.population_size, 100);
        let e = Config::from_text(DEMO, "demo", &["search.populaton_size=100".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("populaton_size"), "{e}");
        let e = Config::from_text(DEMO, "demo", &["search.population_size=lots".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("search.population_size"), "{e}");
        let e = Config::from_text(DEMO, "demo", &["search.mutate_prob=2".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("search.mutate_prob"), "{e}");
    }

    #[test]
    fn misspelt_keys_in_a_file_name_the_key_and_line() {
        let text = DEMO.replace("tournament_size", "tournament_sise");
        let e = Config::from_text(&text, "x.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.toml") && e.contains("tournament_sise") && e.contains("line"),
            "{e}"
        );
    }

    #[test]
    fn misspelt_keys_get_the_closest_valid_key() {
        let file = |from: &str, to: &str| {
            let text = DEMO.replacen(from, to, 1);
            let e = Config::from_text(&text, "x.toml", &[]).unwrap_err();
            e.to_string()
        };
        let e = file("population_size", "populaton_size");
        assert!(e.contains("x.toml") && e.contains("line 16"), "{e}");
        assert!(
            e.contains("search.populaton_size: unknown key `populaton_size` (did you mean `population_size`?)"),
            "{e}"
        );
        // The long list of every key goes when there is a suggestion.
        assert!(!e.contains("tournament_size"), "{e}");
        let e = file("max_experiments", "max_experiment");
        assert!(
            e.contains("line 6") && e.contains("did you mean `max_experiments`?"),
            "{e}"
        );
        let e = file("num_valid_examples = 100", "num_valid_exampels = 100");
        assert!(
            e.contains("search_tasks[0].num_valid_exampels")
                && e.contains("did you mean `num_valid_examples`?"),
            "{e}"
        );
        let set = |o: &str| {
            let e = Config::from_text(DEMO, "demo", &[o.to_string()]).unwrap_err();
            e.to_string()
        };
        let e = set("search.populaton_size=100");
        assert!(
            e.contains("--set search.populaton_size=100")
                && e.contains("did you mean `population_size`?"),
            "{e}"
        );
        let e = set("search_tasks.0.num_taks=2");
        assert!(
            e.contains("search_tasks[0].num_taks") && e.contains("did you mean `num_tasks`?"),
            "{e}"
        );
        // Nothing close: the keys are listed.
        let e = set("search.colour=2");
        assert!(e.contains("expected one of `strategy`"), "{e}");
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn values_of_the_wrong_type_are_said_in_words() {
        let text = DEMO.replace("population_size = 1000", "population_size = 2.5");
        let e = Config::from_text(&text, "x.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 16")
                && e.contains(
                    "search.population_size: expected a whole number (not negative), found `2.5`"
                ),
            "{e}"
        );
        let set = |o: &str| {
            let e = Config::from_text(DEMO, "demo", &[o.to_string()]).unwrap_err();
            e.to_string()
        };
        for (o, words) in [
            (
                "search.mutate_prob=true",
                "search.mutate_prob: expected a number, found `true`",
            ),
            (
                "search_tasks.0.num_tasks=-3",
                "search_tasks[0].num_tasks: expected a whole number (not negative), found `-3`",
            ),
            (
                "randomize_task_seeds=1",
                "randomize_task_seeds: expected true or false, found `1`",
            ),
            (
                "search.mutations=3",
                "search.mutations: expected a list, found `3`",
            ),
            (
                "search_tasks.0.data_seeds=[-1]",
                "search_tasks[0].data_seeds[0]: expected a whole number from 0 to 4294967295, found `-1`",
            ),
        ] {
            let e = set(o);
            assert!(e.contains(words), "{o}: {e}");
            for rust in ["usize", "f64", "u32", "bool", "sequence"] {
                assert!(!e.contains(rust), "{o}: {e}");
            }
        }
    }

    #[test]
    fn the_initial_population_is_a_builtin_or_a_program_file() {
        let set =
            |v: &str| Config::from_text(DEMO, "demo", &[format!("search.initial_population={v}")]);
        let c = set("neural_net").unwrap();
        assert_eq!(
            c.search.initial_population,
            InitialPopulation::Builtin(Builtin::NeuralNet)
        );
        let mut c = set("{ file = \"runs/x/best.txt\" }").unwrap();
        let file = InitialPopulation::File {
            file: PathBuf::from("runs/x/best.txt"),
        };
        assert_eq!(c.search.initial_population, file);
        // Made absolute under the config's folder, and written back as it reads.
        c.search.initial_population.resolve(Path::new("/project"));
        let file = InitialPopulation::File {
            file: PathBuf::from("/project/runs/x/best.txt"),
        };
        assert_eq!(c.search.initial_population, file);
        let back = Config::from_text(&c.to_toml(), "back", &[]).unwrap();
        assert_eq!(back, c);
        let json: Config = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(json, c);
        for bad in ["{ path = \"a.txt\" }", "{ file = \"a.txt\", x = 1 }", "3"] {
            let e = set(bad).unwrap_err().to_string();
            assert!(
                e.contains("search.initial_population") && e.contains("{ file = "),
                "{e}"
            );
        }
        let e = set("neural_nett").unwrap_err().to_string();
        assert!(
            e.contains("unknown built-in algorithm `neural_nett`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_op_names_are_errors() {
        let text = DEMO.replace("\"vector_sum\"", "\"vector_summ\"");
        let e = Config::from_text(&text, "x.toml", &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("vector_summ") && e.contains("did you mean `vector_sum`"),
            "{e}"
        );
    }
}
