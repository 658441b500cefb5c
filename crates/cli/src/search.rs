//! `automl-zero search`: run the experiment protocol of a config and write a run folder.

use crate::progress::Display;
use crate::run_dir::{RunDir, default_path};
use anyhow::{Context, Result};
use automl_zero_engine::checkpoint::{self, Checkpoint};
use automl_zero_engine::config::{Config, DEMO};
use automl_zero_engine::evaluation::Workers;
use automl_zero_engine::evolution::Progress;
use automl_zero_engine::experiment::{
    self, ExperimentResult, Observer, RunOptions, RunState, seed_from_clock,
};
use automl_zero_engine::extend;
use automl_zero_engine::program::Algorithm;
use automl_zero_engine::tasks::resolve_dataset_paths;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Arguments of `search`.
#[derive(Args)]
#[command(after_help = "Examples:
  automl-zero search                                      the demo (configs/demo.toml, embedded)
  automl-zero search configs/linear.toml
  automl-zero search configs/demo.toml --set search.population_size=100 --set max_experiments=1
  automl-zero search configs/nonlinear.toml --threads 2 --seed 1
  automl-zero search configs/linear.toml --out runs/linear
  automl-zero search --resume runs/linear
  automl-zero search --resume runs/linear --set search.max_seconds=600

Resuming: a run writes checkpoint.json into its folder every \
checkpoint_every_seconds (default 60), when it ends, and when stopped by Ctrl-C or SIGTERM \
(which then writes the run folder with the best found so far and exits with status 130); \
`automl-zero search --resume RUN_DIR` carries a stopped run on to exactly the result of a run \
never stopped (give a checkpoint file instead of the folder to resume from \
checkpoint.prev.json).

Extending: `--resume RUN_DIR --set KEY=VALUE` carries a stopped or \
finished run on with new limits (search.max_seconds, search.max_train_steps, \
search.max_individuals, max_experiments, sufficient_fitness, search.stop_at_sufficient_fitness): \
a search stopped by a limit it now lifts goes on, and new experiments start if max_experiments \
or sufficient_fitness allow. It ends exactly as a run started with those limits (limits that \
the run so far contradicts, and any other key, are refused with the reason).")]
pub struct SearchArgs {
    /// The experiment config (TOML). Without one, the embedded demo (configs/demo.toml) runs.
    config: Option<PathBuf>,
    /// The run's seed (overrides random_seed; 0 draws one).
    #[arg(long)]
    seed: Option<u64>,
    /// The run folder (default: runs/<date>-<time>-<seed>); one that already holds a run is refused
    /// (the error says whether that run can be resumed), and one left by a run that failed on its
    /// input before it had anything to keep is removed.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a config key, e.g. --set search.population_size=100 (repeatable); with
    /// --resume, a new limit of the run (see below).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) overrides: Vec<String>,
    /// Print only the final result.
    #[arg(long, short)]
    quiet: bool,
    /// The folder where relative dataset paths of projected tasks are looked for first (then
    /// $AUTOML_ZERO_DATA, then the config's folder).
    #[arg(long, value_parser = crate::existing_folder)]
    data_dir: Option<PathBuf>,
    /// Threads to evaluate on (0: every core). The result does not depend on it.
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
    /// Carry on a stopped run from its folder's checkpoint (or from a checkpoint file); a run
    /// whose summary.json says it finished carries on only with a raised limit (--set).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["config", "seed", "out", "data_dir"])]
    pub(crate) resume: Option<PathBuf>,
    /// Spread the islands over workers through this Redis server
    /// (redis://[USER:PASSWORD@]HOST:PORT[/DB], or rediss:// for TLS); see docs/distributed.md.
    #[arg(long, value_name = "URL")]
    pub(crate) redis: Option<String>,
    /// With --redis: the run's name on the server (default: the run folder's name).
    #[arg(long, value_name = "NAME", requires = "redis")]
    pub(crate) run: Option<String>,
    /// With rediss://: a CA certificate (PEM) to trust instead of the system's.
    #[arg(long, value_name = "FILE", requires = "redis")]
    pub(crate) redis_ca: Option<PathBuf>,
}

