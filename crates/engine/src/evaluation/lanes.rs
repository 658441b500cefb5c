//! The train loop of one algorithm on several tasks at once, one task per lane (SPEC 4).
//!
//! A program without random ops runs the same instructions on every task of the same shape;
//! only the data differ. Running a group of such tasks side by side dispatches each
//! instruction once for the whole group, and the compiler vectorises the work across lanes.
//! Every lane computes exactly what [`super::executor`] computes for its task, operation for
//! operation (a program with random ops draws from each lane's own stream, in the same order),
//! so the outcomes are the same bit for bit; a lane whose run stops (diverged) goes on
//! computing values that nobody reads.
//!
//! A group is [`NARROW`] (4) or [`WIDE`] (12) lanes wide: a multiple of the four `f64` of an AVX
//! register, so that every op reads and writes a cell in the same whole registers. (With five
//! lanes, one op stored a cell as a register and a single value while the next loaded it
//! across that boundary, and a load that spans two stores waits for both to reach the cache.)

use super::executor::{Outcome, diverged, validation_error, validation_fitness, validation_loss};
use super::fec::ProbeHasher;
use crate::cpu::with_avx2;
use crate::interpreter::{Program, sigmoid};
use crate::memory::{FEATURES, LABEL, LaneMemory, Memory, MemorySizes, PREDICTION, Vector};
use crate::program::Component;
use crate::rng::MtRng;
use crate::tasks::{EvalType, Task};
use std::ops::Range;

/// Lanes of a narrow group: a cell's values fill one AVX register.
pub const NARROW: usize = 4;

/// Lanes of a wide group: a cell's values fill three AVX registers, and the ten search tasks of
/// the paper's and every shipped multi-task config's searches run as one group.
pub const WIDE: usize = 12;

/// The largest feature size run in wide groups: at F = 16 a twelve-lane matrix takes 24 KB, two
/// of them fill a core's L1 cache, and four lanes ran as fast (at F = 32 an unoptimised build's
/// stack could not even hold the temporaries).
pub const WIDE_MAX_FEATURES: usize = 8;

/// Whether a group of `tasks` tasks runs wide ([`WIDE`] lanes) or narrow ([`NARROW`]);
/// [`split`] makes wide groups only of feature sizes up to [`WIDE_MAX_FEATURES`].
pub fn is_wide(tasks: usize) -> bool {
    tasks > NARROW
}

/// A group of 1 to `L` tasks of one shape from a task list, with their examples laid out
/// lane by lane; a short group repeats its last task in the lanes left.
#[derive(Debug, Clone, PartialEq)]
pub struct Group<const F: usize, const L: usize> {
    /// The tasks' positions in the list.
    range: Range<usize>,
    /// Each lane's task as (index, data seed, param seed), to check the list it runs with.
    identity: [(usize, u32, u32); L],
    /// The training examples in data order (the first epoch's), one lane per task; empty
    /// when some task's first epoch is not in data order.
    train_features: Vec<[[f64; L]; F]>,
    train_labels: Vec<[f64; L]>,
    /// The validation examples, one lane per task.
    valid_features: Vec<[[f64; L]; F]>,
    valid_labels: Vec<[f64; L]>,
}

impl<const F: usize, const L: usize> Group<F, L> {
    /// The group of `tasks[range]` (1 to `L` tasks, all of the same shape); it runs only
    /// with the same `tasks`.
    pub fn new(tasks: &[Task<F>], range: Range<usize>) -> Self {
        assert!(
            !range.is_empty() && range.len() <= L,
            "a group holds 1 to {L} tasks"
        );
        let members = &tasks[range.clone()];
        assert!(
            members.iter().all(|t| same_shape(t, &members[0])),
            "the tasks of a group have one shape"
        );
        let lanes = lanes_of(tasks, &range);
        let in_order = lanes.iter().all(|t| {
            t.epochs
                .first()
                .is_some_and(|order| order.iter().enumerate().all(|(i, &e)| e as usize == i))
        });
        let n = if in_order {
            lanes[0].train_labels.len()
        } else {
            0
        };
        let v = lanes[0].valid_steps();
        Group {
            train_features: (0..n)
                .map(|i| interleave(&lanes.map(|t| &t.train_features[i])))
                .collect(),
            train_labels: (0..n).map(|i| lanes.map(|t| t.train_labels[i])).collect(),
            valid_features: (0..v)
                .map(|i| interleave(&lanes.map(|t| &t.valid_features[i])))
                .collect(),
            valid_labels: (0..v).map(|i| lanes.map(|t| t.valid_labels[i])).collect(),
            identity: lanes.map(identity),
            range,
        }
    }

