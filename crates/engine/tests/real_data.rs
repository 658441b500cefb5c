//! Real data: the image readers (IDX, CIFAR-10 binary, tables) on files written here and on the
//! real Fashion-MNIST files, and the projected binary classification tasks built from them.

use automl_zero_engine::builtins;
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::EvalSettings;
use automl_zero_engine::evaluation::execute;
use automl_zero_engine::evaluation::test_split::{execute_with_test, score_with_test};
use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{Memory, MemorySizes};
use automl_zero_engine::rng::{MtRng, Rng};
use automl_zero_engine::tasks::images::{
    self, DatasetFormat, DatasetSpec, ImageSet, Pixels, dataset_files, idx, read_cifar10,
    read_idx_images, read_table_images,
};
use automl_zero_engine::tasks::projected::{
    candidate_pairs, class_pair, moments, projection, split_images,
};
use automl_zero_engine::tasks::{EvalType, Task, TaskKind, TaskSpec, build_tasks};
use flate2::Compression;
use flate2::write::GzEncoder;
use npyz::WriterBuilder;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Helpers

/// An IDX file: the magic number, the dimension sizes, the data.
fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Five 2x3 images whose pixels are 10 * item + position, with labels 0, 1, 2, 1, 0.
fn small_idx() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..5u8)
        .flat_map(|i| (0..6u8).map(move |p| 10 * i + p))
        .collect();
    (
        idx_bytes(idx::IMAGES_MAGIC, &[5, 2, 3], &pixels),
        idx_bytes(idx::LABELS_MAGIC, &[5], &[0, 1, 2, 1, 0]),
    )
}

fn error_text<T: std::fmt::Debug>(result: Result<T, impl std::fmt::Display>) -> String {
    result.expect_err("expected an error").to_string()
}

/// A CIFAR-10 record: the label, then 3072 pixel bytes all equal to `fill`.
fn cifar_record(label: u8, fill: u8) -> Vec<u8> {
    let mut record = vec![label];
    record.extend(std::iter::repeat_n(fill, 3072));
    record
}

/// Where the real Fashion-MNIST files are, or None (with a note) when they are not there.
fn fashion_mnist() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/fashion-mnist");
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "note: {} is absent; skipping the test on the real Fashion-MNIST files",
            dir.display()
        );
        None
    }
}

// ---------------------------------------------------------------------------------------------
// IDX

#[test]
fn idx_reads_plain_and_gzipped_files() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = small_idx();
    for (suffix, encode) in [("", false), (".gz", true)] {
        let enc = |b: &[u8]| if encode { gzip(b) } else { b.to_vec() };
        let x = write(
            dir.path(),
            &format!("x-images-idx3-ubyte{suffix}"),
            &enc(&images),
        );
        let y = write(
            dir.path(),
            &format!("x-labels-idx1-ubyte{suffix}"),
            &enc(&labels),
        );
        let set = read_idx_images(&x, &y, 10).unwrap();
        assert_eq!(set.len(), 5);
        assert_eq!(set.num_features, 6);
        assert_eq!(set.labels, [0, 1, 2, 1, 0]);
        assert_eq!(set.row(3), [30.0, 31.0, 32.0, 33.0, 34.0, 35.0]);
        assert_eq!(set.class_counts(), [2, 2, 1]);
        // The images file names its labels file.
        assert_eq!(dataset_files(DatasetFormat::Idx, &x).unwrap(), [x, y]);
    }
}

#[test]
fn idx_folder_finds_the_training_files() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = small_idx();
    let x = write(dir.path(), "train-images-idx3-ubyte.gz", &gzip(&images));
    let y = write(dir.path(), "train-labels-idx1-ubyte", &labels);
    assert_eq!(
        dataset_files(DatasetFormat::Idx, dir.path()).unwrap(),
        [x, y]
    );
    let set = images::load(DatasetFormat::Idx, dir.path(), 10).unwrap();
    assert_eq!(set.len(), 5);
    // A second load is the same shared copy.
    let again = images::load(DatasetFormat::Idx, dir.path(), 10).unwrap();
    assert!(std::sync::Arc::ptr_eq(&set, &again));
    let empty = tempfile::tempdir().unwrap();
    let e = error_text(dataset_files(DatasetFormat::Idx, empty.path()));
    assert!(e.contains("no IDX training files"), "{e}");
}

