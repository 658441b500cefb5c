//! `automl-zero search --threads` and `--resume`: the same run on any number of threads, and a
//! run killed with SIGKILL and resumed ends exactly as the run that was never stopped.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

/// The embedded demo made smaller, with frequent checkpoints; runs for some seconds (a release
/// build runs ten times the individuals, so that it too is killed after two checkpoints).
const MAX_INDIVIDUALS: &str = if cfg!(debug_assertions) {
    "search.max_individuals=60000"
} else {
    "search.max_individuals=600000"
};
const SETTINGS: &[&str] = &[
    MAX_INDIVIDUALS,
    "search.population_size=100",
    "search.stop_at_sufficient_fitness=false",
    "search.progress_every=2000",
    "max_experiments=1",
    "checkpoint_every_seconds=0.2",
];

fn search(out: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["search", "--seed", "4", "-q", "--out"]).arg(out);
    for s in SETTINGS {
        cmd.args(["--set", s]);
    }
    cmd.args(extra).output().unwrap()
}

fn resume(target: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["search", "-q", "--resume"])
        .arg(target)
        .args(extra)
        .output()
        .unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// summary.json without its timings.
fn summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("elapsed_seconds");
    v
}

fn best(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("best.txt")).unwrap()
}

fn progress_individuals(dir: &Path) -> Vec<u64> {
    std::fs::read_to_string(dir.join("progress.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["individuals"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn one_and_two_threads_write_the_same_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let quick = [
        "--set",
        "search.max_individuals=3000",
        "--set",
        "checkpoint_every_seconds=0",
    ];
    for (name, extra) in [("one", "1"), ("two", "2")] {
        let mut args = quick.to_vec();
        args.extend(["--threads", extra]);
        ok(&search(&tmp.path().join(name), &args));
    }
    let mut islands = quick.to_vec();
    islands.extend([
        "--set",
        "search.islands=2",
        "--set",
        "search.migrate_every=500",
    ]);
    for (name, threads) in [("islands-one", "1"), ("islands-two", "2")] {
        let mut args = islands.clone();
        args.extend(["--threads", threads]);
        ok(&search(&tmp.path().join(name), &args));
    }
    let dir = |n: &str| tmp.path().join(n);
    assert_eq!(summary(&dir("one")), summary(&dir("two")));
    assert_eq!(best(&dir("one")), best(&dir("two")));
    assert_eq!(summary(&dir("islands-one")), summary(&dir("islands-two")));
    assert_eq!(best(&dir("islands-one")), best(&dir("islands-two")));
    assert_ne!(summary(&dir("one")), summary(&dir("islands-one")));
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_same_result() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    ok(&search(&whole, &[]));

    // The same run, killed once two checkpoints exist.
    let killed = tmp.path().join("killed");
    let mut cmd = Command::new(BIN);
    cmd.args(["search", "--seed", "4", "-q", "--out"])
        .arg(&killed);
    for s in SETTINGS {
        cmd.args(["--set", s]);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !killed.join("checkpoint.prev.json").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no second checkpoint"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before its second checkpoint; make it longer"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.join("summary.json").exists(),
        "the run finished before it was killed; make it longer"
    );

    // A damaged latest checkpoint: a clear error naming it, and the previous one still resumes.
    let damaged = tmp.path().join("damaged");
    copy_dir(&killed, &damaged);
    let latest = damaged.join("checkpoint.json");
    let bytes = std::fs::read(&latest).unwrap();
    std::fs::write(&latest, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out = resume(&damaged, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("checkpoint.json") && err.contains("truncated"),
        "{err}"
    );
    assert!(err.contains("checkpoint.prev.json"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    ok(&resume(
        &damaged.join("checkpoint.prev.json"),
        &["--threads", "2"],
    ));
    assert_eq!(summary(&damaged), summary(&whole));
    assert_eq!(best(&damaged), best(&whole));
    assert_eq!(progress_individuals(&damaged), progress_individuals(&whole));

    // The intact one resumes too, to the same end.
    ok(&resume(&killed, &[]));
    assert_eq!(summary(&killed), summary(&whole));
    assert_eq!(best(&killed), best(&whole));
    assert_eq!(progress_individuals(&killed), progress_individuals(&whole));
}

#[test]
fn resume_refuses_a_folder_without_a_checkpoint_and_a_config_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = resume(tmp.path(), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checkpoint.json"), "{err}");
    let out = Command::new(BIN)
        .args(["search", "configs/demo.toml", "--resume"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
}

#[test]
fn a_run_stopped_by_sigint_writes_its_folder_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("stopped");
    let mut cmd = Command::new(BIN);
    cmd.args(["search", "--seed", "4", "-q", "--threads", "1", "--out"])
        .arg(&out);
    for s in SETTINGS {
        cmd.args(["--set", s]);
    }
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first progress report comes after the Ctrl-C handler is installed.
    let progress = out.join("progress.jsonl");
    let started = Instant::now();
    while std::fs::metadata(&progress).map_or(true, |m| m.len() == 0) {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child, which has not been waited for.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let o = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(130),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(
        stdout.contains("Stopped early") && stdout.contains("--resume"),
        "{stdout}"
    );
    let s = summary(&out);
    assert_eq!(s["interrupted"], Value::Bool(true), "{s}");
    assert!(out.join("best.txt").exists() && out.join("checkpoint.json").exists());
}
