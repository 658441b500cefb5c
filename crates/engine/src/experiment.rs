//! The experiment driver (SPEC 11.3): search on T_search, select on T_select, score on T_final.

use crate::builtins::{Builtin, Generator, Start};
use crate::config::{Config, InitialPopulation, Strategy};
use crate::evaluation::test_split::SplitMetrics;
use crate::evaluation::{Cost, EvalSettings, Evaluator, FecStats, TrainBudget, Workers};
use crate::evolution::{IslandProgress, Limits, Progress, Search, SearchState, StopReason};
use crate::interpreter::FEATURE_SIZES;
use crate::mutation::Mutator;
use crate::program::{Algorithm, parse_file};
use crate::rng::{Rng, salt};
use crate::rounds::{Rounds, drive};
use crate::tasks::{Task, TaskSpec, build_tasks, randomize_seeds, split_warnings};
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
    /// Metrics in the data's units of the chosen algorithm on the final tasks' validation and
    /// test rows (absent when there are no final tasks).
    #[serde(default)]
    pub final_metrics: Option<SplitMetrics>,
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

impl Summary {
    /// The summary with its wall-clock time zeroed: what the config and seed alone decide.
    pub fn timeless(&self) -> Summary {
        Summary {
            elapsed_seconds: 0.0,
            ..self.clone()
        }
    }
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

/// Receives what a run reports as it goes (from a worker thread, hence `Send`).
pub trait Observer: Send {
    /// A progress report of the current search.
    fn progress(&mut self, _progress: &Progress) {}
    /// An experiment finished.
    fn experiment(&mut self, _result: &ExperimentResult, _candidate: &Algorithm) {}
    /// A message for the person watching (the stage the run is in).
    fn message(&mut self, _text: &str) {}
    /// A checkpoint is due: the state to keep (the run goes on after this returns).
    fn checkpoint(&mut self, _config: &Config, _state: &RunState) {}
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

/// Checks that every search task has the examples the FEC probe trains and validates on
/// (SPEC 5.2).
pub(crate) fn check_fec_fits<const F: usize>(
    tasks: &[Task<F>],
    settings: &EvalSettings,
) -> Result<(), RunError> {
    let Some(fec) = &settings.fec else {
        return Ok(());
    };
    for task in tasks {
        let (train, valid) = (task.max_train_examples(), task.valid_steps());
        if fec.num_train_examples > train || fec.num_valid_examples > valid {
            return Err(RunError(format!(
                "search.fec: the probe trains on {} and validates on {} examples, but search task {} \
                 has {train} training steps (examples × epochs) and {valid} validation examples",
                fec.num_train_examples, fec.num_valid_examples, task.index
            )));
        }
    }
    Ok(())
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

pub(crate) fn generator(config: &Config) -> Generator {
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

pub(crate) fn mutator(config: &Config) -> Mutator {
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

/// How a run uses the machine and learns that it must stop.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// The worker threads evaluations are spread over.
    pub workers: Workers,
    /// Set (by Ctrl-C, say) to stop as soon as possible with a checkpoint.
    pub interrupt: Arc<AtomicBool>,
}

/// The best candidate of the experiments so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Its search fitness.
    pub search_fitness: f64,
    /// Its select fitness.
    pub select_fitness: f64,
}

/// A run's whole state between two rounds of a search, as a checkpoint holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    /// The run's own stream (task seeds and experiment seeds).
    pub rng: Rng,
    /// Experiments finished.
    pub experiments: u64,
    /// Individuals of the finished experiments.
    pub individuals: u64,
    /// Training steps of the finished experiments.
    pub train_steps: u64,
    /// FEC counts of the finished experiments.
    pub fec: FecStats,
    /// Hurdle stops of the finished experiments.
    pub hurdle_stops: u64,
    /// Canonical-cache hits of the finished experiments.
    pub canonical_hits: u64,
    /// The best candidate so far.
    pub best: Option<Candidate>,
    /// The search tasks of the current experiment (seeds drawn).
    pub search_specs: Vec<TaskSpec>,
    /// The select tasks as drawn so far.
    pub select_specs: Vec<TaskSpec>,
    /// The current experiment's search.
    pub search: SearchState,
    /// Wall-clock seconds of the run so far.
    pub elapsed_seconds: f64,
    /// Progress reports made so far (lines of progress.jsonl).
    pub progress_reports: u64,
    /// The experiment and the best fitness reported in it so far.
    pub last_best: Option<(u64, f64)>,
    /// The experiment and individual count of the last progress report.
    #[serde(default)]
    pub reported_at: Option<(u64, u64)>,
    /// Finished experiments whose search stopped on the sufficient fitness (`None` in
    /// checkpoints of earlier versions, which did not count them).
    #[serde(default)]
    pub sufficient_stops: Option<u64>,
}

/// Runs the whole protocol of a config: experiments until a stop condition, then the final
/// score. With `resume`, carries on from a checkpoint's state instead of starting afresh.
pub fn run(
    config: &Config,
    base_dir: &Path,
    options: RunOptions,
    observer: &mut dyn Observer,
    resume: Option<RunState>,
) -> Result<RunResult, RunError> {
    run_with(config, base_dir, options, observer, resume, None)
}

/// As [`run`], with the searches of several islands played round by round on `rounds` (on
/// other processes) when given: the same result, whoever runs the rounds.
pub fn run_with(
    config: &Config,
    base_dir: &Path,
    options: RunOptions,
    observer: &mut dyn Observer,
    resume: Option<RunState>,
    rounds: Option<&mut dyn Rounds>,
) -> Result<RunResult, RunError> {
    let features = config.search_tasks[0].features_size;
    with_features!(features, F => run_for::<F>(config, base_dir, options, observer, resume, rounds),
        _ => Err(RunError(format!("search_tasks[0].features_size: {features} is not one of {FEATURE_SIZES:?}"))))
}

/// What a config's population starts from: its built-in, or the program of its file (a path
/// under `base_dir`) read and checked against the memory sizes; checked to build.
pub fn initial_start(
    config: &Config,
    base_dir: &Path,
    generator: &Generator,
) -> Result<Start, RunError> {
    let error = |e: &dyn std::fmt::Display| RunError(format!("search.initial_population: {e}"));
    let start = match &config.search.initial_population {
        InitialPopulation::Builtin(which) => Start::Builtin(*which),
        InitialPopulation::File { file } => {
            let program =
                parse_file(&base_dir.join(file), &config.memory).map_err(|e| error(&e))?;
            Start::Program(program)
        }
    };
    generator
        .start(&start, &mut Rng::new(0, 0))
        .map_err(|e| error(&e))?;
    if config.search.strategy == Strategy::Random {
        generator
            .build(Builtin::Random, &mut Rng::new(0, 0))
            .map_err(|e| RunError(format!("search.strategy: {e}")))?;
    }
    Ok(start)
}

/// What a run keeps at hand for every experiment.
struct Ctx<'a> {
    config: &'a Config,
    base_dir: &'a Path,
    options: RunOptions,
    settings: EvalSettings,
    plain: EvalSettings,
    generator: Generator,
    start: Start,
    deadline: Option<Instant>,
}

/// The run-level state the driver carries from experiment to experiment.
#[derive(Clone)]
struct Driver {
    rng: Rng,
    experiments: u64,
    individuals: u64,
    train_steps: u64,
    fec: FecStats,
    hurdle_stops: u64,
    canonical_hits: u64,
    best: Option<Candidate>,
    search_specs: Vec<TaskSpec>,
    select_specs: Vec<TaskSpec>,
    progress_reports: u64,
    last_best: Option<(u64, f64)>,
    reported_at: Option<(u64, u64)>,
    sufficient_stops: Option<u64>,
    started: Instant,
}

/// A search that has stopped, with what the run's last checkpoint needs.
struct Searched<'a, const F: usize> {
    search: Search<'a, F>,
    reason: StopReason,
    /// The driver as the search stopped, before the experiment was counted.
    mark: Driver,
    /// The run's state before a last round that `max_individuals` cut short.
    before_cut: Option<RunState>,
}

