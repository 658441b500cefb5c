//! Random instructions and parameter alteration (SPEC 2.2, 2.4, 2.6).

use super::Instruction;
use crate::memory::MemorySizes;
use crate::ops::{Class, Data, Kind, Op};
use crate::rng::Rng;

/// Probability that a log-scale-or-flip alteration flips the sign instead.
const SIGN_FLIP_PROB: f64 = 0.1;

fn random_input(kind: Kind, sizes: &MemorySizes, rng: &mut Rng) -> u16 {
    rng.below(sizes.of(kind) as usize) as u16
}

/// Outputs never overwrite the label s0 or the features v0.
fn random_output(kind: Kind, sizes: &MemorySizes, rng: &mut Rng) -> u16 {
    let lo = match kind {
        Kind::Scalar | Kind::Vector => 1,
        Kind::Matrix => 0,
    };
    let n = sizes.of(kind) as usize;
    if n <= lo {
        return lo as u16;
    }
    rng.range(lo, n) as u16
}

fn log_scale(x: f64, noise: f64) -> f64 {
    if x > 0.0 {
        (x.ln() + noise).exp()
    } else {
        -((-x).ln() + noise).exp()
    }
}

// A step that would overflow to infinity keeps the old value (drawing the same numbers), so
// that every program the search makes can be written out and read back (JSON has no infinity).
fn log_scale_or_flip_f64(x: f64, rng: &mut Rng) -> f64 {
    if rng.chance(SIGN_FLIP_PROB) {
        -x
    } else {
        let y = log_scale(x, rng.normal());
        if y.is_finite() { y } else { x }
    }
}

fn log_scale_or_flip_f32(x: f32, rng: &mut Rng) -> f32 {
    if rng.chance(SIGN_FLIP_PROB) {
        -x
    } else {
        let y = log_scale(x as f64, rng.normal()) as f32;
        if y.is_finite() { y } else { x }
    }
}

impl Instruction {
    /// A new instruction of `op` with random addresses and data.
    pub fn random(op: Op, sizes: &MemorySizes, rng: &mut Rng) -> Instruction {
        let info = op.info();
        let mut ins = Instruction {
            op,
            ..Instruction::NO_OP
        };
        match op.class() {
            Class::NoOp => {}
            Class::Set => {
                ins.out = random_output(info.output.expect("set ops write"), sizes, rng);
                ins.randomize_data(rng);
            }
            Class::Unary | Class::Binary => {
                ins.in1 = random_input(info.inputs[0], sizes, rng);
                if let Some(&k) = info.inputs.get(1) {
                    ins.in2 = random_input(k, sizes, rng);
                }
                ins.out = random_output(info.output.expect("ops write"), sizes, rng);
            }
        }
        ins
    }

    fn randomize_data(&mut self, rng: &mut Rng) {
        match self.op.info().data {
            Data::None => {}
            Data::Constant => self.activation = rng.uniform_open(-1.0, 1.0),
            Data::VectorElement => {
                self.data[0] = rng.unit_f32();
                self.data[1] = rng.uniform_f32(-1.0, 1.0);
            }
            Data::MatrixElement => {
                self.data[0] = rng.unit_f32();
                self.data[1] = rng.unit_f32();
                self.data[2] = rng.uniform_f32(-1.0, 1.0);
            }
            Data::Gaussian => {
                self.data[0] = rng.uniform_f32(-1.0, 1.0);
                self.data[1] = rng.unit_f32();
            }
            Data::Uniform => {
                self.data[0] = rng.uniform_f32(-1.0, 1.0);
                self.data[1] = rng.uniform_f32(-1.0, 1.0);
            }
        }
    }

    /// A copy with one parameter changed: an address re-drawn or the data altered.
    pub fn altered(&self, sizes: &MemorySizes, rng: &mut Rng) -> Instruction {
        let mut ins = *self;
        let info = self.op.info();
        match self.op.class() {
            Class::NoOp => {}
            Class::Set => {
                if rng.chance(0.5) {
                    ins.out = random_output(info.output.expect("set ops write"), sizes, rng);
                } else {
                    ins.alter_data(rng);
                }
            }
            Class::Unary => {
                if rng.chance(0.5) {
                    ins.in1 = random_input(info.inputs[0], sizes, rng);
                } else {
                    ins.out = random_output(info.output.expect("ops write"), sizes, rng);
                }
            }
            Class::Binary => match rng.below(3) {
                0 => ins.in1 = random_input(info.inputs[0], sizes, rng),
                1 => ins.in2 = random_input(info.inputs[1], sizes, rng),
                _ => ins.out = random_output(info.output.expect("ops write"), sizes, rng),
            },
        }
        ins
    }

    fn alter_data(&mut self, rng: &mut Rng) {
        match self.op.info().data {
            Data::None => {}
            Data::Constant => self.activation = log_scale_or_flip_f64(self.activation, rng),
            Data::VectorElement => {
                if rng.chance(0.5) {
                    self.data[0] = rng.unit_f32();
                } else {
                    self.data[1] = log_scale_or_flip_f32(self.data[1], rng);
                }
            }
            Data::MatrixElement => match rng.below(3) {
                0 => self.data[0] = rng.unit_f32(),
                1 => self.data[1] = rng.unit_f32(),
                _ => self.data[2] = log_scale_or_flip_f32(self.data[2], rng),
            },
            Data::Gaussian => {
                if rng.chance(0.5) {
                    self.data[0] = log_scale_or_flip_f32(self.data[0], rng);
                } else {
                    self.data[1] = log_scale(self.data[1] as f64, rng.normal()) as f32;
                }
            }
            Data::Uniform => {
                let k = if rng.chance(0.5) { 0 } else { 1 };
                self.data[k] = log_scale_or_flip_f32(self.data[k], rng);
                let (a, b) = (self.data[0], self.data[1]);
                self.data[0] = a.min(b);
                self.data[1] = a.max(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_outputs_never_write_label_or_features() {
        let sizes = MemorySizes::default();
        let mut rng = Rng::new(1, 2);
        for _ in 0..2000 {
            for op in Op::ALL {
                let ins = Instruction::random(*op, &sizes, &mut rng);
                ins.check(&sizes).unwrap();
                if let Some((kind, out)) = ins.writes()
                    && kind != Kind::Matrix
                {
                    assert!(out >= 1, "{ins}");
                }
            }
        }
    }

    #[test]
    fn altered_values_stay_finite() {
        let mut rng = Rng::new(5, 6);
        let (mut x, mut y) = (f64::MAX / 2.0, f32::MAX / 2.0);
        for _ in 0..2000 {
            x = log_scale_or_flip_f64(x, &mut rng).abs();
            y = log_scale_or_flip_f32(y, &mut rng).abs();
            assert!(x.is_finite() && y.is_finite(), "{x} {y}");
        }
    }

    #[test]
    fn log_scale_keeps_sign_and_zero() {
        assert_eq!(log_scale(0.0, 0.3), -0.0);
        assert!(log_scale(2.0, 0.5) > 0.0);
        assert!((log_scale(-2.0, 0.0) + 2.0).abs() < 1e-12);
    }

    #[test]
    fn altered_uniform_ranges_are_sorted() {
        let sizes = MemorySizes::default();
        let mut rng = Rng::new(3, 4);
        for _ in 0..500 {
            let ins = Instruction::set(Op::ScalarUniformSet, 2, [0.7, -0.2, 0.0]);
            let alt = ins.altered(&sizes, &mut rng);
            if alt.data != ins.data {
                assert!(alt.data[0] <= alt.data[1], "{alt}");
            }
        }
    }
}
