//! The scale benchmark (not a test): W worker processes against one Redis, one small island
//! each, a search of R rounds driven from this process. Reports per round: Redis operations and
//! bytes and the server's CPU time (the server's own counters), the round latency, the islands'
//! compute, and the coordination overhead as a fraction of the round's time. See
//! docs/distributed.md.
//!
//! On a machine of C cores, W > C workers share the cores: an island's compute is measured at
//! the first (smallest) W of the list, where the cores are not shared, and a round's ideal time
//! is that compute times max(1, W / C). The overhead is the part of the round's time beyond it:
//! Redis round trips, encoding and checking values, polling, waiting for neighbours' migrants,
//! the search's settling, and the workers' own coordination competing for the C cores.
//!
//! ```sh
//! cargo build --release
//! cargo run --release -p automl-zero-distributed --example scale -- \
//!     --redis redis://127.0.0.1:6379 --bin target/release/automl-zero --workers 2,4,16,64
//! ```

use automl_zero_distributed::coordinator::Coordinator;
use automl_zero_distributed::protocol::Heartbeat;
use automl_zero_distributed::store::{Server, Traffic};
use automl_zero_engine::config::Config;
use automl_zero_engine::evolution::{Limits, SearchState};
use automl_zero_engine::experiment::{RunError, RunOptions, RunState, Silent, run_with};
use automl_zero_engine::rounds::{RoundResult, Rounds};
use automl_zero_engine::tasks::TaskSpec;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

/// The coordinator, timing each round's results.
struct Timed {
    inner: Coordinator,
    ends: Vec<Instant>,
}

impl Rounds for Timed {
    fn begin(&mut self, e: u64, specs: &[TaskSpec], run: &RunState) -> Result<(), RunError> {
        self.inner.begin(e, specs, run)
    }
    fn results(
        &mut self,
        round: u64,
        state: &SearchState,
        limits: &Limits,
    ) -> Result<Option<Vec<RoundResult>>, RunError> {
        let r = self.inner.results(round, state, limits);
        self.ends.push(Instant::now());
        r
    }
    fn truncated(
        &mut self,
        round: u64,
        state: &SearchState,
        after: usize,
        results: &[RoundResult],
        limits: &Limits,
    ) -> Result<Option<Vec<RoundResult>>, RunError> {
        self.inner.truncated(round, state, after, results, limits)
    }
    fn keep(&mut self, run: &RunState) -> Result<(), RunError> {
        self.inner.keep(run)
    }
}

fn flag(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// The server's command and byte counters, and its CPU seconds.
fn counters(url: &str) -> (u64, u64, f64) {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut c = client.get_connection().expect("Redis reachable");
    let info: String = redis::cmd("INFO").arg("all").query(&mut c).expect("INFO");
    let get = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}:")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let bytes = get("total_net_input_bytes") + get("total_net_output_bytes");
    let cpu = get("used_cpu_sys_main_thread") + get("used_cpu_user_main_thread");
    (get("total_commands_processed") as u64, bytes as u64, cpu)
}

fn config(islands: usize, per_round: u64, rounds: u64) -> Config {
    let task = |n: usize| {
        format!(
            "[{{kind=\"scalar_linear_regression\", features_size=4, num_train_examples=100, \
             num_valid_examples=100, num_tasks={n}, eval_type=\"rms_error\"}}]"
        )
    };
    let sets = [
        format!("search.islands={islands}"),
        "search.population_size=50".into(),
        "search.batch_size=25".into(),
        format!("search.migrate_every={per_round}"),
        "search.migrants=5".into(),
        format!(
            "search.max_individuals={}",
            islands as u64 * per_round * rounds
        ),
        "max_experiments=1".into(),
        "random_seed=1".into(),
        format!("search_tasks={}", task(10)),
        format!("select_tasks={}", task(2)),
        format!("final_tasks={}", task(2)),
    ];
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/linear.toml");
    Config::load(&path, &sets).expect("the config loads").0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = flag(&args, "--redis", "redis://127.0.0.1:6379");
    let bin = flag(&args, "--bin", "target/release/automl-zero");
    let rounds: u64 = flag(&args, "--rounds", "8").parse().expect("--rounds N");
    let per_round: u64 = flag(&args, "--per-round", "200")
        .parse()
        .expect("--per-round N");
    let list = flag(&args, "--workers", "1,4,16,64");
    println!(
        "workers  rounds  round_ms  island_ms  ideal_ms  overhead  ops/round  ops/island-round  KB/round  KB/island-round  redis_cpu_ms/round  wall_s"
    );
    let mut base = None;
    for w in list
        .split(',')
        .map(|w| w.parse::<usize>().expect("--workers 2,4,..."))
    {
        bench(&url, &bin, w.max(2), rounds, per_round, &mut base);
    }
}

