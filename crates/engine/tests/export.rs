//! The exported Python and Rust modules compute what the engine computes.
//!
//! Several programs (the hand-written linear regression, the built-in neural net, a program the
//! demo found, random programs over every non-random op, and one program using every
//! deterministic op) are exported, run by a small harness that implements the train and
//! validation loop of SPEC 4 around the exported `Model` (Python with `python3` and NumPy; Rust
//! compiled with `rustc`), on the data of three tasks, and their fitnesses must equal the
//! engine's to 1e-9. The harness also trains on three examples and reports the whole memory,
//! which must equal the engine's memory cell by cell. The neural net's Setup draws random
//! numbers: its memory after the engine's Setup is copied into the model, so the comparison
//! covers Predict and Learn; the random ops' own export is checked for ranges.
//!
//! The Python test is skipped, with a note, when `python3` is missing. NumPy is required.

use automl_zero_engine::builtins::{self, Builtin, Generator};
use automl_zero_engine::evaluation::execute;
use automl_zero_engine::export::{ExportOptions, Language, export};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::ops::{Kind, Op};
use automl_zero_engine::program::{Algorithm, Component, Instruction, parse};
use automl_zero_engine::rng::{MtRng, Rng};
use automl_zero_engine::simplify::{memory_needed, simplify};
use automl_zero_engine::tasks::{EvalType, Task, TaskKind, TaskSpec, build_tasks};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

const F: usize = 4;
const MAX_ABS_ERROR: f64 = 100.0;
/// The memory of the engine's runs: large enough for every program here.
const BIG: MemorySizes = MemorySizes {
    scalars: 128,
    vectors: 128,
    matrices: 128,
};
/// The seed of the engine's random ops (the neural net's Setup).
const SEED: u64 = 7;

const LINEAR: &str = "\
def Setup():
  s2 = 0.01
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s3 = s3 * s2
  v2 = s3 * v0
  v1 = v1 + v2
";

const DEMO_FOUND: &str = "\
def Setup():
  s2 = -0.14235128776926387
  s3 = -3.247995770654643
def Predict():
  s3 = s0 * s3
  s1 = dot(v0, v1)
def Learn():
  v1 = s1 * v0
  s3 = s3 - s0
  v1 = v1 + v2
  v2 = s3 * v0
  v2 = v2 + v1
  v1 = v2 + v2
  v1 = s2 * v1
  s2 = -0.0742712169272289
";

/// One program to export, with the engine's memory after Setup when Setup draws random numbers.
struct Case {
    name: String,
    algorithm: Algorithm,
    after_setup: Option<Memory<F>>,
}

impl Case {
    fn new(name: &str, algorithm: Algorithm) -> Case {
        let after_setup = algorithm.setup.iter().any(|i| i.op.info().random).then(|| {
            let program = Program::compile(&algorithm, &BIG, F).unwrap();
            let mut memory = Memory::<F>::new(BIG);
            program.run(Component::Setup, &mut memory, &mut MtRng::new(SEED as u32));
            memory
        });
        Case {
            name: name.to_string(),
            algorithm,
            after_setup,
        }
    }
}

