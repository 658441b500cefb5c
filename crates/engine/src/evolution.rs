//! Regularized evolution (SPEC 10) and random search over one experiment's search tasks.

use crate::builtins::{Builtin, Generator, Start};
use crate::config::{SearchConfig, Strategy};
use crate::evaluation::{Evaluator, EvaluatorState, FecState, FecStats, Workers};
use crate::migration::{Exchange, LocalRing, Migrant};
use crate::mutation::Mutator;
use crate::program::Algorithm;
use crate::rng::{Rng, salt};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Statistics of the population at one moment (SPEC 10.4, plus speed and FEC use).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The experiment (0-based).
    pub experiment: u64,
    /// Individuals evaluated in this experiment.
    pub individuals: u64,
    /// Training steps in this experiment, FEC probes included.
    pub train_steps: u64,
    /// Seconds since the run started.
    pub elapsed_seconds: f64,
    /// Mean fitness of the population.
    pub mean: f64,
    /// Standard deviation of the population's fitness.
    pub stdev: f64,
    /// Best fitness in the population.
    pub best: f64,
    /// Individuals per second in this experiment so far (since the resume, in a resumed run).
    pub individuals_per_second: f64,
    /// FEC hits so far in this experiment.
    pub fec_hits: u64,
    /// FEC misses so far in this experiment.
    pub fec_misses: u64,
    /// Individuals answered by the canonical-program cache in this experiment.
    pub canonical_hits: u64,
    /// Per-island statistics when there are several islands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub islands: Vec<IslandProgress>,
    /// Whether a new best program was found: the best fitness beats every earlier report of
    /// this experiment.
    #[serde(default)]
    pub best_changed: bool,
}

/// Statistics of one island's population.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IslandProgress {
    /// Mean fitness.
    pub mean: f64,
    /// Standard deviation of the fitness.
    pub stdev: f64,
    /// Best fitness.
    pub best: f64,
}

impl Progress {
    /// The report with its wall-clock figures zeroed: what the config and seed alone decide.
    pub fn timeless(&self) -> Progress {
        Progress {
            elapsed_seconds: 0.0,
            individuals_per_second: 0.0,
            ..self.clone()
        }
    }

    /// The fraction of FEC lookups that hit.
    pub fn fec_hit_rate(&self) -> f64 {
        let total = self.fec_hits + self.fec_misses;
        if total == 0 {
            0.0
        } else {
            self.fec_hits as f64 / total as f64
        }
    }
}

/// Why a search stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `max_individuals` reached.
    MaxIndividuals,
    /// `max_train_steps` reached.
    MaxTrainSteps,
    /// `max_seconds` reached.
    MaxSeconds,
    /// Interrupted (Ctrl-C or a signal).
    Interrupted,
    /// An individual's search fitness exceeded `sufficient_fitness`.
    SufficientFitness,
}

impl StopReason {
    /// The reason as configs and `summary.json` spell it (`max_individuals`).
    pub fn name(self) -> &'static str {
        match self {
            StopReason::MaxIndividuals => "max_individuals",
            StopReason::MaxTrainSteps => "max_train_steps",
            StopReason::MaxSeconds => "max_seconds",
            StopReason::Interrupted => "interrupted",
            StopReason::SufficientFitness => "sufficient_fitness",
        }
    }
}

/// The limits a search checks after every individual.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Individuals in this experiment.
    pub max_individuals: Option<u64>,
    /// Training steps left for this experiment.
    pub max_train_steps: Option<u64>,
    /// The moment the whole run must end.
    pub deadline: Option<Instant>,
    /// Set to stop as soon as possible.
    pub interrupt: Arc<AtomicBool>,
    /// End the search once an individual's fitness exceeds this.
    pub sufficient_fitness: Option<f64>,
}

impl Limits {
    /// The limit reached, if any, after `individuals` and `train_steps` (interrupt first).
    pub fn reached(&self, individuals: u64, train_steps: u64) -> Option<StopReason> {
        if self.interrupt.load(Ordering::Relaxed) {
            return Some(StopReason::Interrupted);
        }
        if self.max_individuals.is_some_and(|m| individuals >= m) {
            return Some(StopReason::MaxIndividuals);
        }
        if self.max_train_steps.is_some_and(|m| train_steps >= m) {
            return Some(StopReason::MaxTrainSteps);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(StopReason::MaxSeconds);
        }
        None
    }

