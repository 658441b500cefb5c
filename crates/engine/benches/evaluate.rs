//! Benchmarks of evaluating one algorithm, and of the interpreter's kernels.
//!
//! Run with `cargo bench -p automl-zero-engine --bench evaluate`.
//!
//! Groups:
//! - `demo_search_tasks`: the demo's search tasks (10 scalar linear regression tasks, F = 4,
//!   100 train and 100 valid examples, memory 4/3/1). `linear` is the built-in linear
//!   algorithm; `random_program` cycles through a fixed set of random programs of the demo's
//!   search space (6 ops, sizes 10/2/8), one program per iteration, as the search does.
//! - `nonlinear`: one scalar_2layer_nn_regression task (1000 train, 100 valid examples),
//!   memory 20/20/20. `F8`/`F16` cycle through random programs over every op (sizes 10/10/10);
//!   `neural_net_F8`/`neural_net_F16` are the built-in neural net.
//! - `kernels`: a straight-line Predict of `KERNEL_LEN` instructions of one class (scalar,
//!   vector or matrix ops) run on a memory; throughput is instructions per second.
//!
//! Every evaluation does the full work: no FEC and no canonical-program cache. The evaluator
//! prunes dead code before running, as it does during a search.

use automl_zero_engine::builtins::{
    Builtin, Generator, INIT_SCALE, LEARNING_RATE, linear, neural_net,
};
use automl_zero_engine::evaluation::{EvalSettings, Evaluator};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::liveness;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::ops::{Class, Kind, Op};
use automl_zero_engine::program::{Algorithm, Component, Instruction};
use automl_zero_engine::rng::{MtRng, Rng};
use automl_zero_engine::tasks::{TaskKind, TaskSpec, build_tasks};
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

/// The seed of every evaluation (it feeds the random ops).
const EVAL_SEED: u64 = 1;
/// How many random programs each random-program benchmark cycles through.
const NUM_PROGRAMS: u64 = 32;
/// The demo's ops, in Setup, Predict and Learn alike.
const DEMO_OPS: [Op; 6] = [
    Op::ScalarConstSet,
    Op::VectorInnerProduct,
    Op::ScalarDiff,
    Op::ScalarProduct,
    Op::ScalarVectorProduct,
    Op::VectorSum,
];
/// The length of a kernel program.
const KERNEL_LEN: usize = 100;
/// Kernel programs read addresses below this and write addresses from it up.
const KERNEL_INPUTS: u16 = 10;

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn evaluator<const F: usize>(spec: TaskSpec, sizes: MemorySizes) -> Evaluator<F> {
    let tasks = build_tasks::<F>(&[spec], "search_tasks", Path::new(".")).expect("tasks build");
    let mut settings = EvalSettings::plain(sizes, 100.0);
    settings.canonical_cache = 0;
    settings.fec = None;
    Evaluator::new(tasks, settings)
}

/// `NUM_PROGRAMS` random programs of a search space, seeded 0, 1, 2, ...
fn random_programs(sizes: MemorySizes, size_init: [usize; 3], ops: &[Op]) -> Vec<Algorithm> {
    let generator = Generator {
        sizes,
        size_init,
        ops: [ops.to_vec(), ops.to_vec(), ops.to_vec()],
    };
    let programs: Vec<Algorithm> = (0..NUM_PROGRAMS)
        .map(|seed| {
            generator
                .build(Builtin::Random, &mut Rng::new(seed, 0))
                .expect("random program builds")
        })
        .collect();
    let live: usize = programs.iter().map(|a| liveness::prune(a).len()).sum();
    eprintln!(
        "random programs: {} of {} instructions each, {:.1} live on average",
        programs.len(),
        size_init.iter().sum::<usize>(),
        live as f64 / programs.len() as f64
    );
    programs
}

/// Benchmarks evaluating the programs in turn, one per iteration.
fn bench_cycling<const F: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    evaluator: &mut Evaluator<F>,
    programs: &[Algorithm],
) {
    let mut next = 0usize;
    group.bench_function(id, |b| {
        b.iter(|| {
            let program = &programs[next % programs.len()];
            next += 1;
            black_box(
                evaluator
                    .evaluate(black_box(program), EVAL_SEED)
                    .expect("evaluates"),
            )
        })
    });
}

fn bench_one<const F: usize>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    evaluator: &mut Evaluator<F>,
    algorithm: &Algorithm,
) {
    group.bench_function(id, |b| {
        b.iter(|| {
            black_box(
                evaluator
                    .evaluate(black_box(algorithm), EVAL_SEED)
                    .expect("evaluates"),
            )
        })
    });
}

fn demo_search_tasks(c: &mut Criterion) {
    let sizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    let spec = TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 100, 100, 10);
    let mut evaluator = evaluator::<4>(spec, sizes);
    let programs = random_programs(sizes, [10, 2, 8], &DEMO_OPS);

    let mut group = c.benchmark_group("demo_search_tasks");
    configure(&mut group);
    bench_one(&mut group, "linear", &mut evaluator, &linear(LEARNING_RATE));
    bench_cycling(&mut group, "random_program", &mut evaluator, &programs);
    group.finish();
}

