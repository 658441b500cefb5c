//! The experiment driver and the search loop (SPEC 10, 11): stop conditions, interruption,
//! reproducibility, random search, hurdles, and repeated experiments.

use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::EvalSettings;
use automl_zero_engine::evolution::{Progress, StopReason};
use automl_zero_engine::experiment::{
    ExperimentResult, Observer, RunOptions, RunResult, Silent, run, score,
};
use automl_zero_engine::program::Algorithm;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Search tasks: 4 tasks of 10 training examples, so one individual trains at most 40 steps.
const SEARCH_TASKS: u64 = 4;
const TRAIN_EXAMPLES: u64 = 10;
const MAX_STEPS_PER_INDIVIDUAL: u64 = SEARCH_TASKS * TRAIN_EXAMPLES;
const POPULATION: u64 = 20;
/// Children per round (the default batch: a quarter of the population).
const BATCH: u64 = POPULATION / 4;

/// The demo config made small: P = 20, T = 5, tiny tasks, no stop condition (tests add one).
const SMALL: &str = r#"
random_seed = 7
max_experiments = 1

[memory]
scalars = 4
vectors = 3
matrices = 1

[search]
population_size = 20
tournament_size = 5
initial_population = "random"
mutate_prob = 0.9
mutations = ["alter_param", "randomize_instruction", "randomize_component_function"]
fitness_combination = "mean"
max_abs_error = 100.0
progress_every = 100
setup = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 4 }
predict = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 2 }
learn = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 4 }

