//! Evaluation: an algorithm scored on every task of a collection, with FEC and a train budget.

pub mod budget;
pub mod executor;
pub mod fec;
pub mod test_split;

pub use budget::{BudgetConfig, Cost, TrainBudget};
pub use executor::{Errors, Outcome, execute, flip_and_squash};
pub use fec::{FecCache, FecConfig, FecStats};

use crate::interpreter::Program;
use crate::liveness;
use crate::memory::{Memory, MemorySizes};
use crate::program::Algorithm;
use crate::rng::{Rng, salt};
use crate::tasks::Task;
use fec::KeyHasher;
use lru::LruCache;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;

/// How the fitnesses of several tasks combine into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combination {
    /// The arithmetic mean.
    #[default]
    Mean,
    /// The upper median (the element at position n/2 after sorting).
    Median,
}

impl Combination {
    /// Combines task fitnesses.
    pub fn combine(self, fitnesses: &[f64]) -> f64 {
        if fitnesses.is_empty() {
            return 0.0;
        }
        match self {
            Combination::Mean => fitnesses.iter().sum::<f64>() / fitnesses.len() as f64,
            Combination::Median => {
                let mut sorted = fitnesses.to_vec();
                sorted.sort_by(f64::total_cmp);
                sorted[sorted.len() / 2]
            }
        }
    }
}

/// Settings shared by every evaluation of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSettings {
    /// Memory sizes.
    pub sizes: MemorySizes,
    /// A training or validation error above this stops the run (fitness 0 if in the first epoch).
    pub max_abs_error: f64,
    /// How task fitnesses combine.
    pub combination: Combination,
    /// FEC, if used.
    pub fec: Option<FecConfig>,
    /// The train budget, if used.
    pub budget: Option<TrainBudget>,
    /// Entries of the cache of fitnesses by canonical program (0: off).
    pub canonical_cache: usize,
}

impl EvalSettings {
    /// Plain settings: no FEC, no budget, mean combination.
    pub fn plain(sizes: MemorySizes, max_abs_error: f64) -> Self {
        EvalSettings {
            sizes,
            max_abs_error,
            combination: Combination::Mean,
            fec: None,
            budget: None,
            canonical_cache: 0,
        }
    }
}

/// Scores algorithms on a fixed list of tasks of feature size `F`.
pub struct Evaluator<const F: usize> {
    tasks: Vec<Task<F>>,
    settings: EvalSettings,
    fec: Option<FecCache>,
    canonical: Option<LruCache<u128, f64, KeyHasher>>,
    live: [Vec<bool>; 3],
    program: Program,
    per_task: Vec<f64>,
    memory: Memory<F>,
    errors: Errors,
    /// Training steps run so far, FEC probes included.
    pub train_steps: u64,
    /// Evaluations answered by the canonical-program cache.
    pub canonical_hits: u64,
    /// Interpreted instructions executed so far (no-ops and pruned instructions excluded).
    pub instructions: u64,
}

impl<const F: usize> Evaluator<F> {
    /// An evaluator of these tasks.
    pub fn new(tasks: Vec<Task<F>>, settings: EvalSettings) -> Self {
        let fec = settings.fec.as_ref().map(FecCache::new);
        let canonical = NonZeroUsize::new(settings.canonical_cache)
            .map(|n| LruCache::with_hasher(n, KeyHasher::default()));
        Evaluator {
            canonical,
            live: Default::default(),
            program: Program::default(),
            per_task: Vec::new(),
            canonical_hits: 0,
            instructions: 0,
            memory: Memory::new(settings.sizes),
            tasks,
            settings,
            fec,
            errors: Errors::default(),
            train_steps: 0,
        }
    }

    /// The tasks.
    pub fn tasks(&self) -> &[Task<F>] {
        &self.tasks
    }

    /// The settings.
    pub fn settings(&self) -> &EvalSettings {
        &self.settings
    }

    /// FEC hit and miss counts (zero without FEC).
    pub fn fec_stats(&self) -> FecStats {
        self.fec.as_ref().map(|c| c.stats).unwrap_or_default()
    }

