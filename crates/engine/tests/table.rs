//! A table's config (`init`'s, the Python estimators'), tables held in memory, and learners
//! trained on a whole table.

use automl_zero_engine::builtins;
use automl_zero_engine::config::table::{IN_MEMORY, Plan, Problem, table_config};
use automl_zero_engine::evaluation::train_then_predict;
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::Memory;
use automl_zero_engine::model::{ModelError, Trained};
use automl_zero_engine::rng::MtRng;
use automl_zero_engine::tasks::file_tasks::{self, FileData};
use automl_zero_engine::tasks::{Dataset, Task, build_tasks, first_data_seed};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `n` rows of 3 features on different scales; the label linear in them (0/1 for
/// classification), rows sorted by label as users' files often are.
fn table(n: usize, problem: Problem) -> Dataset {
    let mut rows: Vec<(Vec<f64>, f64)> = (0..n)
        .map(|i| {
            let t = i as f64;
            let x = vec![
                (t * 0.37).sin() * 30.0 + 100.0,
                (t * 0.11).cos() * 3.0,
                t % 7.0,
            ];
            let y = 300.0 * x[0] - 500.0 * x[1] + 40.0 * x[2] + 1000.0 * (t * 1.3).sin();
            let y = match problem {
                Problem::Regression => y,
                Problem::Classification => f64::from(u8::from(y > 30_000.0)),
            };
            (x, y)
        })
        .collect();
    rows.sort_by(|a, b| a.1.total_cmp(&b.1));
    Dataset {
        features: rows.iter().flat_map(|r| r.0.clone()).collect(),
        labels: rows.iter().map(|r| r.1).collect(),
        num_features: 3,
        names: None,
    }
}

/// Writes a table as a CSV (features, then the label) that reads back exactly.
fn write_csv(dir: &Path, data: &Dataset) -> PathBuf {
    let text: String = (0..data.num_rows())
        .map(|r| {
            let mut cells: Vec<String> = data.row(r).iter().map(|v| format!("{v:?}")).collect();
            cells.push(format!("{:?}", data.labels[r]));
            cells.join(",") + "\n"
        })
        .collect();
    let path = dir.join("data.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn plan(data: PathBuf, problem: Problem, rows: usize) -> Plan {
    Plan {
        data,
        ..Plan::in_memory(problem, rows, 3).unwrap()
    }
}

#[test]
fn a_table_in_memory_makes_the_tasks_its_file_makes() {
    let dir = tempfile::tempdir().unwrap();
    for problem in [Problem::Regression, Problem::Classification] {
        let data = table(200, problem);
        let file = write_csv(dir.path(), &data);
        let from_file = table_config(&plan(file, problem, 200), dir.path(), None, &[]).unwrap();
        let memory = Arc::new(data);
        let in_memory = table_config(
            &Plan::in_memory(problem, 200, 3).unwrap(),
            Path::new("/nowhere"),
            Some(&memory),
            &[],
        )
        .unwrap();
        assert_eq!(from_file.measured, in_memory.measured);
        let specs = &in_memory.config.search_tasks;
        assert_eq!(specs[0].train_file.as_deref(), Some(Path::new(IN_MEMORY)));
        let a = build_tasks::<4>(&from_file.config.search_tasks, "s", dir.path()).unwrap();
        let b = build_tasks::<4>(specs, "s", Path::new("/nowhere")).unwrap();
        assert_eq!(a.len(), 5);
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(a.train_features, b.train_features);
            assert_eq!(a.valid_labels, b.valid_labels);
            assert_eq!(a.test_labels, b.test_labels);
            assert_eq!(a.label_scale, b.label_scale);
        }
    }
}

#[test]
fn small_tables_get_a_probe_their_tasks_hold() {
    let memory = Arc::new(table(30, Problem::Regression));
    let made = table_config(
        &Plan::in_memory(Problem::Regression, 30, 3).unwrap(),
        Path::new("."),
        Some(&memory),
        &[],
    )
    .unwrap();
    // 30 rows: 6 held out for the test, 6 of the other 24 validated on.
    assert_eq!(made.measured.fec, [10, 6]);
    let fec = made.config.search.fec.unwrap();
    assert_eq!((fec.num_train_examples, fec.num_valid_examples), (10, 6));
    assert!(
        made.text.contains("num_valid_examples = 6"),
        "{}",
        made.text
    );
}

#[test]
fn overrides_apply_and_a_wrong_one_names_its_key() {
    let memory = Arc::new(table(100, Problem::Regression));
    let plan = Plan {
        max_seconds: None,
        ..Plan::in_memory(Problem::Regression, 100, 3).unwrap()
    };
    let set = ["search.population_size=50".to_string()];
    let made = table_config(&plan, Path::new("."), Some(&memory), &set).unwrap();
    assert_eq!(made.config.search.population_size, 50);
    assert_eq!(made.config.search.max_seconds, None);
    let bad = ["search.populaton_size=50".to_string()];
    let e = table_config(&plan, Path::new("."), Some(&memory), &bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("populaton_size") && e.contains("population_size"),
        "{e}"
    );
}

#[test]
fn classification_tables_in_memory_need_labels_0_and_1() {
    let mut data = table(50, Problem::Classification);
    data.labels[3] = 2.0;
    let e = table_config(
        &Plan::in_memory(Problem::Classification, 50, 3).unwrap(),
        Path::new("."),
        Some(&Arc::new(data)),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("label 2") && e.contains("0 or 1"), "{e}");
    let e = Plan::in_memory(Problem::Regression, 50, 33).unwrap_err();
    assert!(e.contains("33 features") && e.contains("at most 32"), "{e}");
}

#[test]
fn a_trained_learner_predicts_as_training_then_predicting_does() {
    let data = table(120, Problem::Regression);
    let memory = Arc::new(data.clone());
    let made = table_config(
        &Plan::in_memory(Problem::Regression, 120, 3).unwrap(),
        Path::new("."),
        Some(&memory),
        &[],
    )
    .unwrap();
    let config = &made.config;
    let algorithm = builtins::linear(0.01);
    let trained = Trained::fit(&algorithm, config, data.clone(), 1).unwrap();
    let predicted = trained.predict(&data.features).unwrap();
    // The same by hand: all rows trained on, then predicted in turn (the linear learner keeps
    // no state across predictions, so both ways agree).
    let spec = config.final_tasks[0].clone();
    let file_data = FileData {
        pool: (0..120).collect(),
        valid: Some(data.clone()),
        train: data.clone(),
        test_rows: Vec::new(),
    };
    let spec = automl_zero_engine::tasks::TaskSpec {
        num_valid_examples: 0,
        ..spec
    };
    let seed = first_data_seed(&spec);
    let examples = file_tasks::examples::<4>(&file_data, &spec, seed);
    let task = Task::new(
        0,
        spec.eval_type,
        examples.train,
        examples.valid,
        spec.num_train_epochs,
        (seed, 0),
    );
    let program = Program::compile(&algorithm, &config.memory, 4).unwrap();
    let mut m = Memory::<4>::new(config.memory);
    let by_hand = train_then_predict(
        &program,
        &task,
        task.max_train_examples(),
        config.search.max_abs_error,
        &mut m,
        &mut MtRng::new(1),
        &[&task.valid_features],
    )
    .unwrap();
    let by_hand: Vec<f64> = by_hand[0]
        .iter()
        .map(|p| examples.label_scale.unscale(*p))
        .collect();
    assert_eq!(predicted, by_hand);
    // Near least squares on these nearly linear rows: within 10% of the label's spread.
    let mean = data.labels.iter().sum::<f64>() / 120.0;
    let sd = (data.labels.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / 120.0).sqrt();
    let rmse = (predicted
        .iter()
        .zip(&data.labels)
        .map(|(p, y)| (p - y).powi(2))
        .sum::<f64>()
        / 120.0)
        .sqrt();
    assert!(rmse < 0.3 * sd, "rmse {rmse}, sd {sd}");
    // Rows are predicted on their own: a subset gets the same predictions.
    let some = trained.predict(&data.features[30..60]).unwrap();
    assert_eq!(some, predicted[10..20]);
    // Round trip through JSON.
    let json = serde_json::to_string(&trained).unwrap();
    let back: Trained = serde_json::from_str(&json).unwrap();
    assert_eq!(back.predict(&data.features).unwrap(), predicted);
    assert!(matches!(
        trained.predict(&[1.0, 2.0]),
        Err(ModelError::Table(_))
    ));
}

#[test]
fn a_perfect_baseline_still_makes_a_valid_stop_fitness() {
    // Classes a line separates: logistic regression is right on every row.
    let mut data = table(100, Problem::Classification);
    for r in 0..100 {
        data.labels[r] = f64::from(u8::from(data.row(r)[2] > 3.0));
    }
    let made = table_config(
        &Plan::in_memory(Problem::Classification, 100, 3).unwrap(),
        Path::new("."),
        Some(&Arc::new(data)),
        &[],
    )
    .unwrap();
    assert_eq!(made.measured.baseline, 1.0);
    assert_eq!(made.config.sufficient_fitness, Some(0.999999));
}
