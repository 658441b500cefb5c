//! Islands played round by round, one island at a time ([`LocalRounds`], what the distributed
//! workers run), end a run exactly as the islands of one search in one process do: same best
//! program, individuals, fitnesses and counters, whatever limit stops the searches (inside a
//! round or at its end).

use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::Workers;
use automl_zero_engine::experiment::{RunOptions, RunResult, Silent, run, run_with};
use automl_zero_engine::rounds::LocalRounds;
use std::path::Path;

/// A small search space with FEC, random ops, three islands and short experiments.
const SMALL: &str = r#"
random_seed = 7
max_experiments = 3
randomize_task_seeds = true

[memory]
scalars = 5
vectors = 4
matrices = 1

[search]
population_size = 30
tournament_size = 5
initial_population = "random"
mutate_prob = 0.9
mutations = ["alter_param", "randomize_instruction", "randomize_component_function", "insert_instruction", "remove_instruction"]
max_individuals = 1000
batch_size = 8
islands = 3
migrate_every = 60
migrants = 3
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

fn one_process(config: &Config) -> RunResult {
    run(
        config,
        Path::new("."),
        RunOptions::default(),
        &mut Silent,
        None,
    )
    .unwrap()
}

fn in_rounds(config: &Config, threads: usize) -> RunResult {
    let workers = Workers::new(threads).unwrap();
    let mut rounds = LocalRounds::new(config, Path::new("."), workers.clone()).unwrap();
    let options = RunOptions {
        workers,
        ..RunOptions::default()
    };
    let r = run_with(
        config,
        Path::new("."),
        options,
        &mut Silent,
        None,
        Some(&mut rounds),
    );
    r.unwrap()
}

fn same(overrides: &[&str]) -> RunResult {
    let c = config(overrides);
    let (a, b) = (one_process(&c), in_rounds(&c, 2));
    assert_eq!(a.summary.timeless(), b.summary.timeless(), "{overrides:?}");
    assert_eq!(a.best, b.best, "{overrides:?}");
    a
}

#[test]
fn rounds_cut_by_max_individuals_inside_a_round_end_as_one_process() {
    // 1000 individuals over 3 islands: the last batch is cut in island order.
    let r = same(&[]);
    assert_eq!(r.summary.individuals, 3000);
    same(&["search.max_individuals=990"]);
}

#[test]
fn rounds_stopped_by_train_steps_end_as_one_process() {
    let r = same(&[
        "search.max_train_steps=150000",
        "max_experiments=1",
        "search.max_individuals=100000",
    ]);
    assert_eq!(
        r.summary.stop_reason.map(|s| s.name()),
        Some("max_train_steps")
    );
}

#[test]
fn rounds_stopped_by_sufficient_fitness_end_as_one_process() {
    let r = same(&[
        "sufficient_fitness=0.42",
        "max_experiments=1",
        "search.max_individuals=20000",
    ]);
    assert_eq!(
        r.summary.stop_reason.map(|s| s.name()),
        Some("sufficient_fitness")
    );
}

#[test]
fn rounds_with_hurdles_random_search_and_a_stop_at_a_migration_end_as_one_process() {
    same(&["search.hurdles=[0.5]", "search.max_individuals=720"]);
    same(&["search.strategy=\"random\"", "search.max_individuals=500"]);
}
