//! Simplification: the smallest equivalent program, with a note on each instruction's role.
//!
//! [`simplify`] repeats, until nothing changes:
//! - dead instructions are removed with the liveness analysis of the whole train loop
//!   ([`crate::liveness::prune`]);
//! - constants are propagated through that loop: Setup once from zeroed memory, then Predict and
//!   Learn any number of times (`s0` is 0 in Predict and the label in Learn, `v0` the features,
//!   `s1` unknown at the start of Learn because ACCURACY tasks squash it). A cell is *known* at
//!   a point when it holds the same bit pattern there on every execution, for every feature
//!   size (vectors and matrices: every element the same);
//! - an instruction whose scalar result is known becomes a constant set (`s3 = 0.5`); one whose
//!   vector or matrix result is known becomes a broadcast of a scalar (or vector) that holds
//!   the same value at that point, when that makes the program shorter;
//! - a store that writes the value its location already holds is dropped (a known value, or
//!   an in-place identity such as `s3 = s3 * s2` with `s2` known to be 1);
//! - a constant that Predict or Learn sets on every example (and nothing else writes) moves
//!   to Setup when the value before it is never read.
//!
//! Finally addresses are renumbered in order of first use ([`crate::liveness::rename`]; `s0`,
//! `s1` and `v0` keep their numbers). Every step keeps what the program computes bit for bit,
//! so the fitness is unchanged. Random ops are never folded; dead ones are removed, as the
//! evaluator does before it runs a program.
//!
//! [`annotate`] tells each instruction's role where the data flow shows it: the prediction,
//! the error read from the label, the learning rate, weights carried across examples.

use crate::interpreter::{FEATURE_SIZES, Program};
use crate::liveness;
use crate::memory::{FEATURES, LABEL, Memory, MemorySizes, PREDICTION};
use crate::ops::{Data, Kind, Op};
use crate::program::{Algorithm, Component, Instruction};
use crate::rng::MtRng;
use crate::with_features;
use std::collections::{HashMap, HashSet};

/// What is known about one memory cell at a program point.
#[derive(Debug, Clone, Copy)]
enum Value {
    /// Differs between executions (or is not uniform).
    Unknown,
    /// Every element holds this bit pattern on every execution.
    Known(f64),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Unknown, Value::Unknown) => true,
            (Value::Known(a), Value::Known(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

impl Value {
    fn join(self, other: Value) -> Value {
        if self == other { self } else { Value::Unknown }
    }

    fn known(self) -> Option<f64> {
        match self {
            Value::Known(x) => Some(x),
            Value::Unknown => None,
        }
    }

    /// Whether the value is known to be exactly `c` (sign of zero included).
    fn is(self, c: f64) -> bool {
        self == Value::Known(c)
    }
}

fn slot(kind: Kind) -> usize {
    match kind {
        Kind::Scalar => 0,
        Kind::Vector => 1,
        Kind::Matrix => 2,
    }
}

/// What is known about every cell at one program point.
#[derive(Debug, Clone, PartialEq)]
struct State {
    cells: [Vec<Value>; 3],
}

impl State {
    /// Freshly wiped memory.
    fn zeroed(sizes: [usize; 3]) -> State {
        State {
            cells: sizes.map(|n| vec![Value::Known(0.0); n]),
        }
    }

    fn get(&self, kind: Kind, addr: u16) -> Value {
        self.cells[slot(kind)][addr as usize]
    }

    fn set(&mut self, kind: Kind, addr: u16, value: Value) {
        self.cells[slot(kind)][addr as usize] = value;
    }

    fn join(&mut self, other: &State) {
        for (mine, theirs) in self.cells.iter_mut().zip(&other.cells) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m = m.join(*t);
            }
        }
    }

    /// The state as Predict starts: features unknown, label 0.
    fn enter_predict(mut self) -> State {
        self.set(Kind::Vector, FEATURES, Value::Unknown);
        self.set(Kind::Scalar, LABEL, Value::Known(0.0));
        self
    }

    /// The state as Learn starts: features and label unknown, and the prediction too (ACCURACY
    /// tasks replace it with its sigmoid).
    fn enter_learn(mut self) -> State {
        self.set(Kind::Vector, FEATURES, Value::Unknown);
        self.set(Kind::Scalar, LABEL, Value::Unknown);
        self.set(Kind::Scalar, PREDICTION, Value::Unknown);
        self
    }
}

