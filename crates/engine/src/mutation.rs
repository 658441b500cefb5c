//! The mutator (SPEC 8): small random changes that turn a parent into a child.

use crate::memory::MemorySizes;
use crate::ops::Op;
use crate::program::{Algorithm, Component, Instruction};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// One kind of change a mutation makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutationType {
    /// Re-draw one address or alter the data of one instruction.
    AlterParam,
    /// Replace one instruction with a new random one.
    RandomizeInstruction,
    /// Replace every instruction of one component with new random ones.
    RandomizeComponentFunction,
    /// Change nothing.
    Identity,
    /// Insert a random instruction (unless the component is at its maximum size).
    InsertInstruction,
    /// Remove an instruction (unless the component is at its minimum size).
    RemoveInstruction,
    /// Insert a random instruction and remove one, keeping the size.
    TradeInstruction,
    /// Randomize every component that has ops.
    RandomizeAlgorithm,
}

/// Mutates algorithms within the allowed ops and sizes of each component.
#[derive(Debug, Clone)]
pub struct Mutator {
    /// Mutation types to choose among uniformly (repeats weigh the choice).
    pub types: Vec<MutationType>,
    /// Probability that a child is mutated at all.
    pub mutate_prob: f64,
    /// Allowed ops of Setup, Predict and Learn; an empty list freezes the component.
    pub ops: [Vec<Op>; 3],
    /// (min, max) sizes of Setup, Predict and Learn.
    pub limits: [(usize, usize); 3],
    /// Memory sizes addresses are drawn within.
    pub sizes: MemorySizes,
}

impl Mutator {
    /// The child of `parent`: a copy, mutated once with probability `mutate_prob`.
    pub fn child(&self, parent: &Algorithm, rng: &mut Rng) -> Algorithm {
        let mut child = parent.clone();
        if self.mutate_prob >= 1.0 || rng.chance(self.mutate_prob) {
            self.mutate(&mut child, rng);
        }
        child
    }

    /// The child of `parent` written into `out` (reusing its buffers), as [`Mutator::child`].
    pub fn child_into(&self, parent: &Algorithm, out: &mut Algorithm, rng: &mut Rng) {
        out.clone_from(parent);
        if self.mutate_prob >= 1.0 || rng.chance(self.mutate_prob) {
            self.mutate(out, rng);
        }
    }

    /// Applies one mutation, of a type drawn from the list.
    pub fn mutate(&self, a: &mut Algorithm, rng: &mut Rng) {
        let kind = self.types[rng.below(self.types.len())];
        self.apply(kind, a, rng);
    }

    /// Applies one mutation of the given type.
    pub fn apply(&self, kind: MutationType, a: &mut Algorithm, rng: &mut Rng) {
        let Some(c) = self.pick_component(rng) else {
            return;
        };
        let ci = c as usize;
        let ops = &self.ops[ci];
        let (min, max) = self.limits[ci];
        let list = a.component_mut(c);
        match kind {
            MutationType::Identity => {}
            MutationType::AlterParam => {
                if !list.is_empty() {
                    let i = rng.below(list.len());
                    list[i] = list[i].altered(&self.sizes, rng);
                }
            }
            MutationType::RandomizeInstruction => {
                if !list.is_empty() {
                    let i = rng.below(list.len());
                    list[i] = self.random_instruction(ops, rng);
                }
            }
            MutationType::RandomizeComponentFunction => {
                for ins in list.iter_mut() {
                    *ins = self.random_instruction(ops, rng);
                }
            }
            MutationType::InsertInstruction => {
                if list.len() < max {
                    let ins = self.random_instruction(ops, rng);
                    let at = rng.below(list.len() + 1);
                    list.insert(at, ins);
                }
            }
            MutationType::RemoveInstruction => {
                if list.len() > min && !list.is_empty() {
                    let at = rng.below(list.len());
                    list.remove(at);
                }
            }
            MutationType::TradeInstruction => {
                let ins = self.random_instruction(ops, rng);
                let at = rng.below(list.len() + 1);
                list.insert(at, ins);
                let gone = rng.below(list.len());
                list.remove(gone);
            }
            MutationType::RandomizeAlgorithm => {
                for c in Component::ALL {
                    let ops = &self.ops[c as usize];
                    if ops.is_empty() {
                        continue;
                    }
                    for ins in a.component_mut(c).iter_mut() {
                        *ins = self.random_instruction(ops, rng);
                    }
                }
            }
        }
    }

    /// A component with allowed ops, chosen uniformly; `None` if every list is empty.
    fn pick_component(&self, rng: &mut Rng) -> Option<Component> {
        let open: Vec<Component> = Component::ALL
            .into_iter()
            .filter(|c| !self.ops[*c as usize].is_empty())
            .collect();
        if open.is_empty() {
            None
        } else {
            Some(open[rng.below(open.len())])
        }
    }

    fn random_instruction(&self, ops: &[Op], rng: &mut Rng) -> Instruction {
        let op = ops[rng.below(ops.len())];
        Instruction::random(op, &self.sizes, rng)
    }
}
