//! A user's own table, end to end: `init` writes a config that runs, `search` reports metrics
//! in the data's units, `predict` trains the found learner as the run did and predicts new rows
//! (and equals `eval` on the same split).

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "automl-zero {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A small pseudo-random stream (no crates needed).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// `n` rows: 3 features on different scales and a label in the tens of thousands (regression),
/// or 0/1 (classification), sorted by label, with a header.
fn table(n: usize, classification: bool, seed: u64) -> String {
    let mut r = Lcg(seed);
    let mut rows: Vec<[f64; 4]> = (0..n)
        .map(|_| {
            let x = [r.next() * 100.0, r.next() * 0.01, r.next() * 10.0];
            let z = x[0] / 50.0 - x[1] * 100.0 + x[2] / 5.0;
            let y = if classification {
                f64::from(u8::from(z + r.next() > 0.0))
            } else {
                3e4 + 1e4 * z + 500.0 * r.next()
            };
            [x[0], x[1], x[2], y]
        })
        .collect();
    rows.sort_by(|a, b| a[3].total_cmp(&b[3]));
    let mut text = String::from("a,b,c,y\n");
    for r in rows {
        text.push_str(&format!("{},{},{},{}\n", r[0], r[1], r[2], r[3]));
    }
    text
}

fn summary(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn init_writes_a_config_that_searches_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (task, classification) in [("regression", false), ("classification", true)] {
        std::fs::write(d.join(format!("{task}.csv")), table(300, classification, 1)).unwrap();
        let config = format!("{task}.toml");
        let out = ok(
            d,
            &[
                "init",
                "--data",
                &format!("{task}.csv"),
                "--task",
                task,
                "--out",
                &config,
            ],
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("300 rows of 3 features (padded to 4), label `y`"),
            "{said}"
        );
        let text = std::fs::read_to_string(d.join(&config)).unwrap();
        assert!(
            text.contains("train_file = \"regression.csv\"") || classification,
            "{text}"
        );
        // It refuses to overwrite.
        let again = run(
            d,
            &[
                "init",
                "--data",
                &format!("{task}.csv"),
                "--task",
                task,
                "--out",
                &config,
            ],
        );
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
        // A short search of it runs and reports metrics in the label's units.
        let run_dir = format!("run-{task}");
        ok(
            d,
            &[
                "search",
                &config,
                "--out",
                &run_dir,
                "--seed",
                "3",
                "--quiet",
                "--set",
                "search.max_individuals=3000",
                "--set",
                "search.population_size=100",
            ],
        );
        let s = summary(&d.join(&run_dir));
        let metrics = &s["final_metrics"];
        if classification {
            let accuracy = metrics["test"]["accuracy"].as_f64().unwrap();
            assert!(accuracy > 0.7, "{s}");
            assert!(metrics["valid"]["roc_auc"].as_f64().is_some(), "{s}");
        } else {
            // Labels vary by about 1e4; the noise is at most 250.
            let rmse = metrics["test"]["rmse"].as_f64().unwrap();
            assert!(rmse < 3000.0, "{s}");
            assert!(metrics["valid"]["r2"].as_f64().unwrap() > 0.8, "{s}");
        }
        // Predictions for rows without labels, in the label's units.
        std::fs::write(d.join("new.csv"), "1,0.001,2\n-30,0,4\n").unwrap();
        let out = ok(d, &["predict", &run_dir, "--input", "new.csv"]);
        let csv = String::from_utf8_lossy(&out.stdout).to_string();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        if classification {
            assert_eq!(lines[0], "prediction,probability");
            let cells: Vec<f64> = lines[1].split(',').map(|c| c.parse().unwrap()).collect();
            assert!(cells[0] == 0.0 || cells[0] == 1.0);
            assert_eq!(cells[0], f64::from(u8::from(cells[1] > 0.5)));
        } else {
            assert_eq!(lines[0], "prediction");
            let p: f64 = lines[1].parse().unwrap();
            assert!(p > 1e4 && p < 5e4, "{csv}");
        }
        // The wrong number of columns is an error naming the file.
        std::fs::write(d.join("bad.csv"), "1,2\n").unwrap();
        let bad = run(d, &["predict", &run_dir, "--input", "bad.csv"]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("bad.csv: rows have 2 columns"));
    }
}

