//! The values a run keeps in Redis, and their checks: every value read is stamped with the
//! run, experiment, round and island it belongs to, and its programs are checked against the
//! config's memory, so that a damaged or foreign value is an error naming its key.

use crate::codec::decode;
use crate::{Result, bad};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::EvaluatorState;
use automl_zero_engine::evolution::Island;
use automl_zero_engine::experiment::RunState;
use automl_zero_engine::migration::Migrant;
use automl_zero_engine::rounds::RoundResult;
use automl_zero_engine::tasks::TaskSpec;
use serde::{Deserialize, Serialize};

/// The protocol's version, in every run's meta.
pub const FORMAT: u32 = 1;

/// Seconds a run's keys live after their last write (a run idle for a week is forgotten).
pub const KEEP_SECONDS: u64 = 7 * 24 * 3600;

/// A run as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// [`FORMAT`].
    pub format: u32,
    /// The run's name.
    pub run: String,
    /// The effective config (seed included), as TOML.
    pub config: String,
    /// The folder relative data paths start from (absolute), on every machine.
    pub base_dir: String,
    /// Seconds since 1970 when it was submitted.
    pub submitted: u64,
}

impl Meta {
    /// The config, read and checked.
    pub fn config(&self, key: &str) -> Result<Config> {
        if self.format != FORMAT {
            return Err(bad(
                key,
                format!("format {} (this program reads {FORMAT})", self.format),
            ));
        }
        Config::from_text(&self.config, key, &[]).map_err(|e| bad(key, e))
    }
}

/// The experiment whose islands workers run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// The experiment (0-based).
    pub experiment: u64,
    /// Its search tasks, seeds drawn.
    pub specs: Vec<TaskSpec>,
    /// Where the search stops, once known.
    pub stop: Option<Stop>,
}

/// Where an experiment's search stops inside a round: the islands listed play that round
/// again up to the stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The round.
    pub round: u64,
    /// Its batches played before the stop.
    pub after: usize,
    /// The islands whose round ran past the stop.
    pub again: Vec<usize>,
}

/// Where a value belongs; a value read under another key's stamp is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The experiment.
    pub experiment: u64,
    /// The round (the round it starts, for a base).
    pub round: u64,
    /// The island.
    pub island: usize,
}

/// A value with its stamp and run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stamped<T> {
    /// The run's name.
    pub run: String,
    /// Where it belongs.
    pub stamp: Stamp,
    /// The value.
    pub value: T,
}

/// An island and its evaluator's counters as an experiment starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Base {
    /// The island.
    pub island: Island,
    /// Its evaluator's counters.
    pub evaluator: EvaluatorState,
}

/// The run's state at a round's end: the driver's, without the islands (in the rounds' results).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriverState {
    /// The run's name.
    pub run: String,
    /// The run's state, its islands and their evaluators left out.
    pub state: RunState,
}

/// A worker's last word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Host and process.
    pub name: String,
    /// Its threads.
    pub threads: usize,
    /// When it started and last spoke, ms since 1970.
    pub started_ms: u64,
    /// When it last spoke.
    pub seen_ms: u64,
    /// Individuals it evaluated for this run.
    pub individuals: u64,
    /// Seconds it spent running rounds of this run.
    pub busy_seconds: f64,
    /// What it is doing: `island K round R`, or `idle`.
    pub doing: String,
}

/// The run's figures as its search last wrote them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `running`, `stopped` (interrupted, resumable) or `finished`.
    pub state: String,
    /// The experiment.
    pub experiment: u64,
    /// Rounds of its search done.
    pub round: u64,
    /// Individuals of the run so far.
    pub individuals: u64,
    /// The best fitness of any population so far (search fitness).
    pub best: Option<f64>,
    /// The result once finished: final fitness.
    pub final_fitness: Option<f64>,
    /// The result: the best program.
    pub program: Option<String>,
    /// When written, ms since 1970.
    pub updated_ms: u64,
}

/// Milliseconds since 1970.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What values are checked against: the run and its config.
pub struct Checker<'a> {
    /// The run's name.
    pub run: &'a str,
    /// Its config.
    pub config: &'a Config,
}

impl Checker<'_> {
    /// Reads a stamped value of `key`, checking the run and stamp.
    pub fn stamped<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        bytes: &[u8],
        stamp: Stamp,
    ) -> Result<T> {
        let s: Stamped<T> = decode(key, bytes)?;
        if s.run != self.run {
            return Err(bad(
                key,
                format!("a value of run {:?}, not {:?}", s.run, self.run),
            ));
        }
        if s.stamp != stamp {
            return Err(bad(
                key,
                format!("stamped {:?}, expected {stamp:?}", s.stamp),
            ));
        }
        Ok(s.value)
    }

    /// Checks an island against the config.
    pub fn island(&self, key: &str, island: &Island) -> Result<()> {
        let s = &self.config.search;
        let hurdles = if s.hurdles.is_empty() {
            0
        } else {
            island.hurdles.len()
        };
        if !s.hurdles.is_empty() && hurdles > s.hurdles.len() {
            return Err(bad(key, "more hurdles than the config's"));
        }
        island
            .check(&self.config.memory, s.population_size, hurdles)
            .map_err(|e| bad(key, e))
    }

    /// Checks migrants against the config.
    pub fn migrants(&self, key: &str, migrants: &[Migrant]) -> Result<()> {
        if migrants.len() > self.config.search.migrants {
            return Err(bad(key, format!("{} migrants", migrants.len())));
        }
        for (i, m) in migrants.iter().enumerate() {
            m.algorithm
                .check(&self.config.memory)
                .map_err(|e| bad(key, format!("migrant {i}: {e}")))?;
        }
        Ok(())
    }

    /// Checks a round's result against the config.
    pub fn result(&self, key: &str, r: &RoundResult) -> Result<()> {
        self.island(key, &r.island)?;
        if let Some(m) = &r.migrants {
            self.migrants(key, m)?;
        }
        if let Some((a, _, j)) = &r.best {
            a.check(&self.config.memory)
                .map_err(|e| bad(key, format!("best: {e}")))?;
            if *j >= r.batches.len() {
                return Err(bad(key, "the best's batch is out of range"));
            }
        }
        let b = self.config.search.batch() as u64;
        if r.batches.iter().any(|x| x.count > b) {
            return Err(bad(key, "a batch larger than batch_size"));
        }
        Ok(())
    }
}
