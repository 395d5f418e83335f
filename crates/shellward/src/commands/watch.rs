//! `shellward watch`: follow telemetry as it is written and print each alert when it is decided.
//!
//! The decoders' follower ([`shellward_sources::Follower`]) reads what each input gained since the
//! last poll; the events go through the same screen and in-order state as a hunt
//! ([`shellward_hunt::Live`]); each poll's findings are written and flushed at once. Reading
//! standard input, the watch ends when it closes; following files, it runs until SIGINT or SIGTERM,
//! which end it after the current poll: what waits is decided, and the summary and exit status are
//! written as at the end of standard input.
//!
//! With `--state`, the follower's positions and the live hunt's state are checkpointed
//! ([`shellward_hunt::Store`]) every `--checkpoint-every` and when the watch stops, and the ids of
//! the alerts written since the last checkpoint are journaled after each batch, so that a restart
//! (even after kill -9) reads on from the checkpoint and drops the alerts already reported.

use crate::args::WatchArgs;
use crate::commands::hunt::{parse_duration, writer};
use crate::commands::ruleload;
use crate::output::Summary;
use crate::report::{self, Problems};
use anyhow::Context;
use shellward_engine::{Correlator, Lineage};
use shellward_event::Event;
use shellward_hunt::{Checkpoint, Hunt, Live, RestoreError, RuleScreen, Store, Window};
use shellward_sources::{Follower, Marks, Problem, Sink};
use std::collections::HashSet;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs the watch; returns when standard input (if followed alone) closes.
pub(crate) fn run(args: &WatchArgs, threads: Option<usize>) -> anyhow::Result<ExitCode> {
    if let Some(url) = &args.from {
        return super::fleet::run(args, url);
    }
    let lateness = max_lateness(&args.max_lateness).context("--max-lateness")?;
    let checkpoint_every = max_lateness(&args.checkpoint_every)
        .context("--checkpoint-every")?
        .max(Duration::from_millis(100));
    super::require_paths(&args.paths, "input")?;
    let (tuning, selection) = super::tune::load(&args.tuning, &args.selection)?;
    let set = Arc::new(ruleload::load_to_serve(&selection, args.verbose, args.min_level)?);
    let tuner = tuning.map(|t| super::tune::Tuner::new(t, &set, args.tuning.explain_suppressed));
    let lineage = !args.no_lineage;
    let screen = Arc::new(RuleScreen::new(Arc::clone(&set), Window::default(), lineage));
    let mut options = shellward_sources::ReadOptions::with_threads(threads.unwrap_or(1).max(1));
    options.screen = Some(Arc::clone(&screen) as Arc<dyn shellward_sources::Screen>);
    let correlator = Correlator::new(&set);
    let mut store = args.state.as_deref().map(Store::new);
    let loaded = store.as_ref().map(Store::load).transpose()?.flatten();
    let mut problems = Problems::new(args.verbose);
    let fresh = || {
        let hunt = Hunt::new(Arc::clone(&set), lineage.then(Lineage::default));
        Live::new(&set, &correlator, hunt, args.min_level, lateness)
    };
    let (live, mut follower, mut already_reported) = match loaded {
        None => (fresh(), Follower::new(&args.paths), HashSet::new()),
        Some((checkpoint, reported)) => {
            let (follower, gone) = Follower::restore(&args.paths, checkpoint.follower);
            for problem in &gone {
                problems.add(problem);
            }
            let live = match Live::restore(
                &set,
                &correlator,
                lineage,
                args.min_level,
                lateness,
                checkpoint.live,
            ) {
                Ok(live) => live,
                Err(RestoreError::OtherRules) => {
                    report::warn(
                        "the rules changed since the checkpoint: lineage, first-seen values and \
                         correlation windows start afresh (read positions are kept)",
                    );
                    fresh()
                }
                Err(error) => return Err(error).context("--state"),
            };
            report::note(&format!(
                "going on from the checkpoint in {} ({} alert(s) reported since it)",
                args.state.as_deref().unwrap_or(std::path::Path::new("")).display(),
                reported.len()
            ));
            (live, follower, reported)
        }
    };
    let mut watcher = Watcher { live, problems, events: 0 };
    let mut writer = writer(&args.out)?;
    let mut summary = Summary::default();
    let files_followed = args.paths.iter().any(|p| p.as_os_str() != "-");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("signal handler")?;
    }
    let mut quiet = false;
    let mut last_checkpoint = Instant::now();
    let mut limits_said = [false; 4];
    report::note(&format!("watching {} input(s) with {} rule(s)", args.paths.len(), set.len()));
    loop {
        let polled = follower.poll(&options, quiet, &mut watcher);
        let ended = (polled.stdin_closed && !files_followed)
            || stop.load(std::sync::atomic::Ordering::Relaxed);
        quiet = polled.bytes == 0;
        let mut written = Vec::new();
        let mut decided = watcher.live.decide(quiet || ended);
        if let Some(tuner) = &tuner {
            decided = tuner.apply(decided);
        }
        for finding in decided {
            let id = finding.id();
            if already_reported.remove(&id) {
                continue;
            }
            summary.add(&finding.event, finding.rule);
            writer.finding(&finding).context("writing alerts")?;
            written.push(id);
        }
        writer.flush().context("writing alerts")?;
        // A limit reached for the first time is said at once (a watch may run for months).
        let limits = watcher.live.limits();
        if limits.reached() != limits_said {
            limits_said = limits.reached();
            if let Some(line) = limits.line() {
                report::warn(&format!("{line} (so far)"));
            }
        }
        if let Some(store) = &mut store {
            store.reported(written.iter().map(String::as_str))?;
            if ended || last_checkpoint.elapsed() >= checkpoint_every {
                store.save(&Checkpoint::new(follower.state(), watcher.live.state()))?;
                last_checkpoint = Instant::now();
            }
        }
        if ended {
            break;
        }
        if quiet {
            std::thread::sleep(Duration::from_millis(args.poll_ms.max(1)));
        }
    }
    writer.finish(&summary).context("writing alerts")?;
    watcher.problems.summary(args.paths.len(), watcher.events);
    let late = watcher.live.late();
    let mut line = format!("{} rule(s) run, {} alert(s)", set.len(), summary.alerts);
    if late > 0 {
        line.push_str(&format!(", {late} alert(s) too late to correlate (--max-lateness)"));
    }
    if let Some(tuner) = &tuner {
        line.push_str(&tuner.closing());
    }
    report::note(&line);
    if let Some(line) = watcher.live.limits().line() {
        report::warn(&line);
    }
    Ok(watcher.problems.status(watcher.events).finish())
}