fn nonlinear_at<const F: usize>(group: &mut BenchmarkGroup<'_, WallTime>, all_ops: &[Op]) {
    let sizes = MemorySizes {
        scalars: 20,
        vectors: 20,
        matrices: 20,
    };
    let spec = TaskSpec::generated(TaskKind::Scalar2layerNnRegression, F, 1000, 100, 1);
    let mut evaluator = evaluator::<F>(spec, sizes);
    let programs = random_programs(sizes, [10, 10, 10], all_ops);
    bench_cycling(group, &format!("F{F}"), &mut evaluator, &programs);
    let nn = neural_net(LEARNING_RATE, INIT_SCALE, INIT_SCALE);
    bench_one(group, &format!("neural_net_F{F}"), &mut evaluator, &nn);
}

fn nonlinear(c: &mut Criterion) {
    let all_ops: Vec<Op> = Op::ALL
        .iter()
        .copied()
        .filter(|&op| op != Op::NoOp)
        .collect();
    let mut group = c.benchmark_group("nonlinear");
    configure(&mut group);
    nonlinear_at::<8>(&mut group, &all_ops);
    nonlinear_at::<16>(&mut group, &all_ops);
    group.finish();
}

/// The widest kind an op reads or writes: its kernel class.
fn widest_kind(op: Op) -> Option<Kind> {
    let info = op.info();
    let rank = |k: &Kind| match k {
        Kind::Scalar => 0,
        Kind::Vector => 1,
        Kind::Matrix => 2,
    };
    info.inputs
        .iter()
        .chain(info.output.as_ref())
        .copied()
        .max_by_key(rank)
}

/// The deterministic ops (no no-op, no random sets) whose widest operand is `kind`.
fn kernel_ops(kind: Kind) -> Vec<Op> {
    Op::ALL
        .iter()
        .copied()
        .filter(|&op| op.class() != Class::NoOp && !op.info().random)
        .filter(|&op| widest_kind(op) == Some(kind))
        .collect()
}

/// A straight-line program cycling through `ops`: inputs from addresses below
/// `KERNEL_INPUTS`, outputs at or above it, so every run computes the same values.
fn kernel_algorithm(ops: &[Op]) -> Algorithm {
    let n = KERNEL_INPUTS as usize;
    let predict = (0..KERNEL_LEN)
        .map(|k| Instruction {
            op: ops[k % ops.len()],
            in1: (k % n) as u16,
            in2: ((3 * k + 1) % n) as u16,
            out: KERNEL_INPUTS + (k % n) as u16,
            activation: 0.5,
            data: [0.25, 0.75, 0.5],
        })
        .collect();
    Algorithm {
        setup: vec![],
        predict,
        learn: vec![],
    }
}

fn bench_kernel<const F: usize>(group: &mut BenchmarkGroup<'_, WallTime>, class: &str, ops: &[Op]) {
    let sizes = MemorySizes {
        scalars: 2 * KERNEL_INPUTS,
        vectors: 2 * KERNEL_INPUTS,
        matrices: 2 * KERNEL_INPUTS,
    };
    let program = Program::compile(&kernel_algorithm(ops), &sizes, F).expect("kernel compiles");
    assert_eq!(program.part(Component::Predict).len(), KERNEL_LEN);
    // Inputs in (0.1, 0.9) keep every op (log, arcsin, reciprocal, ...) in its usual domain.
    let mut rng = MtRng::new(7);
    let mut memory = Memory::<F>::new(sizes);
    for x in memory.scalars.iter_mut() {
        *x = rng.uniform(0.1, 0.9);
    }
    for x in memory.vectors.iter_mut().flatten() {
        *x = rng.uniform(0.1, 0.9);
    }
    for x in memory.matrices.iter_mut().flatten().flatten() {
        *x = rng.uniform(0.1, 0.9);
    }
    group.bench_with_input(BenchmarkId::new(class, F), &program, |b, program| {
        b.iter(|| {
            black_box(program).run(Component::Predict, &mut memory, &mut rng);
            black_box(&memory);
        })
    });
}

fn kernels(c: &mut Criterion) {
    let mut group = c.benchmark_group("kernels");
    configure(&mut group);
    group.throughput(Throughput::Elements(KERNEL_LEN as u64));
    for (class, kind) in [
        ("scalar", Kind::Scalar),
        ("vector", Kind::Vector),
        ("matrix", Kind::Matrix),
    ] {
        let ops = kernel_ops(kind);
        bench_kernel::<4>(&mut group, class, &ops);
        bench_kernel::<8>(&mut group, class, &ops);
        bench_kernel::<16>(&mut group, class, &ops);
        bench_kernel::<32>(&mut group, class, &ops);
    }
    group.finish();
}

criterion_group!(benches, demo_search_tasks, nonlinear, kernels);
criterion_main!(benches);
