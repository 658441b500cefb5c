//! Evaluation: an algorithm scored on every task of a collection, with FEC and a train budget.

pub mod baselines;
pub mod budget;
pub mod executor;
pub mod fec;
pub mod lanes;
pub mod metrics;
pub mod test_split;
pub mod workers;

pub use budget::{BudgetConfig, Cost, TrainBudget};
pub use executor::{
    Errors, Outcome, Trace, execute, flip_and_squash, probe, replay, resume, trace,
    train_then_predict,
};
pub use fec::{FecCache, FecConfig, FecState, FecStats};
pub use metrics::Metrics;
pub use workers::Workers;

use crate::interpreter::Program;
use crate::liveness;
use crate::memory::{LaneMemory, Memory, MemorySizes};
use crate::program::{Algorithm, Component};
use crate::rng::{MtRng, offset};
use crate::tasks::Task;
use fec::KeyHasher;
use lanes::{Group, LaneScratch, NARROW, WIDE};
use schnellru::{ByLength, LruMap};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;

/// How the fitnesses of several tasks combine into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combination {
    /// The arithmetic mean.
    #[default]
    Mean,
    /// The upper median (the element at position n/2 after sorting).
    Median,
}

impl Combination {
    /// Combines task fitnesses.
    pub fn combine(self, fitnesses: &[f64]) -> f64 {
        if fitnesses.is_empty() {
            return 0.0;
        }
        match self {
            Combination::Mean => fitnesses.iter().sum::<f64>() / fitnesses.len() as f64,
            Combination::Median => {
                let mut sorted = fitnesses.to_vec();
                sorted.sort_by(f64::total_cmp);
                sorted[sorted.len() / 2]
            }
        }
    }
}

/// Settings shared by every evaluation of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSettings {
    /// Memory sizes.
    pub sizes: MemorySizes,
    /// A training or validation error above this stops the run (fitness 0 if in the first epoch).
    pub max_abs_error: f64,
    /// How task fitnesses combine.
    pub combination: Combination,
    /// FEC, if used.
    pub fec: Option<FecConfig>,
    /// The train budget, if used.
    pub budget: Option<TrainBudget>,
    /// Entries of the cache of fitnesses by canonical program (0: off).
    pub canonical_cache: usize,
}

impl EvalSettings {
    /// Plain settings: no FEC, no budget, mean combination.
    pub fn plain(sizes: MemorySizes, max_abs_error: f64) -> Self {
        EvalSettings {
            sizes,
            max_abs_error,
            combination: Combination::Mean,
            fec: None,
            budget: None,
            canonical_cache: 0,
        }
    }
}

/// The memory and probe buffers one worker thread reuses (aligned to its own cache lines, so
/// that threads writing their own never slow each other down).
#[repr(align(128))]
struct Scratch<const F: usize> {
    sizes: MemorySizes,
    memory: Memory<F>,
    errors: Errors,
    /// The memory as the last probe's training left it.
    snapshot: Memory<F>,
    /// The same for narrow groups of tasks run side by side.
    narrow: LaneScratch<F, NARROW>,
    /// The same for wide groups, made when first needed.
    wide: Option<Box<LaneScratch<F, WIDE>>>,
}

impl<const F: usize> Scratch<F> {
    fn new(sizes: MemorySizes) -> Self {
        Scratch {
            sizes,
            memory: Memory::new(sizes),
            errors: Errors::default(),
            snapshot: Memory::new(sizes),
            narrow: LaneScratch::new(sizes),
            wide: None,
        }
    }

    /// The memory and the lane buffers of a wide group.
    fn wide(&mut self) -> (&mut Memory<F>, &mut LaneScratch<F, WIDE>) {
        let sizes = self.sizes;
        let wide = self
            .wide
            .get_or_insert_with(|| Box::new(LaneScratch::new(sizes)));
        (&mut self.memory, wide)
    }
}

/// A group of tasks run side by side, narrow or wide (see [`lanes::is_wide`]).
enum AnyGroup<const F: usize> {
    Narrow(Group<F, NARROW>),
    Wide(Group<F, WIDE>),
}

impl<const F: usize> AnyGroup<F> {
    /// The group of `tasks[range]`, as wide as its size asks.
    fn new(tasks: &[Task<F>], range: Range<usize>) -> Self {
        if lanes::is_wide(range.len()) {
            AnyGroup::Wide(Group::new(tasks, range))
        } else {
            AnyGroup::Narrow(Group::new(tasks, range))
        }
    }

    /// The group of the one task `t` in every lane, wide or narrow: for members run side by
    /// side on it (see [`lanes::execute_members`]).
    fn of_task(tasks: &[Task<F>], t: usize, wide: bool) -> Self {
        if wide {
            AnyGroup::Wide(Group::new(tasks, t..t + 1))
        } else {
            AnyGroup::Narrow(Group::new(tasks, t..t + 1))
        }
    }

    /// The tasks' positions in the list.
    fn range(&self) -> Range<usize> {
        match self {
            AnyGroup::Narrow(g) => g.range(),
            AnyGroup::Wide(g) => g.range(),
        }
    }
}

/// What one worker runs of a stage's full runs: positions in the stage's pending list.
enum Unit {
    /// One job's tasks of one lane group (or a single job and task).
    Tasks(Range<usize>),
    /// Jobs that share Predict and Learn, on one task, one per lane.
    Members(Vec<usize>),
}

impl Unit {
    /// The pending positions the unit runs, in the order of its outcomes.
    fn positions(&self) -> Vec<usize> {
        match self {
            Unit::Tasks(range) => range.clone().collect(),
            Unit::Members(ks) => ks.clone(),
        }
    }
}

/// What the FEC probe of one task found.
#[derive(Debug, Clone, Copy, Default)]
struct Probe {
    hash: u64,
    /// Training steps the probe took.
    steps: u64,
    /// Whether training diverged within the probe.
    diverged: bool,
}

/// Where one algorithm of a batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Standing {
    /// Still being evaluated.
    #[default]
    Active,
    /// Its fitness is known (a cache answered, or it stopped at a hurdle, or it finished).
    Done,
    /// The same canonical program as an earlier member of the batch: it gets that one's fitness.
    SameAs(usize),
}