impl<const F: usize> Searched<'_, F> {
    /// The state a run that ends here is carried on from (with larger limits, or after being
    /// killed before it wrote its summary): as the search stopped, before its experiment was
    /// counted and its candidate selected, so that those are done again under the new limits.
    /// A last round cut short by `max_individuals` is not in it: the search plays that round
    /// again, whole under a larger limit, as a run started with that limit would.
    fn final_state(self) -> RunState {
        let elapsed = self.mark.started.elapsed().as_secs_f64();
        let mut state = self
            .before_cut
            .unwrap_or_else(|| self.mark.snapshot(&self.search));
        state.elapsed_seconds = elapsed;
        state
    }
}

/// Whether `max_individuals` cuts the search's next round short.
fn cut_ahead<const F: usize>(search: &Search<F>, limits: &Limits) -> bool {
    limits.max_individuals.is_some_and(|m| {
        let left = m.saturating_sub(search.individuals);
        left > 0 && left < search.round_size()
    })
}

impl Driver {
    /// The driver of a new run, or of one carried on from a checkpoint's state.
    fn new(config: &Config, started: Instant, resume: Option<&mut RunState>) -> Driver {
        let Some(r) = resume else {
            return Driver {
                rng: Rng::new(config.random_seed, salt::SEARCH),
                experiments: 0,
                individuals: 0,
                train_steps: 0,
                fec: FecStats::default(),
                hurdle_stops: 0,
                canonical_hits: 0,
                best: None,
                search_specs: config.search_tasks.clone(),
                select_specs: config.select_tasks.clone(),
                progress_reports: 0,
                last_best: None,
                reported_at: None,
                sufficient_stops: Some(0),
                started,
            };
        };
        Driver {
            rng: r.rng.clone(),
            experiments: r.experiments,
            individuals: r.individuals,
            train_steps: r.train_steps,
            fec: r.fec,
            hurdle_stops: r.hurdle_stops,
            canonical_hits: r.canonical_hits,
            best: r.best.take(),
            search_specs: std::mem::take(&mut r.search_specs),
            select_specs: std::mem::take(&mut r.select_specs),
            progress_reports: r.progress_reports,
            last_best: r.last_best.take(),
            reported_at: r.reported_at,
            sufficient_stops: r.sufficient_stops,
            started,
        }
    }

