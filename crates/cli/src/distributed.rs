//! The commands of runs through Redis: `search --redis` (submit, drive, take part as a
//! worker, write the run folder), `worker`, `status` and `forget`.

use crate::search::{SearchArgs, Start, conclude, prepare, start};
use anyhow::{Context, Result, bail};
use automl_zero_distributed::coordinator::Coordinator;
use automl_zero_distributed::store::{Server, Traffic};
use automl_zero_distributed::worker::{WorkerOptions, serve};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::Workers;
use automl_zero_engine::experiment::{self, RunOptions};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The server of `--redis` and `--redis-ca`.
fn server(url: &str, ca: Option<&PathBuf>) -> Server {
    Server {
        url: url.to_string(),
        ca: ca.cloned(),
    }
}

/// The run's name: `--run`, or the run folder's name.
fn run_name(args: &SearchArgs, out: &Path) -> Result<String> {
    let name = match &args.run {
        Some(r) => r.clone(),
        None => out
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .context("--run: the run folder has no name to use")?,
    };
    automl_zero_distributed::keys::check_run_name(&name)
        .map_err(|e| anyhow::anyhow!("--run: {e}"))?;
    Ok(name)
}

/// What `search --resume RUN_DIR --redis URL` starts from: the folder's config.toml (which
/// must be the run's on the server), its state coming from the server.
fn resume_start(args: &SearchArgs, dir: &Path) -> Result<Start> {
    if !args.overrides.is_empty() {
        bail!("--set: a run through Redis carries on with the limits it was submitted with");
    }
    let path = dir.join("config.toml");
    let (config, _) = Config::load(&path, &[])
        .with_context(|| format!("cannot resume {} through Redis", dir.display()))?;
    Ok(Start {
        config,
        base_dir: PathBuf::from("."),
        out: dir.to_path_buf(),
        resume: None,
        extended: false,
    })
}

/// `search --redis URL`: submits the run (or takes it up), drives it, takes part as a worker,
/// and writes the run folder.
pub fn search(args: SearchArgs) -> Result<ExitCode> {
    let url = args.redis.clone().expect("called with --redis");
    let mut start = match &args.resume {
        Some(dir) => resume_start(&args, dir)?,
        None => start(&args)?,
    };
    let name = run_name(&args, &start.out)?;
    let server = server(&url, args.redis_ca.as_ref());
    let traffic = Arc::new(Traffic::default());
    let mut say = |m: &str| eprintln!("{m}");
    let mut coordinator = Coordinator::submit(
        &server,
        &name,
        &start.config,
        &start.base_dir,
        traffic.clone(),
        &mut say,
    )?;
    start.resume = coordinator.state()?;
    let workers = Workers::new(args.threads).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
    let reopen = args.resume.is_some();
    let (mut reporter, interrupt) = prepare(&args, &start, &workers, reopen)?;
    reporter.display.message(&format!(
        "Run {name} on {} ({} islands; workers: automl-zero worker --redis URL --run {name})",
        automl_zero_distributed::store::redact(&url),
        start.config.search.islands
    ));
    let mut opts = WorkerOptions::new(server);
    opts.run = Some(name.clone());
    opts.threads = args.threads;
    opts.traffic = traffic;
    let stop = opts.stop.clone();
    let worker = std::thread::spawn(move || serve(&opts));
    let options = RunOptions {
        workers,
        interrupt: interrupt.clone(),
    };
    let Start {
        config,
        base_dir,
        out,
        resume,
        ..
    } = start;
    let result = experiment::run_with(
        &config,
        &base_dir,
        options,
        &mut reporter,
        resume,
        Some(&mut coordinator),
    );
    stop.store(true, Ordering::Relaxed);
    if let Ok(Err(e)) = worker.join() {
        reporter
            .display
            .message(&format!("warning: this process's worker stopped: {e}"));
    }
    let kept = match &result {
        Ok(r) if !r.summary.interrupted => coordinator.finish(&r.summary, &r.best.to_string()),
        _ => coordinator.stopped(),
    };
    let fresh = !reopen && result.is_err();
    let code = conclude(reporter, result.map_err(Into::into), fresh, &config, &out)?;
    kept.context("cannot record the run's end in Redis")?;
    if code != ExitCode::SUCCESS {
        println!(
            "(through Redis: automl-zero search --resume {} --redis URL --run {name})",
            out.display()
        );
    }
    Ok(code)
}