/// The state of one algorithm's evaluation within a batch (buffers reused between batches).
#[derive(Default)]
#[repr(align(128))]
struct Job {
    /// The member's place in its batch.
    index: usize,
    /// The member (made by the batch's maker, or copied in).
    algorithm: Algorithm,
    /// The seed of its random ops.
    seed: u64,
    live: [Vec<bool>; 3],
    program: Program,
    cost: Option<Cost>,
    key: Option<u128>,
    probes: Vec<Probe>,
    /// Full runs made ahead of the cache decisions, for tasks whose probe the cache did not
    /// hold when the batch began.
    ahead: Vec<Option<Outcome>>,
    per_task: Vec<f64>,
    standing: Standing,
    fitness: f64,
    /// Why the algorithm cannot run on the memory, if it cannot.
    error: Option<String>,
    /// Training steps and instructions of the probes run in parallel.
    steps: u64,
    instructions: u64,
    /// A deterministic program whose predictions cannot depend on the tasks' data: its full
    /// runs are replayed from one recorded [`Trace`] per task shape.
    blind: bool,
    /// The trace of its full runs and the counts it was made for, made by the first run that
    /// needs it (the buffers are reused by the next member).
    trace: Mutex<(Option<Shape>, Trace)>,
}

/// The evaluation state kept between individuals, as a checkpoint holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluatorState {
    /// The FEC cache.
    pub fec: Option<FecState>,
    /// The canonical-program cache, least recently used first.
    pub canonical: Vec<(u128, f64)>,
    /// Training steps run so far.
    pub train_steps: u64,
    /// Evaluations answered by the canonical-program cache.
    pub canonical_hits: u64,
    /// Interpreted instructions executed so far.
    pub instructions: u64,
    /// Canonical-cache entries of the last batch not yet stored (see [`Evaluator`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred_canonical: Vec<(u128, f64)>,
    /// FEC entries of the last batch not yet stored, in batch order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred_fec: Vec<(u64, f64)>,
}

/// Scores algorithms on a fixed list of tasks of feature size `F`, one at a time or in batches
/// spread over worker threads; a batch's result never depends on the number of threads.
///
/// The cache entries a batch's last stage makes are stored at the start of the next batch,
/// while the workers make its members (which never read the caches), and before anything
/// reads the caches again; so they change no result.
pub struct Evaluator<const F: usize> {
    tasks: Vec<Task<F>>,
    settings: EvalSettings,
    fec: Option<FecCache>,
    canonical: Option<LruMap<u128, f64, ByLength, KeyHasher>>,
    workers: Workers,
    /// One per worker, made by that worker on first use (so that its buffers come from the
    /// worker's own allocation arena, away from the other workers' cache lines).
    scratch: Vec<Mutex<Option<Scratch<F>>>>,
    jobs: Vec<Job>,
    /// (job, task) pairs needing a full run, and their outcomes.
    pending: Vec<(usize, usize)>,
    outcomes: Vec<Outcome>,
    /// (job, task) pairs answered by a full run of an earlier pending pair of the batch.
    copies: Vec<(usize, usize, usize)>,
    batch_keys: HashMap<u128, usize, KeyHasher>,
    /// For each probe hash of this stage that the cache lacked, the earliest member (in batch
    /// order) known so far to have it: only that member's full run is made ahead.
    claims: Mutex<HashMap<u64, usize, KeyHasher>>,
    /// This stage's FEC operations in batch order, their decisions, and each one's place in
    /// `pending`.
    ops: Vec<FecOp>,
    decisions: Vec<Decision>,
    pending_of: Vec<usize>,
    shard_work: Vec<ShardWork>,
    /// The groups of tasks that programs without random ops run on side by side.
    groups: Vec<AnyGroup<F>>,
    /// The one-task groups members run side by side in, by (task, wide).
    member_groups: HashMap<(usize, bool), AnyGroup<F>>,
    /// Each stage's tasks split into parts (see [`lanes::split`]), by the stage's range.
    stage_parts: HashMap<(usize, usize), Vec<Part>>,
    /// The last batch's canonical-cache and FEC entries, stored when the next batch begins.
    deferred_canonical: Vec<(u128, f64)>,
    deferred_fec: Vec<(u64, f64)>,
    /// Training steps run so far, FEC probes included.
    pub train_steps: u64,
    /// Evaluations answered by the canonical-program cache.
    pub canonical_hits: u64,
    /// Interpreted instructions executed so far (no-ops and pruned instructions excluded).
    pub instructions: u64,
}

