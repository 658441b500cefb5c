//! Parallel evaluation, islands and checkpoints: a run's result depends on its config and seed
//! only (never on the number of threads), and a run stopped and resumed from a checkpoint ends
//! exactly as the run that was never stopped.

use automl_zero_engine::checkpoint::{self, Checkpoint};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::Workers;
use automl_zero_engine::evolution::Progress;
use automl_zero_engine::experiment::{
    ExperimentResult, Observer, RunOptions, RunResult, RunState, run,
};
use automl_zero_engine::extend;
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::{Algorithm, Instruction};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The demo's search space made small, with FEC, random ops and two experiments.
const SMALL: &str = r#"
random_seed = 11
max_experiments = 2
randomize_task_seeds = true

[memory]
scalars = 5
vectors = 4
matrices = 1

[search]
population_size = 40
tournament_size = 5
initial_population = "random"
mutate_prob = 0.9
mutations = ["alter_param", "randomize_instruction", "randomize_component_function", "insert_instruction", "remove_instruction"]
max_individuals = 1500
batch_size = 8
progress_every = 200
fec = { num_train_examples = 5, num_valid_examples = 5, cache_size = 500 }
canonical_cache = 300
setup = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum", "vector_gaussian_set"], size_init = 4 }
predict = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 3, size_max = 12 }
learn = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum", "scalar_uniform_set"], size_init = 4, size_max = 12 }

