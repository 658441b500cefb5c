//! The paper's projected binary classification tasks (SPEC 6.3, 6.4), built in memory.
//!
//! For a pair of classes, the first images of each class (half of train + valid + test each)
//! are split, stratified, into train, valid and test by the data seed; the flattened raw pixels
//! are multiplied by an F-column standard Gaussian matrix drawn from the data seed, and the
//! result is standardised with the mean and population standard deviation of the train split.
//! The positive class is labelled 1, the negative 0. With no class pair given, the data seed
//! draws one from the candidate pairs that are not held out.

use super::generated::Split;
use super::images::ImageSet;
use super::{TaskError, TaskSpec};
use crate::memory::Vector;
use crate::rng::{Rng, salt};

/// Salt of the stream that draws a task's class pair.
const PAIR_SALT: u64 = salt::DATASET;
/// Salt of the stream that splits a task's images into train, valid and test.
const SPLIT_SALT: u64 = salt::DATASET ^ 0x5B11_7000;
/// Salt of the stream that draws a task's projection matrix.
const PROJECTION_SALT: u64 = salt::DATASET ^ 0x960_1EC7;

/// The number of classes a spec's dataset declares (10 when it names none).
fn num_classes(spec: &TaskSpec) -> usize {
    spec.dataset.as_ref().map_or(10, |d| d.num_classes)
}

/// A pair with the smaller class first, to compare pairs regardless of order.
fn unordered([a, b]: [u8; 2]) -> [u8; 2] {
    [a.min(b), a.max(b)]
}

/// The pairs a task without `classes` draws from: `pairs` (default: every (i, j) with
/// i < j among the dataset's classes, in lexicographic order) minus `held_out_pairs`.
pub fn candidate_pairs(spec: &TaskSpec) -> Vec<[u8; 2]> {
    let all: Vec<[u8; 2]> = if spec.pairs.is_empty() {
        let n = num_classes(spec).min(256) as u16;
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| [i as u8, j as u8]))
            .collect()
    } else {
        spec.pairs.clone()
    };
    let held: Vec<[u8; 2]> = spec.held_out_pairs.iter().map(|&p| unordered(p)).collect();
    all.into_iter()
        .filter(|&p| !held.contains(&unordered(p)))
        .collect()
}

/// The (positive, negative) classes of the task with this data seed: `classes` if given,
/// else a candidate pair drawn by the seed.
pub fn class_pair(spec: &TaskSpec, data_seed: u32) -> Result<(u8, u8), String> {
    if let Some([positive, negative]) = spec.classes {
        return Ok((positive, negative));
    }
    let candidates = candidate_pairs(spec);
    if candidates.is_empty() {
        return Err("every class pair is held out: no pair is left to draw from".into());
    }
    let mut rng = Rng::new(data_seed as u64, PAIR_SALT);
    let [positive, negative] = candidates[rng.below(candidates.len())];
    Ok((positive, negative))
}

/// How many positives each split (train, valid, test) gets: the test split first, then the
/// valid split, each in proportion to the classes (rounded), the rest to train.
fn stratify(sizes: [usize; 3], positives: usize) -> [usize; 3] {
    let total: usize = sizes.iter().sum();
    let negatives = total - positives;
    let (mut pos_left, mut neg_left) = (positives, negatives);
    let mut out = [0; 3];
    for split in [2, 1] {
        let size = sizes[split];
        let share = (size as u128 * positives as u128 + total as u128 / 2) / total.max(1) as u128;
        let pos = (share as usize)
            .min(size)
            .min(pos_left)
            .max(size.saturating_sub(neg_left));
        out[split] = pos;
        pos_left -= pos;
        neg_left -= size - pos;
    }
    out[0] = pos_left;
    out
}

