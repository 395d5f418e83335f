//! `shellward watch --from nats://...`: one of the workers that share a JetStream stream's
//! partitions ([`shellward_nats::Worker`]); its alerts are written like a watch's.

use crate::args::{NatsArgs, WatchArgs};
use crate::commands::hunt::writer;
use crate::commands::ruleload;
use crate::output::Summary;
use crate::report;
use anyhow::Context;
use shellward_nats::{Auth, Endpoint, StreamSetup, Worker, WorkerOptions};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The endpoint the NATS arguments describe.
pub(crate) fn endpoint(url: &str, args: &NatsArgs, name: &str) -> anyhow::Result<Endpoint> {
    let auth = match (&args.user, &args.password, &args.token, &args.nkey, &args.creds) {
        (Some(user), Some(password), ..) => Auth::UserPassword(user.clone(), password.clone()),
        (_, _, Some(token), ..) => Auth::Token(token.clone()),
        (_, _, _, Some(path), _) => {
            let seed = std::fs::read_to_string(path)
                .with_context(|| format!("--nkey {}", path.display()))?;
            Auth::Nkey(seed.trim().to_owned())
        }
        (_, _, _, _, Some(path)) => Auth::Credentials(path.clone()),
        _ => Auth::None,
    };
    Ok(Endpoint {
        url: url.to_owned(),
        auth,
        tls: args.tls,
        ca: args.tls_ca.clone(),
        client_cert: args.tls_cert.clone().zip(args.tls_key.clone()),
        name: name.to_owned(),
    })
}

/// The stream the NATS arguments describe.
pub(crate) fn stream(args: &NatsArgs) -> StreamSetup {
    let mut setup = StreamSetup::new(&args.stream);
    setup.partitions = args.partitions.max(1);
    setup.replicas = args.replicas.max(1);
    setup
}

/// The titles of the correlations whose `group-by` names no host field: their members can be
/// published to different partitions, so a fleet finds only what one host's events hold.
fn partition_blind(set: &shellward_engine::RuleSet) -> Vec<&str> {
    const HOST_FIELDS: [&str; 6] =
        ["host", "computer", "computername", "devicename", "hostname", "host.name"];
    set.correlations()
        .iter()
        .filter(|c| {
            !c.group_by.iter().any(|field| HOST_FIELDS.contains(&field.to_lowercase().as_str()))
        })
        .map(|c| c.info.title.as_str())
        .collect()
}

/// A runtime for the NATS client.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the NATS client's runtime")
}

/// Runs a worker until SIGINT/SIGTERM (or `--exit-idle`).
pub(crate) fn run(args: &WatchArgs, url: &str) -> anyhow::Result<ExitCode> {
    let lateness = super::watch::max_lateness(&args.max_lateness).context("--max-lateness")?;
    let checkpoint_every = super::watch::max_lateness(&args.checkpoint_every)
        .context("--checkpoint-every")?
        .max(Duration::from_millis(100));
    let exit_idle = args
        .exit_idle
        .as_deref()
        .map(super::watch::max_lateness)
        .transpose()
        .context("--exit-idle")?;
    let (tuning, selection) = super::tune::load(&args.tuning, &args.selection)?;
    let set = Arc::new(ruleload::load_to_serve(&selection, args.verbose, args.min_level)?);
    let id = args
        .worker_id
        .clone()
        .unwrap_or_else(|| format!("{}-{}", super::machine_name(), std::process::id()));
    let runtime = runtime()?;
    let _inside = runtime.enter();
    let endpoint = endpoint(url, &args.nats, &format!("shellward worker {id}"))?;
    let client = runtime
        .block_on(shellward_nats::connect(&endpoint, Duration::from_secs(60), report::warn))
        .context("--from")?;
    let options = WorkerOptions {
        stream: stream(&args.nats),
        id: id.clone(),
        checkpoint_every,
        idle: Duration::from_millis(args.poll_ms.max(50)),
        max_lateness: lateness,
        min_level: args.min_level,
        lineage: !args.no_lineage,
    };
    let mut worker = Worker::new(shellward_nats::jetstream(client), Arc::clone(&set), options);
    if let Some(tuning) = tuning {
        for unknown in tuning.unknown_rules(&set) {
            report::warn(&unknown.to_string());
        }
        worker = worker.with_tuning(tuning);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("signal handler")?;
    }
    let writer = Mutex::new(writer(&args.out)?);
    let summary = Mutex::new(Summary::default());
    let failed = Mutex::new(None);
    report::note(&format!(
        "worker {id}: {} partition(s) of stream {} with {} rule(s)",
        args.nats.partitions,
        args.nats.stream,
        set.len()
    ));
    for title in partition_blind(&set) {
        report::warn(&format!(
            "correlation \"{title}\" does not group by host: a worker sees only the members in its partitions, which are whole hosts (give `ship --host` to logs that name no host)"
        ));
    }
    let report = Arc::clone(&worker.report);
    std::thread::scope(|scope| {
        if let Some(idle) = exit_idle {
            let stop = Arc::clone(&stop);
            let report = Arc::clone(&report);
            scope.spawn(move || {
                let (mut last, mut since) = (u64::MAX, Instant::now());
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    let now = report.events.load(Ordering::Relaxed);
                    if now != last {
                        (last, since) = (now, Instant::now());
                    } else if since.elapsed() >= idle {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
        if let Some(address) = args.metrics {
            let (stop, counters) = (Arc::clone(&stop), Arc::clone(&report));
            scope.spawn(move || {
                if let Err(e) = shellward_nats::metrics::serve(address, &counters, &stop) {
                    report::warn(&format!("--metrics {address}: {e}"));
                }
            });
        }
        let on_alert = |finding: &shellward_hunt::Finding<'_>| {
            let mut writer = writer.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = writer.finding(finding).and_then(|()| writer.flush()) {
                *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
            }
            summary.lock().unwrap_or_else(|e| e.into_inner()).add(&finding.event, finding.rule);
        };
        worker.run(runtime.handle(), &stop, &on_alert)
    })
    .context("worker")?;
    if let Some(e) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e).context("writing alerts");
    }
    let summary = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut writer = writer.into_inner().unwrap_or_else(|e| e.into_inner());
    writer.finish(&summary).context("writing alerts")?;
    report::note(&format!(
        "worker {id}: {} event(s), {} alert(s) published, {} partition(s) taken, {} checkpoint(s) (largest {} bytes)",
        report.events.load(Ordering::Relaxed),
        report.alerts.load(Ordering::Relaxed),
        report.taken.load(Ordering::Relaxed),
        report.checkpoints.load(Ordering::Relaxed),
        report.checkpoint_bytes.load(Ordering::Relaxed),
    ));
    let (allowlisted, suppressed) =
        (report.allowlisted.load(Ordering::Relaxed), report.suppressed.load(Ordering::Relaxed));
    if allowlisted + suppressed > 0 {
        report::note(&format!(
            "worker {id}: {allowlisted} alert(s) allowlisted, {suppressed} suppressed by the tuning file"
        ));
    }
    let errors = report.checkpoint_errors.load(Ordering::Relaxed);
    if errors > 0 {
        report::warn(&format!(
            "worker {id}: {errors} checkpoint(s) could not be written or read; partitions without one were read again from the stream's start"
        ));
    }
    Ok(ExitCode::SUCCESS)
}
