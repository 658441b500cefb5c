//! `automl-zero simplify`: the smallest equivalent program, annotated, and a fitness check.

use anyhow::{Context, Result, bail};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::EvalSettings;
use automl_zero_engine::experiment::{score, search_settings};
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::program::parse_file;
use automl_zero_engine::simplify::simplify;
use automl_zero_engine::tasks::TaskSpec;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Which of a config's task lists the fitness is checked on.
#[derive(Clone, Copy, ValueEnum)]
pub enum TaskList {
    /// `search_tasks`.
    Search,
    /// `select_tasks`.
    Select,
    /// `final_tasks`.
    Final,
}

impl TaskList {
    /// The config key of the list.
    pub fn key(self) -> &'static str {
        match self {
            TaskList::Search => "search_tasks",
            TaskList::Select => "select_tasks",
            TaskList::Final => "final_tasks",
        }
    }

    /// The list's tasks in a config; an empty list is an error that names the lists it has.
    pub fn specs(self, config: &Config) -> Result<&[TaskSpec]> {
        let list = |t: TaskList| match t {
            TaskList::Search => &config.search_tasks,
            TaskList::Select => &config.select_tasks,
            TaskList::Final => &config.final_tasks,
        };
        let specs = list(self);
        if specs.is_empty() {
            let have: Vec<String> = [TaskList::Search, TaskList::Select, TaskList::Final]
                .into_iter()
                .filter(|&t| !list(t).is_empty())
                .map(|t| format!("--tasks {}", t.key().trim_end_matches("_tasks")))
                .collect();
            bail!(
                "`{}` of the config lists no tasks; choose a list it has: {}",
                self.key(),
                have.join(" or ")
            );
        }
        Ok(specs)
    }
}

/// Arguments of `simplify`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  automl-zero simplify runs/demo/best.txt --config configs/demo.toml\n  automl-zero simplify prog.txt --scalars 4 --vectors 3 --matrices 1 -o prog.simplified.txt"
)]
pub struct SimplifyArgs {
    /// The program file (readable text, or JSON if it ends in .json).
    program: PathBuf,
    /// A config: its memory sizes read the program, and the fitness on its tasks is checked
    /// to be unchanged.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Which of the config's task lists to check the fitness on (search: with the search's
    /// settings, without FEC and train budget). With `randomize_task_seeds`, a search drew other
    /// seeds for its search and select tasks than those the config lists.
    #[arg(long, value_enum, default_value = "final", requires = "config")]
    tasks: TaskList,
    /// Scalar memory size the program is read with (without --config).
    #[arg(long, default_value_t = 20, conflicts_with = "config")]
    scalars: u16,
    /// Vector memory size the program is read with (without --config).
    #[arg(long, default_value_t = 20, conflicts_with = "config")]
    vectors: u16,
    /// Matrix memory size the program is read with (without --config).
    #[arg(long, default_value_t = 20, conflicts_with = "config")]
    matrices: u16,
    /// Seed of the program's random ops during the check.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write the annotated simplified program to this file.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Runs `simplify`.
pub fn run(args: SimplifyArgs) -> Result<()> {
    let config = match &args.config {
        Some(path) => Some(Config::load(path, &[])?),
        None => None,
    };
    let sizes = match &config {
        Some((config, _)) => config.memory,
        None => {
            let sizes = MemorySizes {
                scalars: args.scalars,
                vectors: args.vectors,
                matrices: args.matrices,
            };
            sizes.check().map_err(anyhow::Error::msg)?;
            sizes
        }
    };
    if let (Some((config, _)), Some(path)) = (&config, &args.config) {
        args.tasks
            .specs(config)
            .with_context(|| format!("{}", path.display()))?;
    }
    let original = parse_file(&args.program, &sizes)?;
    let simplified = simplify(&original);
    let text = simplified.annotated();
    print!("{text}");
    if let Some(out) = &args.output {
        std::fs::write(out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let Some((config, base_dir)) = config else {
        return Ok(());
    };
    let key = args.tasks.key();
    let specs = args.tasks.specs(&config)?;
    let settings = match args.tasks {
        // No train budget: it judges a program's cost, which simplification lowers.
        TaskList::Search => EvalSettings {
            fec: None,
            canonical_cache: 0,
            budget: None,
            ..search_settings(&config)?
        },
        _ => EvalSettings::plain(config.memory, config.search.max_abs_error),
    };
    let (before, per_task) = score(&original, specs, key, &settings, &base_dir, args.seed)?;
    let (after, _) = score(
        &simplified.algorithm,
        specs,
        key,
        &settings,
        &base_dir,
        args.seed,
    )?;
    let verdict = if before.to_bits() == after.to_bits() {
        "unchanged"
    } else if original.has_random_ops() {
        "changed: the original also draws random numbers in dead instructions, so the random ops see other draws"
    } else {
        bail!(
            "the fitness on {key} changed from {before:?} to {after:?}; simplification must not change it (please report this program)"
        );
    };
    println!(
        "\nfitness on {key} ({} tasks): original {before:.6}, simplified {after:.6} ({verdict})",
        per_task.len()
    );
    Ok(())
}