    /// The combined fitness of an algorithm; `seed` feeds its random ops.
    ///
    /// Dead instructions are pruned first (random ops among them draw nothing), and an
    /// algorithm whose canonical form was seen before gets the fitness found then.
    pub fn evaluate(&mut self, algorithm: &Algorithm, seed: u64) -> Result<f64, String> {
        algorithm.check(&self.settings.sizes)?;
        liveness::live_into(algorithm, &mut self.live);
        let cost = self.settings.budget.map(|_| Cost::of_algorithm(algorithm));
        let mut program = std::mem::take(&mut self.program);
        program.compile_live(algorithm, &self.live, F);
        // A program whose live part draws random numbers has a noisy fitness: caching its first
        // evaluation would freeze a lucky (or unlucky) draw for good, so it is evaluated afresh.
        let random = program.is_random();
        let key = (self.canonical.is_some() && !random).then(|| {
            // The budget judges the unpruned algorithm, so its verdicts are part of the key.
            let verdicts = match (self.settings.budget, cost) {
                (Some(b), Some(c)) => self.tasks.iter().fold(1u128, |acc, t| {
                    let n = t.max_train_examples();
                    acc.rotate_left(1) ^ u128::from(b.train_examples(c, n) == 0)
                }),
                _ => 0,
            };
            liveness::canonical_key_of_live(algorithm, &self.live) ^ verdicts
        });
        if let (Some(cache), Some(key)) = (self.canonical.as_mut(), key)
            && let Some(&fitness) = cache.get(&key)
        {
            self.canonical_hits += 1;
            self.program = program;
            return Ok(fitness);
        }
        let mut rng = Rng::new(seed, salt::EVALUATION);
        let mut per_task = std::mem::take(&mut self.per_task);
        per_task.clear();
        for t in 0..self.tasks.len() {
            per_task.push(self.evaluate_task(&program, cost, t, &mut rng));
        }
        let fitness = self.settings.combination.combine(&per_task);
        self.program = program;
        self.per_task = per_task;
        if let (Some(cache), Some(key)) = (self.canonical.as_mut(), key) {
            cache.put(key, fitness);
        }
        Ok(fitness)
    }

    /// The fitness of an algorithm on each task of a range of the task list (no pruning).
    pub fn evaluate_tasks(
        &mut self,
        algorithm: &Algorithm,
        seed: u64,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<f64>, String> {
        let program = Program::compile(algorithm, &self.settings.sizes, F)?;
        let cost = self.settings.budget.map(|_| Cost::of_algorithm(algorithm));
        let mut rng = Rng::new(seed, salt::EVALUATION);
        Ok(range
            .map(|t| self.evaluate_task(&program, cost, t, &mut rng))
            .collect())
    }

    fn evaluate_task(
        &mut self,
        program: &Program,
        cost: Option<Cost>,
        t: usize,
        rng: &mut Rng,
    ) -> f64 {
        let task = &self.tasks[t];
        let max_train = task.max_train_examples();
        let n = match (self.settings.budget, cost) {
            (Some(budget), Some(cost)) => budget.train_examples(cost, max_train),
            _ => max_train,
        };
        let max_abs_error = self.settings.max_abs_error;
        let mut key = None;
        if let (Some(cache), Some(fec)) = (self.fec.as_mut(), self.settings.fec.as_ref()) {
            self.errors.clear();
            let mut probe_rng = Rng::new(0, salt::FEC_PROBE);
            let probe = execute(
                program,
                task,
                fec.num_train_examples.min(n),
                fec.num_valid_examples,
                max_abs_error,
                &mut self.memory,
                &mut probe_rng,
                Some(&mut self.errors),
            );
            self.train_steps += probe.train_steps;
            self.instructions += probe.instructions(program);
            let hash = fec::probe_hash(&self.errors.train, &self.errors.valid, task.index, n);
            if let Some(fitness) = cache.lookup(hash) {
                return fitness;
            }
            // Early exit: a deterministic program whose training diverged within the probe
            // diverges at the same step of the full run's first epoch, so its fitness is 0.
            let probe_steps = fec.num_train_examples.min(n);
            if !program.is_random() && self.errors.train.len() < probe_steps {
                // Count the steps the skipped full run would have taken: the same ones.
                self.train_steps += probe.train_steps;
                cache.insert(hash, 0.0);
                return 0.0;
            }
            key = Some(hash);
        }
        let outcome = execute(
            program,
            task,
            n,
            task.valid_steps(),
            max_abs_error,
            &mut self.memory,
            rng,
            None,
        );
        self.train_steps += outcome.train_steps;
        self.instructions += outcome.instructions(program);
        if let (Some(cache), Some(hash)) = (self.fec.as_mut(), key) {
            cache.insert(hash, outcome.fitness);
        }
        outcome.fitness
    }
}