    /// The group with its tasks, taken from `tasks`, the list it was made from.
    fn with<'a>(&'a self, tasks: &'a [Task<F>]) -> Lanes<'a, F, L> {
        let lanes = lanes_of(tasks, &self.range);
        assert!(
            lanes.map(identity) == self.identity,
            "a group runs only with the tasks it was made from"
        );
        Lanes {
            tasks: lanes,
            data: self,
        }
    }

    /// The tasks' positions in the list.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }
}

/// One task per lane: `tasks[range]`, the last one repeated to fill a short group.
fn lanes_of<'a, const F: usize, const L: usize>(
    tasks: &'a [Task<F>],
    range: &Range<usize>,
) -> [&'a Task<F>; L] {
    std::array::from_fn(|l| &tasks[(range.start + l).min(range.end - 1)])
}

/// What tells tasks apart: index, data seed and param seed.
fn identity<const F: usize>(task: &Task<F>) -> (usize, u32, u32) {
    (task.index, task.data_seed, task.param_seed)
}

/// A group with its tasks at hand.
struct Lanes<'a, const F: usize, const L: usize> {
    tasks: [&'a Task<F>; L],
    data: &'a Group<F, L>,
}

/// The memories and probe hashes of one worker's lane runs, `L` lanes wide.
#[derive(Debug, Clone)]
pub struct LaneScratch<const F: usize, const L: usize> {
    /// The memory the lanes run in.
    pub memory: LaneMemory<F, L>,
    /// The memory as the last probe's training left it.
    pub snapshot: LaneMemory<F, L>,
    /// The probe hash of each lane, over its first epoch's errors.
    pub hashes: [ProbeHasher; L],
}

impl<const F: usize, const L: usize> LaneScratch<F, L> {
    /// Zeroed memories of the given sizes.
    pub fn new(sizes: MemorySizes) -> Self {
        LaneScratch {
            memory: LaneMemory::new(sizes),
            snapshot: LaneMemory::new(sizes),
            hashes: [ProbeHasher::new(); L],
        }
    }
}

/// The groups that `tasks[range]` runs in: consecutive tasks of one shape, a wide group (see
/// [`is_wide`]) where more than two narrow ones are left, else narrow ones; tasks left over
/// run one at a time where a group of them would not pay ([`group_pays`]).
pub fn split<const F: usize>(tasks: &[Task<F>], range: Range<usize>) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut t = range.start;
    while t < range.end {
        let run = tasks[t..range.end]
            .iter()
            .take_while(|task| same_shape(task, &tasks[t]))
            .count();
        let size = if F <= WIDE_MAX_FEATURES && run > 2 * NARROW {
            run.min(WIDE)
        } else if !group_pays::<F>(run.min(NARROW)) {
            1
        } else {
            run.min(NARROW)
        };
        groups.push(t..t + size);
        t += size;
    }
    groups
}

/// Whether `runs` runs (tasks, or members on one task) go faster in one lane group than one at a
/// time: always up to [`WIDE_MAX_FEATURES`]; above it, for three or more (a run alone there
/// takes a third of a narrow group's time: at F = 16, 184 against 567 ns a step).
pub fn group_pays<const F: usize>(runs: usize) -> bool {
    F <= WIDE_MAX_FEATURES || runs > NARROW / 2
}

