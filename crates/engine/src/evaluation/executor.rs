//! The train loop of one algorithm on one task (SPEC 4).

use crate::cpu::with_avx2;
use crate::interpreter::{Program, sigmoid};
use crate::memory::{FEATURES, LABEL, Memory, PREDICTION, Vector};
use crate::program::Component;
use crate::rng::MtRng;
use crate::tasks::{EvalType, Task};

/// 2/π, the scale of FlipAndSquash.
const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;

/// Maps an error in [0, ∞) onto a fitness in (0, 1]; NaN and ∞ map to 0.
pub fn flip_and_squash(x: f64) -> f64 {
    if x.is_finite() {
        1.0 - TWO_OVER_PI * x.atan()
    } else {
        0.0
    }
}

/// Per-example absolute errors of the first epoch, as the FEC probe records them.
#[derive(Debug, Default, Clone)]
pub struct Errors {
    /// |label - prediction| after each training Predict.
    pub train: Vec<f64>,
    /// The error of each validation example.
    pub valid: Vec<f64>,
}

impl Errors {
    /// Empties both lists.
    pub fn clear(&mut self) {
        self.train.clear();
        self.valid.clear();
    }
}

/// The result of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcome {
    /// The best validation fitness over epochs, in [0, 1].
    pub fitness: f64,
    /// Training steps executed.
    pub train_steps: u64,
    /// Validation examples predicted.
    pub valid_steps: u64,
}

impl Outcome {
    /// Interpreted instructions this run executed (a failing step counts its Learn).
    pub fn instructions(&self, program: &Program) -> u64 {
        let len = |c| program.part(c).len() as u64;
        len(Component::Setup)
            + self.train_steps * (len(Component::Predict) + len(Component::Learn))
            + self.valid_steps * len(Component::Predict)
    }
}

/// Runs the train loop on one task and returns the best validation fitness over epochs.
///
/// The memory is wiped and Setup runs first. `num_train` training steps are taken over all
/// epochs (capped by the task's examples × epochs), and `num_valid` validation examples are
/// scored after each epoch. With `errors`, the first epoch's errors are recorded.
#[allow(clippy::too_many_arguments)]
pub fn execute<const F: usize>(
    program: &Program,
    task: &Task<F>,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
    errors: Option<&mut Errors>,
) -> Outcome {
    start(program, memory, rng);
    run_from(
        program,
        task,
        0,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        rng,
        errors,
        None,
    )
}

/// An FEC probe: [`execute`] recording the first epoch's errors into the emptied `errors`; with
/// `snapshot`, it also copies the memory there once its training is done (before it validates),
/// so that a full run of a program without random ops can [`resume`] from there. Returns the
/// outcome and whether the snapshot was taken.
#[allow(clippy::too_many_arguments)]
pub fn probe<const F: usize>(
    program: &Program,
    task: &Task<F>,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
    errors: &mut Errors,
    snapshot: Option<&mut Memory<F>>,
) -> (Outcome, bool) {
    errors.clear();
    start(program, memory, rng);
    // Only a probe whose training ends inside the first epoch is a prefix of a longer run.
    let prefix = num_train > 0 && num_train < task.train_labels.len();
    let snapshot = snapshot.filter(|_| prefix);
    let wanted = snapshot.is_some();
    let outcome = run_from(
        program,
        task,
        0,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        rng,
        Some(&mut *errors),
        snapshot,
    );
    // The snapshot is taken when training ends without diverging, that is when every
    // training step recorded its error.
    (outcome, wanted && errors.train.len() == num_train)
}

/// Finishes the run that a [`probe`] of `done` training steps began: gives exactly the outcome
/// of [`execute`] with `num_train` steps, for a program that draws no random numbers.
#[allow(clippy::too_many_arguments)]
pub fn resume<const F: usize>(
    program: &Program,
    task: &Task<F>,
    snapshot: &Memory<F>,
    done: usize,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
) -> Outcome {
    debug_assert!(!program.is_random() && done < task.train_labels.len());
    assert!(
        program.fits(memory),
        "a program runs only on a memory with its sizes"
    );
    memory.copy_used(snapshot, program.needs());
    let mut outcome = run_from(
        program,
        task,
        done,
        num_train,
        num_valid,
        max_abs_error,
        memory,
        rng,
        None,
        None,
    );
    outcome.train_steps += done as u64;
    outcome
}