    /// The run's state with this search in progress, for a checkpoint.
    fn snapshot<const F: usize>(&self, search: &Search<F>) -> RunState {
        RunState {
            rng: self.rng.clone(),
            experiments: self.experiments,
            individuals: self.individuals,
            train_steps: self.train_steps,
            fec: self.fec,
            hurdle_stops: self.hurdle_stops,
            canonical_hits: self.canonical_hits,
            best: self.best.clone(),
            search_specs: self.search_specs.clone(),
            select_specs: self.select_specs.clone(),
            search: search.state(),
            elapsed_seconds: self.started.elapsed().as_secs_f64(),
            progress_reports: self.progress_reports,
            last_best: self.last_best,
            reported_at: self.reported_at,
            sufficient_stops: self.sufficient_stops,
        }
    }

    /// Reports the search's progress.
    fn report<const F: usize>(&mut self, s: &Search<F>, observer: &mut dyn Observer) {
        if self.reported_at == Some((self.experiments, s.individuals)) {
            return;
        }
        self.reported_at = Some((self.experiments, s.individuals));
        let (mean, stdev, best) = s.stats();
        let stats = s.fec_stats();
        // A new best program: better than any reported before in this experiment.
        let best_changed = match self.last_best {
            Some((e, record)) if e == self.experiments => best > record,
            _ => true,
        };
        if best_changed {
            self.last_best = Some((self.experiments, best));
        }
        self.progress_reports += 1;
        let islands = if s.islands.len() > 1 {
            s.islands
                .iter()
                .map(|i| {
                    let (mean, stdev, best) = i.population.stats();
                    IslandProgress { mean, stdev, best }
                })
                .collect()
        } else {
            Vec::new()
        };
        observer.progress(&Progress {
            experiment: self.experiments,
            individuals: s.individuals,
            train_steps: s.train_steps(),
            elapsed_seconds: self.started.elapsed().as_secs_f64(),
            mean,
            stdev,
            best,
            individuals_per_second: s.individuals_per_second(),
            fec_hits: stats.hits,
            fec_misses: stats.misses,
            canonical_hits: s.canonical_hits(),
            islands,
            best_changed,
        });
    }