/// `--max-lateness`: a duration (`90s`, `5m`, `1h`, `0s`).
pub(crate) fn max_lateness(text: &str) -> anyhow::Result<Duration> {
    let span = parse_duration(text)
        .with_context(|| format!("'{text}' is not a duration (90s, 5m, 1h)"))??;
    Duration::try_from(span).with_context(|| format!("'{text}' is not a duration (90s, 5m, 1h)"))
}

/// The sink of a watch: the screened events go to the live hunt.
struct Watcher<'c, 'r> {
    live: Live<'c, 'r>,
    problems: Problems,
    events: u64,
}

impl Sink for Watcher<'_, '_> {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.screened(event, Marks::new())
    }
    fn screened(&mut self, event: Event, rules: Marks) -> ControlFlow<()> {
        self.events += 1;
        self.live.push(event, rules);
        ControlFlow::Continue(())
    }
    fn dropped(&mut self, count: u64) {
        self.events += count;
    }
    fn problem(&mut self, problem: Problem) {
        self.problems.add(&problem);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness() {
        assert_eq!(max_lateness("5m").ok(), Some(Duration::from_secs(300)));
        assert_eq!(max_lateness("0s").ok(), Some(Duration::ZERO));
        assert!(max_lateness("5y").is_err());
        assert!(max_lateness("-5m").is_err());
        assert!(max_lateness("soon").is_err());
        assert!(max_lateness("2026-11-03").is_err());
    }
}
