//! Generated tasks, random draws, epoch orders and fitnesses against numbers the original
//! printed (tests/golden/original, copied from reference/original: see its README).

use automl_zero_engine::builtins::{linear, neural_net};
use automl_zero_engine::evaluation::executor::execute;
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::program::{Algorithm, Component};
use automl_zero_engine::rng::MtRng;
use automl_zero_engine::tasks::{
    Task, TaskKind, TaskSpec, build_tasks, linear_weights, teacher_weights,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/original")
        .join(name)
}

fn json(name: &str) -> Value {
    let text = std::fs::read_to_string(golden(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// Equal to the last bit, the sign of zero included.
fn assert_bits(actual: f64, expected: f64, what: &str) {
    assert_eq!(
        actual.to_bits(),
        expected.to_bits(),
        "{what}: {actual:e} != {expected:e}"
    );
}

#[test]
fn mt19937_outputs_and_draws_match_the_original() {
    let rng = json("rng.json");
    for case in rng["seeds"].as_array().unwrap() {
        let seed = case["seed"].as_u64().unwrap() as u32;
        let mut mt = MtRng::new(seed);
        let raw: Vec<u64> = (0..10).map(|_| mt.next_u32() as u64).collect();
        assert_eq!(raw, u64s(&case["mt19937_first10"]), "seed {seed}");

        let mut mt = MtRng::new(seed);
        let used = u64s(&case["gaussian_mt_outputs_used"]);
        for (i, expected) in f64s(&case["gaussian_0_1_first20"]).into_iter().enumerate() {
            let before = mt.outputs_used();
            assert_bits(
                mt.gaussian(0.0, 1.0),
                expected,
                &format!("seed {seed} gaussian {i}"),
            );
            assert_eq!(
                mt.outputs_used() - before,
                used[i],
                "seed {seed} gaussian {i}"
            );
        }

        let mut mt = MtRng::new(seed);
        let used = u64s(&case["uniform_mt_outputs_used"]);
        for (i, expected) in f64s(&case["uniform_activation_m1_1_first10"])
            .into_iter()
            .enumerate()
        {
            let before = mt.outputs_used();
            assert_bits(
                mt.uniform(-1.0, 1.0),
                expected,
                &format!("seed {seed} uniform {i}"),
            );
            assert_eq!(
                mt.outputs_used() - before,
                used[i],
                "seed {seed} uniform {i}"
            );
        }
    }
}

#[test]
fn a_hundred_thousand_gaussians_take_the_original_wedge_and_tail_paths() {
    let long = &json("rng.json")["gaussian_long_seed5489"];
    let mut mt = MtRng::new(5489);
    let (mut sum, mut slow, mut tail) = (0.0, Vec::new(), Vec::new());
    for index in 0..long["num_draws"].as_u64().unwrap() {
        let before = mt.outputs_used();
        let z = mt.gaussian(0.0, 1.0);
        let used = mt.outputs_used() - before;
        sum += z;
        if used > 2 {
            slow.push((index, z, used));
        }
        if z.abs() > 3.442619855899 {
            tail.push((index, z, used));
        }
    }
    assert_eq!(
        mt.outputs_used(),
        long["total_mt_outputs_used"].as_u64().unwrap()
    );
    assert_bits(sum, long["sequential_sum"].as_f64().unwrap(), "sum");
    for (key, found) in [
        ("first_draws_using_more_than_2_outputs", &slow),
        ("first_tail_draws", &tail),
    ] {
        for (k, expected) in long[key].as_array().unwrap().iter().enumerate() {
            let (index, z, used) = found[k];
            assert_eq!(index, expected["index"].as_u64().unwrap(), "{key} {k}");
            assert_bits(z, expected["value"].as_f64().unwrap(), key);
            assert_eq!(
                used,
                expected["mt_outputs_used"].as_u64().unwrap(),
                "{key} {k}"
            );
        }
    }
}

#[test]
fn shuffles_are_libstdcxx_shuffles() {
    for case in json("rng.json")["generate_epochs"].as_array().unwrap() {
        let mut mt = MtRng::new(case["seed"].as_u64().unwrap() as u32);
        let n = case["num_examples"].as_u64().unwrap() as u32;
        let mut order: Vec<u32> = (0..n).collect();
        let mut epochs = Vec::new();
        for _ in 0..case["num_epochs"].as_u64().unwrap() {
            epochs.push(order.iter().map(|&i| i as u64).collect::<Vec<_>>());
            mt.shuffle(&mut order);
        }
        let expected: Vec<Vec<u64>> = case["epochs"]
            .as_array()
            .unwrap()
            .iter()
            .map(u64s)
            .collect();
        assert_eq!(epochs, expected, "n = {n}");
        assert_eq!(mt.outputs_used(), case["mt_outputs_used"].as_u64().unwrap());
    }
}

/// Features and labels of a CSV with the header `x0,…,y`.
fn csv_rows(path: &Path) -> (Vec<Vec<f64>>, Vec<f64>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for line in text.lines().skip(1) {
        let mut values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        labels.push(values.pop().unwrap());
        features.push(values);
    }
    (features, labels)
}

/// A whole number stored as a number (fitness.json) or as a string (the task files).
fn number(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| v.as_str().unwrap().parse().unwrap())
}

/// The task a golden JSON describes, built as a config's task list builds it.
fn golden_task<const F: usize>(meta: &Value) -> Task<F> {
    let kind = match meta["task"].as_str().unwrap() {
        "scalar_linear_regression_task" => TaskKind::ScalarLinearRegression,
        _ => TaskKind::Scalar2layerNnRegression,
    };
    let number = |key: &str| number(&meta[key]);
    let mut spec = TaskSpec::generated(
        kind,
        F,
        number("num_train_examples") as usize,
        number("num_valid_examples") as usize,
        1,
    );
    spec.num_train_epochs = number("num_train_epochs") as usize;
    spec.param_seeds = vec![number("param_seed") as u32];
    spec.data_seeds = vec![number("data_seed") as u32];
    build_tasks::<F>(&[spec], "tasks", Path::new("."))
        .unwrap()
        .remove(0)
}

fn check_task<const F: usize>(stem: &str) {
    let meta = json(&format!("{stem}.json"));
    let task = golden_task::<F>(&meta);
    for (split, features, labels) in [
        ("train", &task.train_features, &task.train_labels),
        ("valid", &task.valid_features, &task.valid_labels),
    ] {
        let (x, y) = csv_rows(&golden(&format!("{stem}_{split}.csv")));
        assert_eq!(labels.len(), y.len(), "{stem} {split}");
        for (i, (row, label)) in x.iter().zip(&y).enumerate() {
            for (k, v) in row.iter().enumerate() {
                assert_bits(features[i][k], *v, &format!("{stem} {split} x[{i}][{k}]"));
            }
            assert_bits(labels[i], *label, &format!("{stem} {split} y[{i}]"));
        }
    }
    let teacher = &meta["teacher"];
    let param_seed = number(&meta["param_seed"]) as u32;
    if let Some(w) = teacher.get("w") {
        for (a, e) in linear_weights::<F>(param_seed).iter().zip(f64s(w)) {
            assert_bits(*a, e, &format!("{stem} w"));
        }
    } else {
        let (w, u) = teacher_weights::<F>(param_seed);
        for (r, row) in teacher["W_row_major"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            for (c, e) in f64s(row).into_iter().enumerate() {
                assert_bits(w[r][c], e, &format!("{stem} W[{r}][{c}]"));
            }
        }
        for (a, e) in u.iter().zip(f64s(&teacher["u"])) {
            assert_bits(*a, e, &format!("{stem} u"));
        }
    }
}

#[test]
fn linear_tasks_are_the_original_tasks() {
    check_task::<4>("linear/p1000_d2000");
    check_task::<4>("linear/p1000000_d2000000");
}

#[test]
fn teacher_tasks_are_the_original_tasks() {
    for stem in [
        "p9000_d19000",
        "p1001_d11001",
        "p1000_d10000",
        "p1_d1",
        "p2_d2",
        "p3_d3",
        "p4_d4",
        "p5_d5",
        "p6_d6",
        "p7_d7",
        "p8_d8",
    ] {
        check_task::<4>(&format!("nonlinear/{stem}"));
    }
    check_task::<8>("nonlinear/f8_p9000_d19000");
}

#[test]
fn epoch_orders_are_the_original_orders() {
    for stem in [
        "linear/p1000000_d2000000_epochs3",
        "nonlinear/p9000_d19000_epochs3",
    ] {
        let meta = json(&format!("{stem}.json"));
        let task = golden_task::<4>(&meta);
        let expected: Vec<Vec<u64>> = meta["train_epochs"]
            .as_array()
            .unwrap()
            .iter()
            .map(u64s)
            .collect();
        let epochs: Vec<Vec<u64>> = task
            .epochs
            .iter()
            .map(|e| e.iter().map(|&i| i as u64).collect())
            .collect();
        assert_eq!(epochs, expected, "{stem}");
    }
}

/// The algorithm a fitness case names.
fn case_algorithm(case: &Value) -> Algorithm {
    let lr = case["learning_rate"].as_f64().unwrap();
    match case["algorithm"].as_str().unwrap() {
        "LINEAR_ALGORITHM" => linear(lr),
        _ => neural_net(
            lr,
            case["first_init_scale"].as_f64().unwrap() as f32,
            case["final_init_scale"].as_f64().unwrap() as f32,
        ),
    }
}

fn check_fitness<const F: usize>(case: &Value, n: usize) {
    let task = golden_task::<F>(case);
    let sizes = MemorySizes {
        scalars: 5,
        vectors: 9,
        matrices: 2,
    };
    let algorithm = case_algorithm(case);
    let program = Program::compile(&algorithm, &sizes, F).unwrap();
    let seed = case["executor_seed"].as_u64().unwrap() as u32;
    let max_abs_error = 100.0;
    let budgets = f64s(&case["best_fitness_with_budget_of_k_epochs"]);
    for (k, expected) in budgets.iter().enumerate() {
        let mut memory = Memory::<F>::new(sizes);
        let outcome = execute(
            &program,
            &task,
            (k + 1) * task.train_labels.len(),
            task.valid_steps(),
            max_abs_error,
            &mut memory,
            &mut MtRng::new(seed),
            None,
        );
        assert_bits(
            outcome.fitness,
            *expected,
            &format!("case {n}, {} epochs", k + 1),
        );
    }
    // The memory after Setup.
    let mut memory = Memory::<F>::new(sizes);
    program.run(Component::Setup, &mut memory, &mut MtRng::new(seed));
    let after = &case["memory_after_setup"];
    for (i, e) in f64s(&after["scalars"]).into_iter().enumerate() {
        assert_bits(memory.scalars[i], e, &format!("case {n} s{i}"));
    }
    if let Some(v2) = after.get("vector_2") {
        for (k, e) in f64s(v2).into_iter().enumerate() {
            assert_bits(memory.vectors[2][k], e, &format!("case {n} v2[{k}]"));
        }
        for (r, row) in after["matrix_0_row_major"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            for (c, e) in f64s(row).into_iter().enumerate() {
                assert_bits(
                    memory.matrices[0][r][c],
                    e,
                    &format!("case {n} m0[{r}][{c}]"),
                );
            }
        }
    }
    assert_bits(
        *budgets.last().unwrap(),
        case["fitness"].as_f64().unwrap(),
        "the last budget is the whole run",
    );
}

#[test]
fn hand_written_programs_score_the_original_fitnesses() {
    let cases = json("fitness.json");
    for (n, case) in cases["cases"].as_array().unwrap().iter().enumerate() {
        match case["features_size"].as_u64().unwrap() {
            4 => check_fitness::<4>(case, n),
            8 => check_fitness::<8>(case, n),
            f => panic!("no golden case has F = {f}"),
        }
    }
}