[[search_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 20
num_valid_examples = 10
num_tasks = 4
eval_type = "rms_error"

[[select_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 20
num_valid_examples = 10
num_tasks = 2
eval_type = "rms_error"
"#;

fn config(overrides: &[&str]) -> Config {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::from_text(SMALL, "small.toml", &overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// Keeps progress, experiments and the checkpoints it is handed; can interrupt the run after
/// a number of progress reports.
#[derive(Default)]
struct Recorder {
    progress: Vec<Progress>,
    experiments: Vec<ExperimentResult>,
    checkpoints: Vec<RunState>,
    interrupt_after: Option<(usize, Arc<AtomicBool>)>,
}

impl Observer for Recorder {
    fn progress(&mut self, p: &Progress) {
        self.progress.push(p.clone());
        if let Some((n, flag)) = &self.interrupt_after
            && self.progress.len() == *n
        {
            flag.store(true, Ordering::SeqCst);
        }
    }
    fn experiment(&mut self, r: &ExperimentResult, _candidate: &Algorithm) {
        self.experiments.push(r.clone());
    }
    fn checkpoint(&mut self, _config: &Config, state: &RunState) {
        self.checkpoints.push(state.clone());
    }
}

fn run_with(
    config: &Config,
    threads: usize,
    recorder: &mut Recorder,
    resume: Option<RunState>,
) -> RunResult {
    let interrupt = recorder
        .interrupt_after
        .as_ref()
        .map(|(_, f)| f.clone())
        .unwrap_or_default();
    let options = RunOptions {
        workers: Workers::new(threads).unwrap(),
        interrupt,
    };
    run(config, Path::new("."), options, recorder, resume).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_same_run(config: &Config) {
    let mut one = Recorder::default();
    let mut two = Recorder::default();
    let a = run_with(config, 1, &mut one, None);
    let b = run_with(config, 2, &mut two, None);
    assert_eq!(a.summary.timeless(), b.summary.timeless());
    assert_eq!(a.best.to_string(), b.best.to_string());
    assert_eq!(timeless(&one.progress), timeless(&two.progress));
    assert_eq!(one.experiments, two.experiments);
    assert!(a.summary.fec_hits > 0 && a.summary.canonical_hits > 0);
}

#[test]
fn one_and_two_threads_give_the_same_run() {
    assert_same_run(&config(&[]));
}

#[test]
fn one_and_two_threads_give_the_same_run_with_islands() {
    let c = config(&[
        "search.islands=2",
        "search.migrate_every=100",
        "search.migrants=3",
    ]);
    assert_same_run(&c);
    let mut r = Recorder::default();
    run_with(&c, 2, &mut r, None);
    assert!(r.progress.iter().all(|p| p.islands.len() == 2));
}

#[test]
fn one_and_two_threads_give_the_same_run_with_hurdles_and_batches_of_one() {
    assert_same_run(&config(&["search.hurdles=[0.5]"]));
    assert_same_run(&config(&["search.batch_size=1"]));
}

#[test]
fn batch_size_is_part_of_the_algorithm() {
    let mut a = Recorder::default();
    let mut b = Recorder::default();
    let x = run_with(&config(&["search.batch_size=1"]), 1, &mut a, None);
    let y = run_with(&config(&["search.batch_size=16"]), 1, &mut b, None);
    assert_eq!(x.summary.individuals, y.summary.individuals);
    assert_ne!(timeless(&a.progress), timeless(&b.progress));
}

#[test]
fn migration_copies_the_best_into_the_next_island() {
    // With migration every 50 individuals, the islands share their best: after the run, each
    // island's best is at least as good as the best the previous island had at the last
    // migration, so the islands' bests end up close; without migration they stay apart more
    // often. Here we check the mechanism directly: a migration-free run differs from one with
    // migration, and the run with migration reports both islands.
    let with = config(&[
        "search.islands=2",
        "search.migrate_every=50",
        "search.migrants=5",
    ]);
    let without = config(&["search.islands=2", "search.migrate_every=0"]);
    let mut a = Recorder::default();
    let mut b = Recorder::default();
    run_with(&with, 1, &mut a, None);
    run_with(&without, 1, &mut b, None);
    assert_ne!(timeless(&a.progress), timeless(&b.progress));
    // After migrations, an island's best is never below the best its neighbour sent it, so
    // the two islands' bests agree more often than not at the reports.
    let close = a
        .progress
        .iter()
        .filter(|p| (p.islands[0].best - p.islands[1].best).abs() < 1e-9)
        .count();
    assert!(
        close * 2 >= a.progress.len(),
        "{close} of {}",
        a.progress.len()
    );
}

fn assert_resume_matches(overrides: &[&str], threads_after: usize) {
    let c = config(overrides);
    let mut whole = Recorder::default();
    let never_stopped = run_with(&c, 1, &mut whole, None);
    // Stop after the third progress report of the first experiment...
    let flag = Arc::new(AtomicBool::new(false));
    let mut first = Recorder {
        interrupt_after: Some((3, flag)),
        ..Recorder::default()
    };
    let stopped = run_with(&c, 1, &mut first, None);
    assert!(stopped.summary.interrupted);
    assert_eq!(
        first.checkpoints.len(),
        1,
        "an interrupt writes one checkpoint"
    );
    // ...through a checkpoint file, as the CLI does...
    let dir = tempfile::tempdir().unwrap();
    checkpoint::write(
        dir.path(),
        &Checkpoint {
            config: c.clone(),
            state: first.checkpoints[0].clone(),
        },
    )
    .unwrap();
    let back = checkpoint::read(&dir.path().join(checkpoint::LATEST)).unwrap();
    // ...and carry on: the end is the never-stopped run's.
    let mut second = Recorder::default();
    let resumed = run_with(&back.config, threads_after, &mut second, Some(back.state));
    assert_eq!(resumed.summary.timeless(), never_stopped.summary.timeless());
    assert_eq!(resumed.best.to_string(), never_stopped.best.to_string());
    let kept = first.checkpoints[0].progress_reports as usize;
    let mut joined = first.progress[..kept].to_vec();
    joined.extend(second.progress.iter().cloned());
    assert_eq!(timeless(&joined), timeless(&whole.progress));
}

#[test]
fn a_resumed_run_ends_as_the_run_never_stopped() {
    assert_resume_matches(&[], 1);
}

#[test]
fn a_resumed_run_with_islands_and_hurdles_ends_as_the_run_never_stopped_on_other_threads() {
    assert_resume_matches(
        &[
            "search.islands=3",
            "search.migrate_every=60",
            "search.hurdles=[0.4]",
        ],
        2,
    );
}

/// The first checkpoint of a run of `c` stopped after two.
fn first_checkpoint(c: &Config) -> RunState {
    let flag = Arc::new(AtomicBool::new(false));
    let mut r = Recorder {
        interrupt_after: Some((2, flag)),
        ..Recorder::default()
    };
    run_with(c, 1, &mut r, None);
    r.checkpoints.swap_remove(0)
}

#[test]
fn a_damaged_checkpoint_is_refused_by_name_and_the_previous_one_stays_usable() {
    let c = config(&[]);
    let state = first_checkpoint(&c);
    let dir = tempfile::tempdir().unwrap();
    let write = |s: &RunState| {
        checkpoint::write(
            dir.path(),
            &Checkpoint {
                config: c.clone(),
                state: s.clone(),
            },
        )
        .unwrap()
    };
    write(&state);
    write(&state);
    let latest = dir.path().join(checkpoint::LATEST);
    let previous = dir.path().join(checkpoint::PREVIOUS);
    let good = std::fs::read(&latest).unwrap();
    // Truncated.
    std::fs::write(&latest, &good[..good.len() / 2]).unwrap();
    let e = checkpoint::read(&latest).unwrap_err().to_string();
    assert!(
        e.contains("checkpoint.json") && e.contains("truncated"),
        "{e}"
    );
    // One byte changed in the middle.
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    std::fs::write(&latest, &flipped).unwrap();
    let e = checkpoint::read(&latest).unwrap_err().to_string();
    assert!(
        e.contains("checkpoint.json") && e.contains("damaged"),
        "{e}"
    );
    // Not a checkpoint at all.
    std::fs::write(&latest, "hello\n").unwrap();
    let e = checkpoint::read(&latest).unwrap_err().to_string();
    assert!(e.contains("not a checkpoint"), "{e}");
    // The previous one is intact and resumes.
    let back = checkpoint::read(&previous).unwrap();
    let mut again = Recorder::default();
    let resumed = run_with(&back.config, 1, &mut again, Some(back.state));
    let mut whole = Recorder::default();
    let never_stopped = run_with(&c, 1, &mut whole, None);
    assert_eq!(resumed.summary.timeless(), never_stopped.summary.timeless());
}

/// Progress reports without their wall-clock figures.
fn timeless(p: &[Progress]) -> Vec<Progress> {
    p.iter().map(Progress::timeless).collect()
}

#[test]
fn a_checkpoint_whose_population_holds_an_address_beyond_the_memory_is_refused_by_name() {
    let c = config(&[]);
    let mut state = first_checkpoint(&c);
    // s9 = s0 + s0 on a memory of 5 scalars.
    state.search.islands[0].population.algorithms[3]
        .setup
        .push(Instruction::new(Op::ScalarSum, 0, 0, 9));
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = Checkpoint { config: c, state };
    checkpoint::write(dir.path(), &checkpoint).unwrap();
    let e = checkpoint::read(&dir.path().join(checkpoint::LATEST))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("checkpoint.json") && e.contains("island 0, member 3") && e.contains("s9"),
        "{e}"
    );
}

/// Runs `c` with `old` limits, then carries its last checkpoint on with the `new` ones (on two
/// threads): the end, and the progress reports, are those of a run started with `new`.
fn assert_extension_matches(c: &[&str], old: &[&str], new: &[&str]) {
    let with = |limits: &[&str]| config(&[c, limits].concat());
    let mut first = Recorder::default();
    let ended = run_with(&with(old), 1, &mut first, None);
    let state = first
        .checkpoints
        .pop()
        .expect("a run that ends writes a checkpoint");
    let new: Vec<String> = new.iter().map(|s| s.to_string()).collect();
    let extended = extend::with_limits(&with(old), "test", &new).unwrap();
    extend::check(&with(old), &extended, &state).unwrap_or_else(|e| panic!("{e}"));
    let kept = state.progress_reports as usize;
    let mut second = Recorder::default();
    let carried = run_with(&extended, 2, &mut second, Some(state));
    let mut whole = Recorder::default();
    let started = run_with(&extended, 1, &mut whole, None);
    assert_ne!(
        ended.summary.timeless(),
        started.summary.timeless(),
        "{new:?} changes nothing"
    );
    assert_eq!(
        carried.summary.timeless(),
        started.summary.timeless(),
        "{new:?}"
    );
    assert_eq!(carried.best.to_string(), started.best.to_string());
    let mut joined = first.progress[..kept].to_vec();
    joined.extend(second.progress.iter().cloned());
    assert_eq!(timeless(&joined), timeless(&whole.progress));
}

#[test]
fn a_run_extended_to_more_experiments_ends_as_a_run_started_with_them() {
    assert_extension_matches(&[], &["max_experiments=1"], &["max_experiments=3"]);
}

#[test]
fn a_run_extended_to_more_individuals_ends_as_a_run_started_with_them() {
    // 1003 individuals cut the last round (of 8) short; the extension plays it whole.
    let one = [
        "max_experiments=1",
        "search.islands=2",
        "search.migrate_every=100",
    ];
    let old = ["search.max_individuals=1003"];
    assert_extension_matches(&one, &old, &["search.max_individuals=2000"]);
}

#[test]
fn a_run_extended_to_more_train_steps_ends_as_a_run_started_with_them() {
    let long = ["max_experiments=5", "search.max_individuals=600"];
    let old = ["search.max_train_steps=20000"];
    assert_extension_matches(&long, &old, &["search.max_train_steps=40000"]);
}

#[test]
fn a_run_extended_past_its_sufficient_fitness_ends_as_a_run_started_without_it() {
    let one = ["max_experiments=1"];
    let old = ["sufficient_fitness=0.1"];
    assert_extension_matches(&one, &old, &["sufficient_fitness=0.5"]);
    assert_extension_matches(&one, &old, &["search.stop_at_sufficient_fitness=false"]);
}

#[test]
fn limits_the_run_so_far_contradicts_are_refused_by_key() {
    let old = config(&[
        "max_experiments=2",
        "search.stop_at_sufficient_fitness=false",
    ]);
    let mut r = Recorder::default();
    run_with(&old, 1, &mut r, None);
    let state = r.checkpoints.pop().unwrap();
    assert_eq!(
        state.experiments, 1,
        "the state as the second search stopped"
    );
    let refused = |set: &str, key: &str, why: &str| {
        let new = extend::with_limits(&old, "test", &[set.to_string()]).unwrap();
        let e = extend::check(&old, &new, &state).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{key}: ")) && e.contains(why),
            "{set}: {e}"
        );
    };
    refused(
        "max_experiments=1",
        "max_experiments",
        "begun 2 experiments",
    );
    refused(
        "search.max_individuals=3000",
        "search.max_individuals",
        "earlier experiment",
    );
    refused(
        "search.max_train_steps=10",
        "search.max_train_steps",
        "training steps",
    );
    refused("sufficient_fitness=0.999", "sufficient_fitness", "sooner");
    // Raising what the run never reached is fine.
    for ok in [
        "max_experiments=3",
        "search.max_train_steps=100000000",
        "search.max_seconds=1",
    ] {
        let new = extend::with_limits(&old, "test", &[ok.to_string()]).unwrap();
        extend::check(&old, &new, &state).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    // Anything but a limit is refused by name.
    let e = extend::with_limits(&old, "test", &["search.population_size=10".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("`search.population_size` cannot change"), "{e}");
    // And so is a run that would never end.
    let e = extend::with_limits(&old, "test", &["max_experiments=0".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("never end"), "{e}");
}