/// The memory an algorithm addresses: one past its highest address of each kind, and at
/// least the reserved cells (2 scalars, 1 vector; matrices may be 0).
pub fn memory_needed(a: &Algorithm) -> MemorySizes {
    let mut n = [2u16, 1, 0];
    for c in Component::ALL {
        for ins in a.component(c) {
            for (kind, addr) in ins.reads().chain(ins.writes()) {
                let k = &mut n[slot(kind)];
                *k = (*k).max(addr + 1);
            }
        }
    }
    MemorySizes {
        scalars: n[0],
        vectors: n[1],
        matrices: n[2],
    }
}

fn cell_counts(a: &Algorithm) -> [usize; 3] {
    let m = memory_needed(a);
    [m.scalars as usize, m.vectors as usize, m.matrices as usize]
}

/// Runs one deterministic instruction on uniform inputs at feature size `F` with the
/// interpreter; the output's value if it is uniform.
fn evaluate_at<const F: usize>(ins: &Instruction, inputs: &[f64]) -> Option<f64> {
    let info = ins.op.info();
    let out_kind = info.output?;
    let sizes = MemorySizes {
        scalars: 3,
        vectors: 3,
        matrices: 3,
    };
    let mut memory = Memory::<F>::new(sizes);
    let mut local = Instruction { out: 2, ..*ins };
    for (i, (&kind, &value)) in info.inputs.iter().zip(inputs).enumerate() {
        // Both operands naming one cell read the same cell here too.
        let cell = if i == 1 && kind == info.inputs[0] && ins.in2 == ins.in1 {
            0
        } else {
            i
        };
        match kind {
            Kind::Scalar => memory.scalars[cell] = value,
            Kind::Vector => memory.vectors[cell] = [value; F],
            Kind::Matrix => memory.matrices[cell] = [[value; F]; F],
        }
        if i == 0 {
            local.in1 = cell as u16;
        } else {
            local.in2 = cell as u16;
        }
    }
    let algorithm = Algorithm {
        setup: vec![local],
        ..Algorithm::default()
    };
    let program = Program::compile(&algorithm, &sizes, F).ok()?;
    program.run(Component::Setup, &mut memory, &mut MtRng::new(0));
    let mut values: Box<dyn Iterator<Item = f64>> = match out_kind {
        Kind::Scalar => Box::new(std::iter::once(memory.scalars[2])),
        Kind::Vector => Box::new(memory.vectors[2].into_iter()),
        Kind::Matrix => Box::new(memory.matrices[2].into_iter().flatten()),
    };
    let first = values.next()?;
    values
        .all(|x| x.to_bits() == first.to_bits())
        .then_some(first)
}

/// The result of a deterministic op on known uniform inputs: known when it is uniform and the
/// same for every supported feature size.
fn evaluate(ins: &Instruction, inputs: &[f64]) -> Value {
    let mut agreed: Option<u64> = None;
    for f in FEATURE_SIZES {
        let r = with_features!(f, F => evaluate_at::<F>(ins, inputs), _ => None);
        let Some(x) = r else {
            return Value::Unknown;
        };
        match agreed {
            None => agreed = Some(x.to_bits()),
            Some(bits) if bits == x.to_bits() => {}
            Some(_) => return Value::Unknown,
        }
    }
    agreed.map_or(Value::Unknown, |bits| Value::Known(f64::from_bits(bits)))
}

/// The value an instruction leaves in its output cell, given the state before it.
fn result(ins: &Instruction, st: &State) -> Value {
    let info = ins.op.info();
    let Some(out_kind) = info.output else {
        return Value::Unknown;
    };
    if info.random {
        return Value::Unknown;
    }
    match info.data {
        Data::VectorElement | Data::MatrixElement => {
            // One element changes: still uniform only if it gets the value all others hold.
            let value = ins.data[if info.data == Data::VectorElement {
                1
            } else {
                2
            }] as f64;
            let old = st.get(out_kind, ins.out);
            if old.is(value) { old } else { Value::Unknown }
        }
        _ => {
            let inputs: Option<Vec<f64>> = ins.reads().map(|(k, a)| st.get(k, a).known()).collect();
            match inputs {
                Some(inputs) => evaluate(ins, &inputs),
                None => Value::Unknown,
            }
        }
    }
}