/// The random stream of task `t` in the evaluation of an individual drawn with `seed`.
fn task_rng(seed: u64, t: usize) -> MtRng {
    let mixed = seed ^ (t as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
    MtRng::new((mixed ^ (mixed >> 32)) as u32)
}

impl<const F: usize> Evaluator<F> {
    /// An evaluator of these tasks, working on the caller's thread.
    pub fn new(tasks: Vec<Task<F>>, settings: EvalSettings) -> Self {
        Self::with_workers(tasks, settings, Workers::sequential())
    }

    /// An evaluator of these tasks whose batches are spread over `workers`.
    pub fn with_workers(tasks: Vec<Task<F>>, settings: EvalSettings, workers: Workers) -> Self {
        let fec = settings.fec.as_ref().map(FecCache::new);
        let canonical = (settings.canonical_cache > 0).then(|| {
            let n = u32::try_from(settings.canonical_cache).unwrap_or(u32::MAX);
            fec::reserved(LruMap::with_hasher(ByLength::new(n), KeyHasher::default()))
        });
        let scratch = (0..workers.threads()).map(|_| Mutex::new(None)).collect();
        Evaluator {
            canonical,
            workers,
            scratch,
            jobs: Vec::new(),
            pending: Vec::new(),
            outcomes: Vec::new(),
            copies: Vec::new(),
            batch_keys: HashMap::default(),
            claims: Mutex::default(),
            ops: Vec::new(),
            decisions: Vec::new(),
            pending_of: Vec::new(),
            shard_work: (0..fec::SHARDS).map(|_| ShardWork::default()).collect(),
            groups: Vec::new(),
            member_groups: HashMap::new(),
            stage_parts: HashMap::new(),
            deferred_canonical: Vec::new(),
            deferred_fec: Vec::new(),
            canonical_hits: 0,
            instructions: 0,
            tasks,
            settings,
            fec,
            train_steps: 0,
        }
    }

    /// The tasks.
    pub fn tasks(&self) -> &[Task<F>] {
        &self.tasks
    }

    /// The settings.
    pub fn settings(&self) -> &EvalSettings {
        &self.settings
    }

    /// FEC hit and miss counts (zero without FEC).
    pub fn fec_stats(&self) -> FecStats {
        self.fec.as_ref().map(FecCache::stats).unwrap_or_default()
    }

    /// The caches and counters, for a checkpoint.
    pub fn state(&self) -> EvaluatorState {
        EvaluatorState {
            fec: self.fec.as_ref().map(FecCache::state),
            canonical: self
                .canonical
                .as_ref()
                .map(|c| c.iter().rev().map(|(k, v)| (*k, *v)).collect())
                .unwrap_or_default(),
            train_steps: self.train_steps,
            canonical_hits: self.canonical_hits,
            instructions: self.instructions,
            deferred_canonical: self.deferred_canonical.clone(),
            deferred_fec: self.deferred_fec.clone(),
        }
    }

    /// Puts back the caches and counters of [`Evaluator::state`].
    pub fn restore(&mut self, state: &EvaluatorState) {
        if let (Some(cache), Some(s)) = (self.fec.as_mut(), state.fec.as_ref()) {
            cache.restore(s);
        }
        if let Some(cache) = self.canonical.as_mut() {
            cache.clear();
            for &(k, v) in &state.canonical {
                cache.insert(k, v);
            }
        }
        self.train_steps = state.train_steps;
        self.canonical_hits = state.canonical_hits;
        self.instructions = state.instructions;
        self.deferred_canonical
            .clone_from(&state.deferred_canonical);
        self.deferred_fec.clone_from(&state.deferred_fec);
    }

    /// The combined fitness of an algorithm; `seed` feeds its random ops.
    ///
    /// Dead instructions are pruned first (random ops among them draw nothing), and an
    /// algorithm whose canonical form was seen before gets the fitness found then.
    pub fn evaluate(&mut self, algorithm: &Algorithm, seed: u64) -> Result<f64, String> {
        let mut out = Vec::with_capacity(1);
        self.evaluate_batch(
            &[(algorithm, seed)],
            std::slice::from_ref(&(0..self.tasks.len())),
            |_, _, _| true,
            &mut out,
        )?;
        Ok(out[0])
    }

    /// Evaluates a batch of (algorithm, seed) pairs into `fitnesses`, in stages of tasks.
    ///
    /// After every stage but the last, `go_on(member, stage, partial fitness)` is asked, in
    /// batch order, whether that member continues; one that does not keeps its partial
    /// fitness. The caches are consulted and filled in batch order, and a member that repeats an
    /// earlier member of the same batch (same canonical program, or same FEC probe on a task)
    /// gets that member's result, so the outcome depends on the batch only, never on the
    /// number of threads. A batch of one is the classic one-at-a-time evaluation.
    pub fn evaluate_batch(
        &mut self,
        batch: &[(&Algorithm, u64)],
        stages: &[Range<usize>],
        go_on: impl FnMut(usize, usize, f64) -> bool,
        fitnesses: &mut Vec<f64>,
    ) -> Result<(), String> {
        for (algorithm, _) in batch {
            algorithm.check(&self.settings.sizes)?;
        }
        self.evaluate_made(
            batch.len(),
            |i, out| {
                out.clone_from(batch[i].0);
                batch[i].1
            },
            stages,
            go_on,
            fitnesses,
        )
    }

    /// The algorithm that [`Evaluator::evaluate_made`] made as member `i` of the last batch; the
    /// caller may take it and leave another in its place, whose buffers the next batch reuses.
    pub fn made_mut(&mut self, i: usize) -> &mut Algorithm {
        &mut self.jobs[i].algorithm
    }

    /// As [`Evaluator::evaluate_batch`], for a batch of `n` members that `make(i, out)` writes
    /// into reused buffers (returning the member's seed), on the worker threads as the first
    /// step of their evaluation; they are left in [`Evaluator::made_mut`].
    ///
    /// The members should be valid (children of checked parents are); a live instruction
    /// whose address is beyond the memory is an error, naming it.
    pub fn evaluate_made(
        &mut self,
        n: usize,
        make: impl Fn(usize, &mut Algorithm) -> u64 + Sync + Send,
        stages: &[Range<usize>],
        mut go_on: impl FnMut(usize, usize, f64) -> bool,
        fitnesses: &mut Vec<f64>,
    ) -> Result<(), String> {
        if self.jobs.len() < n {
            self.jobs.resize_with(n, Job::default);
        }
        let Evaluator {
            tasks,
            settings,
            fec,
            canonical,
            workers,
            scratch,
            jobs,
            pending,
            outcomes,
            copies,
            batch_keys,
            claims,
            ops,
            decisions,
            pending_of,
            shard_work,
            deferred_canonical,
            deferred_fec,
            groups,
            member_groups,
            stage_parts,
            ..
        } = self;
        let jobs = &mut jobs[..n];
        let (tasks, settings, scratch, workers) = (&*tasks, &*settings, &*scratch, &*workers);

        // Make the members, compile their live parts and key them, in parallel, while the last
        // batch's cache entries are stored.
        {
            let mut indexed: Vec<(usize, &mut Job)> = jobs.iter_mut().enumerate().collect();
            let keyed = canonical.is_some();
            let deferred = !deferred_canonical.is_empty() || !deferred_fec.is_empty();
            // Entries are deferred only for a cache that exists.
            let store = || {
                if let Some(cache) = canonical.as_mut() {
                    for (key, fitness) in deferred_canonical.drain(..) {
                        cache.insert(key, fitness);
                    }
                }
                if let Some(cache) = fec.as_mut() {
                    insert_fec(cache, deferred_fec.drain(..), shard_work, workers);
                }
            };
            let mut make_all = || {
                workers.for_each(&mut indexed, |(i, job)| {
                    job.index = *i;
                    job.seed = make(*i, &mut job.algorithm);
                    prepare(job, tasks, settings, keyed);
                })
            };
            if !deferred {
                make_all();
            } else {
                workers.join(store, make_all);
            }
        }
        // The canonical cache, in batch order.
        batch_keys.clear();
        for (i, job) in jobs.iter_mut().enumerate() {
            let Some(key) = job.key else { continue };
            if let Some(&mut f) = canonical.as_mut().and_then(|c| c.get(&key)) {
                job.standing = Standing::Done;
                job.fitness = f;
                self.canonical_hits += 1;
            } else if let Some(&j) = batch_keys.get(&key) {
                job.standing = Standing::SameAs(j);
                self.canonical_hits += 1;
            } else {
                batch_keys.insert(key, i);
            }
        }

        // Compile what the canonical cache did not answer, in parallel.
        {
            let mut active: Vec<&mut Job> = jobs
                .iter_mut()
                .filter(|j| j.standing == Standing::Active)
                .collect();
            // Children of checked parents are valid by construction; the run loops rely only
            // on the compiled addresses, which are checked all the same (the whole algorithm
            // is checked, naming the bad instruction, only when they do not fit). Compiling
            // clamps index fractions, so a bad one in a live instruction cannot reach memory.
            workers.for_each(&mut active, |job| {
                compile::<F>(job);
                if !job.program.within(&settings.sizes) {
                    job.error = Some(
                        job.algorithm
                            .check(&settings.sizes)
                            .err()
                            .unwrap_or_else(|| "an address is beyond the memory".to_string()),
                    );
                }
                debug_assert!(
                    job.error.is_some() || job.algorithm.check(&settings.sizes).is_ok(),
                    "a child of checked parents is valid"
                );
            });
        }
        if let Some(e) = jobs.iter_mut().find_map(|j| j.error.take()) {
            return Err(e);
        }

        for range in stages {
            stage_parts
                .entry((range.start, range.end))
                .or_insert_with(|| {
                    lanes::split(tasks, range.clone())
                        .into_iter()
                        .map(|tasks_of| {
                            let group = (tasks_of.len() > 1).then(|| {
                                groups
                                    .iter()
                                    .position(|g| g.range() == tasks_of)
                                    .unwrap_or_else(|| {
                                        groups.push(AnyGroup::new(tasks, tasks_of.clone()));
                                        groups.len() - 1
                                    })
                            });
                            Part {
                                tasks: tasks_of,
                                group,
                            }
                        })
                        .collect()
                });
        }
        let (groups, stage_parts) = (&*groups, &*stage_parts);
        for (stage, range) in stages.iter().enumerate() {
            let parts = &stage_parts[&(range.start, range.end)];
            // Probe the members still going (a repeat of an earlier member waits for its
            // result instead), in parallel.
            if fec.is_some() {
                let cache = fec.as_ref();
                claims.get_mut().expect("claims lock").clear();
                let claims = &*claims;
                let mut active: Vec<&mut Job> = jobs
                    .iter_mut()
                    .filter(|j| j.standing == Standing::Active)
                    .collect();
                // The costliest first, so that the stage does not end waiting for one. One
                // thread keeps batch order, so that the earliest member with a probe hash
                // claims its full run first and no run made ahead is wasted.
                if workers.threads() > 1 {
                    active.sort_unstable_by_key(|j| std::cmp::Reverse(j.program.step_cost()));
                }
                workers.for_each(&mut active, |job| {
                    let mut guard = scratch[workers.index()].lock().expect("scratch lock");
                    let s = guard.get_or_insert_with(|| Scratch::new(settings.sizes));
                    let ahead = cache.map(|cache| Ahead { cache, claims });
                    probe_range(job, tasks, groups, parts, settings, s, ahead);
                });
                for job in active {
                    self.train_steps += job.steps;
                    self.instructions += job.instructions;
                }
            }
            // FEC lookups in batch order, shard by shard (in parallel); what is left needs a
            // full run.
            pending.clear();
            copies.clear();
            match fec.as_mut() {
                None => {
                    for (i, job) in jobs.iter().enumerate() {
                        if job.standing == Standing::Active {
                            pending.extend(range.clone().map(|t| (i, t)));
                        }
                    }
                }
                Some(cache) => {
                    ops.clear();
                    for (i, job) in jobs.iter().enumerate() {
                        if job.standing != Standing::Active {
                            continue;
                        }
                        for t in range.clone() {
                            let probe = job.probes[t];
                            ops.push(FecOp {
                                job: i,
                                task: t,
                                hash: probe.hash,
                                steps: probe.steps,
                                diverged: probe.diverged && !job.program.is_random(),
                            });
                        }
                    }
                    decide_fec(cache, ops, shard_work, decisions, workers);
                    pending_of.clear();
                    pending_of.resize(ops.len(), usize::MAX);
                    for (k, (op, decision)) in ops.iter().zip(decisions.iter()).enumerate() {
                        let job = &mut jobs[op.job];
                        match *decision {
                            Decision::Hit(f) => job.per_task[op.task] = f,
                            Decision::Diverged => {
                                // A deterministic program that diverged within the probe
                                // diverges at the same step of the full run's first epoch:
                                // fitness 0, and the skipped run's steps counted as taken.
                                self.train_steps += op.steps;
                                job.per_task[op.task] = 0.0;
                            }
                            Decision::Run => {
                                pending_of[k] = pending.len();
                                pending.push((op.job, op.task));
                            }
                            Decision::SameAs(first) => {
                                copies.push((op.job, op.task, pending_of[first]));
                            }
                        }
                    }
                }
            }
            // Full runs, in parallel (unless they were all made ahead).
            let jobs_ref = &*jobs;
            if pending.iter().all(|&(i, t)| jobs_ref[i].ahead[t].is_some()) {
                outcomes.clear();
                outcomes.extend(
                    pending
                        .iter()
                        .map(|&(i, t)| jobs_ref[i].ahead[t].expect("made ahead")),
                );
            } else {
                let jobs = jobs_ref;
                // A job's pending tasks of one lane group run together (each lane with its
                // task's random stream), unless the job is replayed from a trace (see `lanes`).
                let mut group_of: Vec<Option<usize>> = vec![None; tasks.len()];
                for part in parts {
                    for t in part.tasks.clone() {
                        group_of[t] = part.group;
                    }
                }
                let key = |(i, t): (usize, usize)| {
                    let job = &jobs[i];
                    (!job.blind && job.ahead[t].is_none())
                        .then_some(group_of[t])
                        .flatten()
                };
                let mut units: Vec<Unit> = Vec::new();
                let mut k = 0;
                while k < pending.len() {
                    let mut end = k + 1;
                    if let Some(g) = key(pending[k]) {
                        while end < pending.len()
                            && pending[end].0 == pending[k].0
                            && key(pending[end]) == Some(g)
                        {
                            end += 1;
                        }
                    }
                    units.push(Unit::Tasks(k..end));
                    k = end;
                }
                let units = members_side_by_side(units, pending, jobs, tasks, settings, &group_of);
                for unit in &units {
                    if let Unit::Members(ks) = unit {
                        let t = pending[ks[0]].1;
                        let wide = lanes::is_wide(ks.len());
                        member_groups
                            .entry((t, wide))
                            .or_insert_with(|| AnyGroup::of_task(tasks, t, wide));
                    }
                }
                let member_groups = &*member_groups;
                let mut results: Vec<[Outcome; WIDE]> = Vec::new();
                workers.map(&units, &mut results, |unit| {
                    let mut out = [Outcome::default(); WIDE];
                    let mut guard = scratch[workers.index()].lock().expect("scratch lock");
                    let s = guard.get_or_insert_with(|| Scratch::new(settings.sizes));
                    let unit = match unit {
                        Unit::Members(ks) => {
                            let t = pending[ks[0]].1;
                            let group = &member_groups[&(t, lanes::is_wide(ks.len()))];
                            execute_members(ks, pending, jobs, group, tasks, settings, s, &mut out);
                            return out;
                        }
                        Unit::Tasks(unit) => unit,
                    };
                    let (i, t) = pending[unit.start];
                    let job = &jobs[i];
                    if let Some(outcome) = job.ahead[t] {
                        out[0] = outcome;
                        return out;
                    }
                    match key((i, t)) {
                        Some(g) if unit.len() > 1 => {
                            let unit = &pending[unit.clone()];
                            match &groups[g] {
                                AnyGroup::Narrow(group) => {
                                    let memory = &mut s.narrow.memory;
                                    execute_group(
                                        job, group, tasks, settings, memory, unit, &mut out,
                                    );
                                }
                                AnyGroup::Wide(group) => {
                                    let memory = &mut s.wide().1.memory;
                                    execute_group(
                                        job, group, tasks, settings, memory, unit, &mut out,
                                    );
                                }
                            }
                        }
                        _ => out[0] = job_run(job, tasks, t, settings, &mut s.memory),
                    }
                    out
                });
                outcomes.clear();
                outcomes.resize(pending.len(), Outcome::default());
                for (unit, result) in units.iter().zip(&results) {
                    for (k, outcome) in unit.positions().into_iter().zip(result) {
                        outcomes[k] = *outcome;
                    }
                }
            }
            for (&(i, t), outcome) in pending.iter().zip(outcomes.iter()) {
                let job = &mut jobs[i];
                job.per_task[t] = outcome.fitness;
                self.train_steps += outcome.train_steps;
                self.instructions += outcome.instructions(&job.program);
            }
            let last = stage + 1 == stages.len();
            if let Some(cache) = fec.as_mut() {
                let jobs = &*jobs;
                let results = pending
                    .iter()
                    .zip(outcomes.iter())
                    .map(|(&(i, t), o)| (jobs[i].probes[t].hash, o.fitness));
                // A later stage of this batch reads these entries; the last stage's wait for
                // the next batch.
                if last {
                    deferred_fec.extend(results);
                } else {
                    insert_fec(cache, results, shard_work, workers);
                }
            }
            for &(i, t, p) in copies.iter() {
                jobs[i].per_task[t] = outcomes[p].fitness;
            }
            // The hurdle after this stage, in batch order.
            for (i, job) in jobs.iter_mut().enumerate() {
                if job.standing != Standing::Active {
                    continue;
                }
                let partial = settings.combination.combine(&job.per_task[..range.end]);
                if last {
                    job.standing = Standing::Done;
                    job.fitness = partial;
                    // A member has a key only when the canonical cache is on.
                    if let Some(key) = job.key {
                        deferred_canonical.push((key, partial));
                    }
                } else if !go_on(i, stage, partial) {
                    job.standing = Standing::Done;
                    job.fitness = partial;
                }
            }
        }
        fitnesses.clear();
        for i in 0..n {
            let f = match jobs[i].standing {
                Standing::SameAs(j) => jobs[j].fitness,
                _ => jobs[i].fitness,
            };
            fitnesses.push(f);
        }
        Ok(())
    }

    /// The fitness of an algorithm on each task of a range of the task list (no pruning, no
    /// caches).
    pub fn evaluate_tasks(
        &mut self,
        algorithm: &Algorithm,
        seed: u64,
        range: Range<usize>,
    ) -> Result<Vec<f64>, String> {
        let program = Program::compile(algorithm, &self.settings.sizes, F)?;
        let cost = self.settings.budget.map(|_| Cost::of_algorithm(algorithm));
        let mut guard = self.scratch[0].lock().expect("scratch lock");
        let s = guard.get_or_insert_with(|| Scratch::new(self.settings.sizes));
        let mut fitnesses = Vec::with_capacity(range.len());
        for t in range {
            let outcome = full_run(
                &program,
                cost,
                &self.tasks,
                t,
                seed,
                &self.settings,
                &mut s.memory,
            );
            self.train_steps += outcome.train_steps;
            self.instructions += outcome.instructions(&program);
            fitnesses.push(outcome.fitness);
        }
        Ok(fitnesses)
    }
}

/// The training examples a task grants an algorithm of this cost under the budget.
fn train_examples<const F: usize>(
    settings: &EvalSettings,
    cost: Option<Cost>,
    task: &Task<F>,
) -> usize {
    let max_train = task.max_train_examples();
    match (settings.budget, cost) {
        (Some(budget), Some(cost)) => budget.train_examples(cost, max_train),
        _ => max_train,
    }
}

/// The full run of a program on task `t`: its budgeted training examples, every validation
/// example, and the random stream of the individual's `seed` on that task.
fn full_run<const F: usize>(
    program: &Program,
    cost: Option<Cost>,
    tasks: &[Task<F>],
    t: usize,
    seed: u64,
    settings: &EvalSettings,
    memory: &mut Memory<F>,
) -> Outcome {
    let task = &tasks[t];
    execute(
        program,
        task,
        train_examples(settings, cost, task),
        task.valid_steps(),
        settings.max_abs_error,
        memory,
        &mut task_rng(seed, t),
        None,
    )
}

/// The counts a trace is recorded for: examples per epoch, training steps, validation steps.
type Shape = (usize, usize, usize);

/// The full run of a job's program on task `t` (see [`full_run`]); a blind program's run is
/// replayed from its trace instead, with the same outcome.
fn job_run<const F: usize>(
    job: &Job,
    tasks: &[Task<F>],
    t: usize,
    settings: &EvalSettings,
    memory: &mut Memory<F>,
) -> Outcome {
    let task = &tasks[t];
    let n = train_examples(settings, job.cost, task);
    if job.blind {
        let shape = (task.train_labels.len(), n, task.valid_steps());
        let mut guard = job.trace.lock().expect("trace lock");
        let (made_for, recorded) = &mut *guard;
        if *made_for != Some(shape) {
            trace(&job.program, task, n, shape.2, memory, recorded);
            *made_for = Some(shape);
        }
        if let Some(outcome) = replay(recorded, task, n, shape.2, settings.max_abs_error, None) {
            return outcome;
        }
    }
    full_run(&job.program, job.cost, tasks, t, job.seed, settings, memory)
}

/// Finds a job's live part and computes its canonical key (when `keyed`); [`compile`] follows
/// for a job that the canonical cache does not answer.
fn prepare<const F: usize>(job: &mut Job, tasks: &[Task<F>], settings: &EvalSettings, keyed: bool) {
    let algorithm = &job.algorithm;
    liveness::live_into(algorithm, &settings.sizes, &mut job.live);
    job.cost = settings.budget.map(|_| Cost::of_algorithm(algorithm));
    let random = Component::ALL.into_iter().zip(&job.live).any(|(c, flags)| {
        algorithm
            .component(c)
            .iter()
            .zip(flags)
            .any(|(ins, &live)| live && ins.op.info().random)
    });
    job.standing = Standing::Active;
    job.error = None;
    job.fitness = 0.0;
    job.steps = 0;
    job.instructions = 0;
    job.per_task.clear();
    job.per_task.resize(tasks.len(), 0.0);
    job.probes.clear();
    job.probes.resize(tasks.len(), Probe::default());
    job.ahead.clear();
    job.ahead.resize(tasks.len(), None);
    // A program whose live part draws random numbers has a noisy fitness: caching its first
    // evaluation would freeze a lucky (or unlucky) draw for good, so it is evaluated afresh.
    job.key = (keyed && !random).then(|| {
        // The budget judges the unpruned algorithm, so its verdicts are part of the key.
        let verdicts = match (settings.budget, job.cost) {
            (Some(b), Some(c)) => tasks.iter().fold(1u128, |acc, t| {
                let n = t.max_train_examples();
                acc.rotate_left(1) ^ u128::from(b.train_examples(c, n) == 0)
            }),
            _ => 0,
        };
        liveness::canonical_key_of_live(&job.algorithm, &settings.sizes, &job.live) ^ verdicts
    });
}

/// Compiles a job's live part (found by [`prepare`]).
fn compile<const F: usize>(job: &mut Job) {
    let algorithm = &job.algorithm;
    job.program.compile_live(algorithm, &job.live, F);
    job.blind = !job.program.is_random() && !liveness::prediction_reads_data(algorithm, &job.live);
    job.trace.get_mut().expect("trace lock").0 = None;
}

/// Runs the FEC probe of a job on a range of tasks.
///
/// With `ahead`, a task whose probe the cache does not hold also gets its full run now, while
/// the workers are busy anyway: it will most likely be needed once the cache is consulted in
/// batch order. Such runs change no result; one that turns out unneeded is dropped uncounted.
///
/// A program without random ops runs on groups of up to [`WIDE`] tasks of one shape at once
/// (see [`lanes`]), with the same outcomes as one task at a time.
#[allow(clippy::too_many_arguments)]
fn probe_range<const F: usize>(
    job: &mut Job,
    tasks: &[Task<F>],
    groups: &[AnyGroup<F>],
    parts: &[Part],
    settings: &EvalSettings,
    scratch: &mut Scratch<F>,
    ahead: Option<Ahead>,
) {
    if settings.fec.is_none() {
        return;
    }
    job.steps = 0;
    job.instructions = 0;
    for part in parts {
        match part.group {
            Some(g) if !job.program.is_random() => match &groups[g] {
                AnyGroup::Narrow(group) => {
                    let (memory, lane) = (&mut scratch.memory, &mut scratch.narrow);
                    probe_group(job, tasks, group, settings, memory, lane, ahead.as_ref());
                }
                AnyGroup::Wide(group) => {
                    let (memory, lane) = scratch.wide();
                    probe_group(job, tasks, group, settings, memory, lane, ahead.as_ref());
                }
            },
            _ => {
                for t in part.tasks.clone() {
                    probe_task(job, tasks, settings, t, scratch, ahead.as_ref());
                }
            }
        }
    }
}

/// The FEC probe of one task (see [`probe_range`]).
fn probe_task<const F: usize>(
    job: &mut Job,
    tasks: &[Task<F>],
    settings: &EvalSettings,
    t: usize,
    scratch: &mut Scratch<F>,
    ahead: Option<&Ahead>,
) {
    let Some(fec) = settings.fec.as_ref() else {
        return;
    };
    let task = &tasks[t];
    let n = train_examples(settings, job.cost, task);
    let probe_steps = fec.num_train_examples.min(n);
    let mut probe_rng = MtRng::new(offset::FEC_PROBE);
    let (outcome, snapshot) = probe(
        &job.program,
        task,
        probe_steps,
        fec.num_valid_examples,
        settings.max_abs_error,
        &mut scratch.memory,
        &mut probe_rng,
        &mut scratch.errors,
        // Only a full run made ahead, of a program without random ops that is not replayed
        // from a trace, can go on from the snapshot.
        (ahead.is_some() && !job.blind && !job.program.is_random())
            .then_some(&mut scratch.snapshot),
    );
    job.steps += outcome.train_steps;
    job.instructions += outcome.instructions(&job.program);
    let probe = Probe {
        hash: fec::probe_hash(&scratch.errors.train, &scratch.errors.valid, task.index, n),
        steps: outcome.train_steps,
        diverged: scratch.errors.train.len() < probe_steps,
    };
    job.probes[t] = probe;
    if let Some(ahead) = ahead
        && (!probe.diverged || job.program.is_random())
        && ahead.wants(probe.hash, job.index)
    {
        // A program without random ops repeats its probe's training steps exactly, so its
        // full run goes on from where the probe's training ended.
        job.ahead[t] = Some(if snapshot {
            resume(
                &job.program,
                task,
                &scratch.snapshot,
                probe_steps,
                n,
                task.valid_steps(),
                settings.max_abs_error,
                &mut scratch.memory,
                &mut probe_rng,
            )
        } else {
            job_run(job, tasks, t, settings, &mut scratch.memory)
        });
    }
}

/// The full runs of a job on a lane group, each lane with its task's random stream: the
/// outcomes of the `unit`'s (job, task) pairs, in order, into `out`.
/// The units with the single runs that can go side by side gathered: jobs with the same
/// Predict and Learn (Setups may differ), the same train budget, on a task of their own (no
/// lane group), each run in full (not replayed, not made ahead); up to a wide group's width of
/// them per unit, in batch order. Every lane computes what the job's single run computes.
fn members_side_by_side<const F: usize>(
    units: Vec<Unit>,
    pending: &[(usize, usize)],
    jobs: &[Job],
    tasks: &[Task<F>],
    settings: &EvalSettings,
    group_of: &[Option<usize>],
) -> Vec<Unit> {
    let width = if F <= lanes::WIDE_MAX_FEATURES {
        WIDE
    } else {
        NARROW
    };
    let alone = |unit: &Unit| match unit {
        Unit::Tasks(r) if r.len() == 1 => {
            let (i, t) = pending[r.start];
            let job = &jobs[i];
            (!job.blind && job.ahead[t].is_none() && group_of[t].is_none()).then_some(r.start)
        }
        _ => None,
    };
    let mut out = Vec::with_capacity(units.len());
    // Open buckets by (task, budget): the positions gathered so far.
    let mut open: HashMap<(usize, usize), Vec<Vec<usize>>> = HashMap::new();
    for unit in units {
        let Some(k) = alone(&unit) else {
            out.push(unit);
            continue;
        };
        let (i, t) = pending[k];
        let n = train_examples(settings, jobs[i].cost, &tasks[t]);
        let buckets = open.entry((t, n)).or_default();
        let program = &jobs[i].program;
        match buckets
            .iter_mut()
            .find(|b| b.len() < width && jobs[pending[b[0]].0].program.same_train_loop(program))
        {
            Some(bucket) => bucket.push(k),
            None => buckets.push(vec![k]),
        }
    }
    let mut buckets: Vec<Vec<usize>> = open.into_values().flatten().collect();
    buckets.sort_unstable_by_key(|b| b[0]);
    for b in buckets {
        if lanes::group_pays::<F>(b.len()) && b.len() > 1 {
            out.push(Unit::Members(b));
        } else {
            out.extend(b.into_iter().map(|k| Unit::Tasks(k..k + 1)));
        }
    }
    out
}

/// The full runs of the jobs at pending positions `ks` (sharing Predict and Learn, on one
/// task) side by side, one job per lane, each with its own random stream.
#[allow(clippy::too_many_arguments)]
fn execute_members<const F: usize>(
    ks: &[usize],
    pending: &[(usize, usize)],
    jobs: &[Job],
    group: &AnyGroup<F>,
    tasks: &[Task<F>],
    settings: &EvalSettings,
    scratch: &mut Scratch<F>,
    out: &mut [Outcome; WIDE],
) {
    let t = pending[ks[0]].1;
    let task = &tasks[t];
    let first = &jobs[pending[ks[0]].0];
    let n = train_examples(settings, first.cost, task);
    let programs: Vec<&Program> = ks.iter().map(|&k| &jobs[pending[k].0].program).collect();
    let stream = |l: usize| {
        let job = &jobs[pending[ks[l.min(ks.len() - 1)]].0];
        task_rng(job.seed, t)
    };
    let (v, e) = (task.valid_steps(), settings.max_abs_error);
    match group {
        AnyGroup::Narrow(g) => {
            let mut rngs: [MtRng; NARROW] = std::array::from_fn(stream);
            let memory = &mut scratch.narrow.memory;
            let o = lanes::execute_members(&programs, g, tasks, n, v, e, memory, &mut rngs);
            out[..NARROW].copy_from_slice(&o);
        }
        AnyGroup::Wide(g) => {
            let mut rngs: [MtRng; WIDE] = std::array::from_fn(stream);
            let memory = &mut scratch.wide().1.memory;
            *out = lanes::execute_members(&programs, g, tasks, n, v, e, memory, &mut rngs);
        }
    }
}

fn execute_group<const F: usize, const L: usize>(
    job: &Job,
    group: &Group<F, L>,
    tasks: &[Task<F>],
    settings: &EvalSettings,
    memory: &mut LaneMemory<F, L>,
    unit: &[(usize, usize)],
    out: &mut [Outcome],
) {
    let g = group.range();
    let first = &tasks[g.start];
    let mut rngs: [MtRng; L] =
        std::array::from_fn(|l| task_rng(job.seed, (g.start + l).min(g.end - 1)));
    let lanes = lanes::execute_lanes(
        &job.program,
        group,
        tasks,
        train_examples(settings, job.cost, first),
        first.valid_steps(),
        settings.max_abs_error,
        memory,
        &mut rngs,
    );
    for (slot, &(_, t)) in out.iter_mut().zip(unit) {
        *slot = lanes[t - g.start];
    }
}

/// The FEC probes of a group of tasks of one shape, run side by side, for a program without
/// random ops (see [`probe_range`]); the same outcomes as [`probe_task`] on each.
fn probe_group<const F: usize, const L: usize>(
    job: &mut Job,
    tasks: &[Task<F>],
    group: &Group<F, L>,
    settings: &EvalSettings,
    memory: &mut Memory<F>,
    lane: &mut LaneScratch<F, L>,
    ahead: Option<&Ahead>,
) {
    let Some(fec) = settings.fec.as_ref() else {
        return;
    };
    let range = group.range();
    let first = &tasks[range.start];
    let n = train_examples(settings, job.cost, first);
    let probe_steps = fec.num_train_examples.min(n);
    let probed = lanes::probe_lanes(
        &job.program,
        group,
        tasks,
        probe_steps,
        fec.num_valid_examples,
        settings.max_abs_error,
        &mut lane.memory,
        &mut lane.hashes,
        (ahead.is_some() && !job.blind).then_some(&mut lane.snapshot),
    );
    for (l, t) in range.clone().enumerate() {
        let (outcome, _) = probed[l];
        let hash = &lane.hashes[l];
        job.steps += outcome.train_steps;
        job.instructions += outcome.instructions(&job.program);
        job.probes[t] = Probe {
            hash: hash.finish(tasks[t].index, n),
            steps: outcome.train_steps,
            diverged: hash.train_count() < probe_steps,
        };
    }
    let Some(ahead) = ahead else {
        return;
    };
    // The cache lookups first, all at once: each is a few cache misses, which then overlap.
    let cached: [bool; L] = std::array::from_fn(|l| {
        range
            .clone()
            .nth(l)
            .is_none_or(|t| ahead.cache.contains(job.probes[t].hash))
    });
    let mut resumed = [false; L];
    for (l, t) in range.clone().enumerate() {
        let probe = job.probes[t];
        if !probe.diverged && !cached[l] && ahead.claim(probe.hash, job.index) {
            if probed[l].1 {
                resumed[l] = true;
            } else {
                job.ahead[t] = Some(job_run(job, tasks, t, settings, memory));
            }
        }
    }
    if resumed.contains(&true) {
        let outcomes = lanes::resume_lanes(
            &job.program,
            group,
            tasks,
            &lane.snapshot,
            probe_steps,
            n,
            first.valid_steps(),
            settings.max_abs_error,
            &mut lane.memory,
        );
        for (l, t) in range.enumerate() {
            if resumed[l] {
                job.ahead[t] = Some(outcomes[l]);
            }
        }
    }
}

/// Consecutive tasks of one shape in a stage (see [`lanes::split`]), and the index of their
/// lane group when there are several.
#[derive(Debug, Clone)]
struct Part {
    tasks: Range<usize>,
    group: Option<usize>,
}

/// What a probe needs to decide whether to make a full run ahead of the cache decisions.
struct Ahead<'a> {
    /// The cache as the stage began.
    cache: &'a FecCache,
    /// The earliest member seen so far for each missing hash.
    claims: &'a Mutex<HashMap<u64, usize, KeyHasher>>,
}

