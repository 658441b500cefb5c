//! A search with several islands in rounds: each island evolves `migrate_every` individuals
//! on its own (its own evaluator, caches emptied at every migration, hurdles and random
//! stream), then sends its best to the next island. Any process can run an island's round
//! ([`IslandRunner`]) from the island's state and its neighbour's migrants; [`drive`] puts
//! every island's results together into the search's state exactly as [`Search::run`] in one
//! process would, limits included (a search that stops inside a round has that round played
//! again up to the stop). The distributed crate runs the rounds on workers through Redis.
//!
//! [`Search::run`]: crate::evolution::Search::run

use crate::config::{Config, SearchConfig};
use crate::evaluation::{Evaluator, EvaluatorState, Workers};
use crate::evolution::{
    BatchBuffers, Breed, Hurdles, Island, Limits, SearchState, StopReason, clear_caches,
    island_batch,
};
use crate::experiment::{RunError, RunState};
use crate::interpreter::FEATURE_SIZES;
use crate::migration::Migrant;
use crate::program::Algorithm;
use crate::tasks::{TaskSpec, build_tasks};
use crate::with_features;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// One island's round to run: its state at the round's start and what it receives first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundWork {
    /// The island (0-based).
    pub island_index: usize,
    /// The round: migrations before it.
    pub round: u64,
    /// The island as the last round left it (before the migrants below).
    pub island: Island,
    /// Its evaluator's counters (and caches: empty at a round's start).
    pub evaluator: EvaluatorState,
    /// The migrants it receives before its first batch (its neighbour's, of the last round).
    pub incoming: Vec<Migrant>,
    /// Stop after this many batches (a search that stops inside this round).
    pub stop_after: Option<usize>,
}

/// What one batch of an island's round did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchRecord {
    /// Children evaluated.
    pub count: u64,
    /// Whether they filled the population (rather than replacing members).
    pub filling: bool,
    /// The best fitness among them (`f64::MIN` for none).
    pub best: f64,
    /// The island's training steps in this experiment after the batch.
    pub train_steps: u64,
    /// Children of the batch stopped at a hurdle.
    pub hurdle_stops: u64,
}

/// An island's round, run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundResult {
    /// The island at the end (before it receives the next migrants).
    pub island: Island,
    /// Its evaluator's counters, and its caches if the round stopped before its migration.
    pub evaluator: EvaluatorState,
    /// Each batch, in order.
    pub batches: Vec<BatchRecord>,
    /// The migrants it sends, if the round reached its migration.
    pub migrants: Option<Vec<Migrant>>,
    /// The first child of the round with the round's best fitness, and its batch.
    pub best: Option<(Algorithm, f64, usize)>,
}

/// Runs islands' rounds of one experiment's search (any feature size).
pub trait RoundRunner: Send {
    /// Runs a round; stops with an error once `abort` is set (checked between batches).
    fn run(&mut self, work: RoundWork, abort: &AtomicBool) -> Result<RoundResult, String>;
}

/// The runner of islands' rounds of a config's search on the tasks `specs` (an experiment's
/// search tasks, seeds drawn), on `workers`.
pub fn round_runner(
    config: &Config,
    base_dir: &Path,
    specs: &[TaskSpec],
    workers: Workers,
) -> Result<Box<dyn RoundRunner>, RunError> {
    let features = specs.first().map_or(0, |s| s.features_size);
    with_features!(features, F => Ok(Box::new(IslandRunner::<F>::new(config, base_dir, specs, workers)?)),
        _ => Err(RunError(format!("search_tasks[0].features_size: {features} is not one of {FEATURE_SIZES:?}"))))
}

/// Runs one island's rounds at a time on its own evaluator.
pub struct IslandRunner<const F: usize> {
    config: SearchConfig,
    mutator: crate::mutation::Mutator,
    generator: crate::builtins::Generator,
    start: crate::builtins::Start,
    evaluator: Evaluator<F>,
    hurdles: Option<Hurdles>,
    sufficient: Option<f64>,
    buffers: BatchBuffers,
}

impl<const F: usize> IslandRunner<F> {
    /// The runner of a config's islands on the search tasks `specs`.
    pub fn new(
        config: &Config,
        base_dir: &Path,
        specs: &[TaskSpec],
        workers: Workers,
    ) -> Result<Self, RunError> {
        let settings = crate::experiment::search_settings(config)?;
        let generator = crate::experiment::generator(config);
        let start = crate::experiment::initial_start(config, base_dir, &generator)?;
        let tasks = build_tasks::<F>(specs, "search_tasks", base_dir)
            .map_err(|e| RunError(e.to_string()))?;
        crate::experiment::check_fec_fits(&tasks, &settings)?;
        let mut evaluator = Evaluator::with_workers(tasks, settings, workers);
        clear_caches(&mut evaluator);
        let s = &config.search;
        Ok(IslandRunner {
            hurdles: Hurdles::of(s, evaluator.tasks().len()),
            config: s.clone(),
            mutator: crate::experiment::mutator(config),
            generator,
            start,
            evaluator,
            sufficient: s
                .stop_at_sufficient_fitness
                .then_some(config.sufficient_fitness)
                .flatten(),
            buffers: BatchBuffers::default(),
        })
    }