    /// The clock's stop (interrupt or deadline), if reached.
    pub fn timed_out(&self) -> Option<StopReason> {
        if self.interrupt.load(Ordering::Relaxed) {
            return Some(StopReason::Interrupted);
        }
        self.deadline
            .is_some_and(|d| Instant::now() >= d)
            .then_some(StopReason::MaxSeconds)
    }

    /// The counted stop (`max_individuals`, `max_train_steps`), if reached.
    pub fn counted(&self, individuals: u64, train_steps: u64) -> Option<StopReason> {
        if self.max_individuals.is_some_and(|m| individuals >= m) {
            return Some(StopReason::MaxIndividuals);
        }
        if self.max_train_steps.is_some_and(|m| train_steps >= m) {
            return Some(StopReason::MaxTrainSteps);
        }
        None
    }
}

/// The population: algorithms and fitnesses in slots, the oldest replaced next.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Population {
    /// The members.
    pub algorithms: Vec<Algorithm>,
    /// Their fitnesses.
    pub fitnesses: Vec<f64>,
    /// The slot holding the oldest member.
    pub oldest: usize,
}

impl Population {
    /// The index of the best member (the first if tied).
    pub fn best(&self) -> usize {
        let mut best = 0;
        for (i, &f) in self.fitnesses.iter().enumerate() {
            if f > self.fitnesses[best] {
                best = i;
            }
        }
        best
    }

    /// Tournament selection: `size` draws with replacement, the fittest wins (ties: the first).
    pub fn tournament(&self, size: usize, rng: &mut Rng) -> usize {
        let mut winner = rng.below(self.fitnesses.len());
        for _ in 1..size {
            let i = rng.below(self.fitnesses.len());
            if self.fitnesses[i] > self.fitnesses[winner] {
                winner = i;
            }
        }
        winner
    }

    /// Copies of the `n` fittest members (ties: the lower slot first).
    pub fn fittest(&self, n: usize) -> Vec<Migrant> {
        let mut order: Vec<usize> = (0..self.fitnesses.len()).collect();
        order.sort_by(|&a, &b| {
            self.fitnesses[b]
                .total_cmp(&self.fitnesses[a])
                .then(a.cmp(&b))
        });
        order
            .into_iter()
            .take(n)
            .map(|i| Migrant {
                algorithm: self.algorithms[i].clone(),
                fitness: self.fitnesses[i],
            })
            .collect()
    }

    /// Replaces the oldest member with a newcomer; returns the member replaced.
    pub fn replace_oldest(&mut self, algorithm: Algorithm, fitness: f64) -> Algorithm {
        let slot = self.oldest;
        self.fitnesses[slot] = fitness;
        self.oldest = (slot + 1) % self.algorithms.len();
        std::mem::replace(&mut self.algorithms[slot], algorithm)
    }

    /// Mean, standard deviation and best fitness.
    pub fn stats(&self) -> (f64, f64, f64) {
        let n = self.fitnesses.len().max(1) as f64;
        let mean = self.fitnesses.iter().sum::<f64>() / n;
        let square = self.fitnesses.iter().map(|f| f * f).sum::<f64>() / n;
        let best = self.fitnesses.get(self.best()).copied().unwrap_or(0.0);
        (mean, (square - mean * mean).max(0.0).sqrt(), best)
    }
}

/// Staged evaluation of the search tasks: an individual below a stage's quantile stops there.
#[derive(Debug, Clone)]
pub(crate) struct Hurdles {
    quantiles: Vec<f64>,
    /// Task index where each stage ends.
    ends: Vec<usize>,
    /// Recent partial fitnesses at each hurdle.
    recent: Vec<VecDeque<f64>>,
    window: usize,
}

impl Hurdles {
    /// The hurdles of a search config over `num_tasks` tasks, if it has any.
    pub(crate) fn of(config: &SearchConfig, num_tasks: usize) -> Option<Hurdles> {
        (!config.hurdles.is_empty() && num_tasks > 1)
            .then(|| Hurdles::new(&config.hurdles, num_tasks, config.population_size.max(100)))
    }

    /// The number of hurdles (stages but the last).
    pub(crate) fn count(&self) -> usize {
        self.recent.len()
    }

    /// Swaps the recent partial fitnesses with an island's.
    pub(crate) fn swap_recent(&mut self, recent: &mut Vec<VecDeque<f64>>) {
        std::mem::swap(&mut self.recent, recent);
    }