impl Ahead<'_> {
    /// Whether member `index` should make the full run for `hash` ahead: the cache lacks it
    /// and no earlier member of the batch claimed it.
    fn wants(&self, hash: u64, index: usize) -> bool {
        !self.cache.contains(hash) && self.claim(hash, index)
    }

    /// Whether member `index` should run ahead for `hash`: not when an earlier member of the
    /// batch has the same hash, since only the earliest one's run will be used.
    fn claim(&self, hash: u64, index: usize) -> bool {
        let mut claims = self.claims.lock().expect("claims lock");
        match claims.get(&hash) {
            Some(&first) if first < index => false,
            _ => {
                claims.insert(hash, index);
                true
            }
        }
    }
}

/// One FEC lookup of a batch: a member's probe on a task.
#[derive(Debug, Clone, Copy)]
struct FecOp {
    job: usize,
    task: usize,
    hash: u64,
    /// Training steps of the probe.
    steps: u64,
    /// A deterministic program that diverged within the probe.
    diverged: bool,
}

/// What the cache decided for one [`FecOp`].
#[derive(Debug, Clone, Copy, Default)]
enum Decision {
    /// The cache held the fitness.
    Hit(f64),
    /// Diverged within the probe: fitness 0 (now cached).
    Diverged,
    /// Needs a full run.
    #[default]
    Run,
    /// The same probe as an earlier operation of the batch that needs a full run: its result.
    SameAs(usize),
}