/// Every op but the random ones, three times each in Predict or Learn with other inputs each
/// time, on inputs set up in Setup: finite values, zeros of both signs and NaN.
fn every_deterministic_op() -> Algorithm {
    let mut text = String::from(
        "def Setup():\n  s2 = 0.5\n  s3 = -1.5\n  s4 = 2.0\n  s5 = -0.0\n  s6 = 1.0\n  v1 = bcast(s2)\n  v1[0.3] = -0.75\n  v2 = bcast(s3)\n  v2[0.6] = 3.0\n  v3 = bcast(s5)\n  v3[0.6] = 1.0\n  v3[0.3] = 0.0\n  m1 = outer(v1, v2)\n  m1[0.1, 0.9] = 0.25\n  m2 = bcast(v2, axis=0)\n  m2[0.5, 0.5] = -2.0\n  m3 = bcast(v3, axis=1)\n",
    );
    let (mut s, mut v, mut m) = (10u16, 10u16, 10u16);
    let mut lines = Vec::new();
    let mut operand = 0usize;
    for _ in 0..3 {
        for op in Op::ALL {
            let info = op.info();
            if info.random || *op == Op::NoOp {
                continue;
            }
            let mut ins = Instruction {
                op: *op,
                ..Instruction::NO_OP
            };
            let mut pick = |k: Kind| {
                operand += 1;
                match k {
                    Kind::Scalar => [0, 2, 3, 4, 5, 6, 2][operand % 7],
                    Kind::Vector => [0, 1, 2, 3, 1][operand % 5],
                    Kind::Matrix => [1, 2, 3, 2][operand % 4],
                }
            };
            if let Some(&k) = info.inputs.first() {
                ins.in1 = pick(k);
            }
            if let Some(&k) = info.inputs.get(1) {
                ins.in2 = pick(k);
            }
            let next = match info.output.unwrap() {
                Kind::Scalar => &mut s,
                Kind::Vector => &mut v,
                Kind::Matrix => &mut m,
            };
            ins.out = *next;
            *next += 1;
            ins.activation = -0.125;
            ins.data = [0.7, 0.35, -1.25];
            lines.push(ins);
        }
    }
    let half = lines.len() / 2;
    text.push_str("def Predict():\n");
    for ins in &lines[..half] {
        let _ = writeln!(text, "  {ins}");
    }
    text.push_str("  s1 = dot(v0, v1)\ndef Learn():\n");
    for ins in &lines[half..] {
        let _ = writeln!(text, "  {ins}");
    }
    // The text reader refuses NaN, so the NaN inputs are set after parsing.
    let mut algorithm = parse(&text, &BIG).unwrap();
    for ins in &mut algorithm.setup {
        match (ins.op, ins.out) {
            (Op::ScalarConstSet, 6) => ins.activation = f64::NAN,
            (Op::VectorConstSet, 3) => ins.data[1] = f32::NAN,
            _ => {}
        }
    }
    algorithm
}

/// A random program over the deterministic ops whose training does not fail on the first task.
fn random_programs(count: usize, tasks: &[Task<F>]) -> Vec<Algorithm> {
    let ops: Vec<Op> = Op::ALL
        .iter()
        .copied()
        .filter(|op| !op.info().random && *op != Op::NoOp)
        .collect();
    let sizes = MemorySizes {
        scalars: 6,
        vectors: 5,
        matrices: 3,
    };
    let mut rng = Rng::new(2024, 0);
    let mut found = Vec::new();
    while found.len() < count {
        let mut a = Algorithm::default();
        for (c, n) in Component::ALL.into_iter().zip([5, 8, 8]) {
            for _ in 0..n {
                let op = ops[rng.below(ops.len())];
                a.component_mut(c)
                    .push(Instruction::random(op, &sizes, &mut rng));
            }
        }
        // Keep the programs whose fitness is not 0 on some task: their errors are finite.
        if tasks.iter().any(|t| engine_fitness(&a, t) > 0.0) || found.len() % 4 == 3 {
            found.push(a);
        }
    }
    found
}

fn cases(tasks: &[Task<F>]) -> Vec<Case> {
    let nn_sizes = MemorySizes {
        scalars: 5,
        vectors: 9,
        matrices: 2,
    };
    let generator = Generator {
        sizes: nn_sizes,
        size_init: [0; 3],
        ops: Default::default(),
    };
    let nn = generator
        .build(Builtin::NeuralNet, &mut Rng::new(0, 0))
        .unwrap();
    let found = parse(DEMO_FOUND, &BIG).unwrap();
    let mut cases = vec![
        Case::new("linear", parse(LINEAR, &BIG).unwrap()),
        Case::new("builtin_linear", builtins::linear(0.05)),
        Case::new("neural_net", nn.clone()),
        Case::new("neural_net_simplified", simplify(&nn).algorithm),
        Case::new("demo_found", found),
        Case::new("every_op", every_deterministic_op()),
    ];
    for (i, a) in random_programs(12, tasks).into_iter().enumerate() {
        cases.push(Case::new(&format!("random_{i}"), a));
    }
    cases
}

/// Regression with two epochs, the 2-layer teacher regression, and classification.
fn tasks() -> Vec<Task<F>> {
    let mut linear = TaskSpec::generated(TaskKind::ScalarLinearRegression, F, 30, 12, 1);
    linear.num_train_epochs = 2;
    let teacher = TaskSpec::generated(TaskKind::Scalar2layerNnRegression, F, 40, 12, 1);
    let mut tasks = build_tasks::<F>(&[linear, teacher], "tasks", Path::new(".")).unwrap();
    let mut rng = Rng::new(11, 0);
    let mut examples = |n: usize| {
        let xs: Vec<[f64; F]> = (0..n)
            .map(|_| std::array::from_fn(|_| rng.normal()))
            .collect();
        let ys = xs
            .iter()
            .map(|x| f64::from(x[1] + 0.5 * x[3] > 0.0))
            .collect();
        (xs, ys)
    };
    let (train, valid) = (examples(30), examples(12));
    tasks.push(Task::new(2, EvalType::Accuracy, train, valid, 2, (8, 9)));
    tasks
}