/// Arguments of `worker`.
#[derive(Args)]
#[command(after_help = "Examples:
  automl-zero worker --redis redis://127.0.0.1:6379
  automl-zero worker --redis redis://:PASSWORD@host:6379 --run exp1 --threads 8
  automl-zero worker --redis rediss://user:PASSWORD@host:6380 --redis-ca ca.pem --exit-when-idle

A worker leases islands' rounds of the runs on the server (or of --run), evolves them and \
stores the results, until killed (SIGKILL costs at most the rounds in progress: another worker \
plays them again) or, with --exit-when-idle, until no run is left. Workers may start before or \
after a run, on any machine that reaches the server and sees the runs' data files at the same \
paths.")]
pub struct WorkerArgs {
    /// The Redis server (redis://[USER:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS).
    #[arg(long, value_name = "URL")]
    redis: String,
    /// Serve only this run (default: every run on the server).
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// Threads to evaluate on (0: every core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Stop when no run is left to serve.
    #[arg(long)]
    exit_when_idle: bool,
    /// With rediss://: a CA certificate (PEM) to trust instead of the system's.
    #[arg(long, value_name = "FILE")]
    redis_ca: Option<PathBuf>,
    /// Say which rounds it runs (on stderr).
    #[arg(long, short)]
    verbose: bool,
}

/// Runs `worker`.
pub fn worker(args: WorkerArgs) -> Result<ExitCode> {
    if let Some(r) = &args.run {
        automl_zero_distributed::keys::check_run_name(r)
            .map_err(|e| anyhow::anyhow!("--run: {e}"))?;
    }
    let mut opts = WorkerOptions::new(server(&args.redis, args.redis_ca.as_ref()));
    opts.run = args.run;
    opts.threads = args.threads;
    opts.exit_when_idle = args.exit_when_idle;
    opts.verbose = args.verbose;
    let stop = opts.stop.clone();
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            std::process::exit(crate::INTERRUPTED.into());
        }
        eprintln!("\nstopping: the round in progress is left to another worker");
    })
    .context("cannot install the Ctrl-C handler")?;
    let individuals = serve(&opts)?;
    eprintln!("worker: {individuals} individuals evaluated");
    Ok(if opts.stop.load(Ordering::Relaxed) {
        ExitCode::from(crate::INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Arguments of `status`.
#[derive(Args)]
pub struct StatusArgs {
    /// The Redis server.
    #[arg(long, value_name = "URL")]
    redis: String,
    /// Only this run.
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// With rediss://: a CA certificate (PEM) to trust instead of the system's.
    #[arg(long, value_name = "FILE")]
    redis_ca: Option<PathBuf>,
}

/// Runs `status`.
pub fn status(args: StatusArgs) -> Result<()> {
    let server = server(&args.redis, args.redis_ca.as_ref());
    print!(
        "{}",
        automl_zero_distributed::status::status(&server, args.run.as_deref())?
    );
    Ok(())
}

/// Arguments of `forget`.
#[derive(Args)]
pub struct ForgetArgs {
    /// The Redis server.
    #[arg(long, value_name = "URL")]
    redis: String,
    /// The run whose keys to remove.
    #[arg(long, value_name = "NAME")]
    run: String,
    /// Remove it even while a search drives it.
    #[arg(long)]
    force: bool,
    /// With rediss://: a CA certificate (PEM) to trust instead of the system's.
    #[arg(long, value_name = "FILE")]
    redis_ca: Option<PathBuf>,
}

/// Runs `forget`.
pub fn forget(args: ForgetArgs) -> Result<()> {
    let server = server(&args.redis, args.redis_ca.as_ref());
    let n = automl_zero_distributed::status::forget(&server, &args.run, args.force)?;
    println!("run {}: {n} keys removed", args.run);
    Ok(())
}
