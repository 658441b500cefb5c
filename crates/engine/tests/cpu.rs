//! The hot loops' AVX2 copies (`cpu`) give exactly the results of their baseline copies, for
//! random programs over every op, in lanes and one task at a time.

use automl_zero_engine::cpu;
use automl_zero_engine::evaluation::lanes::{
    Group, NARROW, WIDE, WIDE_MAX_FEATURES, execute_lanes, split,
};
use automl_zero_engine::evaluation::{Errors, Outcome, execute};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{LaneMemory, Memory, MemorySizes};
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::Algorithm;
use automl_zero_engine::rng::MtRng;
use automl_zero_engine::tasks::{EvalType, Task};

mod common;

const SIZES: MemorySizes = MemorySizes {
    scalars: 8,
    vectors: 4,
    matrices: 2,
};

/// Random programs over every op, random ones included.
fn programs(count: usize, seed: u64) -> Vec<Algorithm> {
    common::random_programs(SIZES, Op::ALL, count, seed)
}

fn make_tasks<const F: usize>(count: usize, eval_type: EvalType) -> Vec<Task<F>> {
    common::linear_tasks(count, 2, eval_type)
}

/// Every number a run reports, and the errors it recorded, as bits.
type Fingerprint = Vec<u64>;

fn fingerprint(outcome: &Outcome, errors: Option<&Errors>) -> Fingerprint {
    let mut bits = vec![
        outcome.fitness.to_bits(),
        outcome.train_steps,
        outcome.valid_steps,
    ];
    if let Some(e) = errors {
        bits.extend(e.train.iter().chain(&e.valid).map(|x| x.to_bits()));
    }
    bits
}

/// One task at a time (errors recorded) and in lanes (each group narrow where its tasks fit,
/// and wide), every program on every task.
fn run_all<const F: usize>(tasks: &[Task<F>], programs: &[Algorithm]) -> Vec<Fingerprint> {
    let ranges = split(tasks, 0..tasks.len());
    let narrow: Vec<Group<F, NARROW>> = ranges
        .iter()
        .filter(|r| r.len() <= NARROW)
        .map(|r| Group::new(tasks, r.clone()))
        .collect();
    let wide: Vec<Group<F, WIDE>> = ranges
        .iter()
        .filter(|_| F <= WIDE_MAX_FEATURES)
        .map(|r| Group::new(tasks, r.clone()))
        .collect();
    let mut memory = Memory::<F>::new(SIZES);
    let mut narrow_memory = LaneMemory::<F, NARROW>::new(SIZES);
    let mut wide_memory = LaneMemory::<F, WIDE>::new(SIZES);
    let mut errors = Errors::default();
    let mut prints = Vec::new();
    for (i, a) in programs.iter().enumerate() {
        let program = Program::compile(a, &SIZES, F).unwrap();
        for (t, task) in tasks.iter().enumerate() {
            errors.clear();
            let mut rng = MtRng::new((1000 * i + t) as u32);
            let outcome = execute(
                &program,
                task,
                45,
                20,
                100.0,
                &mut memory,
                &mut rng,
                Some(&mut errors),
            );
            prints.push(fingerprint(&outcome, Some(&errors)));
        }
        for group in &narrow {
            prints.extend(run_group(&program, i, group, tasks, &mut narrow_memory));
        }
        for group in &wide {
            prints.extend(run_group(&program, i, group, tasks, &mut wide_memory));
        }
    }
    prints
}

/// Program `i` in lanes on one group: each lane's fingerprint.
fn run_group<const F: usize, const L: usize>(
    program: &Program,
    i: usize,
    group: &Group<F, L>,
    tasks: &[Task<F>],
    memory: &mut LaneMemory<F, L>,
) -> Vec<Fingerprint> {
    let mut rngs: [MtRng; L] = std::array::from_fn(|l| MtRng::new((1000 * i + l) as u32));
    let outcomes = execute_lanes(program, group, tasks, 45, 20, 100.0, memory, &mut rngs);
    outcomes.iter().map(|o| fingerprint(o, None)).collect()
}

fn both_ways<const F: usize>(tasks: &[Task<F>], programs: &[Algorithm]) -> (usize, usize) {
    cpu::force_baseline(true);
    let baseline = run_all(tasks, programs);
    cpu::force_baseline(false);
    let fastest = run_all(tasks, programs);
    assert_eq!(baseline.len(), fastest.len());
    for (k, (b, f)) in baseline.iter().zip(&fastest).enumerate() {
        assert_eq!(b, f, "run {k}");
    }
    let scored = baseline
        .iter()
        .filter(|p| f64::from_bits(p[0]) > 0.0)
        .count();
    (scored, baseline.len())
}

#[test]
fn avx2_copies_give_the_results_of_the_baseline_copies() {
    // One test, since the choice of copy is global to the process.
    let (scored, runs) = both_ways(&make_tasks::<4>(6, EvalType::RmsError), &programs(300, 11));
    assert!(scored > runs / 5, "{scored} of {runs} runs scored above 0");
    let (scored, runs) = both_ways(&make_tasks::<8>(5, EvalType::Accuracy), &programs(150, 12));
    assert!(scored > runs / 5, "{scored} of {runs} runs scored above 0");
    println!("AVX2 copies in use: {}", cpu::uses_avx2());
}
