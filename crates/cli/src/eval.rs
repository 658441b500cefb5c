//! `automl-zero eval`: the fitness of one program on the tasks of a config, or on data files.

use crate::bench::{median, spread};
use crate::simplify::TaskList;
use anyhow::{Context, Result, bail};
use automl_zero_engine::builtins::{Builtin, Generator};
use automl_zero_engine::config::Config;
use automl_zero_engine::evaluation::test_split::{SplitMetrics, score_with_test};
use automl_zero_engine::evaluation::{Combination, EvalSettings};
use automl_zero_engine::experiment::search_settings;
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::program::{Algorithm, parse_file};
use automl_zero_engine::rng::Rng;
use automl_zero_engine::tasks::{
    EvalType, TaskKind, TaskSpec, file_tasks::padded_size, read_dataset, resolve_dataset_paths,
};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// How predictions are scored, for the quick form.
#[derive(Clone, Copy, ValueEnum)]
enum EvalTypeArg {
    #[value(name = "rms_error")]
    RmsError,
    Accuracy,
}

/// Arguments of `eval`.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  automl-zero eval best.txt --config configs/demo.toml --tasks final\n  automl-zero eval best.txt --config configs/demo.toml --set final_tasks.0.num_tasks=10\n  automl-zero eval --builtin linear --config configs/linear.toml\n  automl-zero eval --builtin neural_net --config configs/nonlinear.toml --seeds 20\n  automl-zero eval --builtin neural_net --config configs/fashion_mnist_baseline.toml --data-dir /usr/share/datasets\n  automl-zero eval prog.txt --train train.csv --valid valid.csv --eval-type rms_error --scalars 4 --vectors 3 --matrices 1"
)]
pub struct EvalArgs {
    /// The program file (readable text, or JSON if it ends in .json).
    #[arg(required_unless_present = "builtin", conflicts_with = "builtin")]
    program: Option<PathBuf>,
    /// Evaluate a built-in algorithm instead: no_op, random, linear, neural_net, damaged_neural_net, teacher.
    #[arg(long)]
    builtin: Option<String>,
    /// The config whose tasks and memory sizes to use (the quick form's flags are refused with it).
    #[arg(long, conflicts_with_all = ["train", "valid", "valid_fraction", "eval_type", "epochs", "scalars", "vectors", "matrices"])]
    config: Option<PathBuf>,
    /// Which of the config's task lists to use (search: with the search's settings). With
    /// `randomize_task_seeds`, a search drew other seeds for its search and select tasks than
    /// those the config lists, so its fitnesses differ from these.
    #[arg(long, value_enum, default_value = "final")]
    tasks: TaskList,
    /// Override a key of the --config, e.g. --set final_tasks.0.num_tasks=10 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// The folder where relative dataset paths of projected tasks are looked for first (then
    /// $AUTOML_ZERO_DATA, then the config's folder).
    #[arg(long, requires = "config", value_parser = crate::existing_folder)]
    data_dir: Option<PathBuf>,
    /// Quick form: training data file (CSV, .npy or .npz; the last column is the label). A CSV's
    /// first row is a header only if none of its cells is a number or empty.
    #[arg(long, requires = "eval_type")]
    train: Option<PathBuf>,
    /// Quick form: validation data file (or use --valid-fraction).
    #[arg(long)]
    valid: Option<PathBuf>,
    /// Quick form: the fraction of --train's rows held out for validation (drawn at random).
    #[arg(long, conflicts_with = "valid")]
    valid_fraction: Option<f64>,
    /// Quick form: how predictions are scored.
    #[arg(long, value_enum)]
    eval_type: Option<EvalTypeArg>,
    /// Quick form: passes over the training data.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Quick form: scalar memory size.
    #[arg(long, default_value_t = 20)]
    scalars: u16,
    /// Quick form: vector memory size.
    #[arg(long, default_value_t = 20)]
    vectors: u16,
    /// Quick form: matrix memory size.
    #[arg(long, default_value_t = 20)]
    matrices: u16,
    /// Seed of the program's random ops.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Score with this many seeds (--seed, --seed + 1, ...) and report the spread: how much a
    /// program with random ops (a weight initialisation, say) depends on its draws.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Print one JSON object: {"fitness": combined, "per_task": [...]} (and the test split's
    /// "test_fitness", "test_sd", "per_task_test" when the tasks have one); with --seeds,
    /// {"seeds", "fitness", "mean", "median", "min", "max"}.
    #[arg(long)]
    json: bool,
}

