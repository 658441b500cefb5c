//! The experiment driver (SPEC 11.3): search on T_search, select on T_select, score on T_final.

use crate::builtins::{Builtin, Generator};
use crate::config::{Config, Strategy};
use crate::evaluation::{Cost, EvalSettings, Evaluator, FecStats, TrainBudget};
use crate::evolution::{Limits, Progress, Search, StopReason};
use crate::interpreter::FEATURE_SIZES;
use crate::mutation::Mutator;
use crate::program::Algorithm;
use crate::rng::{Rng, salt};
use crate::tasks::{TaskSpec, build_tasks, randomize_seeds};
use crate::with_features;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// What a finished (or stopped) run reports; written as `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The run's seed.
    pub seed: u64,
    /// Experiments run (the last may have been cut short).
    pub experiments: u64,
    /// Individuals evaluated over all experiments.
    pub individuals: u64,
    /// Training steps over all experiments, FEC probes included.
    pub train_steps: u64,
    /// Wall-clock seconds.
    pub elapsed_seconds: f64,
    /// Search fitness of the chosen algorithm.
    pub search_fitness: f64,
    /// Select fitness of the chosen algorithm (its search fitness when there are no select tasks).
    pub select_fitness: f64,
    /// Final fitness of the chosen algorithm (absent when there are no final tasks).
    pub final_fitness: Option<f64>,
    /// Test fitness (accuracy) of the chosen algorithm on the final tasks' test splits (absent
    /// when they have none).
    #[serde(default)]
    pub final_test_fitness: Option<f64>,
    /// FEC cache hits over all experiments.
    pub fec_hits: u64,
    /// FEC cache misses over all experiments.
    pub fec_misses: u64,
    /// Individuals answered by the canonical-program cache.
    pub canonical_hits: u64,
    /// Individuals stopped at a hurdle.
    pub hurdle_stops: u64,
    /// Why the last search stopped.
    pub stop_reason: Option<StopReason>,
    /// Whether the run was interrupted before its own limits.
    pub interrupted: bool,
}

/// The result of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentResult {
    /// The experiment (0-based).
    pub experiment: u64,
    /// Individuals evaluated.
    pub individuals: u64,
    /// Search fitness of the candidate.
    pub search_fitness: f64,
    /// Select fitness of the candidate.
    pub select_fitness: f64,
    /// Whether this candidate is the best so far.
    pub best_so_far: bool,
    /// Why the search stopped.
    pub stop_reason: StopReason,
}

/// Receives what a run reports as it goes.
pub trait Observer {
    /// A progress report of the current search.
    fn progress(&mut self, _progress: &Progress) {}
    /// An experiment finished.
    fn experiment(&mut self, _result: &ExperimentResult, _candidate: &Algorithm) {}
    /// A message for the person watching (the stage the run is in).
    fn message(&mut self, _text: &str) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// The outcome of a run: its summary and the algorithm it found.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Figures of the run.
    pub summary: Summary,
    /// The best algorithm found.
    pub best: Algorithm,
}

/// An error that stops a run before it starts.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunError(pub String);

/// Draws a run seed from the clock (never 0).
pub fn seed_from_clock() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    (nanos % (u32::MAX as u64 - 1)) + 1
}

/// Evaluation settings of a config's search.
pub fn search_settings(config: &Config) -> Result<EvalSettings, RunError> {
    let s = &config.search;
    let budget = match &s.train_budget {
        None => None,
        Some(b) => {
            let which = Builtin::from_name(&b.baseline).map_err(RunError)?;
            let generator = generator(config);
            let baseline = generator
                .build(which, &mut Rng::new(0, 0))
                .map_err(|e| RunError(format!("search.train_budget.baseline: {e}")))?;
            Some(TrainBudget {
                baseline: Cost::of_algorithm(&baseline),
                factor: b.threshold_factor,
            })
        }
    };
    Ok(EvalSettings {
        sizes: config.memory,
        max_abs_error: s.max_abs_error,
        combination: s.fitness_combination,
        fec: s.fec,
        canonical_cache: s.canonical_cache,
        budget,
    })
}

fn generator(config: &Config) -> Generator {
    let s = &config.search;
    Generator {
        sizes: config.memory,
        size_init: [s.setup.size_init, s.predict.size_init, s.learn.size_init],
        ops: [
            s.setup.ops.clone(),
            s.predict.ops.clone(),
            s.learn.ops.clone(),
        ],
    }
}

fn mutator(config: &Config) -> Mutator {
    let s = &config.search;
    Mutator {
        types: s.mutations.clone(),
        mutate_prob: s.mutate_prob,
        ops: [
            s.setup.ops.clone(),
            s.predict.ops.clone(),
            s.learn.ops.clone(),
        ],
        limits: [s.setup.limits(), s.predict.limits(), s.learn.limits()],
        sizes: config.memory,
    }
}