/// Whether an instruction provably leaves its output as it was: an in-place op whose other
/// operand is the op's identity element (`x * 1`, `x / 1`, `x + -0.0`, `x - 0.0`,
/// `min(x, inf)`, `max(x, -inf)`), exact in IEEE arithmetic for every x.
fn is_identity(ins: &Instruction, st: &State) -> bool {
    use Op::*;
    let info = ins.op.info();
    let Some(out_kind) = info.output else {
        return false;
    };
    if info.inputs.len() != 2 {
        return false;
    }
    let addr = [ins.in1, ins.in2];
    let is_out = |i: usize| info.inputs[i] == out_kind && addr[i] == ins.out;
    let value = |i: usize| st.get(info.inputs[i], addr[i]);
    match ins.op {
        ScalarProduct | VectorProduct | MatrixProduct => {
            (is_out(0) && value(1).is(1.0)) || (is_out(1) && value(0).is(1.0))
        }
        ScalarSum | VectorSum | MatrixSum => {
            (is_out(0) && value(1).is(-0.0)) || (is_out(1) && value(0).is(-0.0))
        }
        ScalarDiff | VectorDiff | MatrixDiff => is_out(0) && value(1).is(0.0),
        ScalarDivision | VectorDivision | MatrixDivision => is_out(0) && value(1).is(1.0),
        ScalarVectorProduct | ScalarMatrixProduct => is_out(1) && value(0).is(1.0),
        ScalarMin | VectorMin => is_out(0) && value(1).is(f64::INFINITY),
        ScalarMax | VectorMax => is_out(0) && value(1).is(f64::NEG_INFINITY),
        _ => false,
    }
}

/// What the rewrite does with one instruction.
enum Effect {
    /// Keep it as it is.
    Keep,
    /// Its location already holds what it writes: drop it.
    Redundant,
    /// Its scalar result is known: write the constant instead.
    Fold(f64),
}

/// Applies one instruction to the abstract state and says what the rewrite may do with it.
fn step(ins: &Instruction, st: &mut State) -> Effect {
    let Some((kind, out)) = ins.writes() else {
        return Effect::Keep;
    };
    if is_identity(ins, st) {
        return Effect::Redundant;
    }
    let value = result(ins, st);
    let old = st.get(kind, out);
    st.set(kind, out, value);
    match value {
        Value::Known(c) if old.is(c) => Effect::Redundant,
        Value::Known(c) if kind == Kind::Scalar && ins.op != Op::ScalarConstSet => Effect::Fold(c),
        _ => Effect::Keep,
    }
}

fn run_abstract(code: &[Instruction], st: &mut State) {
    for ins in code {
        step(ins, st);
    }
}

/// The states at the entry of Setup, Predict and Learn that hold on every execution.
fn entry_states(a: &Algorithm) -> [State; 3] {
    let start = State::zeroed(cell_counts(a));
    let mut setup_out = start.clone();
    run_abstract(&a.setup, &mut setup_out);
    let mut predict_in = setup_out.enter_predict();
    loop {
        let mut predict_out = predict_in.clone();
        run_abstract(&a.predict, &mut predict_out);
        let learn_in = predict_out.clone().enter_learn();
        let mut learn_out = learn_in.clone();
        run_abstract(&a.learn, &mut learn_out);
        // Predict follows Setup, Learn (training) and Predict (validation).
        let mut next = predict_in.clone();
        next.join(&predict_out.enter_predict());
        next.join(&learn_out.enter_predict());
        if next == predict_in {
            return [start, predict_in, learn_in];
        }
        predict_in = next;
    }
}

/// A vector or matrix instruction whose known result could be written by a broadcast instead.
struct Candidate {
    component: Component,
    index: usize,
    options: Vec<Instruction>,
}

/// One round of constant propagation: the rewritten algorithm, how many instructions were
/// folded and dropped, and the broadcast rewrites that could be tried.
fn propagate(a: &Algorithm) -> (Algorithm, usize, usize, Vec<Candidate>) {
    let entries = entry_states(a);
    let mut out = Algorithm::default();
    let (mut folded, mut dropped) = (0, 0);
    let mut candidates = Vec::new();
    for (c, entry) in Component::ALL.into_iter().zip(entries) {
        let mut st = entry;
        for (index, ins) in a.component(c).iter().enumerate() {
            let before = st.clone();
            match step(ins, &mut st) {
                Effect::Redundant => dropped += 1,
                Effect::Fold(x) => {
                    folded += 1;
                    out.component_mut(c).push(Instruction::constant(ins.out, x));
                }
                Effect::Keep => {
                    out.component_mut(c).push(*ins);
                    if let Some(options) = broadcasts(ins, &before, &st) {
                        candidates.push(Candidate {
                            component: c,
                            index,
                            options,
                        });
                    }
                }
            }
        }
    }
    (out, folded, dropped, candidates)
}