    fn new(quantiles: &[f64], num_tasks: usize, window: usize) -> Hurdles {
        let stages = (quantiles.len() + 1).min(num_tasks);
        let ends = (1..=stages).map(|k| k * num_tasks / stages).collect();
        Hurdles {
            quantiles: quantiles[..stages - 1].to_vec(),
            ends,
            recent: vec![VecDeque::new(); stages - 1],
            window,
        }
    }

    /// The threshold of hurdle `k`, once enough individuals have passed it.
    fn threshold(&self, k: usize) -> Option<f64> {
        let recent = &self.recent[k];
        if recent.len() < self.window.min(100) {
            return None;
        }
        let mut sorted: Vec<f64> = recent.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let pos = ((sorted.len() - 1) as f64 * self.quantiles[k]).round() as usize;
        Some(sorted[pos])
    }

    /// The task ranges of the stages.
    fn stages(&self) -> Vec<std::ops::Range<usize>> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let r = start..end;
                start = end;
                r
            })
            .collect()
    }

    fn record(&mut self, k: usize, fitness: f64) {
        let recent = &mut self.recent[k];
        if recent.len() == self.window {
            recent.pop_front();
        }
        recent.push_back(fitness);
    }
}

/// One island: a population evolving with its own random stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Island {
    /// The population (partly filled while the search starts).
    pub population: Population,
    /// The island's random stream: parents, mutations and evaluation seeds.
    rng: Rng,
    /// Individuals this island has evaluated.
    pub individuals: u64,
    /// Recent partial fitnesses at each hurdle, when there are several islands (each island
    /// keeps its own; one island uses [`SearchState::hurdle_window`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hurdles: Vec<VecDeque<f64>>,
}

impl Island {
    /// Checks an island read from outside (a file, a server): its members fit the memory, the
    /// population is consistent and at most `population_size`, its hurdles are `hurdles`.
    pub fn check(
        &self,
        sizes: &crate::memory::MemorySizes,
        population_size: usize,
        hurdles: usize,
    ) -> Result<(), String> {
        let pop = &self.population;
        if pop.algorithms.len() != pop.fitnesses.len() || pop.algorithms.len() > population_size {
            return Err(format!(
                "a population of {} members and {} fitnesses (at most {population_size})",
                pop.algorithms.len(),
                pop.fitnesses.len()
            ));
        }
        if pop.oldest >= pop.algorithms.len().max(1) {
            return Err(format!("oldest member {} out of range", pop.oldest));
        }
        if self.hurdles.len() != hurdles {
            return Err(format!(
                "{} hurdles, the config {hurdles}",
                self.hurdles.len()
            ));
        }
        for (m, a) in pop.algorithms.iter().enumerate() {
            a.check(sizes).map_err(|e| format!("member {m}: {e}"))?;
        }
        Ok(())
    }
}

/// A search's whole state between rounds, as a checkpoint holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchState {
    /// The islands.
    pub islands: Vec<Island>,
    /// Individuals evaluated over all islands.
    pub individuals: u64,
    /// The best individual ever evaluated.
    pub best_ever: Option<(Algorithm, f64)>,
    /// Individuals stopped at a hurdle.
    pub stopped_at_hurdles: u64,
    /// Recent partial fitnesses at each hurdle.
    pub hurdle_window: Vec<VecDeque<f64>>,
    /// Per-island individual count at which the next migration happens.
    pub next_migration: u64,
    /// Migrations so far.
    pub migrations: u64,
    /// The evaluator's caches and counters.
    pub evaluator: EvaluatorState,
    /// The best fitness of the last round, if it evolved (did not fill the population): the
    /// search stops on it when it exceeds the sufficient fitness, also once restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_round_best: Option<f64>,
    /// With several islands, each island's evaluator: its caches (emptied at every migration)
    /// and counters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub island_evaluators: Vec<EvaluatorState>,
}

impl SearchState {
    /// Training steps of this search over all islands.
    pub fn train_steps(&self) -> u64 {
        self.evaluator.train_steps
            + self
                .island_evaluators
                .iter()
                .map(|e| e.train_steps)
                .sum::<u64>()
    }
}

/// What every island's children are made with: the search's config and operators.
pub(crate) struct Breed<'a> {
    pub config: &'a SearchConfig,
    pub mutator: &'a Mutator,
    pub generator: &'a Generator,
    pub start: &'a Start,
}

/// Reused buffers of a batch: each child's (filling, seed), and the fitnesses.
#[derive(Default)]
pub(crate) struct BatchBuffers {
    slots: Vec<(bool, u64)>,
    fitnesses: Vec<f64>,
}

