//! The submitting search's side: submits a run (or takes one up), holds the run's lease,
//! posts each experiment's islands, waits for the rounds' results and keeps the run's state
//! in Redis at every round's end, so that another `search` can carry the run on.

use crate::codec::{decode, encode};
use crate::keys::{Keys, RUNS};
use crate::protocol::{
    Base, Checker, DriverState, Job, KEEP_SECONDS, Meta, Stamp, Stamped, Status, Stop, now_ms,
};
use crate::store::{Scripts, Server, Store, Traffic, take_lease};
use crate::worker::rounds_done;
use crate::{Error, Result, bad};
use automl_zero_engine::config::Config;
use automl_zero_engine::evolution::{Limits, SearchState};
use automl_zero_engine::experiment::{RunError, RunState};
use automl_zero_engine::migration::Migrant;
use automl_zero_engine::rounds::{RoundResult, Rounds};
use automl_zero_engine::tasks::TaskSpec;
use redis::Script;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The search driving a run through Redis.
pub struct Coordinator {
    store: Store,
    scripts: Scripts,
    keys: Keys,
    config: Config,
    token: String,
    /// Renews the run's lease in the background while the search runs.
    renewer: Renewer,
    experiment: u64,
    /// (individuals before this experiment, best fitness so far) for the status.
    status: Status,
}

fn engine(e: Error) -> RunError {
    RunError(e.to_string())
}

impl Coordinator {
    /// Submits run `run` (config with its seed, data paths from `base_dir`), or takes it up if
    /// it exists with the same config; waits (saying so through `say`) while another search
    /// holds its lease.
    pub fn submit(
        server: &Server,
        run: &str,
        config: &Config,
        base_dir: &std::path::Path,
        traffic: Arc<Traffic>,
        say: &mut dyn FnMut(&str),
    ) -> Result<Coordinator> {
        let keys = Keys::new(run).map_err(Error::Other)?;
        check_config(config)?;
        let mut store = server.connect(traffic.clone())?;
        let base = std::path::absolute(base_dir)
            .map_err(|e| Error::Other(format!("{}: {e}", base_dir.display())))?;
        let meta = Meta {
            format: crate::protocol::FORMAT,
            run: run.to_string(),
            config: config.to_toml(),
            base_dir: base.display().to_string(),
            submitted: now_ms() / 1000,
        };
        let key = keys.meta();
        let fresh: Option<String> =
            store.cmd(&[&"SET", &key, &encode(&meta), &"NX", &"EX", &KEEP_SECONDS])?;
        if fresh.is_none() {
            let bytes = store.get(&key)?.ok_or_else(|| bad(&key, "vanished"))?;
            let theirs: Meta = decode(&key, &bytes)?;
            if theirs.config(&key)? != *config {
                return Err(bad(
                    &key,
                    format!(
                        "run {run:?} exists with another config or seed; choose another --run, \
                         or remove it with `automl-zero forget --redis URL --run {run}`"
                    ),
                ));
            }
        }
        store.cmd::<()>(&[&"SADD", &RUNS, &run])?;
        let lease_ms = crate::worker::lease_ms();
        let token = wait_for_lease(&mut store, &keys, lease_ms, say)?;
        let renewer = Renewer::start(
            server,
            traffic,
            keys.driver_lease(),
            token.clone(),
            lease_ms,
        )?;
        let mut c = Coordinator {
            store,
            scripts: Scripts::default(),
            keys,
            config: config.clone(),
            token,
            renewer,
            experiment: 0,
            status: Status {
                state: "running".into(),
                ..Status::default()
            },
        };
        let key = c.keys.status();
        if let Some(bytes) = c.store.get(&key)? {
            c.status = serde_json::from_slice(&bytes).map_err(|e| bad(&key, e))?;
            if c.status.state == "finished" {
                return Err(Error::Other(format!(
                    "run {run:?} has finished (see `automl-zero status --redis URL --run {run}`)"
                )));
            }
            c.status.state = "running".into();
        }
        c.write_status()?;
        Ok(c)
    }

