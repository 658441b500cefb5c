//! Liveness over the whole train loop: which instructions can ever affect a prediction.
//!
//! The executor runs Setup once, then Predict and Learn per training example, then Predict per
//! validation example. Before every Predict and Learn it overwrites the features `v0` and the
//! label `s0`, and it reads the prediction `s1` after every Predict. An instruction is live when
//! its result can reach such a read of `s1` along some path through that loop. Dead
//! instructions change nothing observable, so they need not run; two algorithms equal after
//! pruning and after renaming their addresses are the same algorithm ([`canonical_key`]).

use crate::memory::{FEATURES, LABEL, MemorySizes, PREDICTION};
use crate::ops::{Data, Kind, OpInfo};
use crate::program::{Algorithm, Component, Instruction};

/// Words of a per-kind bitset: enough for `memory::MAX_SIZE` addresses.
const WORDS: usize = (crate::memory::MAX_SIZE as usize).div_ceil(64);

/// A set of memory locations, one bit per address and kind, for addresses below `64 * W`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Locations<const W: usize = WORDS> {
    bits: [[u64; W]; 3],
}

impl<const W: usize> Default for Locations<W> {
    fn default() -> Self {
        Locations { bits: [[0; W]; 3] }
    }
}

/// An address folded into `0..64 * W`: liveness runs before an algorithm is checked (see
/// `evaluation`), so an address beyond the memory must not index out of bounds (no code of
/// an algorithm runs before its check).
#[inline(always)]
fn folded<const W: usize>(addr: u16) -> usize {
    addr as usize & (64 * W - 1)
}

/// Whether every address of a memory of `sizes` fits one 64-bit word per kind: true for every
/// shipped config, whose children (liveness and key for each) then take the narrow sets.
fn one_word(sizes: &MemorySizes) -> bool {
    sizes.scalars.max(sizes.vectors).max(sizes.matrices) <= 64
}

/// The bitset row of a kind.
#[inline(always)]
fn slot_of(kind: Kind) -> usize {
    match kind {
        Kind::Scalar => 0,
        Kind::Vector => 1,
        Kind::Matrix => 2,
    }
}

impl<const W: usize> Locations<W> {
    #[inline]
    fn insert(&mut self, kind: Kind, addr: u16) {
        self.bits[slot_of(kind)][folded::<W>(addr) / 64] |= 1 << (addr % 64);
    }

    #[inline]
    fn remove(&mut self, kind: Kind, addr: u16) {
        self.bits[slot_of(kind)][folded::<W>(addr) / 64] &= !(1 << (addr % 64));
    }

    #[inline]
    fn contains(&self, kind: Kind, addr: u16) -> bool {
        self.bits[slot_of(kind)][folded::<W>(addr) / 64] & (1 << (addr % 64)) != 0
    }

    fn union(&mut self, other: &Locations<W>) {
        for (mine, theirs) in self.bits.iter_mut().zip(&other.bits) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m |= t;
            }
        }
    }
}

/// Whether an op's write replaces its whole output (const sets change one element).
fn overwrites(info: &OpInfo) -> bool {
    !matches!(info.data, Data::VectorElement | Data::MatrixElement)
}

/// Walks a component backwards from the locations live after it; marks live instructions in
/// `keep` and returns the locations live before it.
fn backward<const W: usize>(
    code: &[Instruction],
    live_after: &Locations<W>,
    keep: &mut [bool],
) -> Locations<W> {
    // Run for every child of a search, a few times over: the op's facts are read once per
    // instruction, without iterators.
    let mut live = *live_after;
    for (ins, kept) in code.iter().zip(keep.iter_mut()).rev() {
        let info = ins.op.info();
        *kept = info.output.is_some_and(|kind| live.contains(kind, ins.out));
        if !*kept {
            continue;
        }
        if let Some(kind) = info.output
            && overwrites(info)
        {
            live.remove(kind, ins.out);
        }
        // A partial write keeps the rest of the old value live.
        if let Some(&kind) = info.inputs.first() {
            live.insert(kind, ins.in1);
        }
        if let Some(&kind) = info.inputs.get(1) {
            live.insert(kind, ins.in2);
        }
    }
    live
}

