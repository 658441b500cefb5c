//! Groups of tasks run side by side (`evaluation::lanes`) give, lane for lane, exactly the
//! outcomes, probe hashes and snapshots of one task at a time (`evaluation::executor`), for random
//! programs over every deterministic op.

use automl_zero_engine::builtins::{Builtin, Generator};
use automl_zero_engine::evaluation::fec::{ProbeHasher, probe_hash};
use automl_zero_engine::evaluation::lanes::{
    Group, NARROW, WIDE, WIDE_MAX_FEATURES, execute_lanes, group_pays, probe_lanes, resume_lanes,
    split,
};
use automl_zero_engine::evaluation::{Errors, Outcome, execute, probe, resume};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{LaneMemory, Memory, MemorySizes};
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::Algorithm;
use automl_zero_engine::rng::{MtRng, Rng};
use automl_zero_engine::tasks::{EvalType, Task};

use std::ops::Range;

mod common;

const SIZES: MemorySizes = MemorySizes {
    scalars: 8,
    vectors: 4,
    matrices: 2,
};

/// Random programs over every deterministic op.
fn programs(count: usize, seed: u64) -> Vec<Algorithm> {
    common::random_programs(SIZES, &common::deterministic_ops(), count, seed)
}

/// `count` linear regression tasks of 30 examples per epoch, 3 epochs and 20 validation
/// examples, each with its own data.
fn make_tasks<const F: usize>(count: usize, eval_type: EvalType) -> Vec<Task<F>> {
    common::linear_tasks(count, 3, eval_type)
}

fn assert_same(got: &Outcome, expected: &Outcome, what: &str) {
    assert_eq!(got.train_steps, expected.train_steps, "train steps: {what}");
    assert_eq!(got.valid_steps, expected.valid_steps, "valid steps: {what}");
    assert_eq!(
        got.fitness.to_bits(),
        expected.fitness.to_bits(),
        "fitness {} vs {}: {what}",
        got.fitness,
        expected.fitness
    );
}

/// Full runs, probes and resumed runs of every program on every group of `tasks`, in lanes
/// and one task at a time; returns how many lane outcomes had a fitness above 0 and how many
/// stopped early (diverged). Each group runs as wide as `split` makes it, and also in the other
/// width where its tasks fit.
fn compare<const F: usize>(tasks: &[Task<F>], programs: &[Algorithm]) -> (usize, usize) {
    let (mut scored, mut stopped) = (0, 0);
    for range in split(tasks, 0..tasks.len()) {
        let mut add = |(s, t): (usize, usize)| {
            scored += s;
            stopped += t;
        };
        if range.len() <= NARROW {
            add(compare_in::<F, NARROW>(tasks, range.clone(), programs));
        }
        if F <= WIDE_MAX_FEATURES {
            add(compare_in::<F, WIDE>(tasks, range, programs));
        }
    }
    (scored, stopped)
}

