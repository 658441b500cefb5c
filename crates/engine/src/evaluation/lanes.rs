//! The train loop of one algorithm on several tasks at once, one task per lane (SPEC 4).
//!
//! A program without random ops runs the same instructions on every task of the same shape;
//! only the data differ. Running a group of such tasks side by side dispatches each
//! instruction once for the whole group, and the compiler vectorises the work across lanes.
//! Every lane computes exactly what [`super::executor`] computes for its task, operation for
//! operation (a program with random ops draws from each lane's own stream, in the same order),
//! so the outcomes are the same bit for bit; a lane whose run stops (diverged) goes on
//! computing values that nobody reads.

use super::executor::{Outcome, diverged, validation_error, validation_fitness, validation_loss};
use super::fec::ProbeHasher;
use crate::cpu::with_avx2;
use crate::interpreter::{Program, sigmoid};
use crate::memory::{FEATURES, LABEL, LaneMemory, Memory, MemorySizes, PREDICTION, Vector};
use crate::program::Component;
use crate::rng::Rng;
use crate::tasks::{EvalType, Task};
use std::ops::Range;

/// How many tasks run side by side: five, so that the ten search tasks of the paper's and
/// every shipped config's searches fill two groups with no lane left idle (a lane without a
/// task of its own costs as much as one with). With AVX, four lanes of a cell fill one
/// register and the fifth is a scalar; on the demo this ran 8.7% faster than four lanes
/// (three groups, two idle lanes) and took 10.7% fewer instructions.
pub const LANES: usize = 5;

/// A group of 1 to `LANES` tasks of one shape from a task list, with their examples laid out
/// lane by lane.
#[derive(Debug, Clone, PartialEq)]
pub struct Group<const F: usize> {
    /// The tasks' positions in the list.
    range: Range<usize>,
    /// Each lane's task as (index, data seed, param seed), to check the list it runs with.
    identity: [(usize, u32, u32); LANES],
    /// The training examples in data order (the first epoch's), one lane per task; empty
    /// when some task's first epoch is not in data order.
    train_features: Vec<[[f64; LANES]; F]>,
    train_labels: Vec<[f64; LANES]>,
    /// The validation examples, one lane per task.
    valid_features: Vec<[[f64; LANES]; F]>,
    valid_labels: Vec<[f64; LANES]>,
}