#[test]
fn idx_malformed_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = small_idx();
    let good_x = write(dir.path(), "good-images", &images);
    let good_y = write(dir.path(), "good-labels", &labels);
    let read = |x: &[u8], y: &[u8]| {
        let xp = write(dir.path(), "bad-images", x);
        let yp = write(dir.path(), "bad-labels", y);
        error_text(read_idx_images(&xp, &yp, 10))
    };
    // Truncated data, in plain and gzipped files.
    let e = read(&images[..images.len() - 1], &labels);
    assert!(
        e.contains("bad-images") && e.contains("truncated data") && e.contains("need 30 bytes"),
        "{e}"
    );
    let e = read(&gzip(&images[..images.len() - 4]), &labels);
    assert!(e.contains("bad-images: truncated data"), "{e}");
    // Truncated headers.
    let e = read(&images[..2], &labels);
    assert!(e.contains("truncated IDX header"), "{e}");
    let e = read(&images[..9], &labels);
    assert!(e.contains("truncated IDX header"), "{e}");
    // Trailing bytes.
    let mut long = images.clone();
    long.push(0);
    let e = read(&long, &labels);
    assert!(e.contains("more data than dimensions [5, 2, 3]"), "{e}");
    // Wrong magic numbers: the files swapped, and a file that is not IDX at all.
    let e = read(&labels, &images);
    assert!(
        e.contains(
            "bad-images: wrong magic number 0x00000801 (a labels file): expected 0x00000803"
        ),
        "{e}"
    );
    let e = read(b"\x89PNG\r\n\x1a\n....", &labels);
    assert!(e.contains("(not an IDX file)"), "{e}");
    // A label out of range, and counts that disagree.
    let e = read(
        &images,
        &idx_bytes(idx::LABELS_MAGIC, &[5], &[0, 1, 2, 10, 0]),
    );
    assert!(
        e.contains(
            "bad-labels: item 3 (0-based) has label 10, out of range: the classes are 0..=9"
        ),
        "{e}"
    );
    let e = read(&images, &idx_bytes(idx::LABELS_MAGIC, &[4], &[0, 1, 2, 1]));
    assert!(
        e.contains("4 labels, but") && e.contains("holds 5 images"),
        "{e}"
    );
    // A header whose sizes multiply past any real file is rejected without allocating.
    let e = read(
        &idx_bytes(
            idx::IMAGES_MAGIC,
            &[u32::MAX, u32::MAX, u32::MAX],
            &[1, 2, 3],
        ),
        &labels,
    );
    assert!(e.contains("bad-images"), "{e}");
    // A missing file names its path.
    let e = error_text(read_idx_images(&dir.path().join("none"), &good_y, 10));
    assert!(e.starts_with("cannot read ") && e.contains("none"), "{e}");
    assert!(read_idx_images(&good_x, &good_y, 10).is_ok());
    // Fewer classes than the labels use.
    let e = error_text(read_idx_images(&good_x, &good_y, 2));
    assert!(
        e.contains("item 2 (0-based) has label 2, out of range: the classes are 0..=1"),
        "{e}"
    );
}

#[test]
fn real_fashion_mnist_has_60000_training_images_6000_per_class() {
    let Some(dir) = fashion_mnist() else {
        return;
    };
    let set = images::load(DatasetFormat::Idx, &dir, 10).unwrap();
    assert_eq!(set.len(), 60_000);
    assert_eq!(set.num_features, 28 * 28);
    assert_eq!(set.class_counts(), [6000; 10]);
    assert!(matches!(&set.pixels, Pixels::Bytes(b) if b.len() == 60_000 * 784));
}

