//! Hot loops compiled twice: for the baseline target and for AVX2, chosen at run time.
//!
//! A portable build targets x86-64 without AVX, whose vector registers hold two `f64`. The
//! train loops of [`crate::evaluation`] work on a lane of `f64` per task (4 or 12 at a time),
//! four of which fit one AVX register, so they also get a copy compiled for AVX2 that runs where the
//! CPU has it. Both
//! copies compute the same operations in the same order (no fused multiply-add), so results are
//! the same bit for bit on every machine.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set to run the baseline copies even where the CPU has AVX2.
static BASELINE_ONLY: AtomicBool = AtomicBool::new(false);

/// Makes the hot loops run their baseline copies even where the CPU has AVX2 (`true`), or
/// their AVX2 copies where it has it (`false`, the default); for comparing the two.
pub fn force_baseline(on: bool) {
    BASELINE_ONLY.store(on, Ordering::Relaxed);
}

/// Whether the hot loops run their AVX2 copies.
pub fn uses_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        !BASELINE_ONLY.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `fn $name`, which calls `$body` compiled for AVX2 when [`uses_avx2`] and for the
/// baseline target otherwise (asked on each call: one cached flag).
///
/// `$body` must be `#[inline(always)]`, and so must what it calls in its hot loop, so that each
/// copy is compiled for its target.
macro_rules! with_avx2 {
    (
        $(#[$attr:meta])*
        $vis:vis fn $name:ident<$(const $g:ident: $gt:ty),*>($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = $body:ident;
    ) => {
        $(#[$attr])*
        $vis fn $name<$(const $g: $gt),*>($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2<$(const $g: $gt),*>($($arg: $ty),*) -> $ret {
                    $body::<$($g),*>($($arg),*)
                }
                if $crate::cpu::uses_avx2() {
                    // SAFETY: the CPU has AVX2.
                    return unsafe { avx2::<$($g),*>($($arg),*) };
                }
            }
            $body::<$($g),*>($($arg),*)
        }
    };
}

pub(crate) use with_avx2;