    /// The current experiment's search: the one restored from a checkpoint, or a new one on
    /// fresh task seeds.
    fn begin<'a, const F: usize>(
        &mut self,
        ctx: &Ctx<'a>,
        restored: Option<SearchState>,
        observer: &mut dyn Observer,
    ) -> Result<Search<'a, F>, RunError> {
        if restored.is_none() && ctx.config.randomize_task_seeds {
            randomize_seeds(&mut self.search_specs, self.rng.next_u64());
        }
        let tasks = build_tasks::<F>(&self.search_specs, "search_tasks", ctx.base_dir)
            .map_err(|e| RunError(e.to_string()))?;
        check_fec_fits(&tasks, &ctx.settings)?;
        if self.experiments == 0 && restored.is_none() {
            for warning in split_warnings(&tasks, "search_tasks") {
                observer.message(&format!("warning: {warning}"));
            }
        }
        let workers = ctx.options.workers.clone();
        let evaluator = Evaluator::with_workers(tasks, ctx.settings.clone(), workers);
        let search_rng = match restored {
            None => Rng::new(self.rng.next_u64(), salt::SEARCH),
            Some(_) => Rng::new(0, 0),
        };
        let config = ctx.config;
        let mut search = Search::new(
            &config.search,
            mutator(config),
            ctx.generator.clone(),
            ctx.start.clone(),
            evaluator,
            search_rng,
        );
        search.set_workers(ctx.options.workers.clone());
        if let Some(state) = restored {
            search.restore(state).map_err(RunError)?;
        }
        Ok(search)
    }

    /// The limits of the current search.
    fn limits(&self, ctx: &Ctx) -> Limits {
        let s = &ctx.config.search;
        Limits {
            max_individuals: s.max_individuals,
            max_train_steps: s
                .max_train_steps
                .map(|m| m.saturating_sub(self.train_steps)),
            deadline: ctx.deadline,
            interrupt: ctx.options.interrupt.clone(),
            sufficient_fitness: s
                .stop_at_sufficient_fitness
                .then_some(ctx.config.sufficient_fitness)
                .flatten(),
        }
    }

    /// Runs the current experiment's search until it stops, reporting and checkpointing as it
    /// goes.
    fn search<'a, const F: usize>(
        &mut self,
        ctx: &Ctx<'a>,
        restored: Option<SearchState>,
        observer: &mut dyn Observer,
    ) -> Result<Searched<'a, F>, RunError> {
        let resumed = restored.is_some();
        let mut search = self.begin::<F>(ctx, restored, observer)?;
        let limits = self.limits(ctx);
        let experiment = self.experiments;
        observer.message(&starting(
            experiment,
            resumed.then_some(search.individuals),
            "",
        ));
        let (config, every) = (ctx.config, ctx.config.search.progress_every);
        let mut next_report = (search.individuals / every + 1) * every;
        let mut last_checkpoint = Instant::now();
        let mut before_cut = cut_ahead(&search, &limits).then(|| self.snapshot(&search));
        let workers = ctx.options.workers.clone();
        let reason = workers.install(|| {
            search.run(&limits, |s| {
                if s.individuals >= next_report && s.filled() {
                    self.report(s, observer);
                    next_report = (s.individuals / every + 1) * every;
                }
                let due = config.checkpoint_every_seconds;
                if due > 0.0 && last_checkpoint.elapsed().as_secs_f64() >= due {
                    observer.checkpoint(config, &self.snapshot(s));
                    last_checkpoint = Instant::now();
                }
                // Kept (once per experiment at most) for the run's last checkpoint.
                if cut_ahead(s, &limits) {
                    before_cut = Some(self.snapshot(s));
                }
            })
        });
        let mark = self.clone();
        if reason == StopReason::Interrupted {
            observer.checkpoint(config, &self.snapshot(&search));
        }
        self.report(&search, observer);
        Ok(Searched {
            search,
            reason,
            mark,
            before_cut,
        })
    }

    /// As [`Driver::search`], with the islands' rounds played on `rounds`: reports and
    /// checkpoints come at the rounds' ends, and the run's state is kept there too.
    fn search_rounds<'a, const F: usize>(
        &mut self,
        ctx: &Ctx<'a>,
        restored: Option<SearchState>,
        observer: &mut dyn Observer,
        rounds: &mut dyn Rounds,
    ) -> Result<Searched<'a, F>, RunError> {
        let resumed = restored.is_some();
        let mut search = self.begin::<F>(ctx, restored, observer)?;
        let limits = self.limits(ctx);
        let experiment = self.experiments;
        observer.message(&starting(
            experiment,
            resumed.then_some(search.individuals),
            " (in rounds)",
        ));
        rounds.begin(experiment, &self.search_specs, &self.snapshot(&search))?;
        let (config, every) = (ctx.config, ctx.config.search.progress_every);
        let mut next_report = (search.individuals / every + 1) * every;
        let mut last_checkpoint = Instant::now();
        let state = search.state();
        let (state, reason) = drive(&config.search, state, &limits, rounds, |s| {
            search.advance_to(s.clone()).map_err(RunError)?;
            if search.individuals >= next_report && search.filled() {
                self.report(&search, observer);
                next_report = (search.individuals / every + 1) * every;
            }
            let due = config.checkpoint_every_seconds;
            let run = self.snapshot(&search);
            if due > 0.0 && last_checkpoint.elapsed().as_secs_f64() >= due {
                observer.checkpoint(config, &run);
                last_checkpoint = Instant::now();
            }
            Ok(run)
        })?;
        search.advance_to(state).map_err(RunError)?;
        let mark = self.clone();
        if reason == StopReason::Interrupted {
            observer.checkpoint(config, &self.snapshot(&search));
        }
        self.report(&search, observer);
        Ok(Searched {
            search,
            reason,
            mark,
            before_cut: None,
        })
    }

    /// Adds a stopped search's figures to the run's.
    fn count<const F: usize>(&mut self, search: &Search<F>, reason: StopReason) {
        self.experiments += 1;
        self.individuals += search.individuals;
        self.train_steps += search.train_steps();
        let stats = search.fec_stats();
        self.fec.hits += stats.hits;
        self.fec.misses += stats.misses;
        self.hurdle_stops += search.stopped_at_hurdles;
        self.canonical_hits += search.canonical_hits();
        if reason == StopReason::SufficientFitness {
            self.sufficient_stops = self.sufficient_stops.map(|n| n + 1);
        }
    }

    /// The candidate's select fitness, on select tasks of fresh seeds (its search fitness
    /// when there are none). An interrupted search's candidate is scored too: its checkpoint
    /// was written before these draws, so a resumed run is not affected.
    fn select(
        &mut self,
        ctx: &Ctx,
        candidate: &Algorithm,
        search_fitness: f64,
        observer: &mut dyn Observer,
    ) -> Result<f64, RunError> {
        if ctx.config.randomize_task_seeds {
            randomize_seeds(&mut self.select_specs, self.rng.next_u64());
        }
        let seed = self.rng.next_u64();
        if self.select_specs.is_empty() {
            return Ok(search_fitness);
        }
        observer.message("Scoring the candidate on the select tasks...");
        let specs = &self.select_specs;
        Ok(score(
            candidate,
            specs,
            "select_tasks",
            &ctx.plain,
            ctx.base_dir,
            seed,
        )?
        .0)
    }

    /// Whether the run ends after the experiment just counted, whose search stopped for
    /// `reason`.
    fn ends(&self, config: &Config, reason: StopReason) -> bool {
        let best_select = self.best.as_ref().map_or(f64::MIN, |b| b.select_fitness);
        let sufficient = config.sufficient_fitness.is_some_and(|s| best_select > s);
        let out_of_experiments =
            config.max_experiments != 0 && self.experiments >= config.max_experiments;
        let global_stop = matches!(
            reason,
            StopReason::Interrupted | StopReason::MaxSeconds | StopReason::MaxTrainSteps
        );
        sufficient || out_of_experiments || global_stop
    }

    /// Scores the best candidate on the final tasks: the run's result.
    fn finish(
        mut self,
        ctx: &Ctx,
        stop_reason: StopReason,
        observer: &mut dyn Observer,
    ) -> Result<RunResult, RunError> {
        let Candidate {
            algorithm: best,
            search_fitness,
            select_fitness,
        } = self.best.take().expect("at least one experiment ran");
        let final_seed = self.rng.next_u64();
        let (final_fitness, final_test_fitness, final_metrics) =
            if ctx.config.final_tasks.is_empty() {
                (None, None, None)
            } else {
                observer.message("Scoring the best algorithm on the final tasks...");
                let scores = crate::evaluation::test_split::score_with_test(
                    &best,
                    &ctx.config.final_tasks,
                    "final_tasks",
                    &ctx.plain,
                    ctx.base_dir,
                    final_seed,
                )
                .map_err(|e| RunError(e.to_string()))?;
                (
                    Some(scores.fitness),
                    scores.test_fitness,
                    Some(scores.metrics),
                )
            };
        let summary = Summary {
            seed: ctx.config.random_seed,
            experiments: self.experiments,
            individuals: self.individuals,
            train_steps: self.train_steps,
            elapsed_seconds: self.started.elapsed().as_secs_f64(),
            search_fitness,
            select_fitness,
            final_fitness,
            final_test_fitness,
            final_metrics,
            fec_hits: self.fec.hits,
            fec_misses: self.fec.misses,
            canonical_hits: self.canonical_hits,
            hurdle_stops: self.hurdle_stops,
            stop_reason: Some(stop_reason),
            interrupted: stop_reason == StopReason::Interrupted,
        };
        Ok(RunResult { summary, best })
    }
}