#[test]
fn random_and_mutated_bytes_never_make_the_image_readers_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = small_idx();
    let cifar = [cifar_record(1, 2), cifar_record(3, 4)].concat();
    let valid = [images.clone(), labels.clone(), gzip(&images), cifar];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..600 {
        let source = &valid[i % valid.len()];
        let mut bytes = source[..(next() as usize) % (source.len() + 1)].to_vec();
        for _ in 0..1 + next() % 4 {
            if !bytes.is_empty() {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
        }
        let x = write(dir.path(), "f-images", &bytes);
        let y = write(
            dir.path(),
            "f-labels",
            if i % 2 == 0 { &labels } else { &bytes },
        );
        if let Err(e) = read_idx_images(&x, &y, 10) {
            let e = e.to_string();
            assert!(e.contains("f-images") || e.contains("f-labels"), "{e}");
        }
        if let Err(e) = read_cifar10(&[x], 10) {
            assert!(e.to_string().contains("f-images"), "{e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CIFAR-10

#[test]
fn cifar_batches_are_read_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let one: Vec<u8> = [cifar_record(3, 7), cifar_record(9, 8)].concat();
    let two = cifar_record(0, 255);
    let a = write(dir.path(), "data_batch_1.bin", &one);
    let b = write(dir.path(), "data_batch_2.bin", &gzip(&two));
    let set = read_cifar10(&[a.clone(), b], 10).unwrap();
    assert_eq!(set.len(), 3);
    assert_eq!(set.num_features, 3072);
    assert_eq!(set.labels, [3, 9, 0]);
    assert_eq!(set.row(1), vec![8.0; 3072]);
    assert_eq!(set.row(2)[3071], 255.0);
    // A folder needs all five training batches; a file is one batch.
    let e = error_text(images::load(DatasetFormat::Cifar10, dir.path(), 10));
    assert!(e.contains("data_batch_3.bin"), "{e}");
    assert_eq!(
        images::load(DatasetFormat::Cifar10, &a, 10).unwrap().len(),
        2
    );
}

#[test]
fn cifar_malformed_batches_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let read = |bytes: &[u8]| {
        let path = write(dir.path(), "batch.bin", bytes);
        error_text(read_cifar10(&[path], 10))
    };
    let record = cifar_record(1, 2);
    let e = read(&[record.clone(), record[..100].to_vec()].concat());
    assert!(
        e.contains("batch.bin: 3173 bytes is not a whole number of 3073-byte CIFAR-10 records")
            && e.contains("record 1 is truncated"),
        "{e}"
    );
    let e = read(&[record.clone(), cifar_record(10, 0)].concat());
    assert!(
        e.contains("batch.bin: record 1 (0-based) has label 10, out of range"),
        "{e}"
    );
    let e = read(&[]);
    assert!(e.contains("batch.bin: the file holds no records"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Tables

#[test]
fn tables_give_images_with_class_labels() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "d.csv", b"p0,p1,p2,class\n1,2,3,0\n4,5,6,9\n");
    let set = read_table_images(&csv, 10).unwrap();
    assert_eq!((set.len(), set.num_features), (2, 3));
    assert_eq!(set.labels, [0, 9]);
    assert_eq!(set.row(1), [4.0, 5.0, 6.0]);
    let gz = write(dir.path(), "d.csv.gz", &gzip(b"1,2,3,0\n4,5,6,9\n"));
    assert_eq!(read_table_images(&gz, 10).unwrap(), set);
    // npy: a 2-D table with the class last.
    let mut npy = Vec::new();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[2, 4])
        .writer(&mut npy)
        .begin_nd()
        .unwrap();
    writer
        .extend([1.0f64, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0, 9.0])
        .unwrap();
    writer.finish().unwrap();
    let npy = write(dir.path(), "d.npy", &npy);
    assert_eq!(read_table_images(&npy, 10).unwrap(), set);
    // npz: x and y arrays.
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut npz = npyz::npz::NpzWriter::new(&mut buffer);
        for (name, shape, values) in [
            ("x", &[2u64, 3][..], &[1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0][..]),
            ("y", &[2][..], &[0.0, 9.0][..]),
        ] {
            npz.array(name, Default::default())
                .unwrap()
                .default_dtype()
                .shape(shape)
                .begin_nd()
                .unwrap()
                .extend(values.iter().copied())
                .unwrap();
        }
    }
    let npz = write(dir.path(), "d.npz", &buffer.into_inner());
    assert_eq!(read_table_images(&npz, 10).unwrap(), set);
    // Classes must be integers in range.
    for (text, class) in [("1,2,10\n", "10"), ("1,2,1.5\n", "1.5"), ("1,2,-1\n", "-1")] {
        let path = write(dir.path(), "bad.csv", text.as_bytes());
        let e = error_text(read_table_images(&path, 10));
        assert!(
            e.contains("bad.csv: data row 1 (1-based, after any header) has class ")
                && e.contains(class),
            "{e}"
        );
    }
    // The format must agree with the file name.
    let e = error_text(dataset_files(DatasetFormat::Csv, &npy));
    assert!(e.contains("should end in .csv or .csv.gz"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Projected binary classification

/// A random image set: `per_class` images of each of 10 classes, 20 pixels of 0..=255.
fn random_images(per_class: usize, seed: u64) -> ImageSet {
    let mut rng = Rng::new(seed, 1);
    let n = per_class * 10;
    // Classes interleaved, so that "the first images of a class" is a real choice.
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let pixels = (0..n * 20)
        .map(|k| {
            let class = (k / 20) % 10;
            // Pixels depend on the class, so that the classes are separable.
            let base = (class * 20) as f64 + 40.0 * ((k % 20) as f64 / 20.0);
            (base + 30.0 * rng.normal()).clamp(0.0, 255.0).round() as u8
        })
        .collect();
    ImageSet {
        num_features: 20,
        labels,
        pixels: Pixels::Bytes(pixels),
    }
}

/// Writes an image set as a CSV file (pixels, then the class) and returns its path.
fn write_csv(dir: &Path, set: &ImageSet) -> PathBuf {
    let mut text = String::new();
    for i in 0..set.len() {
        let row: Vec<String> = set.row(i).iter().map(|v| v.to_string()).collect();
        text += &format!("{},{}\n", row.join(","), set.labels[i]);
    }
    write(dir, "images.csv", text.as_bytes())
}

fn projected_spec(path: &Path, num_tasks: usize) -> TaskSpec {
    let mut spec = TaskSpec::generated(
        TaskKind::ProjectedBinaryClassification,
        8,
        60,
        20,
        num_tasks,
    );
    spec.eval_type = EvalType::Accuracy;
    spec.num_test_examples = 20;
    spec.dataset = Some(DatasetSpec {
        format: DatasetFormat::Csv,
        path: path.to_owned(),
        num_classes: 10,
    });
    spec
}

#[test]
fn projected_train_features_are_standardised_and_valid_test_use_train_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let set = random_images(60, 3);
    let path = write_csv(dir.path(), &set);
    let spec = projected_spec(&path, 3);
    let tasks = build_tasks::<8>(std::slice::from_ref(&spec), "search_tasks", dir.path()).unwrap();
    assert_eq!(tasks.len(), 3);
    for task in &tasks {
        assert_eq!(task.train_labels.len(), 60);
        assert_eq!(task.valid_labels.len(), 20);
        assert_eq!(task.test_labels.len(), 20);
        // Stratified: half of each split is positive.
        for labels in [&task.train_labels, &task.valid_labels, &task.test_labels] {
            assert_eq!(
                labels.iter().filter(|&&y| y == 1.0).count() * 2,
                labels.len()
            );
        }
        let (mean, sd) = moments(&task.train_features);
        for k in 0..8 {
            assert!(mean[k].abs() < 1e-9, "mean {mean:?}");
            assert!((sd[k] - 1.0).abs() < 1e-9, "sd {sd:?}");
        }
        // Recompute every split from the raw pixels: the valid and test splits are scaled by
        // the train split's statistics, not their own.
        let splits = split_images(&spec, &set, task.data_seed).unwrap();
        let matrix = projection::<8>(20, task.data_seed);
        let raw = |items: &[(usize, f64)]| -> Vec<[f64; 8]> {
            items
                .iter()
                .map(|&(i, _)| set.project(i, &matrix))
                .collect()
        };
        let (raw_mean, raw_sd) = moments(&raw(&splits[0]));
        for (items, features, labels) in [
            (&splits[0], &task.train_features, &task.train_labels),
            (&splits[1], &task.valid_features, &task.valid_labels),
            (&splits[2], &task.test_features, &task.test_labels),
        ] {
            for ((x, got), &(_, y)) in raw(items).iter().zip(features).zip(items.iter()) {
                for k in 0..8 {
                    let want = (x[k] - raw_mean[k]) / raw_sd[k];
                    assert!((want - got[k]).abs() < 1e-9);
                }
                assert!(labels.contains(&y));
            }
            assert_eq!(labels, &items.iter().map(|&(_, y)| y).collect::<Vec<_>>());
        }
        let (valid_mean, _) = moments(&task.valid_features);
        assert!(valid_mean.iter().any(|m| m.abs() > 1e-6));
        // No image is in two splits, and every image is of the task's two classes.
        let (p, n) = class_pair(&spec, task.data_seed).unwrap();
        let mut all: Vec<usize> = splits.iter().flatten().map(|&(i, _)| i).collect();
        for &(i, y) in splits.iter().flatten() {
            assert_eq!(set.labels[i], if y == 1.0 { p } else { n });
        }
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 100);
    }
}

#[test]
fn the_same_seed_gives_the_same_task_and_other_seeds_differ() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_csv(dir.path(), &random_images(60, 4));
    let mut spec = projected_spec(&path, 2);
    spec.data_seeds = vec![77, 78];
    let build =
        || build_tasks::<8>(std::slice::from_ref(&spec), "search_tasks", dir.path()).unwrap();
    let (a, b) = (build(), build());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.train_features, y.train_features);
        assert_eq!(x.valid_features, y.valid_features);
        assert_eq!(x.test_features, y.test_features);
        assert_eq!(x.train_labels, y.train_labels);
        assert_eq!(x.epochs, y.epochs);
    }
    assert_ne!(a[0].train_features, a[1].train_features);
}

