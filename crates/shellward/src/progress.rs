//! Progress on standard error, for a person watching a terminal: a spinner while rules load, then
//! a bar of the bytes read (a file counts when it is done) with the events and alerts so far, the
//! rate and, since the total size is known, the time left. Nothing is drawn when standard error is
//! not a terminal or `--quiet` is given, so logs and pipes stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Whether progress may be drawn: standard error is a terminal and the user did not ask for quiet.
pub(crate) fn wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A spinner with `message` until dropped (or [`Spinner::done`]).
pub(crate) struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// Starts a spinner when `enabled`.
    pub(crate) fn new(enabled: bool, message: &str) -> Spinner {
        Spinner(enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(message.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        }))
    }

    /// Stops and clears the spinner.
    pub(crate) fn done(self) {}
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// The hunt's bar: bytes of the inputs read, events, alerts.
pub(crate) struct HuntProgress {
    bar: Option<ProgressBar>,
    events: u64,
    calls: u64,
    start: Instant,
}

impl HuntProgress {
    /// A bar over `total` bytes when `enabled`.
    pub(crate) fn new(enabled: bool, total: u64) -> HuntProgress {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:24}] {bytes}/{total_bytes} {msg} ({elapsed}, {eta} left)",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        HuntProgress { bar, events: 0, calls: 0, start: Instant::now() }
    }

    /// `count` more events read; `alerts` so far.
    pub(crate) fn events(&mut self, count: u64, alerts: usize) {
        self.events += count;
        self.calls += 1;
        let Some(bar) = &self.bar else { return };
        if !self.calls.is_multiple_of(1024) {
            return;
        }
        let seconds = self.start.elapsed().as_secs_f64().max(0.001);
        bar.set_message(format!(
            "{} events, {alerts} alerts, {:.0} events/s",
            self.events,
            self.events as f64 / seconds
        ));
    }

    /// An input of `bytes` bytes was read.
    pub(crate) fn file_done(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// Hides the bar (for a message, or at the end).
    pub(crate) fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Runs `f` with the bar hidden, so a line written meanwhile is not drawn over.
    pub(crate) fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }
}