/// The engine's fitness, with the random ops drawing from `SEED`.
fn engine_fitness(a: &Algorithm, task: &Task<F>) -> f64 {
    let program = Program::compile(a, &BIG, F).unwrap();
    let mut memory = Memory::<F>::new(BIG);
    execute(
        &program,
        task,
        task.max_train_examples(),
        task.valid_steps(),
        MAX_ABS_ERROR,
        &mut memory,
        &mut MtRng::new(SEED as u32),
        None,
    )
    .fitness
}

/// Three training examples of the first task, one epoch, and no validation: the run whose
/// final memory is compared.
fn trace_task(tasks: &[Task<F>]) -> Task<F> {
    let t = &tasks[0];
    Task::new(
        9,
        EvalType::RmsError,
        (t.train_features[..3].to_vec(), t.train_labels[..3].to_vec()),
        (t.valid_features[..1].to_vec(), t.valid_labels[..1].to_vec()),
        1,
        (1, 1),
    )
}

/// The engine's memory after the trace run, cut to the cells the exported model has; `None` for
/// the cells of an outer product the engine leaves unstored because nothing reads it
/// (`Program::unstored_products`).
fn engine_trace(a: &Algorithm, trace: &Task<F>) -> Vec<Option<f64>> {
    let mut memory = Memory::<F>::new(BIG);
    let program = Program::compile(a, &BIG, F).unwrap();
    execute(
        &program,
        trace,
        trace.max_train_examples(),
        0,
        MAX_ABS_ERROR,
        &mut memory,
        &mut MtRng::new(SEED as u32),
        None,
    );
    let needed = memory_needed(a);
    let mut cells: Vec<Option<f64>> = flatten(&memory, &needed).into_iter().map(Some).collect();
    let first_matrix = needed.scalars as usize + needed.vectors as usize * F;
    for m in program.unstored_products() {
        let start = first_matrix + m * F * F;
        for cell in &mut cells[start..start + F * F] {
            *cell = None;
        }
    }
    cells
}

fn flatten(m: &Memory<F>, n: &MemorySizes) -> Vec<f64> {
    let mut out: Vec<f64> = m.scalars[..n.scalars as usize].to_vec();
    out.extend(m.vectors[..n.vectors as usize].iter().flatten());
    out.extend(m.matrices[..n.matrices as usize].iter().flatten().flatten());
    out
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * a.abs().max(1.0)
}

/// Fitnesses reported by a harness: case, task, fitness.
type Fits = Vec<(String, usize, f64)>;
/// Memories reported by a harness: case, cells.
type Memories = Vec<(String, Vec<f64>)>;

/// Parses the harness output: `fit CASE TASK VALUE` and `mem CASE V0 V1 ...` lines.
fn parse_output(text: &str) -> (Fits, Memories) {
    let (mut fits, mut mems) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            Some(&"fit") => fits.push((
                words[1].to_string(),
                words[2].parse().unwrap(),
                words[3].parse().unwrap(),
            )),
            Some(&"mem") => mems.push((
                words[1].to_string(),
                words[2..].iter().map(|w| w.parse().unwrap()).collect(),
            )),
            _ => {}
        }
    }
    (fits, mems)
}

/// Checks a harness's output against the engine: every fitness to 1e-9, every memory cell of
/// the trace to 1e-9 relative.
fn check(language: &str, output: &str, cases: &[Case], tasks: &[Task<F>]) {
    let (fits, mems) = parse_output(output);
    assert_eq!(
        fits.len(),
        cases.len() * tasks.len(),
        "{language}:\n{output}"
    );
    assert_eq!(mems.len(), cases.len(), "{language}:\n{output}");
    let mut nonzero = 0;
    for (name, t, fitness) in &fits {
        let case = cases.iter().find(|c| &c.name == name).unwrap();
        // With random ops in Setup, the harness copied in this run's memory after Setup.
        let expected = engine_fitness(&case.algorithm, &tasks[*t]);
        assert!(
            (fitness - expected).abs() <= 1e-9,
            "{language}: {name} on task {t}: exported {fitness}, engine {expected}\n{}",
            case.algorithm
        );
        nonzero += usize::from(expected > 0.0);
    }
    assert!(
        nonzero >= cases.len(),
        "too few informative runs: {nonzero}"
    );
    let trace = trace_task(tasks);
    for (name, memory) in &mems {
        let case = cases.iter().find(|c| &c.name == name).unwrap();
        let expected = engine_trace(&case.algorithm, &trace);
        assert_eq!(memory.len(), expected.len(), "{language}: {name}");
        for (i, (x, y)) in memory.iter().zip(&expected).enumerate() {
            let Some(y) = y else { continue };
            assert!(
                close(*x, *y, 1e-9),
                "{language}: {name}: memory cell {i}: exported {x}, engine {y}\n{}",
                case.algorithm
            );
        }
    }
}