#[test]
fn class_pairs_are_given_or_drawn_from_those_not_held_out() {
    let mut spec = projected_spec(Path::new("x.csv"), 1);
    // The nine pairs the original recommends holding out.
    let held: Vec<[u8; 2]> = vec![
        [4, 6],
        [3, 5],
        [8, 9],
        [3, 8],
        [0, 9],
        [2, 9],
        [1, 8],
        [3, 6],
        [0, 5],
    ];
    spec.held_out_pairs = held.clone();
    let candidates = candidate_pairs(&spec);
    assert_eq!(candidates.len(), 36);
    let mut drawn = std::collections::HashSet::new();
    for seed in 0..2000 {
        let (p, n) = class_pair(&spec, seed).unwrap();
        assert!(p < n && !held.contains(&[p, n]), "{p} {n}");
        drawn.insert((p, n));
    }
    assert_eq!(drawn.len(), 36, "every candidate gets drawn");
    // Held out in the other order is held out too.
    spec.held_out_pairs = vec![[6, 4]];
    assert!(!candidate_pairs(&spec).contains(&[4, 6]));
    // The final tasks of the baseline: only the held-out pairs.
    spec.held_out_pairs.clear();
    spec.pairs = held.clone();
    for seed in 0..200 {
        let (p, n) = class_pair(&spec, seed).unwrap();
        assert!(held.contains(&[p, n]));
    }
    spec.classes = Some([7, 2]);
    assert_eq!(class_pair(&spec, 5).unwrap(), (7, 2));
}

