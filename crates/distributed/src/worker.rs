//! A worker: leases islands' rounds whose inputs are in Redis, runs them and stores the results
//! under a fencing token, until stopped (or, with `exit_when_idle`, until no run is left).

use crate::codec::{decode, encode};
use crate::keys::{Keys, RUNS};
use crate::protocol::{
    Base, Checker, Heartbeat, Job, KEEP_SECONDS, Meta, Stamp, Stamped, Status, now_ms,
};
use crate::store::{Scripts, Server, Store, Traffic, fenced, take_lease};
use crate::{Error, Result, bad};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::Workers;
use automl_zero_engine::migration::Migrant;
use automl_zero_engine::rounds::{RoundResult, RoundRunner, RoundWork, round_runner};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How a worker runs.
#[derive(Clone)]
pub struct WorkerOptions {
    /// The server.
    pub server: Server,
    /// Serve only this run (default: every run on the server).
    pub run: Option<String>,
    /// Threads to evaluate on.
    pub threads: usize,
    /// Stop when no run is left to serve.
    pub exit_when_idle: bool,
    /// Set to stop (the round in progress is abandoned, its lease released).
    pub stop: Arc<AtomicBool>,
    /// Lease time to live (ms); live workers renew every third of it.
    pub lease_ms: u64,
    /// Messages (what the worker does) on stderr.
    pub verbose: bool,
    /// Counts the traffic.
    pub traffic: Arc<Traffic>,
}

impl WorkerOptions {
    /// Options for a server, with the defaults (leases of [`lease_ms`]).
    pub fn new(server: Server) -> WorkerOptions {
        WorkerOptions {
            server,
            run: None,
            threads: 1,
            exit_when_idle: false,
            stop: Arc::new(AtomicBool::new(false)),
            lease_ms: lease_ms(),
            verbose: false,
            traffic: Arc::new(Traffic::default()),
        }
    }
}

/// Leases' time to live in ms: `AUTOML_ZERO_LEASE_MS`, or 10 s (a killed worker's round, or
/// a killed search's run, is taken up once its lease has run out).
pub fn lease_ms() -> u64 {
    std::env::var("AUTOML_ZERO_LEASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&ms| ms >= 300)
        .unwrap_or(10_000)
}

/// A worker's name: host and process.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    format!("{host}:{}", std::process::id())
}

/// What a worker keeps of a run it serves.
struct RunCtx {
    keys: Keys,
    config: Config,
    base_dir: String,
    /// The experiment the runner was built for, and the runner.
    runner: Option<(u64, Box<dyn RoundRunner>)>,
    heartbeat: Heartbeat,
}

/// A round to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pick {
    island: usize,
    round: u64,
    /// Cut after this many batches (the stop's round played again).
    after: Option<usize>,
}

