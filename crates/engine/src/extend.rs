//! Carrying a run on with new limits (`search --resume RUN --set search.max_seconds=600`).
//!
//! Only the limits may change, and only so that the part of the run already done is what a run
//! started with the new limits would have done too: then the extended run ends exactly as that
//! run (its summary but the timings, its best program), and its `config.toml` repeats it.
//!
//! The run carries on from its last checkpoint: a run that ended wrote one holding the state as
//! its last search stopped (see `experiment::run`). That search is restored and checked against
//! the new limits: if they let it go on (a global limit, time or training steps, or an
//! interruption stopped it; or `max_individuals`, in the run's first experiment; or the
//! sufficient fitness), it goes on; otherwise it stops at once, its candidate is selected again
//! (the same draws, the same result), and new experiments start if `max_experiments` and
//! `sufficient_fitness` allow.

use crate::config::{Config, ConfigError};
use crate::experiment::RunState;

/// The config keys `--set` may change when a run is resumed: its limits.
pub const LIMIT_KEYS: [&str; 6] = [
    "search.max_seconds",
    "search.max_train_steps",
    "search.max_individuals",
    "max_experiments",
    "sufficient_fitness",
    "search.stop_at_sufficient_fitness",
];

/// A new limit that the run so far contradicts, so that it cannot carry the run on.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message}")]
pub struct LimitError {
    /// The config key.
    pub key: &'static str,
    /// Why the run cannot carry on with it.
    pub message: String,
}

/// The run's config with new limits from `key=value` overrides (`origin` names the config in
/// errors); a key other than [`LIMIT_KEYS`] is an error naming it.
pub fn with_limits(
    config: &Config,
    origin: &str,
    overrides: &[String],
) -> Result<Config, ConfigError> {
    for o in overrides {
        let key = o.split_once('=').map_or(o.as_str(), |(k, _)| k).trim();
        if !LIMIT_KEYS.contains(&key) {
            return Err(ConfigError::Invalid {
                origin: format!("--set {o}"),
                message: format!(
                    "`{key}` cannot change when a run is resumed: only its limits can ({}). \
                     The population, tasks, seed and search settings are those the run started \
                     with; changing them would not carry on the same run (start a new run \
                     instead)",
                    LIMIT_KEYS.join(", ")
                ),
            });
        }
    }
    let config = Config::from_text(&config.to_toml(), origin, overrides)?;
    config
        .check_ends()
        .map_err(|message| ConfigError::Invalid {
            origin: format!("{origin} with --set {}", overrides.join(" --set ")),
            message,
        })?;
    Ok(config)
}

fn refuse(key: &'static str, message: String) -> Result<(), LimitError> {
    Err(LimitError { key, message })
}

/// Checks that the run of `state` (made under `old`) is what a run started with `new` would
/// have made so far, so that carrying it on under `new` ends as that run does.
pub fn check(old: &Config, new: &Config, state: &RunState) -> Result<(), LimitError> {
    let begun = state.experiments + 1;
    if new.max_experiments != old.max_experiments
        && new.max_experiments != 0
        && new.max_experiments < begun
    {
        refuse(
            "max_experiments",
            format!("the run has begun {begun} experiments; set at least that many (or 0)"),
        )?;
    }
    let steps = state.train_steps + state.search.train_steps();
    let (o, n) = (old.search.max_train_steps, new.search.max_train_steps);
    if n != o && n.is_some_and(|n| n <= steps) {
        refuse(
            "search.max_train_steps",
            format!("the run has made {steps} training steps; set a limit above that"),
        )?;
    }
    let (o, n) = (old.search.max_individuals, new.search.max_individuals);
    if n != o {
        if state.experiments > 0 {
            refuse(
                "search.max_individuals",
                format!(
                    "it limits every experiment, and the run's {} earlier experiment(s) ran \
                     with {}: a run started with the new value would have run them otherwise \
                     (raise max_experiments, search.max_train_steps or search.max_seconds \
                     instead)",
                    state.experiments,
                    o.map_or("no limit".into(), |o| o.to_string())
                ),
            )?;
        }
        let done = state.search.individuals;
        if n.is_some_and(|n| n <= done) {
            refuse(
                "search.max_individuals",
                format!("the search has evaluated {done} individuals; set a limit above that"),
            )?;
        }
    }
    check_sufficient(old, new, state)
}

/// The sufficient fitness an experiment's search stops at, if any.
fn search_threshold(config: &Config) -> Option<f64> {
    (config.search.stop_at_sufficient_fitness)
        .then_some(config.sufficient_fitness)
        .flatten()
}

/// `sufficient_fitness` and `search.stop_at_sufficient_fitness` may be raised or turned off, but
/// not in a run whose earlier experiments ended their search on them.
fn check_sufficient(old: &Config, new: &Config, state: &RunState) -> Result<(), LimitError> {
    let (o, n) = (old.sufficient_fitness, new.sufficient_fitness);
    if n != o && n.is_some_and(|n| o.is_none_or(|o| n < o)) {
        refuse(
            "sufficient_fitness",
            "it can only be raised: a lower one could have ended the run, or a search, sooner"
                .into(),
        )?;
    }
    let (o, n) = (search_threshold(old), search_threshold(new));
    if o == n {
        return Ok(());
    }
    let key = if old.sufficient_fitness != new.sufficient_fitness {
        "sufficient_fitness"
    } else {
        "search.stop_at_sufficient_fitness"
    };
    if o.is_none() {
        refuse(
            key,
            "the run's searches went on past sufficient_fitness; a run started with this would \
             have stopped one sooner"
                .into(),
        )?;
    }
    match state.sufficient_stops {
        _ if state.experiments == 0 => Ok(()),
        Some(0) => Ok(()),
        Some(k) => refuse(
            key,
            format!(
                "{k} of the run's earlier experiments ended their search on the sufficient \
                 fitness; a run started with the new value would have searched on in them"
            ),
        ),
        None => refuse(
            key,
            "the checkpoint (of an earlier version) does not say whether the run's earlier \
             experiments ended their search on the sufficient fitness"
                .into(),
        ),
    }
}
