//! `shellward scan`: YARA content rules and server component inventories over web roots and
//! server directories, baselines written or compared, findings written as alerts of the same
//! contract as `hunt`'s.

use crate::args::ScanArgs;
use crate::commands::hunt::writer;
use crate::output::Summary;
use crate::report;
use crate::status::{Reason, Status};
use anyhow::{Context, bail};
use shellward_hunt::Finding;
use shellward_scan::content::{builtin, read_sources};
use shellward_scan::{Baseline, ContentRules, ScanOptions, ScanReport, drift_findings, scan};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Runs the scan; the exit status is [`crate::status`]'s.
pub(crate) fn run(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    super::require_paths(&args.paths, "input")?;
    super::require_paths(&args.yara, "--yara")?;
    let before = match &args.baseline {
        Some(path) => Some(Baseline::read(path).context("--baseline")?),
        None => None,
    };
    let mut sources = if args.no_builtin { Vec::new() } else { builtin() };
    for path in &args.yara {
        sources.extend(read_sources(path).map_err(|e| anyhow::anyhow!(e)).context("--yara")?);
    }
    let (rules, diagnostics) = ContentRules::compile(&sources);
    for diagnostic in &diagnostics {
        report::warn(diagnostic);
    }
    let failed = diagnostics.iter().filter(|d| !d.contains("warning")).count();
    if args.strict && failed > 0 {
        bail!("{failed} YARA file(s) failed to compile (--strict)");
    }
    if rules.is_empty() {
        bail!("no YARA rules to run");
    }
    let host = args.host.clone().or_else(super::host_name);
    let record = before.is_some() || args.write_baseline.is_some();
    let options = ScanOptions { max_size: args.max_size, host: host.clone(), record };
    let started_ns = now_ns();
    let mut writer = writer(&args.out)?;
    let mut summary = Summary::default();
    let mut error = None;
    let mut emit = |found: shellward_scan::Finding| {
        if error.is_some() || args.min_level.is_some_and(|min| found.rule.level < min) {
            return;
        }
        summary.add(&found.event, &found.rule);
        let finding =
            Finding { event: found.event, rule: &found.rule, correlated: None, repeats: None };
        if let Err(e) = writer.finding(&finding) {
            error = Some(e);
        }
    };
    let mut progress = Progress::new(!args.quiet && std::io::stderr().is_terminal());
    let mut report = scan(&args.paths, &rules, &options, &mut emit, |so_far| progress.show(so_far));
    progress.clear();
    let now = record.then(|| {
        Baseline::new(
            started_ns,
            host,
            &args.paths,
            std::mem::take(&mut report.recorded),
            std::mem::take(&mut report.components),
        )
    });
    if let (Some(before), Some(now)) = (&before, &now) {
        for found in drift_findings(before, now) {
            emit(found);
        }
    }
    if let Some(e) = error {
        return Err(e).context("writing findings");
    }
    writer.finish(&summary).context("writing findings")?;
    if let (Some(path), Some(now)) = (&args.write_baseline, &now) {
        now.write(path).with_context(|| format!("writing the baseline {}", path.display()))?;
        report::note(&format!(
            "baseline of {} file(s) and {} component(s) written to {}",
            now.files.len(),
            now.components.len(),
            report::escape(&path.display().to_string())
        ));
    }
    for (path, reason) in &report.unreadable {
        report::warn(&format!("{}: {reason}", report::escape(&path.display().to_string())));
    }
    report::note(&format!(
        "{} YARA rule(s) run over {} file(s) ({} read, {:.1} MB), {} finding(s)",
        rules.len(),
        report.files,
        report.read,
        report.bytes as f64 / 1e6,
        summary.alerts
    ));
    let mut status = Status::default();
    if !report.unreadable.is_empty() {
        status.add(Reason::Unreadable {
            problems: report.unreadable.len() as u64,
            files: report.unreadable.len(),
        });
    }
    if failed > 0 {
        status.add(Reason::RulesNotLoaded(failed));
    }
    if let Some(fail_on) = args.fail_on {
        status.fail_on(fail_on, summary.at_or_above(fail_on));
    }
    Ok(status.finish())
}

/// Nanoseconds since the epoch, now.
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// A line on standard error with the files and bytes scanned so far and the rate, redrawn at most
/// four times a second once the scan has taken a second.
struct Progress {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress { enabled, start: Instant::now(), last: None }
    }

    fn show(&mut self, report: &ScanReport) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.start);
        if !self.enabled
            || elapsed < Duration::from_secs(1)
            || self.last.is_some_and(|last| now.duration_since(last) < Duration::from_millis(250))
        {
            return;
        }
        self.last = Some(now);
        let megabytes = report.bytes as f64 / 1e6;
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[Kscanning: {} file(s), {} read, {megabytes:.1} MB, {:.1} MB/s",
            report.files,
            report.read,
            megabytes / elapsed.as_secs_f64()
        );
    }

    fn clear(&mut self) {
        if self.last.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