#[test]
fn projected_spec_errors_name_the_key() {
    let base = r#"
kind = "projected_binary_classification"
features_size = 16
num_train_examples = 100
num_valid_examples = 10
eval_type = "accuracy"
dataset = { format = "idx", path = "fashion-mnist" }
"#;
    let check = |extra: &str| -> Result<(), String> {
        let spec: TaskSpec =
            toml::from_str(&format!("{base}{extra}")).map_err(|e| e.to_string())?;
        spec.check("search_tasks[0]")
    };
    assert_eq!(check(""), Ok(()));
    assert_eq!(check("classes = [1, 2]\nheld_out_pairs = [[4, 6]]"), Ok(()));
    for (extra, want) in [
        (
            "classes = [3, 3]",
            "search_tasks[0].classes: [3, 3] names one class twice",
        ),
        (
            "classes = [1, 10]",
            "search_tasks[0].classes: [1, 10] names a class outside 0..=9",
        ),
        (
            "held_out_pairs = [[0, 12]]",
            "search_tasks[0].held_out_pairs[0]",
        ),
        (
            "pairs = [[1, 2]]\nheld_out_pairs = [[2, 1]]",
            "every class pair is held out",
        ),
    ] {
        let e = check(extra).unwrap_err();
        assert!(e.contains(want), "{extra}: {e}");
    }
    let e = check("").and_then(|_| {
        let text = base.replace("\"accuracy\"", "\"rms_error\"");
        let spec: TaskSpec = toml::from_str(&text).unwrap();
        spec.check("final_tasks[1]")
    });
    assert!(e.unwrap_err().contains("final_tasks[1].eval_type"));
    let no_dataset: TaskSpec = toml::from_str(&base.replace(
        "dataset = { format = \"idx\", path = \"fashion-mnist\" }",
        "",
    ))
    .unwrap();
    assert!(no_dataset.check("k").unwrap_err().contains("k.dataset"));
    let e = toml::from_str::<TaskSpec>(&base.replace("\"idx\"", "\"png\"")).unwrap_err();
    assert!(e.to_string().contains("png"), "{e}");
    // The keys belong to projected tasks only.
    let mut linear = TaskSpec::generated(TaskKind::ScalarLinearRegression, 4, 10, 10, 1);
    linear.num_test_examples = 5;
    let e = linear.check("search_tasks[0]").unwrap_err();
    assert!(e.contains("search_tasks[0].num_test_examples"), "{e}");
}

#[test]
fn too_few_images_of_a_class_is_an_error_naming_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_csv(dir.path(), &random_images(10, 5));
    let mut spec = projected_spec(&path, 1);
    spec.classes = Some([1, 2]);
    let e = error_text(build_tasks::<8>(&[spec], "final_tasks", dir.path()));
    assert!(
        e.contains("final_tasks[0]: class 1 has 10 images") && e.contains("need 50 of each class"),
        "{e}"
    );
}

