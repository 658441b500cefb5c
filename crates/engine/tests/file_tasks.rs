//! Tasks made from one data file: resampled splits, a fixed test hold-out, scaling, padding.

use automl_zero_engine::builtins::linear;
use automl_zero_engine::evaluation::test_split::score_with_test;
use automl_zero_engine::evaluation::{EvalSettings, Evaluator, Metrics};
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::program::{Algorithm, parse};
use automl_zero_engine::rng::Rng;
use automl_zero_engine::tasks::{
    EvalType, LabelColumn, Task, TaskKind, TaskSpec, build_tasks, randomize_seeds, split_warnings,
};
use std::path::{Path, PathBuf};

const SIZES: MemorySizes = MemorySizes {
    scalars: 5,
    vectors: 4,
    matrices: 1,
};

/// A file task over `file` with `features` features.
fn spec(file: &Path, features: usize, eval_type: EvalType, num_tasks: usize) -> TaskSpec {
    TaskSpec {
        train_file: Some(file.to_path_buf()),
        eval_type,
        ..TaskSpec::generated(TaskKind::Files, features, 0, 0, num_tasks)
    }
}

/// Writes `rows` (features then label) as a CSV with a header, and returns its path.
fn write_csv(dir: &tempfile::TempDir, name: &str, rows: &[Vec<f64>]) -> PathBuf {
    let columns = rows[0].len();
    let mut text: Vec<String> = vec![
        (0..columns - 1)
            .map(|c| format!("x{c}"))
            .chain(["y".to_string()])
            .collect::<Vec<_>>()
            .join(","),
    ];
    text.extend(rows.iter().map(|r| {
        r.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }));
    let path = dir.path().join(name);
    std::fs::write(&path, text.join("\n")).unwrap();
    path
}

/// `n` rows of `d` features on very different scales, label `1e4 × (x·w) + 5e4 + noise`,
/// sorted by label.
fn sorted_regression(n: usize, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed, 1);
    let mut rows: Vec<Vec<f64>> = (0..n)
        .map(|_| {
            let x: Vec<f64> = (0..d)
                .map(|c| rng.normal() * 10f64.powi(c as i32 - 1))
                .collect();
            let y = x
                .iter()
                .enumerate()
                .map(|(c, v)| v / 10f64.powi(c as i32 - 1) * (c as f64 + 1.0))
                .sum::<f64>()
                * 1e4
                + 5e4
                + rng.normal() * 100.0;
            x.into_iter().chain([y]).collect()
        })
        .collect();
    rows.sort_by(|a, b| a[d].total_cmp(&b[d]));
    rows
}

fn tasks<const F: usize>(specs: &[TaskSpec]) -> Vec<Task<F>> {
    build_tasks::<F>(specs, "search_tasks", Path::new("/")).unwrap()
}

fn fitness<const F: usize>(algorithm: &Algorithm, tasks: Vec<Task<F>>) -> f64 {
    Evaluator::new(tasks, EvalSettings::plain(SIZES, 100.0))
        .evaluate(algorithm, 1)
        .unwrap()
}

#[test]
fn resampled_tasks_differ_and_fresh_seeds_draw_fresh_splits() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(&dir, "data.csv", &sorted_regression(200, 3, 1));
    let mut specs = vec![spec(&file, 4, EvalType::RmsError, 3)];
    let t = tasks::<4>(&specs);
    assert_eq!(t.len(), 3);
    assert_eq!(t[0].train_labels.len(), 150);
    assert_eq!(t[0].valid_labels.len(), 50);
    assert_ne!(t[0].train_features, t[1].train_features);
    assert_ne!(t[1].valid_features, t[2].valid_features);
    // The same seeds give the same tasks.
    assert_eq!(tasks::<4>(&specs)[1].valid_features, t[1].valid_features);
    randomize_seeds(&mut specs, 99);
    let fresh = tasks::<4>(&specs);
    assert_ne!(fresh[0].valid_features, t[0].valid_features);
}

