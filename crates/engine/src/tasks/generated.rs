//! Examples of generated tasks (from seeds).
//!
//! Generated tasks are the original's, number for number: the same mt19937 streams and draws
//! (features of all training examples, then validation, then the teacher's weights), and labels
//! summed as the interpreter's ops sum them (reference/original/README.md).

use super::{TaskError, TaskKind, TaskSpec};
use crate::interpreter::{inner_product, matrix_times_vector, max_of};
use crate::memory::{Matrix, Vector};
use crate::rng::{MtRng, offset};

/// Features and labels of one split.
pub(super) type Split<const F: usize> = (Vec<Vector<F>>, Vec<f64>);

/// Feature vectors of `n` examples, each element one Gaussian draw, in order.
fn gaussian_features<const F: usize>(rng: &mut MtRng, n: usize) -> Vec<Vector<F>> {
    (0..n)
        .map(|_| std::array::from_fn(|_| rng.gaussian(0.0, 1.0)))
        .collect()
}

/// The hidden weights `w` of the linear regression task of `param_seed`: `y = dot(w, x)`.
pub fn linear_weights<const F: usize>(param_seed: u32) -> Vector<F> {
    let mut params = MtRng::new(param_seed.wrapping_add(offset::LINEAR_PARAMS));
    std::array::from_fn(|_| params.gaussian(0.0, 1.0))
}

/// The hidden weights `(W, u)` of the 2-layer teacher task of `param_seed`:
/// `y = dot(relu(W x), u)`, with rows 0 and 2 of `W` and elements 0 and 2 of `u` zero (SPEC 6.3;
/// F must be at least 3).
pub fn teacher_weights<const F: usize>(param_seed: u32) -> (Matrix<F>, Vector<F>) {
    let mut params = MtRng::new(param_seed.wrapping_add(offset::TEACHER_PARAMS));
    let mut w: Matrix<F> =
        std::array::from_fn(|_| std::array::from_fn(|_| params.gaussian(0.0, 1.0)));
    w[0] = [0.0; F];
    w[2] = [0.0; F];
    let mut u: Vector<F> = std::array::from_fn(|_| params.gaussian(0.0, 1.0));
    u[0] = 0.0;
    u[2] = 0.0;
    (w, u)
}

/// The train and valid examples of a generated task.
pub(super) fn examples<const F: usize>(
    spec: &TaskSpec,
    key: &str,
    data_seed: u32,
    param_seed: u32,
) -> Result<(Split<F>, Split<F>), TaskError> {
    let (n_train, n_valid) = (spec.num_train_examples, spec.num_valid_examples);
    let labelled = |features: Vec<Vector<F>>, label: &dyn Fn(&Vector<F>) -> f64| {
        let labels = features.iter().map(label).collect();
        (features, labels)
    };
    Ok(match spec.kind {
        TaskKind::ScalarLinearRegression => {
            let mut data = MtRng::new(data_seed.wrapping_add(offset::LINEAR_DATA));
            let train = gaussian_features::<F>(&mut data, n_train);
            let valid = gaussian_features::<F>(&mut data, n_valid);
            let w = linear_weights::<F>(param_seed);
            let label = |x: &Vector<F>| inner_product(&w, x);
            (labelled(train, &label), labelled(valid, &label))
        }
        TaskKind::Scalar2layerNnRegression => {
            let mut data = MtRng::new(data_seed.wrapping_add(offset::TEACHER_DATA));
            let train = gaussian_features::<F>(&mut data, n_train);
            let valid = gaussian_features::<F>(&mut data, n_valid);
            let (w, u) = teacher_weights::<F>(param_seed);
            let label = |x: &Vector<F>| {
                let hidden = matrix_times_vector(&w, x).map(|h| max_of(h, 0.0));
                inner_product(&hidden, &u)
            };
            (labelled(train, &label), labelled(valid, &label))
        }
        TaskKind::UnitTestZeros => (
            (vec![[0.0; F]; n_train], vec![0.0; n_train]),
            (vec![[0.0; F]; n_valid], vec![0.0; n_valid]),
        ),
        TaskKind::UnitTestOnes => (
            (vec![[1.0; F]; n_train], vec![1.0; n_train]),
            (vec![[1.0; F]; n_valid], vec![1.0; n_valid]),
        ),
        TaskKind::UnitTestIncrement => {
            let inc = spec.increment.unwrap_or(1.0);
            let ramp = |n: usize| -> Split<F> {
                let labels: Vec<f64> = (0..n).map(|k| k as f64 * inc).collect();
                (labels.iter().map(|&y| [y; F]).collect(), labels)
            };
            (ramp(n_train), ramp(n_valid))
        }
        TaskKind::UnitTestFixed => {
            let fixed = spec.fixed.as_ref().expect("checked by TaskSpec::check");
            let split = |features: &[Vec<f64>],
                         labels: &[f64],
                         name: &str|
             -> Result<Split<F>, TaskError> {
                if features.len() != labels.len() {
                    return Err(TaskError::Spec(format!(
                        "{key}.fixed: {} {name} feature vectors but {} labels",
                        features.len(),
                        labels.len()
                    )));
                }
                let rows = features
                    .iter()
                    .enumerate()
                    .map(|(i, row)| {
                        <Vector<F>>::try_from(row.as_slice()).map_err(|_| {
                            TaskError::Spec(format!(
                                "{key}.fixed.{name}_features[{i}]: has {} values, features_size is {F}",
                                row.len()
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Ok((rows, labels.to_vec()))
            };
            (
                split(&fixed.train_features, &fixed.train_labels, "train")?,
                split(&fixed.valid_features, &fixed.valid_labels, "valid")?,
            )
        }
        TaskKind::Files => unreachable!("file tasks are made by file_tasks::examples"),
        TaskKind::ProjectedBinaryClassification => {
            unreachable!("projected tasks are built by projected::examples")
        }
    })
}
