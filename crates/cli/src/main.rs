//! `automl-zero`: evolve machine-learning algorithms from scratch, from the command line.

mod bench;
mod distributed;
mod eval;
mod export;
mod init;
mod plot;
mod predict;
mod progress;
mod run_dir;
mod search;
mod simplify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Evolve whole machine-learning algorithms (Setup, Predict, Learn) from basic math operations.
#[derive(Parser)]
#[command(name = "automl-zero", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The exit status of a search stopped by Ctrl-C or SIGTERM once it has written its run folder
/// (128 + SIGINT, as a shell reports a program stopped by Ctrl-C).
const INTERRUPTED: u8 = 130;

#[derive(Subcommand)]
enum Command {
    /// Write a complete, commented config for a data file (CSV, npy, npz).
    Init(init::InitArgs),
    /// Search for an algorithm with regularized evolution (or random search).
    Search(search::SearchArgs),
    /// Train a found learner as its run did, and predict new rows.
    Predict(predict::PredictArgs),
    /// Evaluate a program (or a built-in algorithm) on tasks and print its fitness.
    Eval(eval::EvalArgs),
    /// List the ops: name, printed form, operand classes and cost.
    Ops,
    /// Measure the search's speed on a config: individuals, steps and instructions per second.
    Bench(bench::BenchArgs),
    /// Print the smallest equivalent program, annotated; with --config, check its fitness.
    Simplify(simplify::SimplifyArgs),
    /// Write a program as a self-contained Python (NumPy) or Rust module.
    Export(export::ExportArgs),
    /// Plot a run folder's progress.jsonl as progress.png and progress.svg.
    Plot(plot::PlotArgs),
    /// Serve runs through Redis: lease islands, evolve them, store the results.
    Worker(distributed::WorkerArgs),
    /// Show the runs on a Redis server: islands, rounds, workers, best fitness.
    Status(distributed::StatusArgs),
    /// Remove a run's keys from a Redis server.
    Forget(distributed::ForgetArgs),
}

fn main() -> ExitCode {
    // Output piped into a program that stops reading (`| head`) ends this one quietly, as Unix
    // tools do, instead of a panic on the failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // A command returns its exit status when it has one other than success to give.
    let success = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
    let result = match cli.command {
        Command::Init(args) => success(init::run(args)),
        Command::Search(args) => search::run(args),
        Command::Predict(args) => success(predict::run(args)),
        Command::Eval(args) => success(eval::run(args)),
        Command::Simplify(args) => success(simplify::run(args)),
        Command::Export(args) => success(export::run(args)),
        Command::Plot(args) => success(plot::run(args)),
        Command::Bench(args) => success(bench::run(args)),
        Command::Worker(args) => distributed::worker(args),
        Command::Status(args) => success(distributed::status(args)),
        Command::Forget(args) => success(distributed::forget(args)),
        Command::Ops => {
            list_ops();
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn list_ops() {
    use automl_zero_engine::ops::{OPS, Op};
    use automl_zero_engine::program::Instruction;
    println!(
        "{:<3} {:<26} {:<8} {:<11} printed as",
        "#", "name", "class", "cost"
    );
    for (i, info) in OPS.iter().enumerate() {
        let op = Op::ALL[i];
        let example = Instruction {
            op,
            in1: 1,
            in2: 2,
            out: 3,
            activation: 0.5,
            data: [0.25, 0.5, 0.75],
        };
        println!(
            "{:<3} {:<26} {:<8} {:<11} {}",
            i,
            info.name,
            format!("{:?}", info.class()).to_lowercase(),
            info.cost,
            example
        );
    }
}

/// Parses a flag naming a folder that must exist.
fn existing_folder(text: &str) -> Result<std::path::PathBuf, String> {
    let path = std::path::PathBuf::from(text);
    if path.is_dir() {
        Ok(path)
    } else if path.exists() {
        Err(format!("`{text}` is not a folder"))
    } else {
        Err(format!("the folder `{text}` does not exist"))
    }
}