/// Whether two tasks run the same train loop: same examples per epoch, epochs, validation
/// examples and eval type.
pub fn same_shape<const F: usize>(a: &Task<F>, b: &Task<F>) -> bool {
    a.train_labels.len() == b.train_labels.len()
        && a.epochs.len() == b.epochs.len()
        && a.valid_steps() == b.valid_steps()
        && a.eval_type == b.eval_type
}

/// [`super::probe`] on every lane, for a program without random ops, each lane's errors hashed
/// as they come (see [`ProbeHasher`]): each lane's outcome, and whether the snapshot holds that
/// lane's memory after its training (see [`resume_lanes`]).
#[allow(clippy::too_many_arguments)]
pub fn probe_lanes<const F: usize, const L: usize>(
    program: &Program,
    group: &Group<F, L>,
    tasks: &[Task<F>],
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
    hashes: &mut [ProbeHasher; L],
    snapshot: Option<&mut LaneMemory<F, L>>,
) -> [(Outcome, bool); L] {
    let group = &group.with(tasks);
    *hashes = [ProbeHasher::new(); L];
    start(program, memory, &mut []);
    let prefix = num_train > 0 && num_train < group.tasks[0].train_labels.len();
    let snapshot = snapshot.filter(|_| prefix);
    let wanted = snapshot.is_some();
    let outcomes = run_from::<F, L, false, true>(
        program,
        group,
        0,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        &mut [],
        Some(&mut *hashes),
        snapshot,
    );
    std::array::from_fn(|l| (outcomes[l], wanted && hashes[l].train_count() == num_train))
}

/// [`super::resume`] on every lane, from a snapshot that [`probe_lanes`] took after `done`
/// training steps; only the lanes whose snapshot it reported as taken give meaningful outcomes.
#[allow(clippy::too_many_arguments)]
pub fn resume_lanes<const F: usize, const L: usize>(
    program: &Program,
    group: &Group<F, L>,
    tasks: &[Task<F>],
    snapshot: &LaneMemory<F, L>,
    done: usize,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
) -> [Outcome; L] {
    let group = &group.with(tasks);
    check(program, memory, &[]);
    memory.copy_used(snapshot, program.needs());
    let mut outcomes = run_from::<F, L, false, false>(
        program,
        group,
        done,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        &mut [],
        None,
        None,
    );
    for o in &mut outcomes {
        o.train_steps += done as u64;
    }
    outcomes
}

/// [`super::execute`] on every lane; lane `l` draws its random numbers from `rngs[l]` (a
/// program with random ops needs `L` of them, one without none).
#[allow(clippy::too_many_arguments)]
pub fn execute_lanes<const F: usize, const L: usize>(
    program: &Program,
    group: &Group<F, L>,
    tasks: &[Task<F>],
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
    rngs: &mut [MtRng],
) -> [Outcome; L] {
    let group = &group.with(tasks);
    start(program, memory, rngs);
    let random = program.is_random();
    full_run(
        program,
        random,
        group,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        rngs,
    )
}

/// [`super::execute`] of up to `L` programs on one task, one program per lane, for programs
/// that differ in Setup only: each lane runs its own program's Setup (drawing from `rngs[l]`),
/// then the lanes train and validate side by side with the Predict and Learn they share
/// (`shared`, any of them). `group` holds the one task in every lane; `programs` holds 1 to `L`
/// programs, the last one repeated in the lanes left.
#[allow(clippy::too_many_arguments)]
pub fn execute_members<const F: usize, const L: usize>(
    programs: &[&Program],
    group: &Group<F, L>,
    tasks: &[Task<F>],
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
    rngs: &mut [MtRng],
) -> [Outcome; L] {
    assert!(
        group.range.len() == 1 && (1..=L).contains(&programs.len()),
        "members run on one task, 1 to {L} of them"
    );
    let shared = programs[0];
    assert!(
        programs.iter().all(|p| p.same_train_loop(shared)),
        "members share Predict and Learn"
    );
    let group = &group.with(tasks);
    for p in programs {
        check(p, memory, rngs);
    }
    let needs = programs.iter().fold([0; 3], |n, p| {
        let m = p.needs();
        [n[0].max(m[0]), n[1].max(m[1]), n[2].max(m[2])]
    });
    memory.wipe_used(needs);
    let mut one = memory.lane(0);
    for l in 0..L {
        one.wipe_used(needs);
        programs[l.min(programs.len() - 1)].run(Component::Setup, &mut one, &mut rngs[l]);
        memory.set_lane(l, &one);
    }
    let random = programs.iter().any(|p| p.is_random());
    full_run(
        shared,
        random,
        group,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        rngs,
    )
}

