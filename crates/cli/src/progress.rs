//! Progress on standard error while inputs are read: rows so far and their
//! rate, one line per input. Drawn only when standard error is a terminal;
//! in pipes, files and CI logs nothing is printed.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress lines of one command.
pub struct Progress {
    lines: MultiProgress,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            lines: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
        }
    }

    /// A line counting the rows read from `what`.
    pub fn rows(&self, what: &str) -> ProgressBar {
        let bar = self.lines.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {prefix}: {human_pos} rows ({per_sec}), {elapsed}",
            )
            .expect("a valid template"),
        );
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    }
}
