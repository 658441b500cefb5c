//! Real data from the command line: the shipped digits config, test accuracy in `eval` and in
//! the run folder, and where dataset paths are looked for (`--data-dir`, `AUTOML_ZERO_DATA`).

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs the binary without `AUTOML_ZERO_DATA` from the caller's environment.
fn run(args: &[&str], env: Option<&Path>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_remove("AUTOML_ZERO_DATA");
    if let Some(dir) = env {
        command.env("AUTOML_ZERO_DATA", dir);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn eval_on_the_digits_config_reports_test_accuracy() {
    let config = repo().join("configs/digits.toml");
    let output = run(
        &[
            "eval",
            "--builtin",
            "linear",
            "--config",
            config.to_str().unwrap(),
            "--json",
        ],
        None,
    );
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let per_task_test = json["per_task_test"].as_array().unwrap();
    assert_eq!(per_task_test.len(), 100);
    let test = json["test_fitness"].as_f64().unwrap();
    assert!(
        test > 0.85,
        "linear regression separates digit pairs: {test}"
    );
    assert!(json["test_sd"].as_f64().unwrap() > 0.0);
    // The readable form prints both splits.
    let output = run(
        &[
            "eval",
            "--builtin",
            "linear",
            "--config",
            config.to_str().unwrap(),
        ],
        None,
    );
    let text = stdout(&output);
    assert!(text.contains("  test "), "{text}");
    assert!(
        text.contains("test fitness (mean of 100 tasks): "),
        "{text}"
    );
}

#[test]
fn a_digits_search_writes_its_final_test_fitness() {
    let out = tempfile::tempdir().unwrap();
    let run_dir = out.path().join("run");
    let config = repo().join("configs/digits.toml");
    let output = run(
        &[
            "search",
            config.to_str().unwrap(),
            "--set",
            "search.max_individuals=200",
            "--out",
            run_dir.to_str().unwrap(),
            "--quiet",
        ],
        None,
    );
    let text = stdout(&output);
    assert!(text.contains("Final test fitness"), "{text}");
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    let test = summary["final_test_fitness"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&test));
    // The run folder's config names the data by an absolute path, so it runs from anywhere.
    let written = fs::read_to_string(run_dir.join("config.toml")).unwrap();
    let digits = repo().join("data/digits.csv.gz").canonicalize().unwrap();
    assert!(written.contains(digits.to_str().unwrap()), "{written}");
}

/// Writes a small IDX data set (`per_class` 4x4 images of each of 10 classes) into
/// `dir/fashion-mnist`.
fn write_small_idx(dir: &Path, per_class: usize) {
    let folder = dir.join("fashion-mnist");
    fs::create_dir_all(&folder).unwrap();
    let n = per_class * 10;
    let mut images = 0x0000_0803u32.to_be_bytes().to_vec();
    for d in [n as u32, 4, 4] {
        images.extend(d.to_be_bytes());
    }
    let mut labels = 0x0000_0801u32.to_be_bytes().to_vec();
    labels.extend((n as u32).to_be_bytes());
    for i in 0..n {
        let class = (i % 10) as u8;
        labels.push(class);
        images.extend((0..16u8).map(|p| class.wrapping_mul(20).wrapping_add(p * (i % 7) as u8)));
    }
    fs::write(folder.join("train-images-idx3-ubyte"), images).unwrap();
    fs::write(folder.join("train-labels-idx1-ubyte"), labels).unwrap();
}

const SMALL_IDX_CONFIG: &str = r#"
[memory]
scalars = 4
vectors = 3
matrices = 1

[search]
population_size = 2
tournament_size = 2
mutations = ["alter_param"]
setup = {}
predict = {}
learn = {}

[[search_tasks]]
kind = "projected_binary_classification"
dataset = { format = "idx", path = "fashion-mnist" }
features_size = 4
num_train_examples = 20
num_valid_examples = 6
num_test_examples = 6
num_tasks = 3
eval_type = "accuracy"

[[final_tasks]]
kind = "projected_binary_classification"
dataset = { format = "idx", path = "fashion-mnist" }
classes = [1, 2]
features_size = 4
num_train_examples = 20
num_valid_examples = 6
num_test_examples = 6
num_tasks = 2
eval_type = "accuracy"
"#;

#[test]
fn dataset_paths_come_from_data_dir_or_the_environment() {
    let configs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_small_idx(data.path(), 20);
    let config = configs.path().join("small.toml");
    fs::write(&config, SMALL_IDX_CONFIG).unwrap();
    let config = config.to_str().unwrap();
    let eval = |extra: &[&str], env: Option<&Path>| {
        let mut args = vec!["eval", "--builtin", "linear", "--config", config, "--json"];
        args.extend(extra);
        run(&args, env)
    };
    // Not beside the config, and no data folder given: a clear error naming both ways.
    let output = eval(&[], None);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("final_tasks[0].dataset.path: `fashion-mnist` not found")
            && err.contains("--data-dir")
            && err.contains("AUTOML_ZERO_DATA"),
        "{err}"
    );
    let with_flag: Value = serde_json::from_str(&stdout(&eval(
        &["--data-dir", data.path().to_str().unwrap()],
        None,
    )))
    .unwrap();
    let with_env: Value = serde_json::from_str(&stdout(&eval(&[], Some(data.path())))).unwrap();
    assert_eq!(with_flag, with_env);
    assert_eq!(with_flag["per_task_test"].as_array().unwrap().len(), 2);
    // The search tasks (pairs drawn by seed) build too.
    let search: Value = serde_json::from_str(&stdout(&eval(
        &[
            "--tasks",
            "search",
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
        None,
    )))
    .unwrap();
    assert_eq!(search["per_task"].as_array().unwrap().len(), 3);
}