/// A full run from a memory whose Setup has run: the train loop with random streams compiled in
/// only where `random` (some lane's program draws), no probe hashes, no snapshot.
#[allow(clippy::too_many_arguments)]
fn full_run<const F: usize, const L: usize>(
    program: &Program,
    random: bool,
    group: &Lanes<'_, F, L>,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
    rngs: &mut [MtRng],
) -> [Outcome; L] {
    let run = if random {
        run_from::<F, L, true, false>
    } else {
        run_from::<F, L, false, false>
    };
    run(
        program,
        group,
        0,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        rngs,
        None,
        None,
    )
}

/// Checks what every lane run relies on: a random stream per lane for a program with random
/// ops, and a memory that fits.
fn check<const F: usize, const L: usize>(
    program: &Program,
    memory: &LaneMemory<F, L>,
    rngs: &[MtRng],
) {
    assert!(
        !program.is_random() || rngs.len() == L,
        "a program with random ops runs in lanes only with a random stream per lane"
    );
    assert!(
        program.fits_lanes(memory),
        "a program runs only on a memory with its sizes"
    );
}

/// Wipes the memory a program uses and runs its Setup on every lane.
fn start<const F: usize, const L: usize>(
    program: &Program,
    memory: &mut LaneMemory<F, L>,
    rngs: &mut [MtRng],
) {
    check(program, memory, rngs);
    memory.wipe_used(program.needs());
    // SAFETY (every `run_lanes_unchecked` of this module): `check` made sure that the memory
    // fits and that a program that draws random numbers has a generator per lane.
    unsafe { program.run_lanes_unchecked(Component::Setup, memory, rngs) };
}

with_avx2! {
    /// The train loop of every lane from training step `done` on (see the executor's
    /// `run_from`), compiled for AVX2 where the CPU has it; a probe (`RECORD`) hashes the
    /// first epoch's errors.
    #[allow(clippy::too_many_arguments)]
    fn run_from<const F: usize, const L: usize, const RANDOM: bool, const RECORD: bool>(
        program: &Program,
        group: &Lanes<'_, F, L>,
        done: usize,
        num_train: usize,
        num_valid: usize,
        max_abs_error: f64,
        memory: &mut LaneMemory<F, L>,
        rngs: &mut [MtRng],
        hashes: Option<&mut [ProbeHasher; L]>,
        snapshot: Option<&mut LaneMemory<F, L>>,
    ) -> [Outcome; L] = run_from_body;
}

/// The body of [`run_from`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_from_body<const F: usize, const L: usize, const RANDOM: bool, const RECORD: bool>(
    program: &Program,
    group: &Lanes<'_, F, L>,
    done: usize,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
    rngs: &mut [MtRng],
    hashes: Option<&mut [ProbeHasher; L]>,
    mut snapshot: Option<&mut LaneMemory<F, L>>,
) -> [Outcome; L] {
    // Only a probe's loop has the hashing code, known at compile time.
    let mut hashes = if RECORD { hashes } else { None };
    let task = group.tasks[0];
    let total = num_train.min(task.max_train_examples());
    let per_epoch = task.train_labels.len();
    let mut position = done;
    let mut alive = [true; L];
    let mut outcomes = [Outcome::default(); L];
    while position < total && alive.contains(&true) {
        let first = position < per_epoch;
        let chunk = (per_epoch - position % per_epoch).min(total - position);
        let record = if first { hashes.as_deref_mut() } else { None };
        train::<F, L, RANDOM>(
            program,
            group,
            position,
            chunk,
            max_abs_error,
            memory,
            rngs,
            record,
            &mut alive,
            &mut outcomes,
        );
        position += chunk;
        if !alive.contains(&true) {
            break;
        }
        if let Some(s) = snapshot.take() {
            s.copy_used(memory, program.needs());
        }
        let record = if first { hashes.as_deref_mut() } else { None };
        validate::<F, L, RANDOM>(
            program,
            group,
            num_valid,
            max_abs_error,
            memory,
            rngs,
            record,
            &alive,
            &mut outcomes,
        );
    }
    outcomes
}

