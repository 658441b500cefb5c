//! The train budget (SPEC 5.3): algorithms much costlier than a baseline get no training.

use crate::ops::Op;
use crate::program::Algorithm;
use serde::{Deserialize, Serialize};

/// Train budget settings (`search.train_budget` in a config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// The built-in algorithm whose cost is the baseline (`neural_net` by default).
    #[serde(default = "default_baseline")]
    pub baseline: String,
    /// An algorithm may cost up to this many times the baseline.
    #[serde(default = "default_factor")]
    pub threshold_factor: f64,
}

fn default_baseline() -> String {
    "neural_net".into()
}

fn default_factor() -> f64 {
    2.0
}

/// Costs of Setup and of one training step (Predict + Learn), in the op table's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    /// Cost of Setup.
    pub setup: u64,
    /// Cost of Predict plus Learn.
    pub step: u64,
}

impl Cost {
    /// The cost of instruction lists, counting no-ops as the original does.
    pub fn of(setup: &[Op], predict: &[Op], learn: &[Op]) -> Cost {
        let sum = |ops: &[Op]| ops.iter().map(|op| op.info().cost).sum::<u64>();
        Cost {
            setup: sum(setup),
            step: sum(predict) + sum(learn),
        }
    }

    /// The cost of an algorithm.
    pub fn of_algorithm(a: &Algorithm) -> Cost {
        let ops =
            |list: &[crate::program::Instruction]| list.iter().map(|i| i.op).collect::<Vec<_>>();
        Cost::of(&ops(&a.setup), &ops(&a.predict), &ops(&a.learn))
    }

    fn total(&self, n: usize) -> f64 {
        self.setup as f64 + n as f64 * self.step as f64
    }
}

/// A train budget ready to judge algorithms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainBudget {
    /// The baseline's cost.
    pub baseline: Cost,
    /// The allowed multiple of the baseline.
    pub factor: f64,
}

impl TrainBudget {
    /// The number of training examples allowed: `n`, or 0 if the algorithm costs too much.
    pub fn train_examples(&self, cost: Cost, n: usize) -> usize {
        if cost.total(n) <= self.factor * self.baseline.total(n) {
            n
        } else {
            0
        }
    }
}