/// Broadcasts that write the known uniform result of a vector or matrix instruction, from a
/// scalar (or vector) that holds the same value before it.
fn broadcasts(ins: &Instruction, before: &State, after: &State) -> Option<Vec<Instruction>> {
    let (kind, out) = ins.writes()?;
    let value = after.get(kind, out).known()?;
    let (source, op) = match kind {
        Kind::Scalar => return None,
        Kind::Vector => (Kind::Scalar, Op::ScalarBroadcast),
        Kind::Matrix => (Kind::Vector, Op::VectorRowBroadcast),
    };
    if ins.op == op {
        return None;
    }
    let options: Vec<Instruction> = before.cells[slot(source)]
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is(value))
        .map(|(addr, _)| Instruction::unary(op, addr as u16, out))
        .collect();
    (!options.is_empty()).then_some(options)
}

/// Constant sets in Predict and Learn that may be copied to the end of Setup: every write of
/// their scalar in Predict and Learn writes the same constant, and the value the scalar has
/// after Setup is never read (so a store there changes nothing). Once copied, the stores in
/// the loop write a value already held, and propagation drops them.
fn hoists(a: &Algorithm) -> Vec<Instruction> {
    let in_loop: Vec<&Instruction> = a.predict.iter().chain(&a.learn).collect();
    let mut found: Vec<Instruction> = Vec::new();
    for ins in &in_loop {
        let out = ins.out;
        if ins.op != Op::ScalarConstSet
            || out == LABEL
            || out == PREDICTION
            || found.iter().any(|f| f.out == out)
        {
            continue;
        }
        let same = in_loop
            .iter()
            .filter(|w| w.writes() == Some((Kind::Scalar, out)))
            .all(|w| {
                w.op == Op::ScalarConstSet && w.activation.to_bits() == ins.activation.to_bits()
            });
        let mut trial = a.clone();
        trial.setup.push(**ins);
        let read_after_setup = liveness::live_instructions(&trial)[0]
            .last()
            .copied()
            .unwrap_or(true);
        if same && !read_after_setup {
            found.push(**ins);
        }
    }
    found
}

/// Propagation and pruning until neither changes anything; adds to the fold and drop counts.
fn settle(
    mut a: Algorithm,
    folded: &mut usize,
    dropped: &mut usize,
) -> (Algorithm, Vec<Candidate>) {
    loop {
        let (next, f, d, candidates) = propagate(&a);
        if f + d == 0 {
            return (a, candidates);
        }
        *folded += f;
        *dropped += d;
        a = liveness::prune(&next);
    }
}

/// The result of [`simplify`].
#[derive(Debug, Clone)]
pub struct Simplified {
    /// The simplified algorithm.
    pub algorithm: Algorithm,
    /// A note on the role of each instruction of `algorithm`, per component (empty when the
    /// data flow does not tell).
    pub notes: [Vec<String>; 3],
    /// Instructions of the input, no-ops included.
    pub total: usize,
    /// Instructions of the input that were live.
    pub live: usize,
    /// Instructions replaced by a constant set or a broadcast.
    pub folded: usize,
    /// Stores dropped because their location already held the value written.
    pub dropped: usize,
}

impl Simplified {
    /// One line: how many instructions were live of how many, and what propagation did.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} instructions live; {} folded into constants, {} redundant stores dropped; {} instructions remain",
            self.live,
            self.total,
            self.folded,
            self.dropped,
            self.algorithm.len()
        )
    }

    /// The program text with each instruction's note as a comment and the summary on top;
    /// it parses back to `algorithm`.
    pub fn annotated(&self) -> String {
        format!(
            "# {}\n{}",
            self.summary(),
            annotated_text(&self.algorithm, &self.notes)
        )
    }
}

/// Program text with a `# note` after each instruction that has one, notes aligned.
pub fn annotated_text(a: &Algorithm, notes: &[Vec<String>; 3]) -> String {
    let width = Component::ALL
        .iter()
        .flat_map(|&c| a.component(c).iter().map(|i| i.to_string().len()))
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (ci, c) in Component::ALL.into_iter().enumerate() {
        text.push_str(&format!("def {}():\n", c.title()));
        for (i, ins) in a.component(c).iter().enumerate() {
            let line = ins.to_string();
            match notes[ci].get(i).filter(|n| !n.is_empty()) {
                Some(note) => text.push_str(&format!("  {line:<width$}  # {note}\n")),
                None => text.push_str(&format!("  {line}\n")),
            }
        }
    }
    text
}