    /// Children of the next batch: the island's share of what the search's budget allows
    /// (islands advance in step, island order cutting the last batch), with the budget and
    /// the children each island would make without it; or `None` when a limit every island
    /// sees stops the search first.
    fn next_count(&self, k: usize, island: &Island, last: Option<f64>) -> Option<[u64; 3]> {
        if let (Some(s), Some(best)) = (self.sufficient, last)
            && best > s
        {
            return None;
        }
        let c = &self.config;
        let all = c.islands as u64 * island.individuals;
        let budget = match c.max_individuals {
            Some(m) if all >= m => return None,
            Some(m) => m - all,
            None => u64::MAX,
        };
        let (p, b) = (c.population_size, c.batch() as u64);
        let len = island.population.algorithms.len();
        let room = if len < p { (p - len) as u64 } else { b }.min(b);
        let count = budget.saturating_sub(k as u64 * room).min(room);
        Some([count, budget, room])
    }
}

impl<const F: usize> RoundRunner for IslandRunner<F> {
    fn run(&mut self, work: RoundWork, abort: &AtomicBool) -> Result<RoundResult, String> {
        let c = &self.config;
        let (k, mut island) = (work.island_index, work.island);
        if k >= c.islands || c.migrate_every == 0 {
            return Err(format!("island {k} of {} islands", c.islands));
        }
        let hurdles = self.hurdles.as_ref().map_or(0, Hurdles::count);
        if island.hurdles.len() != hurdles {
            return Err(format!("island {k} has other hurdles than the config"));
        }
        for m in work.incoming {
            island.population.replace_oldest(m.algorithm, m.fitness);
        }
        // The island's own counters and caches (none at a round's start), nothing of the last.
        let mut start = work.evaluator;
        start.fec.get_or_insert_with(Default::default);
        self.evaluator.restore(&start);
        if let Some(h) = self.hurdles.as_mut() {
            h.swap_recent(&mut island.hurdles);
        }
        let next_migration = c.migrate_every.saturating_mul(work.round + 1);
        let (p, islands) = (c.population_size, c.islands as u64);
        let breed = Breed {
            config: &self.config,
            mutator: &self.mutator,
            generator: &self.generator,
            start: &self.start,
        };
        let (mut batches, mut best, mut last) = (Vec::new(), None, None);
        let mut migrants = None;
        loop {
            let j = batches.len();
            if work.stop_after == Some(j) {
                break;
            }
            if abort.load(Ordering::Relaxed) {
                return Err("abandoned".into());
            }
            let Some([count, budget, room]) = self.next_count(k, &island, last) else {
                break;
            };
            let filling = island.population.algorithms.len() < p;
            let best_of_round: &mut Option<(Algorithm, f64, usize)> = &mut best;
            let (batch_best, stops) = island_batch(
                &breed,
                &mut island,
                &mut self.evaluator,
                &mut self.hurdles,
                count as usize,
                &mut self.buffers,
                |child, f| {
                    if best_of_round.as_ref().is_none_or(|(_, b, _)| f > *b) {
                        *best_of_round = Some((child.clone(), f, j));
                    }
                },
            );
            batches.push(BatchRecord {
                count,
                filling,
                best: batch_best,
                train_steps: self.evaluator.train_steps,
                hurdle_stops: stops,
            });
            last = (!filling).then_some(batch_best);
            if budget < islands * room || count == 0 {
                break; // the search's last batch: the budget is spent
            }
            if island.individuals >= next_migration && island.population.algorithms.len() == p {
                migrants = Some(island.population.fittest(breed.config.migrants));
                clear_caches(&mut self.evaluator);
                break;
            }
        }
        if let Some(h) = self.hurdles.as_mut() {
            h.swap_recent(&mut island.hurdles);
        }
        Ok(RoundResult {
            island,
            evaluator: self.evaluator.state(),
            batches,
            migrants,
            best,
        })
    }
}