/// [`compare`] on one group of `L` lanes.
fn compare_in<const F: usize, const L: usize>(
    tasks: &[Task<F>],
    range: Range<usize>,
    programs: &[Algorithm],
) -> (usize, usize) {
    let groups = [Group::<F, L>::new(tasks, range)];
    let mut lane_memory = LaneMemory::<F, L>::new(SIZES);
    let mut lane_snapshot = LaneMemory::<F, L>::new(SIZES);
    let mut lane_hashes = [ProbeHasher::new(); L];
    let (mut memory, mut snapshot) = (Memory::<F>::new(SIZES), Memory::<F>::new(SIZES));
    let mut errors = Errors::default();
    let mut rng = MtRng::new(0);
    let (mut scored, mut stopped) = (0, 0);
    for (i, a) in programs.iter().enumerate() {
        let program = Program::compile(a, &SIZES, F).unwrap();
        for group in &groups {
            for (num_train, max_abs_error) in [(75, 100.0), (90, 2.0), (20, 100.0)] {
                // Whatever an earlier program left in the lane memory must not matter.
                lane_memory.scalars.fill([7.5; L]);
                let full = execute_lanes(
                    &program,
                    group,
                    tasks,
                    num_train,
                    20,
                    max_abs_error,
                    &mut lane_memory,
                    &mut [],
                );
                let probed = probe_lanes(
                    &program,
                    group,
                    tasks,
                    10,
                    10,
                    max_abs_error,
                    &mut lane_memory,
                    &mut lane_hashes,
                    Some(&mut lane_snapshot),
                );
                let resumed = resume_lanes(
                    &program,
                    group,
                    tasks,
                    &lane_snapshot,
                    10,
                    num_train,
                    20,
                    max_abs_error,
                    &mut lane_memory,
                );
                for (l, t) in group.range().enumerate() {
                    let what = format!("program {i}, task {t}, {num_train} steps\n{a}");
                    let task = &tasks[t];
                    let expected = execute(
                        &program,
                        task,
                        num_train,
                        20,
                        max_abs_error,
                        &mut memory,
                        &mut rng,
                        None,
                    );
                    assert_same(&full[l], &expected, &what);
                    scored += usize::from(expected.fitness > 0.0);
                    stopped += usize::from(expected.train_steps < num_train as u64);

                    let (expected_probe, taken) = probe(
                        &program,
                        task,
                        10,
                        10,
                        max_abs_error,
                        &mut memory,
                        &mut rng,
                        &mut errors,
                        Some(&mut snapshot),
                    );
                    assert_same(&probed[l].0, &expected_probe, &format!("probe: {what}"));
                    assert_eq!(probed[l].1, taken, "snapshot taken: {what}");
                    let bits = |x: &[f64]| x.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
                    // The errors hashed as they come give the key of the recorded errors.
                    assert_eq!(
                        lane_hashes[l].finish(task.index, num_train),
                        probe_hash(&errors.train, &errors.valid, task.index, num_train),
                        "probe hash: {what}"
                    );
                    assert_eq!(lane_hashes[l].train_count(), errors.train.len(), "{what}");
                    if taken {
                        // The cells the program uses (and s0, s1) are snapshot.
                        let used = program.needs()[0].max(2);
                        assert_eq!(
                            bits(&lane_snapshot.lane(l).scalars[..used]),
                            bits(&snapshot.scalars[..used]),
                            "snapshot: {what}"
                        );
                        let expected_resumed = resume(
                            &program,
                            task,
                            &snapshot,
                            10,
                            num_train,
                            20,
                            max_abs_error,
                            &mut memory,
                            &mut rng,
                        );
                        assert_same(&resumed[l], &expected_resumed, &format!("resumed: {what}"));
                    }
                }
            }
        }
    }
    (scored, stopped)
}

#[test]
fn lanes_give_the_outcomes_of_one_task_at_a_time() {
    // 14 tasks: a full wide group and a short one (which repeats its last task in the spare
    // lanes), also run narrow.
    let tasks = make_tasks::<4>(14, EvalType::RmsError);
    assert_eq!(split(&tasks, 0..14), vec![0..WIDE, WIDE..14]);
    let (scored, stopped) = compare(&tasks, &programs(250, 3));
    assert!(scored > 1000 && stopped > 1000, "{scored} {stopped}");
}

#[test]
fn a_narrow_group_of_four_tasks_gives_the_outcomes_of_one_task_at_a_time() {
    let tasks = make_tasks::<4>(4, EvalType::RmsError);
    assert_eq!(split(&tasks, 0..4), vec![0..NARROW]);
    let (scored, stopped) = compare(&tasks, &programs(300, 9));
    assert!(scored > 500 && stopped > 500, "{scored} {stopped}");
}

#[test]
fn groups_are_wide_only_where_more_than_two_narrow_ones_are_left() {
    let group_sizes = |n: usize| {
        let tasks = make_tasks::<4>(n, EvalType::RmsError);
        split(&tasks, 0..n)
            .iter()
            .map(|r| r.len())
            .collect::<Vec<_>>()
    };
    assert_eq!(group_sizes(10), vec![10]);
    assert_eq!(group_sizes(8), vec![4, 4]);
    assert_eq!(group_sizes(9), vec![9]);
    assert_eq!(group_sizes(13), vec![12, 1]);
    assert_eq!(group_sizes(21), vec![12, 9]);
    assert_eq!(group_sizes(5), vec![4, 1]);
    // Above 8 features every group is narrow, and one or two tasks left over run alone.
    let tasks = make_tasks::<32>(10, EvalType::RmsError);
    assert_eq!(split(&tasks, 0..10), vec![0..4, 4..8, 8..9, 9..10]);
    assert_eq!(split(&tasks, 0..7), vec![0..4, 4..7]);
    assert_eq!(split(&tasks, 0..5), vec![0..4, 4..5]);
    let tasks = make_tasks::<16>(10, EvalType::Accuracy);
    assert_eq!(split(&tasks, 0..10), vec![0..4, 4..8, 8..9, 9..10]);
    // The same rule groups members on one task.
    assert!(!group_pays::<16>(2) && group_pays::<16>(3) && group_pays::<8>(2));
}

