//! Functional equivalence checking (SPEC 7): a cache of fitnesses keyed by a probe's errors.

use schnellru::{ByLength, LruMap};
use serde::{Deserialize, Serialize};

/// FEC settings (`search.fec` in a config).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FecConfig {
    /// Training examples the probe runs (at most 100).
    pub num_train_examples: usize,
    /// Validation examples the probe scores (at most 100).
    pub num_valid_examples: usize,
    /// Entries the cache keeps (more than 1).
    #[serde(default = "default_cache_size")]
    pub cache_size: usize,
    /// An entry is forgotten after this many hits, so that it is evaluated afresh (0: never).
    #[serde(default = "default_forget_every")]
    pub forget_every: u64,
}

fn default_cache_size() -> usize {
    100_000
}

fn default_forget_every() -> u64 {
    100
}

impl FecConfig {
    /// Checks the ranges, naming the key.
    pub fn check(&self) -> Result<(), String> {
        if self.num_train_examples == 0 || self.num_train_examples > 100 {
            return Err(format!(
                "search.fec.num_train_examples = {} is out of range 1..=100",
                self.num_train_examples
            ));
        }
        if self.num_valid_examples == 0 || self.num_valid_examples > 100 {
            return Err(format!(
                "search.fec.num_valid_examples = {} is out of range 1..=100",
                self.num_valid_examples
            ));
        }
        if self.cache_size < 2 {
            return Err("search.fec.cache_size must be more than 1".into());
        }
        if self.forget_every == 1 {
            return Err("search.fec.forget_every must be 0 (never) or more than 1".into());
        }
        Ok(())
    }
}

/// One mixing step of the probe hash: cheap, and every input bit reaches the result.
#[inline(always)]
fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(27) ^ (h >> 31)
}

/// The bits of an error as hashed: ±0 hash alike.
#[inline(always)]
fn error_bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// The FEC key of a probe: its exact errors, the task and the training budget.
pub fn probe_hash(train: &[f64], valid: &[f64], task_index: usize, num_train: usize) -> u64 {
    let mut h = ProbeHasher::new();
    for &e in train {
        h.train(e);
    }
    for &e in valid {
        h.valid(e);
    }
    h.finish(task_index, num_train)
}

/// A [`probe_hash`] built one error at a time, as a probe records them (train errors first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeHasher {
    h: u64,
    train: u32,
}

impl Default for ProbeHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl ProbeHasher {
    /// The hash of no errors yet.
    #[inline(always)]
    pub fn new() -> Self {
        ProbeHasher { h: 42, train: 0 }
    }

    /// Adds the error of a training step.
    #[inline(always)]
    pub fn train(&mut self, error: f64) {
        self.h = mix(self.h, error_bits(error));
        self.train += 1;
    }

    /// Adds the error of a validation example (after every training error).
    #[inline(always)]
    pub fn valid(&mut self, error: f64) {
        self.h = mix(self.h, error_bits(error));
    }

    /// How many training errors were added.
    pub fn train_count(&self) -> usize {
        self.train as usize
    }

    /// The key, for the task and the training budget.
    pub fn finish(&self, task_index: usize, num_train: usize) -> u64 {
        let h = mix(self.h, u64::from(self.train));
        let h = mix(h, task_index as u64);
        mix(h, num_train as u64).wrapping_mul(0xff51_afd7_ed55_8ccd)
    }
}

/// Counts of cache use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FecStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that needed a full evaluation.
    pub misses: u64,
}

impl FecStats {
    /// The fraction of lookups that hit, 0 when there were none.
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

/// A hasher for keys that are already well-mixed hashes: one multiply of their low 64 bits.
///
/// The multiply matters: a FEC shard holds only hashes with the same top bits, and the hash
/// table takes its per-entry tag from the top bits, so unmixed keys would all share a tag.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64) ^ (self.0 >> 56).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 ^= x;
    }
    fn write_u128(&mut self, x: u128) {
        self.0 ^= x as u64 ^ (x >> 64) as u64;
    }
}

/// Builds [`PassThrough`] hashers for caches keyed by hashes.
pub type KeyHasher = std::hash::BuildHasherDefault<PassThrough>;

/// The contents of a FEC cache, as a checkpoint holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FecState {
    /// (hash, fitness, uses), least recently used first.
    pub entries: Vec<(u64, f64, u64)>,
    /// Hit and miss counts.
    pub stats: FecStats,
}

/// Entries an LRU map gets room for when it is made, at most: a cache fills up early in a
/// search, and growing it step by step rehashes every entry each time.
const RESERVED_ENTRIES: usize = 1 << 17;

/// An empty LRU map with room for its limit's entries (up to [`RESERVED_ENTRIES`]).
pub(crate) fn reserved<K: PartialEq + std::hash::Hash, V, S: std::hash::BuildHasher>(
    mut map: LruMap<K, V, ByLength, S>,
) -> LruMap<K, V, ByLength, S> {
    let limit = usize::try_from(map.limiter().max_length()).unwrap_or(usize::MAX);
    map.reserve_or_panic(limit.min(RESERVED_ENTRIES));
    map
}

/// Shards of the FEC cache; a hash's shard is its top bits.
pub const SHARDS: usize = 64;

/// The shard a hash lives in.
#[inline]
pub fn shard_of(hash: u64) -> usize {
    (hash >> (64 - SHARDS.trailing_zeros())) as usize
}

/// One shard: an LRU cache of fitnesses by probe hash, with its use counts.
pub struct Shard {
    entries: LruMap<u64, (f64, u64), ByLength, KeyHasher>,
    forget_every: u64,
    /// Hit and miss counts of this shard.
    pub stats: FecStats,
}