fn run_for<const F: usize>(
    config: &Config,
    base_dir: &Path,
    options: RunOptions,
    observer: &mut dyn Observer,
    mut resume: Option<RunState>,
    mut rounds: Option<&mut dyn Rounds>,
) -> Result<RunResult, RunError> {
    let elapsed_before = resume.as_ref().map_or(0.0, |r| r.elapsed_seconds);
    let started = Duration::try_from_secs_f64(elapsed_before)
        .ok()
        .and_then(|d| Instant::now().checked_sub(d))
        .unwrap_or_else(Instant::now);
    let generator = generator(config);
    let start = initial_start(config, base_dir, &generator)?;
    let ctx = Ctx {
        config,
        base_dir,
        options,
        settings: search_settings(config)?,
        plain: EvalSettings::plain(config.memory, config.search.max_abs_error),
        generator,
        start,
        deadline: config
            .search
            .max_seconds
            .and_then(|s| started.checked_add(Duration::try_from_secs_f64(s).ok()?)),
    };
    let mut d = Driver::new(config, started, resume.as_mut());
    loop {
        let restored = resume.take().map(|r| r.search);
        let searched = match rounds.as_deref_mut() {
            Some(r) if config.search.islands > 1 => {
                d.search_rounds::<F>(&ctx, restored, observer, r)?
            }
            _ => d.search::<F>(&ctx, restored, observer)?,
        };
        let (experiment, reason) = (d.experiments, searched.reason);
        d.count(&searched.search, reason);
        let (candidate, search_fitness) = searched.search.candidate();
        let select_fitness = d.select(&ctx, &candidate, search_fitness, observer)?;
        let best_so_far = d
            .best
            .as_ref()
            .is_none_or(|b| select_fitness >= b.select_fitness);
        let result = ExperimentResult {
            experiment,
            individuals: searched.search.individuals,
            search_fitness,
            select_fitness,
            best_so_far,
            stop_reason: reason,
        };
        observer.experiment(&result, &candidate);
        if best_so_far {
            d.best = Some(Candidate {
                algorithm: candidate,
                search_fitness,
                select_fitness,
            });
        }
        if d.ends(config, reason) {
            // An interrupted run's checkpoint is written as it stops.
            if reason != StopReason::Interrupted {
                observer.checkpoint(config, &searched.final_state());
            }
            return d.finish(&ctx, reason, observer);
        }
    }
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
    workers: &Workers,
) -> Result<BenchRun, RunError> {
    let features = config.search_tasks[0].features_size;
    with_features!(features, F => bench_for::<F>(config, base_dir, individuals, seed, workers),
        _ => Err(RunError(format!("search_tasks[0].features_size: {features} is not one of {FEATURE_SIZES:?}"))))
}

