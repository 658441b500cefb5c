//! Linear baselines fitted directly, not evolved: least squares for regression, logistic
//! regression (Newton's method) for classification. What a linear model reaches on a task gives
//! a stop fitness the data can reach, and a yardstick for what a search finds.

use super::executor::validation_fitness;
use super::executor::{validation_error, validation_loss};
use crate::memory::Vector;
use crate::tasks::{EvalType, Task};

/// The validation fitness (as the executor scores it) of the linear baseline fitted on the
/// task's training rows: least squares for `rms_error` tasks, logistic regression for
/// `accuracy` tasks.
pub fn baseline_fitness<const F: usize>(task: &Task<F>) -> f64 {
    let w = fit(task);
    let loss: f64 = task
        .valid_features
        .iter()
        .zip(&task.valid_labels)
        .map(|(x, &y)| {
            validation_loss(
                task.eval_type,
                validation_error(task.eval_type, y, predict(&w, x)),
            )
        })
        .sum();
    validation_fitness(task.eval_type, loss, task.valid_labels.len())
}

/// The baseline's weights (one per feature, then the intercept), fitted on the training rows.
pub fn fit<const F: usize>(task: &Task<F>) -> Vec<f64> {
    match task.eval_type {
        EvalType::RmsError => least_squares(&task.train_features, &task.train_labels),
        EvalType::Accuracy => logistic_regression(&task.train_features, &task.train_labels),
    }
}

/// The baseline's prediction: a value, or a logit.
pub fn predict<const F: usize>(w: &[f64], x: &Vector<F>) -> f64 {
    x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + w[F]
}

/// A row with the intercept's constant 1 appended.
fn augmented<const F: usize>(x: &Vector<F>) -> impl Iterator<Item = f64> + '_ {
    x.iter().copied().chain(std::iter::once(1.0))
}

/// Ordinary least squares with an intercept (a tiny ridge keeps constant or zero columns from
/// making the system singular).
pub fn least_squares<const F: usize>(x: &[Vector<F>], y: &[f64]) -> Vec<f64> {
    let (mut a, mut b) = (vec![vec![0.0; F + 1]; F + 1], vec![0.0; F + 1]);
    for (row, &label) in x.iter().zip(y) {
        let r: Vec<f64> = augmented(row).collect();
        for i in 0..=F {
            b[i] += r[i] * label;
            for j in 0..=F {
                a[i][j] += r[i] * r[j];
            }
        }
    }
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += 1e-9 * (x.len() as f64).max(1.0);
    }
    solve(a, b)
}

/// Logistic regression with an intercept and a small ridge, by Newton's method.
pub fn logistic_regression<const F: usize>(x: &[Vector<F>], y: &[f64]) -> Vec<f64> {
    let mut w = vec![0.0; F + 1];
    let ridge = 1e-4 * (x.len() as f64).max(1.0);
    for _ in 0..30 {
        let (mut hessian, mut gradient) = (vec![vec![0.0; F + 1]; F + 1], vec![0.0; F + 1]);
        for (row, &label) in x.iter().zip(y) {
            let r: Vec<f64> = augmented(row).collect();
            let p = crate::interpreter::sigmoid(predict(&w, row));
            let weight = (p * (1.0 - p)).max(1e-12);
            for i in 0..=F {
                gradient[i] += r[i] * (label - p);
                for j in 0..=F {
                    hessian[i][j] += weight * r[i] * r[j];
                }
            }
        }
        for i in 0..=F {
            hessian[i][i] += ridge;
            gradient[i] -= ridge * w[i];
        }
        let step = solve(hessian, gradient);
        let size: f64 = step.iter().map(|s| s.abs()).sum();
        for (wi, si) in w.iter_mut().zip(&step) {
            *wi += si;
        }
        if size < 1e-10 {
            break;
        }
    }
    w
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting (a zero pivot gives 0).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        if a[col][col] == 0.0 {
            continue;
        }
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in below.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= factor * p;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = if a[row][row] == 0.0 {
            0.0
        } else {
            (b[row] - rest) / a[row][row]
        };
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_squares_recovers_an_exact_line() {
        let x: Vec<Vector<2>> = (0..10).map(|i| [i as f64, (i * i) as f64]).collect();
        let y: Vec<f64> = x.iter().map(|r| 3.0 * r[0] - 0.5 * r[1] + 7.0).collect();
        let w = least_squares(&x, &y);
        for (a, e) in w.iter().zip([3.0, -0.5, 7.0]) {
            assert!((a - e).abs() < 1e-6, "{w:?}");
        }
    }

    #[test]
    fn logistic_regression_separates_two_clouds() {
        let x: Vec<Vector<2>> = (0..40)
            .map(|i| {
                [
                    (i % 20) as f64 / 10.0 + if i < 20 { -2.0 } else { 1.0 },
                    0.3,
                ]
            })
            .collect();
        let y: Vec<f64> = (0..40).map(|i| (i >= 20) as u8 as f64).collect();
        let w = logistic_regression(&x, &y);
        let right = x
            .iter()
            .zip(&y)
            .filter(|(r, y)| (predict(&w, r) > 0.0) == (**y > 0.5))
            .count();
        assert_eq!(right, 40);
    }
}