/// The observer of a search: the display and the run folder.
pub(crate) struct Reporter {
    pub(crate) dir: RunDir,
    pub(crate) display: Display,
    error: Option<anyhow::Error>,
}

impl Reporter {
    fn keep(&mut self, r: Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }
}

impl Observer for Reporter {
    fn progress(&mut self, p: &Progress) {
        self.display.progress(p);
        let line = serde_json::to_value(p).expect("progress serializes");
        let r = self.dir.append_progress(&line);
        self.keep(r);
    }

    fn experiment(&mut self, r: &ExperimentResult, candidate: &Algorithm) {
        self.display.message(&format!(
            "Experiment {} done after {} individuals ({}): search fitness {:.6}, select fitness {:.6}{}",
            r.experiment,
            r.individuals,
            r.stop_reason.name(),
            r.search_fitness,
            r.select_fitness,
            if r.best_so_far { " (best so far)" } else { "" }
        ));
        self.display.restart();
        if r.best_so_far {
            let a = self.dir.write("best.txt", &candidate.to_string());
            let b = self.dir.write("best.json", &candidate.to_json());
            self.keep(a.and(b));
        }
    }

    fn message(&mut self, text: &str) {
        self.display.message(text);
    }

    fn checkpoint(&mut self, config: &Config, state: &RunState) {
        let checkpoint = Checkpoint {
            config: config.clone(),
            state: state.clone(),
        };
        if let Err(e) = automl_zero_engine::checkpoint::write(&self.dir.path, &checkpoint) {
            self.display
                .message(&format!("warning: the checkpoint was not written: {e}"));
            self.error.get_or_insert(e.into());
        }
    }
}

/// What a search starts from.
pub(crate) struct Start {
    pub(crate) config: Config,
    /// The folder relative paths start from.
    pub(crate) base_dir: PathBuf,
    /// The run folder.
    pub(crate) out: PathBuf,
    /// The state of a resumed run.
    pub(crate) resume: Option<RunState>,
    /// Whether `--set` gave a resumed run new limits.
    pub(crate) extended: bool,
}

/// Reads the checkpoint of a run to carry on, and applies new limits from `--set`.
fn resume(path: &Path, overrides: &[String]) -> Result<Start> {
    let file = checkpoint::locate(path);
    let dir = file
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let finished = crate::run_dir::finished(&dir);
    if let Some(reason) = &finished
        && overrides.is_empty()
    {
        anyhow::bail!(
            "cannot resume: the run in {} finished (stop reason: {reason}; see its \
             summary.json); to carry it on, raise a limit, e.g. `automl-zero search --resume {} \
             --set search.max_seconds=600` (the limits: {})",
            dir.display(),
            dir.display(),
            extend::LIMIT_KEYS.join(", ")
        );
    }
    let c = checkpoint::read(&file).map_err(|e| unreadable(e, &file, &dir, finished.is_some()))?;
    // Data paths were made absolute when the run started, so that they read the same files
    // from any folder.
    let mut start = Start {
        config: c.config,
        base_dir: PathBuf::from("."),
        out: dir,
        resume: Some(c.state),
        extended: !overrides.is_empty(),
    };
    if overrides.is_empty() {
        return Ok(start);
    }
    let origin = format!("the run's config (in {})", file.display());
    let config = extend::with_limits(&start.config, &origin, overrides)?;
    let state = start.resume.as_ref().expect("a resumed run has a state");
    extend::check(&start.config, &config, state)
        .map_err(|e| anyhow::anyhow!("cannot carry the run on with this limit: {e}"))?;
    if let Some(reason) = finished
        && config == start.config
    {
        anyhow::bail!(
            "the run in {} finished with these limits (stop reason: {reason}): raise one to \
             carry it on",
            start.out.display()
        );
    }
    start.config = config;
    Ok(start)
}