fn bench_for<const F: usize>(
    config: &Config,
    base_dir: &Path,
    individuals: u64,
    seed: u64,
    workers: &Workers,
) -> Result<BenchRun, RunError> {
    let settings = search_settings(config)?;
    let generator = generator(config);
    let start = initial_start(config, base_dir, &generator)?;
    let tasks = build_tasks::<F>(&config.search_tasks, "search_tasks", base_dir)
        .map_err(|e| RunError(e.to_string()))?;
    check_fec_fits(&tasks, &settings)?;
    let evaluator = Evaluator::with_workers(tasks, settings, workers.clone());
    let rng = Rng::new(seed, salt::SEARCH);
    let started = Instant::now();
    let mutator = mutator(config);
    let mut search = Search::new(&config.search, mutator, generator, start, evaluator, rng);
    search.set_workers(workers.clone());
    let limits = Limits {
        max_individuals: Some(individuals),
        max_train_steps: None,
        deadline: None,
        interrupt: Arc::new(AtomicBool::new(false)),
        sufficient_fitness: None,
    };
    workers.install(|| search.run(&limits, |_| {}));
    let seconds = started.elapsed().as_secs_f64();
    let fec = search.fec_stats();
    Ok(BenchRun {
        individuals: search.individuals,
        train_steps: search.train_steps(),
        instructions: search.instructions(),
        fec_hits: fec.hits,
        fec_misses: fec.misses,
        canonical_hits: search.canonical_hits(),
        seconds,
    })
}

