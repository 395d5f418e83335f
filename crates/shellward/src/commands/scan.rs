//! `shellward scan`: YARA content rules over web roots and server directories, findings written
//! as alerts of the same contract as `hunt`'s.

use crate::args::ScanArgs;
use crate::commands::hunt::writer;
use crate::output::Summary;
use crate::report;
use crate::status::{Reason, Status};
use anyhow::{Context, bail};
use shellward_hunt::Finding;
use shellward_scan::content::{builtin, read_sources};
use shellward_scan::{ContentRules, ScanOptions, scan};
use std::process::ExitCode;

/// Runs the scan; the exit status is [`crate::status`]'s.
pub(crate) fn run(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    super::require_paths(&args.paths, "input")?;
    super::require_paths(&args.yara, "--yara")?;
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
    let host = args.host.clone().or_else(host_name);
    let options = ScanOptions { max_size: args.max_size, host };
    let mut writer = writer(&args.out)?;
    let mut summary = Summary::default();
    let mut error = None;
    let report = scan(&args.paths, &rules, &options, |found| {
        if error.is_some() || args.min_level.is_some_and(|min| found.rule.level < min) {
            return;
        }
        summary.add(&found.event, &found.rule);
        let finding = Finding { event: found.event, rule: &found.rule, correlated: None };
        if let Err(e) = writer.finding(&finding) {
            error = Some(e);
        }
    });
    if let Some(e) = error {
        return Err(e).context("writing findings");
    }
    writer.finish(&summary).context("writing findings")?;
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
        let alerts = summary.at_or_above(fail_on);
        if alerts > 0 {
            status.add(Reason::FailOn { level: fail_on, alerts });
        }
    }
    Ok(status.finish())
}

/// This machine's name, as the kernel knows it.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_owned()).filter(|n| !n.is_empty())
}
