//! `shellward ship`: follow telemetry and publish every event to JetStream, per host
//! ([`shellward_nats::Shipper`]); the read positions are saved only after JetStream acknowledged
//! what was read, so a restart resumes from what the stream holds.

use crate::args::ShipArgs;
use crate::report::{self, Problems};
use anyhow::Context;
use shellward_event::Event;
use shellward_nats::{Shipper, connect};
use shellward_sources::{Follower, FollowerState, Marks, Problem, Sink};
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Collects what a poll decoded.
struct Collect {
    events: Vec<Event>,
    problems: Problems,
    /// `--host`: the host of events that name none.
    host: Option<String>,
}

impl Sink for Collect {
    fn event(&mut self, mut event: Event) -> ControlFlow<()> {
        if event.host.is_none() {
            event.host.clone_from(&self.host);
        }
        self.events.push(event);
        ControlFlow::Continue(())
    }

    fn screened(&mut self, event: Event, _rules: Marks) -> ControlFlow<()> {
        self.event(event)
    }

    fn problem(&mut self, problem: Problem) {
        self.problems.add(&problem);
    }
}

/// Runs the shipper.
pub(crate) fn run(args: &ShipArgs, threads: Option<usize>) -> anyhow::Result<ExitCode> {
    super::require_paths(&args.paths, "input")?;
    let runtime = super::fleet::runtime()?;
    let _inside = runtime.enter();
    let name = format!("shellward ship {}", super::machine_name());
    let endpoint = super::fleet::endpoint(&args.to, &args.nats, &name)?;
    let client = runtime
        .block_on(connect(&endpoint, Duration::from_secs(60), report::warn))
        .context("--to")?;
    let context = shellward_nats::jetstream(client);
    let setup = super::fleet::stream(&args.nats);
    runtime.block_on(setup.ensure(&context)).context("--stream")?;
    let mut shipper = Shipper::new(context, &setup);
    let options = shellward_sources::ReadOptions::with_threads(threads.unwrap_or(1).max(1));
    let mut follower = match args.state.as_deref().map(load).transpose()?.flatten() {
        Some(state) => {
            let (follower, gone) = Follower::restore(&args.paths, state);
            for problem in &gone {
                report::warn(&problem.to_string());
            }
            follower
        }
        None => Follower::new(&args.paths),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("signal handler")?;
    }
    let files_followed = args.paths.iter().any(|p| p.as_os_str() != "-");
    let mut sink =
        Collect { events: Vec::new(), problems: Problems::new(false), host: args.host.clone() };
    let mut quiet = false;
    loop {
        let polled = follower.poll(&options, quiet, &mut sink);
        quiet = polled.bytes == 0;
        let events = std::mem::take(&mut sink.events);
        if !events.is_empty() {
            runtime.block_on(shipper.ship(&events)).context("shipping")?;
        }
        // Only now, with every event read acknowledged, are the positions saved.
        if let Some(path) = &args.state {
            save(path, &follower.state()).context("--state")?;
        }
        let ended = (polled.stdin_closed && !files_followed)
            || (args.once && quiet)
            || stop.load(Ordering::Relaxed);
        if ended {
            break;
        }
        if quiet {
            std::thread::sleep(Duration::from_millis(args.poll_ms));
        }
    }
    report::note(&format!(
        "{} event(s) shipped to {} ({} already there)",
        shipper.shipped.0 + shipper.shipped.1,
        args.nats.stream,
        shipper.shipped.1
    ));
    Ok(ExitCode::SUCCESS)
}

fn load(path: &Path) -> anyhow::Result<Option<FollowerState>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).context("not a ship state file")?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn save(path: &Path, state: &FollowerState) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    std::fs::write(&temporary, serde_json::to_vec(state)?)?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}