/// The line that starts (or, after `resumed_after` individuals, resumes) an experiment's search.
fn starting(experiment: u64, resumed_after: Option<u64>, how: &str) -> String {
    match resumed_after {
        Some(n) => format!("Experiment {experiment}: resuming the search after {n} individuals..."),
        None => format!("Experiment {experiment}: evolving on the search tasks{how}..."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small config of the demo: 20 individuals, two tiny tasks.
    fn small() -> Config {
        let overrides = [
            "search.population_size=20".to_string(),
            "search.tournament_size=5".to_string(),
            "search_tasks=[{kind=\"scalar_linear_regression\", features_size=4, num_train_examples=10, num_valid_examples=10, num_tasks=2, eval_type=\"rms_error\"}]".to_string(),
        ];
        let demo = Config::shipped("demo").expect("the demo ships");
        Config::from_text(demo, "demo", &overrides).unwrap()
    }

    fn search_of(config: &Config) -> Search<'_, 4> {
        let tasks = build_tasks::<4>(&config.search_tasks, "search_tasks", Path::new(".")).unwrap();
        let evaluator = Evaluator::new(tasks, search_settings(config).unwrap());
        let start = initial_start(config, Path::new("."), &generator(config)).unwrap();
        Search::new(
            &config.search,
            mutator(config),
            generator(config),
            start,
            evaluator,
            Rng::new(1, salt::SEARCH),
        )
    }

    fn limits(sufficient_fitness: Option<f64>) -> Limits {
        Limits {
            max_individuals: Some(1000),
            max_train_steps: None,
            deadline: None,
            interrupt: Arc::new(AtomicBool::new(false)),
            sufficient_fitness,
        }
    }

    #[test]
    fn a_search_restored_after_its_sufficient_round_stops_there_again() {
        let config = small();
        let mut first = search_of(&config);
        let mut states = Vec::new();
        let reason = first.run(&limits(Some(0.0)), |s| states.push(s.state()));
        assert_eq!(reason, StopReason::SufficientFitness);
        // Checkpoints are taken after a round, before the search decides to stop.
        let last = states.pop().unwrap();
        assert_eq!(last.individuals, first.individuals);
        let mut restored = search_of(&config);
        restored.restore(last.clone()).unwrap();
        let reason = restored.run(&limits(Some(0.0)), |_| panic!("no round is run"));
        assert_eq!(reason, StopReason::SufficientFitness);
        // Under a higher sufficient fitness, the restored search goes on, as one started with
        // it would have.
        let mut higher = search_of(&config);
        higher.restore(last).unwrap();
        assert_eq!(
            higher.run(&limits(Some(0.999_999)), |_| {}),
            StopReason::MaxIndividuals
        );
        let mut whole = search_of(&config);
        assert_eq!(
            whole.run(&limits(Some(0.999_999)), |_| {}),
            StopReason::MaxIndividuals
        );
        assert_eq!(
            higher.state().islands[0].population.fitnesses,
            whole.state().islands[0].population.fitnesses
        );
    }

    #[test]
    fn a_resumed_search_counts_its_speed_from_the_resume() {
        let config = small();
        let make = || search_of(&config);
        let mut first = make();
        for _ in 0..8 {
            first.round(u64::MAX);
        }
        assert_eq!(first.individuals, 40);
        assert!(first.individuals_per_second() > 0.0);
        let mut resumed = make();
        resumed.restore(first.state()).unwrap();
        assert_eq!(resumed.individuals, 40);
        // None evaluated since the resume: the 40 before it do not count.
        assert_eq!(resumed.individuals_per_second(), 0.0);
        resumed.round(u64::MAX);
        assert_eq!(resumed.individuals, 45);
        let elapsed = resumed.elapsed();
        let rate = resumed.individuals_per_second();
        // 5 individuals over at least `elapsed` seconds (not 45).
        assert!(rate > 0.0 && rate <= 5.0 / elapsed, "{rate}");
    }
}