/// One shard's part of a batch: its operations (indices into the batch's list) in order, and
/// what it decided (reused between batches).
#[derive(Default)]
struct ShardWork {
    ops: Vec<usize>,
    decided: Vec<(usize, Decision)>,
    first_run: HashMap<u64, usize, KeyHasher>,
    inserts: Vec<(u64, f64)>,
}

/// Decides every operation of a batch, each shard on its own in batch order (in parallel).
fn decide_fec(
    cache: &mut FecCache,
    ops: &[FecOp],
    work: &mut [ShardWork],
    decisions: &mut Vec<Decision>,
    workers: &Workers,
) {
    for w in work.iter_mut() {
        w.ops.clear();
        w.decided.clear();
        w.first_run.clear();
    }
    for (k, op) in ops.iter().enumerate() {
        work[fec::shard_of(op.hash)].ops.push(k);
    }
    let mut pairs: Vec<(&mut fec::Shard, &mut ShardWork)> =
        cache.shards_mut().iter_mut().zip(work.iter_mut()).collect();
    workers.for_each(&mut pairs, |(shard, w)| {
        // Touch every entry first: those reads overlap, where the lookups below, each waiting
        // for the memory of the one before, would not.
        for &k in &w.ops {
            shard.warm(ops[k].hash);
        }
        for &k in &w.ops {
            let op = ops[k];
            let decision = if let Some(&first) = w.first_run.get(&op.hash) {
                shard.stats.hits += 1;
                Decision::SameAs(first)
            } else if let Some(f) = shard.lookup(op.hash) {
                Decision::Hit(f)
            } else if op.diverged {
                shard.insert(op.hash, 0.0);
                Decision::Diverged
            } else {
                w.first_run.insert(op.hash, k);
                Decision::Run
            };
            w.decided.push((k, decision));
        }
    });
    decisions.clear();
    decisions.resize(ops.len(), Decision::Run);
    for w in work.iter() {
        for &(k, d) in &w.decided {
            decisions[k] = d;
        }
    }
}

/// Caches the fitnesses of a batch's full runs, each shard in batch order (in parallel).
fn insert_fec(
    cache: &mut FecCache,
    results: impl Iterator<Item = (u64, f64)>,
    work: &mut [ShardWork],
    workers: &Workers,
) {
    for w in work.iter_mut() {
        w.inserts.clear();
    }
    for (hash, fitness) in results {
        work[fec::shard_of(hash)].inserts.push((hash, fitness));
    }
    let mut pairs: Vec<(&mut fec::Shard, &mut ShardWork)> =
        cache.shards_mut().iter_mut().zip(work.iter_mut()).collect();
    workers.for_each(&mut pairs, |(shard, w)| {
        for &(hash, fitness) in &w.inserts {
            shard.insert(hash, fitness);
        }
    });
}