/// The error of a checkpoint that cannot be read, with the way out.
fn unreadable(
    e: checkpoint::CheckpointError,
    file: &Path,
    dir: &Path,
    finished: bool,
) -> anyhow::Error {
    let previous = dir.join(checkpoint::PREVIOUS);
    let hint = if file.file_name() != previous.file_name() && previous.exists() {
        format!(
            "\nThe previous checkpoint is still there: automl-zero search --resume {}",
            previous.display()
        )
    } else if finished {
        "\n(A run that finished before this version kept no final checkpoint: run its \
         config.toml again with the larger limit.)"
            .to_string()
    } else {
        String::new()
    };
    anyhow::anyhow!("cannot resume: {e}{hint}")
}

/// Reads the config of a new run, or the checkpoint of a resumed one.
pub(crate) fn start(args: &SearchArgs) -> Result<Start> {
    if let Some(path) = &args.resume {
        return resume(path, &args.overrides);
    }
    let (mut config, base_dir) = match &args.config {
        Some(path) => Config::load(path, &args.overrides)?,
        None => (
            Config::from_text(DEMO, "the embedded demo config", &args.overrides)?,
            PathBuf::from("."),
        ),
    };
    config.check_ends().map_err(|e| {
        let origin = args
            .config
            .as_ref()
            .map_or("the embedded demo config".to_string(), |p| {
                p.display().to_string()
            });
        anyhow::anyhow!("{origin}: {e}")
    })?;
    if let Some(seed) = args.seed {
        config.random_seed = seed;
    }
    if config.random_seed == 0 {
        config.random_seed = seed_from_clock();
    }
    for (key, specs) in [
        ("search_tasks", &mut config.search_tasks),
        ("select_tasks", &mut config.select_tasks),
        ("final_tasks", &mut config.final_tasks),
    ] {
        resolve_dataset_paths(specs, key, &base_dir, args.data_dir.as_deref())?;
    }
    // A program file of the initial population, like the data files.
    config.search.initial_population.resolve(&base_dir);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_path(config.random_seed));
    Ok(Start {
        config,
        base_dir,
        out,
        resume: None,
        extended: false,
    })
}

/// Records a resumed run's new limits in its folder before it goes on: the checkpoint (so that
/// a kill resumes under them), `config.toml`, and no `summary.json` until the run ends again.
fn keep_limits(dir: &RunDir, config: &Config, state: &RunState) -> Result<()> {
    let checkpoint = Checkpoint {
        config: config.clone(),
        state: state.clone(),
    };
    checkpoint::write(&dir.path, &checkpoint)?;
    dir.write("config.toml", &config.to_toml())?;
    match std::fs::remove_file(dir.path.join("summary.json")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e)
            .with_context(|| format!("cannot remove {}", dir.path.join("summary.json").display())),
        _ => Ok(()),
    }
}

/// Runs `search`; a run stopped by Ctrl-C or SIGTERM writes its folder and exits with
/// [`crate::INTERRUPTED`].
pub fn run(args: SearchArgs) -> Result<ExitCode> {
    if args.redis.is_some() {
        return crate::distributed::search(args);
    }
    let start = start(&args)?;
    let workers = Workers::new(args.threads).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
    let fresh = start.resume.is_none();
    let (mut reporter, interrupt) = prepare(&args, &start, &workers, !fresh)?;
    let options = RunOptions { workers, interrupt };
    let Start {
        config,
        base_dir,
        out,
        resume,
        ..
    } = start;
    let result = experiment::run(&config, &base_dir, options, &mut reporter, resume);
    conclude(reporter, result.map_err(Into::into), fresh, &config, &out)
}