fn options(name: &str) -> ExportOptions {
    ExportOptions {
        features: F,
        seed: 0,
        notes: None,
        title: format!("Test case {name}."),
        accuracy: false,
        ..ExportOptions::default()
    }
}

fn py_list(xs: &[f64]) -> String {
    let items: Vec<String> = xs
        .iter()
        .map(|x| {
            if x.is_nan() {
                "float('nan')".into()
            } else if x.is_infinite() {
                format!("float('{}inf')", if *x < 0.0 { "-" } else { "" })
            } else {
                format!("{x:?}")
            }
        })
        .collect();
    format!("[{}]", items.join(", "))
}

fn py_task(t: &Task<F>) -> String {
    let rows = |xs: &[[f64; F]]| {
        let r: Vec<String> = xs.iter().map(|x| py_list(x)).collect();
        format!("[{}]", r.join(", "))
    };
    let epochs: Vec<String> = t.epochs.iter().map(|e| format!("{:?}", e)).collect();
    format!(
        "dict(accuracy={}, train_x={}, train_y={}, valid_x={}, valid_y={}, epochs=[{}])",
        if t.eval_type == EvalType::Accuracy {
            "True"
        } else {
            "False"
        },
        rows(&t.train_features),
        py_list(&t.train_labels),
        rows(&t.valid_features),
        py_list(&t.valid_labels),
        epochs.join(", ")
    )
}

const PY_HARNESS: &str = r#"
import importlib, math, sys
import numpy as np

MAX_ABS_ERROR = 100.0


def sigmoid(x):
    with np.errstate(all="ignore"):
        return float(1.0 / (1.0 + np.exp(-x)))


def flip_and_squash(x):
    return 1.0 - 0.63661977236758138243 * math.atan(x) if math.isfinite(x) else 0.0


def validate(model, task, num_valid):
    xs, ys = task["valid_x"], task["valid_y"]
    loss = 0.0
    for k in range(min(num_valid, len(ys))):
        p, y = model.predict(np.array(xs[k])), ys[k]
        if task["accuracy"]:
            q = sigmoid(p)
            if not math.isnan(q) and not 0.0 <= q <= 1.0:
                err = math.inf
            else:
                err = 0.0 if (y > 0.5) == (q > 0.5) else 1.0
        else:
            err = y - p
        if math.isnan(err) or abs(err) > MAX_ABS_ERROR:
            return 0.0
        loss += err if task["accuracy"] else err * err
    if task["accuracy"]:
        return 1.0 - loss / len(ys)
    return flip_and_squash(math.sqrt(loss / len(ys)))


