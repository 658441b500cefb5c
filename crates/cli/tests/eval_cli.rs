//! `automl-zero eval`: the original's fitnesses through a config, and one program scored with
//! several seeds of its random ops.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

/// Runs `automl-zero eval --builtin neural_net` on the nonlinear config's tasks.
fn eval(extra: &[&str]) -> Output {
    let config = format!(
        "{}/../../configs/nonlinear.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    Command::new(BIN)
        .args(["eval", "--builtin", "neural_net", "--config", &config])
        .args(extra)
        .output()
        .unwrap()
}

fn eval_json(extra: &[&str]) -> serde_json::Value {
    let out = eval(&[&["--json"], extra].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn seeds_score_each_draw_and_summarise_them() {
    let v = eval_json(&["--seed", "5", "--seeds", "3"]);
    assert_eq!(v["seeds"], serde_json::json!([5, 6, 7]));
    let fitness: Vec<f64> = v["fitness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_f64().unwrap())
        .collect();
    assert_eq!(fitness.len(), 3);
    // Each is the single-seed score of that seed.
    for (seed, f) in [5, 6, 7].iter().zip(&fitness) {
        let one = eval_json(&["--seed", &seed.to_string()]);
        assert_eq!(one["fitness"].as_f64().unwrap(), *f);
    }
    // The network's random initialisation makes the draws differ.
    assert!(fitness[0] != fitness[1] || fitness[1] != fitness[2]);
    let mut sorted = fitness.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(v["median"].as_f64().unwrap(), sorted[1]);
    assert_eq!(v["min"].as_f64().unwrap(), sorted[0]);
    assert_eq!(v["max"].as_f64().unwrap(), sorted[2]);
    let mean = fitness.iter().sum::<f64>() / 3.0;
    assert!((v["mean"].as_f64().unwrap() - mean).abs() < 1e-15);
}

/// The whole chain (config, generated tasks, executor with its random Setup, fitness) gives the
/// fitnesses the original's evaluator printed for the same seeds (reference/original's
/// fitness.json, cases 7-10: the final task is param seed 9000, data seed 19000).
#[test]
fn the_configs_tasks_score_the_originals_fitnesses() {
    for (seed, expected) in [
        (1, 0.8613867306598093),
        (2, 0.8440127182423537),
        (3, 0.7032495125501879),
    ] {
        let v = eval_json(&["--seed", &seed.to_string()]);
        assert_eq!(
            v["fitness"].as_f64().unwrap(),
            expected,
            "executor seed {seed}"
        );
    }
    let config = format!(
        "{}/../../configs/nonlinear.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = Command::new(BIN)
        .args(["eval", "--builtin", "linear", "--config", &config, "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fitness"].as_f64().unwrap(), 0.7648792959549376);
}

#[test]
fn zero_seeds_is_an_error_naming_the_flag() {
    let out = eval(&["--seeds", "0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seeds"));
}

#[test]
fn quick_form_flags_are_refused_beside_a_config() {
    for flag in [
        ["--scalars", "2"],
        ["--epochs", "5"],
        ["--eval-type", "accuracy"],
        ["--valid-fraction", "0.3"],
    ] {
        let out = eval(&flag);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag:?}: {stderr}");
        assert!(
            stderr.contains(flag[0]) && stderr.contains("--config"),
            "{stderr}"
        );
    }
}

#[test]
fn quick_form_errors_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.csv");
    let rows: String = (0..20).map(|i| format!("{i},1,2,3,{i}\n")).collect();
    std::fs::write(&train, rows).unwrap();
    for (extra, flag) in [
        (["--valid-fraction", "NaN"], "--valid-fraction"),
        (["--valid-fraction", "1"], "--valid-fraction"),
        (["--epochs", "0"], "--epochs"),
    ] {
        let out = Command::new(BIN)
            .args([
                "eval",
                "--builtin",
                "linear",
                "--eval-type",
                "rms_error",
                "--train",
            ])
            .arg(&train)
            .args(if flag == "--epochs" {
                vec!["--valid-fraction", "0.25"]
            } else {
                vec![]
            })
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?} succeeded");
        assert!(stderr.contains(&format!("{flag}:")), "{extra:?}: {stderr}");
    }
}

#[test]
fn quick_form_names_both_files_when_their_features_differ() {
    let dir = tempfile::tempdir().unwrap();
    let (train, valid) = (dir.path().join("train.csv"), dir.path().join("valid.csv"));
    let rows = |columns: usize| -> String {
        (0..20)
            .map(|i| {
                let cells: Vec<String> = (0..columns).map(|c| format!("{}", i + c)).collect();
                cells.join(",") + "\n"
            })
            .collect()
    };
    std::fs::write(&train, rows(9)).unwrap();
    std::fs::write(&valid, rows(5)).unwrap();
    let out = Command::new(BIN)
        .args([
            "eval",
            "--builtin",
            "linear",
            "--eval-type",
            "rms_error",
            "--train",
        ])
        .arg(&train)
        .arg("--valid")
        .arg(&valid)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("valid.csv: rows have 4 features")
            && stderr.contains("--train")
            && stderr.contains("have 8"),
        "{stderr}"
    );
}

#[test]
fn set_overrides_keys_of_the_config() {
    let one = eval_json(&["--seed", "1"]);
    assert_eq!(one["per_task"].as_array().unwrap().len(), 1);
    let three = eval_json(&["--seed", "1", "--set", "final_tasks.0.num_tasks=3"]);
    let per_task = three["per_task"].as_array().unwrap();
    assert_eq!(per_task.len(), 3);
    // The first task is the config's own (its seeds are kept).
    assert_eq!(per_task[0], one["per_task"][0]);
    let other = eval_json(&["--seed", "1", "--set", "final_tasks.0.data_seeds=[19001]"]);
    assert_ne!(other["fitness"], one["fitness"]);
    // A key the config lacks is an error naming it and the override.
    let out = eval(&["--set", "final_tasks.0.num_taks=3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--set final_tasks.0.num_taks=3") && stderr.contains("num_taks"),
        "{stderr}"
    );
}

#[test]
fn set_without_a_config_is_refused() {
    let out = Command::new(BIN)
        .args([
            "eval",
            "--builtin",
            "linear",
            "--set",
            "search.population_size=5",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--set") && stderr.contains("--config FILE"),
        "{stderr}"
    );
}