impl<const F: usize> Group<F> {
    /// The group of `tasks[range]` (1 to `LANES` tasks, all of the same shape); it runs only
    /// with the same `tasks`.
    pub fn new(tasks: &[Task<F>], range: Range<usize>) -> Self {
        assert!(
            !range.is_empty() && range.len() <= LANES,
            "a group holds 1 to {LANES} tasks"
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
    fn with<'a>(&'a self, tasks: &'a [Task<F>]) -> Lanes<'a, F> {
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
fn lanes_of<'a, const F: usize>(
    tasks: &'a [Task<F>],
    range: &Range<usize>,
) -> [&'a Task<F>; LANES] {
    std::array::from_fn(|l| &tasks[(range.start + l).min(range.end - 1)])
}

/// What tells tasks apart: index, data seed and param seed.
fn identity<const F: usize>(task: &Task<F>) -> (usize, u32, u32) {
    (task.index, task.data_seed, task.param_seed)
}

/// A group with its tasks at hand.
struct Lanes<'a, const F: usize> {
    tasks: [&'a Task<F>; LANES],
    data: &'a Group<F>,
}

/// The memories and probe hashes of one worker's lane runs.
#[derive(Debug, Clone)]
pub struct LaneScratch<const F: usize> {
    /// The memory the lanes run in.
    pub memory: LaneMemory<F, LANES>,
    /// The memory as the last probe's training left it.
    pub snapshot: LaneMemory<F, LANES>,
    /// The probe hash of each lane, over its first epoch's errors.
    pub hashes: [ProbeHasher; LANES],
}

impl<const F: usize> LaneScratch<F> {
    /// Zeroed memories of the given sizes.
    pub fn new(sizes: MemorySizes) -> Self {
        LaneScratch {
            memory: LaneMemory::new(sizes),
            snapshot: LaneMemory::new(sizes),
            hashes: Default::default(),
        }
    }
}

/// The groups that `tasks[range]` runs in: consecutive tasks of one shape, `LANES` at most.
pub fn split<const F: usize>(tasks: &[Task<F>], range: Range<usize>) -> Vec<Range<usize>> {
    let mut groups = Vec::new();
    let mut t = range.start;
    while t < range.end {
        let size = tasks[t..range.end.min(t + LANES)]
            .iter()
            .take_while(|task| same_shape(task, &tasks[t]))
            .count();
        groups.push(t..t + size);
        t += size;
    }
    groups
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
pub fn probe_lanes<const F: usize>(
    program: &Program,
    group: &Group<F>,
    tasks: &[Task<F>],
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, LANES>,
    hashes: &mut [ProbeHasher; LANES],
    snapshot: Option<&mut LaneMemory<F, LANES>>,
) -> [(Outcome, bool); LANES] {
    let group = &group.with(tasks);
    *hashes = [ProbeHasher::new(); LANES];
    start(program, memory, &mut []);
    let prefix = num_train > 0 && num_train < group.tasks[0].train_labels.len();
    let snapshot = snapshot.filter(|_| prefix);
    let wanted = snapshot.is_some();
    let outcomes = run_from::<F, false, true>(
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
pub fn resume_lanes<const F: usize>(
    program: &Program,
    group: &Group<F>,
    tasks: &[Task<F>],
    snapshot: &LaneMemory<F, LANES>,
    done: usize,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, LANES>,
) -> [Outcome; LANES] {
    let group = &group.with(tasks);
    check(program, memory, &[]);
    memory.copy_used(snapshot, program.needs());
    let mut outcomes = run_from::<F, false, false>(
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
/// program with random ops needs `LANES` of them, one without none).
#[allow(clippy::too_many_arguments)]
pub fn execute_lanes<const F: usize>(
    program: &Program,
    group: &Group<F>,
    tasks: &[Task<F>],
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, LANES>,
    rngs: &mut [Rng],
) -> [Outcome; LANES] {
    let group = &group.with(tasks);
    start(program, memory, rngs);
    let run = if program.is_random() {
        run_from::<F, true, false>
    } else {
        run_from::<F, false, false>
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
fn check<const F: usize>(program: &Program, memory: &LaneMemory<F, LANES>, rngs: &[Rng]) {
    assert!(
        !program.is_random() || rngs.len() == LANES,
        "a program with random ops runs in lanes only with a random stream per lane"
    );
    assert!(
        program.fits_lanes(memory),
        "a program runs only on a memory with its sizes"
    );
}

/// Wipes the memory a program uses and runs its Setup on every lane.
fn start<const F: usize>(program: &Program, memory: &mut LaneMemory<F, LANES>, rngs: &mut [Rng]) {
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
    fn run_from<const F: usize, const RANDOM: bool, const RECORD: bool>(
        program: &Program,
        group: &Lanes<'_, F>,
        done: usize,
        num_train: usize,
        num_valid: usize,
        max_abs_error: f64,
        memory: &mut LaneMemory<F, LANES>,
        rngs: &mut [Rng],
        hashes: Option<&mut [ProbeHasher; LANES]>,
        snapshot: Option<&mut LaneMemory<F, LANES>>,
    ) -> [Outcome; LANES] = run_from_body;
}

/// The body of [`run_from`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_from_body<const F: usize, const RANDOM: bool, const RECORD: bool>(
    program: &Program,
    group: &Lanes<'_, F>,
    done: usize,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, LANES>,
    rngs: &mut [Rng],
    hashes: Option<&mut [ProbeHasher; LANES]>,
    mut snapshot: Option<&mut LaneMemory<F, LANES>>,
) -> [Outcome; LANES] {
    // Only a probe's loop has the hashing code, known at compile time.
    let mut hashes = if RECORD { hashes } else { None };
    let task = group.tasks[0];
    let total = num_train.min(task.max_train_examples());
    let per_epoch = task.train_labels.len();
    let mut position = done;
    let mut alive = [true; LANES];
    let mut outcomes = [Outcome::default(); LANES];
    while position < total && alive.contains(&true) {
        let first = position < per_epoch;
        let chunk = (per_epoch - position % per_epoch).min(total - position);
        let record = if first { hashes.as_deref_mut() } else { None };
        train::<F, RANDOM>(
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
        validate::<F, RANDOM>(
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

/// One vector per lane as a lane vector.
#[inline(always)]
fn interleave<const F: usize>(rows: &[&Vector<F>; LANES]) -> [[f64; LANES]; F] {
    std::array::from_fn(|k| std::array::from_fn(|l| rows[l][k]))
}

/// `count` training steps from step `start` on every lane still alive; a lane whose error
/// diverges stops (its steps counted up to that one).
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[inline(always)]
fn train<const F: usize, const RANDOM: bool>(
    program: &Program,
    group: &Lanes<'_, F>,
    start: usize,
    count: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, LANES>,
    rngs: &mut [Rng],
    mut hashes: Option<&mut [ProbeHasher; LANES]>,
    alive: &mut [bool; LANES],
    outcomes: &mut [Outcome; LANES],
) {
    // A program without random ops passes no generators, known at compile time.
    let rngs: &mut [Rng] = if RANDOM { rngs } else { &mut [] };
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
        let orders: [&[u32]; LANES] = std::array::from_fn(|l| &tasks[l].epochs[epoch][first..last]);
        let all_features: [&[Vector<F>]; LANES] =
            std::array::from_fn(|l| &tasks[l].train_features[..]);
        let all_labels: [&[f64]; LANES] = std::array::from_fn(|l| &tasks[l].train_labels[..]);
        for i in 0..last - first {
            let gathered;
            let (features, labels) = if laid_out {
                (
                    &group.data.train_features[first + i],
                    group.data.train_labels[first + i],
                )
            } else {
                let examples: [usize; LANES] = std::array::from_fn(|l| orders[l][i] as usize);
                gathered = interleave(&std::array::from_fn(|l| &all_features[l][examples[l]]));
                (
                    &gathered,
                    std::array::from_fn(|l| all_labels[l][examples[l]]),
                )
            };
            memory.vectors[FEATURES as usize] = *features;
            if zero_label {
                memory.scalars[LABEL as usize] = [0.0; LANES];
            }
            unsafe { program.run_lanes_unchecked(Component::Predict, memory, rngs) };
            let s1 = &mut memory.scalars[PREDICTION as usize];
            if accuracy {
                *s1 = s1.map(sigmoid);
            }
            t += 1;
            let error: [f64; LANES] = std::array::from_fn(|l| (labels[l] - s1[l]).abs());
            // A lane fails where its error is NaN or above the bound.
            let failing: [bool; LANES] =
                std::array::from_fn(|l| alive[l] & diverged(error[l], max_abs_error));
            if failing.contains(&true) {
                for l in (0..LANES).filter(|&l| failing[l]) {
                    alive[l] = false;
                    outcomes[l].train_steps += (t - start) as u64;
                }
                if !alive.contains(&true) {
                    return;
                }
            }
            if let Some(h) = hashes.as_deref_mut() {
                for l in 0..LANES {
                    if alive[l] {
                        h[l].train(error[l]);
                    }
                }
            }
            if refeed {
                memory.vectors[FEATURES as usize] = *features;
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
fn validate<const F: usize, const RANDOM: bool>(
    program: &Program,
    group: &Lanes<'_, F>,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut LaneMemory<F, LANES>,
    rngs: &mut [Rng],
    mut hashes: Option<&mut [ProbeHasher; LANES]>,
    alive: &[bool; LANES],
    outcomes: &mut [Outcome; LANES],
) {
    // A program without random ops passes no generators, known at compile time.
    let rngs: &mut [Rng] = if RANDOM { rngs } else { &mut [] };
    let task = group.tasks[0];
    let steps = task.valid_steps();
    let count = num_valid.min(steps);
    let zero_label = program.predict_reads_label();
    let mut going = *alive;
    let mut loss = [0.0; LANES];
    // A lane whose validation stops early keeps its memory as the failing Predict left it (as
    // one task at a time would, whose training goes on from there in a later epoch); the other
    // lanes' Predicts would change it, so it is put aside and restored.
    let mut kept: Vec<(usize, Memory<F>)> = Vec::new();
    for k in 0..count {
        memory.vectors[FEATURES as usize] = group.data.valid_features[k];
        if zero_label {
            memory.scalars[LABEL as usize] = [0.0; LANES];
        }
        unsafe { program.run_lanes_unchecked(Component::Predict, memory, rngs) };
        let prediction = memory.scalars[PREDICTION as usize];
        let labels = group.data.valid_labels[k];
        let error: [f64; LANES] =
            std::array::from_fn(|l| validation_error(task.eval_type, labels[l], prediction[l]));
        let failing: [bool; LANES] =
            std::array::from_fn(|l| going[l] & diverged(error[l].abs(), max_abs_error));
        if failing.contains(&true) {
            for l in (0..LANES).filter(|&l| failing[l]) {
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
            for l in 0..LANES {
                if going[l] {
                    h[l].valid(error[l].abs());
                }
            }
        }
        // Lanes no longer going add garbage that nobody reads.
        for l in 0..LANES {
            loss[l] += validation_loss(task.eval_type, error[l]);
        }
    }
    for l in 0..LANES {
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