impl Shard {
    /// The cached fitness for a hash; a hit moves it to the front and may forget it.
    pub fn lookup(&mut self, hash: u64) -> Option<f64> {
        let Some(entry) = self.entries.get(&hash) else {
            self.stats.misses += 1;
            return None;
        };
        self.stats.hits += 1;
        entry.1 += 1;
        let fitness = entry.0;
        if self.forget_every != 0 && entry.1 >= self.forget_every {
            self.entries.remove(&hash);
        }
        Some(fitness)
    }

    /// Reads the entry of a hash, if any, without using it: brings its memory into the cache
    /// ahead of a lookup (the reads of many such calls overlap).
    #[inline]
    pub fn warm(&self, hash: u64) {
        std::hint::black_box(self.entries.peek(&hash));
    }

    /// Records a fitness, evicting the shard's least recently used entry when full.
    pub fn insert(&mut self, hash: u64, fitness: f64) {
        self.entries.insert(hash, (fitness, 1));
    }
}

/// The cache of fitnesses by probe hash: [`SHARDS`] LRU shards of `cache_size / SHARDS` entries.
///
/// A hash's fate depends only on the operations on its own shard, so a batch's operations can
/// run shard by shard, in parallel, each shard in batch order, with the result of one thread.
pub struct FecCache {
    shards: Vec<Shard>,
}

impl FecCache {
    /// An empty cache.
    pub fn new(config: &FecConfig) -> FecCache {
        let per_shard = (config.cache_size / SHARDS).max(2);
        FecCache {
            shards: (0..SHARDS)
                .map(|_| Shard {
                    entries: reserved(LruMap::with_hasher(
                        ByLength::new(u32::try_from(per_shard).unwrap_or(u32::MAX)),
                        KeyHasher::default(),
                    )),
                    forget_every: config.forget_every,
                    stats: FecStats::default(),
                })
                .collect(),
        }
    }

    /// The shards, to be worked on one thread each.
    pub fn shards_mut(&mut self) -> &mut [Shard] {
        &mut self.shards
    }

    /// The cached fitness for a hash; a hit moves it to the front and may forget it.
    pub fn lookup(&mut self, hash: u64) -> Option<f64> {
        self.shards[shard_of(hash)].lookup(hash)
    }

    /// Records a fitness, evicting the least recently used entry of its shard when full.
    pub fn insert(&mut self, hash: u64, fitness: f64) {
        self.shards[shard_of(hash)].insert(hash, fitness)
    }

    /// Whether the cache holds a hash (the recency order is left as it is).
    pub fn contains(&self, hash: u64) -> bool {
        self.shards[shard_of(hash)].entries.peek(&hash).is_some()
    }

    /// Hit and miss counts over all shards.
    pub fn stats(&self) -> FecStats {
        self.shards
            .iter()
            .fold(FecStats::default(), |a, s| FecStats {
                hits: a.hits + s.stats.hits,
                misses: a.misses + s.stats.misses,
            })
    }

    /// The entries and counts, for a checkpoint.
    pub fn state(&self) -> FecState {
        FecState {
            entries: self
                .shards
                .iter()
                .flat_map(|s| s.entries.iter().rev().map(|(&h, &(f, uses))| (h, f, uses)))
                .collect(),
            stats: self.stats(),
        }
    }

    /// Puts back the entries and counts of [`FecCache::state`].
    pub fn restore(&mut self, state: &FecState) {
        for s in &mut self.shards {
            s.entries.clear();
            s.stats = FecStats::default();
        }
        for &(h, f, uses) in &state.entries {
            self.shards[shard_of(h)].entries.insert(h, (f, uses));
        }
        // The counts are kept whole in the first shard; only their sum is ever read.
        self.shards[0].stats = state.stats;
    }

    /// Number of entries held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.entries.len()).sum()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(cache_size: usize, forget_every: u64) -> FecConfig {
        FecConfig {
            num_train_examples: 10,
            num_valid_examples: 10,
            cache_size,
            forget_every,
        }
    }

    #[test]
    fn hash_depends_on_every_input_and_treats_signed_zeros_alike() {
        let base = probe_hash(&[0.5, 1.0], &[0.25], 0, 100);
        assert_ne!(base, probe_hash(&[0.5, 1.0], &[0.26], 0, 100));
        assert_ne!(base, probe_hash(&[0.5, 1.0], &[0.25], 1, 100));
        assert_ne!(base, probe_hash(&[0.5, 1.0], &[0.25], 0, 0));
        assert_ne!(base, probe_hash(&[1.0, 0.5], &[0.25], 0, 100));
        assert_eq!(
            probe_hash(&[0.0], &[], 0, 1),
            probe_hash(&[-0.0], &[], 0, 1)
        );
    }

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut c = FecCache::new(&config(2, 0));
        c.insert(1, 0.1);
        c.insert(2, 0.2);
        assert_eq!(c.lookup(1), Some(0.1));
        c.insert(3, 0.3);
        assert_eq!(c.lookup(2), None);
        assert_eq!(c.lookup(1), Some(0.1));
        assert_eq!(c.lookup(3), Some(0.3));
        assert_eq!(c.stats(), FecStats { hits: 3, misses: 1 });
    }

    #[test]
    fn entries_are_forgotten_after_forget_every_uses() {
        let mut c = FecCache::new(&config(10, 3));
        c.insert(7, 0.7);
        assert_eq!(c.lookup(7), Some(0.7)); // count 2
        assert_eq!(c.lookup(7), Some(0.7)); // count 3: answered, then forgotten
        assert_eq!(c.lookup(7), None);
    }
}
