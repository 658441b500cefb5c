//! The machine's ceiling for two threads: the speed-up of perfectly parallel evaluation work.
//!
//! Runs the built-in neural net on a 2-layer teacher task (F = 8, 1000 + 100 examples) 3000 times
//! on one thread, then on each of two threads at once (sharing the task and program, then with
//! copies of their own), and prints how many times the one-thread throughput the two threads
//! reached. There is no synchronisation and nothing written is shared, so this is the most a
//! search's `--threads 2` can reach on this machine at that moment.
//!
//! `cargo run --release -p automl-zero-engine --example parallel_ceiling`

use automl_zero_engine::builtins;
use automl_zero_engine::evaluation::execute;
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::rng::MtRng;
use automl_zero_engine::tasks::{Task, TaskKind, TaskSpec, build_tasks};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

const F: usize = 8;
const RUNS: usize = 3000;
const ROUNDS: usize = 10;

fn work(program: &Program, task: &Task<F>, sizes: MemorySizes) -> f64 {
    let mut memory = Memory::<F>::new(sizes);
    (0..RUNS)
        .map(|i| {
            let mut rng = MtRng::new(i as u32);
            execute(program, task, 1000, 100, 100.0, &mut memory, &mut rng, None).fitness
        })
        .sum()
}

fn seconds(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

fn main() {
    let sizes = MemorySizes {
        scalars: 8,
        vectors: 10,
        matrices: 4,
    };
    let spec = TaskSpec::generated(TaskKind::Scalar2layerNnRegression, F, 1000, 100, 1);
    let task = build_tasks::<F>(&[spec], "search_tasks", Path::new("."))
        .expect("the teacher task builds")
        .remove(0);
    let program = Program::compile(&builtins::neural_net(0.01, 0.1, 0.1), &sizes, F)
        .expect("the neural net fits the memory");
    let mut shared_ratios = Vec::new();
    for round in 1..=ROUNDS {
        let alone = seconds(|| {
            black_box(work(&program, &task, sizes));
        });
        let shared = seconds(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| black_box(work(&program, &task, sizes)));
                }
            })
        });
        let own = seconds(|| {
            std::thread::scope(|s| {
                for _ in 0..2 {
                    let (p, t) = (program.clone(), task.clone());
                    s.spawn(move || black_box(work(&p, &t, sizes)));
                }
            })
        });
        println!(
            "round {round}: one thread {alone:.3} s; two threads sharing the task {shared:.3} s ({:.2}x); with copies {own:.3} s ({:.2}x)",
            2.0 * alone / shared,
            2.0 * alone / own
        );
        shared_ratios.push(2.0 * alone / shared);
    }
    shared_ratios.sort_by(f64::total_cmp);
    println!(
        "two-thread ceiling: median {:.2}x (min {:.2}x, max {:.2}x) over {ROUNDS} rounds",
        (shared_ratios[ROUNDS / 2 - 1] + shared_ratios[ROUNDS / 2]) / 2.0,
        shared_ratios[0],
        shared_ratios[ROUNDS - 1]
    );
}