fn bench(
    url: &str,
    bin: &str,
    islands: usize,
    rounds: u64,
    per_round: u64,
    base: &mut Option<f64>,
) {
    let wall = Instant::now();
    let run = format!("scale-{islands}-{}", std::process::id());
    let config = config(islands, per_round, rounds);
    let server = Server::new(url);
    let (ops0, bytes0, cpu0) = counters(url);
    let mut workers: Vec<_> = (0..islands)
        .map(|_| {
            Command::new(bin)
                .args([
                    "worker",
                    "--redis",
                    url,
                    "--run",
                    &run,
                    "--threads",
                    "1",
                    "--exit-when-idle",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("the automl-zero binary (--bin) runs")
        })
        .collect();
    let traffic = Arc::new(Traffic::default());
    let mut say = |m: &str| eprintln!("{m}");
    let inner = Coordinator::submit(&server, &run, &config, Path::new("."), traffic, &mut say)
        .expect("submitted");
    let mut timed = Timed {
        inner,
        ends: Vec::new(),
    };
    let result = run_with(
        &config,
        Path::new("."),
        RunOptions::default(),
        &mut Silent,
        None,
        Some(&mut timed),
    )
    .expect("the run ends");
    let heartbeats = read_heartbeats(url, &run);
    timed.inner.finish(&result.summary, "").expect("finished");
    for w in &mut workers {
        let _ = w.wait();
    }
    let (ops1, bytes1, cpu1) = counters(url);
    let gaps: Vec<f64> = timed
        .ends
        .windows(2)
        .map(|p| (p[1] - p[0]).as_secs_f64())
        .collect();
    let round_ms = 1000.0 * gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let busy: f64 = heartbeats.iter().map(|h| h.busy_seconds).sum();
    let island_ms = 1000.0 * busy / (islands as f64 * rounds as f64);
    // An island's compute where the cores are not shared: the first measurement's.
    let alone = *base.get_or_insert(island_ms);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let ideal = alone * (islands as f64 / cores).max(1.0);
    let overhead = (1.0 - ideal / round_ms).max(0.0);
    let (ops, kb) = (
        (ops1 - ops0) as f64 / rounds as f64,
        (bytes1 - bytes0) as f64 / 1024.0 / rounds as f64,
    );
    let redis_ms = 1000.0 * (cpu1 - cpu0) / rounds as f64;
    println!(
        "{islands:>7}  {rounds:>6}  {round_ms:>8.1}  {island_ms:>9.1}  {ideal:>8.1}  {overhead:>8.3}  {ops:>9.0}  {:>16.1}  {kb:>8.1}  {:>15.1}  {redis_ms:>18.2}  {:>6.1}",
        ops / islands as f64,
        kb / islands as f64,
        wall.elapsed().as_secs_f64()
    );
    let _ = automl_zero_distributed::status::forget(&server, &run, true);
}

fn read_heartbeats(url: &str, run: &str) -> Vec<Heartbeat> {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut c = client.get_connection().expect("Redis reachable");
    let key = format!("automl-zero:{{{run}}}:workers");
    let all: Vec<(String, String)> = redis::cmd("HGETALL")
        .arg(&key)
        .query(&mut c)
        .expect("HGETALL");
    all.iter()
        .filter_map(|(_, j)| serde_json::from_str(j).ok())
        .collect()
}