/// Copies a lane vector element by element, each element's lanes in whole registers (as one
/// block, a wide vector would be copied by a call to `memcpy` on every step).
#[inline(always)]
fn copy_vector<const F: usize, const L: usize>(to: &mut [[f64; L]; F], from: &[[f64; L]; F]) {
    for (t, f) in to.iter_mut().zip(from) {
        *t = *f;
    }
}

/// One vector per lane as a lane vector.
#[inline(always)]
fn interleave<const F: usize, const L: usize>(rows: &[&Vector<F>; L]) -> [[f64; L]; F] {
    std::array::from_fn(|k| std::array::from_fn(|l| rows[l][k]))
}

/// `count` training steps from step `start` on every lane still alive; a lane whose error
/// diverges stops (its steps counted up to that one).
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
fn train<const F: usize, const L: usize, const RANDOM: bool>(
    program: &Program,
    group: &Lanes<'_, F, L>,
    start: usize,
    count: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
    rngs: &mut [MtRng],
    mut hashes: Option<&mut [ProbeHasher; L]>,
    alive: &mut [bool; L],
    outcomes: &mut [Outcome; L],
) {
    // A program without random ops passes no generators, known at compile time.
    let rngs: &mut [MtRng] = if RANDOM { rngs } else { &mut [] };
    let task = group.tasks[0];
    let per_epoch = task.train_labels.len();
    let accuracy = task.eval_type == EvalType::Accuracy;
    let (zero_label, refeed) = (
        program.predict_reads_label(),
        program.predict_writes_features(),
    );
    let end = start + count;
    let mut t = start;
    while t < end {
        let (epoch, first) = (t / per_epoch, t % per_epoch);
        let last = per_epoch.min(first + (end - t));
        // The first epoch is in data order, laid out lane by lane already; a later epoch's
        // examples are gathered from each lane's own order.
        let laid_out = epoch == 0 && !group.data.train_labels.is_empty();
        let tasks = &group.tasks;
        let orders: [&[u32]; L] = std::array::from_fn(|l| &tasks[l].epochs[epoch][first..last]);
        let all_features: [&[Vector<F>]; L] = std::array::from_fn(|l| &tasks[l].train_features[..]);
        let all_labels: [&[f64]; L] = std::array::from_fn(|l| &tasks[l].train_labels[..]);
        for i in 0..last - first {
            let gathered;
            let (features, labels) = if laid_out {
                (
                    &group.data.train_features[first + i],
                    group.data.train_labels[first + i],
                )
            } else {
                let examples: [usize; L] = std::array::from_fn(|l| orders[l][i] as usize);
                gathered = interleave(&std::array::from_fn(|l| &all_features[l][examples[l]]));
                (
                    &gathered,
                    std::array::from_fn(|l| all_labels[l][examples[l]]),
                )
            };
            copy_vector(&mut memory.vectors[FEATURES as usize], features);
            if zero_label {
                memory.scalars[LABEL as usize] = [0.0; L];
            }
            unsafe { program.run_lanes_unchecked(Component::Predict, memory, rngs) };
            let s1 = &mut memory.scalars[PREDICTION as usize];
            if accuracy {
                *s1 = s1.map(sigmoid);
            }
            t += 1;
            // A lane fails where its error is NaN or above the bound.
            let (mut error, mut failing) = ([0.0; L], [false; L]);
            for l in 0..L {
                error[l] = (labels[l] - s1[l]).abs();
                failing[l] = alive[l] & diverged(error[l], max_abs_error);
            }
            if failing.contains(&true) {
                for l in (0..L).filter(|&l| failing[l]) {
                    alive[l] = false;
                    outcomes[l].train_steps += (t - start) as u64;
                }
                if !alive.contains(&true) {
                    return;
                }
            }
            if let Some(h) = hashes.as_deref_mut() {
                for l in 0..L {
                    if alive[l] {
                        h[l].train(error[l]);
                    }
                }
            }
            if refeed {
                copy_vector(&mut memory.vectors[FEATURES as usize], features);
            }
            memory.scalars[LABEL as usize] = labels;
            unsafe { program.run_lanes_unchecked(Component::Learn, memory, rngs) };
        }
    }
    for (o, _) in outcomes.iter_mut().zip(alive.iter()).filter(|(_, a)| **a) {
        o.train_steps += count as u64;
    }
}

