//! The fast interpreter computes what the plain one ([`interpreter::reference`]) computes, bit
//! for bit (any NaN counting as one): random programs over every op, every feature size and
//! lane width, on memories seeded with NaN, infinities, signed zeros and values of every size.

mod common;

use automl_zero_engine::interpreter::Program;
use automl_zero_engine::memory::{LaneMemory, MemorySizes};
use automl_zero_engine::ops::Op;
use automl_zero_engine::program::Component;
use automl_zero_engine::rng::{MtRng, Rng};

/// Small memories, so that outputs often overwrite inputs.
const SIZES: MemorySizes = MemorySizes {
    scalars: 4,
    vectors: 3,
    matrices: 3,
};

/// A value drawn to exercise every path: specials, zeros of both signs, tiny and huge.
fn value(rng: &mut Rng) -> f64 {
    match rng.below(12) {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => 0.0,
        4 => -0.0,
        5 => rng.normal() * 1e300,
        6 => rng.normal() * 1e-300,
        7 => rng.below(3) as f64 - 1.0,
        _ => rng.normal(),
    }
}

fn random_memory<const F: usize, const L: usize>(rng: &mut Rng) -> LaneMemory<F, L> {
    let mut m = LaneMemory::<F, L>::new(SIZES);
    for x in m.scalars.iter_mut().flatten() {
        *x = value(rng);
    }
    for x in m.vectors.iter_mut().flatten().flatten() {
        *x = value(rng);
    }
    for x in m.matrices.iter_mut().flatten().flatten().flatten() {
        *x = value(rng);
    }
    m
}

/// Every value's bits; every NaN as one NaN. Which NaN a computation gives is part of no result
/// (a NaN stops a run or scores 0, whatever its bits), and the compiler may swap the operands
/// of `+` and `*`, which picks the NaN that survives.
fn bits<const F: usize, const L: usize>(m: &LaneMemory<F, L>) -> Vec<u64> {
    let s = m.scalars.iter().flatten();
    let v = m.vectors.iter().flatten().flatten();
    let x = m.matrices.iter().flatten().flatten().flatten();
    s.chain(v)
        .chain(x)
        .map(|x| {
            if x.is_nan() {
                f64::NAN.to_bits()
            } else {
                x.to_bits()
            }
        })
        .collect()
}

fn compare<const F: usize, const L: usize>(programs: usize, seed: u64) {
    let ops: Vec<Op> = Op::ALL
        .iter()
        .copied()
        .filter(|&op| op != Op::NoOp)
        .collect();
    let mut rng = Rng::new(seed, F as u64 * 100 + L as u64);
    for (i, algorithm) in common::random_programs(SIZES, &ops, programs, seed)
        .iter()
        .enumerate()
    {
        let program = Program::compile(algorithm, &SIZES, F).unwrap();
        let mut fast = random_memory::<F, L>(&mut rng);
        let mut plain = fast.clone();
        let streams =
            |k: u32| -> Vec<MtRng> { (0..L as u32).map(|l| MtRng::new(k * 97 + l)).collect() };
        let (mut fast_rngs, mut plain_rngs) = (streams(i as u32), streams(i as u32));
        for c in [
            Component::Setup,
            Component::Predict,
            Component::Learn,
            Component::Predict,
        ] {
            assert!(program.fits_lanes(&fast));
            // SAFETY: checked just above; one generator per lane.
            unsafe { program.run_lanes_unchecked(c, &mut fast, &mut fast_rngs) };
            program.run_lanes_reference(c, &mut plain, &mut plain_rngs);
            // An outer product that nothing reads is not stored by the fast interpreter: its
            // matrix is stale there, and compared as the plain one left it.
            for m in program.unstored_products() {
                fast.matrices[m] = plain.matrices[m];
            }
            assert!(
                bits(&fast) == bits(&plain),
                "F = {F}, {L} lanes, program {i}, after {c:?}:\n{algorithm}"
            );
        }
    }
}

#[test]
fn one_lane_at_every_feature_size() {
    compare::<2, 1>(300, 1);
    compare::<4, 1>(300, 2);
    compare::<8, 1>(300, 3);
    compare::<16, 1>(200, 4);
    compare::<32, 1>(100, 5);
}

#[test]
fn four_and_twelve_lanes() {
    compare::<2, 4>(150, 6);
    compare::<4, 4>(150, 7);
    compare::<8, 12>(100, 8);
    compare::<16, 12>(60, 9);
    compare::<32, 4>(30, 10);
}

#[test]
fn a_product_is_left_unstored_only_where_nothing_reads_it() {
    use automl_zero_engine::builtins::neural_net;
    use automl_zero_engine::program::Instruction;
    let sizes = MemorySizes {
        scalars: 5,
        vectors: 9,
        matrices: 2,
    };
    // The network's update `m1 = outer(v7, v0); m0 = m0 + m1`: m1 is read by nothing else.
    let mut network = neural_net(0.01, 0.1, 0.1);
    let program = Program::compile(&network, &sizes, 16).unwrap();
    assert_eq!(program.unstored_products().collect::<Vec<_>>(), [1]);
    // Once Predict reads m1, it is stored.
    network
        .predict
        .push(Instruction::new(Op::MatrixVectorProduct, 1, 0, 6));
    let program = Program::compile(&network, &sizes, 16).unwrap();
    assert_eq!(program.unstored_products().count(), 0);
}