    /// The run's state kept in Redis, with its islands read back, if it has any.
    pub fn state(&mut self) -> Result<Option<RunState>> {
        let key = self.keys.driver();
        let Some(bytes) = self.store.get(&key)? else {
            return Ok(None);
        };
        let d: DriverState = decode(&key, &bytes)?;
        if d.run != self.keys.run() {
            return Err(bad(&key, format!("the state of run {:?}", d.run)));
        }
        let mut state = d.state;
        let e = state.experiments;
        let n = self.config.search.islands;
        let m = state.search.migrations;
        let check = Checker {
            run: self.keys.run(),
            config: &self.config,
        };
        let (mut islands, mut evaluators) = (Vec::new(), Vec::new());
        for k in 0..n {
            let work = crate::worker::round_work(&mut self.store, &self.keys, &check, e, (k, m))?;
            let mut island = work.island;
            for m in work.incoming {
                island.population.replace_oldest(m.algorithm, m.fitness);
            }
            islands.push(island);
            evaluators.push(work.evaluator);
        }
        state.search.islands = islands;
        state.search.island_evaluators = evaluators;
        self.experiment = e;
        Ok(Some(state))
    }

    /// Marks the run finished with its result (the summary's individuals and search fitness
    /// too: the last round, cut where the search stopped, is not kept) and lets go of its lease.
    pub fn finish(
        &mut self,
        summary: &automl_zero_engine::experiment::Summary,
        program: &str,
    ) -> Result<()> {
        let final_fitness = summary.final_fitness;
        self.status.individuals = summary.individuals;
        let best = summary.search_fitness;
        self.status.best = Some(self.status.best.map_or(best, |b| b.max(best)));
        self.status.state = "finished".into();
        self.status.final_fitness = final_fitness;
        self.status.program = Some(program.to_string());
        self.write_status()?;
        self.release()
    }

    /// Marks the run stopped (it can be carried on) and lets go of its lease.
    pub fn stopped(&mut self) -> Result<()> {
        self.status.state = "stopped".into();
        self.write_status()?;
        self.release()
    }

    fn release(&mut self) -> Result<()> {
        let lease = self.keys.driver_lease();
        let _: i64 =
            self.store
                .script(&self.scripts.release, &[&lease], &[self.token.as_bytes()])?;
        Ok(())
    }

    fn write_status(&mut self) -> Result<()> {
        self.status.updated_ms = now_ms();
        let json = serde_json::to_vec(&self.status).expect("status serializes");
        self.fenced(&[(self.keys.status(), json)])
    }

    /// Sets keys to values if this search still holds the run's lease.
    fn fenced(&mut self, pairs: &[(String, Vec<u8>)]) -> Result<()> {
        let lease = self.keys.driver_lease();
        let mut keys: Vec<&str> = vec![&lease];
        keys.extend(pairs.iter().map(|(k, _)| k.as_str()));
        let ttl = KEEP_SECONDS.to_string();
        let mut args: Vec<&[u8]> = vec![self.token.as_bytes(), ttl.as_bytes()];
        args.extend(pairs.iter().map(|(_, v)| v.as_slice()));
        let _: i64 = self.store.script(&self.scripts.fenced_set, &keys, &args)?;
        Ok(())
    }

    /// An error if the run's lease was lost.
    fn renew(&mut self) -> Result<()> {
        if self.renewer.lost.load(Ordering::Relaxed) {
            return Err(Error::Other(format!(
                "lost the lease of run {:?} (Redis unreachable for a lease's time, or another \
                 search drives it now)",
                self.keys.run()
            )));
        }
        Ok(())
    }

