//! Built-in algorithms (SPEC 9): starting points of a search and baselines to compare with.

use crate::memory::MemorySizes;
use crate::ops::Op;
use crate::program::{Algorithm, Component, Instruction};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// The learning rate of the hand-written algorithms.
pub const LEARNING_RATE: f64 = 0.01;
/// The standard deviation of the neural net's initial weights.
pub const INIT_SCALE: f32 = 0.1;

/// A built-in algorithm, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Builtin {
    /// Only no-ops.
    NoOp,
    /// Random instructions from the allowed ops.
    Random,
    /// Linear regression trained by gradient descent.
    Linear,
    /// A 2-layer ReLU network trained by backpropagation.
    NeuralNet,
    /// The neural net without its weight initialisation (weights start at 0).
    DamagedNeuralNet,
    /// The teacher network that labels the 2-layer regression tasks.
    Teacher,
}

impl Builtin {
    /// Every built-in, in order.
    pub const ALL: [Builtin; 6] = [
        Builtin::NoOp,
        Builtin::Random,
        Builtin::Linear,
        Builtin::NeuralNet,
        Builtin::DamagedNeuralNet,
        Builtin::Teacher,
    ];

    /// The built-in's name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::NoOp => "no_op",
            Builtin::Random => "random",
            Builtin::Linear => "linear",
            Builtin::NeuralNet => "neural_net",
            Builtin::DamagedNeuralNet => "damaged_neural_net",
            Builtin::Teacher => "teacher",
        }
    }

    /// The built-in with this name.
    pub fn from_name(name: &str) -> Result<Builtin, String> {
        Builtin::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Builtin::ALL.iter().map(|b| b.name()).collect();
                format!(
                    "unknown built-in algorithm `{name}`; the built-ins are {}",
                    names.join(", ")
                )
            })
    }

    /// The memory an algorithm needs: (scalars, vectors, matrices).
    fn needs(self) -> (u16, u16, u16) {
        match self {
            Builtin::NoOp | Builtin::Random => (2, 1, 1),
            Builtin::Linear => (4, 3, 1),
            Builtin::NeuralNet | Builtin::DamagedNeuralNet => (5, 9, 2),
            Builtin::Teacher => (4, 8, 2),
        }
    }
}

/// What an initial population is made of: a built-in, or copies of one program.
#[derive(Debug, Clone)]
pub enum Start {
    /// The built-in (random algorithms for `random`).
    Builtin(Builtin),
    /// Copies of this program (read from `search.initial_population`'s file).
    Program(Algorithm),
}

/// What a generator needs to build algorithms: memory sizes, initial sizes and allowed ops.
#[derive(Debug, Clone, Default)]
pub struct Generator {
    /// Memory sizes.
    pub sizes: MemorySizes,
    /// Initial lengths of Setup, Predict and Learn (no-op padding).
    pub size_init: [usize; 3],
    /// Ops allowed in Setup, Predict and Learn (for `random`).
    pub ops: [Vec<Op>; 3],
}

impl Generator {
    /// Builds the built-in algorithm, padded with no-ops to the initial sizes.
    pub fn build(&self, which: Builtin, rng: &mut Rng) -> Result<Algorithm, String> {
        let (s, v, m) = which.needs();
        let sizes = &self.sizes;
        if sizes.scalars < s || sizes.vectors < v || sizes.matrices < m {
            return Err(format!(
                "the built-in `{}` needs at least {s} scalars, {v} vectors and {m} matrices; memory has {}, {} and {}",
                which.name(),
                sizes.scalars,
                sizes.vectors,
                sizes.matrices
            ));
        }
        let mut a = match which {
            Builtin::NoOp | Builtin::Random => Algorithm::default(),
            Builtin::Linear => linear(LEARNING_RATE),
            Builtin::NeuralNet => neural_net(LEARNING_RATE, INIT_SCALE, INIT_SCALE),
            Builtin::DamagedNeuralNet => {
                let mut a = neural_net(LEARNING_RATE, INIT_SCALE, INIT_SCALE);
                a.pad(self.size_init);
                a.setup.drain(..2);
                return Ok(a);
            }
            Builtin::Teacher => teacher(LEARNING_RATE),
        };
        a.pad(self.size_init);
        if which == Builtin::Random {
            self.randomize(&mut a, rng);
        }
        Ok(a)
    }

    /// An initial member: the built-in built, or the program, padded with no-ops to the initial
    /// sizes.
    pub fn start(&self, start: &Start, rng: &mut Rng) -> Result<Algorithm, String> {
        match start {
            Start::Builtin(which) => self.build(*which, rng),
            Start::Program(program) => {
                let mut a = program.clone();
                a.pad(self.size_init);
                Ok(a)
            }
        }
    }

    /// Replaces every instruction of each component that has allowed ops with a random one.
    pub fn randomize(&self, a: &mut Algorithm, rng: &mut Rng) {
        for (i, c) in Component::ALL.into_iter().enumerate() {
            let ops = &self.ops[i];
            let list = a.component_mut(c);
            if ops.is_empty() {
                continue;
            }
            for ins in list.iter_mut() {
                let op = ops[rng.below(ops.len())];
                *ins = Instruction::random(op, &self.sizes, rng);
            }
        }
    }
}