def fitness(model, task, num_valid):
    """The train and validation loop of SPEC 4, after setup()."""
    xs, ys, epochs = task["train_x"], task["train_y"], task["epochs"]
    per_epoch = len(ys)
    total = per_epoch * len(epochs)
    remaining, position, best = total, 0, 0.0
    while remaining > 0:
        chunk = min(per_epoch, remaining)
        first = remaining == total
        ok = True
        for t in range(position, position + chunk):
            i = epochs[t // per_epoch][t % per_epoch]
            x, y = np.array(xs[i]), ys[i]
            p = model.predict(x)
            if task["accuracy"]:
                p = sigmoid(p)
            err = abs(y - p)
            if math.isnan(err) or err > MAX_ABS_ERROR:
                ok = False
                break
            model.learn(x, y)
        position += chunk
        if not ok:
            if first:
                best = 0.0
            break
        remaining -= chunk
        best = max(best, validate(model, task, num_valid))
    return best


def model_for(case, task):
    module = importlib.import_module(case["module"])
    model = module.Model(accuracy=task["accuracy"])
    model.setup()
    if case["init"] is not None:
        s, v, m = case["init"]
        model.s[:] = s
        model.v[:] = np.array(v).reshape(model.v.shape)
        model.m[:] = np.array(m).reshape(model.m.shape)
    return model


for case in CASES:
    for t, task in enumerate(TASKS):
        print("fit", case["name"], t, repr(fitness(model_for(case, task), task, len(task["valid_y"]))))
    model = model_for(case, TRACE)
    fitness(model, TRACE, 0)
    cells = list(model.s) + list(model.v.ravel()) + list(model.m.ravel())
    print("mem", case["name"], " ".join(repr(float(c)) for c in cells))
"#;

fn python_harness(dir: &Path, cases: &[Case], tasks: &[Task<F>]) -> String {
    let mut script = String::from("TASKS = [\n");
    for t in tasks {
        let _ = writeln!(script, "    {},", py_task(t));
    }
    let _ = writeln!(
        script,
        "]\nTRACE = {}\nCASES = [",
        py_task(&trace_task(tasks))
    );
    for case in cases {
        let module = export(&case.algorithm, Language::Python, &options(&case.name)).unwrap();
        std::fs::write(dir.join(format!("{}.py", case.name)), module).unwrap();
        let init = match &case.after_setup {
            None => "None".to_string(),
            Some(m) => {
                let n = memory_needed(&case.algorithm);
                let flat = flatten(m, &n);
                let (s, rest) = flat.split_at(n.scalars as usize);
                let (v, mx) = rest.split_at(n.vectors as usize * F);
                format!("({}, {}, {})", py_list(s), py_list(v), py_list(mx))
            }
        };
        let _ = writeln!(
            script,
            "    dict(name={:?}, module={:?}, init={init}),",
            case.name, case.name
        );
    }
    script.push_str("]\n");
    script.push_str(PY_HARNESS);
    script
}

#[test]
fn exported_python_gives_the_engines_fitness() {
    if Command::new("python3").arg("--version").output().is_err() {
        println!("note: python3 is not installed; the exported Python is not checked");
        return;
    }
    let numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .unwrap();
    assert!(
        numpy.status.success(),
        "NumPy is missing: `pip install numpy` (.ci/run does this)"
    );
    let tasks = tasks();
    let cases = cases(&tasks);
    let dir = tempfile::tempdir().unwrap();
    let script = python_harness(dir.path(), &cases, &tasks);
    std::fs::write(dir.path().join("harness.py"), script).unwrap();
    let out = Command::new("python3")
        .arg("harness.py")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check("python", &stdout, &cases, &tasks);
}

fn rs_float(x: f64) -> String {
    if x.is_nan() {
        "f64::NAN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "f64::INFINITY".into()
        } else {
            "f64::NEG_INFINITY".into()
        }
    } else {
        format!("{x:?}")
    }
}

fn rs_list(xs: &[f64]) -> String {
    let items: Vec<String> = xs.iter().map(|x| rs_float(*x)).collect();
    format!("[{}]", items.join(", "))
}

fn rs_task(t: &Task<F>) -> String {
    let rows = |xs: &[[f64; F]]| {
        let r: Vec<String> = xs.iter().map(|x| rs_list(x)).collect();
        format!("&[{}]", r.join(", "))
    };
    let epochs: Vec<String> = t.epochs.iter().map(|e| format!("&{e:?}")).collect();
    format!(
        "TaskData {{ accuracy: {}, train_x: {}, train_y: &{}, valid_x: {}, valid_y: &{}, epochs: &[{}] }}",
        t.eval_type == EvalType::Accuracy,
        rows(&t.train_features),
        rs_list(&t.train_labels),
        rows(&t.valid_features),
        rs_list(&t.valid_labels),
        epochs.join(", ")
    )
}

const RS_HARNESS: &str = r#"
const MAX_ABS_ERROR: f64 = 100.0;

struct TaskData {
    accuracy: bool,
    train_x: &'static [[f64; 4]],
    train_y: &'static [f64],
    valid_x: &'static [[f64; 4]],
    valid_y: &'static [f64],
    epochs: &'static [&'static [u32]],
}

trait Algo {
    fn predict(&mut self, x: &[f64; 4]) -> f64;
    fn learn(&mut self, x: &[f64; 4], y: f64);
    fn memory(&self) -> Vec<f64>;
}