/// Runs `eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    if !args.overrides.is_empty() && args.config.is_none() {
        bail!(
            "--set changes keys of a config: give --config FILE (the quick form takes its values \
             from its own flags)"
        );
    }
    let (specs, key, settings, base_dir, size_init) = match (&args.config, &args.train) {
        (Some(path), _) => {
            let (config, base) = Config::load(path, &args.overrides)?;
            let key = args.tasks.key();
            let mut specs = args
                .tasks
                .specs(&config)
                .with_context(|| format!("{}", path.display()))?
                .to_vec();
            resolve_dataset_paths(&mut specs, key, &base, args.data_dir.as_deref())?;
            let mut settings = EvalSettings::plain(config.memory, config.search.max_abs_error);
            if let TaskList::Search = args.tasks {
                settings = search_settings(&config)?;
            }
            let s = &config.search;
            let size_init = [s.setup.size_init, s.predict.size_init, s.learn.size_init];
            (specs, key.to_string(), settings, base, size_init)
        }
        (None, Some(train)) => {
            let data = read_dataset(train)?;
            let f = data.num_features;
            let Some(padded) = padded_size(f) else {
                bail!(
                    "{}: rows have {f} features; the engine takes at most 32 (select or project features)",
                    train.display()
                );
            };
            if args.valid.is_none() && args.valid_fraction.is_none() {
                bail!("give --valid FILE or --valid-fraction F with --train");
            }
            if let Some(valid) = &args.valid {
                let v = read_dataset(valid)?.num_features;
                if v != f {
                    bail!(
                        "{}: rows have {v} features, but those of --train {} have {f}",
                        valid.display(),
                        train.display()
                    );
                }
            }
            if let Some(v) = args.valid_fraction
                && !(v > 0.0 && v < 1.0)
            {
                bail!("--valid-fraction: {v} is not in (0, 1)");
            }
            if args.epochs == 0 {
                bail!("--epochs: must be at least 1");
            }
            let mut spec = TaskSpec::generated(TaskKind::Files, padded, 0, 0, 1);
            spec.num_train_epochs = args.epochs;
            spec.train_file = Some(train.clone());
            spec.valid_file = args.valid.clone();
            spec.valid_fraction = args.valid_fraction;
            spec.eval_type = match args
                .eval_type
                .expect("clap requires --eval-type with --train")
            {
                EvalTypeArg::RmsError => EvalType::RmsError,
                EvalTypeArg::Accuracy => EvalType::Accuracy,
            };
            let sizes = MemorySizes {
                scalars: args.scalars,
                vectors: args.vectors,
                matrices: args.matrices,
            };
            sizes.check().map_err(anyhow::Error::msg)?;
            let settings = EvalSettings::plain(sizes, 100.0);
            (
                vec![spec],
                "data".to_string(),
                settings,
                PathBuf::from("."),
                [0; 3],
            )
        }
        (None, None) => {
            bail!("give --config FILE, or --train FILE with --valid FILE and --eval-type")
        }
    };
    let algorithm = load_program(&args, &settings.sizes, size_init)?;
    if args.seeds > 1 {
        let seeds: Vec<u64> = (0..args.seeds).map(|k| args.seed + k).collect();
        let mut fitness = Vec::with_capacity(seeds.len());
        for &seed in &seeds {
            let f = score_with_test(&algorithm, &specs, &key, &settings, &base_dir, seed)?.fitness;
            if !args.json {
                println!("seed {seed:>4}: {f:.6}");
            }
            fitness.push(f);
        }
        let mean = fitness.iter().sum::<f64>() / fitness.len() as f64;
        let middle = median(fitness.clone());
        let (min, max) = spread(&fitness);
        if args.json {
            let out = serde_json::json!({
                "seeds": seeds,
                "fitness": fitness,
                "mean": mean,
                "median": middle,
                "min": min,
                "max": max,
            });
            println!("{out}");
        } else {
            println!(
                "fitness over {} seeds: mean {mean:.6}, median {middle:.6}, min {min:.6}, max {max:.6}",
                seeds.len()
            );
        }
        return Ok(());
    }
    let scores = score_with_test(&algorithm, &specs, &key, &settings, &base_dir, args.seed)?;
    let (fitness, per_task) = (scores.fitness, &scores.per_task);
    let test = scores.test_mean_sd();
    if args.json {
        let mut out = serde_json::json!({
            "fitness": fitness,
            "per_task": per_task,
            "metrics": scores.metrics,
        });
        if let Some((_, sd)) = test {
            out["test_fitness"] = serde_json::json!(scores.test_fitness);
            out["test_sd"] = serde_json::json!(sd);
            out["per_task_test"] = serde_json::json!(scores.per_task_test);
        }
        println!("{out}");
    } else {
        for (i, (f, t)) in per_task.iter().zip(&scores.per_task_test).enumerate() {
            match t {
                Some(t) => println!("task {i:>4}: {f:.6}  test {t:.6}"),
                None => println!("task {i:>4}: {f:.6}"),
            }
        }
        let how = match settings.combination {
            Combination::Mean => "mean",
            Combination::Median => "median",
        };
        println!("fitness ({how} of {} tasks): {fitness:.6}", per_task.len());
        if let (Some((mean, sd)), Some(combined)) = (test, scores.test_fitness) {
            let n = scores.per_task_test.iter().flatten().count();
            // The mean is the combined fitness unless tasks combine by their median.
            match settings.combination {
                Combination::Mean => {
                    println!("test fitness (mean of {n} tasks): {combined:.6} (sd {sd:.6})")
                }
                Combination::Median => println!(
                    "test fitness (median of {n} tasks): {combined:.6} (mean {mean:.6}, sd {sd:.6})"
                ),
            }
        }
        print_metrics("", &scores.metrics, per_task.len());
    }
    Ok(())
}

