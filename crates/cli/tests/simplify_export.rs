//! `automl-zero simplify` and `automl-zero export`, and the run folder's `best.simplified.txt`
//! and `best.py`.

use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::program::parse;
use std::path::Path;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

/// Small tasks in the demo's memory; a search of 200 individuals.
const CONFIG: &str = r#"
random_seed = 3
max_experiments = 1

[memory]
scalars = 4
vectors = 3
matrices = 1

[search]
population_size = 20
tournament_size = 5
initial_population = "random"
mutations = ["alter_param", "randomize_instruction", "randomize_component_function"]
max_individuals = 200
progress_every = 100
setup = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 4 }
predict = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 2 }
learn = { ops = ["scalar_const_set", "vector_inner_product", "scalar_diff", "scalar_product", "scalar_vector_product", "vector_sum"], size_init = 4 }

[[search_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 10
num_valid_examples = 10
num_tasks = 2
eval_type = "rms_error"

[[final_tasks]]
kind = "scalar_linear_regression"
features_size = 4
num_train_examples = 50
num_valid_examples = 20
num_tasks = 3
eval_type = "rms_error"
"#;

/// Linear regression with junk: dead instructions, a constant computed in Setup, a store of a
/// value already held.
const JUNK: &str = "\
def Setup():
  s3 = 0.1
  s2 = s3 * s3
  v2 = s0 * v1
  s3 = 0.5
def Predict():
  s3 = s0 - s1
  s1 = dot(v0, v1)
def Learn():
  s3 = s0 - s1
  s3 = s3 * s2
  s2 = 0.010000000000000002
  v2 = s3 * v0
  v1 = v1 + v2
  s1 = dot(v2, v2)
";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn simplify_prints_the_annotated_program_and_checks_the_fitness() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("junk.txt"), JUNK).unwrap();
    let out = stdout(&run(
        dir.path(),
        &["simplify", "junk.txt", "--config", "c.toml", "-o", "s.txt"],
    ));
    assert!(
        out.starts_with("# 8 of 12 instructions live; 1 folded into constants, 1 redundant stores dropped; 6 instructions remain\n"),
        "{out}"
    );
    assert!(
        out.contains("  s2 = 0.010000000000000002  # the learning rate\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "  s3 = s0 - s1               # the error: label (s0) minus prediction (s1)\n"
        ),
        "{out}"
    );
    let check = out.lines().last().unwrap();
    assert!(
        check.starts_with("fitness on final_tasks (3 tasks): original ")
            && check.ends_with("(unchanged)"),
        "{out}"
    );
    // The written file is the printed program, and it reads back.
    let written = std::fs::read_to_string(dir.path().join("s.txt")).unwrap();
    assert!(out.starts_with(&written));
    let sizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    let simplified = parse(&written, &sizes).unwrap();
    assert_eq!(simplified.len(), 6);
    // Without a config: memory sizes from flags, no check.
    let out = stdout(&run(
        dir.path(),
        &["simplify", "junk.txt", "--scalars", "4"],
    ));
    assert!(!out.contains("fitness on"), "{out}");
    // A program beyond the memory is an error naming the file and line.
    let bad = run(dir.path(), &["simplify", "junk.txt", "--scalars", "3"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("junk.txt: line 2"), "{err}");
}

#[test]
fn export_writes_python_and_rust_modules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.txt"), JUNK).unwrap();
    stdout(&run(
        dir.path(),
        &[
            "export",
            "junk.txt",
            "--to",
            "python",
            "--simplify",
            "-o",
            "m.py",
        ],
    ));
    let py = std::fs::read_to_string(dir.path().join("m.py")).unwrap();
    assert!(py.contains("FEATURES = 4 "), "{py}");
    assert!(
        py.contains("            s[3] = s[0] - s[1]  # s3 = s0 - s1\n"),
        "{py}"
    );
    assert!(
        py.contains("            # the error: label (s0) minus prediction (s1)\n"),
        "{py}"
    );
    assert!(py.contains("SCALARS, VECTORS, MATRICES = 4, 3, 0"), "{py}");
    // Without a config of classification tasks, the sigmoid is off by default.
    assert!(py.contains("accuracy=False):"), "{py}");
    // With one, it is on (Python and Rust), as the engine trained the program.
    let config = std::fs::read_to_string(Path::new(WORKSPACE).join("configs/digits.toml")).unwrap();
    std::fs::write(dir.path().join("digits.toml"), config).unwrap();
    for (to, on) in [("python", "accuracy=True):"), ("rust", "accuracy: true,")] {
        let out = stdout(&run(
            dir.path(),
            &["export", "junk.txt", "--to", to, "--config", "digits.toml"],
        ));
        assert!(out.contains(on), "{out}");
    }
    let out = stdout(&run(
        dir.path(),
        &["export", "junk.txt", "--to", "rust", "--features", "8"],
    ));
    assert!(out.contains("pub const FEATURES: usize = 8;"), "{out}");
    assert!(
        out.contains("pub fn predict(&mut self, features: &Vector) -> f64"),
        "{out}"
    );
    // Unsimplified, the dead instructions are exported too.
    assert!(
        out.contains("s[1] = dot(&v[2], &v[2]); // s1 = dot(v2, v2)"),
        "{out}"
    );
    let bad = run(dir.path(), &["export", "junk.txt", "--to", "cobol"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = run(
        dir.path(),
        &["export", "junk.txt", "--to", "rust", "--features", "0"],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("features: 0 is out of range"));
}

#[test]
fn a_search_writes_the_simplified_program_and_a_python_module() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), CONFIG).unwrap();
    stdout(&run(
        dir.path(),
        &["search", "c.toml", "--out", "run", "--quiet"],
    ));
    let run_dir = dir.path().join("run");
    let best = std::fs::read_to_string(run_dir.join("best.txt")).unwrap();
    let simplified = std::fs::read_to_string(run_dir.join("best.simplified.txt")).unwrap();
    assert!(simplified.starts_with("# "), "{simplified}");
    assert!(
        simplified.contains(" of 10 instructions live;"),
        "{simplified}"
    );
    let py = std::fs::read_to_string(run_dir.join("best.py")).unwrap();
    assert!(py.contains("class Model:"), "{py}");
    // The simplified program has the fitness of best.txt on the final tasks.
    let fitness = |file: &str| {
        let out = stdout(&run(
            dir.path(),
            &["eval", file, "--config", "c.toml", "--json"],
        ));
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["fitness"].as_f64().unwrap()
    };
    assert_eq!(
        fitness("run/best.txt"),
        fitness("run/best.simplified.txt"),
        "{best}\n{simplified}"
    );
}