#[test]
fn lanes_give_the_outcomes_of_one_task_at_a_time_on_accuracy_tasks_of_8_features() {
    let tasks = make_tasks::<8>(5, EvalType::Accuracy);
    let (scored, stopped) = compare(&tasks, &programs(200, 4));
    assert!(scored > 200 && stopped > 100, "{scored} {stopped}");
}

#[test]
fn lanes_give_the_outcomes_of_one_task_at_a_time_at_32_features() {
    // An unoptimised build keeps every 32 × 32 lane matrix temporary of the interpreter's
    // ops in its own stack slot: more than a test thread's 2 MiB, within the 8 MiB of a main
    // thread (and of the worker pool's threads).
    let run = || {
        let tasks = make_tasks::<32>(3, EvalType::RmsError);
        compare(&tasks, &programs(30, 6))
    };
    let (scored, stopped) = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
    assert!(scored > 10 && stopped > 10, "{scored} {stopped}");
}

#[test]
fn a_first_epoch_out_of_data_order_is_gathered_like_the_others() {
    let mut tasks = make_tasks::<4>(3, EvalType::RmsError);
    tasks[1].epochs[0].reverse();
    let (scored, stopped) = compare(&tasks, &programs(200, 5));
    assert!(scored > 100 && stopped > 100, "{scored} {stopped}");
}

#[test]
fn groups_hold_consecutive_tasks_of_one_shape() {
    let mut tasks = make_tasks::<4>(6, EvalType::RmsError);
    let mut other = make_tasks::<4>(1, EvalType::Accuracy).remove(0);
    other.index = 6;
    tasks.insert(2, other);
    assert_eq!(split(&tasks, 0..7), vec![0..2, 2..3, 3..7]);
    assert_eq!(split(&tasks, 1..6), vec![1..2, 2..3, 3..6]);
}

/// Random programs over every op, random ones included.
fn random_op_programs(count: usize, seed: u64) -> Vec<Algorithm> {
    common::random_programs(SIZES, Op::ALL, count, seed)
}

#[test]
fn with_a_random_stream_per_lane_a_program_with_random_ops_runs_in_lanes_too() {
    random_ops_in_lanes::<NARROW>();
    random_ops_in_lanes::<WIDE>();
}

/// Programs with random ops on three tasks in a group of `L` lanes, against one task at a time.
fn random_ops_in_lanes<const L: usize>() {
    let tasks = make_tasks::<4>(3, EvalType::RmsError);
    let group = Group::<4, L>::new(&tasks, 0..3);
    let mut lane_memory = LaneMemory::<4, L>::new(SIZES);
    let mut memory = Memory::<4>::new(SIZES);
    let stream = |t: usize, i: usize| MtRng::new((1000 * i + t) as u32);
    let (mut random, mut scored) = (0, 0);
    for (i, a) in random_op_programs(300, 8).iter().enumerate() {
        let program = Program::compile(a, &SIZES, 4).unwrap();
        random += usize::from(program.is_random());
        let mut rngs: [MtRng; L] = std::array::from_fn(|l| stream(l.min(2), i));
        let got = execute_lanes(
            &program,
            &group,
            &tasks,
            75,
            20,
            100.0,
            &mut lane_memory,
            &mut rngs,
        );
        for (t, task) in tasks.iter().enumerate() {
            let expected = execute(
                &program,
                task,
                75,
                20,
                100.0,
                &mut memory,
                &mut stream(t, i),
                None,
            );
            assert_same(&got[t], &expected, &format!("program {i}, task {t}\n{a}"));
            scored += usize::from(expected.fitness > 0.0 && program.is_random());
        }
    }
    assert!(random > 150 && scored > 100, "{random} {scored}");
}

