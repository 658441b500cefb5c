//! How a search's progress is shown: a live bar on a terminal, plain lines otherwise.

use automl_zero_engine::evolution::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// The person watching: a bar that redraws in place, or lines for logs and pipes.
pub enum Display {
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
    /// Chooses the display for this process's stdout.
    pub fn new(quiet: bool, max_individuals: Option<u64>, max_seconds: Option<f64>) -> Display {
        if quiet {
            return Display::Quiet;
        }
        if !std::io::stdout().is_terminal() {
            return Display::Lines;
        }
        let bar =
            ProgressBar::with_draw_target(max_individuals, ProgressDrawTarget::stdout_with_hz(4));
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
        Display::Bar {
            bar,
            max_individuals,
            max_seconds,
        }
    }

    /// Shows a progress report.
    pub fn progress(&self, p: &Progress) {
        match self {
            Display::Quiet => {}
            Display::Lines => println!(
                "indivs={}, elapsed_secs={:.0}, mean={:.6}, stdev={:.6}, best fit={:.6}, indivs/s={:.0}, fec_hit_rate={:.3}",
                p.individuals,
                p.elapsed_seconds,
                p.mean,
                p.stdev,
                p.best,
                p.individuals_per_second,
                p.fec_hit_rate()
            ),
            Display::Bar {
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
                bar.set_message(format!(
                    "exp {} · best {:.6} · mean {:.4} · {:.0} indiv/s · FEC hits {:.0}%{left}",
                    p.experiment,
                    p.best,
                    p.mean,
                    p.individuals_per_second,
                    100.0 * p.fec_hit_rate()
                ));
            }
        }
    }

    /// Shows a message (above the bar, when there is one).
    pub fn message(&self, text: &str) {
        match self {
            Display::Quiet => {}
            Display::Lines => println!("{text}"),
            Display::Bar { bar, .. } => bar.println(text),
        }
    }

    /// A new experiment starts: the bar starts again.
    pub fn restart(&self) {
        if let Display::Bar { bar, .. } = self {
            bar.set_position(0);
            bar.reset_eta();
        }
    }

    /// Removes the bar before the final result is printed.
    pub fn finish(&self) {
        if let Display::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}

/// Seconds as h:mm:ss.
fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