/// The smallest equivalent algorithm (see the module documentation), with notes.
pub fn simplify(a: &Algorithm) -> Simplified {
    let total = a.len();
    let live = liveness::live_instructions(a)
        .iter()
        .flatten()
        .filter(|k| **k)
        .count();
    let (mut folded, mut dropped) = (0, 0);
    let (mut current, mut candidates) = settle(liveness::prune(a), &mut folded, &mut dropped);
    // Broadcast rewrites are kept only when they shorten the program, moves of constants into
    // Setup only when they shorten Predict and Learn.
    let loop_len = |a: &Algorithm| a.predict.len() + a.learn.len();
    'search: loop {
        for candidate in &candidates {
            for replacement in &candidate.options {
                let mut trial = current.clone();
                trial.component_mut(candidate.component)[candidate.index] = *replacement;
                let (mut f, mut d) = (1, 0);
                let (trial, next) = settle(liveness::prune(&trial), &mut f, &mut d);
                if trial.len() < current.len() {
                    current = trial;
                    candidates = next;
                    folded += f;
                    dropped += d;
                    continue 'search;
                }
            }
        }
        for hoisted in hoists(&current) {
            let mut trial = current.clone();
            trial.setup.push(hoisted);
            let (mut f, mut d) = (0, 0);
            // Propagation first: it drops the stores in the loop that make this one live.
            let (trial, next) = settle(trial, &mut f, &mut d);
            if trial.len() <= current.len() && loop_len(&trial) < loop_len(&current) {
                current = trial;
                candidates = next;
                folded += f;
                dropped += d;
                continue 'search;
            }
        }
        break;
    }
    let algorithm = liveness::rename(&current);
    let notes = annotate(&algorithm);
    Simplified {
        algorithm,
        notes,
        total,
        live,
        folded,
        dropped,
    }
}

type Cell = (Kind, u16);

fn is_partial(ins: &Instruction) -> bool {
    matches!(
        ins.op.info().data,
        Data::VectorElement | Data::MatrixElement
    )
}

/// Cells read before being wholly written in a component (a partial write reads its output);
/// `v0` and `s0`, which the executor sets, are left out.
fn exposed(code: &[Instruction]) -> HashSet<Cell> {
    let mut written = HashSet::new();
    let mut exposed = HashSet::new();
    for ins in code {
        let partial = is_partial(ins);
        for cell in ins.reads().chain(ins.writes().filter(|_| partial)) {
            if !written.contains(&cell) {
                exposed.insert(cell);
            }
        }
        if let Some(cell) = ins.writes().filter(|_| !partial) {
            written.insert(cell);
        }
    }
    exposed.remove(&(Kind::Vector, FEATURES));
    exposed.remove(&(Kind::Scalar, LABEL));
    exposed
}

fn written(code: &[Instruction]) -> HashSet<Cell> {
    code.iter().filter_map(|i| i.writes()).collect()
}

/// The index of the last instruction writing each cell.
fn last_writers(code: &[Instruction]) -> HashMap<Cell, usize> {
    code.iter()
        .enumerate()
        .filter_map(|(i, ins)| ins.writes().map(|cell| (cell, i)))
        .collect()
}

fn name((kind, addr): Cell) -> String {
    format!("{}{addr}", kind.letter())
}

/// "weights" for vectors and matrices, "state" for scalars.
fn state_noun(kind: Kind) -> &'static str {
    match kind {
        Kind::Scalar => "state",
        Kind::Vector | Kind::Matrix => "weights",
    }
}

fn join_notes(first: String, second: String) -> String {
    match (first.is_empty(), second.is_empty()) {
        (true, _) => second,
        (_, true) => first,
        _ => format!("{first}; {second}"),
    }
}