/// Where a search's islands' rounds run, and where its run's state is kept between rounds.
pub trait Rounds {
    /// Begins (or takes up) experiment `experiment`'s search on the tasks `specs`; `run` is the
    /// run's state as it begins.
    fn begin(
        &mut self,
        experiment: u64,
        specs: &[TaskSpec],
        run: &RunState,
    ) -> Result<(), RunError>;
    /// Every island's result of round `round` from the search's `state` at the round's start,
    /// in island order; `None` if the limits' interrupt or deadline comes first (never before
    /// the search has any individual).
    fn results(
        &mut self,
        round: u64,
        state: &SearchState,
        limits: &Limits,
    ) -> Result<Option<Vec<RoundResult>>, RunError>;
    /// The same round cut after `after` batches (`results` are the whole round's); `None` as for
    /// [`Rounds::results`].
    fn truncated(
        &mut self,
        round: u64,
        state: &SearchState,
        after: usize,
        results: &[RoundResult],
        limits: &Limits,
    ) -> Result<Option<Vec<RoundResult>>, RunError>;
    /// Keeps the run's state at a round's end.
    fn keep(&mut self, run: &RunState) -> Result<(), RunError>;
}

/// How a round ends for the search.
#[derive(Debug)]
pub enum Settled {
    /// Every island reached its migration and no limit stopped the search inside the round.
    Next,
    /// The search stops after this many batches of the round, for this reason.
    Stop {
        /// Batches of the round played before the stop.
        after: usize,
        /// Why.
        reason: StopReason,
    },
}

/// Whether the search stops before its next batch (as [`Search::run`] checks).
///
/// [`Search::run`]: crate::evolution::Search::run
fn stops_before(
    limits: &Limits,
    last: Option<f64>,
    individuals: u64,
    steps: u64,
) -> Option<StopReason> {
    if let (Some(s), Some(best)) = (limits.sufficient_fitness, last)
        && best > s
    {
        return Some(StopReason::SufficientFitness);
    }
    if individuals > 0
        && let Some(r) = limits.counted(individuals, steps)
    {
        return Some(r);
    }
    (limits.max_individuals == Some(individuals) && individuals == 0)
        .then_some(StopReason::MaxIndividuals)
}

/// Plays the round's batches over all islands in step, with the limits checked before each
/// batch as in one process (the clock's limits aside, which the caller checks).
pub fn settle(
    state: &SearchState,
    limits: &Limits,
    results: &[RoundResult],
) -> Result<Settled, String> {
    let mut steps = state.train_steps();
    let (mut individuals, mut last) = (state.individuals, state.last_round_best);
    for j in 0.. {
        if let Some(reason) = stops_before(limits, last, individuals, steps) {
            return Ok(Settled::Stop { after: j, reason });
        }
        let ended: Vec<bool> = results.iter().map(|r| r.batches.len() == j).collect();
        if ended.iter().all(|&e| e) && results.iter().all(|r| r.migrants.is_some()) {
            return Ok(Settled::Next);
        }
        if let Some(k) = ended.iter().position(|&e| e) {
            return Err(format!(
                "island {k}'s round ended after {j} batches, before a limit or its migration"
            ));
        }
        let batch = results.iter().map(|r| &r.batches[j]);
        individuals += batch.clone().map(|b| b.count).sum::<u64>();
        steps = state.evaluator.train_steps + batch.clone().map(|b| b.train_steps).sum::<u64>();
        let filling = batch.clone().any(|b| b.filling);
        let best = batch.map(|b| b.best).fold(f64::MIN, f64::max);
        last = (!filling).then_some(best);
    }
    unreachable!("the loop returns")
}

/// The search's state after the islands' `results`, each cut to the same number of batches;
/// with `migrate`, the round ended at its migration, which is made.
pub fn advance(
    config: &SearchConfig,
    state: &SearchState,
    results: &[RoundResult],
    migrate: bool,
) -> SearchState {
    let mut next = SearchState {
        islands: results.iter().map(|r| r.island.clone()).collect(),
        island_evaluators: results.iter().map(|r| r.evaluator.clone()).collect(),
        best_ever: state.best_ever.clone(),
        hurdle_window: state.hurdle_window.clone(),
        evaluator: state.evaluator.clone(),
        ..*state
    };
    let batches = results.first().map_or(0, |r| r.batches.len());
    for j in 0..batches {
        let batch = results.iter().map(|r| &r.batches[j]);
        next.individuals += batch.clone().map(|b| b.count).sum::<u64>();
        next.stopped_at_hurdles += batch.clone().map(|b| b.hurdle_stops).sum::<u64>();
        let filling = batch.clone().any(|b| b.filling);
        let best = batch.map(|b| b.best).fold(f64::MIN, f64::max);
        next.last_round_best = (!filling).then_some(best);
        for r in results {
            if let Some((a, f, _)) = r.best.as_ref().filter(|b| b.2 == j)
                && next.best_ever.as_ref().is_none_or(|(_, b)| f > b)
            {
                next.best_ever = Some((a.clone(), *f));
            }
        }
    }
    if migrate {
        let n = results.len();
        for (k, island) in next.islands.iter_mut().enumerate() {
            let from = &results[(k + n - 1) % n];
            for m in from.migrants.iter().flatten() {
                island
                    .population
                    .replace_oldest(m.algorithm.clone(), m.fitness);
            }
        }
        next.migrations += 1;
        next.next_migration += config.migrate_every;
    }
    next
}

