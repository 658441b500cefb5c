//! Regularized evolution (SPEC 10) and random search over one experiment's search tasks.

use crate::builtins::{Builtin, Generator};
use crate::config::{SearchConfig, Strategy};
use crate::evaluation::Evaluator;
use crate::mutation::Mutator;
use crate::program::Algorithm;
use crate::rng::Rng;
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
    /// Individuals per second in this experiment so far.
    pub individuals_per_second: f64,
    /// FEC hits so far in this experiment.
    pub fec_hits: u64,
    /// FEC misses so far in this experiment.
    pub fec_misses: u64,
    /// Individuals answered by the canonical-program cache in this experiment.
    pub canonical_hits: u64,
}

impl Progress {
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
    fn reached(&self, individuals: u64, train_steps: u64) -> Option<StopReason> {
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

    /// Replaces the oldest member with a newcomer.
    pub fn replace_oldest(&mut self, algorithm: Algorithm, fitness: f64) {
        let slot = self.oldest;
        self.algorithms[slot] = algorithm;
        self.fitnesses[slot] = fitness;
        self.oldest = (slot + 1) % self.algorithms.len();
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
struct Hurdles {
    quantiles: Vec<f64>,
    /// Task index where each stage ends.
    ends: Vec<usize>,
    /// Recent partial fitnesses at each hurdle.
    recent: Vec<VecDeque<f64>>,
    window: usize,
}

impl Hurdles {
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

    fn record(&mut self, k: usize, fitness: f64) {
        let recent = &mut self.recent[k];
        if recent.len() == self.window {
            recent.pop_front();
        }
        recent.push_back(fitness);
    }
}

/// One search over the search tasks.
pub struct Search<'a, const F: usize> {
    config: &'a SearchConfig,
    mutator: Mutator,
    generator: Generator,
    /// The evaluator of the search tasks.
    pub evaluator: Evaluator<F>,
    rng: Rng,
    /// The population.
    pub population: Population,
    /// Individuals evaluated.
    pub individuals: u64,
    /// The best individual ever evaluated, with its fitness (the random-search candidate).
    pub best_ever: Option<(Algorithm, f64)>,
    /// Individuals stopped by a hurdle.
    pub stopped_at_hurdles: u64,
    hurdles: Option<Hurdles>,
    started: Instant,
}

impl<'a, const F: usize> Search<'a, F> {
    /// A search with its evaluator and random stream.
    pub fn new(
        config: &'a SearchConfig,
        mutator: Mutator,
        generator: Generator,
        evaluator: Evaluator<F>,
        rng: Rng,
    ) -> Self {
        let num_tasks = evaluator.tasks().len();
        let hurdles = (!config.hurdles.is_empty() && num_tasks > 1)
            .then(|| Hurdles::new(&config.hurdles, num_tasks, config.population_size.max(100)));
        Search {
            config,
            mutator,
            generator,
            evaluator,
            rng,
            population: Population::default(),
            individuals: 0,
            best_ever: None,
            stopped_at_hurdles: 0,
            hurdles,
            started: Instant::now(),
        }
    }

    /// Evaluates an algorithm on the search tasks, through the hurdles if any.
    pub fn evaluate(&mut self, algorithm: &Algorithm) -> f64 {
        let seed = self.rng.next_u64();
        self.individuals += 1;
        let fitness = match self.hurdles.as_mut() {
            None => self
                .evaluator
                .evaluate(algorithm, seed)
                .expect("search algorithms stay within memory"),
            Some(h) => {
                let combination = self.evaluator.settings().combination;
                let mut fitnesses = Vec::new();
                let mut start = 0;
                let mut stopped = false;
                for (k, end) in h.ends.clone().into_iter().enumerate() {
                    let part = self
                        .evaluator
                        .evaluate_tasks(algorithm, seed, start..end)
                        .expect("search algorithms stay within memory");
                    fitnesses.extend(part);
                    start = end;
                    if k < h.quantiles.len() {
                        let partial = combination.combine(&fitnesses);
                        let threshold = h.threshold(k);
                        h.record(k, partial);
                        if threshold.is_some_and(|t| partial < t) {
                            stopped = true;
                            break;
                        }
                    }
                }
                if stopped {
                    self.stopped_at_hurdles += 1;
                }
                combination.combine(&fitnesses)
            }
        };
        if self.best_ever.as_ref().is_none_or(|(_, f)| fitness > *f) {
            self.best_ever = Some((algorithm.clone(), fitness));
        }
        fitness
    }

    fn new_random(&mut self) -> Algorithm {
        self.generator
            .build(Builtin::Random, &mut self.rng)
            .expect("memory checked when the search started")
    }

    /// Fills the population with the initial algorithm, evaluating each member.
    pub fn init(&mut self, limits: &Limits) -> Option<StopReason> {
        let p = self.config.population_size;
        let init = self.config.initial_population;
        self.population = Population {
            algorithms: Vec::with_capacity(p),
            fitnesses: Vec::with_capacity(p),
            oldest: 0,
        };
        for _ in 0..p {
            let algorithm = self
                .generator
                .build(init, &mut self.rng)
                .expect("memory checked when the search started");
            let fitness = self.evaluate(&algorithm);
            self.population.algorithms.push(algorithm);
            self.population.fitnesses.push(fitness);
            if let Some(r) = limits.reached(self.individuals, self.evaluator.train_steps) {
                self.pad_population();
                return Some(r);
            }
        }
        None
    }

    /// Fills the unfilled slots of an interrupted initialisation with copies of the first member.
    fn pad_population(&mut self) {
        let p = self.config.population_size;
        while self.population.algorithms.len() < p {
            self.population
                .algorithms
                .push(self.population.algorithms[0].clone());
            self.population.fitnesses.push(self.population.fitnesses[0]);
        }
    }

    /// One step: a new individual replaces the oldest.
    pub fn step(&mut self) -> f64 {
        let child = match self.config.strategy {
            Strategy::Evolution => {
                let parent = self
                    .population
                    .tournament(self.config.tournament_size, &mut self.rng);
                let parent = self.population.algorithms[parent].clone();
                self.mutator.child(&parent, &mut self.rng)
            }
            Strategy::Random => self.new_random(),
        };
        let fitness = self.evaluate(&child);
        self.population.replace_oldest(child, fitness);
        fitness
    }

    /// Runs until a limit is reached, reporting progress every `progress_every` individuals.
    pub fn run(&mut self, limits: &Limits, mut report: impl FnMut(&Self)) -> StopReason {
        let every = self.config.progress_every;
        let mut next_report = self.individuals.div_ceil(every).max(1) * every;
        report(self);
        loop {
            if let Some(r) = limits.reached(self.individuals, self.evaluator.train_steps) {
                return r;
            }
            let fitness = self.step();
            if limits.sufficient_fitness.is_some_and(|s| fitness > s) {
                report(self);
                return StopReason::SufficientFitness;
            }
            if self.individuals >= next_report {
                report(self);
                next_report += every;
            }
        }
    }

    /// Seconds since the search started.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// The candidate of this search: the best of the final population (evolution) or the best
    /// ever seen (random search), with its search fitness.
    pub fn candidate(&self) -> (Algorithm, f64) {
        match (self.config.strategy, &self.best_ever) {
            (Strategy::Random, Some((a, f))) => (a.clone(), *f),
            _ => {
                let b = self.population.best();
                (
                    self.population.algorithms[b].clone(),
                    self.population.fitnesses[b],
                )
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
    fn hurdle_stages_split_the_tasks() {
        let h = Hurdles::new(&[0.5], 10, 100);
        assert_eq!(h.ends, vec![5, 10]);
        let h = Hurdles::new(&[0.5, 0.75], 10, 100);
        assert_eq!(h.ends, vec![3, 6, 10]);
    }
}