/// Empties an evaluator's caches (and the entries it has yet to store), keeping its counters:
/// islands' caches last one migration period, so that an island's results depend on its own
/// state alone.
pub(crate) fn clear_caches<const F: usize>(evaluator: &mut Evaluator<F>) {
    let stats = evaluator.fec_stats();
    evaluator.restore(&EvaluatorState {
        fec: Some(FecState {
            entries: Vec::new(),
            stats,
        }),
        canonical: Vec::new(),
        train_steps: evaluator.train_steps,
        canonical_hits: evaluator.canonical_hits,
        instructions: evaluator.instructions,
        deferred_canonical: Vec::new(),
        deferred_fec: Vec::new(),
    });
}

/// One island's batch: `count` children (filling the population, or replacing its oldest),
/// each from a seed drawn in order from the island's stream, evaluated together on `evaluator`
/// through `hurdles`, then joining the population in order; `child(algorithm, fitness)` sees
/// each before it joins. Returns the best fitness among them (`f64::MIN` for none) and the
/// children stopped at a hurdle.
pub(crate) fn island_batch<const F: usize>(
    breed: &Breed,
    island: &mut Island,
    evaluator: &mut Evaluator<F>,
    hurdles: &mut Option<Hurdles>,
    count: usize,
    buffers: &mut BatchBuffers,
    mut child: impl FnMut(&Algorithm, f64),
) -> (f64, u64) {
    if count == 0 {
        return (f64::MIN, 0);
    }
    let p = breed.config.population_size;
    let filling = island.population.algorithms.len() < p;
    buffers.slots.clear();
    for _ in 0..count {
        buffers.slots.push((filling, island.rng.next_u64()));
    }
    let stopped = evaluate_island(breed, island, evaluator, hurdles, buffers);
    let mut best = f64::MIN;
    for i in 0..count {
        let fitness = buffers.fitnesses[i];
        best = best.max(fitness);
        island.individuals += 1;
        let made = std::mem::take(evaluator.made_mut(i));
        child(&made, fitness);
        let pop = &mut island.population;
        if pop.algorithms.len() < p {
            pop.algorithms.push(made);
            pop.fitnesses.push(fitness);
        } else {
            // The member replaced lends its buffers to a child of the next batch.
            *evaluator.made_mut(i) = pop.replace_oldest(made, fitness);
        }
    }
    (best, stopped)
}

/// Makes and evaluates an island's children on the worker threads (through the hurdles, if
/// any): each child follows from its slot's seed alone (parent tournament, mutation,
/// evaluation seed), so the batch's result does not depend on which thread makes it. Returns
/// the children stopped at a hurdle.
fn evaluate_island<const F: usize>(
    breed: &Breed,
    island: &Island,
    evaluator: &mut Evaluator<F>,
    hurdles: &mut Option<Hurdles>,
    buffers: &mut BatchBuffers,
) -> u64 {
    let num_tasks = evaluator.tasks().len();
    let stages = match hurdles {
        None => std::iter::once(0..num_tasks).collect(),
        Some(h) => h.stages(),
    };
    let (pop, slots, config) = (&island.population, &buffers.slots, breed.config);
    let make = |i: usize, out: &mut Algorithm| {
        let (filling, seed) = slots[i];
        let mut rng = Rng::new(seed, salt::CHILD);
        if filling {
            *out = breed
                .generator
                .start(breed.start, &mut rng)
                .expect("memory checked when the search started");
        } else {
            match config.strategy {
                Strategy::Evolution => {
                    let parent = pop.tournament(config.tournament_size, &mut rng);
                    breed
                        .mutator
                        .child_into(&pop.algorithms[parent], out, &mut rng);
                }
                Strategy::Random => {
                    *out = breed
                        .generator
                        .build(Builtin::Random, &mut rng)
                        .expect("memory checked when the search started")
                }
            }
        }
        rng.next_u64()
    };
    let mut stopped = 0;
    evaluator
        .evaluate_made(
            slots.len(),
            make,
            &stages,
            |_, k, partial| {
                let Some(h) = hurdles.as_mut() else {
                    return true;
                };
                let threshold = h.threshold(k);
                h.record(k, partial);
                let go_on = !threshold.is_some_and(|t| partial < t);
                if !go_on {
                    stopped += 1;
                }
                go_on
            },
            &mut buffers.fitnesses,
        )
        .expect("search algorithms stay within memory");
    stopped
}

