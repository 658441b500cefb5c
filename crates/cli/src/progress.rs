//! How a search's progress is shown: a live bar on a terminal, plain lines otherwise.

use automl_zero_engine::evolution::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// The person watching: how progress is shown, and the best fitness the run has reported.
pub struct Display {
    view: View,
    /// The best population fitness of any report of the run so far (every experiment's).
    run_best: Option<f64>,
}

/// A bar that redraws in place, or lines for logs and pipes.
enum View {
    /// Nothing but the final result.
    Quiet,
    /// One line per report (stdout is not a terminal).
    Lines,
    /// A live bar (stdout is a terminal).
    Bar {
        bar: ProgressBar,
        max_individuals: Option<u64>,
        max_seconds: Option<f64>,
    },
}

impl Display {
    /// Chooses the display for this process's stdout; `run_best` is the best fitness reported
    /// before (by the run a resumed one carries on).
    pub fn new(
        quiet: bool,
        max_individuals: Option<u64>,
        max_seconds: Option<f64>,
        run_best: Option<f64>,
    ) -> Display {
        let view = if quiet {
            View::Quiet
        } else if !std::io::stdout().is_terminal() {
            View::Lines
        } else {
            View::Bar {
                bar: live_bar(max_individuals),
                max_individuals,
                max_seconds,
            }
        };
        Display { view, run_best }
    }

    /// Shows a progress report.
    pub fn progress(&mut self, p: &Progress) {
        let run_best = self.run_best.map_or(p.best, |b| b.max(p.best));
        self.run_best = Some(run_best);
        match &self.view {
            View::Quiet => {}
            View::Lines => println!("{}", line(p, run_best)),
            View::Bar {
                bar,
                max_individuals,
                max_seconds,
            } => {
                bar.set_position(p.individuals);
                let left = match (max_seconds, max_individuals) {
                    (Some(s), _) => format!(", {} left", clock((s - p.elapsed_seconds).max(0.0))),
                    (None, Some(m)) if p.individuals_per_second > 0.0 => format!(
                        ", ~{} left",
                        clock(m.saturating_sub(p.individuals) as f64 / p.individuals_per_second)
                    ),
                    _ => String::new(),
                };
                bar.set_message(bar_message(p, run_best, &left));
            }
        }
    }

    /// Shows a message (above the bar, when there is one).
    pub fn message(&self, text: &str) {
        match &self.view {
            View::Quiet => {}
            View::Lines => println!("{text}"),
            View::Bar { bar, .. } => bar.println(text),
        }
    }

    /// A new experiment starts: the bar starts again.
    pub fn restart(&self) {
        if let View::Bar { bar, .. } = &self.view {
            bar.set_position(0);
            bar.reset_eta();
        }
    }

    /// Removes the bar before the final result is printed.
    pub fn finish(&self) {
        if let View::Bar { bar, .. } = &self.view {
            bar.finish_and_clear();
        }
    }
}

/// A live bar drawing to stdout, against `max_individuals` when there is one.
fn live_bar(max_individuals: Option<u64>) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(max_individuals, ProgressDrawTarget::stdout_with_hz(4));
    let style = match max_individuals {
        Some(_) => ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30.cyan/blue} {human_pos}/{human_len} {msg}",
        ),
        None => ProgressStyle::with_template("{spinner} [{elapsed_precise}] {human_pos} {msg}"),
    }
    .expect("the templates are valid")
    .progress_chars("=> ");
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// A plain progress line: the population's statistics, then the run's best so far.
fn line(p: &Progress, run_best: f64) -> String {
    format!(
        "indivs={}, elapsed_secs={:.0}, mean={:.6}, stdev={:.6}, best fit={:.6}, run best={:.6}, indivs/s={:.0}, fec_hit_rate={:.3}",
        p.individuals,
        p.elapsed_seconds,
        p.mean,
        p.stdev,
        p.best,
        run_best,
        p.individuals_per_second,
        p.fec_hit_rate()
    )
}

/// The live bar's message: the run's best, and this experiment's when it is lower.
fn bar_message(p: &Progress, run_best: f64, left: &str) -> String {
    let best = if run_best > p.best {
        format!("run best {run_best:.6} (exp {:.6})", p.best)
    } else {
        format!("run best {run_best:.6}")
    };
    format!(
        "exp {} · {best} · mean {:.4} · {:.0} indiv/s · FEC hits {:.0}%{left}",
        p.experiment,
        p.mean,
        p.individuals_per_second,
        100.0 * p.fec_hit_rate()
    )
}

/// Seconds as h:mm:ss.
fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report of experiment `experiment` whose population's best is `best`.
    fn report(experiment: u64, best: f64) -> Progress {
        let json = serde_json::json!({
            "experiment": experiment, "individuals": 1000, "train_steps": 5000,
            "elapsed_seconds": 2.0, "mean": 0.3, "stdev": 0.1, "best": best,
            "individuals_per_second": 500.0, "fec_hits": 1, "fec_misses": 3, "canonical_hits": 0,
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_run_best_is_shown_across_experiments() {
        let mut display = Display {
            view: View::Quiet,
            run_best: None,
        };
        display.progress(&report(0, 0.8));
        assert_eq!(display.run_best, Some(0.8));
        // A later experiment starts lower: the bar keeps the run's best, and shows its own.
        let second = report(1, 0.5);
        display.progress(&second);
        assert_eq!(display.run_best, Some(0.8));
        let text = bar_message(&second, 0.8, "");
        assert!(
            text.starts_with("exp 1 · run best 0.800000 (exp 0.500000) · mean 0.3000"),
            "{text}"
        );
        assert!(line(&second, 0.8).contains("best fit=0.500000, run best=0.800000"));
        // Once the experiment beats it, one best is shown.
        let third = report(1, 0.9);
        display.progress(&third);
        assert_eq!(display.run_best, Some(0.9));
        assert!(bar_message(&third, 0.9, "").contains("· run best 0.900000 · mean"));
        // A resumed run starts from the best reported before the checkpoint.
        let mut resumed = Display {
            view: View::Quiet,
            run_best: Some(0.95),
        };
        resumed.progress(&third);
        assert_eq!(resumed.run_best, Some(0.95));
    }
}