/// Scores the first `num_valid` validation examples on every lane still alive, raising each
/// lane's best fitness; a lane whose error diverges scores 0 this epoch.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn validate<const F: usize, const L: usize, const RANDOM: bool>(
    program: &Program,
    group: &Lanes<'_, F, L>,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, L>,
    rngs: &mut [MtRng],
    mut hashes: Option<&mut [ProbeHasher; L]>,
    alive: &[bool; L],
    outcomes: &mut [Outcome; L],
) {
    // A program without random ops passes no generators, known at compile time.
    let rngs: &mut [MtRng] = if RANDOM { rngs } else { &mut [] };
    let task = group.tasks[0];
    let steps = task.valid_steps();
    let count = num_valid.min(steps);
    let zero_label = program.predict_reads_label();
    let mut going = *alive;
    let mut loss = [0.0; L];
    // A lane whose validation stops early keeps its memory as the failing Predict left it (as
    // one task at a time would, whose training goes on from there in a later epoch); the other
    // lanes' Predicts would change it, so it is put aside and restored.
    let mut kept: Vec<(usize, Memory<F>)> = Vec::new();
    for k in 0..count {
        copy_vector(
            &mut memory.vectors[FEATURES as usize],
            &group.data.valid_features[k],
        );
        if zero_label {
            memory.scalars[LABEL as usize] = [0.0; L];
        }
        unsafe { program.run_lanes_unchecked(Component::Predict, memory, rngs) };
        let prediction = memory.scalars[PREDICTION as usize];
        let labels = group.data.valid_labels[k];
        // Loops, not `array::from_fn`, which a wide group's validation error is too large to
        // have inlined.
        let mut error = [0.0; L];
        for l in 0..L {
            error[l] = validation_error(task.eval_type, labels[l], prediction[l]);
        }
        let mut failing = [false; L];
        for l in 0..L {
            failing[l] = going[l] & diverged(error[l].abs(), max_abs_error);
        }
        if failing.contains(&true) {
            for l in (0..L).filter(|&l| failing[l]) {
                outcomes[l].valid_steps += k as u64 + 1;
                outcomes[l].fitness = outcomes[l].fitness.max(0.0);
                going[l] = false;
                kept.push((l, memory.lane(l)));
            }
            if !going.contains(&true) {
                break;
            }
        }
        if let Some(h) = hashes.as_deref_mut() {
            for l in 0..L {
                if going[l] {
                    h[l].valid(error[l].abs());
                }
            }
        }
        // Lanes no longer going add garbage that nobody reads.
        for l in 0..L {
            loss[l] += validation_loss(task.eval_type, error[l]);
        }
    }
    for l in 0..L {
        if going[l] {
            outcomes[l].valid_steps += count as u64;
            let fitness = validation_fitness(task.eval_type, loss[l], steps);
            outcomes[l].fitness = outcomes[l].fitness.max(fitness);
        }
    }
    for (l, lane) in &kept {
        memory.set_lane(*l, lane);
    }
}
