//! Islands exchange migrants: copies of their best members sent around a ring (the paper's
//! "full method"), through an interface that a networked backend can implement.

use crate::program::Algorithm;
use serde::{Deserialize, Serialize};

/// A copy of an island's member, sent to another island.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migrant {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Its search fitness on the sending island.
    pub fitness: f64,
}

/// Carries migrants between islands.
///
/// Every exchange gets, for each island this process holds (in island order), the migrants it
/// sends, and returns, for each of them, the migrants it receives. An implementation must be
/// deterministic: what an island receives depends only on what was sent in the same round.
pub trait Exchange: Send {
    /// Sends this round's migrants and returns what each local island receives.
    fn exchange(
        &mut self,
        round: u64,
        outgoing: Vec<Vec<Migrant>>,
    ) -> Result<Vec<Vec<Migrant>>, String>;
}

/// All islands in one process, in a ring: island k sends to island k + 1, the last to the first.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalRing;

impl Exchange for LocalRing {
    fn exchange(
        &mut self,
        _round: u64,
        mut outgoing: Vec<Vec<Migrant>>,
    ) -> Result<Vec<Vec<Migrant>>, String> {
        if !outgoing.is_empty() {
            outgoing.rotate_right(1);
        }
        Ok(outgoing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_sends_each_island_to_the_next() {
        let m = |f| Migrant {
            algorithm: Algorithm::default(),
            fitness: f,
        };
        let got = LocalRing
            .exchange(0, vec![vec![m(0.0)], vec![m(1.0)], vec![m(2.0)]])
            .unwrap();
        let fitness: Vec<f64> = got.iter().map(|v| v[0].fitness).collect();
        assert_eq!(fitness, vec![2.0, 0.0, 1.0]);
    }
}
