//! `automl-zero search --resume RUN --set LIMIT=VALUE`: a finished or stopped run carried on
//! with new limits ends exactly as a run started with them; other keys, and limits the run so
//! far contradicts, are refused with the reason.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// configs/linear.toml made small: a population of 100, five select and final tasks.
const SMALL: &[&str] = &[
    "search.population_size=100",
    "search.tournament_size=10",
    "search.progress_every=500",
    "select_tasks.0.num_tasks=5",
    "final_tasks.0.num_tasks=5",
    "checkpoint_every_seconds=0",
];

fn linear() -> PathBuf {
    Path::new(WORKSPACE).join("configs/linear.toml")
}

/// A new search of the small linear config with these limits.
fn search(out: &Path, limits: &[&str], threads: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("search").arg(linear()).args(["-q", "--seed", "3"]);
    cmd.args(["--threads", threads, "--out"]).arg(out);
    for s in SMALL.iter().chain(limits) {
        cmd.args(["--set", s]);
    }
    cmd.output().unwrap()
}

fn resume(dir: &Path, limits: &[&str], threads: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["search", "-q", "--threads", threads, "--resume"])
        .arg(dir);
    for s in limits {
        cmd.args(["--set", s]);
    }
    cmd.output().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn refused(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// summary.json without its timing.
fn summary(dir: &Path) -> Value {
    let mut v: Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    v.as_object_mut().unwrap().remove("elapsed_seconds");
    v
}

/// progress.jsonl without its timings.
fn progress(dir: &Path) -> Vec<Value> {
    read(&dir.join("progress.jsonl"))
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("elapsed_seconds");
            o.remove("individuals_per_second");
            v
        })
        .collect()
}

/// The run folders hold the same run: summary (timings aside), best program, progress and
/// config.
fn assert_same_run(a: &Path, b: &Path) {
    assert_eq!(summary(a), summary(b));
    assert_eq!(read(&a.join("best.txt")), read(&b.join("best.txt")));
    assert_eq!(progress(a), progress(b));
    assert_eq!(read(&a.join("config.toml")), read(&b.join("config.toml")));
}

#[test]
fn a_run_extended_ends_as_a_run_started_with_the_larger_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |n: &str| tmp.path().join(n);
    // More experiments; then, in a run of one experiment, more individuals (1030 cut the last
    // round of 25 short: the extension plays it whole).
    let cases: [(&[&str], &[&str], &[&str]); 2] = [
        (
            &["search.max_individuals=3000"],
            &["max_experiments=2"],
            &["max_experiments=4"],
        ),
        (
            &["max_experiments=1"],
            &["search.max_individuals=1030"],
            &["search.max_individuals=2000"],
        ),
    ];
    for (i, (fixed, old, new)) in cases.into_iter().enumerate() {
        let (extended, started) = (dir(&format!("extended{i}")), dir(&format!("started{i}")));
        ok(&search(&extended, &[fixed, old].concat(), "1"));
        let before = summary(&extended);
        ok(&search(&started, &[fixed, new].concat(), "1"));
        assert_ne!(before, summary(&started), "{new:?} changes nothing");
        ok(&resume(&extended, new, "2"));
        assert_same_run(&extended, &started);
    }
}

#[test]
fn a_finished_run_extended_with_more_time_runs_again_and_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let limits = [
        "max_experiments=1",
        "search.max_individuals=100000000",
        "search.max_seconds=1",
    ];
    ok(&search(&run, &limits, "0"));
    let first = summary(&run);
    assert_eq!(first["stop_reason"], "max_seconds");
    assert!(run.join("checkpoint.json").exists());
    ok(&resume(&run, &["search.max_seconds=2"], "0"));
    let second: Value = serde_json::from_str(&read(&run.join("summary.json"))).unwrap();
    assert_eq!(second["stop_reason"], "max_seconds");
    assert_eq!(second["interrupted"], false);
    assert!(
        second["elapsed_seconds"].as_f64().unwrap() >= 2.0,
        "{second}"
    );
    assert!(
        second["individuals"].as_u64() > first["individuals"].as_u64(),
        "{first}\n{second}"
    );
    assert!(
        read(&run.join("config.toml")).contains("max_seconds = 2.0"),
        "the run folder's config holds the new limit"
    );
}

#[test]
fn resume_refuses_other_keys_and_limits_the_run_contradicts() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(&search(
        &run,
        &["max_experiments=2", "search.max_individuals=1000"],
        "0",
    ));
    let before = read(&run.join("summary.json"));
    // A finished run without a new limit: the way to extend it.
    let err = refused(&resume(&run, &[], "0"));
    assert!(
        err.contains("finished (stop reason: max_individuals")
            && err.contains("--set search.max_seconds="),
        "{err}"
    );
    // Anything but a limit, named with the reason.
    let err = refused(&resume(&run, &["search.population_size=50"], "0"));
    assert!(
        err.contains("`search.population_size` cannot change when a run is resumed")
            && err.contains("only its limits can"),
        "{err}"
    );
    // A limit below what the run has done.
    let err = refused(&resume(&run, &["max_experiments=1"], "0"));
    assert!(
        err.contains("max_experiments: the run has begun 2 experiments"),
        "{err}"
    );
    // A per-experiment limit changed after the first experiment.
    let err = refused(&resume(&run, &["search.max_individuals=5000"], "0"));
    assert!(
        err.contains("search.max_individuals") && err.contains("earlier experiment"),
        "{err}"
    );
    // The limits it finished with.
    let err = refused(&resume(&run, &["max_experiments=2"], "0"));
    assert!(err.contains("raise one"), "{err}");
    // Nothing was touched.
    assert_eq!(read(&run.join("summary.json")), before);
    // The help says how to extend a run.
    let help = Command::new(BIN)
        .args(["search", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--resume RUN_DIR --set KEY=VALUE"), "{help}");
}

#[test]
fn an_interrupted_run_resumes_to_the_run_never_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let limits = [
        "max_experiments=1",
        "search.max_individuals=60000",
        "search.stop_at_sufficient_fitness=false",
    ];
    let whole = tmp.path().join("whole");
    ok(&search(&whole, &limits, "0"));
    let stopped = tmp.path().join("stopped");
    let mut cmd = Command::new(BIN);
    cmd.arg("search")
        .arg(linear())
        .args(["-q", "--seed", "3", "--out"]);
    cmd.arg(&stopped);
    for s in SMALL.iter().chain(&limits) {
        cmd.args(["--set", s]);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(stopped.join("progress.jsonl")).map_or(0, |t| t.lines().count())
        < 2
    {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    let signal = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    // An interrupted run writes its folder, then exits with 130.
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let interrupted: Value = serde_json::from_str(&read(&stopped.join("summary.json"))).unwrap();
    assert_eq!(
        interrupted["interrupted"], true,
        "the run finished before it was interrupted; make it longer"
    );
    ok(&resume(&stopped, &[], "1"));
    assert_same_run(&stopped, &whole);
}
