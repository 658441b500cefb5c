//! The mutator (SPEC 8): the effect and limits of each of the eight mutation types, the
//! component choice, frozen components, `mutate_prob`, and the outputs of new instructions.

use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::mutation::{MutationType, Mutator};
use automl_zero_engine::ops::{Kind, Op};
use automl_zero_engine::program::{Algorithm, Component, Instruction};
use automl_zero_engine::rng::Rng;

const SIZES: MemorySizes = MemorySizes {
    scalars: 8,
    vectors: 6,
    matrices: 4,
};

const SETUP_OPS: &[Op] = &[
    Op::ScalarConstSet,
    Op::VectorConstSet,
    Op::MatrixConstSet,
    Op::ScalarGaussianSet,
    Op::VectorUniformSet,
];
const PREDICT_OPS: &[Op] = &[
    Op::VectorInnerProduct,
    Op::MatrixVectorProduct,
    Op::ScalarSum,
    Op::VectorMax,
    Op::ScalarSin,
];
const LEARN_OPS: &[Op] = &[
    Op::ScalarDiff,
    Op::ScalarProduct,
    Op::ScalarVectorProduct,
    Op::VectorSum,
    Op::VectorOuterProduct,
    Op::MatrixSum,
    Op::VectorHeaviside,
];

/// Every mutation type.
const ALL_TYPES: [MutationType; 8] = [
    MutationType::AlterParam,
    MutationType::RandomizeInstruction,
    MutationType::RandomizeComponentFunction,
    MutationType::Identity,
    MutationType::InsertInstruction,
    MutationType::RemoveInstruction,
    MutationType::TradeInstruction,
    MutationType::RandomizeAlgorithm,
];

/// An op that no allowed-op list above holds, to see which instructions were rewritten.
const FOREIGN: Instruction = Instruction {
    op: Op::MatrixTranspose,
    in1: 3,
    in2: 0,
    out: 2,
    activation: 0.0,
    data: [0.0; 3],
};

fn mutator(types: &[MutationType], mutate_prob: f64, ops: [&[Op]; 3]) -> Mutator {
    Mutator {
        types: types.to_vec(),
        mutate_prob,
        ops: ops.map(|o| o.to_vec()),
        limits: [(2, 8), (1, 5), (3, 12)],
        sizes: SIZES,
    }
}

fn all_ops() -> [&'static [Op]; 3] {
    [SETUP_OPS, PREDICT_OPS, LEARN_OPS]
}

/// An algorithm of the given sizes whose instructions are random ones from the allowed ops (or
/// `FOREIGN` where a component has no ops).
fn random_algorithm(m: &Mutator, sizes: [usize; 3], rng: &mut Rng) -> Algorithm {
    let mut a = Algorithm::default();
    for (i, c) in Component::ALL.into_iter().enumerate() {
        let ops = &m.ops[i];
        *a.component_mut(c) = (0..sizes[i])
            .map(|_| {
                if ops.is_empty() {
                    FOREIGN
                } else {
                    Instruction::random(ops[rng.below(ops.len())], &m.sizes, rng)
                }
            })
            .collect();
    }
    a
}

/// An algorithm of the given sizes made only of `FOREIGN` instructions.
fn foreign_algorithm(sizes: [usize; 3]) -> Algorithm {
    Algorithm {
        setup: vec![FOREIGN; sizes[0]],
        predict: vec![FOREIGN; sizes[1]],
        learn: vec![FOREIGN; sizes[2]],
    }
}

fn lens(a: &Algorithm) -> [usize; 3] {
    Component::ALL.map(|c| a.component(c).len())
}

/// Positions where two equally long lists differ.
fn differing(a: &[Instruction], b: &[Instruction]) -> Vec<usize> {
    assert_eq!(a.len(), b.len());
    (0..a.len()).filter(|&i| a[i] != b[i]).collect()
}

/// The components whose instruction lists differ.
fn changed_components(a: &Algorithm, b: &Algorithm) -> Vec<Component> {
    Component::ALL
        .into_iter()
        .filter(|&c| a.component(c) != b.component(c))
        .collect()
}

