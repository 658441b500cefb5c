//! `automl-zero bench` measures a fixed workload and reports medians.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_automl-zero"))
}

/// Runs `automl-zero bench --json` with these arguments and parses its report.
fn bench_json(args: &[&str]) -> serde_json::Value {
    let out = bin()
        .arg("bench")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bench_reports_medians_as_json() {
    let v = bench_json(&[
        "--individuals",
        "1500",
        "--repeats",
        "2",
        "--set",
        "search.population_size=500",
    ]);
    assert_eq!(v["runs"].as_array().unwrap().len(), 2);
    for run in v["runs"].as_array().unwrap() {
        assert_eq!(run["individuals"], 1500);
    }
    // The same seed does the same work every time.
    assert_eq!(v["runs"][0]["instructions"], v["runs"][1]["instructions"]);
    assert!(v["individuals_per_second"]["median"].as_f64().unwrap() > 0.0);
    let rate = v["fec_hit_rate"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&rate));
}

#[test]
fn bench_does_the_same_work_on_one_and_two_threads() {
    let run = |threads: &str| {
        bench_json(&[
            "--individuals",
            "1200",
            "--repeats",
            "1",
            "--set",
            "search.population_size=300",
            "--threads",
            threads,
        ])
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(one["threads"], 1);
    assert_eq!(two["threads"], 2);
    for key in [
        "individuals",
        "train_steps",
        "instructions",
        "fec_hits",
        "fec_misses",
    ] {
        assert_eq!(one["runs"][0][key], two["runs"][0][key], "{key}");
    }
}

#[test]
fn bench_refuses_a_bad_thread_count() {
    let out = bin()
        .args(["bench", "--threads", "100000", "--individuals", "10"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threads"));
}

#[test]
fn bench_speedup_pairs_one_thread_with_two() {
    let v = bench_json(&[
        "--individuals",
        "1200",
        "--repeats",
        "2",
        "--set",
        "search.population_size=300",
        "--threads",
        "2",
        "--speedup",
    ]);
    assert_eq!(v["one_thread"]["threads"], 1);
    assert_eq!(v["threads"]["threads"], 2);
    let pairs = v["speedup"]["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 2);
    assert!(v["speedup"]["median_of_pairs"]["median"].as_f64().unwrap() > 0.0);
    // Each pair's ratio is the two runs' speeds divided.
    let speed = |side: &str, i: usize| {
        let run = &v[side]["runs"][i];
        run["individuals"].as_f64().unwrap() / run["seconds"].as_f64().unwrap()
    };
    for (i, ratio) in pairs.iter().enumerate() {
        let expected = speed("threads", i) / speed("one_thread", i);
        assert!((ratio.as_f64().unwrap() - expected).abs() < 1e-9 * expected);
    }
    // Both sides do the same work.
    assert_eq!(
        v["one_thread"]["runs"][0]["instructions"],
        v["threads"]["runs"][0]["instructions"]
    );
}

#[test]
fn bench_speedup_alternates_which_side_runs_first() {
    let out = bin()
        .args([
            "bench",
            "--individuals",
            "600",
            "--repeats",
            "3",
            "--set",
            "search.population_size=300",
            "--threads",
            "2",
            "--speedup",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let order: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("run "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "run 1 (1 thread)",
            "run 1 (2 threads)",
            "run 2 (2 threads)",
            "run 2 (1 thread)",
            "run 3 (1 thread)",
            "run 3 (2 threads)",
        ]
    );
    assert!(text.contains("speed-up with 2 threads: median"), "{text}");
}

#[test]
fn bench_speedup_needs_more_than_one_thread() {
    let out = bin()
        .args([
            "bench",
            "--threads",
            "1",
            "--speedup",
            "--individuals",
            "10",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speedup"));
}