#[test]
fn missing_dataset_paths_list_where_they_were_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut specs = vec![projected_spec(Path::new("nowhere/images.csv"), 1)];
    let e = error_text(images::resolve_dataset_paths(
        &mut specs,
        "search_tasks",
        dir.path(),
        Some(Path::new("/data-dir")),
    ));
    assert!(
        e.contains("search_tasks[0].dataset.path: `nowhere/images.csv` not found")
            && e.contains("/data-dir/nowhere/images.csv")
            && e.contains("--data-dir"),
        "{e}"
    );
    // Found under the data folder: the path becomes absolute.
    let path = write_csv(dir.path(), &random_images(6, 1));
    let mut specs = vec![projected_spec(Path::new("images.csv"), 1)];
    images::resolve_dataset_paths(&mut specs, "search_tasks", Path::new("/"), Some(dir.path()))
        .unwrap();
    let found = &specs[0].dataset.as_ref().unwrap().path;
    assert!(found.is_absolute());
    assert_eq!(found, &path.canonicalize().unwrap());
}

// ---------------------------------------------------------------------------------------------
// The test split

fn linear_program(sizes: &MemorySizes, features: usize) -> Program {
    Program::compile(&builtins::linear(builtins::LEARNING_RATE), sizes, features).unwrap()
}

#[test]
fn test_fitness_is_the_validation_rule_on_the_test_split_of_the_trained_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_csv(dir.path(), &random_images(60, 6));
    let spec = projected_spec(&path, 1);
    let task = build_tasks::<8>(&[spec], "final_tasks", dir.path())
        .unwrap()
        .remove(0);
    let sizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    let program = linear_program(&sizes, 8);
    let mut memory = Memory::new(sizes);
    // The validation fitness and the random stream are those of `execute`.
    let mut rng = MtRng::new(9);
    let outcome = execute_with_test(&program, &task, 60, 100.0, &mut memory, &mut rng);
    let mut plain_rng = MtRng::new(9);
    let plain = execute(
        &program,
        &task,
        60,
        20,
        100.0,
        &mut memory,
        &mut plain_rng,
        None,
    );
    assert_eq!(outcome.fitness, plain.fitness);
    assert_eq!(rng, plain_rng);
    let test = outcome.test_fitness.unwrap();
    assert!(test > 0.7, "a linear model separates these classes: {test}");
    // With the validation split as the test split, the test fitness is the validation fitness.
    let twin = task
        .clone()
        .with_test((task.valid_features.clone(), task.valid_labels.clone()));
    let outcome = execute_with_test(&program, &twin, 60, 100.0, &mut memory, &mut MtRng::new(9));
    assert_eq!(outcome.test_fitness, Some(outcome.fitness));
    // Without a test split there is no test fitness.
    let bare = Task::new(
        0,
        EvalType::Accuracy,
        (task.train_features.clone(), task.train_labels.clone()),
        (task.valid_features.clone(), task.valid_labels.clone()),
        1,
        (1, 1),
    );
    let outcome = execute_with_test(&program, &bare, 60, 100.0, &mut memory, &mut MtRng::new(9));
    assert_eq!(outcome.test_fitness, None);
}

#[test]
fn score_with_test_reports_both_splits_and_combines_tests() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_csv(dir.path(), &random_images(60, 7));
    let spec = projected_spec(&path, 4);
    let sizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };
    let settings = EvalSettings::plain(sizes, 100.0);
    let linear = builtins::linear(builtins::LEARNING_RATE);
    let scores = score_with_test(
        &linear,
        std::slice::from_ref(&spec),
        "final_tasks",
        &settings,
        dir.path(),
        3,
    )
    .unwrap();
    let (fitness, per_task) = automl_zero_engine::experiment::score(
        &linear,
        &[spec],
        "final_tasks",
        &settings,
        dir.path(),
        3,
    )
    .unwrap();
    assert_eq!((scores.fitness, &scores.per_task), (fitness, &per_task));
    let tests: Vec<f64> = scores.per_task_test.iter().map(|t| t.unwrap()).collect();
    assert_eq!(tests.len(), 4);
    let mean = tests.iter().sum::<f64>() / 4.0;
    assert!((scores.test_fitness.unwrap() - mean).abs() < 1e-12);
    let (m, sd) = scores.test_mean_sd().unwrap();
    assert!((m - mean).abs() < 1e-12 && sd >= 0.0);
}

// ---------------------------------------------------------------------------------------------
// Shipped configs