/// The images of each split (train, valid, test) of the task with this data seed, each with
/// its label (1 for the positive class, 0 for the negative), in the order the task holds them.
pub fn split_images(
    spec: &TaskSpec,
    images: &ImageSet,
    data_seed: u32,
) -> Result<[Vec<(usize, f64)>; 3], String> {
    let (positive, negative) = class_pair(spec, data_seed)?;
    let sizes = [
        spec.num_train_examples,
        spec.num_valid_examples,
        spec.num_test_examples,
    ];
    let total: usize = sizes.iter().sum();
    let counts = [total - total / 2, total / 2];
    // The first images of each class in dataset order: the same subset for every seed.
    let mut members: [Vec<usize>; 2] = Default::default();
    for ((class, want), list) in [positive, negative]
        .into_iter()
        .zip(counts)
        .zip(&mut members)
    {
        list.extend(
            (0..images.len())
                .filter(|&i| images.labels[i] == class)
                .take(want),
        );
        if list.len() < want {
            let path = spec
                .dataset
                .as_ref()
                .map(|d| d.path.display().to_string())
                .unwrap_or_default();
            return Err(format!(
                "class {class} has {} images in {path}, but {total} examples (num_train_examples + num_valid_examples + num_test_examples) need {want} of each class",
                list.len()
            ));
        }
    }
    let mut rng = Rng::new(data_seed as u64, SPLIT_SALT);
    for list in &mut members {
        rng.shuffle(list);
    }
    let positives = stratify(sizes, counts[0]);
    let (mut pos, mut neg) = (members[0].as_slice(), members[1].as_slice());
    let mut splits: [Vec<(usize, f64)>; 3] = Default::default();
    // The test split is cut first, then valid, as scikit-learn's two train_test_split calls do.
    for split in [2, 1, 0] {
        let (p, rest_pos) = pos.split_at(positives[split]);
        let (n, rest_neg) = neg.split_at(sizes[split] - positives[split]);
        (pos, neg) = (rest_pos, rest_neg);
        let items = &mut splits[split];
        items.extend(p.iter().map(|&i| (i, 1.0)));
        items.extend(n.iter().map(|&i| (i, 0.0)));
        rng.shuffle(items);
    }
    Ok(splits)
}

/// The train, valid and test examples of the projected task with this data seed.
pub(super) fn examples<const F: usize>(
    spec: &TaskSpec,
    key: &str,
    images: &ImageSet,
    data_seed: u32,
) -> Result<(Split<F>, Split<F>, Split<F>), TaskError> {
    let splits = split_images(spec, images, data_seed)
        .map_err(|e| TaskError::Spec(format!("{key}: {e}")))?;
    let matrix = projection::<F>(images.num_features, data_seed);
    let project = |items: &[(usize, f64)]| -> Split<F> {
        let features = items
            .iter()
            .map(|&(i, _)| images.project(i, &matrix))
            .collect();
        (features, items.iter().map(|&(_, y)| y).collect())
    };
    let [mut train, mut valid, mut test] = splits.map(|items| project(&items));
    let (mean, sd) = moments(&train.0);
    for split in [&mut train, &mut valid, &mut test] {
        standardise(&mut split.0, &mean, &sd);
    }
    Ok((train, valid, test))
}

/// The random projection of a task: `rows` rows of F standard normal values, from the seed.
pub fn projection<const F: usize>(rows: usize, data_seed: u32) -> Vec<Vector<F>> {
    let mut rng = Rng::new(data_seed as u64, PROJECTION_SALT);
    (0..rows)
        .map(|_| std::array::from_fn(|_| rng.normal()))
        .collect()
}

/// Per-dimension mean and population standard deviation; a constant dimension gets sd 1 (so it
/// is only centred, as scikit-learn's StandardScaler does).
pub fn moments<const F: usize>(features: &[Vector<F>]) -> (Vector<F>, Vector<F>) {
    let n = features.len().max(1) as f64;
    let mut mean = [0.0; F];
    for x in features {
        for (m, v) in mean.iter_mut().zip(x) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut sd = [0.0; F];
    for x in features {
        for ((s, v), m) in sd.iter_mut().zip(x).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    for s in &mut sd {
        *s = (*s / n).sqrt();
        if *s == 0.0 || !s.is_finite() {
            *s = 1.0;
        }
    }
    (mean, sd)
}

/// Maps every vector x to (x - mean) / sd, elementwise.
fn standardise<const F: usize>(features: &mut [Vector<F>], mean: &Vector<F>, sd: &Vector<F>) {
    for x in features {
        for ((v, m), s) in x.iter_mut().zip(mean).zip(sd) {
            *v = (*v - m) / s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratify_keeps_class_shares_and_sizes() {
        assert_eq!(stratify([8000, 1000, 1000], 5000), [4000, 500, 500]);
        assert_eq!(stratify([240, 50, 50], 170), [120, 25, 25]);
        // Odd totals and tiny splits still add up.
        for (sizes, positives) in [
            ([1, 1, 1], 2),
            ([3, 0, 1], 2),
            ([7, 3, 2], 6),
            ([1, 0, 0], 1),
        ] {
            let total: usize = sizes.iter().sum();
            let out = stratify(sizes, positives);
            assert_eq!(out.iter().sum::<usize>(), positives, "{sizes:?}");
            for k in 0..3 {
                assert!(out[k] <= sizes[k], "{sizes:?} {out:?}");
            }
            assert!(total - positives >= sizes.iter().zip(out).map(|(s, p)| s - p).sum());
        }
    }
}