/// Opens the run folder (`reopen`: an existing one, cut back to the state's reports), says
/// what runs, and installs the Ctrl-C handler; returns the observer and the interrupt flag.
pub(crate) fn prepare(
    args: &SearchArgs,
    start: &Start,
    workers: &Workers,
    reopen: bool,
) -> Result<(Reporter, Arc<AtomicBool>)> {
    let (config, out) = (&start.config, &start.out);
    let dir = if reopen {
        let reports = start.resume.as_ref().map_or(0, |s| s.progress_reports);
        let (dir, warning) = RunDir::reopen(out.clone(), reports)?;
        if let Some(w) = warning {
            eprintln!("{w}");
        }
        if start.extended
            && let Some(state) = &start.resume
        {
            keep_limits(&dir, config, state)?;
        }
        dir
    } else {
        let dir = RunDir::create(out.clone())?;
        dir.write("config.toml", &config.to_toml())?;
        dir
    };
    let display = Display::new(
        args.quiet,
        config.search.max_individuals,
        config.search.max_seconds,
        dir.best_reported(),
    );
    display.message(&format!("Random seed = {}", config.random_seed));
    if start.extended {
        display.message(&format!(
            "Carrying the run on with {}",
            args.overrides.join(", ")
        ));
    }
    display.message(&format!(
        "Run folder: {} ({} thread{})",
        out.display(),
        workers.threads(),
        if workers.threads() == 1 { "" } else { "s" }
    ));
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted twice: exiting now");
            std::process::exit(crate::INTERRUPTED.into());
        }
        eprintln!(
            "\ninterrupted: writing a checkpoint and finishing with the best found so far (Ctrl-C again to quit at once)"
        );
    })
    .context("cannot install the Ctrl-C handler")?;
    let reporter = Reporter {
        dir,
        display,
        error: None,
    };
    Ok((reporter, interrupt))
}

/// Writes the run folder of a run's result and prints it; a new run (`fresh`) that failed
/// removes its folder.
pub(crate) fn conclude(
    mut reporter: Reporter,
    result: Result<experiment::RunResult>,
    fresh: bool,
    config: &Config,
    out: &Path,
) -> Result<ExitCode> {
    reporter.display.finish();
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            // A new run that failed before it had anything to keep (bad data, say) leaves no
            // folder behind, so that the same --out works once the input is fixed.
            if fresh {
                reporter.dir.discard();
            }
            return Err(e);
        }
    };
    if let Some(e) = reporter.error.take() {
        return Err(e);
    }
    let dir = reporter.dir;
    dir.write("best.txt", &result.best.to_string())?;
    dir.write("best.json", &result.best.to_json())?;
    let simplified = automl_zero_engine::simplify::simplify(&result.best);
    dir.write("best.simplified.txt", &simplified.annotated())?;
    dir.write("best.py", &crate::export::best_py(&simplified, config)?)?;
    let summary = serde_json::to_string_pretty(&result.summary).expect("summary serializes");
    dir.write("summary.json", &(summary + "\n"))?;
    print_result(&result, config, out);
    Ok(if result.summary.interrupted {
        ExitCode::from(crate::INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints a run's result.
fn print_result(result: &experiment::RunResult, config: &Config, out: &Path) {
    let s = &result.summary;
    println!();
    println!("Search fitness = {:.6}", s.search_fitness);
    println!("Select fitness = {:.6}", s.select_fitness);
    if let Some(f) = s.final_fitness {
        println!("Final evaluation fitness (on unseen data) = {f:.6}");
    }
    if s.interrupted {
        println!(
            "Stopped early; carry on with: automl-zero search --resume {}",
            out.display()
        );
    }
    if let Some(t) = s.final_test_fitness {
        println!("Final test fitness (on the final tasks' test examples) = {t:.6}");
    }
    if let Some(metrics) = &s.final_metrics {
        let tasks = config.final_tasks.iter().map(|t| t.num_tasks).sum();
        crate::eval::print_metrics("Final", metrics, tasks);
    }
    println!(
        "{} experiment{}, {} individuals, {:.1} s, FEC hits {} / misses {}",
        s.experiments,
        if s.experiments == 1 { "" } else { "s" },
        s.individuals,
        s.elapsed_seconds,
        s.fec_hits,
        s.fec_misses
    );
    println!("Algorithm found:\n{}", result.best);
    println!("Written to {}", out.display());
}