/// Whether `longer` is `shorter` with exactly one instruction inserted; returns its position.
fn inserted_at(shorter: &[Instruction], longer: &[Instruction]) -> Option<usize> {
    if longer.len() != shorter.len() + 1 {
        return None;
    }
    (0..longer.len()).find(|&at| longer[..at] == shorter[..at] && longer[at + 1..] == shorter[at..])
}

fn ops_of(m: &Mutator, c: Component) -> &[Op] {
    &m.ops[c as usize]
}

#[test]
fn alter_param_changes_one_instruction_of_a_component_with_ops_and_keeps_its_op() {
    let m = mutator(&[MutationType::AlterParam], 1.0, all_ops());
    let mut rng = Rng::new(1, 1);
    let mut visible = 0;
    let trials = 2000;
    for _ in 0..trials {
        let parent = random_algorithm(&m, [5, 3, 7], &mut rng);
        let mut child = parent.clone();
        m.apply(MutationType::AlterParam, &mut child, &mut rng);
        assert_eq!(lens(&child), lens(&parent));
        let mut changed = 0;
        for c in Component::ALL {
            let (p, k) = (parent.component(c), child.component(c));
            for i in differing(p, k) {
                changed += 1;
                assert_eq!(
                    p[i].op, k[i].op,
                    "alter_param changed the op: {} -> {}",
                    p[i], k[i]
                );
                assert!(!ops_of(&m, c).is_empty());
            }
        }
        assert!(changed <= 1, "alter_param changed {changed} instructions");
        child.check(&SIZES).unwrap();
        visible += changed;
    }
    // A re-drawn address can land on the old one; most alterations are still visible.
    assert!(
        visible > trials * 7 / 10,
        "only {visible} of {trials} visible"
    );
}

#[test]
fn alter_param_of_an_empty_component_changes_nothing() {
    let m = mutator(&[MutationType::AlterParam], 1.0, all_ops());
    let mut rng = Rng::new(2, 1);
    for _ in 0..200 {
        let mut a = Algorithm::default();
        m.apply(MutationType::AlterParam, &mut a, &mut rng);
        assert_eq!(a, Algorithm::default());
    }
}

#[test]
fn randomize_instruction_replaces_at_most_one_instruction_with_an_allowed_op() {
    let m = mutator(&[MutationType::RandomizeInstruction], 1.0, all_ops());
    let mut rng = Rng::new(3, 1);
    let mut visible = 0;
    let trials = 2000;
    for _ in 0..trials {
        let parent = foreign_algorithm([4, 3, 6]);
        let mut child = parent.clone();
        m.apply(MutationType::RandomizeInstruction, &mut child, &mut rng);
        assert_eq!(lens(&child), lens(&parent));
        let mut changed = 0;
        for c in Component::ALL {
            for i in differing(parent.component(c), child.component(c)) {
                changed += 1;
                let op = child.component(c)[i].op;
                assert!(
                    ops_of(&m, c).contains(&op),
                    "{op:?} is not allowed in {c:?}"
                );
            }
        }
        assert!(
            changed <= 1,
            "randomize_instruction changed {changed} instructions"
        );
        child.check(&SIZES).unwrap();
        visible += changed;
    }
    // The parent holds only an op no list allows, so every replacement is visible.
    assert_eq!(visible, trials);
}

#[test]
fn randomize_component_function_rewrites_one_component_with_allowed_ops_and_keeps_its_size() {
    let m = mutator(&[MutationType::RandomizeComponentFunction], 1.0, all_ops());
    let mut rng = Rng::new(4, 1);
    let mut seen = [0usize; 3];
    for _ in 0..600 {
        let parent = foreign_algorithm([4, 3, 6]);
        let mut child = parent.clone();
        m.apply(
            MutationType::RandomizeComponentFunction,
            &mut child,
            &mut rng,
        );
        assert_eq!(lens(&child), lens(&parent));
        let changed = changed_components(&parent, &child);
        assert_eq!(changed.len(), 1, "{changed:?}");
        let c = changed[0];
        seen[c as usize] += 1;
        assert!(
            child
                .component(c)
                .iter()
                .all(|i| ops_of(&m, c).contains(&i.op)),
            "{c:?} kept an instruction with a disallowed op:\n{child}"
        );
        child.check(&SIZES).unwrap();
    }
    assert!(seen.iter().all(|&n| n > 100), "{seen:?}");
}

