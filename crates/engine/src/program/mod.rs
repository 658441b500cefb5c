//! Algorithms: three lists of instructions (Setup, Predict, Learn), their text and JSON forms.

mod random;
mod text;

pub use text::{ParseError, parse, parse_file};

use crate::memory::MemorySizes;
use crate::ops::{Data, Kind, Op};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One instruction: an op, its addresses and its immediate data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instruction {
    /// The op.
    pub op: Op,
    /// First input address.
    #[serde(default)]
    pub in1: u16,
    /// Second input address.
    #[serde(default)]
    pub in2: u16,
    /// Output address.
    #[serde(default)]
    pub out: u16,
    /// The constant of a scalar const set.
    #[serde(default)]
    pub activation: f64,
    /// Index fractions and values of the other set ops (SPEC 2.1).
    #[serde(default, deserialize_with = "text::deserialize_data")]
    pub data: [f32; 3],
}

impl Instruction {
    /// An instruction that does nothing.
    pub const NO_OP: Instruction = Instruction {
        op: Op::NoOp,
        in1: 0,
        in2: 0,
        out: 0,
        activation: 0.0,
        data: [0.0; 3],
    };

    /// An instruction with the given op and addresses and no data.
    pub fn new(op: Op, in1: u16, in2: u16, out: u16) -> Self {
        Instruction {
            op,
            in1,
            in2,
            out,
            ..Self::NO_OP
        }
    }

    /// A unary instruction `out = op(in1)`.
    pub fn unary(op: Op, in1: u16, out: u16) -> Self {
        Self::new(op, in1, 0, out)
    }

    /// A scalar const set `s[out] = value`.
    pub fn constant(out: u16, value: f64) -> Self {
        Instruction {
            activation: value,
            ..Self::new(Op::ScalarConstSet, 0, 0, out)
        }
    }

    /// A set op with its data fields.
    pub fn set(op: Op, out: u16, data: [f32; 3]) -> Self {
        Instruction {
            data,
            ..Self::new(op, 0, 0, out)
        }
    }

    /// The (kind, address) pairs this instruction reads.
    pub fn reads(&self) -> impl Iterator<Item = (Kind, u16)> + '_ {
        let addrs = [self.in1, self.in2];
        self.op
            .info()
            .inputs
            .iter()
            .zip(addrs)
            .map(|(k, a)| (*k, a))
    }

    /// The (kind, address) this instruction writes, if any.
    pub fn writes(&self) -> Option<(Kind, u16)> {
        self.op.info().output.map(|k| (k, self.out))
    }

    /// Whether the addresses fit the memory sizes and index data lie in [0, 1) (see
    /// [`Instruction::check`], which says what is wrong).
    #[inline]
    pub fn fits(&self, sizes: &MemorySizes) -> bool {
        // Every child of a search is checked: no iterators, no early returns.
        let info = self.op.info();
        let fits = |kind: Option<&Kind>, addr: u16| kind.is_none_or(|&k| addr < sizes.of(k));
        let index = |f: f32| (0.0..1.0).contains(&f);
        let indices = match info.data {
            Data::VectorElement => index(self.data[0]),
            Data::MatrixElement => index(self.data[0]) & index(self.data[1]),
            _ => true,
        };
        fits(info.inputs.first(), self.in1)
            & fits(info.inputs.get(1), self.in2)
            & fits(info.output.as_ref(), self.out)
            & indices
    }

    /// Checks addresses against memory sizes and index data against [0, 1).
    #[inline]
    pub fn check(&self, sizes: &MemorySizes) -> Result<(), String> {
        if self.fits(sizes) {
            Ok(())
        } else {
            Err(self.misfit(sizes))
        }
    }

    /// What is wrong with an instruction that does not [`Instruction::fits`].
    #[cold]
    fn misfit(&self, sizes: &MemorySizes) -> String {
        let info = self.op.info();
        let operands = [
            (info.inputs.first(), self.in1),
            (info.inputs.get(1), self.in2),
            (info.output.as_ref(), self.out),
        ];
        for (kind, addr) in operands {
            if let Some(&kind) = kind
                && addr >= sizes.of(kind)
            {
                return address_error(kind, addr, sizes);
            }
        }
        // Not an address, so an index fraction.
        let f = match info.data {
            Data::MatrixElement if (0.0..1.0).contains(&self.data[0]) => self.data[1],
            _ => self.data[0],
        };
        format!(
            "index fraction {f:?} is outside [0, 1) (an index is written as a fraction of the feature size)"
        )
    }
}

/// The message for an address beyond the memory; `addr` is the number as written.
pub(crate) fn address_error(kind: Kind, addr: impl fmt::Display, sizes: &MemorySizes) -> String {
    let n = sizes.of(kind);
    let l = kind.letter();
    format!(
        "address {l}{addr} is beyond the memory: there are {n} {} addresses ({l}0..{l}{})",
        kind.noun(),
        n.saturating_sub(1)
    )
}

/// One of the three component functions of an algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Runs once, before training.
    Setup,
    /// Runs on every example; leaves the prediction in s1.
    Predict,
    /// Runs after Predict on every training example, with the label in s0.
    Learn,
}

