//! Metrics a user reads, in the data's units: RMSE, MAE and R² for regression; accuracy,
//! log-loss and ROC AUC for classification.
//!
//! They describe the model a program has become after all its training steps (see
//! [`super::executor::train_then_predict`]), predicting rows it never trained on. A value that
//! cannot be computed (a diverged model, R² of constant labels, AUC of one class) is `None`.

use crate::interpreter::sigmoid;
use crate::tasks::{EvalType, LabelScale};
use serde::{Deserialize, Serialize};

/// The metrics of one set of predictions, or their means over several tasks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metrics {
    /// Regression, in the labels' units.
    Regression {
        /// Root mean squared error.
        rmse: Option<f64>,
        /// Mean absolute error.
        mae: Option<f64>,
        /// Coefficient of determination: 1 - residual / total sum of squares.
        r2: Option<f64>,
    },
    /// Binary classification; the probability of class 1 is the sigmoid of the prediction.
    Classification {
        /// Share of rows whose class (probability above 0.5) is the label.
        accuracy: Option<f64>,
        /// Mean negative log-likelihood of the labels (probabilities clipped to 1e-15).
        log_loss: Option<f64>,
        /// Area under the ROC curve (ties count half).
        roc_auc: Option<f64>,
    },
}

/// A number, or `None` when it is not finite.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Metrics {
    /// The metrics of `predictions` (s1, scaled) of rows whose scaled labels are `labels`;
    /// `predictions` is `None` for a model whose training diverged.
    pub fn of(
        eval_type: EvalType,
        predictions: Option<&[f64]>,
        labels: &[f64],
        scale: LabelScale,
    ) -> Metrics {
        match eval_type {
            EvalType::RmsError => regression(predictions, labels, scale),
            EvalType::Accuracy => classification(predictions, labels),
        }
    }

    /// The mean of each metric over `all` (of one kind), skipping the tasks that lack it.
    pub fn mean(all: &[Metrics]) -> Option<Metrics> {
        let avg = |name: &str| {
            let known: Vec<f64> = all.iter().filter_map(|m| m.get(name)).collect();
            (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
        };
        Some(match all.first()? {
            Metrics::Regression { .. } => Metrics::Regression {
                rmse: avg("rmse"),
                mae: avg("mae"),
                r2: avg("r2"),
            },
            Metrics::Classification { .. } => Metrics::Classification {
                accuracy: avg("accuracy"),
                log_loss: avg("log_loss"),
                roc_auc: avg("roc_auc"),
            },
        })
    }

    /// One metric by its JSON name.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.named().into_iter().find(|(n, _)| *n == name)?.1
    }

    /// Every metric with its JSON name, in order.
    pub fn named(&self) -> [(&'static str, Option<f64>); 3] {
        match *self {
            Metrics::Regression { rmse, mae, r2 } => [("rmse", rmse), ("mae", mae), ("r2", r2)],
            Metrics::Classification {
                accuracy,
                log_loss,
                roc_auc,
            } => [
                ("accuracy", accuracy),
                ("log_loss", log_loss),
                ("roc_auc", roc_auc),
            ],
        }
    }
}

impl std::fmt::Display for Metrics {
    /// `RMSE 1.23, MAE 0.98, R² 0.871` (or the classification metrics); `-` for a missing one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.6}"));
        let label = |name: &str| match name {
            "rmse" => "RMSE",
            "mae" => "MAE",
            "r2" => "R²",
            "accuracy" => "accuracy",
            "log_loss" => "log-loss",
            _ => "ROC AUC",
        };
        let parts: Vec<String> = self
            .named()
            .iter()
            .map(|(n, v)| format!("{} {}", label(n), show(*v)))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

fn regression(predictions: Option<&[f64]>, labels: &[f64], scale: LabelScale) -> Metrics {
    let none = Metrics::Regression {
        rmse: None,
        mae: None,
        r2: None,
    };
    let Some(predictions) = predictions.filter(|_| !labels.is_empty()) else {
        return none;
    };
    let n = labels.len() as f64;
    let y: Vec<f64> = labels.iter().map(|&y| scale.unscale(y)).collect();
    let errors: Vec<f64> = predictions
        .iter()
        .zip(&y)
        .map(|(&p, &y)| y - scale.unscale(p))
        .collect();
    let squares: f64 = errors.iter().map(|e| e * e).sum();
    let mean = y.iter().sum::<f64>() / n;
    let total: f64 = y.iter().map(|y| (y - mean) * (y - mean)).sum();
    Metrics::Regression {
        rmse: finite((squares / n).sqrt()),
        mae: finite(errors.iter().map(|e| e.abs()).sum::<f64>() / n),
        r2: if total > 0.0 {
            finite(1.0 - squares / total)
        } else {
            None
        },
    }
}

fn classification(predictions: Option<&[f64]>, labels: &[f64]) -> Metrics {
    let Some(predictions) = predictions.filter(|_| !labels.is_empty()) else {
        return Metrics::Classification {
            accuracy: None,
            log_loss: None,
            roc_auc: None,
        };
    };
    let n = labels.len() as f64;
    let p: Vec<f64> = predictions.iter().map(|&s| sigmoid(s)).collect();
    let positive = |y: f64| y > 0.5;
    // A NaN probability counts as class 0, as in validation (SPEC 4.5).
    let right = p
        .iter()
        .zip(labels)
        .filter(|(p, y)| (**p > 0.5) == positive(**y))
        .count();
    let log_loss = p
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let q = p.clamp(1e-15, 1.0 - 1e-15);
            if positive(y) {
                -q.ln()
            } else {
                -(1.0 - q).ln()
            }
        })
        .sum::<f64>()
        / n;
    Metrics::Classification {
        accuracy: Some(right as f64 / n),
        log_loss: finite(log_loss),
        roc_auc: roc_auc(predictions, labels),
    }
}