/// Serves runs until stopped; returns the individuals it evaluated.
pub fn serve(opts: &WorkerOptions) -> Result<u64> {
    let mut store = opts.server.connect(opts.traffic.clone())?;
    let scripts = Scripts::default();
    let name = worker_name();
    let mut runs: HashMap<String, RunCtx> = HashMap::new();
    let (mut idle_since, mut pause) = (None::<Instant>, Duration::from_millis(2));
    let mut total = 0;
    let mut failures = 0u32;
    while !opts.stop.load(Ordering::Relaxed) {
        let step = serve_once(opts, &mut store, &scripts, &name, &mut runs);
        let (worked, open) = match step {
            Ok(x) => {
                failures = 0;
                x
            }
            Err(e @ Error::Value { .. }) => return Err(e),
            Err(e) => {
                failures += 1;
                if failures > 30 {
                    return Err(e);
                }
                eprintln!("worker {name}: {e} (trying again)");
                std::thread::sleep(Duration::from_secs(1));
                if let Ok(s) = opts.server.connect(opts.traffic.clone()) {
                    store = s;
                }
                continue;
            }
        };
        total += worked;
        if worked > 0 {
            (idle_since, pause) = (None, Duration::from_millis(2));
            continue;
        }
        let since = *idle_since.get_or_insert_with(Instant::now);
        if opts.exit_when_idle && !open && since.elapsed() > Duration::from_millis(500) {
            break;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    Ok(total)
}

/// One pass over the runs: runs one round if there is one to run. Returns the individuals
/// evaluated and whether any run is still open.
fn serve_once(
    opts: &WorkerOptions,
    store: &mut Store,
    scripts: &Scripts,
    name: &str,
    runs: &mut HashMap<String, RunCtx>,
) -> Result<(u64, bool)> {
    let names: Vec<String> = match &opts.run {
        Some(r) => vec![r.clone()],
        None => store.cmd(&[&"SMEMBERS", &RUNS])?,
    };
    let mut open = false;
    for run in names {
        let Ok(keys) = Keys::new(&run) else { continue };
        let Some(status) = store.get(&keys.status())? else {
            open |= opts.run.is_some(); // submitted soon, perhaps
            continue;
        };
        let status: Status = serde_json::from_slice(&status)
            .map_err(|e| bad(&keys.status(), format!("unreadable: {e}")))?;
        if status.state == "finished" {
            runs.remove(&run);
            continue;
        }
        open = true;
        let worked = match serve_known(opts, store, scripts, name, runs, keys) {
            // A run with a bad value is left alone when serving every run (its search says
            // what is wrong); a worker of that run alone stops on it.
            Err(e @ Error::Value { .. }) if opts.run.is_none() => {
                eprintln!("worker {name}: run {run} left alone: {e}");
                runs.remove(&run);
                std::thread::sleep(Duration::from_millis(200));
                0
            }
            other => other?,
        };
        if worked > 0 {
            return Ok((worked, true));
        }
    }
    Ok((0, open))
}

/// Serves a run, reading it first if it is new to this worker.
fn serve_known(
    opts: &WorkerOptions,
    store: &mut Store,
    scripts: &Scripts,
    name: &str,
    runs: &mut HashMap<String, RunCtx>,
    keys: Keys,
) -> Result<u64> {
    let run = keys.run().to_string();
    if !runs.contains_key(&run) {
        let ctx = load_run(store, keys, name, opts.threads)?;
        runs.insert(run.clone(), ctx);
    }
    let ctx = runs.get_mut(&run).expect("inserted above");
    serve_run(opts, store, scripts, name, ctx)
}

/// Reads a run's meta and config.
fn load_run(store: &mut Store, keys: Keys, name: &str, threads: usize) -> Result<RunCtx> {
    let key = keys.meta();
    let bytes = store
        .get(&key)?
        .ok_or_else(|| bad(&key, "missing: the run was removed"))?;
    let meta: Meta = decode(&key, &bytes)?;
    if meta.run != keys.run() {
        return Err(bad(&key, format!("the meta of run {:?}", meta.run)));
    }
    let config = meta.config(&key)?;
    let started = now_ms();
    Ok(RunCtx {
        keys,
        config,
        base_dir: meta.base_dir,
        runner: None,
        heartbeat: Heartbeat {
            name: name.to_string(),
            threads,
            started_ms: started,
            seen_ms: started,
            individuals: 0,
            busy_seconds: 0.0,
            doing: "idle".into(),
        },
    })
}

/// Runs one round of a run if one is free; returns the individuals evaluated.
fn serve_run(
    opts: &WorkerOptions,
    store: &mut Store,
    scripts: &Scripts,
    name: &str,
    ctx: &mut RunCtx,
) -> Result<u64> {
    let key = ctx.keys.job();
    let Some(bytes) = store.get(&key)? else {
        return Ok(0);
    };
    let job: Job = decode(&key, &bytes)?;
    let Some(pick) = pick(store, ctx, &job, name)? else {
        beat(store, ctx, "idle", false)?;
        return Ok(0);
    };
    let lease = ctx.keys.lease(pick.island);
    let Some(token) = take_lease(store, &ctx.keys.fence(), &lease, name, opts.lease_ms)? else {
        return Ok(0);
    };
    let outcome = run_leased(opts, store, scripts, ctx, &job, pick, &token);
    let _: i64 = store.script(&scripts.release, &[&lease], &[token.as_bytes()])?;
    outcome
}

/// The free round of the run with the fewest rounds behind it whose inputs are there.
fn pick(store: &mut Store, ctx: &RunCtx, job: &Job, name: &str) -> Result<Option<Pick>> {
    let (e, n) = (job.experiment, ctx.config.search.islands);
    let leases: Vec<String> = (0..n).map(|k| ctx.keys.lease(k)).collect();
    let leased = store.mget(&leases)?;
    // Workers start their search at different islands, so that they seldom race for one.
    let offset = name.bytes().map(usize::from).sum::<usize>() % n;
    let order = (0..n).map(|i| (i + offset) % n);
    if let Some(stop) = &job.stop {
        let lasts: Vec<String> = stop.again.iter().map(|&k| ctx.keys.last(e, k)).collect();
        let have = store.exist_each(&lasts)?;
        let free = |k: usize| leased[k].is_none();
        let mut wanted = stop
            .again
            .iter()
            .zip(&have)
            .filter(|(k, h)| !**h && free(**k));
        return Ok(wanted.next().map(|(&island, _)| Pick {
            island,
            round: stop.round,
            after: Some(stop.after),
        }));
    }
    let done = rounds_done(store, &ctx.keys, e, n)?;
    let mut best: Option<Pick> = None;
    for k in order {
        let (r, halted) = done[k];
        if halted || !inputs_ready(&done, k) || leased[k].is_some() {
            continue;
        }
        if best.is_none_or(|b| r < b.round) {
            best = Some(Pick {
                island: k,
                round: r,
                after: None,
            });
        }
    }
    Ok(best)
}

/// Whether island `k`'s next round has its inputs, given the rounds each island has done and
/// whether its last halted: the neighbour's migrants of round r - 1 are there once it has done
/// that round, unless that round was the one it halted in (it sent none: the search stops
/// there, and island `k` has no round r to play).
fn inputs_ready(done: &[(u64, bool)], k: usize) -> bool {
    let n = done.len();
    let r = done[k].0;
    let (d, neighbour_halted) = done[(k + n - 1) % n];
    r == 0 || d > r || (d == r && !neighbour_halted)
}

/// Rounds each island of experiment `e` has done, and whether its last stopped the search.
pub fn rounds_done(store: &mut Store, keys: &Keys, e: u64, n: usize) -> Result<Vec<(u64, bool)>> {
    let key = keys.rounds(e);
    let mut done = vec![(0, false); n];
    for (field, value) in store.hgetall(&key)? {
        let k: usize = field
            .parse()
            .ok()
            .filter(|&k| k < n)
            .ok_or_else(|| bad(&key, format!("field {field:?} is not an island")))?;
        let halted = value.ends_with('!');
        let r: u64 = value
            .trim_end_matches('!')
            .parse()
            .map_err(|_| bad(&key, format!("island {k}: {value:?} is not a round count")))?;
        done[k] = (r, halted);
    }
    Ok(done)
}

/// The inputs of island `k`'s round `r`: its state, its evaluator's and the migrants it gets.
pub fn round_work(
    store: &mut Store,
    keys: &Keys,
    check: &Checker,
    e: u64,
    pick: (usize, u64),
) -> Result<RoundWork> {
    let (k, r) = pick;
    let n = check.config.search.islands;
    let need = |store: &mut Store, key: String| -> Result<(String, Vec<u8>)> {
        let v = store.get(&key)?.ok_or_else(|| bad(&key, "missing"))?;
        Ok((key, v))
    };
    let (island, evaluator, incoming) = if r == 0 {
        let (key, v) = need(store, keys.base(e, k))?;
        let stamp = Stamp {
            experiment: e,
            round: 0,
            island: k,
        };
        let base: Base = check.stamped(&key, &v, stamp)?;
        check.island(&key, &base.island)?;
        (base.island, base.evaluator, Vec::new())
    } else {
        let (key, v) = need(store, keys.result(e, r - 1, k))?;
        let stamp = Stamp {
            experiment: e,
            round: r - 1,
            island: k,
        };
        let last: RoundResult = check.stamped(&key, &v, stamp)?;
        check.result(&key, &last)?;
        let from = (k + n - 1) % n;
        let (key, v) = need(store, keys.migrants(e, r - 1, from))?;
        let stamp = Stamp {
            experiment: e,
            round: r - 1,
            island: from,
        };
        let incoming: Vec<Migrant> = check.stamped(&key, &v, stamp)?;
        check.migrants(&key, &incoming)?;
        (last.island, last.evaluator, incoming)
    };
    Ok(RoundWork {
        island_index: k,
        round: r,
        island,
        evaluator,
        incoming,
        stop_after: None,
    })
}

/// Whether experiment `e` is the run's current one.
fn current(store: &mut Store, keys: &Keys, e: u64) -> Result<bool> {
    Ok(store.get(&keys.experiment())?.as_deref() == Some(e.to_string().as_bytes()))
}

/// Runs a leased round and stores its result; returns the individuals evaluated.
fn run_leased(
    opts: &WorkerOptions,
    store: &mut Store,
    scripts: &Scripts,
    ctx: &mut RunCtx,
    job: &Job,
    pick: Pick,
    token: &str,
) -> Result<u64> {
    let e = job.experiment;
    let (k, r) = (pick.island, pick.round);
    // Another worker may have stored it between the look and the lease.
    if pick.after.is_none() && rounds_done(store, &ctx.keys, e, ctx.config.search.islands)?[k].0 > r
    {
        return Ok(0);
    }
    if ctx.runner.as_ref().is_none_or(|(x, _)| *x != e) {
        let workers = Workers::new(opts.threads).map_err(Error::Other)?;
        let runner = round_runner(&ctx.config, Path::new(&ctx.base_dir), &job.specs, workers)
            .map_err(|err| Error::Other(format!("run {}: {err}", ctx.keys.run())))?;
        ctx.runner = Some((e, runner));
    }
    let check = Checker {
        run: ctx.keys.run(),
        config: &ctx.config,
    };
    let mut work = match round_work(store, &ctx.keys, &check, e, (k, r)) {
        Ok(w) => w,
        // The experiment ended (and its keys went) between the look and the lease.
        Err(_) if !current(store, &ctx.keys, e)? => return Ok(0),
        Err(err) => return Err(err),
    };
    work.stop_after = pick.after;
    if opts.verbose {
        eprintln!(
            "worker: run {} experiment {e} island {k} round {r}",
            ctx.keys.run()
        );
    }
    ctx.heartbeat.doing = format!("island {k} round {r}");
    beat(store, ctx, "", true)?;
    let started = Instant::now();
    let abort = AtomicBool::new(false);
    let runner = &mut ctx.runner.as_mut().expect("made above").1;
    let done = AtomicBool::new(false);
    let keys = &ctx.keys;
    let result = std::thread::scope(|s| {
        let renewer = s.spawn(|| renew(opts, keys, k, token, &done, &abort, (e, r)));
        let result = runner.run(work, &abort);
        done.store(true, Ordering::Relaxed);
        renewer.thread().unpark();
        let _ = renewer.join();
        result
    });
    let Ok(result) = result else {
        return Ok(0); // abandoned: the lease was lost, the experiment moved on, or stopped
    };
    let individuals: u64 = result.batches.iter().map(|b| b.count).sum();
    ctx.heartbeat.individuals += individuals;
    ctx.heartbeat.busy_seconds += started.elapsed().as_secs_f64();
    ctx.heartbeat.doing = "idle".into();
    let stored = match store_round(store, scripts, ctx, e, pick, token, &result) {
        Err(err) if fenced(&err) => {
            eprintln!("worker: island {k} round {r} not stored: {err}");
            return Ok(0);
        }
        other => other.map(|()| individuals),
    };
    beat(store, ctx, "idle", true)?;
    stored
}

/// Stores a round's result (and migrants), or a cut round's, fenced by the lease.
fn store_round(
    store: &mut Store,
    scripts: &Scripts,
    ctx: &RunCtx,
    e: u64,
    pick: Pick,
    token: &str,
    result: &RoundResult,
) -> Result<()> {
    let (k, r, keys) = (pick.island, pick.round, &ctx.keys);
    let stamp = Stamp {
        experiment: e,
        round: r,
        island: k,
    };
    let stamped = |value| Stamped {
        run: keys.run().to_string(),
        stamp,
        value,
    };
    let ttl = KEEP_SECONDS.to_string();
    let (lease, exp) = (keys.lease(k), keys.experiment());
    if pick.after.is_some() {
        let blob = encode(&stamped(result.clone()));
        let target = keys.last(e, k);
        let args: [&[u8]; 3] = [token.as_bytes(), ttl.as_bytes(), &blob];
        let _: i64 = store.script(&scripts.fenced_set, &[&lease, &target], &args)?;
        return Ok(());
    }
    let blob = encode(&stamped(result.clone()));
    let migrants = match &result.migrants {
        Some(m) => encode(&Stamped {
            run: keys.run().to_string(),
            stamp,
            value: m.clone(),
        }),
        None => Vec::new(),
    };
    let done = format!(
        "{}{}",
        r + 1,
        if result.migrants.is_some() { "" } else { "!" }
    );
    let (field, e_text) = (k.to_string(), e.to_string());
    let keys_ = [
        &lease,
        &exp,
        &keys.result(e, r, k),
        &keys.migrants(e, r, k),
        &keys.rounds(e),
    ];
    let keys_: Vec<&str> = keys_.iter().map(|s| s.as_str()).collect();
    let args: [&[u8]; 7] = [
        token.as_bytes(),
        e_text.as_bytes(),
        field.as_bytes(),
        done.as_bytes(),
        &blob,
        &migrants,
        ttl.as_bytes(),
    ];
    let _: i64 = store.script(&scripts.write_round, &keys_, &args)?;
    Ok(())
}

/// Renews island `k`'s lease every third of its time to live until `done`; sets `abort` if it
/// is lost, the experiment moves on, its search stops in an earlier round, or the worker is
/// stopped.
fn renew(
    opts: &WorkerOptions,
    keys: &Keys,
    k: usize,
    token: &str,
    done: &AtomicBool,
    abort: &AtomicBool,
    (e, r): (u64, u64),
) {
    let Ok(mut store) = opts.server.connect(opts.traffic.clone()) else {
        return;
    };
    let scripts = Scripts::default();
    let every = Duration::from_millis(opts.lease_ms / 3);
    let mut last = Instant::now();
    while !done.load(Ordering::Relaxed) {
        std::thread::park_timeout(Duration::from_millis(100));
        if done.load(Ordering::Relaxed) {
            return;
        }
        if opts.stop.load(Ordering::Relaxed) {
            abort.store(true, Ordering::Relaxed);
            return;
        }
        let stop: Result<Option<Vec<u8>>> = store.get(&keys.stop(e));
        let stops_before = |v: Vec<u8>| {
            String::from_utf8_lossy(&v)
                .parse::<u64>()
                .is_ok_and(|s| s < r)
        };
        if stop.ok().flatten().is_some_and(stops_before) {
            abort.store(true, Ordering::Relaxed);
            return;
        }
        if last.elapsed() < every {
            continue;
        }
        last = Instant::now();
        let ms = opts.lease_ms.to_string();
        let held: Result<i64> = store.script(
            &scripts.renew,
            &[&keys.lease(k)],
            &[token.as_bytes(), ms.as_bytes()],
        );
        let current: Result<Option<Vec<u8>>> = store.get(&keys.experiment());
        let moved = current
            .ok()
            .flatten()
            .is_some_and(|c| c != e.to_string().as_bytes());
        if !matches!(held, Ok(1)) || moved {
            abort.store(true, Ordering::Relaxed);
            return;
        }
    }
}

/// Writes the worker's heartbeat (at most every second unless `now`).
fn beat(store: &mut Store, ctx: &mut RunCtx, doing: &str, now: bool) -> Result<()> {
    let t = now_ms();
    if !now && t < ctx.heartbeat.seen_ms + 1000 {
        return Ok(());
    }
    ctx.heartbeat.seen_ms = t;
    if !doing.is_empty() {
        ctx.heartbeat.doing = doing.to_string();
    }
    let json = serde_json::to_string(&ctx.heartbeat).expect("heartbeats serialize");
    let key = ctx.keys.workers();
    store.cmd::<()>(&[&"HSET", &key, &ctx.heartbeat.name, &json])?;
    store.cmd::<()>(&[&"EXPIRE", &key, &KEEP_SECONDS])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::inputs_ready;

    #[test]
    fn an_island_waits_for_its_neighbours_migrants_and_not_for_a_halted_neighbour() {
        // Island 1 has done 2 rounds; its neighbour 0 has done 2 too: round 1's migrants are there.
        assert!(inputs_ready(&[(2, false), (2, false)], 1));
        // Its neighbour has done only 1: not yet.
        assert!(!inputs_ready(&[(1, false), (2, false)], 1));
        // Its neighbour halted in its round 1 (2 done, no migrants): island 1 has no round 2.
        assert!(!inputs_ready(&[(2, true), (2, false)], 1));
        // A halted neighbour's earlier migrants are there.
        assert!(inputs_ready(&[(3, true), (2, false)], 1));
        // Round 0 needs no migrants.
        assert!(inputs_ready(&[(0, false), (0, false)], 1));
    }
}