/// A short note on each instruction's role, where the data flow tells it: the prediction,
/// the error and other values read from the label in Learn, the learning rate, weights carried
/// across examples, values passed from Predict to Learn. Best on a pruned algorithm.
pub fn annotate(a: &Algorithm) -> [Vec<String>; 3] {
    let exposed_predict = exposed(&a.predict);
    let exposed_learn = exposed(&a.learn);
    let written_predict = written(&a.predict);
    let written_learn = written(&a.learn);
    let written_loop: HashSet<Cell> = written_predict.union(&written_learn).copied().collect();
    // Cells whose value at the start of an example comes from an earlier example.
    let carried = |cell: Cell| {
        written_loop.contains(&cell)
            && (exposed_predict.contains(&cell)
                || (exposed_learn.contains(&cell) && !written_predict.contains(&cell)))
    };
    let from_predict =
        |cell: Cell| written_predict.contains(&cell) && exposed_learn.contains(&cell);
    // Scalars only ever set to constants (or never written: zero).
    let all: Vec<&Instruction> = Component::ALL
        .iter()
        .flat_map(|&c| a.component(c).iter())
        .collect();
    let constant_only = |addr: u16| {
        addr != LABEL
            && addr != PREDICTION
            && all
                .iter()
                .filter(|w| w.writes() == Some((Kind::Scalar, addr)))
                .all(|w| w.op == Op::ScalarConstSet)
    };

    let mut notes: [Vec<String>; 3] = Default::default();

    // Learn first: it finds the learning rates that Setup's notes name.
    let mut rates: HashSet<u16> = HashSet::new();
    let mut label_dependent: HashSet<Cell> = HashSet::from([(Kind::Scalar, LABEL)]);
    let mut prediction_dependent: HashSet<Cell> = HashSet::from([(Kind::Scalar, PREDICTION)]);
    let last_learn = last_writers(&a.learn);
    // Whether s0 and s1 still hold the label and the prediction (Learn may overwrite them).
    let (mut label_in_s0, mut prediction_in_s1) = (true, true);
    for (i, ins) in a.learn.iter().enumerate() {
        let Some(out) = ins.writes() else {
            notes[2].push(String::new());
            continue;
        };
        let reads: Vec<Cell> = ins.reads().collect();
        let dependent = reads.iter().any(|c| label_dependent.contains(c));
        let (label, prediction) = (
            label_in_s0 && reads.contains(&(Kind::Scalar, LABEL)),
            prediction_in_s1 && reads.contains(&(Kind::Scalar, PREDICTION)),
        );
        let mut note = String::new();
        if label && prediction && ins.op == Op::ScalarDiff && ins.in1 == LABEL {
            note = "the error: label (s0) minus prediction (s1)".into();
        } else if label && prediction && ins.op == Op::ScalarDiff && ins.in1 == PREDICTION {
            note = "the error: prediction (s1) minus label (s0)".into();
        } else if label {
            note = "reads the label (s0)".into();
        } else if prediction && !dependent {
            note = "reads the prediction (s1)".into();
        } else if reads.contains(&(Kind::Vector, FEATURES)) && !dependent {
            note = "reads the features (v0)".into();
        } else if dependent
            && matches!(
                ins.op,
                Op::ScalarProduct | Op::ScalarVectorProduct | Op::ScalarMatrixProduct
            )
        {
            // One scalar operand from the label, the other only ever a constant: a learning rate.
            let rate = reads.iter().find(|&&(kind, addr)| {
                kind == Kind::Scalar
                    && !label_dependent.contains(&(kind, addr))
                    && constant_only(addr)
            });
            if let Some(&(_, r)) = rate {
                rates.insert(r);
                note = format!("scaled by the learning rate s{r}");
            } else if ins.op == Op::ScalarVectorProduct && ins.in2 == FEATURES {
                note = "the gradient: a label-dependent scalar times the features".into();
            }
        } else if dependent && ins.op == Op::VectorOuterProduct && ins.in2 == FEATURES {
            note = "the gradient: outer product with the features".into();
        }
        if last_learn.get(&out) == Some(&i) && carried(out) {
            let update = format!(
                "updates the {} {}, carried across examples",
                state_noun(out.0),
                name(out)
            );
            note = join_notes(note, update);
        } else if note.is_empty() && dependent {
            note = "part of the update (depends on the label)".into();
        } else if note.is_empty() && reads.iter().any(|c| prediction_dependent.contains(c)) {
            note = "part of the update (depends on the prediction)".into();
        } else if let Some(&cell) = reads
            .iter()
            .find(|&&c| note.is_empty() && from_predict(c) && c != (Kind::Scalar, PREDICTION))
        {
            note = format!("uses {} from Predict", name(cell));
        }
        notes[2].push(note);
        label_in_s0 &= out != (Kind::Scalar, LABEL);
        prediction_in_s1 &= out != (Kind::Scalar, PREDICTION);
        let from_prediction = reads.iter().any(|c| prediction_dependent.contains(c));
        for (set, depends) in [
            (&mut label_dependent, dependent),
            (&mut prediction_dependent, from_prediction),
        ] {
            if depends {
                set.insert(out);
            } else if !is_partial(ins) {
                set.remove(&out);
            }
        }
    }

    let last_predict = last_writers(&a.predict);
    for (i, ins) in a.predict.iter().enumerate() {
        let Some(out) = ins.writes() else {
            notes[1].push(String::new());
            continue;
        };
        let is_last = last_predict.get(&out) == Some(&i);
        let mut note = if out == (Kind::Scalar, PREDICTION) && is_last {
            match (ins.op, ins.in1, ins.in2) {
                (Op::VectorInnerProduct, FEATURES, w) | (Op::VectorInnerProduct, w, FEATURES)
                    if w != FEATURES =>
                {
                    format!("the prediction: the features (v0) · the weights v{w}")
                }
                _ => "the prediction".to_string(),
            }
        } else if is_last && carried(out) {
            format!(
                "updates the {} {}, carried across examples",
                state_noun(out.0),
                name(out)
            )
        } else if is_last && from_predict(out) {
            format!("{} is also used in Learn", name(out))
        } else {
            "an intermediate value of the prediction".to_string()
        };
        if ins.reads().any(|c| c == (Kind::Scalar, LABEL)) {
            note.push_str(" (s0 is 0 during Predict)");
        }
        notes[1].push(note);
    }

    let last_setup = last_writers(&a.setup);
    for (i, ins) in a.setup.iter().enumerate() {
        let Some(out) = ins.writes() else {
            notes[0].push(String::new());
            continue;
        };
        let random = ins.op.info().random;
        let note = if last_setup.get(&out) != Some(&i) {
            "an intermediate value of Setup".to_string()
        } else if out.0 == Kind::Scalar && rates.contains(&out.1) {
            "the learning rate".to_string()
        } else if carried(out) {
            format!(
                "{} of the {} {}, carried across examples",
                if random {
                    "random initial value"
                } else {
                    "initial value"
                },
                state_noun(out.0),
                name(out)
            )
        } else if !written_loop.contains(&out) {
            if random {
                format!("{} is drawn once and stays constant", name(out))
            } else {
                format!("{} is a constant", name(out))
            }
        } else {
            format!("the first value of {}", name(out))
        };
        notes[0].push(note);
    }
    // Learn's constant sets of a learning rate.
    for (i, ins) in a.learn.iter().enumerate() {
        if ins.op == Op::ScalarConstSet && rates.contains(&ins.out) {
            let cell = (Kind::Scalar, ins.out);
            let later = a.learn[i + 1..]
                .iter()
                .any(|l| l.reads().any(|c| c == cell));
            let next = carried(cell) && last_learn.get(&cell) == Some(&i);
            let when = match (later, next) {
                (true, true) => "from here on",
                (true, false) => "for the rest of this Learn",
                _ => "from the next example on",
            };
            notes[2][i] = format!("the learning rate s{} {when}", ins.out);
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::parse;

    const SIZES: MemorySizes = MemorySizes {
        scalars: 8,
        vectors: 8,
        matrices: 4,
    };

    fn p(text: &str) -> Algorithm {
        parse(text, &SIZES).unwrap()
    }

    #[test]
    fn constants_fold_and_their_sources_die() {
        let s = simplify(&p(
            "def Setup():\n  s4 = 0.5\n  s5 = s4 * s4\ndef Predict():\n  s1 = dot(v0, v3)\ndef Learn():\n  s6 = s0 - s1\n  s6 = s6 * s5\n  v4 = s6 * v0\n  v3 = v3 + v4\n",
        ));
        assert_eq!(
            s.algorithm.to_string(),
            "def Setup():\n  s2 = 0.25\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
        );
        assert_eq!((s.total, s.live, s.folded, s.dropped), (7, 7, 1, 0));
    }

    #[test]
    fn stores_of_values_already_held_are_dropped() {
        // v1 is zero in Setup; s2 holds 0.01 when Learn sets it again; s3 * 1.0 in place is
        // the identity.
        let s = simplify(&p(
            "def Setup():\n  s2 = 0.01\n  s4 = 1.0\n  v1 = bcast(s0)\n  v1[0.5] = 0.0\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s4\n  s3 = s3 * s2\n  s2 = 0.01\n  v2 = s3 * v0\n  v1 = v1 + v2\n",
        ));
        assert_eq!(
            s.algorithm.to_string(),
            "def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
        );
        assert_eq!((s.live, s.folded, s.dropped), (11, 0, 4));
    }

    #[test]
    fn values_that_change_between_examples_are_not_folded() {
        // s2 is 0.5 in the first Learn but 0.25 afterwards, s3 depends on the label.
        let text = "def Setup():\n  s2 = 0.5\ndef Predict():\n  s1 = s2 * s3\ndef Learn():\n  s3 = s0 * s2\n  s2 = 0.25\n";
        let s = simplify(&p(text));
        assert_eq!(s.algorithm, p(text));
        assert_eq!((s.folded, s.dropped), (0, 0));
    }

    #[test]
    fn the_label_is_zero_during_predict() {
        // s1 = 0 * 0 at every Predict. The store stays: on ACCURACY tasks s1 holds sigmoid(0)
        // when the next Predict starts.
        let s = simplify(&p(
            "def Setup():\ndef Predict():\n  s1 = s0 * s4\ndef Learn():\n  s3 = s0 - s1\n  s1 = s3 + s1\n",
        ));
        assert_eq!(
            s.algorithm.to_string(),
            "def Setup():\ndef Predict():\n  s1 = 0.0\ndef Learn():\n"
        );
        assert_eq!((s.live, s.folded, s.dropped), (1, 1, 0));
    }

    #[test]
    fn a_known_vector_becomes_a_broadcast_when_that_is_shorter() {
        // v2 ends Setup as +0 after passing through -0: the two stores collapse.
        let s = simplify(&p(
            "def Setup():\n  s2 = -1.0\n  v2 = s2 * v2\n  v2 = v2 + v0\n  s3 = 0.1\ndef Predict():\n  s1 = dot(v0, v2)\ndef Learn():\n  s4 = s0 - s1\n  s4 = s4 * s3\n  v3 = s4 * v0\n  v2 = v2 + v3\n",
        ));
        assert_eq!(
            s.algorithm.to_string(),
            "def Setup():\n  s2 = 0.1\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
        );
    }

    #[test]
    fn a_constant_set_on_every_example_moves_to_setup() {
        let s = simplify(&p(
            "def Setup():\ndef Predict():\n  s5 = 0.1\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s5\n  v2 = s3 * v0\n  v1 = v1 + v2\n",
        ));
        assert_eq!(
            s.algorithm.to_string(),
            "def Setup():\n  s2 = 0.1\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
        );
        assert_eq!(s.notes[0], vec!["the learning rate".to_string()]);
        // Not when the first example reads the value Setup leaves (here 0).
        let text = "def Setup():\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  s2 = 0.1\n  v2 = s3 * v0\n  v1 = v1 + v2\n";
        assert_eq!(simplify(&p(text)).algorithm, liveness::rename(&p(text)));
    }

    #[test]
    fn reserved_addresses_keep_their_numbers_and_notes_tell_roles() {
        let s = simplify(&p(
            "def Setup():\n  s7 = 0.01\ndef Predict():\n  s1 = dot(v0, v5)\ndef Learn():\n  s6 = s0 - s1\n  s6 = s6 * s7\n  v6 = s6 * v0\n  v5 = v5 + v6\n",
        ));
        assert_eq!(
            s.notes,
            [
                vec!["the learning rate".to_string()],
                vec!["the prediction: the features (v0) · the weights v1".to_string()],
                vec![
                    "the error: label (s0) minus prediction (s1)".to_string(),
                    "scaled by the learning rate s2".to_string(),
                    "the gradient: a label-dependent scalar times the features".to_string(),
                    "updates the weights v1, carried across examples".to_string(),
                ],
            ]
        );
        let text = s.annotated();
        assert!(text.starts_with("# 6 of 6 instructions live;"), "{text}");
        assert_eq!(parse(&text, &SIZES).unwrap(), s.algorithm);
    }

    #[test]
    fn memory_needed_counts_the_highest_addresses() {
        let a = p(
            "def Setup():\n  m3 = transpose(m1)\ndef Predict():\n  s5 = norm(v2)\ndef Learn():\n",
        );
        assert_eq!(
            memory_needed(&a),
            MemorySizes {
                scalars: 6,
                vectors: 3,
                matrices: 4
            }
        );
    }
}