/// One search over the search tasks: islands of regularized evolution (or random search)
/// advancing in rounds, each round a batch of children evaluated together.
pub struct Search<'a, const F: usize> {
    config: &'a SearchConfig,
    mutator: Mutator,
    generator: Generator,
    start: Start,
    /// The evaluator of the search tasks.
    pub evaluator: Evaluator<F>,
    /// The islands (one unless `islands` says more).
    pub islands: Vec<Island>,
    /// Individuals evaluated over all islands.
    pub individuals: u64,
    /// The best individual ever evaluated, with its fitness (the random-search candidate).
    pub best_ever: Option<(Algorithm, f64)>,
    /// Individuals stopped by a hurdle.
    pub stopped_at_hurdles: u64,
    /// The best fitness of the last round, if it did not fill the population.
    last_round_best: Option<f64>,
    hurdles: Option<Hurdles>,
    exchange: Box<dyn Exchange>,
    next_migration: u64,
    migrations: u64,
    started: Instant,
    /// Individuals already evaluated when this process took the search up (a resumed search).
    individuals_at_start: u64,
    buffers: BatchBuffers,
    /// With several islands, each island's evaluator (made when first needed).
    island_evaluators: Vec<Evaluator<F>>,
    /// Island evaluators' states waiting for the evaluators to be made.
    island_states: Vec<EvaluatorState>,
    /// The worker threads of the island evaluators.
    workers: Workers,
}

impl<'a, const F: usize> Search<'a, F> {
    /// A search with its evaluator and random stream, its population started from `start`;
    /// islands talk through a local ring.
    pub fn new(
        config: &'a SearchConfig,
        mutator: Mutator,
        generator: Generator,
        start: Start,
        evaluator: Evaluator<F>,
        mut rng: Rng,
    ) -> Self {
        let hurdles = Hurdles::of(config, evaluator.tasks().len());
        let islands = config.islands.max(1);
        let windows = match (&hurdles, islands) {
            (Some(h), 2..) => vec![VecDeque::new(); h.recent.len()],
            _ => Vec::new(),
        };
        let island = |rng: Rng| Island {
            population: Population::default(),
            rng,
            individuals: 0,
            hurdles: windows.clone(),
        };
        let islands = if islands == 1 {
            vec![island(rng)]
        } else {
            (0..islands)
                .map(|_| island(Rng::new(rng.next_u64(), salt::SEARCH)))
                .collect()
        };
        Search {
            config,
            mutator,
            generator,
            start,
            evaluator,
            islands,
            individuals: 0,
            best_ever: None,
            stopped_at_hurdles: 0,
            last_round_best: None,
            hurdles,
            exchange: Box::new(LocalRing),
            next_migration: config.migrate_every,
            migrations: 0,
            started: Instant::now(),
            individuals_at_start: 0,
            buffers: BatchBuffers::default(),
            island_evaluators: Vec::new(),
            island_states: Vec::new(),
            workers: Workers::sequential(),
        }
    }

    /// The worker threads of the islands' evaluators (with several islands; one island uses
    /// the evaluator the search was made with).
    pub fn set_workers(&mut self, workers: Workers) {
        self.workers = workers;
    }

    /// Makes the island evaluators (several islands), putting back states kept for them.
    fn island_evaluators(&mut self) -> &mut [Evaluator<F>] {
        if self.islands.len() > 1 && self.island_evaluators.is_empty() {
            let states = std::mem::take(&mut self.island_states);
            for k in 0..self.islands.len() {
                let mut e = Evaluator::with_workers(
                    self.evaluator.tasks().to_vec(),
                    self.evaluator.settings().clone(),
                    self.workers.clone(),
                );
                clear_caches(&mut e);
                if let Some(state) = states.get(k) {
                    e.restore(state);
                }
                self.island_evaluators.push(e);
            }
        }
        &mut self.island_evaluators
    }

    /// The island evaluators' states (several islands).
    fn island_evaluator_states(&self) -> Vec<EvaluatorState> {
        if self.island_evaluators.is_empty() {
            return self.island_states.clone();
        }
        self.island_evaluators.iter().map(|e| e.state()).collect()
    }

    /// Training steps of this search over all islands, FEC probes included.
    pub fn train_steps(&self) -> u64 {
        self.evaluator.train_steps + self.island_sum(|e| e.train_steps)
    }

    /// Evaluations answered by the canonical-program caches.
    pub fn canonical_hits(&self) -> u64 {
        self.evaluator.canonical_hits + self.island_sum(|e| e.canonical_hits)
    }