#[test]
fn export_uses_the_config_of_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    // A classification search: labels 0 or 1 from the first feature.
    let mut csv = String::new();
    for i in 0..40 {
        let x = [(i % 10) as f64 / 10.0, 1.0, -0.5, (i % 7) as f64];
        csv += &format!(
            "{},{},{},{},{}\n",
            x[0],
            x[1],
            x[2],
            x[3],
            u8::from(x[0] > 0.45)
        );
    }
    std::fs::write(dir.path().join("data.csv"), csv).unwrap();
    let classify = CONFIG.split("[[search_tasks]]").next().unwrap().to_string()
        + "[[search_tasks]]\nkind = \"files\"\nfeatures_size = 4\ntrain_file = \"data.csv\"\nvalid_fraction = 0.25\neval_type = \"accuracy\"\n";
    std::fs::write(dir.path().join("classify.toml"), classify).unwrap();
    std::fs::write(dir.path().join("c.toml"), CONFIG).unwrap();
    stdout(&run(
        dir.path(),
        &["search", "classify.toml", "--out", "run", "--quiet"],
    ));
    let export = |extra: &[&str]| {
        let mut args = vec!["export", "run/best.txt"];
        args.extend(extra);
        let o = run(dir.path(), &args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        (stdout(&o), err)
    };
    // Without --config: the run's config.toml, said on stderr; the sigmoid is on.
    for (to, on) in [("python", "accuracy=True):"), ("rust", "accuracy: true,")] {
        let (module, err) = export(&["--to", to]);
        assert!(err.contains("using run/config.toml"), "{err}");
        assert!(module.contains(on), "{module}");
    }
    let (module, _) = export(&["--to", "python", "-o", "m.py"]);
    assert!(module.is_empty());
    let py = std::fs::read_to_string(dir.path().join("m.py")).unwrap();
    assert!(
        py.contains("FEATURES = 4 ") && py.contains("accuracy=True):"),
        "{py}"
    );
    let check = "import numpy as np, m\nmodel = m.Model()\nassert model.accuracy\nmodel.setup()\n\
                 x = np.array([0.9, 1.0, -0.5, 3.0])\nmodel.predict(x)\nmodel.learn(x, 1.0)\nprint('ok')";
    let o = Command::new("python3")
        .args(["-c", check])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(stdout(&o).trim(), "ok");
    // --no-config: default memory, no sigmoid, nothing said.
    let (module, err) = export(&["--to", "python", "--no-config"]);
    assert!(!err.contains("using"), "{err}");
    assert!(module.contains("accuracy=False):"), "{module}");
    // A memory size flag does without it too.
    let (module, err) = export(&["--to", "python", "--scalars", "8"]);
    assert!(
        !err.contains("using") && module.contains("accuracy=False):"),
        "{err}"
    );
    // --config comes first.
    let (module, err) = export(&["--to", "python", "--config", "c.toml"]);
    assert!(!err.contains("using"), "{err}");
    assert!(module.contains("accuracy=False):"), "{module}");
    // A broken config.toml beside the program is an error naming it, with the way out.
    std::fs::write(dir.path().join("run/config.toml"), "nonsense = [").unwrap();
    let o = run(dir.path(), &["export", "run/best.txt", "--to", "python"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("run/config.toml") && err.contains("--no-config"),
        "{err}"
    );
}