    /// Waits until `ready` says yes, renewing the lease; `None` if the clock's limits come
    /// first (once the search has individuals).
    fn wait<T>(
        &mut self,
        limits: &Limits,
        may_stop: bool,
        mut ready: impl FnMut(&mut Self) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let mut pause = Duration::from_millis(1);
        loop {
            self.renew()?;
            if let Some(x) = ready(self)? {
                return Ok(Some(x));
            }
            if may_stop && limits.timed_out().is_some() {
                return Ok(None);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Reads island results of a round (`last` for the cut ones), checked.
    fn read_results(&mut self, keys: &[(String, Stamp)]) -> Result<Vec<RoundResult>> {
        let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        let values = self.store.mget(&names)?;
        let check = Checker {
            run: self.keys.run(),
            config: &self.config,
        };
        let mut out = Vec::new();
        for ((key, stamp), v) in keys.iter().zip(values) {
            let v = v.ok_or_else(|| bad(key, "missing"))?;
            let r: RoundResult = check.stamped(key, &v, *stamp)?;
            check.result(key, &r)?;
            out.push(r);
        }
        Ok(out)
    }
}

/// A thread renewing a lease every third of its time to live, until dropped.
struct Renewer {
    stop: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Renewer {
    fn start(
        server: &Server,
        traffic: Arc<Traffic>,
        lease: String,
        token: String,
        ms: u64,
    ) -> Result<Renewer> {
        let mut store = server.connect(traffic)?;
        let (stop, lost) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (s, l) = (stop.clone(), lost.clone());
        let thread = std::thread::spawn(move || {
            let renew = Script::new(crate::store::RENEW);
            let mut last = Instant::now();
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                if last.elapsed() < Duration::from_millis(ms / 3) {
                    continue;
                }
                let text = ms.to_string();
                let held: Result<i64> =
                    store.script(&renew, &[&lease], &[token.as_bytes(), text.as_bytes()]);
                match held {
                    Ok(1) => last = Instant::now(),
                    Ok(_) => {
                        l.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(_) if last.elapsed() > Duration::from_millis(ms) => {
                        l.store(true, Ordering::Relaxed);
                        return;
                    }
                    Err(_) => {}
                }
            }
        });
        Ok(Renewer {
            stop,
            lost,
            thread: Some(thread),
        })
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Refuses configs that rounds cannot run.
fn check_config(config: &Config) -> Result<()> {
    let s = &config.search;
    if s.islands < 2 {
        return Err(Error::Other(
            "search.islands: a run through Redis spreads islands over workers: set 2 or more \
             (--set search.islands=4)"
                .into(),
        ));
    }
    if s.migrate_every == 0 {
        return Err(Error::Other(
            "search.migrate_every: a run through Redis advances in rounds of migrate_every \
             individuals per island: set it above 0"
                .into(),
        ));
    }
    Ok(())
}

/// Takes the run's lease, waiting while another search holds it.
fn wait_for_lease(
    store: &mut Store,
    keys: &Keys,
    ms: u64,
    say: &mut dyn FnMut(&str),
) -> Result<String> {
    let mut told = false;
    loop {
        let lease = keys.driver_lease();
        if let Some(token) = take_lease(
            store,
            &keys.fence(),
            &lease,
            &crate::worker::worker_name(),
            ms,
        )? {
            return Ok(token);
        }
        if !told {
            let holder: Option<String> = store.cmd(&[&"GET", &lease])?;
            let left: i64 = store.cmd(&[&"PTTL", &lease])?;
            say(&format!(
                "run {:?} is driven by another search ({}); waiting for its lease (at most {:.0} s)",
                keys.run(),
                holder.unwrap_or_default(),
                left.max(0) as f64 / 1000.0
            ));
            told = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The run's state without its islands, for the driver's key.
fn stripped(run: &RunState) -> RunState {
    let mut s = run.clone();
    s.search.islands.clear();
    s.search.island_evaluators.clear();
    s
}

impl Rounds for Coordinator {
    fn begin(
        &mut self,
        experiment: u64,
        specs: &[TaskSpec],
        run: &RunState,
    ) -> std::result::Result<(), RunError> {
        self.experiment = experiment;
        let current: Option<Vec<u8>> = self.store.get(&self.keys.experiment()).map_err(engine)?;
        let taken_up = current.as_deref() == Some(experiment.to_string().as_bytes());
        let mut pairs = Vec::new();
        if !taken_up {
            let job = Job {
                experiment,
                specs: specs.to_vec(),
                stop: None,
            };
            pairs.push((self.keys.job(), encode(&job)));
            for (k, island) in run.search.islands.iter().enumerate() {
                let stamp = Stamp {
                    experiment,
                    round: 0,
                    island: k,
                };
                let evaluator = run
                    .search
                    .island_evaluators
                    .get(k)
                    .cloned()
                    .unwrap_or_default();
                let value = Base {
                    island: island.clone(),
                    evaluator,
                };
                let v = Stamped {
                    run: self.keys.run().to_string(),
                    stamp,
                    value,
                };
                pairs.push((self.keys.base(experiment, k), encode(&v)));
            }
        }
        let driver = DriverState {
            run: self.keys.run().to_string(),
            state: stripped(run),
        };
        pairs.push((self.keys.driver(), encode(&driver)));
        // The experiment's number last: workers' writes check it.
        pairs.push((self.keys.experiment(), experiment.to_string().into_bytes()));
        self.fenced(&pairs).map_err(engine)?;
        self.status.experiment = experiment;
        self.status.round = run.search.migrations;
        self.write_status().map_err(engine)?;
        if experiment > 0 && !taken_up {
            self.forget_experiment(experiment - 1).map_err(engine)?;
        }
        Ok(())
    }

    fn results(
        &mut self,
        round: u64,
        state: &SearchState,
        limits: &Limits,
    ) -> std::result::Result<Option<Vec<RoundResult>>, RunError> {
        let (e, n) = (self.experiment, state.islands.len());
        let may_stop = state.individuals > 0;
        let ready = self
            .wait(limits, may_stop, |c| {
                let done = rounds_done(&mut c.store, &c.keys, e, n)?;
                Ok(done.iter().all(|d| d.0 > round).then_some(()))
            })
            .map_err(engine)?;
        if ready.is_none() {
            return Ok(None);
        }
        let keys: Vec<(String, Stamp)> = (0..n)
            .map(|k| {
                (
                    self.keys.result(e, round, k),
                    Stamp {
                        experiment: e,
                        round,
                        island: k,
                    },
                )
            })
            .collect();
        self.read_results(&keys).map(Some).map_err(engine)
    }

    fn truncated(
        &mut self,
        round: u64,
        state: &SearchState,
        after: usize,
        results: &[RoundResult],
        limits: &Limits,
    ) -> std::result::Result<Option<Vec<RoundResult>>, RunError> {
        let e = self.experiment;
        let again: Vec<usize> = (0..results.len())
            .filter(|&k| results[k].batches.len() != after)
            .collect();
        let key = self.keys.job();
        let bytes = self
            .store
            .get(&key)
            .map_err(engine)?
            .ok_or_else(|| engine(bad(&key, "missing")))?;
        let mut job: Job = decode(&key, &bytes).map_err(engine)?;
        let stop = Stop {
            round,
            after,
            again: again.clone(),
        };
        if job.stop.as_ref() != Some(&stop) {
            job.stop = Some(stop);
            let pairs = [
                (key, encode(&job)),
                (self.keys.stop(e), round.to_string().into_bytes()),
            ];
            self.fenced(&pairs).map_err(engine)?;
        }
        let lasts: Vec<String> = again.iter().map(|&k| self.keys.last(e, k)).collect();
        let may_stop = state.individuals > 0;
        let ready = self
            .wait(limits, may_stop, |c| {
                let have = c.store.exist_each(&lasts)?;
                Ok(have.iter().all(|&h| h).then_some(()))
            })
            .map_err(engine)?;
        if ready.is_none() {
            return Ok(None);
        }
        let keys: Vec<(String, Stamp)> = again
            .iter()
            .map(|&k| {
                (
                    self.keys.last(e, k),
                    Stamp {
                        experiment: e,
                        round,
                        island: k,
                    },
                )
            })
            .collect();
        let cut = self.read_results(&keys).map_err(engine)?;
        let mut all = results.to_vec();
        for (&k, r) in again.iter().zip(cut) {
            all[k] = r;
        }
        Ok(Some(all))
    }

    fn keep(&mut self, run: &RunState) -> std::result::Result<(), RunError> {
        let driver = DriverState {
            run: self.keys.run().to_string(),
            state: stripped(run),
        };
        let s = &run.search;
        self.status.round = s.migrations;
        self.status.individuals = run.individuals + s.individuals;
        let best = s
            .islands
            .iter()
            .flat_map(|i| i.population.fitnesses.iter().copied())
            .fold(f64::MIN, f64::max);
        self.status.best = Some(self.status.best.map_or(best, |b| b.max(best)));
        self.status.updated_ms = now_ms();
        let status = serde_json::to_vec(&self.status).expect("status serializes");
        let pairs = [
            (self.keys.driver(), encode(&driver)),
            (self.keys.status(), status),
        ];
        self.fenced(&pairs).map_err(engine)
    }
}

impl Coordinator {
    /// Removes the keys of a finished experiment.
    fn forget_experiment(&mut self, e: u64) -> Result<()> {
        let n = self.config.search.islands;
        let done = rounds_done(&mut self.store, &self.keys, e, n)?;
        let mut keys = vec![self.keys.rounds(e), self.keys.stop(e)];
        for (k, &(r, _)) in done.iter().enumerate() {
            keys.push(self.keys.base(e, k));
            keys.push(self.keys.last(e, k));
            for round in 0..r + 2 {
                keys.push(self.keys.result(e, round, k));
                keys.push(self.keys.migrants(e, round, k));
            }
        }
        self.store.del(&keys)
    }
}

/// Migrants a stored value holds (for tests and tools).
pub fn read_migrants(bytes: &[u8], key: &str) -> Result<Vec<Migrant>> {
    let s: Stamped<Vec<Migrant>> = decode(key, bytes)?;
    Ok(s.value)
}
