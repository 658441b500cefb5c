//! `automl-zero bench`: the speed of the search on a config, repeated from a fixed seed.

use anyhow::{Result, bail};
use automl_zero_engine::config::{Config, DEMO};
use automl_zero_engine::evaluation::Workers;
use automl_zero_engine::experiment::{BenchRun, bench};
use automl_zero_engine::tasks::resolve_dataset_paths;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `bench`.
#[derive(Args)]
#[command(
    after_help = "Standard workloads:\n  automl-zero bench                                   # the demo (F = 4)\n  automl-zero bench configs/bench_nonlinear.toml      # 2-layer teacher, every op (F = 8)\n  automl-zero bench configs/fashion_mnist_baseline.toml --data-dir /usr/share/datasets   # projected binary (F = 16)"
)]
pub struct BenchArgs {
    /// The config whose search to measure (default: the embedded demo).
    config: Option<PathBuf>,
    /// Individuals per run (the initial population included).
    #[arg(long, default_value_t = 200_000)]
    individuals: u64,
    /// Runs to take the median over.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// The search seed of every run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads to evaluate on (0: every core); `--threads 1` measures one core.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Folder holding image datasets named by relative paths.
    #[arg(long, value_parser = crate::existing_folder)]
    data_dir: Option<PathBuf>,
    /// Override a config key, e.g. --set search.population_size=100 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Print one JSON object with every run and the medians.
    #[arg(long)]
    json: bool,
    /// Measure the speed-up of --threads over one thread: each repeat runs on one thread and on
    /// --threads, back to back (which goes first alternates), so that both see the machine in
    /// the same state; prints both medians and the median of the per-repeat ratios.
    #[arg(long)]
    speedup: bool,
}

/// The median of a list of numbers (the mean of the middle two for an even count).
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Runs `bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    if args.repeats == 0 || args.individuals == 0 {
        bail!("--repeats and --individuals must be at least 1");
    }
    let (mut config, base_dir) = match &args.config {
        Some(path) => Config::load(path, &args.overrides)?,
        None => (
            Config::from_text(DEMO, "the embedded demo config", &args.overrides)?,
            PathBuf::from("."),
        ),
    };
    resolve_dataset_paths(
        &mut config.search_tasks,
        "search_tasks",
        &base_dir,
        args.data_dir.as_deref(),
    )?;
    let workers = Workers::new(args.threads).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
    let measure = |workers: &Workers, i: usize| -> Result<BenchRun> {
        let r = bench(&config, &base_dir, args.individuals, args.seed, workers)?;
        if !args.json {
            println!(
                "run {} ({} thread{}): {} individuals in {:.2} s: {:.0} individuals/s, {:.3e} train steps/s, {:.3e} instructions/s, FEC hit rate {:.3}, canonical hits {:.3}",
                i + 1,
                workers.threads(),
                plural(workers.threads()),
                r.individuals,
                r.seconds,
                r.individuals as f64 / r.seconds,
                r.train_steps as f64 / r.seconds,
                r.instructions as f64 / r.seconds,
                hit_rate(&r),
                r.canonical_hits as f64 / r.individuals as f64
            );
        }
        Ok(r)
    };
    if !args.speedup {
        let runs = (0..args.repeats)
            .map(|i| measure(&workers, i))
            .collect::<Result<Vec<_>>>()?;
        let summary = summarize(&runs, workers.threads(), &args);
        if args.json {
            println!("{summary}");
        }
        return Ok(());
    }
    if workers.threads() < 2 {
        bail!(
            "--speedup compares --threads N with one thread, so it needs N > 1 (or 0 on a machine of several cores)"
        );
    }
    let one = Workers::new(1).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
    let (mut single, mut multi) = (Vec::new(), Vec::new());
    for i in 0..args.repeats {
        // Which one runs first alternates, so that a steady drift of the machine's speed favours
        // neither.
        if i % 2 == 0 {
            single.push(measure(&one, i)?);
            multi.push(measure(&workers, i)?);
        } else {
            multi.push(measure(&workers, i)?);
            single.push(measure(&one, i)?);
        }
    }
    let speed = |r: &BenchRun| r.individuals as f64 / r.seconds;
    let ratios: Vec<f64> = single
        .iter()
        .zip(&multi)
        .map(|(a, b)| speed(b) / speed(a))
        .collect();
    let one_summary = summarize(&single, 1, &args);
    let many_summary = summarize(&multi, workers.threads(), &args);
    let of_medians =
        median(multi.iter().map(speed).collect()) / median(single.iter().map(speed).collect());
    if args.json {
        let out = serde_json::json!({
            "one_thread": one_summary,
            "threads": many_summary,
            "speedup": { "of_medians": of_medians, "pairs": ratios, "median_of_pairs": stats(&ratios) },
        });
        println!("{out}");
    } else {
        let (lo, hi) = spread(&ratios);
        println!(
            "speed-up with {} threads: median {:.2}x over {} back-to-back pairs (min {:.2}x, max {:.2}x); ratio of the medians {:.2}x",
            workers.threads(),
            median(ratios),
            args.repeats,
            lo,
            hi,
            of_medians
        );
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The smallest and largest of a list of numbers.
pub(crate) fn spread(xs: &[f64]) -> (f64, f64) {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo, hi)
}

/// `{median, min, max}` of a list of rates, as the JSON report shows them.
fn stats(xs: &[f64]) -> serde_json::Value {
    let (lo, hi) = spread(xs);
    serde_json::json!({ "median": median(xs.to_vec()), "min": lo, "max": hi })
}

/// Prints (unless `--json`) and returns the medians of a set of runs on `threads` threads.
fn summarize(runs: &[BenchRun], threads: usize, args: &BenchArgs) -> serde_json::Value {
    let per_second = |f: fn(&BenchRun) -> u64| {
        runs.iter()
            .map(|r| f(r) as f64 / r.seconds)
            .collect::<Vec<_>>()
    };
    let indiv = per_second(|r| r.individuals);
    let steps = per_second(|r| r.train_steps);
    let instr = per_second(|r| r.instructions);
    let fec = hit_rate(&runs[0]);
    let first = &runs[0];
    let per_individual = first.instructions as f64 / first.individuals as f64;
    if !args.json {
        let (lo, hi) = spread(&indiv);
        println!(
            "median of {} ({} thread{}): {:.0} individuals/s (min {:.0}, max {:.0}); {:.3e} train steps/s; {:.3e} instructions/s; {:.0} interpreted instructions per individual; FEC hit rate {:.3}",
            runs.len(),
            threads,
            plural(threads),
            median(indiv.clone()),
            lo,
            hi,
            median(steps.clone()),
            median(instr.clone()),
            per_individual,
            fec
        );
    }
    serde_json::json!({
        "individuals": args.individuals,
        "repeats": args.repeats,
        "seed": args.seed,
        "threads": threads,
        "individuals_per_second": stats(&indiv),
        "train_steps_per_second": stats(&steps),
        "instructions_per_second": stats(&instr),
        "instructions_per_individual": per_individual,
        "fec_hit_rate": fec,
        "canonical_hit_rate": first.canonical_hits as f64 / first.individuals as f64,
        "runs": runs,
    })
}

fn hit_rate(r: &BenchRun) -> f64 {
    let total = r.fec_hits + r.fec_misses;
    if total == 0 {
        0.0
    } else {
        r.fec_hits as f64 / total as f64
    }
}