#[test]
fn a_sorted_file_cannot_be_scored_by_row_order() {
    let dir = tempfile::tempdir().unwrap();
    let rows = sorted_regression(300, 3, 2);
    let file = write_csv(&dir, "sorted.csv", &rows);
    let t = tasks::<4>(&[spec(&file, 4, EvalType::RmsError, 3)]);
    // Predicting the training mean (0 once labels are standardised) scores about
    // FlipAndSquash(1) = 0.5.
    let constant = parse(
        "def Setup():\ndef Predict():\n  s1 = 0.0\ndef Learn():\n",
        &SIZES,
    )
    .unwrap();
    let constant_fitness = fitness(&constant, t.clone());
    assert!((constant_fitness - 0.5).abs() < 0.05, "{constant_fitness}");
    // A counter that steps through the standardised labels in file order would fit a sorted
    // file well; on shuffled rows it does worse than the constant.
    let counter = parse(
        "def Setup():\n  s2 = -1.7\n  s3 = 0.0115\ndef Predict():\n  s1 = s2 + s4\n  s4 = s4 + s3\ndef Learn():\n",
        &SIZES,
    )
    .unwrap();
    let counter_fitness = fitness(&counter, t.clone());
    assert!(
        counter_fitness < constant_fitness,
        "{counter_fitness} vs {constant_fitness}"
    );
    // The built-in linear learner reads the features and beats both by far.
    let linear_fitness = fitness(&linear(0.01), t);
    assert!(linear_fitness > 0.9, "{linear_fitness}");
}

#[test]
fn a_sorted_classification_file_has_both_classes_in_every_split() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Vec<f64>> = (0..100)
        .map(|i| vec![i as f64, (i >= 70) as u8 as f64])
        .collect();
    let file = write_csv(&dir, "sorted.csv", &rows);
    let t = tasks::<2>(&[spec(&file, 2, EvalType::Accuracy, 5)]);
    assert!(split_warnings(&t, "search_tasks").is_empty());
    // Always answering class 1 scores about the share of class 1 (0.3), not 1.0.
    let ones = parse(
        "def Setup():\ndef Predict():\n  s1 = 5.0\ndef Learn():\n",
        &SIZES,
    )
    .unwrap();
    let f = fitness(&ones, t);
    assert!(f < 0.5, "{f}");
}

#[test]
fn one_class_or_one_label_value_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64, 1.0]).collect();
    let file = write_csv(&dir, "ones.csv", &rows);
    let t = tasks::<2>(&[spec(&file, 2, EvalType::Accuracy, 2)]);
    let warnings = split_warnings(&t, "search_tasks");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("training rows of task 0 hold only class 1"),
        "{warnings:?}"
    );
    let t = tasks::<2>(&[spec(&file, 2, EvalType::RmsError, 1)]);
    let warnings = split_warnings(&t, "search_tasks");
    assert!(
        warnings[0].ends_with("all have the label 1"),
        "{warnings:?}"
    );
}

#[test]
fn standardised_rows_round_trip_to_the_data_units() {
    let dir = tempfile::tempdir().unwrap();
    let rows = sorted_regression(120, 3, 3);
    let file = write_csv(&dir, "data.csv", &rows);
    let t = &tasks::<4>(&[spec(&file, 4, EvalType::RmsError, 1)])[0];
    let n = t.train_labels.len() as f64;
    for c in 0..3 {
        let mean = t.train_features.iter().map(|x| x[c]).sum::<f64>() / n;
        let var = t
            .train_features
            .iter()
            .map(|x| (x[c] - mean).powi(2))
            .sum::<f64>()
            / n;
        assert!(
            mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12,
            "{c}: {mean} {var}"
        );
    }
    // The padding column is zero everywhere.
    assert!(
        t.train_features
            .iter()
            .chain(&t.valid_features)
            .all(|x| x[3] == 0.0)
    );
    // Every scaled label is a label of the file.
    for &y in t.train_labels.iter().chain(&t.valid_labels) {
        let original = t.label_scale.unscale(y);
        assert!(
            rows.iter()
                .any(|r| (r[3] - original).abs() < 1e-9 * original.abs()),
            "{original}"
        );
    }
    // Without standardisation the file's values are kept.
    let raw = TaskSpec {
        standardize: Some(false),
        ..spec(&file, 4, EvalType::RmsError, 1)
    };
    let t = &tasks::<4>(&[raw])[0];
    assert!(
        t.train_labels
            .iter()
            .all(|y| rows.iter().any(|r| r[3] == *y))
    );
}