#[test]
fn the_shipped_real_data_configs_parse_and_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for name in [
        "digits.toml",
        "fashion_mnist_baseline.toml",
        "fashion_mnist_search.toml",
    ] {
        let (config, _) = Config::load(&root.join("configs").join(name), &[]).unwrap();
        for list in [
            &config.search_tasks,
            &config.select_tasks,
            &config.final_tasks,
        ] {
            assert!(
                list.iter()
                    .all(|s| s.kind == TaskKind::ProjectedBinaryClassification)
            );
        }
        // The final tasks draw only the nine held-out pairs, which the search never sees.
        let search = candidate_pairs(&config.search_tasks[0]);
        let last = candidate_pairs(&config.final_tasks[0]);
        assert_eq!((search.len(), last.len()), (36, 9), "{name}");
        assert!(last.iter().all(|p| !search.contains(p)));
    }
}

/// The committed Fashion-MNIST results: each config keeps the held-out pairs out of its search
/// and select tasks, and its best program reads back and compiles on the config's memory.
#[test]
fn the_committed_image_results_hold_out_their_final_pairs_and_compile() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    for run in ["fashion_mnist", "fashion_mnist_from_scratch"] {
        let dir = root.join(run);
        let (config, _) = Config::load(&dir.join("config.toml"), &[]).unwrap();
        let last = candidate_pairs(&config.final_tasks[0]);
        assert_eq!(last.len(), 9, "{run}");
        for list in [&config.search_tasks, &config.select_tasks] {
            let seen = candidate_pairs(&list[0]);
            assert!(last.iter().all(|p| !seen.contains(p)), "{run}");
        }
        let program =
            automl_zero_engine::program::parse_file(&dir.join("best.txt"), &config.memory).unwrap();
        Program::compile(&program, &config.memory, 16).unwrap();
    }
}

#[test]
fn digits_tasks_build_from_the_shipped_copy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (config, base) = Config::load(&root.join("configs/digits.toml"), &[]).unwrap();
    let tasks = build_tasks::<16>(&config.final_tasks, "final_tasks", &base).unwrap();
    assert_eq!(tasks.len(), config.final_tasks[0].num_tasks);
    let set = images::load(DatasetFormat::Csv, &root.join("data/digits.csv.gz"), 10).unwrap();
    assert_eq!(set.len(), 1797);
    assert_eq!(set.num_features, 64);
}

// Keys and values of generated task kinds

/// A `[[search_tasks]]` entry of `kind` with `extra` lines, parsed and checked.
fn check_spec(kind: &str, extra: &str) -> Result<TaskSpec, String> {
    let text = format!(
        "kind = \"{kind}\"\nfeatures_size = 4\nnum_train_examples = 10\nnum_valid_examples = 5\n\
         eval_type = \"rms_error\"\n{extra}"
    );
    let spec: TaskSpec = toml::from_str(&text).map_err(|e| e.to_string())?;
    spec.check("search_tasks[0]")?;
    Ok(spec)
}

#[test]
fn file_keys_on_generated_kinds_are_errors_naming_the_key_and_kind() {
    let fixed = "fixed = { train_features = [[1.0, 2.0, 3.0, 4.0]], train_labels = [1.0], \
                 valid_features = [[1.0, 2.0, 3.0, 4.0]], valid_labels = [1.0] }";
    for (kind, extra, field, owner) in [
        (
            "scalar_linear_regression",
            "train_file = \"data/good.csv\"",
            "train_file",
            "files",
        ),
        (
            "scalar_linear_regression",
            "valid_file = \"data/valid.csv\"",
            "valid_file",
            "files",
        ),
        (
            "unit_test_ones",
            "valid_fraction = 0.2",
            "valid_fraction",
            "files",
        ),
        (
            "scalar_linear_regression",
            fixed,
            "fixed",
            "unit_test_fixed",
        ),
        (
            "unit_test_zeros",
            "increment = 2.0",
            "increment",
            "unit_test_increment",
        ),
        (
            "unit_test_ones",
            "classes = [1, 2]",
            "classes",
            "projected_binary_classification",
        ),
    ] {
        let e = check_spec(kind, extra).unwrap_err();
        assert_eq!(
            e,
            format!("search_tasks[0].{field}: only {owner} tasks take this key, not {kind}"),
            "{extra}"
        );
    }
    // `fixed` on a files task, and file keys on a unit_test_fixed task.
    let e = check_spec(
        "files",
        &format!("train_file = \"a.csv\"\nvalid_fraction = 0.2\n{fixed}"),
    )
    .unwrap_err();
    assert!(
        e.starts_with("search_tasks[0].fixed: only unit_test_fixed"),
        "{e}"
    );
    let e = check_spec(
        "unit_test_fixed",
        &format!("{fixed}\ntrain_file = \"a.csv\""),
    )
    .unwrap_err();
    assert!(
        e.ends_with("train_file: only files tasks take this key, not unit_test_fixed"),
        "{e}"
    );
    // Each kind still takes its own keys.
    check_spec("files", "train_file = \"a.csv\"\nvalid_file = \"b.csv\"").unwrap();
    check_spec("unit_test_fixed", fixed).unwrap();
    check_spec("unit_test_increment", "increment = 0.5").unwrap();
}