/// The predictions of a trained program: Setup, then every training step of `task` up to
/// `num_train` (all epochs, with no validation between them), then from that memory, for each
/// of `splits`, Predict on its rows in order (the memory carrying over from row to row, s0 = 0),
/// recording s1 (a logit on accuracy tasks). `None` if training stopped on an error above
/// `max_abs_error` or NaN.
pub fn train_then_predict<const F: usize>(
    program: &Program,
    task: &Task<F>,
    num_train: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
    splits: &[&[Vector<F>]],
) -> Option<Vec<Vec<f64>>> {
    start(program, memory, rng);
    let total = num_train.min(task.max_train_examples());
    if !train(program, task, 0, total, max_abs_error, memory, rng, None).ok {
        return None;
    }
    let trained = memory.clone();
    let zero_label = program.predict_reads_label();
    let predictions = splits
        .iter()
        .map(|rows| {
            memory.copy_used(&trained, program.needs());
            rows.iter()
                .map(|features| {
                    memory.vectors[FEATURES as usize] = *features;
                    if zero_label {
                        memory.scalars[LABEL as usize] = 0.0;
                    }
                    // SAFETY: `start` checked that the program fits the memory.
                    unsafe { program.run_unchecked(Component::Predict, memory, rng) };
                    memory.scalars[PREDICTION as usize]
                })
                .collect()
        })
        .collect();
    Some(predictions)
}

/// Wipes the memory a program uses and runs its Setup.
fn start<const F: usize>(program: &Program, memory: &mut Memory<F>, rng: &mut MtRng) {
    assert!(
        program.fits(memory),
        "a program runs only on a memory with its sizes"
    );
    memory.wipe_used(program.needs());
    // SAFETY (every `run_unchecked` of this module): checked once here (and in `resume`); the
    // memory is not resized while the program runs.
    unsafe { program.run_unchecked(Component::Setup, memory, rng) };
}

with_avx2! {
    /// The train loop from training step `done` on (within the first epoch), the memory
    /// holding the state after those steps; the outcome counts only the steps taken here.
    /// Compiled for AVX2 where the CPU has it.
    #[allow(clippy::too_many_arguments)]
    fn run_from<const F: usize>(
        program: &Program,
        task: &Task<F>,
        done: usize,
        num_train: usize,
        num_valid: usize,
        max_abs_error: f64,
        memory: &mut Memory<F>,
        rng: &mut MtRng,
        errors: Option<&mut Errors>,
        snapshot: Option<&mut Memory<F>>,
    ) -> Outcome = run_from_body;
}

/// The body of [`run_from`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_from_body<const F: usize>(
    program: &Program,
    task: &Task<F>,
    done: usize,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
    mut errors: Option<&mut Errors>,
    mut snapshot: Option<&mut Memory<F>>,
) -> Outcome {
    let total = num_train.min(task.max_train_examples());
    let per_epoch = task.train_labels.len();
    let mut position = done;
    let mut best = 0.0f64;
    let mut steps = 0u64;
    let mut valid_steps = 0u64;
    while position < total {
        let first = position < per_epoch;
        let chunk = (per_epoch - position % per_epoch).min(total - position);
        let record = if first { errors.as_deref_mut() } else { None };
        let trained = train(
            program,
            task,
            position,
            chunk,
            max_abs_error,
            memory,
            rng,
            record,
        );
        steps += trained.steps;
        position += chunk;
        if !trained.ok {
            break;
        }
        if let Some(s) = snapshot.take() {
            s.copy_used(memory, program.needs());
        }
        let record = if first { errors.as_deref_mut() } else { None };
        let fitness = validate(
            program,
            task,
            num_valid,
            max_abs_error,
            memory,
            rng,
            record,
            &mut valid_steps,
        );
        best = best.max(fitness);
    }
    Outcome {
        fitness: best,
        train_steps: steps,
        valid_steps,
    }
}