    /// Interpreted instructions executed.
    pub fn instructions(&self) -> u64 {
        self.evaluator.instructions + self.island_sum(|e| e.instructions)
    }

    /// FEC hit and miss counts over all islands.
    pub fn fec_stats(&self) -> FecStats {
        let mut stats = self.evaluator.fec_stats();
        let mut add = |s: FecStats| {
            stats.hits += s.hits;
            stats.misses += s.misses;
        };
        if self.island_evaluators.is_empty() {
            self.island_states
                .iter()
                .filter_map(|s| s.fec.as_ref())
                .for_each(|f| add(f.stats));
        } else {
            self.island_evaluators
                .iter()
                .for_each(|e| add(e.fec_stats()));
        }
        stats
    }

    /// A counter summed over the island evaluators (or their kept states).
    fn island_sum(&self, of: impl Fn(&EvaluatorState) -> u64) -> u64 {
        if self.island_evaluators.is_empty() {
            return self.island_states.iter().map(of).sum();
        }
        self.island_evaluators
            .iter()
            .map(|e| {
                of(&EvaluatorState {
                    train_steps: e.train_steps,
                    canonical_hits: e.canonical_hits,
                    instructions: e.instructions,
                    ..EvaluatorState::default()
                })
            })
            .sum()
    }

    /// Replaces the local ring with another carrier of migrants.
    pub fn set_exchange(&mut self, exchange: Box<dyn Exchange>) {
        self.exchange = exchange;
    }

    /// The state between rounds, for a checkpoint.
    pub fn state(&self) -> SearchState {
        SearchState {
            islands: self.islands.clone(),
            individuals: self.individuals,
            best_ever: self.best_ever.clone(),
            stopped_at_hurdles: self.stopped_at_hurdles,
            hurdle_window: self
                .hurdles
                .as_ref()
                .map(|h| h.recent.clone())
                .unwrap_or_default(),
            next_migration: self.next_migration,
            migrations: self.migrations,
            evaluator: self.evaluator.state(),
            last_round_best: self.last_round_best,
            island_evaluators: if self.islands.len() > 1 {
                self.island_evaluator_states()
            } else {
                Vec::new()
            },
        }
    }

    /// Puts back a state of [`Search::state`]; it must come from a search of the same config.
    pub fn restore(&mut self, state: SearchState) -> Result<(), String> {
        if state.islands.len() != self.islands.len() {
            return Err(format!(
                "the checkpoint has {} islands, the config {}",
                state.islands.len(),
                self.islands.len()
            ));
        }
        if let Some(h) = self.hurdles.as_mut() {
            if state.hurdle_window.len() != h.recent.len() {
                return Err("the checkpoint's hurdles differ from the config's".into());
            }
            h.recent = state.hurdle_window;
        }
        self.islands = state.islands;
        self.individuals = state.individuals;
        self.individuals_at_start = state.individuals;
        self.started = Instant::now();
        self.best_ever = state.best_ever;
        self.stopped_at_hurdles = state.stopped_at_hurdles;
        self.next_migration = state.next_migration;
        self.migrations = state.migrations;
        self.last_round_best = state.last_round_best;
        self.evaluator.restore(&state.evaluator);
        self.restore_islands(state.island_evaluators)
    }

    /// Moves the search to a later state of itself (made elsewhere: by workers), keeping its
    /// clock and speed count.
    pub fn advance_to(&mut self, state: SearchState) -> Result<(), String> {
        let (started, at_start) = (self.started, self.individuals_at_start);
        self.restore(state)?;
        (self.started, self.individuals_at_start) = (started, at_start);
        Ok(())
    }

    /// Puts back the island evaluators' states (several islands).
    fn restore_islands(&mut self, states: Vec<EvaluatorState>) -> Result<(), String> {
        if self.islands.len() < 2 {
            return Ok(());
        }
        // A search that has not run a round yet (or a checkpoint of an earlier version) has none.
        if !states.is_empty() && states.len() != self.islands.len() {
            return Err(format!(
                "the state has {} island evaluators for {} islands",
                states.len(),
                self.islands.len()
            ));
        }
        if let Some(h) = &self.hurdles
            && let Some(k) = self
                .islands
                .iter()
                .position(|i| i.hurdles.len() != h.recent.len())
        {
            return Err(format!("island {k}'s hurdles differ from the config's"));
        }
        if self.island_evaluators.is_empty() {
            self.island_states = states;
        } else {
            for (e, s) in self.island_evaluators.iter_mut().zip(&states) {
                clear_caches(e);
                e.restore(s);
            }
        }
        Ok(())
    }