#[test]
fn padding_does_not_change_what_a_linear_learner_reaches() {
    let dir = tempfile::tempdir().unwrap();
    for d in [3usize, 7] {
        let file = write_csv(&dir, &format!("d{d}.csv"), &sorted_regression(400, d, 4));
        let tight = if d == 3 { 4 } else { 8 };
        let narrow = crate_fitness(&file, tight);
        let wide = crate_fitness(&file, 16);
        assert!(
            (narrow - wide).abs() < 1e-9,
            "{d} features: {narrow} vs {wide}"
        );
        assert!(narrow > 0.9, "{narrow}");
    }
    // More features than features_size is an error naming the key and the size to use.
    let file = write_csv(&dir, "d7b.csv", &sorted_regression(50, 7, 5));
    let error = build_tasks::<4>(
        &[spec(&file, 4, EvalType::RmsError, 1)],
        "search_tasks",
        Path::new("/"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("rows have 7 features, but search_tasks[0].features_size is 4; set it to 8"),
        "{error}"
    );
}

fn crate_fitness(file: &Path, features: usize) -> f64 {
    let s = spec(file, features, EvalType::RmsError, 2);
    automl_zero_engine::with_features!(features, F => fitness(&linear(0.01), tasks::<F>(&[s])), _ => unreachable!())
}

#[test]
fn test_rows_are_held_out_of_every_task() {
    let dir = tempfile::tempdir().unwrap();
    // The label is the row number, so rows can be told apart.
    let rows: Vec<Vec<f64>> = (0..100).map(|i| vec![(i % 7) as f64, i as f64]).collect();
    let file = write_csv(&dir, "rows.csv", &rows);
    let held = |seed: u64| {
        let mut s = vec![TaskSpec {
            test_fraction: Some(0.2),
            standardize: Some(false),
            ..spec(&file, 2, EvalType::RmsError, 3)
        }];
        randomize_seeds(&mut s, seed);
        tasks::<2>(&s)
    };
    let a = held(1);
    let test: Vec<f64> = a[0].test_labels.clone();
    assert_eq!(test.len(), 20);
    for t in a.iter().chain(&held(2)) {
        assert_eq!(t.test_labels, test);
        assert_eq!(t.train_labels.len() + t.valid_labels.len(), 80);
        assert!(
            t.train_labels
                .iter()
                .chain(&t.valid_labels)
                .all(|y| !test.contains(y))
        );
    }
}

#[test]
fn the_label_column_is_chosen_by_name_or_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("named.csv");
    std::fs::write(&path, "price,a,b\n10,1,2\n20,3,4\n30,5,6\n40,7,8\n").unwrap();
    for label in [LabelColumn::Name("price".into()), LabelColumn::Number(1)] {
        let s = TaskSpec {
            label: Some(label),
            standardize: Some(false),
            ..spec(&path, 2, EvalType::RmsError, 1)
        };
        let t = &tasks::<2>(&[s])[0];
        let mut labels: Vec<f64> = t
            .train_labels
            .iter()
            .chain(&t.valid_labels)
            .copied()
            .collect();
        labels.sort_by(f64::total_cmp);
        assert_eq!(labels, [10.0, 20.0, 30.0, 40.0]);
    }
    let s = TaskSpec {
        label: Some(LabelColumn::Name("cost".into())),
        ..spec(&path, 2, EvalType::RmsError, 1)
    };
    let error = build_tasks::<2>(&[s], "search_tasks", Path::new("/"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("no column is named `cost`; the header names `price`, `a`, `b`"),
        "{error}"
    );
}

#[test]
fn final_metrics_are_in_the_labels_units() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(&dir, "data.csv", &sorted_regression(400, 3, 6));
    let s = TaskSpec {
        test_fraction: Some(0.25),
        num_train_epochs: 5,
        ..spec(&file, 4, EvalType::RmsError, 2)
    };
    let scores = score_with_test(
        &linear(0.01),
        &[s],
        "final_tasks",
        &EvalSettings::plain(SIZES, 100.0),
        Path::new("/"),
        1,
    )
    .unwrap();
    let (Some(Metrics::Regression { rmse, r2, .. }), Some(test)) =
        (scores.metrics.valid, scores.metrics.test)
    else {
        panic!("{:?}", scores.metrics);
    };
    // The noise has sd 100 in the labels' units; the model is near it, and explains nearly all.
    let rmse = rmse.unwrap();
    assert!(rmse > 80.0 && rmse < 200.0, "{rmse}");
    assert!(r2.unwrap() > 0.99);
    assert!(test.get("rmse").unwrap() < 200.0);
}
