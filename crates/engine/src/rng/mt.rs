//! The original's random streams: `std::mt19937` with the draws of absl 20220623 (Gaussian,
//! uniform) and libstdc++ 12 (`uniform_int_distribution`, `std::shuffle`) over it.
//!
//! Generated tasks, epoch orders and the random ops of the interpreter draw from these streams,
//! so that the same seeds give the original's numbers bit for bit (reference/original/README.md
//! states every rule; the tests check them against numbers the original printed).

use super::ziggurat;
use rand_mt::Mt;

/// An mt19937 stream, seeded on its first draw (making one that never draws costs nothing).
#[derive(Clone, Debug)]
pub struct MtRng {
    seed: u32,
    state: Option<Box<Mt>>,
    used: u64,
}

/// Two streams are equal when they will draw the same numbers: same seed, same outputs drawn.
impl PartialEq for MtRng {
    fn eq(&self, other: &MtRng) -> bool {
        (self.seed, self.used) == (other.seed, other.used)
    }
}

impl Eq for MtRng {}

impl MtRng {
    /// The stream `std::mt19937(seed)` makes.
    pub fn new(seed: u32) -> MtRng {
        MtRng {
            seed,
            state: None,
            used: 0,
        }
    }

    /// The next raw 32-bit output.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.used += 1;
        let seed = self.seed;
        self.state
            .get_or_insert_with(|| Box::new(Mt::new(seed)))
            .next_u32()
    }

    /// How many 32-bit outputs the stream has drawn.
    pub fn outputs_used(&self) -> u64 {
        self.used
    }

    /// A 64-bit word as absl's `FastUniformBits<uint64_t>` makes it: two outputs, first high.
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let high = self.next_u32() as u64;
        (high << 32) | self.next_u32() as u64
    }

    /// A draw from Normal(mean, sd) as the original's `GaussianActivation` makes it.
    pub fn gaussian(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.standard_normal()
    }

    /// A uniform draw in the open interval (lo, hi) as the original's `UniformActivation` makes
    /// it (`absl::Uniform<double>(IntervalOpen, lo, hi)`); `lo` when the interval is empty or
    /// inverted.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        let a = next_after(lo, hi);
        let range = hi - a;
        if !(a <= hi && range.is_finite()) {
            return lo;
        }
        loop {
            let r = a + real(self.next_u64(), Sign::Positive, true) * range;
            if r < hi || range <= 0.0 {
                return r;
            }
        }
    }

    /// A uniform integer in `[0, n)` as libstdc++ 12's `uniform_int_distribution` draws it from
    /// a 32-bit generator (Lemire's method, one output at a time); `n` must be in `1..=2^32`.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!((1..=1 << 32).contains(&n));
        let mut product = self.next_u32() as u64 * n;
        let mut low = product & 0xFFFF_FFFF;
        if low < n {
            let threshold = (1u64 << 32).wrapping_sub(n) % n;
            while low < threshold {
                product = self.next_u32() as u64 * n;
                low = product & 0xFFFF_FFFF;
            }
        }
        product >> 32
    }

    /// Shuffles `items` as libstdc++ 12's `std::shuffle` does with this generator.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        let n = items.len() as u64;
        if n < 2 {
            return;
        }
        if u32::MAX as u64 / n >= n {
            // Two positions from one draw.
            let mut i = 1;
            if n.is_multiple_of(2) {
                let j = self.below(2) as usize;
                items.swap(1, j);
                i = 2;
            }
            while i < items.len() {
                let r = i as u64 + 1;
                let x = self.below(r * (r + 1));
                items.swap(i, (x / (r + 1)) as usize);
                items.swap(i + 1, (x % (r + 1)) as usize);
                i += 2;
            }
        } else {
            for i in 1..items.len() {
                let j = self.below(i as u64 + 1) as usize;
                items.swap(i, j);
            }
        }
    }

    /// A standard normal draw: absl's ziggurat ("zignor", 128 strips).
    fn standard_normal(&mut self) -> f64 {
        /// The start of the tail, `X[1]`.
        const R: f64 = 3.442619855899;
        /// 1 / R.
        const INV_R: f64 = 0.29047645161474317;
        loop {
            let bits = self.next_u64();
            let i = (bits & 0x7f) as usize;
            let j = real(bits, Sign::Signed, false);
            let x = j * ziggurat::X[i];
            if x.abs() < ziggurat::X[i + 1] {
                return x;
            }
            if i == 0 {
                // The tail (Marsaglia's method).
                let x = loop {
                    let x = INV_R * real(self.next_u64(), Sign::Positive, false).ln();
                    let y = -real(self.next_u64(), Sign::Positive, false).ln();
                    if 2.0 * y >= x * x {
                        break x;
                    }
                };
                return if j < 0.0 { x - R } else { R - x };
            }
            // The wedge.
            let v = real(self.next_u64(), Sign::Positive, false);
            let (f0, f1) = (ziggurat::F[i], ziggurat::F[i + 1]);
            if f1 + v * (f0 - f1) < (-0.5 * x * x).exp() {
                return x;
            }
        }
    }
}

