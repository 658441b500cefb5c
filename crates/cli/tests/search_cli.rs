//! `automl-zero search`: the run folder it writes, reproducibility, `--seed` and `--set`.

use automl_zero_engine::config::Config;
use automl_zero_engine::program::{Algorithm, parse};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

/// A small search: P = 20, 300 individuals, tiny tasks; its own seed is 5.
const SMALL: &str = r#"
random_seed = 5
max_experiments = 1

[memory]
scalars = 4
vectors = 3
matrices = 1

[search]
population_size = 20
tournament_size = 5
initial_population = "random"
mutate_prob = 0.9
mutations = ["alter_param", "randomize_instruction", "randomize_component_function"]
max_individuals = 300
progress_every = 100
fec = { num_train_examples = 5, num_valid_examples = 5 }
setup = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 4 }
predict = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 2 }
learn = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 4 }

[[search_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 10
num_valid_examples = 10
num_tasks = 4
eval_type = "rms_error"

[[select_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 20
num_valid_examples = 10
num_tasks = 3
eval_type = "rms_error"

[[final_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 20
num_valid_examples = 10
num_tasks = 3
eval_type = "rms_error"
data_seeds = [1_000_000]
param_seeds = [2_000_000]
"#;

const SUMMARY_KEYS: [&str; 10] = [
    "seed",
    "experiments",
    "individuals",
    "train_steps",
    "elapsed_seconds",
    "search_fitness",
    "select_fitness",
    "final_fitness",
    "fec_hits",
    "fec_misses",
];

/// A temporary folder holding the small config.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("small.toml");
    std::fs::write(&config, SMALL).unwrap();
    (dir, config)
}

fn search(config: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("search")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("-q")
        .args(extra)
        .output()
        .expect("the binary runs")
}

fn search_ok(config: &Path, out: &Path, extra: &[&str]) {
    let o = search(config, out, extra);
    assert!(
        o.status.success(),
        "search failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn summary(run: &Path) -> serde_json::Map<String, Value> {
    match serde_json::from_str(&read(&run.join("summary.json"))).unwrap() {
        Value::Object(m) => m,
        other => panic!("summary.json is not an object: {other}"),
    }
}

#[test]
fn search_writes_a_complete_run_folder() {
    let (dir, config) = setup();
    let run = dir.path().join("run");
    search_ok(&config, &run, &["--seed", "3"]);

    // config.toml: the effective config, which loads and carries the seed used.
    let saved = run.join("config.toml");
    let (c, _) = Config::load(&saved, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.random_seed, 3);
    assert!(read(&saved).contains("random_seed = 3"));
    assert_eq!(c.search.population_size, 20);
    assert_eq!(c.search.max_individuals, Some(300));

    // progress.jsonl: one JSON object per report.
    let progress = read(&run.join("progress.jsonl"));
    let lines: Vec<&str> = progress.lines().collect();
    assert!(!lines.is_empty());
    let mut last_individuals = 0;
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let o = v
            .as_object()
            .unwrap_or_else(|| panic!("not an object: {line}"));
        for key in ["individuals", "mean", "stdev", "best", "train_steps"] {
            assert!(o.contains_key(key), "{key} missing in {line}");
        }
        let n = o["individuals"].as_u64().unwrap();
        assert!(n > last_individuals, "{line}");
        last_individuals = n;
        let (mean, best) = (o["mean"].as_f64().unwrap(), o["best"].as_f64().unwrap());
        assert!(mean <= best + 1e-12, "{line}");
    }
    assert_eq!(last_individuals, 300);

    // best.txt and best.json: the same program.
    let text = read(&run.join("best.txt"));
    let from_text = parse(&text, &c.memory).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let from_json = Algorithm::from_json(&read(&run.join("best.json"))).unwrap();
    assert_eq!(from_text, from_json);
    assert_eq!(from_text.to_string(), text);
    from_json.check(&c.memory).unwrap();

    // summary.json.
    let s = summary(&run);
    for key in SUMMARY_KEYS {
        assert!(s.contains_key(key), "summary.json lacks {key}: {s:?}");
    }
    assert_eq!(s["seed"], 3);
    assert_eq!(s["experiments"], 1);
    assert_eq!(s["individuals"], 300);
    assert!(s["train_steps"].as_u64().unwrap() > 0);
    assert!(s["final_fitness"].as_f64().is_some());
    let fec = s["fec_hits"].as_u64().unwrap() + s["fec_misses"].as_u64().unwrap();
    assert!(fec > 0);
}

#[test]
fn the_same_seed_gives_the_same_best_and_summary() {
    let (dir, config) = setup();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    search_ok(&config, &a, &["--seed", "3"]);
    search_ok(&config, &b, &["--seed", "3"]);
    assert_eq!(read(&a.join("best.txt")), read(&b.join("best.txt")));
    assert_eq!(read(&a.join("best.json")), read(&b.join("best.json")));
    let (mut sa, mut sb) = (summary(&a), summary(&b));
    sa.remove("elapsed_seconds");
    sb.remove("elapsed_seconds");
    assert_eq!(sa, sb);
}

#[test]
fn seed_overrides_random_seed() {
    let (dir, config) = setup();
    // Without --seed the config's own seed runs.
    let own = dir.path().join("own");
    search_ok(&config, &own, &[]);
    assert_eq!(summary(&own)["seed"], 5);
    let (c, _) = Config::load(&own.join("config.toml"), &[]).unwrap();
    assert_eq!(c.random_seed, 5);
    // --seed wins over random_seed, and over a --set of it.
    let seeded = dir.path().join("seeded");
    search_ok(&config, &seeded, &["--seed", "3", "--set", "random_seed=9"]);
    assert_eq!(summary(&seeded)["seed"], 3);
    let (c, _) = Config::load(&seeded.join("config.toml"), &[]).unwrap();
    assert_eq!(c.random_seed, 3);
    // A --set alone changes the seed.
    let set = dir.path().join("set");
    search_ok(&config, &set, &["--set", "random_seed=9"]);
    assert_eq!(summary(&set)["seed"], 9);
}

#[test]
fn set_overrides_reach_the_run() {
    let (dir, config) = setup();
    let run = dir.path().join("run");
    search_ok(
        &config,
        &run,
        &["--seed", "3", "--set", "search.max_individuals=120"],
    );
    assert_eq!(summary(&run)["individuals"], 120);
    let (c, _) = Config::load(&run.join("config.toml"), &[]).unwrap();
    assert_eq!(c.search.max_individuals, Some(120));
}

#[test]
fn bad_overrides_fail_naming_the_key() {
    let (dir, config) = setup();
    for (set, key) in [
        ("search.populaton_size=10", "populaton_size"),
        ("search.population_size=abc", "population_size"),
        ("search.mutate_prob=3", "mutate_prob"),
    ] {
        let out = dir.path().join("bad");
        let o = search(&config, &out, &["--seed", "3", "--set", set]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "--set {set} succeeded");
        // The message itself names the key, not only the echoed `--set` argument.
        let message = stderr.replace(set, "");
        assert!(
            message.contains(&format!("search.{key}")),
            "--set {set}: stderr does not name {key}:\n{stderr}"
        );
        assert!(!out.exists(), "--set {set}: {} was made", out.display());
    }
}

#[test]
fn values_that_would_stall_or_never_end_a_run_are_refused() {
    let (dir, config) = setup();
    for (set, named) in [
        // No individual at all: the run would never start.
        ("search.max_individuals=0", "search.max_individuals"),
        ("search.max_train_steps=0", "search.max_train_steps"),
        // A fitness is at most 1, so this could never be exceeded.
        ("sufficient_fitness=1.5", "sufficient_fitness"),
        ("sufficient_fitness=-0.5", "sufficient_fitness"),
        // Limits that contradict each other.
        ("search.learn.size_min=6", "search.learn.size_max"),
        // The FEC probe needs more examples than the tasks have (10 + 10).
        ("search.fec.num_train_examples=11", "search.fec"),
        // Experiments repeated until a fitness that is not set.
        ("max_experiments=0", "max_experiments"),
    ] {
        let out = dir.path().join("refused");
        let o = search(&config, &out, &["--set", set]);
        let stderr = String::from_utf8_lossy(&o.stderr).replace(set, "");
        assert_eq!(o.status.code(), Some(2), "--set {set}:\n{stderr}");
        assert!(
            stderr.contains(named),
            "--set {set}: no {named} in\n{stderr}"
        );
        assert!(!out.join("summary.json").exists());
    }
}

#[test]
fn task_lists_that_would_never_end_or_ignore_seeds_are_refused() {
    let (dir, _) = setup();
    for (from, to, named) in [
        // One evaluation would run for hours.
        (
            "num_tasks = 4\n",
            "num_tasks = 4\nnum_train_epochs = 1000000000\n",
            "search_tasks[0].num_train_epochs",
        ),
        // Seeds for tasks that do not exist.
        (
            "data_seeds = [1_000_000]",
            "data_seeds = [1, 2, 3, 4]",
            "final_tasks[0].data_seeds",
        ),
    ] {
        let config = dir.path().join("bad.toml");
        assert!(SMALL.contains(from));
        std::fs::write(&config, SMALL.replacen(from, to, 1)).unwrap();
        let o = search(&config, &dir.path().join("refused"), &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(named), "no {named} in\n{stderr}");
    }
}

#[test]
fn a_folder_holding_a_run_is_not_reused_by_a_new_run() {
    let (dir, config) = setup();
    let out = dir.path().join("run");
    search_ok(&config, &out, &[]);
    let progress = read(&out.join("progress.jsonl"));
    let o = search(&config, &out, &["--seed", "9"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("already holds a finished run") && !stderr.contains("--resume"),
        "{stderr}"
    );
    assert_eq!(read(&out.join("progress.jsonl")), progress);
    // A finished run cannot be resumed either.
    let o = Command::new(BIN)
        .args(["search", "-q", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("finished (stop reason: max_individuals"),
        "{stderr}"
    );
    // A run that stopped with a checkpoint (here: killed after one, so without a summary) is
    // pointed to --resume.
    let killed = dir.path().join("killed");
    search_ok(
        &config,
        &killed,
        &["--set", "checkpoint_every_seconds=0.000001"],
    );
    assert!(killed.join("checkpoint.json").exists());
    std::fs::remove_file(killed.join("summary.json")).unwrap();
    let o = search(&config, &killed, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("already holds a run") && stderr.contains("--resume"),
        "{stderr}"
    );
    // An existing empty folder is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    search_ok(&config, &empty, &[]);
}

#[test]
fn a_run_that_fails_before_its_first_checkpoint_leaves_no_folder() {
    let (dir, config) = setup();
    let out = dir.path().join("run");
    // The built-in teacher needs more memory than the config has: the run fails as it starts.
    let o = search(
        &config,
        &out,
        &["--set", "search.initial_population=teacher"],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(!out.exists(), "{}", out.display());
    // Parent folders it made are removed too.
    let nested = dir.path().join("a/b/run");
    let o = search(
        &config,
        &nested,
        &["--set", "search.initial_population=teacher"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("a").exists());
    // The same --out works once the input is fixed.
    search_ok(&config, &out, &[]);
    // An existing folder is emptied of the run's files but kept, with what else it holds.
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    let o = search(
        &config,
        &mine,
        &["--set", "search.initial_population=teacher"],
    );
    assert_eq!(o.status.code(), Some(2));
    let left: Vec<_> = std::fs::read_dir(&mine)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("notes.txt")]);
    // A final task's missing data file is found before the search, not after it.
    let missing = SMALL.replace(
        "[[final_tasks]]\nkind = \"scalar_linear_regression\"",
        "[[final_tasks]]\nkind = \"files\"\ntrain_file = \"nope.csv\"\nvalid_fraction = 0.5",
    );
    assert_ne!(missing, SMALL);
    let config = dir.path().join("missing.toml");
    std::fs::write(&config, missing).unwrap();
    let out = dir.path().join("missing-run");
    let o = search(&config, &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("final_tasks[0].train_file") && stderr.contains("nope.csv"),
        "{stderr}"
    );
    assert!(!out.exists());
    // A folder holding only a config of the user's is not called a run.
    let own = dir.path().join("own");
    std::fs::create_dir(&own).unwrap();
    std::fs::write(own.join("config.toml"), SMALL).unwrap();
    let o = search(&own.join("config.toml"), &own, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("holds a config.toml, which a run would overwrite"),
        "{stderr}"
    );
    assert_eq!(read(&own.join("config.toml")), SMALL);
}

#[test]
fn a_missing_data_dir_is_an_error() {
    let (dir, config) = setup();
    let o = search(
        &config,
        &dir.path().join("run"),
        &["--data-dir", "/no/such/folder"],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--data-dir") && stderr.contains("does not exist"),
        "{stderr}"
    );
}

#[test]
fn a_run_on_data_files_repeats_and_resumes_from_any_folder() {
    let (dir, _) = setup();
    let data = dir.path().join("project");
    std::fs::create_dir_all(data.join("data")).unwrap();
    let mut csv = String::new();
    for i in 0..40 {
        let x = [i as f64 * 0.1, 1.0, -0.5, (i % 7) as f64];
        csv += &format!("{},{},{},{},{}\n", x[0], x[1], x[2], x[3], x[0] - x[3]);
    }
    std::fs::write(data.join("data/train.csv"), &csv).unwrap();
    let config = SMALL.split("[[search_tasks]]").next().unwrap().to_string()
        + "[[search_tasks]]\nkind = \"files\"\nfeatures_size = 4\ntrain_file = \"data/train.csv\"\nvalid_fraction = 0.25\neval_type = \"rms_error\"\n";
    std::fs::write(data.join("files.toml"), config).unwrap();
    let run = dir.path().join("run");
    // Started from the project folder with a relative config path.
    let o = Command::new(BIN)
        .current_dir(&data)
        .args(["search", "files.toml", "-q", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The run folder's config reads the same file from elsewhere, and gives the same result.
    let again = dir.path().join("again");
    search_ok(&run.join("config.toml"), &again, &[]);
    assert_eq!(read(&run.join("best.txt")), read(&again.join("best.txt")));
}

#[test]
fn search_help_shows_examples_and_the_resuming_note() {
    let o = Command::new(BIN)
        .args(["search", "--help"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    let examples = help.find("Examples:").expect("an Examples section");
    let resuming = help.find("Resuming:").expect("the resuming note");
    assert!(examples < resuming, "{help}");
    for example in [
        "automl-zero search ",
        "automl-zero search configs/",
        "--set search.population_size=100",
        "--threads 2",
        "--resume runs/",
        "--out runs/",
    ] {
        assert!(
            help[examples..resuming].contains(example),
            "{example}: {help}"
        );
    }
}

/// Linear regression by gradient descent in the small config's memory.
const LINEAR: &str = "\
def Setup():
  s2 = 0.01
def Predict():
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s3 = s2 * s3
  v2 = s3 * v0
  v1 = v1 + v2
";

#[test]
fn a_search_starts_from_a_program_file_relative_to_its_config() {
    let (dir, _) = setup();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("programs")).unwrap();
    std::fs::write(project.join("programs/linear.txt"), LINEAR).unwrap();
    let warm = SMALL.replace(
        "initial_population = \"random\"",
        "initial_population = { file = \"programs/linear.txt\" }",
    );
    std::fs::write(project.join("warm.toml"), &warm).unwrap();
    // Started from elsewhere: the file is found beside the config.
    let run = dir.path().join("run");
    search_ok(
        &project.join("warm.toml"),
        &run,
        &["--set", "search.progress_every=20"],
    );
    // Every initial member is the program: the first report (the population just filled)
    // has one fitness.
    let first: Value =
        serde_json::from_str(read(&run.join("progress.jsonl")).lines().next().unwrap()).unwrap();
    assert_eq!(first["individuals"], 20);
    assert_eq!(first["stdev"], 0.0, "{first}");
    // The run folder's config names the file by its absolute path: it repeats the run from
    // any folder, and a finished run is extended with it.
    let saved = read(&run.join("config.toml"));
    let absolute = project.join("programs/linear.txt").canonicalize().unwrap();
    assert!(
        saved.contains(&format!("file = {:?}", absolute.display().to_string())),
        "{saved}"
    );
    let again = dir.path().join("again");
    search_ok(
        &run.join("config.toml"),
        &again,
        &["--set", "search.progress_every=20"],
    );
    assert_eq!(read(&run.join("best.txt")), read(&again.join("best.txt")));
    let o = Command::new(BIN)
        .args(["search", "-q", "--resume"])
        .arg(&again)
        .args(["--set", "search.max_individuals=400"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(summary(&again)["individuals"], 400);
    // A run's best.json starts a search too.
    let json = dir.path().join("json");
    let from_json = format!(
        "search.initial_population={{file={:?}}}",
        run.join("best.json").display().to_string()
    );
    search_ok(&project.join("warm.toml"), &json, &["--set", &from_json]);
}

#[test]
fn a_bad_initial_program_file_is_named_with_the_key() {
    let (dir, config) = setup();
    let programs = [
        ("missing.txt", None, "cannot read the program file"),
        (
            "typo.txt",
            Some("def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dat(v0, v1)\n"),
            "line 4",
        ),
        ("beyond.txt", Some("def Setup():\n  s9 = 0.01\n"), "line 2"),
    ];
    for (name, text, what) in programs {
        if let Some(text) = text {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let out = dir.path().join(name.replace(".txt", ""));
        let set = format!("search.initial_population={{ file = \"{name}\" }}");
        let o = search(&config, &out, &["--set", &set]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("search.initial_population: ")
                && stderr.contains(name)
                && stderr.contains(what),
            "{stderr}"
        );
        assert!(
            !out.exists(),
            "a run that fails as it starts leaves no folder"
        );
    }
    // Neither a name nor a file.
    let o = search(
        &config,
        &dir.path().join("x"),
        &["--set", "search.initial_population={ path = \"a.txt\" }"],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("search.initial_population") && stderr.contains("{ file = "),
        "{stderr}"
    );
}