#[test]
fn init_on_a_small_table_sizes_the_fec_probe_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 30 rows: 6 test rows, and 6 of the other 24 validated on per task.
    std::fs::write(d.join("small.csv"), table(30, false, 2)).unwrap();
    ok(
        d,
        &[
            "init",
            "--data",
            "small.csv",
            "--task",
            "regression",
            "--out",
            "small.toml",
        ],
    );
    let text = std::fs::read_to_string(d.join("small.toml")).unwrap();
    assert!(
        text.contains("fec = { num_train_examples = 10, num_valid_examples = 6 }"),
        "{text}"
    );
    let set = "search.max_individuals=200";
    ok(
        d,
        &[
            "search",
            "small.toml",
            "--quiet",
            "--out",
            "run",
            "--set",
            set,
        ],
    );
    assert!(d.join("run/summary.json").is_file());
}

/// Linear regression by gradient descent (the built-in `linear`).
const LINEAR: &str = "def Setup():\n  s2 = 0.05\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s2 * s3\n  v2 = s3 * v0\n  v1 = v1 + v2\n";

fn config(train: &str, valid: &str) -> String {
    format!(
        r#"[memory]
scalars = 4
vectors = 3
matrices = 1
[search]
population_size = 10
tournament_size = 2
mutations = ["alter_param"]
setup = {{ ops = "linear" }}
predict = {{ ops = "linear" }}
learn = {{ ops = "linear" }}
[[search_tasks]]
kind = "files"
train_file = "{train}"
valid_file = "{valid}"
features_size = 4
num_train_epochs = 3
eval_type = "rms_error"
data_seeds = [7]
"#
    )
}

#[test]
fn predict_equals_eval_on_the_same_split() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = table(200, false, 2);
    let (header, rows) = text.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    // Every fourth row validates (still sorted: order must not matter to training).
    let valid: Vec<&str> = rows.iter().step_by(4).copied().collect();
    let train: Vec<&str> = rows
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 4 != 0)
        .map(|(_, r)| *r)
        .collect();
    std::fs::write(
        d.join("train.csv"),
        format!("{header}\n{}\n", train.join("\n")),
    )
    .unwrap();
    std::fs::write(
        d.join("valid.csv"),
        format!("{header}\n{}\n", valid.join("\n")),
    )
    .unwrap();
    std::fs::write(d.join("c.toml"), config("train.csv", "valid.csv")).unwrap();
    std::fs::write(d.join("prog.txt"), LINEAR).unwrap();
    let eval = ok(
        d,
        &[
            "eval", "prog.txt", "--config", "c.toml", "--tasks", "search", "--json",
        ],
    );
    let eval: Value = serde_json::from_slice(&eval.stdout).unwrap();
    let expected = &eval["metrics"]["valid"];
    let out = ok(
        d,
        &[
            "predict",
            "prog.txt",
            "--config",
            "c.toml",
            "--input",
            "valid.csv",
            "--out",
            "p.csv",
        ],
    );
    // The printed metrics are those of eval.
    let printed = String::from_utf8_lossy(&out.stderr).to_string();
    let rmse = expected["rmse"].as_f64().unwrap();
    assert!(
        printed.contains(&format!("RMSE {rmse:.6}")),
        "{printed} vs {expected}"
    );
    // And the predictions give them.
    let predictions: Vec<f64> = std::fs::read_to_string(d.join("p.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.parse().unwrap())
        .collect();
    let labels: Vec<f64> = valid
        .iter()
        .map(|r| r.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    let mse = predictions
        .iter()
        .zip(&labels)
        .map(|(p, y)| (p - y) * (p - y))
        .sum::<f64>()
        / labels.len() as f64;
    assert!(
        (mse.sqrt() - rmse).abs() < 1e-9 * rmse,
        "{} vs {rmse}",
        mse.sqrt()
    );
    // Labels given apart give the same metrics.
    let features: Vec<String> = valid
        .iter()
        .map(|r| r.rsplit_once(',').unwrap().0.to_string())
        .collect();
    std::fs::write(d.join("x.csv"), features.join("\n")).unwrap();
    std::fs::write(
        d.join("y.csv"),
        labels
            .iter()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let out = ok(
        d,
        &[
            "predict", "prog.txt", "--config", "c.toml", "--input", "x.csv", "--labels", "y.csv",
            "--out", "q.csv",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("RMSE {rmse:.6}")));
    assert_eq!(
        std::fs::read_to_string(d.join("p.csv")).unwrap(),
        std::fs::read_to_string(d.join("q.csv")).unwrap()
    );
}

#[test]
fn predict_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("prog.txt"), LINEAR).unwrap();
    let out = run(d, &["predict", "prog.txt", "--input", "x.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no config.toml beside prog.txt: give --config")
    );
    let gone = run(d, &["predict", "nothing", "--input", "x.csv"]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("nothing does not exist"));
}
