//! `status` and `forget`: what runs a server holds, and removing a run's keys.

use crate::codec::decode;
use crate::keys::{Keys, RUNS};
use crate::protocol::{Heartbeat, Job, Meta, Status, now_ms};
use crate::store::{Server, Traffic};
use crate::worker::rounds_done;
use crate::{Error, Result, bad};
use std::fmt::Write;
use std::sync::Arc;

/// A worker is alive if it spoke within this many ms.
const ALIVE_MS: u64 = 15_000;

/// A report of the runs on a server (or of one run).
pub fn status(server: &Server, run: Option<&str>) -> Result<String> {
    let mut store = server.connect(Arc::new(Traffic::default()))?;
    let mut names: Vec<String> = match run {
        Some(r) => vec![r.to_string()],
        None => store.cmd(&[&"SMEMBERS", &RUNS])?,
    };
    names.sort();
    let mut out = String::new();
    if names.is_empty() {
        out.push_str("no runs\n");
    }
    for name in names {
        let keys = Keys::new(&name).map_err(Error::Other)?;
        let Some(bytes) = store.get(&keys.meta())? else {
            writeln!(out, "run {name}: not on this server").ok();
            continue;
        };
        let meta: Meta = decode(&keys.meta(), &bytes)?;
        let config = meta.config(&keys.meta())?;
        let status: Status = match store.get(&keys.status())? {
            Some(b) => serde_json::from_slice(&b).map_err(|e| bad(&keys.status(), e))?,
            None => Status::default(),
        };
        let n = config.search.islands;
        writeln!(
            out,
            "run {name}: {}, {n} islands, seed {}, experiment {}, round {}, {} individuals, best fitness so far {}",
            if status.state.is_empty() { "submitted" } else { &status.state },
            config.random_seed,
            status.experiment,
            status.round,
            status.individuals,
            status.best.map_or("-".into(), |b| format!("{b:.6}")),
        )
        .ok();
        if let Some(f) = status.final_fitness {
            writeln!(out, "  final fitness {f:.6}").ok();
        }
        if status.state == "running" || status.state == "stopped" {
            islands(&mut store, &keys, n, &mut out)?;
        }
        workers(&mut store, &keys, &mut out)?;
    }
    Ok(out)
}

/// The rounds each island has done, and who holds them.
fn islands(store: &mut crate::store::Store, keys: &Keys, n: usize, out: &mut String) -> Result<()> {
    let Some(job) = store.get(&keys.job())? else {
        return Ok(());
    };
    let job: Job = decode(&keys.job(), &job)?;
    let done = rounds_done(store, keys, job.experiment, n)?;
    let leases: Vec<String> = (0..n).map(|k| keys.lease(k)).collect();
    let held = store.mget(&leases)?;
    let rounds: Vec<String> = done
        .iter()
        .zip(&held)
        .map(|(d, h)| format!("{}{}", d.0, if h.is_some() { "*" } else { "" }))
        .collect();
    writeln!(
        out,
        "  rounds done per island (* running now): {}",
        rounds.join(" ")
    )
    .ok();
    if let Some(stop) = &job.stop {
        writeln!(
            out,
            "  stopping in round {} after {} batches",
            stop.round, stop.after
        )
        .ok();
    }
    Ok(())
}

/// The workers that spoke lately, with their speed.
fn workers(store: &mut crate::store::Store, keys: &Keys, out: &mut String) -> Result<()> {
    let now = now_ms();
    let mut alive = Vec::new();
    for (_, json) in store.hgetall(&keys.workers())? {
        let h: Heartbeat = serde_json::from_str(&json).map_err(|e| bad(&keys.workers(), e))?;
        if now.saturating_sub(h.seen_ms) <= ALIVE_MS {
            alive.push(h);
        }
    }
    alive.sort_by(|a, b| a.name.cmp(&b.name));
    writeln!(out, "  workers alive: {}", alive.len()).ok();
    for h in alive {
        let secs = (h.seen_ms.saturating_sub(h.started_ms)) as f64 / 1000.0;
        writeln!(
            out,
            "    {} ({} thread{}): {}, {} individuals, {:.0} individuals/s",
            h.name,
            h.threads,
            if h.threads == 1 { "" } else { "s" },
            h.doing,
            h.individuals,
            h.individuals as f64 / secs.max(1e-9),
        )
        .ok();
    }
    Ok(())
}

/// Removes every key of a run; refused while a search drives it unless `force`.
pub fn forget(server: &Server, run: &str, force: bool) -> Result<usize> {
    let keys = Keys::new(run).map_err(Error::Other)?;
    let mut store = server.connect(Arc::new(Traffic::default()))?;
    let held: Option<String> = store.cmd(&[&"GET", &keys.driver_lease()])?;
    if let Some(holder) = held
        && !force
    {
        return Err(Error::Other(format!(
            "run {run:?} is being driven by {holder}: stop that search first, or give --force"
        )));
    }
    let all = store.scan(&keys.pattern())?;
    store.del(&all)?;
    store.cmd::<()>(&[&"SREM", &RUNS, &run])?;
    Ok(all.len())
}
