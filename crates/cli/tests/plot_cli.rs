//! `automl-zero plot`: progress.png and progress.svg from a run folder's progress.jsonl, and the
//! errors for a missing folder, a missing or empty file and a malformed line.

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_automl-zero");

/// The colour of the best line without islands, and of island 1.
const BEST_BLUE: [u8; 3] = [31, 119, 180];
const ISLAND_1_ORANGE: [u8; 3] = [255, 127, 14];

/// One progress report as `search` writes it; `islands` is a list of (mean, best).
fn report(
    experiment: u64,
    individuals: u64,
    mean: f64,
    best: f64,
    islands: &[(f64, f64)],
    best_changed: Option<bool>,
) -> String {
    let mut line = format!(
        r#"{{"experiment":{experiment},"individuals":{individuals},"train_steps":{},"elapsed_seconds":{},"mean":{mean},"stdev":0.1,"best":{best},"individuals_per_second":70000.0,"fec_hits":10,"fec_misses":5,"canonical_hits":3"#,
        individuals * 100,
        individuals as f64 / 70000.0
    );
    if !islands.is_empty() {
        let islands: Vec<String> = islands
            .iter()
            .map(|(m, b)| format!(r#"{{"mean":{m},"stdev":0.1,"best":{b}}}"#))
            .collect();
        line += &format!(r#","islands":[{}]"#, islands.join(","));
    }
    if let Some(changed) = best_changed {
        line += &format!(r#","best_changed":{changed}"#);
    }
    line + "}\n"
}

/// Two experiments of 10 reports each (the second counting from 1,000 again), with or without
/// two islands; some lines lack `best_changed`.
fn progress(islands: bool) -> String {
    let mut text = String::new();
    for experiment in 0..2 {
        let mut best: f64 = 0.2;
        for i in 1..=10u64 {
            let changed = i % 3 == 0;
            if changed {
                best = (best + 0.15).min(1.0);
            }
            let mean = best * 0.6;
            let isl: Vec<(f64, f64)> = if islands {
                vec![(mean, best), (mean * 0.8, best * 0.9)]
            } else {
                Vec::new()
            };
            let flag = if i % 4 == 0 { None } else { Some(changed) };
            text += &report(experiment, i * 1000, mean, best, &isl, flag);
        }
    }
    text
}

fn plot(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("plot")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn plot_ok(args: &[&str]) -> String {
    let o = plot(args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "plot failed ({}):\nstdout:\n{}\nstderr:\n{stderr}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `plot`, expects a non-zero exit without a panic, and returns stderr.
fn plot_fails(args: &[&str]) -> String {
    let o = plot(args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "plot {args:?} succeeded:\n{stderr}");
    assert_eq!(o.status.code(), Some(2), "plot {args:?}: {stderr}");
    assert!(
        !stderr.contains("panicked"),
        "plot {args:?} panicked:\n{stderr}"
    );
    stderr
}

/// A decoded PNG: width, height and its RGB pixels.
struct Image {
    width: u32,
    height: u32,
    pixels: Vec<[u8; 3]>,
}

fn decode_png(path: &Path) -> Image {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Image {
        width: info.width,
        height: info.height,
        pixels,
    }
}

/// Checks the PNG's size and that it is a picture, not a flat colour.
fn check_png(path: &Path, width: u32, height: u32) -> Image {
    let image = decode_png(path);
    assert_eq!((image.width, image.height), (width, height));
    let distinct: HashSet<[u8; 3]> = image.pixels.iter().copied().collect();
    assert!(
        distinct.len() > 10,
        "{} has only {} colours",
        path.display(),
        distinct.len()
    );
    image
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn plots_a_run_without_islands() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("my-run");
    fs::create_dir(&run).unwrap();
    fs::write(run.join("progress.jsonl"), progress(false)).unwrap();

    let stdout = plot_ok(&[run.to_str().unwrap(), "--width", "800", "--height", "500"]);
    assert!(stdout.contains("progress.png"), "{stdout}");

    let image = check_png(&run.join("progress.png"), 800, 500);
    assert!(
        image.pixels.contains(&BEST_BLUE),
        "the best line is not drawn"
    );
    let svg = read(&run.join("progress.svg"));
    assert!(svg.contains("<svg"));
    assert!(svg.contains("Search progress: my-run"), "no title");
    assert!(svg.contains("width=\"800\"") && svg.contains("height=\"500\""));
    for text in [
        "best",
        "mean",
        "best changed",
        "exp 1",
        "fitness",
        "individuals",
    ] {
        assert!(svg.contains(text), "the SVG lacks {text:?}");
    }
    assert!(!svg.contains("island"));
    // No temporary file is left behind.
    let mut names: Vec<String> = fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["progress.jsonl", "progress.png", "progress.svg"]);
}

#[test]
fn plots_a_run_with_islands_to_another_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("island-run");
    fs::create_dir(&run).unwrap();
    fs::write(run.join("progress.jsonl"), progress(true)).unwrap();
    let out = dir.path().join("plots/nested");

    plot_ok(&[run.to_str().unwrap(), "--out-dir", out.to_str().unwrap()]);

    // The default size; nothing written to the run folder.
    let image = check_png(&out.join("progress.png"), 1024, 640);
    assert!(
        image.pixels.contains(&ISLAND_1_ORANGE),
        "island 1 is not drawn"
    );
    assert!(!run.join("progress.png").exists());
    let svg = read(&out.join("progress.svg"));
    assert!(svg.contains("<svg"));
    assert!(svg.contains("Search progress: island-run"));
    for text in ["island 0 best/mean", "island 1 best/mean", "exp 1"] {
        assert!(svg.contains(text), "the SVG lacks {text:?}");
    }
}

#[test]
fn tolerates_blank_lines_null_values_and_a_half_written_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("live");
    fs::create_dir(&run).unwrap();
    let text = report(0, 100, 0.3, 0.5, &[], Some(true))
        + "\n"
        + r#"{"experiment":0,"individuals":200,"mean":null,"stdev":null,"best":0.6,"islands":[]}"#
        + "\n"
        + r#"{"experiment":0,"individuals":300,"me"#;
    fs::write(run.join("progress.jsonl"), text).unwrap();
    let o = plot(&[run.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 4") && stderr.contains("incomplete"),
        "{stderr}"
    );
    check_png(&run.join("progress.png"), 1024, 640);
}

#[test]
fn the_progress_file_names_its_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("named-run");
    fs::create_dir(&run).unwrap();
    let file = run.join("progress.jsonl");
    fs::write(&file, progress(false)).unwrap();
    plot_ok(&[file.to_str().unwrap(), "--width", "640", "--height", "400"]);
    check_png(&run.join("progress.png"), 640, 400);
    assert!(read(&run.join("progress.svg")).contains("Search progress: named-run"));
}

#[test]
fn a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-run");
    let stderr = plot_fails(&[missing.to_str().unwrap()]);
    assert!(stderr.contains("no-such-run"), "{stderr}");
}

#[test]
fn a_missing_or_empty_progress_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = plot_fails(&[dir.path().to_str().unwrap()]);
    assert!(stderr.contains("progress.jsonl"), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");

    fs::write(dir.path().join("progress.jsonl"), "\n").unwrap();
    let stderr = plot_fails(&[dir.path().to_str().unwrap()]);
    assert!(stderr.contains("progress.jsonl"), "{stderr}");
    assert!(stderr.contains("empty"), "{stderr}");
    assert!(!dir.path().join("progress.png").exists());
}

#[test]
fn a_malformed_line_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("progress.jsonl");
    let good = report(0, 100, 0.3, 0.5, &[], None);

    // Not JSON.
    fs::write(&path, format!("{good}this is not json\n{good}")).unwrap();
    let stderr = plot_fails(&[dir.path().to_str().unwrap()]);
    assert!(stderr.contains("progress.jsonl"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");

    // JSON, but without `best`.
    fs::write(
        &path,
        format!("{good}{{\"experiment\":0,\"individuals\":200,\"mean\":0.3}}\n"),
    )
    .unwrap();
    let stderr = plot_fails(&[dir.path().to_str().unwrap()]);
    assert!(stderr.contains("progress.jsonl"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("best"), "{stderr}");
    assert!(!dir.path().join("progress.png").exists());
}

#[test]
fn a_too_small_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("progress.jsonl"),
        report(0, 100, 0.3, 0.5, &[], None),
    )
    .unwrap();
    let o = plot(&[dir.path().to_str().unwrap(), "--width", "10"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--width"));
}

/// The apex columns of the best-changed marks of an SVG (dark triangles), in drawing order.
fn mark_columns(svg: &str) -> Vec<i32> {
    svg.split("<polygon")
        .skip(1)
        .filter(|p| p.contains("fill=\"#1E1E1E\""))
        .map(|p| {
            let points = p.split("points=\"").nth(1).unwrap();
            points.split(',').next().unwrap().trim().parse().unwrap()
        })
        .collect()
}

#[test]
fn marks_of_a_long_run_are_thinned() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("long-run");
    fs::create_dir(&run).unwrap();
    // 3,000 reports, every one a new best.
    let text: String = (1..=3000u64)
        .map(|i| {
            let best = 0.4 + 0.5 * i as f64 / 3000.0;
            report(0, i * 100, 0.3, best, &[], Some(true))
        })
        .collect();
    fs::write(run.join("progress.jsonl"), text).unwrap();
    plot_ok(&[run.to_str().unwrap(), "--width", "800", "--height", "500"]);
    let mut columns = mark_columns(&read(&run.join("progress.svg")));
    // The legend's swatch is drawn last.
    columns.pop();
    assert!(
        (10..=80).contains(&columns.len()),
        "{} marks",
        columns.len()
    );
    for pair in columns.windows(2) {
        assert!(pair[1] - pair[0] >= 8, "marks at {pair:?}");
    }
    // The last change is always marked: where a run of that one report marks it.
    let small = dir.path().join("short-run");
    fs::create_dir(&small).unwrap();
    fs::write(
        small.join("progress.jsonl"),
        report(0, 300_000, 0.3, 0.9, &[], Some(true)),
    )
    .unwrap();
    plot_ok(&[small.to_str().unwrap(), "--width", "800", "--height", "500"]);
    let end = mark_columns(&read(&small.join("progress.svg")))[0];
    assert_eq!(*columns.last().unwrap(), end);
}