#[test]
#[should_panic(
    expected = "a program with random ops runs in lanes only with a random stream per lane"
)]
fn a_program_with_random_ops_needs_a_stream_per_lane() {
    let tasks = make_tasks::<4>(2, EvalType::RmsError);
    let generator = Generator {
        sizes: SIZES,
        size_init: [3, 1, 1],
        ops: [
            vec![Op::ScalarGaussianSet],
            vec![Op::ScalarSum],
            vec![Op::ScalarSum],
        ],
    };
    let a = generator
        .build(Builtin::Random, &mut Rng::new(1, 0))
        .unwrap();
    let program = Program::compile(&a, &SIZES, 4).unwrap();
    assert!(program.is_random());
    let group = Group::<4, WIDE>::new(&tasks, 0..2);
    let mut memory = LaneMemory::<4, WIDE>::new(SIZES);
    execute_lanes(
        &program,
        &group,
        &tasks,
        10,
        10,
        100.0,
        &mut memory,
        &mut [],
    );
}

#[test]
#[should_panic(expected = "a group runs only with the tasks it was made from")]
fn a_group_refuses_another_task_list() {
    let tasks = make_tasks::<4>(2, EvalType::RmsError);
    let group = Group::<4, NARROW>::new(&tasks, 0..2);
    let mut others = make_tasks::<4>(2, EvalType::RmsError);
    others[1].data_seed += 7;
    let a = programs(1, 1).remove(0);
    let program = Program::compile(&a, &SIZES, 4).unwrap();
    let mut memory = LaneMemory::<4, NARROW>::new(SIZES);
    execute_lanes(
        &program,
        &group,
        &others,
        10,
        10,
        100.0,
        &mut memory,
        &mut [],
    );
}

#[test]
fn a_lane_whose_validation_stops_early_trains_on_from_where_it_stopped() {
    // Predict counts in s1, so the count depends on how many validation Predicts ran; with
    // three epochs and a bound of 100, the tasks' validations stop at different examples.
    let text = "def Setup():\n  s3 = cos(s0)\ndef Predict():\n  s1 = s3 + s1\ndef Learn():\n";
    let a = automl_zero_engine::program::parse(text, &SIZES).unwrap();
    let tasks = make_tasks::<4>(4, EvalType::RmsError);
    let (scored, stopped) = compare(&tasks, &[a]);
    assert!(scored > 0 && stopped > 0, "{scored} {stopped}");
}

/// Programs that share Predict and Learn but not Setup (here: with random ops), run one per
/// lane on one task (`execute_members`), against each run alone.
fn members_side_by_side<const L: usize>() {
    use automl_zero_engine::evaluation::lanes::execute_members;
    let tasks = make_tasks::<4>(1, EvalType::RmsError);
    let group = Group::<4, L>::new(&tasks, 0..1);
    let mut lane_memory = LaneMemory::<4, L>::new(SIZES);
    let mut memory = Memory::<4>::new(SIZES);
    let programs = random_op_programs(200, 9);
    let mut rng = Rng::new(17, 3);
    let (mut checked, mut scored) = (0, 0);
    for (i, a) in programs.iter().enumerate() {
        // Variants of one program differing only in Setup: each takes the Setup of another.
        let variants: Vec<Algorithm> = (0..1 + rng.below(L))
            .map(|_| Algorithm {
                setup: programs[rng.below(programs.len())].setup.clone(),
                ..a.clone()
            })
            .collect();
        let compiled: Vec<Program> = variants
            .iter()
            .map(|v| Program::compile(v, &SIZES, 4).unwrap())
            .collect();
        let refs: Vec<&Program> = compiled.iter().collect();
        let stream = |l: usize| MtRng::new((7000 * i + l.min(compiled.len() - 1)) as u32);
        let mut rngs: [MtRng; L] = std::array::from_fn(stream);
        let got = execute_members(
            &refs,
            &group,
            &tasks,
            75,
            20,
            100.0,
            &mut lane_memory,
            &mut rngs,
        );
        for (l, program) in compiled.iter().enumerate() {
            let expected = execute(
                program,
                &tasks[0],
                75,
                20,
                100.0,
                &mut memory,
                &mut stream(l),
                None,
            );
            assert_same(
                &got[l],
                &expected,
                &format!("program {i}, lane {l}\n{}", variants[l]),
            );
            checked += 1;
            scored += usize::from(expected.fitness > 0.0);
        }
    }
    assert!(checked > 400 && scored > 100, "{checked} {scored}");
}

#[test]
fn members_side_by_side_narrow() {
    members_side_by_side::<NARROW>();
}

#[test]
fn members_side_by_side_wide() {
    members_side_by_side::<WIDE>();
}