/// Runs a search with several islands round by round on `rounds` from `state` until it stops;
/// `after_round` sees the state at every round's end and gives the run's state to keep.
pub fn drive(
    config: &SearchConfig,
    mut state: SearchState,
    limits: &Limits,
    rounds: &mut dyn Rounds,
    mut after_round: impl FnMut(&SearchState) -> Result<RunState, RunError>,
) -> Result<(SearchState, StopReason), RunError> {
    let clock = || limits.timed_out().unwrap_or(StopReason::Interrupted);
    loop {
        let steps = state.train_steps();
        if let Some(r) = stops_before(limits, state.last_round_best, state.individuals, steps) {
            return Ok((state, r));
        }
        if state.individuals > 0
            && let Some(r) = limits.timed_out()
        {
            return Ok((state, r));
        }
        let round = state.migrations;
        let Some(results) = rounds.results(round, &state, limits)? else {
            return Ok((state, clock()));
        };
        if results.len() != state.islands.len() {
            return Err(RunError(format!(
                "round {round}: {} results for {} islands",
                results.len(),
                state.islands.len()
            )));
        }
        match settle(&state, limits, &results).map_err(RunError)? {
            Settled::Next => {
                state = advance(config, &state, &results, true);
                let run = after_round(&state)?;
                rounds.keep(&run)?;
            }
            Settled::Stop { after, reason } => {
                let cut = if results.iter().all(|r| r.batches.len() == after) {
                    results
                } else {
                    match rounds.truncated(round, &state, after, &results, limits)? {
                        Some(cut) => cut,
                        None => return Ok((state, clock())),
                    }
                };
                if cut.iter().any(|r| r.batches.len() != after) {
                    return Err(RunError(format!(
                        "round {round}: a result cut after {after} batches has another length"
                    )));
                }
                // A round cut at its very end has made its migration, as in one process.
                let migrate = cut.iter().all(|r| r.migrants.is_some());
                return Ok((advance(config, &state, &cut, migrate), reason));
            }
        }
    }
}

/// The work of island `k`'s round `round` from the search's `state` at the round's start (in
/// one process: the islands' migrants of the last round are already in `state`).
pub fn work_from_state(state: &SearchState, k: usize, stop_after: Option<usize>) -> RoundWork {
    RoundWork {
        island_index: k,
        round: state.migrations,
        island: state.islands[k].clone(),
        evaluator: state.island_evaluators.get(k).cloned().unwrap_or_default(),
        incoming: Vec::new(),
        stop_after,
    }
}

/// Every island's rounds run here, one island after the other: the reference that
/// distributed runs are tested against, and a [`Rounds`] for one process.
pub struct LocalRounds {
    runner: Box<dyn RoundRunner>,
    config: Config,
    base_dir: std::path::PathBuf,
    workers: Workers,
}

impl LocalRounds {
    /// Rounds of a config's searches, run on `workers`.
    pub fn new(config: &Config, base_dir: &Path, workers: Workers) -> Result<Self, RunError> {
        let runner = round_runner(config, base_dir, &config.search_tasks, workers.clone())?;
        Ok(LocalRounds {
            runner,
            config: config.clone(),
            base_dir: base_dir.to_path_buf(),
            workers,
        })
    }

    fn all(
        &mut self,
        state: &SearchState,
        stop_after: Option<usize>,
    ) -> Result<Vec<RoundResult>, RunError> {
        let abort = AtomicBool::new(false);
        (0..state.islands.len())
            .map(|k| {
                let work = work_from_state(state, k, stop_after);
                self.runner.run(work, &abort).map_err(RunError)
            })
            .collect()
    }
}

impl Rounds for LocalRounds {
    fn begin(&mut self, _: u64, specs: &[TaskSpec], _: &RunState) -> Result<(), RunError> {
        self.runner = round_runner(&self.config, &self.base_dir, specs, self.workers.clone())?;
        Ok(())
    }

    fn results(
        &mut self,
        _: u64,
        state: &SearchState,
        _: &Limits,
    ) -> Result<Option<Vec<RoundResult>>, RunError> {
        self.all(state, None).map(Some)
    }

    fn truncated(
        &mut self,
        _: u64,
        state: &SearchState,
        after: usize,
        _: &[RoundResult],
        _: &Limits,
    ) -> Result<Option<Vec<RoundResult>>, RunError> {
        self.all(state, Some(after)).map(Some)
    }

    fn keep(&mut self, _: &RunState) -> Result<(), RunError> {
        Ok(())
    }
}