/// Scores an algorithm on a task list; returns the combined and the per-task fitnesses.
pub fn score(
    algorithm: &Algorithm,
    specs: &[TaskSpec],
    key: &str,
    settings: &EvalSettings,
    base_dir: &Path,
    seed: u64,
) -> Result<(f64, Vec<f64>), RunError> {
    let features =
        crate::tasks::collection_features(specs, key).map_err(|e| RunError(e.to_string()))?;
    with_features!(features, F => {
        let tasks = build_tasks::<F>(specs, key, base_dir).map_err(|e| RunError(e.to_string()))?;
        let mut evaluator = Evaluator::new(tasks, settings.clone());
        let per_task = evaluator
            .evaluate_tasks(algorithm, seed, 0..evaluator.tasks().len())
            .map_err(RunError)?;
        Ok((settings.combination.combine(&per_task), per_task))
    }, _ => Err(RunError(format!("{key}: features_size {features} is not one of {FEATURE_SIZES:?}"))))
}

/// Runs the whole protocol of a config: experiments until a stop condition, then the final score.
pub fn run(
    config: &Config,
    base_dir: &Path,
    interrupt: Arc<AtomicBool>,
    observer: &mut dyn Observer,
) -> Result<RunResult, RunError> {
    let features = config.search_tasks[0].features_size;
    with_features!(features, F => run_for::<F>(config, base_dir, interrupt, observer),
        _ => Err(RunError(format!("search_tasks[0].features_size: {features} is not one of {FEATURE_SIZES:?}"))))
}

fn run_for<const F: usize>(
    config: &Config,
    base_dir: &Path,
    interrupt: Arc<AtomicBool>,
    observer: &mut dyn Observer,
) -> Result<RunResult, RunError> {
    let started = Instant::now();
    let seed = config.random_seed;
    let mut rng = Rng::new(seed, salt::SEARCH);
    let settings = search_settings(config)?;
    let plain = EvalSettings::plain(config.memory, config.search.max_abs_error);
    let generator = generator(config);
    generator
        .build(config.search.initial_population, &mut Rng::new(0, 0))
        .map_err(|e| RunError(format!("search.initial_population: {e}")))?;
    if config.search.strategy == Strategy::Random {
        generator
            .build(Builtin::Random, &mut Rng::new(0, 0))
            .map_err(|e| RunError(format!("search.strategy: {e}")))?;
    }
    let deadline = config
        .search
        .max_seconds
        .map(|s| started + Duration::from_secs_f64(s));
    let mut search_specs = config.search_tasks.clone();
    let mut select_specs = config.select_tasks.clone();
    let mut best: Option<(Algorithm, f64, f64)> = None; // algorithm, search, select
    let mut experiments = 0u64;
    let (mut individuals, mut train_steps) = (0u64, 0u64);
    let mut fec = FecStats::default();
    let mut hurdle_stops = 0;
    let mut canonical_hits = 0;
    let mut stop_reason;
    loop {
        if config.randomize_task_seeds {
            randomize_seeds(&mut search_specs, rng.next_u64());
        }
        let tasks = build_tasks::<F>(&search_specs, "search_tasks", base_dir)
            .map_err(|e| RunError(e.to_string()))?;
        let evaluator = Evaluator::new(tasks, settings.clone());
        let search_rng = Rng::new(rng.next_u64(), salt::SEARCH);
        let mut search = Search::new(
            &config.search,
            mutator(config),
            generator.clone(),
            evaluator,
            search_rng,
        );
        let limits = Limits {
            max_individuals: config.search.max_individuals,
            max_train_steps: config
                .search
                .max_train_steps
                .map(|m| m.saturating_sub(train_steps)),
            deadline,
            interrupt: interrupt.clone(),
            sufficient_fitness: config
                .search
                .stop_at_sufficient_fitness
                .then_some(config.sufficient_fitness)
                .flatten(),
        };
        observer.message(&format!(
            "Experiment {experiments}: evolving on the search tasks..."
        ));
        let experiment = experiments;
        let reason = match search.init(&limits) {
            Some(r) => r,
            None => search.run(&limits, |s| {
                let (mean, stdev, best) = s.population.stats();
                let elapsed = s.elapsed();
                let stats = s.evaluator.fec_stats();
                observer.progress(&Progress {
                    experiment,
                    individuals: s.individuals,
                    train_steps: s.evaluator.train_steps,
                    elapsed_seconds: started.elapsed().as_secs_f64(),
                    mean,
                    stdev,
                    best,
                    individuals_per_second: s.individuals as f64 / elapsed.max(1e-9),
                    fec_hits: stats.hits,
                    fec_misses: stats.misses,
                    canonical_hits: s.evaluator.canonical_hits,
                });
            }),
        };
        stop_reason = reason;
        let experiment_individuals = search.individuals;
        individuals += search.individuals;
        train_steps += search.evaluator.train_steps;
        let stats = search.evaluator.fec_stats();
        fec.hits += stats.hits;
        fec.misses += stats.misses;
        hurdle_stops += search.stopped_at_hurdles;
        canonical_hits += search.evaluator.canonical_hits;
        let (candidate, search_fitness) = search.candidate();
        drop(search);
        experiments += 1;
        if config.randomize_task_seeds {
            randomize_seeds(&mut select_specs, rng.next_u64());
        }
        let select_seed = rng.next_u64();
        let interrupted = reason == StopReason::Interrupted;
        let select_fitness = if select_specs.is_empty() || interrupted {
            search_fitness
        } else {
            observer.message("Scoring the candidate on the select tasks...");
            score(
                &candidate,
                &select_specs,
                "select_tasks",
                &plain,
                base_dir,
                select_seed,
            )?
            .0
        };
        let best_so_far = best.as_ref().is_none_or(|b| select_fitness >= b.2);
        observer.experiment(
            &ExperimentResult {
                experiment,
                individuals: experiment_individuals,
                search_fitness,
                select_fitness,
                best_so_far,
                stop_reason: reason,
            },
            &candidate,
        );
        if best_so_far {
            best = Some((candidate, search_fitness, select_fitness));
        }
        let best_select = best.as_ref().map_or(f64::MIN, |b| b.2);
        let sufficient = config.sufficient_fitness.is_some_and(|s| best_select > s);
        let out_of_experiments =
            config.max_experiments != 0 && experiments >= config.max_experiments;
        let global_stop = matches!(
            reason,
            StopReason::Interrupted | StopReason::MaxSeconds | StopReason::MaxTrainSteps
        );
        if sufficient || out_of_experiments || global_stop {
            break;
        }
    }
    let (best_algorithm, search_fitness, select_fitness) =
        best.expect("at least one experiment ran");
    let final_seed = rng.next_u64();
    let (final_fitness, final_test_fitness) = if config.final_tasks.is_empty() {
        (None, None)
    } else {
        observer.message("Scoring the best algorithm on the final tasks...");
        let scores = crate::evaluation::test_split::score_with_test(
            &best_algorithm,
            &config.final_tasks,
            "final_tasks",
            &plain,
            base_dir,
            final_seed,
        )
        .map_err(|e| RunError(e.to_string()))?;
        (Some(scores.fitness), scores.test_fitness)
    };
    Ok(RunResult {
        summary: Summary {
            seed,
            experiments,
            individuals,
            train_steps,
            elapsed_seconds: started.elapsed().as_secs_f64(),
            search_fitness,
            select_fitness,
            final_fitness,
            final_test_fitness,
            fec_hits: fec.hits,
            fec_misses: fec.misses,
            canonical_hits,
            hurdle_stops,
            stop_reason: Some(stop_reason),
            interrupted: stop_reason == StopReason::Interrupted,
        },
        best: best_algorithm,
    })
}