/// Whether a real made from bits takes its sign from the top bit.
#[derive(Clone, Copy, PartialEq)]
enum Sign {
    Positive,
    Signed,
}

/// absl's `GenerateRealFromBits<double>`: a double in [0, 1) (or (-1, 1) when signed) from 64
/// random bits, keeping every bit below the leading one.
#[inline]
fn real(mut bits: u64, sign: Sign, include_zero: bool) -> f64 {
    let mut exp: i64 = 1022;
    let mut sign_bit = 0;
    if sign == Sign::Signed {
        sign_bit = bits & (1 << 63);
        bits &= !(1 << 63);
        exp += 1;
    }
    if include_zero && bits == 0 {
        return 0.0;
    }
    let clz = bits.leading_zeros();
    bits <<= if include_zero { clz } else { clz & 63 };
    exp -= clz as i64;
    let mantissa = (bits >> 11) & ((1 << 52) - 1);
    f64::from_bits(sign_bit | ((exp as u64) << 52) | mantissa)
}

/// C's `nextafter(from, to)`: the next double after `from` towards `to`.
fn next_after(from: f64, to: f64) -> f64 {
    if from.is_nan() || to.is_nan() {
        return f64::NAN;
    }
    if from == to {
        return to;
    }
    if from == 0.0 {
        let tiny = f64::from_bits(1);
        return if to > 0.0 { tiny } else { -tiny };
    }
    let bits = from.to_bits();
    let away_from_zero = (to > from) == (from > 0.0);
    f64::from_bits(if away_from_zero { bits + 1 } else { bits - 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_after_steps_one_ulp_either_way() {
        assert_eq!(next_after(1.0, 2.0), 1.0 + f64::EPSILON);
        assert_eq!(next_after(1.0, 0.0), 1.0 - f64::EPSILON / 2.0);
        assert_eq!(next_after(-1.0, 0.0), -1.0 + f64::EPSILON / 2.0);
        assert_eq!(next_after(0.0, -1.0), -f64::from_bits(1));
        assert_eq!(next_after(3.0, 3.0), 3.0);
    }

    #[test]
    fn reals_from_bits_keep_the_low_bits_and_the_sign() {
        assert_eq!(
            real(u64::MAX, Sign::Positive, true),
            1.0 - f64::EPSILON / 2.0
        );
        assert_eq!(real(1 << 63, Sign::Positive, true), 0.5);
        assert_eq!(real(0, Sign::Positive, true), 0.0);
        assert_eq!(real(1 << 62, Sign::Signed, false), 0.5);
        assert_eq!(real((1 << 63) | (1 << 62), Sign::Signed, false), -0.5);
        assert!(real(0, Sign::Positive, false) > 0.0);
    }

    #[test]
    fn empty_and_inverted_uniform_intervals_give_their_low_end() {
        let mut rng = MtRng::new(1);
        assert_eq!(rng.uniform(2.0, 2.0), 2.0);
        assert_eq!(rng.uniform(3.0, 1.0), 3.0);
        let x = rng.uniform(-1.0, 1.0);
        assert!(x > -1.0 && x < 1.0);
    }

    #[test]
    fn a_stream_that_never_draws_is_not_seeded() {
        let rng = MtRng::new(7);
        assert!(rng.state.is_none());
    }
}