/// Linear regression by gradient descent, weights in v1, learning rate `lr`.
pub fn linear(lr: f64) -> Algorithm {
    use Op::*;
    Algorithm {
        setup: vec![Instruction::constant(2, lr)],
        predict: vec![Instruction::new(VectorInnerProduct, 1, 0, 1)],
        learn: vec![
            Instruction::new(ScalarDiff, 0, 1, 3),
            Instruction::new(ScalarProduct, 2, 3, 3),
            Instruction::new(ScalarVectorProduct, 3, 0, 2),
            Instruction::new(VectorSum, 1, 2, 1),
        ],
    }
}

/// A 2-layer ReLU network trained by backpropagation (SPEC 9): first-layer weights in m0 drawn
/// with sd `first_scale`, output weights in v2 with sd `final_scale`, learning rate `lr`.
pub fn neural_net(lr: f64, first_scale: f32, final_scale: f32) -> Algorithm {
    use Op::*;
    Algorithm {
        setup: vec![
            Instruction::set(VectorGaussianSet, 2, [0.0, final_scale, 0.0]),
            Instruction::set(MatrixGaussianSet, 0, [0.0, first_scale, 0.0]),
            Instruction::constant(3, lr),
        ],
        predict: vec![
            Instruction::new(MatrixVectorProduct, 0, 0, 3),
            Instruction::new(VectorSum, 3, 1, 3),
            Instruction::new(VectorMax, 3, 5, 4),
            Instruction::new(VectorInnerProduct, 4, 2, 1),
            Instruction::new(ScalarSum, 1, 2, 1),
        ],
        learn: vec![
            Instruction::new(ScalarDiff, 0, 1, 4),
            Instruction::new(ScalarProduct, 3, 4, 4),
            Instruction::new(ScalarSum, 2, 4, 2),
            Instruction::new(ScalarVectorProduct, 4, 4, 6),
            Instruction::new(VectorSum, 2, 6, 2),
            Instruction::new(ScalarVectorProduct, 4, 2, 7),
            Instruction::unary(VectorHeaviside, 3, 8),
            Instruction::new(VectorProduct, 8, 7, 7),
            Instruction::new(VectorSum, 1, 7, 1),
            Instruction::new(VectorOuterProduct, 7, 0, 1),
            Instruction::new(MatrixSum, 0, 1, 0),
        ],
    }
}

/// The teacher of the 2-layer regression tasks: weights in m0 and v1, no biases.
pub fn teacher(lr: f64) -> Algorithm {
    use Op::*;
    Algorithm {
        setup: vec![Instruction::constant(2, lr)],
        predict: vec![
            Instruction::new(MatrixVectorProduct, 0, 0, 2),
            Instruction::new(VectorMax, 2, 4, 3),
            Instruction::new(VectorInnerProduct, 3, 1, 1),
        ],
        learn: vec![
            Instruction::new(ScalarDiff, 0, 1, 3),
            Instruction::new(ScalarProduct, 2, 3, 3),
            Instruction::new(ScalarVectorProduct, 3, 3, 5),
            Instruction::new(VectorSum, 1, 5, 1),
            Instruction::new(ScalarVectorProduct, 3, 1, 6),
            Instruction::unary(VectorHeaviside, 2, 7),
            Instruction::new(VectorProduct, 7, 6, 6),
            Instruction::new(VectorOuterProduct, 6, 0, 1),
            Instruction::new(MatrixSum, 0, 1, 0),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_print_as_the_spec_shows() {
        let text = linear(0.01).to_string();
        assert_eq!(
            text,
            "def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v1, v0)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s2 * s3\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
        );
        let nn = neural_net(0.01, 0.1, 0.1).to_string();
        assert!(
            nn.contains("  v2 = gaussian(0.0, 0.1, n_features)\n"),
            "{nn}"
        );
        assert!(nn.contains("  m1 = outer(v7, v0)\n"), "{nn}");
    }

    #[test]
    fn damaged_net_loses_its_initialisation_after_padding() {
        let g = Generator {
            sizes: MemorySizes {
                scalars: 5,
                vectors: 9,
                matrices: 2,
            },
            size_init: [6, 3, 9],
            ops: Default::default(),
        };
        let a = g
            .build(Builtin::DamagedNeuralNet, &mut Rng::new(0, 0))
            .unwrap();
        assert_eq!(a.setup.len(), 4);
        assert_eq!(a.setup[0], Instruction::constant(3, 0.01));
        assert_eq!(a.predict.len(), 5);
    }

    #[test]
    fn builtins_refuse_too_small_memory() {
        let g = Generator {
            sizes: MemorySizes {
                scalars: 4,
                vectors: 3,
                matrices: 1,
            },
            ..Default::default()
        };
        let e = g
            .build(Builtin::NeuralNet, &mut Rng::new(0, 0))
            .unwrap_err();
        assert!(e.contains("at least 5 scalars"), "{e}");
        assert!(g.build(Builtin::Linear, &mut Rng::new(0, 0)).is_ok());
    }

    #[test]
    fn random_algorithms_use_only_allowed_ops_and_keep_sizes() {
        let g = Generator {
            sizes: MemorySizes::default(),
            size_init: [3, 2, 4],
            ops: [
                vec![Op::ScalarConstSet],
                vec![],
                vec![Op::VectorSum, Op::ScalarDiff],
            ],
        };
        let a = g.build(Builtin::Random, &mut Rng::new(5, 0)).unwrap();
        assert!(a.setup.iter().all(|i| i.op == Op::ScalarConstSet));
        assert_eq!(a.predict, vec![Instruction::NO_OP; 2]);
        assert!(
            a.learn
                .iter()
                .all(|i| matches!(i.op, Op::VectorSum | Op::ScalarDiff))
        );
    }
}