macro_rules! algo {
    ($m:ident) => {
        impl Algo for $m::Model {
            fn predict(&mut self, x: &[f64; 4]) -> f64 {
                $m::Model::predict(self, x)
            }
            fn learn(&mut self, x: &[f64; 4], y: f64) {
                $m::Model::learn(self, x, y)
            }
            fn memory(&self) -> Vec<f64> {
                let mut out = self.s.to_vec();
                out.extend(self.v.iter().flatten());
                out.extend(self.m.iter().flatten().flatten());
                out
            }
        }
    };
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn flip_and_squash(x: f64) -> f64 {
    if x.is_finite() { 1.0 - std::f64::consts::FRAC_2_PI * x.atan() } else { 0.0 }
}

fn validate(model: &mut dyn Algo, task: &TaskData, num_valid: usize) -> f64 {
    let mut loss = 0.0;
    for k in 0..num_valid.min(task.valid_y.len()) {
        let (p, y) = (model.predict(&task.valid_x[k]), task.valid_y[k]);
        let err = if task.accuracy {
            let q = sigmoid(p);
            if !q.is_nan() && !(0.0..=1.0).contains(&q) {
                f64::INFINITY
            } else if (y > 0.5) == (q > 0.5) {
                0.0
            } else {
                1.0
            }
        } else {
            y - p
        };
        if err.is_nan() || err.abs() > MAX_ABS_ERROR {
            return 0.0;
        }
        loss += if task.accuracy { err } else { err * err };
    }
    let n = task.valid_y.len() as f64;
    if task.accuracy { 1.0 - loss / n } else { flip_and_squash((loss / n).sqrt()) }
}

/// The train and validation loop of SPEC 4, after setup().
fn fitness(model: &mut dyn Algo, task: &TaskData, num_valid: usize) -> f64 {
    let per_epoch = task.train_y.len();
    let total = per_epoch * task.epochs.len();
    let (mut remaining, mut position, mut best) = (total, 0, 0.0f64);
    while remaining > 0 {
        let chunk = per_epoch.min(remaining);
        let first = remaining == total;
        let mut ok = true;
        for t in position..position + chunk {
            let i = task.epochs[t / per_epoch][t % per_epoch] as usize;
            let (x, y) = (&task.train_x[i], task.train_y[i]);
            let mut p = model.predict(x);
            if task.accuracy {
                p = sigmoid(p);
            }
            let err = (y - p).abs();
            if err.is_nan() || err > MAX_ABS_ERROR {
                ok = false;
                break;
            }
            model.learn(x, y);
        }
        position += chunk;
        if !ok {
            if first {
                best = 0.0;
            }
            break;
        }
        remaining -= chunk;
        best = best.max(validate(model, task, num_valid));
    }
    best
}

fn report(name: &str, make: &dyn Fn(bool) -> Box<dyn Algo>) {
    for (t, task) in TASKS.iter().enumerate() {
        let mut model = make(task.accuracy);
        println!("fit {name} {t} {:?}", fitness(model.as_mut(), task, task.valid_y.len()));
    }
    let mut model = make(TRACE.accuracy);
    fitness(model.as_mut(), &TRACE, 0);
    let cells: Vec<String> = model.memory().iter().map(|c| format!("{c:?}")).collect();
    println!("mem {name} {}", cells.join(" "));
}
"#;

fn rust_harness(dir: &Path, cases: &[Case], tasks: &[Task<F>]) -> String {
    let mut main = String::from(RS_HARNESS);
    for case in cases {
        let module = export(&case.algorithm, Language::Rust, &options(&case.name)).unwrap();
        std::fs::write(dir.join(format!("{}.rs", case.name)), module).unwrap();
        let _ = writeln!(main, "mod {0};\nalgo!({0});", case.name);
    }
    main.push_str("static TASKS: &[TaskData] = &[\n");
    for t in tasks {
        let _ = writeln!(main, "    {},", rs_task(t));
    }
    let _ = writeln!(
        main,
        "];\nstatic TRACE: TaskData = {};\nfn main() {{",
        rs_task(&trace_task(tasks))
    );
    for case in cases {
        let init = match &case.after_setup {
            None => String::new(),
            Some(m) => {
                let n = memory_needed(&case.algorithm);
                let mut init = format!("m.s = {};", rs_list(&m.scalars[..n.scalars as usize]));
                for (i, v) in m.vectors[..n.vectors as usize].iter().enumerate() {
                    let _ = write!(init, " m.v[{i}] = {};", rs_list(v));
                }
                for (i, mx) in m.matrices[..n.matrices as usize].iter().enumerate() {
                    let rows: Vec<String> = mx.iter().map(|r| rs_list(r)).collect();
                    let _ = write!(init, " m.m[{i}] = [{}];", rows.join(", "));
                }
                init
            }
        };
        let _ = writeln!(
            main,
            "    report({0:?}, &|accuracy| {{ let mut m = {0}::Model::new(); m.accuracy = accuracy; m.setup(); {init} Box::new(m) }});",
            case.name
        );
    }
    main.push_str("}\n");
    main
}

#[test]
fn exported_rust_compiles_and_gives_the_engines_fitness() {
    let tasks = tasks();
    let cases = cases(&tasks);
    let dir = tempfile::tempdir().unwrap();
    let main = rust_harness(dir.path(), &cases, &tasks);
    std::fs::write(dir.path().join("main.rs"), main).unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let build = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "-D",
            "warnings",
            "main.rs",
            "-o",
            "harness",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "rustc failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let out = Command::new(dir.path().join("harness")).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check("rust", &stdout, &cases, &tasks);
}

/// The random ops: setup draws in range, from the named generator, reproducibly by seed.
const RANDOM_OPS: &str = "\
def Setup():
  s2 = uniform(-0.5, 0.25)
  s3 = uniform(0.75, -0.5)
  v1 = uniform(2.0, 3.0, n_features)
  m0 = uniform(-1.0, -0.5, (n_features, n_features))
  s4 = gaussian(10.0, 0.5)
  v2 = gaussian(-10.0, 0.5, n_features)
  m1 = gaussian(0.0, 0.001, (n_features, n_features))
def Predict():
  s1 = s2 + s4
def Learn():
";

/// Checks the memory after Setup of the random-ops program: `cells` are s0..s4, v0..v2, m0, m1.
fn check_random_draws(cells: &[f64]) {
    let (s, rest) = cells.split_at(5);
    let (v, m) = rest.split_at(3 * F);
    assert!((-0.5..0.25).contains(&s[2]), "{s:?}");
    assert_eq!(s[3], 0.75, "an inverted interval gives its low end");
    assert!((8.0..12.0).contains(&s[4]), "{s:?}");
    assert!(v[F..2 * F].iter().all(|x| (2.0..3.0).contains(x)), "{v:?}");
    assert!(
        v[2 * F..].iter().all(|x| (-12.0..-8.0).contains(x)),
        "{v:?}"
    );
    assert!(m[..F * F].iter().all(|x| (-1.0..-0.5).contains(x)), "{m:?}");
    assert!(m[F * F..].iter().all(|x| x.abs() < 0.01), "{m:?}");
    let distinct: std::collections::HashSet<u64> =
        v[F..2 * F].iter().map(|x| x.to_bits()).collect();
    assert_eq!(distinct.len(), F, "each element is its own draw");
}

#[test]
fn exported_random_ops_draw_in_range_from_their_generator() {
    let a = parse(RANDOM_OPS, &BIG).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rs = export(&a, Language::Rust, &options("random_ops")).unwrap();
    assert!(rs.contains("SplitMix64"));
    std::fs::write(dir.path().join("model.rs"), rs).unwrap();
    std::fs::write(
        dir.path().join("main.rs"),
        "mod model;\nfn main() {\n    for seed in [1, 1, 2] {\n        let mut m = model::Model::with_seed(seed);\n        m.setup();\n        let mut cells = m.s.to_vec();\n        cells.extend(m.v.iter().flatten());\n        cells.extend(m.m.iter().flatten().flatten());\n        let text: Vec<String> = cells.iter().map(|c| format!(\"{c:?}\")).collect();\n        println!(\"{}\", text.join(\" \"));\n    }\n}\n",
    )
    .unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let build = Command::new(rustc)
        .args([
            "--edition",
            "2021",
            "-D",
            "warnings",
            "main.rs",
            "-o",
            "draws",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let out = Command::new(dir.path().join("draws")).output().unwrap();
    let lines: Vec<Vec<f64>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(' ').map(|w| w.parse().unwrap()).collect())
        .collect();
    assert_eq!(lines.len(), 3);
    lines.iter().for_each(|l| check_random_draws(l));
    assert_eq!(lines[0], lines[1], "one seed gives one draw");
    assert_ne!(lines[0], lines[2]);

    if Command::new("python3").arg("--version").output().is_err() {
        println!("note: python3 is not installed; the exported Python is not checked");
        return;
    }
    let py = export(&a, Language::Python, &options("random_ops")).unwrap();
    assert!(py.contains("numpy.random.default_rng(SEED)"));
    std::fs::write(dir.path().join("model.py"), py).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import model\nfor seed in (1, 1, 2):\n    m = model.Model(seed=seed)\n    m.setup()\n    print(' '.join(repr(float(c)) for c in list(m.s) + list(m.v.ravel()) + list(m.m.ravel())))\n",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Vec<f64>> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(' ').map(|w| w.parse().unwrap()).collect())
        .collect();
    assert_eq!(lines.len(), 3);
    lines.iter().for_each(|l| check_random_draws(l));
    assert_eq!(lines[0], lines[1], "one seed gives one draw");
    assert_ne!(lines[0], lines[2]);
}

/// The exported Python model's `fit(X, y)` and `predict(X)` train and predict as the engine
/// trains on a file task and predicts its validation rows; its scaling is the engine's.
#[test]
fn exported_fit_and_predict_train_as_the_engine_does() {
    if Command::new("python3").arg("--version").output().is_err() {
        println!("note: python3 is not installed; the exported Python is not checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(11, 3);
    let rows: Vec<[f64; 4]> = (0..80)
        .map(|_| {
            let x = [rng.normal() * 30.0 + 5.0, rng.normal() * 0.1, rng.normal()];
            [
                x[0],
                x[1],
                x[2],
                2.0 * x[0] - 40.0 * x[1] + x[2] + 1000.0 + rng.normal(),
            ]
        })
        .collect();
    let csv: String = rows
        .iter()
        .map(|r| format!("{},{},{},{}\n", r[0], r[1], r[2], r[3]))
        .collect();
    let file = dir.path().join("data.csv");
    std::fs::write(&file, &csv).unwrap();
    let spec = TaskSpec {
        train_file: Some(file.clone()),
        standardize: Some(false),
        ..TaskSpec::generated(TaskKind::Files, F, 0, 0, 1)
    };
    let task = build_tasks::<F>(&[spec], "t", Path::new("/"))
        .unwrap()
        .remove(0);
    let algorithm = builtins::linear(0.0001);
    let sizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    let program = Program::compile(&algorithm, &sizes, F).unwrap();
    let mut memory = Memory::<F>::new(sizes);
    let engine = automl_zero_engine::evaluation::train_then_predict(
        &program,
        &task,
        task.max_train_examples(),
        1e300,
        &mut memory,
        &mut MtRng::new(0),
        &[&task.valid_features],
    )
    .unwrap()
    .remove(0);
    let module = export(&algorithm, Language::Python, &ExportOptions::default()).unwrap();
    std::fs::write(dir.path().join("model.py"), module).unwrap();
    let array = |xs: &[[f64; F]]| {
        let r: Vec<String> = xs.iter().map(|x| py_list(&x[..3])).collect();
        format!("np.array([{}])", r.join(", "))
    };
    let script = format!(
        "import numpy as np\nfrom model import Model\n\
         m = Model().fit({train}, np.array({labels}), epochs=1, standardize=False, shuffle=False)\n\
         print(' '.join(repr(float(p)) for p in m.predict({valid})))\n\
         data = np.loadtxt({file:?}, delimiter=',')\n\
         m = Model().fit(data[:, :3], data[:, 3])\n\
         print(' '.join(repr(float(v)) for v in [*m.x_mean, *m.x_sd, m.y_mean, m.y_sd]))\n",
        train = array(&task.train_features),
        labels = py_list(&task.train_labels),
        valid = array(&task.valid_features),
        file = file.display().to_string(),
    );
    std::fs::write(dir.path().join("fit.py"), script).unwrap();
    let out = Command::new("python3")
        .arg("fit.py")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Vec<f64>> = stdout
        .lines()
        .map(|l| l.split(' ').map(|w| w.parse().unwrap()).collect())
        .collect();
    assert_eq!(lines[0].len(), engine.len());
    for (p, e) in lines[0].iter().zip(&engine) {
        assert!(close(*p, *e, 1e-9), "{p} vs {e}");
    }
    // The scaling fit() computes is the engine's on the same rows.
    let data = automl_zero_engine::tasks::read_dataset(&file).unwrap();
    let all: Vec<usize> = (0..data.num_rows()).collect();
    let s = automl_zero_engine::tasks::file_tasks::Scaling::fit(&data, &all, true, true);
    let expected: Vec<f64> = s
        .feature_mean
        .iter()
        .chain(&s.feature_sd)
        .copied()
        .chain([s.label.mean, s.label.sd])
        .collect();
    for (p, e) in lines[1].iter().zip(&expected) {
        assert!(close(*p, *e, 1e-12), "{p} vs {e}");
    }
}