#[test]
fn identity_changes_nothing() {
    let m = mutator(&[MutationType::Identity], 1.0, all_ops());
    let mut rng = Rng::new(5, 1);
    for _ in 0..500 {
        let parent = random_algorithm(&m, [4, 2, 6], &mut rng);
        let mut child = parent.clone();
        m.apply(MutationType::Identity, &mut child, &mut rng);
        assert_eq!(child, parent);
        assert_eq!(m.child(&parent, &mut rng), parent);
    }
}

#[test]
fn insert_adds_one_allowed_instruction_to_one_component() {
    let m = mutator(&[MutationType::InsertInstruction], 1.0, all_ops());
    let mut rng = Rng::new(6, 1);
    let mut positions = std::collections::BTreeSet::new();
    for _ in 0..1000 {
        // Below every max (8, 5, 12) by at least 2.
        let parent = foreign_algorithm([3, 2, 5]);
        let mut child = parent.clone();
        m.apply(MutationType::InsertInstruction, &mut child, &mut rng);
        let changed = changed_components(&parent, &child);
        assert_eq!(changed.len(), 1, "{changed:?}");
        let c = changed[0];
        let at = inserted_at(parent.component(c), child.component(c))
            .unwrap_or_else(|| panic!("not a single insertion in {c:?}:\n{child}"));
        assert!(ops_of(&m, c).contains(&child.component(c)[at].op));
        positions.insert((c, at));
        child.check(&SIZES).unwrap();
    }
    // Every position, the end included, is used: 4 + 3 + 6 of them.
    assert_eq!(positions.len(), 4 + 3 + 6, "{positions:?}");
}

#[test]
fn insert_reaches_max_but_never_exceeds_it() {
    // The engine documents size_max as the most instructions inserts make, so a component one
    // below max grows to max (the original stopped at max - 1, SPEC 8.3 QUIRK) and stops there.
    let m = mutator(&[MutationType::InsertInstruction], 1.0, all_ops());
    let mut rng = Rng::new(7, 1);
    let below = foreign_algorithm([7, 4, 11]);
    let mut grown = 0;
    for _ in 0..300 {
        let mut a = below.clone();
        m.apply(MutationType::InsertInstruction, &mut a, &mut rng);
        let l = lens(&a);
        assert!(l[0] <= 8 && l[1] <= 5 && l[2] <= 12, "{l:?}");
        grown += usize::from(a != below);
    }
    assert_eq!(grown, 300);
    let full = foreign_algorithm([8, 5, 12]);
    for _ in 0..300 {
        let mut a = full.clone();
        m.apply(MutationType::InsertInstruction, &mut a, &mut rng);
        assert_eq!(a, full, "an insert grew a component at its max");
    }
}

#[test]
fn remove_takes_one_instruction_from_one_component() {
    let m = mutator(&[MutationType::RemoveInstruction], 1.0, all_ops());
    let mut rng = Rng::new(8, 1);
    let mut positions = std::collections::BTreeSet::new();
    for _ in 0..1000 {
        let parent = random_algorithm(&m, [5, 4, 7], &mut rng);
        let mut child = parent.clone();
        m.apply(MutationType::RemoveInstruction, &mut child, &mut rng);
        let changed = changed_components(&parent, &child);
        assert!(changed.len() <= 1, "{changed:?}");
        let lp = lens(&parent);
        let lc = lens(&child);
        let shrunk: Vec<usize> = (0..3).filter(|&i| lc[i] != lp[i]).collect();
        assert_eq!(shrunk.len(), 1, "{lp:?} -> {lc:?}");
        let c = Component::ALL[shrunk[0]];
        let at = inserted_at(child.component(c), parent.component(c))
            .unwrap_or_else(|| panic!("not a single removal in {c:?}"));
        // Positions are ambiguous when neighbours are equal; random neighbours rarely are.
        positions.insert((c, at));
    }
    assert!(positions.len() >= 5 + 4 + 7 - 1, "{positions:?}");
}