/// Locations live just before the executor sets `v0` and `s0` for Predict or Learn.
fn before_inputs<const W: usize>(mut live: Locations<W>) -> Locations<W> {
    live.remove(Kind::Vector, FEATURES);
    live.remove(Kind::Scalar, LABEL);
    live
}

/// Which instructions of each component are live (`[setup, predict, learn]`).
pub fn live_instructions(a: &Algorithm) -> [Vec<bool>; 3] {
    let mut keep = Default::default();
    live_into(a, &MemorySizes::largest(), &mut keep);
    keep
}

/// Fills `keep` (reusing its buffers) with the live flags of each component's instructions,
/// for an algorithm that runs on memories of `sizes`.
pub fn live_into(a: &Algorithm, sizes: &MemorySizes, keep: &mut [Vec<bool>; 3]) {
    for (k, c) in keep.iter_mut().zip(Component::ALL) {
        k.clear();
        k.resize(a.component(c).len(), false);
    }
    if one_word(sizes) {
        mark_live::<1>(a, keep);
    } else {
        mark_live::<WORDS>(a, keep);
    }
}

/// The fixed point of [`live_into`] with sets of `64 * W` addresses per kind.
fn mark_live<const W: usize>(a: &Algorithm, keep: &mut [Vec<bool>; 3]) {
    // Fixed point over the loop: Predict is followed by a read of s1, then by Learn (training)
    // or by the next Predict (validation); Learn is followed by Predict.
    let mut predict_in = Locations::<W>::default();
    let mut learn_in = Locations::<W>::default();
    loop {
        let mut after_predict = Locations::<W>::default();
        after_predict.insert(Kind::Scalar, PREDICTION);
        after_predict.union(&before_inputs(learn_in));
        after_predict.union(&before_inputs(predict_in));
        let new_predict = backward(&a.predict, &after_predict, &mut keep[1]);
        let after_learn = before_inputs(new_predict);
        let new_learn = backward(&a.learn, &after_learn, &mut keep[2]);
        if new_predict == predict_in && new_learn == learn_in {
            break;
        }
        predict_in = new_predict;
        learn_in = new_learn;
    }
    let after_setup = before_inputs(predict_in);
    backward(&a.setup, &after_setup, &mut keep[0]);
}

/// Carries the set of locations that may hold data-derived values forward through the
/// instructions flagged in `keep`.
fn forward(code: &[Instruction], keep: &[bool], tainted: &mut Locations) {
    for (ins, _) in code.iter().zip(keep).filter(|(_, k)| **k) {
        let Some((kind, out)) = ins.writes() else {
            continue;
        };
        if ins.reads().any(|(k, a)| tainted.contains(k, a)) {
            tainted.insert(kind, out);
        } else if overwrites(ins.op.info()) {
            tainted.remove(kind, out);
        }
    }
}

/// Whether the prediction can depend on the task's data (features or labels) through the live
/// instructions flagged in `keep`. When it cannot, a deterministic algorithm predicts the same
/// sequence on every task, whatever its examples.
pub fn prediction_reads_data(a: &Algorithm, keep: &[Vec<bool>; 3]) -> bool {
    // Setup sees a wiped memory. Predict starts with the features in v0 and 0 in s0; Learn
    // with the features and the label. Iterate to a fixed point over the loop.
    let mut predict_in = Locations::default();
    loop {
        let mut after_predict = predict_in;
        after_predict.insert(Kind::Vector, FEATURES);
        after_predict.remove(Kind::Scalar, LABEL);
        forward(&a.predict, &keep[1], &mut after_predict);
        if after_predict.contains(Kind::Scalar, PREDICTION) {
            return true;
        }
        let mut after_learn = after_predict;
        after_learn.insert(Kind::Vector, FEATURES);
        after_learn.insert(Kind::Scalar, LABEL);
        forward(&a.learn, &keep[2], &mut after_learn);
        let mut next = predict_in;
        next.union(&after_predict);
        next.union(&after_learn);
        if next == predict_in {
            return false;
        }
        predict_in = next;
    }
}