#[test]
fn non_finite_values_of_generated_tasks_are_errors_naming_the_field() {
    for (value, shown) in [("nan", "NaN"), ("inf", "inf"), ("-inf", "-inf")] {
        let e = check_spec("unit_test_increment", &format!("increment = {value}")).unwrap_err();
        assert_eq!(
            e,
            format!("search_tasks[0].increment: must be a finite number, not {shown}")
        );
    }
    let fixed = |train: &str, label: &str| {
        format!(
            "fixed = {{ train_features = [[1.0, 2.0, 3.0, {train}]], train_labels = [1.0], \
             valid_features = [[1.0, 2.0, 3.0, 4.0]], valid_labels = [{label}] }}"
        )
    };
    let e = check_spec("unit_test_fixed", &fixed("nan", "inf")).unwrap_err();
    assert_eq!(
        e,
        "search_tasks[0].fixed.train_features[0][3]: must be a finite number, not NaN"
    );
    let e = check_spec("unit_test_fixed", &fixed("4.0", "-inf")).unwrap_err();
    assert_eq!(
        e,
        "search_tasks[0].fixed.valid_labels[0]: must be a finite number, not -inf"
    );
    check_spec("unit_test_fixed", &fixed("4.0", "1.0")).unwrap();
}

#[test]
fn accuracy_labels_must_be_0_or_1_naming_the_file_line_or_field() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "train.csv",
        b"a,b,c,d,label\n1,2,3,4,0\n2,3,4,5,1\n# note\n3,4,5,6,1.5\n4,5,6,7,1\n",
    );
    write(dir.path(), "valid.csv", b"1,2,3,4,0\n2,3,4,5,2\n");
    write(
        dir.path(),
        "binary.csv",
        b"1,2,3,4,0\n2,3,4,5,1\n3,4,5,6,1\n",
    );
    let files = |train: &str, valid: &str| {
        let mut spec = TaskSpec::generated(TaskKind::Files, 4, 0, 0, 1);
        spec.eval_type = EvalType::Accuracy;
        spec.train_file = Some(train.into());
        spec.valid_file = Some(valid.into());
        build_tasks::<4>(&[spec], "search_tasks", dir.path()).map(|_| ())
    };
    let e = error_text(files("train.csv", "binary.csv"));
    assert!(
        e.ends_with(
            "train.csv: line 5, column 5: the label is 1.5, but labels of accuracy tasks must be 0 or 1"
        ),
        "{e}"
    );
    let e = error_text(files("binary.csv", "valid.csv"));
    assert!(e.ends_with("valid.csv: line 2, column 5: the label is 2, but labels of accuracy tasks must be 0 or 1"), "{e}");
    files("binary.csv", "binary.csv").unwrap();
    // The same files are fine for regression.
    let mut spec = TaskSpec::generated(TaskKind::Files, 4, 0, 0, 1);
    spec.train_file = Some("train.csv".into());
    spec.valid_file = Some("valid.csv".into());
    build_tasks::<4>(&[spec], "search_tasks", dir.path()).unwrap();
    // unit_test_fixed names the field.
    let fixed = "fixed = { train_features = [[1.0, 2.0, 3.0, 4.0]], train_labels = [1.0], \
                 valid_features = [[1.0, 2.0, 3.0, 4.0]], valid_labels = [0.7] }";
    let mut spec: TaskSpec = toml::from_str(&format!(
        "kind = \"unit_test_fixed\"\nfeatures_size = 4\neval_type = \"accuracy\"\n{fixed}"
    ))
    .unwrap();
    assert_eq!(
        spec.check("final_tasks[2]").unwrap_err(),
        "final_tasks[2].fixed.valid_labels[0]: labels of accuracy tasks must be 0 or 1, not 0.7"
    );
    spec.eval_type = EvalType::RmsError;
    spec.check("final_tasks[2]").unwrap();
}