struct Trained {
    ok: bool,
    steps: u64,
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn train<const F: usize>(
    program: &Program,
    task: &Task<F>,
    start: usize,
    count: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
    mut errors: Option<&mut Errors>,
) -> Trained {
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
        for &example in &task.epochs[epoch][first..last] {
            let example = example as usize;
            let features = &task.train_features[example];
            let label = task.train_labels[example];
            memory.vectors[FEATURES as usize] = *features;
            // s0 is 0 and v0 the features while Predict runs (SPEC 4.4); a store that Predict
            // cannot observe is skipped.
            if zero_label {
                memory.scalars[LABEL as usize] = 0.0;
            }
            unsafe { program.run_unchecked(Component::Predict, memory, rng) };
            let s1 = &mut memory.scalars[PREDICTION as usize];
            if accuracy {
                *s1 = sigmoid(*s1);
            }
            let error = (label - *s1).abs();
            t += 1;
            if diverged(error, max_abs_error) {
                return Trained {
                    ok: false,
                    steps: (t - start) as u64,
                };
            }
            if let Some(e) = errors.as_deref_mut() {
                e.train.push(error);
            }
            if refeed {
                memory.vectors[FEATURES as usize] = *features;
            }
            memory.scalars[LABEL as usize] = label;
            unsafe { program.run_unchecked(Component::Learn, memory, rng) };
        }
    }
    Trained {
        ok: true,
        steps: count as u64,
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn validate<const F: usize>(
    program: &Program,
    task: &Task<F>,
    num_valid: usize,
    max_abs_error: f64,
    memory: &mut Memory<F>,
    rng: &mut MtRng,
    mut errors: Option<&mut Errors>,
    predicted: &mut u64,
) -> f64 {
    let steps = task.valid_steps();
    let zero_label = program.predict_reads_label();
    let mut loss = 0.0;
    for k in 0..num_valid.min(steps) {
        memory.vectors[FEATURES as usize] = task.valid_features[k];
        if zero_label {
            memory.scalars[LABEL as usize] = 0.0;
        }
        unsafe { program.run_unchecked(Component::Predict, memory, rng) };
        let prediction = memory.scalars[PREDICTION as usize];
        let error = validation_error(task.eval_type, task.valid_labels[k], prediction);
        if diverged(error.abs(), max_abs_error) {
            *predicted += k as u64 + 1;
            return 0.0;
        }
        if let Some(e) = errors.as_deref_mut() {
            e.valid.push(error.abs());
        }
        loss += validation_loss(task.eval_type, error);
    }
    *predicted += num_valid.min(steps) as u64;
    validation_fitness(task.eval_type, loss, steps)
}

/// Whether an error ends a run: NaN or above the bound. Written as "not within the bound", one
/// comparison that NaN fails.
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(super) fn diverged(error: f64, bound: f64) -> bool {
    !(error <= bound)
}

/// The signed error of one validation prediction (0 or 1 for accuracy; ∞ for a sigmoid out of
/// range).
#[inline(always)]
pub(crate) fn validation_error(eval_type: EvalType, label: f64, prediction: f64) -> f64 {
    match eval_type {
        EvalType::RmsError => label - prediction,
        EvalType::Accuracy => {
            let p = sigmoid(prediction);
            if !(0.0..=1.0).contains(&p) && !p.is_nan() {
                f64::INFINITY
            } else if (label > 0.5) == (p > 0.5) {
                0.0
            } else {
                1.0
            }
        }
    }
}

/// What one validation error adds to the loss.
#[inline(always)]
pub(crate) fn validation_loss(eval_type: EvalType, error: f64) -> f64 {
    match eval_type {
        EvalType::RmsError => error * error,
        EvalType::Accuracy => error,
    }
}

/// The fitness of a validation pass from its loss over the full validation size.
#[inline(always)]
pub(crate) fn validation_fitness(eval_type: EvalType, loss: f64, steps: usize) -> f64 {
    match eval_type {
        EvalType::RmsError => flip_and_squash((loss / steps as f64).sqrt()),
        EvalType::Accuracy => 1.0 - loss / steps as f64,
    }
}

/// The predictions of a whole run, for a program whose predictions cannot depend on the
/// task's data (see [`crate::liveness::prediction_reads_data`]): they are then the same on
/// every task of the same shape, and [`replay`] scores any such task from its labels alone.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Trace {
    /// The prediction after each training Predict (after the sigmoid on accuracy tasks).
    pub train: Vec<f64>,
    /// The validation predictions of every epoch, one epoch after the other.
    pub valid: Vec<f64>,
}

/// Records the predictions of a deterministic, data-blind program over the train loop that
/// [`execute`] would run on `task` with these counts, never stopping early.
pub fn trace<const F: usize>(
    program: &Program,
    task: &Task<F>,
    num_train: usize,
    num_valid: usize,
    memory: &mut Memory<F>,
    out: &mut Trace,
) {
    out.train.clear();
    out.valid.clear();
    memory.wipe();
    assert!(
        program.fits(memory),
        "a program runs only on a memory with its sizes"
    );
    assert!(
        !program.is_random(),
        "only a deterministic program has one trace"
    );
    // So the stream is never drawn from.
    let rng = &mut MtRng::new(0);
    let accuracy = task.eval_type == EvalType::Accuracy;
    // SAFETY (every `run_unchecked` below): checked just above.
    unsafe { program.run_unchecked(Component::Setup, memory, rng) };
    let total = num_train.min(task.max_train_examples());
    let per_epoch = task.train_labels.len();
    let mut position = 0;
    while position < total {
        let chunk = per_epoch.min(total - position);
        // `position` is a whole number of epochs: walk this epoch's order as a slice.
        for &example in &task.epochs[position / per_epoch][..chunk] {
            let example = example as usize;
            memory.vectors[FEATURES as usize] = task.train_features[example];
            memory.scalars[LABEL as usize] = 0.0;
            unsafe { program.run_unchecked(Component::Predict, memory, rng) };
            let s1 = &mut memory.scalars[PREDICTION as usize];
            if accuracy {
                *s1 = sigmoid(*s1);
            }
            out.train.push(*s1);
            memory.vectors[FEATURES as usize] = task.train_features[example];
            memory.scalars[LABEL as usize] = task.train_labels[example];
            unsafe { program.run_unchecked(Component::Learn, memory, rng) };
        }
        position += chunk;
        for k in 0..num_valid.min(task.valid_steps()) {
            memory.vectors[FEATURES as usize] = task.valid_features[k];
            memory.scalars[LABEL as usize] = 0.0;
            unsafe { program.run_unchecked(Component::Predict, memory, rng) };
            out.valid.push(memory.scalars[PREDICTION as usize]);
        }
    }
}

/// Scores `task` from a [`Trace`] recorded with the same counts on a task of the same shape:
/// the outcome (and first-epoch errors) [`execute`] would give. `None` when the run cannot be
/// replayed: a validation stopped early in an epoch that training carries on from, after
/// which the program's memory differs from the trace's.
pub fn replay<const F: usize>(
    trace: &Trace,
    task: &Task<F>,
    num_train: usize,
    num_valid: usize,
    max_abs_error: f64,
    mut errors: Option<&mut Errors>,
) -> Option<Outcome> {
    let total = num_train.min(task.max_train_examples());
    let per_epoch = task.train_labels.len();
    let num_valid = num_valid.min(task.valid_steps());
    let mut outcome = Outcome::default();
    let (mut position, mut seen) = (0, 0);
    while position < total {
        let chunk = per_epoch.min(total - position);
        let first = position == 0;
        // `position` is a whole number of epochs: walk this epoch's order as a slice.
        let order = &task.epochs[position / per_epoch][..chunk];
        let predictions = &trace.train[position..position + chunk];
        for (&example, &prediction) in order.iter().zip(predictions) {
            let error = (task.train_labels[example as usize] - prediction).abs();
            outcome.train_steps += 1;
            if diverged(error, max_abs_error) {
                return Some(outcome);
            }
            if first && let Some(e) = errors.as_deref_mut() {
                e.train.push(error);
            }
        }
        position += chunk;
        let mut loss = 0.0;
        let mut failed = false;
        for k in 0..num_valid {
            outcome.valid_steps += 1;
            let error =
                validation_error(task.eval_type, task.valid_labels[k], trace.valid[seen + k]);
            if diverged(error.abs(), max_abs_error) {
                failed = true;
                break;
            }
            if first && let Some(e) = errors.as_deref_mut() {
                e.valid.push(error.abs());
            }
            loss += validation_loss(task.eval_type, error);
        }
        if failed && position < total {
            return None;
        }
        seen += num_valid;
        let fitness = if failed {
            0.0
        } else {
            validation_fitness(task.eval_type, loss, task.valid_steps())
        };
        outcome.fitness = outcome.fitness.max(fitness);
    }
    Some(outcome)
}