/// The algorithm with its dead instructions (and no-ops) removed.
pub fn prune(a: &Algorithm) -> Algorithm {
    let keep = live_instructions(a);
    let mut out = Algorithm::default();
    for (ci, c) in Component::ALL.into_iter().enumerate() {
        *out.component_mut(c) = a
            .component(c)
            .iter()
            .zip(&keep[ci])
            .filter(|(_, k)| **k)
            .map(|(ins, _)| *ins)
            .collect();
    }
    out
}

/// Renames addresses in order of first use (keeping the reserved s0, s1 and v0), so that
/// algorithms differing only in which cells they use become equal.
pub fn rename(a: &Algorithm) -> Algorithm {
    let mut maps: [Vec<(u16, u16)>; 3] = [
        vec![(LABEL, LABEL), (PREDICTION, PREDICTION)],
        vec![(FEATURES, FEATURES)],
        vec![],
    ];
    let mut map = |kind: Kind, addr: u16| -> u16 {
        let m = &mut maps[slot_of(kind)];
        if let Some(&(_, to)) = m.iter().find(|(from, _)| *from == addr) {
            return to;
        }
        let to = m.len() as u16;
        m.push((addr, to));
        to
    };
    let mut out = a.clone();
    for c in Component::ALL {
        for ins in out.component_mut(c) {
            let info = ins.op.info();
            if let Some(&k) = info.inputs.first() {
                ins.in1 = map(k, ins.in1);
            }
            if let Some(&k) = info.inputs.get(1) {
                ins.in2 = map(k, ins.in2);
            }
            if let Some(k) = info.output {
                ins.out = map(k, ins.out);
            }
        }
    }
    out
}

/// A 128-bit key of the pruned, renamed algorithm: equal keys mean equal behaviour (barring
/// a hash collision, about 2^-64 per pair).
pub fn canonical_key(a: &Algorithm) -> u128 {
    canonical_key_of_live(a, &MemorySizes::largest(), &live_instructions(a))
}

/// The canonical key of the instructions of `a` (which runs on memories of `sizes`) flagged
/// live in `keep`, renamed in order of first use, without building the pruned algorithm.
pub fn canonical_key_of_live(a: &Algorithm, sizes: &MemorySizes, keep: &[Vec<bool>; 3]) -> u128 {
    if one_word(sizes) {
        key_of_live::<1>(a, keep)
    } else {
        key_of_live::<WORDS>(a, keep)
    }
}

