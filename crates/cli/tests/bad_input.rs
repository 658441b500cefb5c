//! The binary on bad input: every mistake ends with a non-zero exit and a message that names
//! the file and the line (or the key) at fault, and nothing panics. Plus one successful `eval`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
/// No bad-input run should take long; a run that does has probably started a search.
const TIMEOUT: Duration = Duration::from_secs(120);

/// What a finished run printed.
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` with `args`, killing it after [`TIMEOUT`].
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let out_path = dir.join(".stdout");
    let err_path = dir.join(".stderr");
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`automl-zero {}` ran for over {TIMEOUT:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        code: status.code(),
        stdout: std::fs::read_to_string(out_path).unwrap(),
        stderr: std::fs::read_to_string(err_path).unwrap(),
    }
}

/// Runs the binary, expects it to fail without panicking, and returns its stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = run_in(dir, args);
    let cmd = format!("automl-zero {}", args.join(" "));
    assert!(
        !out.stderr.contains("panicked"),
        "`{cmd}` panicked:\n{}",
        out.stderr
    );
    assert_ne!(out.code, Some(101), "`{cmd}` panicked:\n{}", out.stderr);
    assert_ne!(
        out.code,
        Some(0),
        "`{cmd}` succeeded:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(out.code.is_some(), "`{cmd}` was killed by a signal");
    out.stderr
}

/// Asserts that `stderr` contains every one of `parts`.
fn assert_names(stderr: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            stderr.contains(part),
            "stderr does not contain {part:?}:\n{stderr}"
        );
    }
}

fn workspace_file(relative: &str) -> String {
    Path::new(WORKSPACE).join(relative).display().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const GOOD_CSV: &str = "x1,x2,x3,x4,y\n1,2,3,4,5\n2,1,3,4,5\n1,3,2,4,6\n4,2,3,1,5\n1,2,4,3,7\n";

const UNKNOWN_OP: &str = "def Setup():\ndef Predict():\n  s1 = foo(v0)\ndef Learn():\n";

const BEYOND_MEMORY: &str = "def Setup():\n  s2 = 0.01\n  s9 = 0.5\ndef Predict():\ndef Learn():\n";

/// The `--eval-type` spelling of RMS error the binary accepts: `rms_error` as the brief and
/// `eval --help` write it, or clap's default `rms-error` (see
/// `quick_form_accepts_eval_type_rms_error`).
fn rms_error() -> &'static str {
    static SPELLING: OnceLock<&'static str> = OnceLock::new();
    SPELLING.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "good.csv", GOOD_CSV);
        for spelling in ["rms_error", "rms-error"] {
            let out = run_in(
                dir.path(),
                &[
                    "eval",
                    "--builtin",
                    "linear",
                    "--train",
                    "good.csv",
                    "--valid-fraction",
                    "0.2",
                    "--eval-type",
                    spelling,
                    "--scalars",
                    "4",
                    "--vectors",
                    "3",
                    "--matrices",
                    "1",
                ],
            );
            if out.code == Some(0) {
                return spelling;
            }
        }
        panic!("`eval --builtin linear --train good.csv ...` fails with either spelling");
    })
}

/// `eval PROGRAM --train FILE --valid-fraction 0.2 --eval-type rms_error` plus `extra`.
fn quick_eval(dir: &Path, program: &[&str], train: &str, extra: &[&str]) -> String {
    let mut args = vec!["eval"];
    args.extend_from_slice(program);
    args.extend_from_slice(&[
        "--train",
        train,
        "--valid-fraction",
        "0.2",
        "--eval-type",
        rms_error(),
    ]);
    args.extend_from_slice(extra);
    fails(dir, &args)
}

// ---------------------------------------------------------------------------------------------
// Program files

#[test]
fn unknown_op_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.csv", GOOD_CSV);
    write(dir.path(), "prog.txt", UNKNOWN_OP);
    let linear = workspace_file("configs/linear.toml");
    let stderr = fails(dir.path(), &["eval", "prog.txt", "--config", &linear]);
    assert_names(&stderr, &["prog.txt", "line 3", "foo"]);
    let stderr = quick_eval(dir.path(), &["prog.txt"], "good.csv", &[]);
    assert_names(&stderr, &["prog.txt", "line 3", "foo"]);
}

#[test]
fn address_beyond_memory_names_the_file_line_and_address() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.csv", GOOD_CSV);
    write(dir.path(), "prog.txt", BEYOND_MEMORY);
    let stderr = quick_eval(dir.path(), &["prog.txt"], "good.csv", &["--scalars", "4"]);
    assert_names(&stderr, &["prog.txt", "line 3", "s9"]);
    // configs/linear.toml has 4 scalars too.
    let linear = workspace_file("configs/linear.toml");
    let stderr = fails(dir.path(), &["eval", "prog.txt", "--config", &linear]);
    assert_names(&stderr, &["prog.txt", "line 3", "s9"]);
}

/// The linear program as JSON (one line), with `from` replaced by `to`.
fn linear_json(from: &str, to: &str) -> String {
    let sizes = automl_zero_engine::memory::MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    let a = automl_zero_engine::program::parse(&linear_program(), &sizes).unwrap();
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains(from), "{json}");
    json.replacen(from, to, 1)
}

/// `eval`, `simplify` and `export` of `program` with configs/linear.toml all fail, naming
/// every one of `parts`.
fn every_command_fails(dir: &Path, program: &str, parts: &[&str]) {
    let linear = workspace_file("configs/linear.toml");
    for command in [
        vec!["eval", program, "--config", &linear],
        vec!["simplify", program, "--config", &linear],
        vec!["export", program, "--to", "rust", "--config", &linear],
    ] {
        let stderr = fails(dir, &command);
        assert_names(&stderr, parts);
    }
}

#[test]
fn json_program_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "op.json",
        &linear_json("\"vector_inner_product\"", "\"nope\""),
    );
    every_command_fails(
        dir.path(),
        "op.json",
        &[
            "op.json",
            "line 1, column",
            "Predict, instruction 1",
            "nope",
        ],
    );
    write(
        dir.path(),
        "addr.json",
        &linear_json("\"in2\":1", "\"in2\":99"),
    );
    every_command_fails(
        dir.path(),
        "addr.json",
        &["addr.json", "Predict, instruction 1", "v99"],
    );
    write(dir.path(), "trunc.json", "{\"setup\": [\n");
    every_command_fails(dir.path(), "trunc.json", &["trunc.json", "line 2"]);
}

#[test]
fn json_program_missing_a_component_or_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&linear_json("", "")).unwrap();
    value.as_object_mut().unwrap().remove("learn");
    write(dir.path(), "nolearn.json", &value.to_string());
    every_command_fails(dir.path(), "nolearn.json", &["nolearn.json", "`learn`"]);
    write(
        dir.path(),
        "short.json",
        &linear_json(
            "\"data\":[0.0,0.0,0.0]}],\"learn\"",
            "\"data\":[0.0,0.0]}],\"learn\"",
        ),
    );
    every_command_fails(
        dir.path(),
        "short.json",
        &["short.json", "Predict, instruction 1, `data`", "found 2"],
    );
}

#[test]
fn nan_and_overflowing_constants_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "nan.txt",
        &linear_program().replace("0.01", "nan"),
    );
    every_command_fails(dir.path(), "nan.txt", &["nan.txt", "line 2", "nan"]);
    write(
        dir.path(),
        "big.txt",
        &linear_program().replace("0.01", "1e999"),
    );
    every_command_fails(dir.path(), "big.txt", &["big.txt", "line 2", "1e999"]);
    write(
        dir.path(),
        "nan.json",
        &linear_json("\"activation\":0.01", "\"activation\":NaN"),
    );
    every_command_fails(dir.path(), "nan.json", &["nan.json", "line 1", "NaN"]);
}

#[test]
fn missing_program_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.csv", GOOD_CSV);
    let stderr = quick_eval(dir.path(), &["no_such_program.txt"], "good.csv", &[]);
    assert_names(&stderr, &["no_such_program.txt"]);
    let linear = workspace_file("configs/linear.toml");
    let stderr = fails(
        dir.path(),
        &["eval", "no_such_program.json", "--config", &linear],
    );
    assert_names(&stderr, &["no_such_program.json"]);
}

#[test]
fn missing_program_file_does_not_claim_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let linear = workspace_file("configs/linear.toml");
    let stderr = fails(dir.path(), &["eval", "missing.txt", "--config", &linear]);
    assert_names(&stderr, &["missing.txt"]);
    assert!(!stderr.contains("line 0"), "{stderr}");
}

#[test]
fn unknown_builtin_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.csv", GOOD_CSV);
    let linear = workspace_file("configs/linear.toml");
    let stderr = fails(
        dir.path(),
        &["eval", "--builtin", "nonexistent", "--config", &linear],
    );
    assert_names(&stderr, &["nonexistent"]);
    let stderr = quick_eval(dir.path(), &["--builtin", "nonexistent"], "good.csv", &[]);
    assert_names(&stderr, &["nonexistent"]);
}

// ---------------------------------------------------------------------------------------------
// Config files and overrides

fn demo_line_of(key: &str) -> usize {
    let demo = std::fs::read_to_string(workspace_file("configs/demo.toml")).unwrap();
    demo.lines()
        .position(|l| l.trim_start().starts_with(key))
        .unwrap()
        + 1
}

#[test]
fn misspelt_config_key_names_the_file_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(workspace_file("configs/demo.toml")).unwrap();
    assert!(demo.contains("tournament_size"));
    write(
        dir.path(),
        "typo.toml",
        &demo.replace("tournament_size", "tournament_sise"),
    );
    let line = format!("line {}", demo_line_of("tournament_size"));
    let stderr = fails(
        dir.path(),
        &["eval", "--builtin", "linear", "--config", "typo.toml"],
    );
    assert_names(&stderr, &["typo.toml", "tournament_sise", &line]);
    let stderr = fails(
        dir.path(),
        &["search", "typo.toml", "--out", "run", "--quiet"],
    );
    assert_names(
        &stderr,
        &[
            "typo.toml",
            "search.tournament_sise",
            &line,
            "did you mean `tournament_size`?",
        ],
    );
    assert!(!dir.path().join("run").exists());
}

#[test]
fn a_value_of_the_wrong_type_is_said_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(workspace_file("configs/demo.toml")).unwrap();
    write(
        dir.path(),
        "half.toml",
        &demo.replace("population_size = 1000", "population_size = 2.5"),
    );
    let line = format!("line {}", demo_line_of("population_size"));
    let stderr = fails(
        dir.path(),
        &["search", "half.toml", "--out", "run", "--quiet"],
    );
    assert_names(
        &stderr,
        &[
            "half.toml",
            &line,
            "search.population_size: expected a whole number (not negative), found `2.5`",
        ],
    );
    assert!(!stderr.contains("usize"), "{stderr}");
    let stderr = fails(
        dir.path(),
        &["search", "--set", "search.mutate_prob=yes", "--out", "run"],
    );
    assert_names(
        &stderr,
        &[
            "--set search.mutate_prob=yes",
            "search.mutate_prob: expected a number, found the text \"yes\"",
        ],
    );
    assert!(!stderr.contains("f64"), "{stderr}");
}

#[test]
fn misspelt_override_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails(
        dir.path(),
        &[
            "search",
            "--set",
            "search.populaton_size=5",
            "--out",
            "run",
            "--quiet",
        ],
    );
    assert_names(&stderr, &["populaton_size"]);
    let demo = workspace_file("configs/demo.toml");
    let stderr = fails(
        dir.path(),
        &[
            "search",
            &demo,
            "--set",
            "search.populaton_size=5",
            "--out",
            "run",
            "--quiet",
        ],
    );
    assert_names(
        &stderr,
        &["populaton_size", "did you mean `population_size`?"],
    );
    assert!(!dir.path().join("run").exists());
}

#[test]
fn missing_config_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails(
        dir.path(),
        &[
            "eval",
            "--builtin",
            "linear",
            "--config",
            "no_such_config.toml",
        ],
    );
    assert_names(&stderr, &["no_such_config.toml"]);
    let stderr = fails(
        dir.path(),
        &["search", "no_such_config.toml", "--out", "run", "--quiet"],
    );
    assert_names(&stderr, &["no_such_config.toml"]);
}

#[test]
fn missing_config_file_error_is_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fails(
        dir.path(),
        &["eval", "--builtin", "linear", "--config", "missing.toml"],
    );
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Data files

#[test]
fn ragged_csv_row_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.csv",
        "x1,x2,x3,x4,y\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4\n1,2,3,4,5\n",
    );
    let stderr = quick_eval(dir.path(), &["--builtin", "linear"], "bad.csv", &[]);
    assert_names(&stderr, &["bad.csv", "line 4"]);
    write(dir.path(), "prog.txt", &linear_program());
    let stderr = quick_eval(dir.path(), &["prog.txt"], "bad.csv", &[]);
    assert_names(&stderr, &["bad.csv", "line 4"]);
}

#[test]
fn csv_non_number_names_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad.csv",
        "x1,x2,x3,x4,y\n1,2,3,4,5\n1,2,abc,4,5\n1,2,3,4,5\n",
    );
    write(dir.path(), "prog.txt", &linear_program());
    let stderr = quick_eval(dir.path(), &["prog.txt"], "bad.csv", &[]);
    assert_names(&stderr, &["bad.csv", "line 3", "column 3", "abc"]);
}

#[test]
fn csv_first_row_with_a_bad_or_empty_cell_is_not_taken_for_a_header() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.csv", GOOD_CSV);
    let rows = "1,2,3,4,5\n2,1,3,4,5\n1,3,2,4,6\n4,2,3,1,5\n";
    write(
        dir.path(),
        "typo.csv",
        &format!("0.5,abc,0.3,0.1,0.9\n{rows}"),
    );
    write(
        dir.path(),
        "empty.csv",
        &format!("0.5,,0.3,0.1,0.9\n{rows}"),
    );
    write(dir.path(), "narrow.csv", &format!("x,y\n{rows}"));
    write(dir.path(), "prog.txt", &linear_program());
    let stderr = quick_eval(dir.path(), &["prog.txt"], "typo.csv", &[]);
    assert_names(&stderr, &["typo.csv", "line 1", "column 2", "`abc`"]);
    let stderr = quick_eval(dir.path(), &["prog.txt"], "empty.csv", &[]);
    assert_names(&stderr, &["empty.csv", "line 1", "column 2", "empty cell"]);
    let stderr = quick_eval(dir.path(), &["prog.txt"], "narrow.csv", &[]);
    assert_names(&stderr, &["narrow.csv", "line 1", "header has 2 columns"]);
    // The same in the validation file.
    let stderr = fails(
        dir.path(),
        &[
            "eval",
            "prog.txt",
            "--train",
            "good.csv",
            "--valid",
            "typo.csv",
            "--eval-type",
            rms_error(),
        ],
    );
    assert_names(&stderr, &["typo.csv", "line 1", "column 2", "`abc`"]);
}

#[test]
fn accuracy_labels_other_than_0_and_1_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.csv", GOOD_CSV);
    write(
        dir.path(),
        "binary.csv",
        "1,2,3,4,0\n2,1,3,4,1\n1,3,2,4,1\n4,2,3,1,0\n",
    );
    write(dir.path(), "prog.txt", &linear_program());
    for (train, valid, named) in [
        ("good.csv", "binary.csv", "good.csv"),
        ("binary.csv", "good.csv", "good.csv"),
    ] {
        let stderr = fails(
            dir.path(),
            &[
                "eval",
                "prog.txt",
                "--train",
                train,
                "--valid",
                valid,
                "--eval-type",
                "accuracy",
            ],
        );
        assert_names(
            &stderr,
            &[named, "line 2, column 5", "the label is 5", "0 or 1"],
        );
    }
}

#[test]
fn csv_with_more_than_32_features_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let row: Vec<String> = (0..34).map(|i| i.to_string()).collect();
    write(
        dir.path(),
        "wide.csv",
        &format!("{}\n", row.join(",")).repeat(4),
    );
    write(dir.path(), "prog.txt", &linear_program());
    let stderr = quick_eval(dir.path(), &["prog.txt"], "wide.csv", &[]);
    assert_names(&stderr, &["wide.csv", "33 features", "at most 32"]);
    // Three features are padded to four and run.
    write(
        dir.path(),
        "three.csv",
        "1,2,3,4\n2,3,4,5\n3,4,5,6\n4,5,6,7\n",
    );
    let out = run_in(
        dir.path(),
        &[
            "eval",
            "prog.txt",
            "--train",
            "three.csv",
            "--valid-fraction",
            "0.5",
            "--eval-type",
            rms_error(),
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn files_task_whose_csv_does_not_match_features_size_names_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let row = "1,2,3,4,5,6,7,8,9\n";
    write(dir.path(), "eight.csv", &row.repeat(10));
    let demo = std::fs::read_to_string(workspace_file("configs/demo.toml")).unwrap();
    let head = &demo[..demo.find("[[search_tasks]]").unwrap()];
    let config = format!(
        "{head}[[search_tasks]]\nkind = \"files\"\ntrain_file = \"eight.csv\"\n\
         valid_fraction = 0.2\nfeatures_size = 4\neval_type = \"rms_error\"\n"
    );
    write(dir.path(), "files.toml", &config);
    for tasks in ["select", "final"] {
        let out = run_in(
            dir.path(),
            &[
                "eval",
                "--builtin",
                "linear",
                "--config",
                "files.toml",
                "--tasks",
                tasks,
            ],
        );
        // The config lists no select or final tasks.
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert_ne!(out.code, Some(0));
        assert_names(&out.stderr, &["files.toml", tasks]);
    }
    let stderr = fails(
        dir.path(),
        &[
            "eval",
            "--builtin",
            "linear",
            "--config",
            "files.toml",
            "--tasks",
            "search",
        ],
    );
    assert_names(&stderr, &["eight.csv", "features_size", "8 features"]);
    // `search` fails on the same task list.
    let stderr = fails(
        dir.path(),
        &["search", "files.toml", "--out", "run", "--quiet"],
    );
    assert_names(&stderr, &["eight.csv", "features_size"]);
}

// ---------------------------------------------------------------------------------------------
// The quick form's documented spelling

#[test]
fn quick_form_accepts_eval_type_rms_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.csv", GOOD_CSV);
    let out = run_in(
        dir.path(),
        &[
            "eval",
            "--builtin",
            "linear",
            "--train",
            "good.csv",
            "--valid",
            "good.csv",
            "--eval-type",
            "rms_error",
            "--scalars",
            "4",
            "--vectors",
            "3",
            "--matrices",
            "1",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

// ---------------------------------------------------------------------------------------------
// Success

fn linear_program() -> String {
    "def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  \
     s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
        .to_string()
}

#[test]
fn eval_builtin_linear_on_the_final_tasks_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let linear = workspace_file("configs/linear.toml");
    let out = run_in(
        dir.path(),
        &[
            "eval",
            "--builtin",
            "linear",
            "--config",
            &linear,
            "--tasks",
            "final",
            "--json",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let value: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
        panic!("stdout is not one JSON object ({e}):\n{}", out.stdout);
    });
    let fitness = value["fitness"].as_f64().unwrap();
    let per_task = value["per_task"].as_array().unwrap();
    assert!(fitness > 0.9999, "{fitness}");
    assert_eq!(per_task.len(), 100);
    assert!(
        per_task
            .iter()
            .all(|f| f.as_f64().is_some_and(|f| f > 0.99))
    );
}

#[test]
fn a_task_list_the_config_lacks_names_the_lists_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(workspace_file("configs/demo.toml")).unwrap();
    let search_only = &text[..text.find("[[select_tasks]]").unwrap()];
    let config = write(dir.path(), "mine.toml", search_only);
    let config = config.to_str().unwrap();
    let program = write(dir.path(), "p.txt", &linear_program());
    let program = program.to_str().unwrap();
    for args in [
        vec!["eval", "--builtin", "linear", "--config", config],
        vec!["simplify", program, "--config", config],
    ] {
        let stderr = fails(dir.path(), &args);
        assert_names(&stderr, &["mine.toml", "`final_tasks`", "--tasks search"]);
        assert!(!stderr.contains("--tasks select"), "{stderr}");
        // The error comes before any output.
        assert!(run_in(dir.path(), &args).stdout.is_empty());
    }
}