/// What one benchmark run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRun {
    /// Individuals evaluated (the initial population included).
    pub individuals: u64,
    /// Training steps, FEC probes included.
    pub train_steps: u64,
    /// Interpreted instructions executed.
    pub instructions: u64,
    /// FEC cache hits.
    pub fec_hits: u64,
    /// FEC cache misses.
    pub fec_misses: u64,
    /// Individuals answered by the canonical-program cache.
    pub canonical_hits: u64,
    /// Wall-clock seconds of the search (task generation excluded).
    pub seconds: f64,
}

/// Runs one search experiment of exactly `individuals` individuals from `seed` on the config's
/// search tasks, for measuring speed: no selection, no final scoring, no early stop.
pub fn bench(
    config: &Config,
    base_dir: &Path,
    individuals: u64,
    seed: u64,
) -> Result<BenchRun, RunError> {
    let features = config.search_tasks[0].features_size;
    with_features!(features, F => bench_for::<F>(config, base_dir, individuals, seed),
        _ => Err(RunError(format!("search_tasks[0].features_size: {features} is not one of {FEATURE_SIZES:?}"))))
}

fn bench_for<const F: usize>(
    config: &Config,
    base_dir: &Path,
    individuals: u64,
    seed: u64,
) -> Result<BenchRun, RunError> {
    let settings = search_settings(config)?;
    let generator = generator(config);
    generator
        .build(config.search.initial_population, &mut Rng::new(0, 0))
        .map_err(|e| RunError(format!("search.initial_population: {e}")))?;
    let tasks = build_tasks::<F>(&config.search_tasks, "search_tasks", base_dir)
        .map_err(|e| RunError(e.to_string()))?;
    let evaluator = Evaluator::new(tasks, settings);
    let rng = Rng::new(seed, salt::SEARCH);
    let started = Instant::now();
    let mut search = Search::new(&config.search, mutator(config), generator, evaluator, rng);
    let limits = Limits {
        max_individuals: Some(individuals),
        max_train_steps: None,
        deadline: None,
        interrupt: Arc::new(AtomicBool::new(false)),
        sufficient_fitness: None,
    };
    if search.init(&limits).is_none() {
        search.run(&limits, |_| {});
    }
    let seconds = started.elapsed().as_secs_f64();
    let fec = search.evaluator.fec_stats();
    Ok(BenchRun {
        individuals: search.individuals,
        train_steps: search.evaluator.train_steps,
        instructions: search.evaluator.instructions,
        fec_hits: fec.hits,
        fec_misses: fec.misses,
        canonical_hits: search.evaluator.canonical_hits,
        seconds,
    })
}