/// [`canonical_key_of_live`] for addresses below `64 * W`.
fn key_of_live<const W: usize>(a: &Algorithm, keep: &[Vec<bool>; 3]) -> u128 {
    const UNSEEN: u16 = u16::MAX;
    let mut maps = [[[UNSEEN; 64]; W]; 3];
    let mut next = [2u16, 1, 0];
    // The reserved cells, all in the first word, keep their names.
    maps[0][0][LABEL as usize] = LABEL;
    maps[0][0][PREDICTION as usize] = PREDICTION;
    maps[1][0][FEATURES as usize] = FEATURES;
    let mut map = |kind: Kind, addr: u16| -> u64 {
        let slot = slot_of(kind);
        let cell = folded::<W>(addr);
        let to = &mut maps[slot][cell / 64][cell % 64];
        if *to == UNSEEN {
            *to = next[slot];
            next[slot] += 1;
        }
        *to as u64
    };
    let mut h1 = 0xcbf2_9ce4_8422_2325u64;
    let mut h2 = 0x9E37_79B9_7F4A_7C15u64;
    let mut feed = |x: u64| {
        h1 = (h1 ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        h2 = (h2 ^ x).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(31);
    };
    for (c, flags) in Component::ALL.into_iter().zip(keep) {
        feed(0xC0DE_0000 + flags.iter().filter(|k| **k).count() as u64);
        for (ins, _) in a.component(c).iter().zip(flags).filter(|(_, k)| **k) {
            let info = ins.op.info();
            let in1 = info.inputs.first().map_or(0, |&k| map(k, ins.in1));
            let in2 = info.inputs.get(1).map_or(0, |&k| map(k, ins.in2));
            let out = info.output.map_or(0, |k| map(k, ins.out));
            feed(ins.op as u64 | in1 << 8 | in2 << 24 | out << 40);
            match info.data {
                Data::None => {}
                Data::Constant => feed(ins.activation.to_bits()),
                _ => feed(
                    ins.data[0].to_bits() as u64
                        | (ins.data[1].to_bits() as u64) << 32
                            ^ (ins.data[2].to_bits() as u64).rotate_left(17),
                ),
            }
        }
    }
    (h1 as u128) << 64 | h2 as u128
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemorySizes;
    use crate::program::parse;

    const SIZES: MemorySizes = MemorySizes {
        scalars: 8,
        vectors: 8,
        matrices: 2,
    };

    fn p(text: &str) -> Algorithm {
        parse(text, &SIZES).unwrap()
    }

    #[test]
    fn linear_regression_is_all_live_and_junk_is_dead() {
        let a = p(
            "def Setup():\n  s2 = 0.01\n  s5 = 3.0\n  v0 = bcast(s2)\ndef Predict():\n  s4 = s1 + s2\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n  s6 = s5 * s3\n",
        );
        let keep = live_instructions(&a);
        assert_eq!(keep[0], vec![true, false, false]);
        assert_eq!(keep[1], vec![false, true]);
        assert_eq!(keep[2], vec![true, true, true, true, false]);
    }

    #[test]
    fn values_carried_from_predict_to_learn_are_live() {
        // v3 is computed in Predict and used in Learn to update the weights.
        let a = p(
            "def Setup():\ndef Predict():\n  v3 = v0 + v0\n  s1 = dot(v3, v1)\ndef Learn():\n  s3 = s0 - s1\n  v2 = s3 * v3\n  v1 = v1 + v2\n",
        );
        let keep = live_instructions(&a);
        assert!(keep[1].iter().all(|k| *k));
        assert!(keep[2].iter().all(|k| *k));
    }

    #[test]
    fn a_prediction_overwritten_before_it_is_read_is_dead() {
        let a =
            p("def Setup():\ndef Predict():\n  s1 = dot(v0, v0)\n  s1 = s2 + s2\ndef Learn():\n");
        let keep = live_instructions(&a);
        assert_eq!(keep[1], vec![false, true]);
    }

    #[test]
    fn partial_writes_keep_the_old_value_live() {
        let a = p(
            "def Setup():\n  v1 = bcast(s0)\n  v1[0.0] = 1.0\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n",
        );
        let keep = live_instructions(&a);
        assert_eq!(keep[0], vec![true, true]);
    }

    #[test]
    fn renaming_makes_address_choices_equal() {
        let a = p(
            "def Setup():\n  s5 = 0.01\ndef Predict():\n  s1 = dot(v0, v4)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s5\n  v6 = s3 * v0\n  v4 = v4 + v6\n",
        );
        let b = p(
            "def Setup():\n  s2 = 0.01\n  s7 = s2 + s2\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s4 = s0 - s1\n  s4 = s4 * s2\n  v2 = s4 * v0\n  v1 = v1 + v2\n",
        );
        assert_eq!(canonical_key(&a), canonical_key(&b));
        let c = p(
            "def Setup():\n  s2 = 0.02\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s4 = s0 - s1\n  s4 = s4 * s2\n  v2 = s4 * v0\n  v1 = v1 + v2\n",
        );
        assert_ne!(canonical_key(&a), canonical_key(&c));
    }
}