/// The probability that a random positive row scores above a random negative one (ties count
/// half), from the ranks of the scores; `None` with one class only or a NaN score.
fn roc_auc(scores: &[f64], labels: &[f64]) -> Option<f64> {
    if scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average 1-based ranks over ties.
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    let positives = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    let negatives = labels.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return None;
    }
    let positive_ranks: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, y)| **y > 0.5)
        .map(|(r, _)| r)
        .sum();
    Some((positive_ranks - positives * (positives + 1.0) / 2.0) / (positives * negatives))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("a value");
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn regression_metrics_by_hand_in_label_units() {
        // Scaled labels 1, -1, 0, 3 are 12, 8, 10, 16 with mean 10 and sd 2; predictions
        // 0.5, -1, 0.5, 2 are 11, 8, 11, 14: errors 1, 0, -1, 2.
        let scale = LabelScale {
            mean: 10.0,
            sd: 2.0,
        };
        let m = Metrics::of(
            EvalType::RmsError,
            Some(&[0.5, -1.0, 0.5, 2.0]),
            &[1.0, -1.0, 0.0, 3.0],
            scale,
        );
        close(m.get("rmse"), (6.0f64 / 4.0).sqrt());
        close(m.get("mae"), 1.0);
        // Total sum of squares around the mean 11.5: 0.25 + 12.25 + 2.25 + 20.25 = 35.
        close(m.get("r2"), 1.0 - 6.0 / 35.0);
        let constant = Metrics::of(EvalType::RmsError, Some(&[0.0, 0.0]), &[1.0, 1.0], scale);
        assert_eq!(constant.get("r2"), None);
        let diverged = Metrics::of(EvalType::RmsError, None, &[1.0], scale);
        assert_eq!(diverged.get("rmse"), None);
    }

    #[test]
    fn classification_metrics_by_hand() {
        // Logits 2, -1, 0.5, -3 give probabilities above 0.5 for rows 0 and 2.
        let labels = [1.0, 1.0, 0.0, 0.0];
        let logits = [2.0, -1.0, 0.5, -3.0];
        let m = Metrics::of(
            EvalType::Accuracy,
            Some(&logits),
            &labels,
            LabelScale::default(),
        );
        close(m.get("accuracy"), 0.5);
        let ll = -(sigmoid(2.0).ln()
            + sigmoid(-1.0).ln()
            + (1.0 - sigmoid(0.5)).ln()
            + (1.0 - sigmoid(-3.0)).ln())
            / 4.0;
        close(m.get("log_loss"), ll);
        // Pairs (positive, negative): (2, 0.5) (2, -3) (-1, -3) right, (-1, 0.5) wrong: 3/4.
        close(m.get("roc_auc"), 0.75);
        // Ties count half.
        let tied = Metrics::of(
            EvalType::Accuracy,
            Some(&[1.0, 1.0]),
            &[1.0, 0.0],
            LabelScale::default(),
        );
        close(tied.get("roc_auc"), 0.5);
        let one_class = Metrics::of(
            EvalType::Accuracy,
            Some(&[1.0]),
            &[1.0],
            LabelScale::default(),
        );
        assert_eq!(one_class.get("roc_auc"), None);
    }

    #[test]
    fn means_skip_missing_values() {
        let a = Metrics::Regression {
            rmse: Some(1.0),
            mae: Some(2.0),
            r2: None,
        };
        let b = Metrics::Regression {
            rmse: Some(3.0),
            mae: None,
            r2: None,
        };
        let m = Metrics::mean(&[a, b]).unwrap();
        assert_eq!(
            m.named(),
            [("rmse", Some(2.0)), ("mae", Some(2.0)), ("r2", None)]
        );
        assert_eq!(m.to_string(), "RMSE 2.000000, MAE 2.000000, R² -");
    }
}