[[search_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 10
num_valid_examples = 10
num_tasks = 4
eval_type = "rms_error"

[[select_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 20
num_valid_examples = 10
num_tasks = 3
eval_type = "rms_error"

[[final_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 20
num_valid_examples = 10
num_tasks = 3
eval_type = "rms_error"
data_seeds = [1_000_000]
param_seeds = [2_000_000]
"#;

fn config(overrides: &[&str]) -> Config {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::from_text(SMALL, "small.toml", &overrides).unwrap_or_else(|e| panic!("{e}"))
}

fn options(interrupt: Arc<AtomicBool>) -> RunOptions {
    RunOptions {
        interrupt,
        ..RunOptions::default()
    }
}

fn run_silent(config: &Config) -> RunResult {
    run(
        config,
        Path::new("."),
        RunOptions::default(),
        &mut Silent,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// An observer that keeps everything it is told.
#[derive(Default)]
struct Recorder {
    progress: Vec<Progress>,
    experiments: Vec<ExperimentResult>,
}

impl Observer for Recorder {
    fn progress(&mut self, p: &Progress) {
        self.progress.push(p.clone());
    }
    fn experiment(&mut self, r: &ExperimentResult, _candidate: &Algorithm) {
        self.experiments.push(r.clone());
    }
}

fn run_recorded(config: &Config) -> (RunResult, Recorder) {
    let mut recorder = Recorder::default();
    let result = run(
        config,
        Path::new("."),
        RunOptions::default(),
        &mut recorder,
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (result, recorder)
}

fn assert_valid_best(config: &Config, best: &Algorithm) {
    best.check(&config.memory).unwrap();
    let s = &config.search;
    assert_eq!(
        [best.setup.len(), best.predict.len(), best.learn.len()],
        [s.setup.size_init, s.predict.size_init, s.learn.size_init],
        "{best}"
    );
}

#[test]
fn max_individuals_stops_at_exactly_the_limit() {
    // Rounds of 10 children: reports fall exactly on the multiples of progress_every.
    let c = config(&["search.max_individuals=300", "search.batch_size=10"]);
    let (r, rec) = run_recorded(&c);
    let s = &r.summary;
    assert_eq!(s.individuals, 300);
    assert_eq!(s.experiments, 1);
    assert_eq!(s.stop_reason, Some(StopReason::MaxIndividuals));
    assert!(!s.interrupted);
    assert_eq!(s.seed, 7);
    assert!(s.final_fitness.is_some());
    assert!(s.train_steps > 0);
    assert_valid_best(&c, &r.best);
    // Progress: every progress_every individuals, at the end of the round that reaches it.
    let at: Vec<u64> = rec.progress.iter().map(|p| p.individuals).collect();
    assert_eq!(at, vec![100, 200, 300]);
    assert_eq!(rec.experiments.len(), 1);
    assert_eq!(rec.experiments[0].individuals, 300);
    // The candidate is the best of the final population (SPEC 11.3 step 6).
    let last = rec.progress.last().unwrap();
    assert_eq!(s.search_fitness, last.best);
    assert_eq!(rec.experiments[0].search_fitness, s.search_fitness);
    assert_eq!(rec.experiments[0].select_fitness, s.select_fitness);
}

#[test]
fn max_individuals_not_a_multiple_of_the_population_is_exact_too() {
    for limit in [7, 33, 101] {
        let c = config(&[&format!("search.max_individuals={limit}")]);
        let r = run_silent(&c);
        assert_eq!(r.summary.individuals, limit);
        assert_eq!(r.summary.stop_reason, Some(StopReason::MaxIndividuals));
        assert_valid_best(&c, &r.best);
    }
}

#[test]
fn max_train_steps_stops_just_past_the_limit() {
    for limit in [3_000u64, 10_001] {
        let c = config(&[&format!("search.max_train_steps={limit}")]);
        let r = run_silent(&c);
        let s = &r.summary;
        assert_eq!(s.stop_reason, Some(StopReason::MaxTrainSteps));
        assert!(s.train_steps >= limit, "{} < {limit}", s.train_steps);
        // Checked after every round: the last one adds at most one round's steps.
        assert!(
            s.train_steps < limit + BATCH * MAX_STEPS_PER_INDIVIDUAL,
            "{} steps for a limit of {limit}",
            s.train_steps
        );
        assert!(s.individuals > POPULATION, "{}", s.individuals);
        assert_valid_best(&c, &r.best);
    }
}

#[test]
fn max_train_steps_spans_experiments() {
    // Experiments repeat (max_experiments = 0, sufficient fitness out of reach) until the
    // run's training steps are used up.
    let limit = 8_000u64;
    let c = config(&[
        "max_experiments=0",
        "sufficient_fitness=0.99999999",
        "search.max_individuals=60",
        &format!("search.max_train_steps={limit}"),
    ]);
    let (r, rec) = run_recorded(&c);
    let s = &r.summary;
    assert_eq!(s.stop_reason, Some(StopReason::MaxTrainSteps));
    assert!(s.experiments >= 2, "{}", s.experiments);
    assert_eq!(rec.experiments.len() as u64, s.experiments);
    assert!(s.train_steps >= limit && s.train_steps < limit + BATCH * MAX_STEPS_PER_INDIVIDUAL);
    let sum: u64 = rec.experiments.iter().map(|e| e.individuals).sum();
    assert_eq!(sum, s.individuals);
    for e in &rec.experiments[..rec.experiments.len() - 1] {
        assert_eq!(e.individuals, 60);
        assert_eq!(e.stop_reason, StopReason::MaxIndividuals);
    }
}

#[test]
fn max_seconds_stops_on_time() {
    let c = config(&["search.max_seconds=0.5"]);
    let started = Instant::now();
    let r = run_silent(&c);
    let wall = started.elapsed().as_secs_f64();
    let s = &r.summary;
    assert_eq!(s.stop_reason, Some(StopReason::MaxSeconds));
    assert!(!s.interrupted);
    assert!(s.elapsed_seconds >= 0.5, "{}", s.elapsed_seconds);
    assert!(s.elapsed_seconds < 3.0, "{}", s.elapsed_seconds);
    assert!(wall < 3.5, "{wall}");
    assert!(s.individuals > POPULATION, "{}", s.individuals);
    assert_valid_best(&c, &r.best);
}

#[test]
fn an_interrupt_before_the_start_stops_after_one_round_with_a_best() {
    let c = config(&["search.max_individuals=100000"]);
    let flag = Arc::new(AtomicBool::new(true));
    let r = run(&c, Path::new("."), options(flag), &mut Silent, None).unwrap();
    let s = &r.summary;
    assert_eq!(s.stop_reason, Some(StopReason::Interrupted));
    assert!(s.interrupted);
    assert_eq!(s.experiments, 1);
    assert_eq!(
        s.individuals,
        c.search.batch().min(c.search.population_size) as u64
    );
    assert!(s.search_fitness.is_finite());
    assert_valid_best(&c, &r.best);
    // The candidate was scored on the select tasks, not given its search fitness.
    let (select, _) = score(
        &r.best,
        &c.select_tasks,
        "select_tasks",
        &EvalSettings::plain(c.memory, c.search.max_abs_error),
        Path::new("."),
        1,
    )
    .unwrap();
    assert_eq!(s.select_fitness, select);
}

#[test]
fn an_interrupt_during_the_search_stops_it_with_a_best() {
    // max_seconds only guards against a hang; the interrupt comes long before it.
    let c = config(&["search.max_seconds=60", "max_experiments=0"]);
    let flag = Arc::new(AtomicBool::new(false));
    let setter = {
        let flag = flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            flag.store(true, Ordering::SeqCst);
        })
    };
    let started = Instant::now();
    let r = run(&c, Path::new("."), options(flag), &mut Silent, None).unwrap();
    setter.join().unwrap();
    let s = &r.summary;
    assert_eq!(s.stop_reason, Some(StopReason::Interrupted));
    assert!(s.interrupted);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(s.individuals > 0);
    assert_valid_best(&c, &r.best);
}

#[test]
fn the_same_seed_reproduces_the_run() {
    // FEC, randomized task seeds and two experiments, so every random stream takes part.
    let c = config(&[
        "search.max_individuals=200",
        "max_experiments=2",
        "randomize_task_seeds=true",
        "search.fec={ num_train_examples = 5, num_valid_examples = 5 }",
    ]);
    let (a, ra) = run_recorded(&c);
    let (b, rb) = run_recorded(&c);
    assert_eq!(a.summary.timeless(), b.summary.timeless());
    assert_eq!(a.best, b.best);
    assert_eq!(a.best.to_string(), b.best.to_string());
    assert_eq!(timeless(&ra.progress), timeless(&rb.progress));
    assert_eq!(ra.experiments, rb.experiments);
    assert_eq!(a.summary.experiments, 2);
    assert!(a.summary.fec_hits + a.summary.fec_misses > 0);
}

#[test]
fn the_same_seed_reproduces_a_train_steps_limited_run() {
    let c = config(&["search.max_train_steps=5000"]);
    let a = run_silent(&c);
    let b = run_silent(&c);
    assert_eq!(a.summary.timeless(), b.summary.timeless());
    assert_eq!(a.best, b.best);
}

#[test]
fn a_different_seed_gives_a_different_run() {
    let a = run_silent(&config(&["search.max_individuals=200"]));
    let b = run_silent(&config(&["search.max_individuals=200", "random_seed=8"]));
    assert_eq!(b.summary.seed, 8);
    assert_ne!(a.best, b.best, "seeds 7 and 8 found the same algorithm");
}

#[test]
fn random_search_runs() {
    let c = config(&["search.strategy=\"random\"", "search.max_individuals=300"]);
    let (r, rec) = run_recorded(&c);
    let s = &r.summary;
    assert_eq!(s.individuals, 300);
    assert_eq!(s.stop_reason, Some(StopReason::MaxIndividuals));
    assert_valid_best(&c, &r.best);
    // The candidate of random search is the best individual ever seen, so no population
    // snapshot beats it.
    let best_seen = rec.progress.iter().map(|p| p.best).fold(f64::MIN, f64::max);
    assert!(
        s.search_fitness >= best_seen,
        "{} < {best_seen}",
        s.search_fitness
    );
    // Reproducible as well.
    let again = run_silent(&c);
    assert_eq!(again.summary.timeless(), s.timeless());
    assert_eq!(again.best, r.best);
}

#[test]
fn hurdles_stop_some_individuals() {
    let c = config(&["search.hurdles=[0.5]", "search.max_individuals=2000"]);
    let r = run_silent(&c);
    let s = &r.summary;
    assert_eq!(s.individuals, 2000);
    assert!(s.hurdle_stops > 0, "no individual stopped at the hurdle");
    assert!(s.hurdle_stops < s.individuals);
    assert_valid_best(&c, &r.best);
    // Without hurdles none stop.
    let plain = run_silent(&config(&["search.max_individuals=2000"]));
    assert_eq!(plain.summary.hurdle_stops, 0);
}

#[test]
fn max_experiments_two_runs_two_experiments() {
    let c = config(&[
        "max_experiments=2",
        "sufficient_fitness=0.99999999",
        "search.max_individuals=100",
    ]);
    let (r, rec) = run_recorded(&c);
    let s = &r.summary;
    assert_eq!(s.experiments, 2);
    assert_eq!(s.individuals, 200);
    assert_eq!(rec.experiments.len(), 2);
    assert_eq!(
        rec.experiments
            .iter()
            .map(|e| e.experiment)
            .collect::<Vec<_>>(),
        vec![0, 1]
    );
    // The chosen algorithm is the one with the best select fitness (ties: the later one).
    let best_select = rec
        .experiments
        .iter()
        .map(|e| e.select_fitness)
        .fold(f64::MIN, f64::max);
    assert_eq!(s.select_fitness, best_select);
    assert!(rec.experiments[0].best_so_far);
}

#[test]
fn sufficient_fitness_ends_the_experiments_early() {
    // Any candidate beats a select fitness of 0.001 on these tasks.
    let c = config(&[
        "max_experiments=5",
        "sufficient_fitness=0.001",
        "search.max_individuals=100",
        "search.stop_at_sufficient_fitness=false",
    ]);
    let r = run_silent(&c);
    assert!(r.summary.select_fitness > 0.001);
    assert_eq!(r.summary.experiments, 1);
    assert_eq!(r.summary.individuals, 100);
}

#[test]
fn an_individual_above_sufficient_fitness_ends_its_experiment_at_once() {
    let c = config(&[
        "max_experiments=5",
        "sufficient_fitness=0.001",
        "search.max_individuals=100",
    ]);
    let r = run_silent(&c);
    assert_eq!(r.summary.experiments, 1);
    assert_eq!(r.summary.stop_reason, Some(StopReason::SufficientFitness));
    // The population is filled first; the first child above the threshold ends the search.
    assert!(
        r.summary.individuals > 20 && r.summary.individuals < 100,
        "{}",
        r.summary.individuals
    );
    assert!(r.summary.search_fitness > 0.001);
}

#[test]
fn every_search_test_config_checks() {
    // The overrides above are all accepted by Config::check; a few that must not be.
    for bad in [
        "search.mutate_prob=1.5",
        "search.tournament_size=21",
        "search.hurdles=[1.0]",
        "search.max_seconds=0",
    ] {
        let e = Config::from_text(SMALL, "small.toml", &[bad.to_string()])
            .expect_err(bad)
            .to_string();
        let key = bad.split('=').next().unwrap();
        let leaf = key.rsplit('.').next().unwrap();
        assert!(e.contains(leaf), "{bad}: {e}");
    }
}

/// Progress reports without their wall-clock figures.
fn timeless(p: &[Progress]) -> Vec<Progress> {
    p.iter().map(Progress::timeless).collect()
}