/// Prints the metrics of the validation and test rows (in the label's units), each line
/// starting with `prefix` ("Final", say).
pub fn print_metrics(prefix: &str, metrics: &SplitMetrics, tasks: usize) {
    let of = if tasks == 1 {
        "1 task".to_string()
    } else {
        format!("mean of {tasks} tasks")
    };
    for (split, m) in [("validation", metrics.valid), ("test", metrics.test)] {
        if let Some(m) = m {
            let head = if prefix.is_empty() {
                format!("{}{}", split[..1].to_uppercase(), &split[1..])
            } else {
                format!("{prefix} {split}")
            };
            println!("{head} rows ({of}): {m}");
        }
    }
}

fn load_program(args: &EvalArgs, sizes: &MemorySizes, size_init: [usize; 3]) -> Result<Algorithm> {
    if let Some(name) = &args.builtin {
        let which = Builtin::from_name(name).map_err(anyhow::Error::msg)?;
        let generator = Generator {
            sizes: *sizes,
            size_init,
            ops: Default::default(),
        };
        return generator
            .build(which, &mut Rng::new(args.seed, 0))
            .map_err(anyhow::Error::msg)
            .context("--builtin");
    }
    let path = args
        .program
        .as_ref()
        .expect("clap requires a program or --builtin");
    Ok(parse_file(path, sizes)?)
}