impl Component {
    /// The three components in execution order.
    pub const ALL: [Component; 3] = [Component::Setup, Component::Predict, Component::Learn];

    /// The name printed in the program text (`def Setup():`).
    pub fn title(self) -> &'static str {
        match self {
            Component::Setup => "Setup",
            Component::Predict => "Predict",
            Component::Learn => "Learn",
        }
    }
}

/// An algorithm: the instructions of Setup, Predict and Learn.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Algorithm {
    /// Setup instructions.
    pub setup: Vec<Instruction>,
    /// Predict instructions.
    pub predict: Vec<Instruction>,
    /// Learn instructions.
    pub learn: Vec<Instruction>,
}

impl Clone for Algorithm {
    fn clone(&self) -> Self {
        Algorithm {
            setup: self.setup.clone(),
            predict: self.predict.clone(),
            learn: self.learn.clone(),
        }
    }

    /// Copies into the existing buffers (no allocation when they are large enough).
    fn clone_from(&mut self, source: &Self) {
        self.setup.clone_from(&source.setup);
        self.predict.clone_from(&source.predict);
        self.learn.clone_from(&source.learn);
    }
}

impl Algorithm {
    /// The instructions of one component.
    pub fn component(&self, c: Component) -> &Vec<Instruction> {
        match c {
            Component::Setup => &self.setup,
            Component::Predict => &self.predict,
            Component::Learn => &self.learn,
        }
    }

    /// The instructions of one component, mutably.
    pub fn component_mut(&mut self, c: Component) -> &mut Vec<Instruction> {
        match c {
            Component::Setup => &mut self.setup,
            Component::Predict => &mut self.predict,
            Component::Learn => &mut self.learn,
        }
    }

    /// Total number of instructions.
    pub fn len(&self) -> usize {
        self.setup.len() + self.predict.len() + self.learn.len()
    }

    /// Whether all three components are empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any instruction draws random numbers.
    pub fn has_random_ops(&self) -> bool {
        Component::ALL
            .iter()
            .any(|&c| self.component(c).iter().any(|i| i.op.info().random))
    }

    /// Checks every instruction against memory sizes, naming the first bad one.
    pub fn check(&self, sizes: &MemorySizes) -> Result<(), String> {
        for c in Component::ALL {
            for (i, ins) in self.component(c).iter().enumerate() {
                ins.check(sizes)
                    .map_err(|e| format!("{}, instruction {}: {e}", c.title(), i + 1))?;
            }
        }
        Ok(())
    }

    /// Appends no-ops to each component until it has the given length.
    pub fn pad(&mut self, sizes: [usize; 3]) {
        for (c, n) in Component::ALL.into_iter().zip(sizes) {
            let list = self.component_mut(c);
            while list.len() < n {
                list.push(Instruction::NO_OP);
            }
        }
    }

    /// Reads an algorithm from JSON: an object with the lists `setup`, `predict` and `learn`
    /// (all three required). An error carries the line and column, and names the component and
    /// instruction when it is inside one (the file is added by [`parse_file`]).
    pub fn from_json(text: &str) -> Result<Algorithm, ParseError> {
        text::from_json(text)
    }

    /// Writes the algorithm as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("algorithms always serialize")
    }
}

impl fmt::Display for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        text::write_instruction(f, self)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in Component::ALL {
            writeln!(f, "def {}():", c.title())?;
            for ins in self.component(c) {
                writeln!(f, "  {ins}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: MemorySizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };

    fn with_data(op: Op, out: u16, data: [f32; 3]) -> Instruction {
        Instruction {
            data,
            ..Instruction::new(op, 0, 0, out)
        }
    }

    #[test]
    fn check_accepts_what_fits_and_names_what_does_not() {
        let ok = Instruction::new(Op::VectorInnerProduct, 0, 2, 3);
        assert!(ok.fits(&SIZES) && ok.check(&SIZES).is_ok());
        let cases = [
            (
                Instruction::new(Op::VectorInnerProduct, 3, 0, 1),
                "address v3 is beyond",
            ),
            (
                Instruction::new(Op::VectorInnerProduct, 0, 1, 4),
                "address s4 is beyond",
            ),
            (
                with_data(Op::VectorConstSet, 1, [1.0, 0.5, 0.0]),
                "index fraction 1.0",
            ),
            (
                with_data(Op::MatrixConstSet, 0, [0.5, -0.25, 0.0]),
                "index fraction -0.25",
            ),
            (
                with_data(Op::MatrixConstSet, 0, [f32::NAN, 0.5, 0.0]),
                "index fraction NaN",
            ),
        ];
        for (ins, message) in cases {
            assert!(!ins.fits(&SIZES), "{ins:?}");
            let error = ins.check(&SIZES).unwrap_err();
            assert!(error.starts_with(message), "{error}");
        }
    }

    #[test]
    fn an_algorithm_check_names_the_component_and_instruction() {
        let a = Algorithm {
            learn: vec![
                Instruction::new(Op::ScalarSum, 0, 1, 2),
                Instruction::new(Op::ScalarSum, 0, 9, 2),
            ],
            ..Algorithm::default()
        };
        assert!(
            a.check(&SIZES)
                .unwrap_err()
                .starts_with("Learn, instruction 2: address s9")
        );
    }
}