#[test]
fn remove_never_goes_below_min() {
    let m = mutator(&[MutationType::RemoveInstruction], 1.0, all_ops());
    let mut rng = Rng::new(9, 1);
    let at_min = foreign_algorithm([2, 1, 3]);
    for _ in 0..300 {
        let mut a = at_min.clone();
        m.apply(MutationType::RemoveInstruction, &mut a, &mut rng);
        assert_eq!(a, at_min, "a remove shrank a component at its min");
    }
    // Also an empty component with min 0.
    let mut m0 = m.clone();
    m0.limits = [(0, 3); 3];
    for _ in 0..100 {
        let mut a = Algorithm::default();
        m0.apply(MutationType::RemoveInstruction, &mut a, &mut rng);
        assert_eq!(a, Algorithm::default());
    }
}

#[test]
fn insert_and_remove_keep_sizes_within_limits() {
    let types = [
        MutationType::InsertInstruction,
        MutationType::RemoveInstruction,
        MutationType::TradeInstruction,
    ];
    let m = mutator(&types, 1.0, all_ops());
    let mut rng = Rng::new(10, 1);
    let mut reached = [(usize::MAX, 0usize); 3];
    for start in 0..10 {
        let sizes = [
            rng.range(2, 9),  // setup [2, 8]
            rng.range(1, 6),  // predict [1, 5]
            rng.range(3, 13), // learn [3, 12]
        ];
        let mut a = random_algorithm(&m, sizes, &mut rng);
        for step in 0..1000 {
            a = m.child(&a, &mut rng);
            let l = lens(&a);
            for (i, &(min, max)) in m.limits.iter().enumerate() {
                assert!(
                    (min..=max).contains(&l[i]),
                    "start {start}, step {step}: {:?} has {} instructions, outside [{min}, {max}]",
                    Component::ALL[i],
                    l[i]
                );
                reached[i] = (reached[i].0.min(l[i]), reached[i].1.max(l[i]));
            }
        }
        a.check(&SIZES).unwrap();
    }
    // The walks touch both ends of these small ranges: min and max are both reachable.
    for (i, &(min, max)) in m.limits.iter().enumerate() {
        assert_eq!(reached[i], (min, max), "component {i}");
    }
}

#[test]
fn trade_keeps_sizes_and_changes_one_component() {
    let m = mutator(&[MutationType::TradeInstruction], 1.0, all_ops());
    let mut rng = Rng::new(11, 1);
    let mut visible = 0;
    for _ in 0..1000 {
        let parent = foreign_algorithm([4, 3, 6]);
        let mut child = parent.clone();
        m.apply(MutationType::TradeInstruction, &mut child, &mut rng);
        assert_eq!(lens(&child), lens(&parent));
        let changed = changed_components(&parent, &child);
        assert!(changed.len() <= 1, "{changed:?}");
        if let Some(&c) = changed.first() {
            visible += 1;
            let new: Vec<_> = child
                .component(c)
                .iter()
                .filter(|i| **i != FOREIGN)
                .collect();
            assert_eq!(new.len(), 1, "{child}");
            assert!(ops_of(&m, c).contains(&new[0].op));
        }
    }
    // The new instruction survives unless it is the one removed (1 / (size + 1)).
    assert!(visible > 700, "{visible}");
    // At the max, a trade keeps the size too (no size check).
    let full = foreign_algorithm([8, 5, 12]);
    for _ in 0..100 {
        let mut a = full.clone();
        m.apply(MutationType::TradeInstruction, &mut a, &mut rng);
        assert_eq!(lens(&a), [8, 5, 12]);
    }
}