    /// One round: each island in turn makes a batch of children, evaluates them together and
    /// takes them in order (filling its population, or replacing the oldest), up to
    /// `batch_size` per island and at most `budget` in all; then migration, when due. With
    /// several islands each island has its own evaluator and hurdles, so that an island's
    /// round depends on its own state alone. Returns the best fitness among the children.
    pub fn round(&mut self, budget: u64) -> f64 {
        let p = self.config.population_size;
        let b = self.config.batch() as u64;
        let several = self.islands.len() > 1;
        if several {
            self.island_evaluators();
        }
        let breed = Breed {
            config: self.config,
            mutator: &self.mutator,
            generator: &self.generator,
            start: &self.start,
        };
        let (mut left, mut best) = (budget, f64::MIN);
        for (k, island) in self.islands.iter_mut().enumerate() {
            let len = island.population.algorithms.len();
            let room = if len < p { (p - len) as u64 } else { b };
            let count = room.min(b).min(left);
            left -= count;
            let evaluator = match several {
                true => &mut self.island_evaluators[k],
                false => &mut self.evaluator,
            };
            if several && let Some(h) = self.hurdles.as_mut() {
                std::mem::swap(&mut h.recent, &mut island.hurdles);
            }
            let best_ever = &mut self.best_ever;
            let (island_best, stopped) = island_batch(
                &breed,
                island,
                evaluator,
                &mut self.hurdles,
                count as usize,
                &mut self.buffers,
                |child, fitness| {
                    if best_ever.as_ref().is_none_or(|(_, f)| fitness > *f) {
                        *best_ever = Some((child.clone(), fitness));
                    }
                },
            );
            if several && let Some(h) = self.hurdles.as_mut() {
                std::mem::swap(&mut h.recent, &mut island.hurdles);
            }
            self.stopped_at_hurdles += stopped;
            self.individuals += count;
            best = best.max(island_best);
        }
        self.migrate();
        best
    }

    /// Sends every island's best `migrants` to the next island once every island has evaluated
    /// `migrate_every` more individuals; they replace the oldest members there.
    fn migrate(&mut self) {
        let every = self.config.migrate_every;
        let p = self.config.population_size;
        if self.islands.len() < 2 || every == 0 {
            return;
        }
        let ready = self
            .islands
            .iter()
            .all(|i| i.individuals >= self.next_migration && i.population.algorithms.len() == p);
        if !ready {
            return;
        }
        let outgoing = self
            .islands
            .iter()
            .map(|island| island.population.fittest(self.config.migrants))
            .collect();
        let incoming = self
            .exchange
            .exchange(self.migrations, outgoing)
            .expect("the local exchange never fails");
        for (island, migrants) in self.islands.iter_mut().zip(incoming) {
            for m in migrants {
                island.population.replace_oldest(m.algorithm, m.fitness);
            }
        }
        for e in &mut self.island_evaluators {
            clear_caches(e);
        }
        self.migrations += 1;
        self.next_migration += every;
    }

    /// Whether every island's population is full.
    pub fn filled(&self) -> bool {
        let p = self.config.population_size;
        self.islands
            .iter()
            .all(|i| i.population.algorithms.len() == p)
    }

    /// Runs rounds until a limit is reached; `after_round` sees the search after every round.
    ///
    /// The limits are checked before each round, the sufficient fitness first (on the last
    /// round's best), so that a search restored from its state stops where it stopped before.
    pub fn run(&mut self, limits: &Limits, mut after_round: impl FnMut(&Self)) -> StopReason {
        loop {
            if let (Some(s), Some(best)) = (limits.sufficient_fitness, self.last_round_best)
                && best > s
            {
                break StopReason::SufficientFitness;
            }
            // A search that has not started yet runs one round whatever the limits, so that it
            // always has a candidate.
            if self.individuals > 0
                && let Some(r) = limits.reached(self.individuals, self.train_steps())
            {
                break r;
            }
            let budget = limits
                .max_individuals
                .map_or(u64::MAX, |m| m.saturating_sub(self.individuals));
            if budget == 0 {
                break StopReason::MaxIndividuals;
            }
            let filling = !self.filled();
            let best = self.round(budget);
            self.last_round_best = (!filling).then_some(best);
            after_round(self);
        }
    }