#[test]
fn randomize_algorithm_rewrites_every_component_with_ops() {
    let m = mutator(
        &[MutationType::RandomizeAlgorithm],
        1.0,
        [SETUP_OPS, &[], LEARN_OPS],
    );
    let mut rng = Rng::new(12, 1);
    for _ in 0..300 {
        let parent = foreign_algorithm([4, 3, 6]);
        let mut child = parent.clone();
        m.apply(MutationType::RandomizeAlgorithm, &mut child, &mut rng);
        assert_eq!(lens(&child), lens(&parent));
        assert!(
            child.setup.iter().all(|i| SETUP_OPS.contains(&i.op)),
            "{child}"
        );
        assert!(
            child.learn.iter().all(|i| LEARN_OPS.contains(&i.op)),
            "{child}"
        );
        assert_eq!(child.predict, parent.predict);
        child.check(&SIZES).unwrap();
    }
}

#[test]
fn a_component_without_ops_is_never_changed() {
    for frozen in Component::ALL {
        let mut ops = all_ops();
        ops[frozen as usize] = &[];
        let m = mutator(&ALL_TYPES, 1.0, ops);
        let mut rng = Rng::new(13, frozen as u64);
        let mut a = random_algorithm(&m, [5, 3, 7], &mut rng);
        let original = a.component(frozen).clone();
        let mut changes = 0;
        for _ in 0..2000 {
            let kind = ALL_TYPES[rng.below(ALL_TYPES.len())];
            let before = a.clone();
            m.apply(kind, &mut a, &mut rng);
            changes += usize::from(a != before);
            assert_eq!(
                a.component(frozen),
                &original,
                "{kind:?} changed {frozen:?}"
            );
        }
        assert!(changes > 1000, "{changes}");
        // Through child() as well.
        for _ in 0..500 {
            a = m.child(&a, &mut rng);
            assert_eq!(a.component(frozen), &original);
        }
    }
}

#[test]
fn a_mutator_without_any_ops_changes_nothing() {
    let m = mutator(&ALL_TYPES, 1.0, [&[], &[], &[]]);
    let mut rng = Rng::new(14, 1);
    let parent = foreign_algorithm([3, 2, 4]);
    for _ in 0..500 {
        assert_eq!(m.child(&parent, &mut rng), parent);
    }
}

#[test]
fn the_component_is_uniform_among_those_with_ops() {
    let m = mutator(
        &[MutationType::InsertInstruction],
        1.0,
        [SETUP_OPS, &[], LEARN_OPS],
    );
    let mut rng = Rng::new(15, 1);
    let parent = foreign_algorithm([3, 2, 4]);
    let mut counts = [0usize; 3];
    let n = 4000;
    for _ in 0..n {
        let mut a = parent.clone();
        m.apply(MutationType::InsertInstruction, &mut a, &mut rng);
        for c in changed_components(&parent, &a) {
            counts[c as usize] += 1;
        }
    }
    assert_eq!(counts[1], 0);
    assert_eq!(counts[0] + counts[2], n);
    // Binomial(4000, 1/2): sd ≈ 32; allow 5 sd.
    assert!(counts[0].abs_diff(n / 2) < 160, "{counts:?}");
}

#[test]
fn repeated_types_weigh_the_choice() {
    let types = [
        MutationType::Identity,
        MutationType::Identity,
        MutationType::Identity,
        MutationType::InsertInstruction,
    ];
    let m = mutator(&types, 1.0, all_ops());
    let mut rng = Rng::new(16, 1);
    let parent = foreign_algorithm([3, 2, 4]);
    let n = 4000;
    let grown = (0..n)
        .filter(|_| m.child(&parent, &mut rng).len() > parent.len())
        .count();
    // Binomial(4000, 1/4): sd ≈ 27; allow 5 sd.
    assert!(grown.abs_diff(n / 4) < 140, "{grown}");
}

#[test]
fn mutate_prob_zero_gives_identical_children() {
    let m = mutator(&ALL_TYPES, 0.0, all_ops());
    let mut rng = Rng::new(17, 1);
    for _ in 0..2000 {
        let parent = random_algorithm(&m, [4, 3, 6], &mut rng);
        assert_eq!(m.child(&parent, &mut rng), parent);
    }
}

#[test]
fn mutate_prob_one_always_mutates() {
    let types: Vec<MutationType> = ALL_TYPES
        .into_iter()
        .filter(|t| *t != MutationType::Identity)
        .collect();
    let m = mutator(&types, 1.0, all_ops());
    let mut rng = Rng::new(18, 1);
    let n = 2000;
    let mut differ = 0;
    for _ in 0..n {
        let parent = random_algorithm(&m, [4, 3, 6], &mut rng);
        differ += usize::from(m.child(&parent, &mut rng) != parent);
    }
    assert!(
        differ * 100 > n * 95,
        "only {differ} of {n} children differ"
    );
}

#[test]
fn mutate_prob_one_draws_no_probability() {
    // SPEC 8.2: with mutate_prob >= 1 the child is one mutation, no coin flip first.
    let m = mutator(&ALL_TYPES, 1.0, all_ops());
    let mut rng = Rng::new(19, 1);
    for seed in 0..200 {
        let parent = random_algorithm(&m, [4, 3, 6], &mut rng);
        let mut a = Rng::new(seed, 7);
        let mut b = a.clone();
        let child = m.child(&parent, &mut a);
        let mut direct = parent.clone();
        m.mutate(&mut direct, &mut b);
        assert_eq!(child, direct);
        assert_eq!(a, b);
    }
}

#[test]
fn mutate_prob_half_mutates_about_half_the_children() {
    // Randomizing a whole component of >= 3 instructions is visible with near certainty.
    let m = mutator(&[MutationType::RandomizeComponentFunction], 0.5, all_ops());
    let mut rng = Rng::new(20, 1);
    let parent = random_algorithm(&m, [4, 3, 6], &mut rng);
    let n = 4000;
    let differ = (0..n)
        .filter(|_| m.child(&parent, &mut rng) != parent)
        .count();
    // Binomial(4000, 1/2): sd ≈ 32; allow 5 sd.
    assert!(differ.abs_diff(n / 2) < 160, "{differ} of {n} mutated");
    let m = Mutator {
        mutate_prob: 0.2,
        ..m
    };
    let differ = (0..n)
        .filter(|_| m.child(&parent, &mut rng) != parent)
        .count();
    // Binomial(4000, 1/5): sd ≈ 25; allow 5 sd.
    assert!(differ.abs_diff(n / 5) < 130, "{differ} of {n} mutated");
}

#[test]
fn new_instructions_never_write_the_label_or_the_features() {
    // Every op anywhere, small memories (so s0/v0 would be hit often if allowed).
    let every: Vec<Op> = Op::ALL.to_vec();
    let sizes = MemorySizes {
        scalars: 2,
        vectors: 2,
        matrices: 1,
    };
    let m = Mutator {
        types: ALL_TYPES.to_vec(),
        mutate_prob: 1.0,
        ops: [every.clone(), every.clone(), every],
        limits: [(1, 6), (1, 6), (1, 6)],
        sizes,
    };
    let mut rng = Rng::new(21, 1);
    let mut a = Algorithm {
        setup: vec![Instruction::NO_OP; 3],
        predict: vec![Instruction::NO_OP; 3],
        learn: vec![Instruction::NO_OP; 3],
    };
    let mut writes = 0;
    for _ in 0..5000 {
        a = m.child(&a, &mut rng);
        a.check(&sizes).unwrap();
        for c in Component::ALL {
            for ins in a.component(c) {
                if let Some((kind, out)) = ins.writes() {
                    writes += 1;
                    if kind != Kind::Matrix {
                        assert!(out >= 1, "{ins} writes {}0", kind.letter());
                    }
                }
            }
        }
    }
    assert!(writes > 10_000, "{writes}");
}