    /// The children the next round draws when no limit cuts it short.
    pub fn round_size(&self) -> u64 {
        let p = self.config.population_size;
        let b = self.config.batch();
        self.islands
            .iter()
            .map(|i| {
                let len = i.population.algorithms.len();
                (if len < p { p - len } else { b }).min(b) as u64
            })
            .sum()
    }

    /// Mean, standard deviation and best fitness over all islands.
    pub fn stats(&self) -> (f64, f64, f64) {
        let all: Vec<f64> = self
            .islands
            .iter()
            .flat_map(|i| i.population.fitnesses.iter().copied())
            .collect();
        Population {
            algorithms: Vec::new(),
            fitnesses: all,
            oldest: 0,
        }
        .stats()
    }

    /// Seconds since the search started (or was resumed).
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Individuals per second since the search started (or was resumed).
    pub fn individuals_per_second(&self) -> f64 {
        (self.individuals - self.individuals_at_start) as f64 / self.elapsed().max(1e-9)
    }

    /// The candidate of this search: the best of the final populations (evolution) or the best
    /// ever seen (random search), with its search fitness.
    pub fn candidate(&self) -> (Algorithm, f64) {
        match (self.config.strategy, &self.best_ever) {
            (Strategy::Random, Some((a, f))) => (a.clone(), *f),
            _ => {
                let mut best: Option<(&Algorithm, f64)> = None;
                for island in &self.islands {
                    let pop = &island.population;
                    if pop.fitnesses.is_empty() {
                        continue;
                    }
                    let b = pop.best();
                    if best.is_none_or(|(_, f)| pop.fitnesses[b] > f) {
                        best = Some((&pop.algorithms[b], pop.fitnesses[b]));
                    }
                }
                best.map(|(a, f)| (a.clone(), f))
                    .unwrap_or_else(|| (Algorithm::default(), 0.0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(fitnesses: &[f64]) -> Population {
        Population {
            algorithms: vec![Algorithm::default(); fitnesses.len()],
            fitnesses: fitnesses.to_vec(),
            oldest: 0,
        }
    }

    #[test]
    fn tournament_of_the_whole_population_usually_finds_the_best() {
        let p = population(&[0.1, 0.9, 0.3, 0.5]);
        let mut rng = Rng::new(1, 1);
        let wins = (0..1000)
            .filter(|_| p.tournament(20, &mut rng) == 1)
            .count();
        // P(best missed in 20 draws of 4) = 0.75^20 ≈ 0.3%.
        assert!(wins > 980, "{wins}");
    }

    #[test]
    fn tournament_of_one_is_uniform() {
        let p = population(&[0.1, 0.9, 0.3, 0.5]);
        let mut rng = Rng::new(2, 1);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[p.tournament(1, &mut rng)] += 1;
        }
        for c in counts {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn ties_keep_the_first_draw() {
        let p = population(&[0.5, 0.5, 0.5]);
        let mut a = Rng::new(3, 1);
        let mut b = Rng::new(3, 1);
        let first = b.below(3);
        assert_eq!(p.tournament(5, &mut a), first);
    }

    #[test]
    fn replacement_cycles_through_the_oldest() {
        let mut p = population(&[0.1, 0.2, 0.3]);
        p.replace_oldest(Algorithm::default(), 1.0);
        p.replace_oldest(Algorithm::default(), 2.0);
        assert_eq!(p.fitnesses, vec![1.0, 2.0, 0.3]);
        p.replace_oldest(Algorithm::default(), 3.0);
        p.replace_oldest(Algorithm::default(), 4.0);
        assert_eq!(p.fitnesses, vec![4.0, 2.0, 3.0]);
        assert_eq!(p.oldest, 1);
    }

    #[test]
    fn stats_are_mean_population_sd_and_max() {
        let p = population(&[0.0, 1.0, 1.0, 0.0]);
        assert_eq!(p.stats(), (0.5, 0.5, 1.0));
        assert_eq!(p.best(), 1);
    }

    #[test]
    fn stop_reason_names_are_the_summary_spellings() {
        for r in [
            StopReason::MaxIndividuals,
            StopReason::MaxTrainSteps,
            StopReason::MaxSeconds,
            StopReason::Interrupted,
            StopReason::SufficientFitness,
        ] {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::Value::String(r.name().into())
            );
        }
    }

    #[test]
    fn hurdle_stages_split_the_tasks() {
        let h = Hurdles::new(&[0.5], 10, 100);
        assert_eq!(h.ends, vec![5, 10]);
        let h = Hurdles::new(&[0.5, 0.75], 10, 100);
        assert_eq!(h.ends, vec![3, 6, 10]);
    }
}
