//! `shellward hunt`: run the rules over telemetry and report alerts.

use crate::args::{AlertOutput, HuntArgs, OutputFormat};
use crate::commands::ruleload;
use crate::commands::stats::StatsScreen;
use crate::output::{
    AlertWriter, CsvWriter, HtmlWriter, JsonlWriter, OcsfWriter, Summary, TableWriter, incidents,
};
use crate::progress::HuntProgress;
use crate::report::{self, Problems};
use crate::status::Reason;
use anyhow::{Context, bail};
use shellward_engine::Lineage;
use shellward_event::{Event, Timestamp};
use shellward_hunt::{Finding, Hunt, RuleScreen, Window, findings};
use shellward_sources::{Marks, Problem, Sink};
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Runs the hunt; the exit status is [`crate::status`]'s.
pub(crate) fn run(args: &HuntArgs, threads: Option<usize>) -> anyhow::Result<ExitCode> {
    let now = Timestamp::now();
    let since = args.since.as_deref().map(|w| parse_when(w, now)).transpose().context("--since")?;
    let until = args.until.as_deref().map(|w| parse_when(w, now)).transpose().context("--until")?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        bail!("--since ({since}) is not before --until ({until}): no event could be in the window");
    }
    super::require_paths(&args.input.paths, "input")?;
    super::require_paths(&args.scan, "--scan")?;
    let mut options = super::read_options(&args.input, threads)?;

    let gap = match parse_duration(&args.incident_gap) {
        Some(Ok(gap)) if gap.as_secs() > 0 => gap.as_secs(),
        Some(Err(error)) => return Err(error.context("--incident-gap")),
        _ => bail!("--incident-gap takes a duration such as 30m or 2h, not {}", args.incident_gap),
    };
    let show_progress = crate::progress::wanted(args.quiet);

    let (tuning, selection) = super::tune::load(&args.tuning, &args.selection)?;
    let loading = crate::progress::Spinner::new(show_progress, "loading rules");
    // The inputs are listed while the rules load (a directory walk costs as much as loading the
    // built-in pack).
    let inputs: Vec<PathBuf> = args.input.paths.iter().chain(&args.scan).cloned().collect();
    let (rules, (files, expand_problems)) = rayon::join(
        || ruleload::load_to_run(&selection, args.verbose, args.min_level),
        || shellward_sources::expand(&inputs),
    );
    let rules = rules?;
    loading.done();
    let (mut rule_errors, _) = rules.counts();
    let set = Arc::new(rules.set);
    let tuner = tuning.map(|t| super::tune::Tuner::new(t, &set, args.tuning.explain_suppressed));
    let lineage = !args.no_lineage;
    let screen = Arc::new(
        RuleScreen::new(Arc::clone(&set), Window { since, until }, lineage)
            .with_raw_skips(!args.decode_all),
    );
    let stats = args.stats.then(|| {
        Arc::new(StatsScreen::new(Arc::clone(&screen) as Arc<dyn shellward_sources::Screen>))
    });
    options.screen = Some(match &stats {
        Some(stats) => Arc::clone(stats) as Arc<dyn shellward_sources::Screen>,
        None => Arc::clone(&screen) as Arc<dyn shellward_sources::Screen>,
    });

    let writer = writer(&args.out)?;

    let total: u64 = files.iter().map(|f| f.size).sum();
    let mut hunter = Hunter {
        // Past 64 MiB of events behind alerts (a rule feeding a correlation can match most of
        // a web server's requests), they wait for the sort in temporary files.
        alerts: Hunt::new(Arc::clone(&set), lineage.then(Lineage::default)).spilling(),
        problems: Problems::new(args.verbose),
        events: 0,
        progress: HuntProgress::new(show_progress, total),
    };
    for problem in &expand_problems {
        hunter.problems.add(problem);
    }
    let _ = shellward_sources::read_all(&files, &options, &mut hunter);
    hunter.progress.clear();
    // A regular expression too large to build is found when first tried.
    let unbuilt = set.regex_problems(false);
    unbuilt.iter().for_each(report::diagnostic);
    rule_errors += unbuilt.len();
    let limits = hunter.alerts.limits();
    let mut sorted = hunter.alerts.finish();
    let mut findings = findings(&set, &mut sorted, args.min_level);
    sorted.errors().iter().for_each(|error| report::warn(error));
    let alerts_lost = sorted.lost_some();
    if let Some(tuner) = &tuner {
        findings = tuner.apply(findings);
    }
    let gap = (!args.no_incidents).then_some(gap);
    let summary = write_findings(writer, &findings, gap)?;
    let inputs = files.len() + expand_problems.len();
    hunter.problems.summary(inputs, hunter.events);
    if let Some(stats) = &stats {
        let mut err = std::io::BufWriter::new(std::io::stderr().lock());
        stats
            .stats()
            .write(&mut err, &set)
            .and_then(|()| err.flush())
            .context("writing --stats")?;
    }
    let mut line = format!("shellward: {} rule(s) run, {} alert(s)", set.len(), summary.alerts);
    if let Some(tuner) = &tuner {
        line.push_str(&tuner.closing());
    }
    if rule_errors > 0 {
        line.push_str(&format!(", {rule_errors} rule(s) could not be loaded"));
    }
    let skips = screen.skip_report();
    let skipped: u64 = skips.iter().map(|route| route.skipped).sum();
    if skipped > 0 {
        line.push_str(&format!(", {skipped} record(s) skipped unread"));
    }
    if args.verbose {
        report::note(&skip_table(&skips));
    }
    let out_of_window = screen.out_of_window();
    if out_of_window > 0 {
        line.push_str(&format!(", {out_of_window} event(s) outside --since/--until"));
    }
    report::note(line.trim_start_matches("shellward: "));
    if let Some(line) = limits.line() {
        report::warn(&line);
    }

    let mut status = hunter.problems.status(hunter.events);
    if rule_errors > 0 {
        status.add(Reason::RulesNotLoaded(rule_errors));
    }
    if alerts_lost {
        status.add(Reason::AlertsLost);
    }
    if let Some(fail_on) = args.fail_on {
        status.fail_on(fail_on, summary.at_or_above(fail_on));
    }
    // The rules are freed with the process rather than piece by piece: dropping 2,400 compiled
    // SigmaHQ rules and their parsed YAML took 5% of the time of a hunt with them.
    std::mem::forget((rules.loaded, options, screen, stats, set));
    Ok(status.finish())
}

/// `--verbose`'s account of the records skipped unread: per route, how many were tested, how
/// many skipped, and why a route's records were all decoded.
fn skip_table(skips: &[shellward_hunt::RouteSkips]) -> String {
    let (records, skipped) =
        skips.iter().fold((0, 0), |(r, s), route| (r + route.records, s + route.skipped));
    let mut out = format!("records skipped unread: {skipped} of {records} routed before decoding");
    for route in skips {
        let why = match &route.because {
            Some(because) => because.clone(),
            None => format!(
                "{} atom(s) searched in {} record(s); {} decoded before the search was built",
                route.atoms,
                route.searched,
                route.records.saturating_sub(route.searched)
            ),
        };
        out.push_str(&format!(
            "\n  {:>9} of {:>9} skipped  {}  ({why})",
            route.skipped, route.records, route.route
        ));
    }
    out
}

/// The alert writer `--format` and `--output` ask for.
pub(crate) fn writer(out: &AlertOutput) -> anyhow::Result<Box<dyn AlertWriter + Send>> {
    let (format, output) = (out.format, out.output.as_deref());
    let to_terminal = output.is_none() && std::io::stdout().is_terminal();
    let out: Box<dyn std::io::Write + Send> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout())),
    };
    Ok(match format {
        OutputFormat::Table => {
            let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
            let width = to_terminal.then(terminal_width);
            Box::new(TableWriter::new(out, color, width))
        }
        OutputFormat::Jsonl => Box::new(JsonlWriter::new(out)),
        OutputFormat::Csv => Box::new(CsvWriter::new(out)),
        OutputFormat::Ocsf => Box::new(OcsfWriter::new(out)),
        OutputFormat::Html => Box::new(HtmlWriter::new(out)),
    })
}

/// Writes the findings, in their order, the closing summary and the incident view (findings on a
/// host less than `gap` seconds apart in one incident; `None`: no view).
fn write_findings(
    mut writer: Box<dyn AlertWriter>,
    findings: &[Finding<'_>],
    gap: Option<i64>,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    for finding in findings {
        summary.add(&finding.event, finding.rule);
    }
    writer.findings(findings).context("writing alerts")?;
    writer.finish(&summary).context("writing alerts")?;
    if let Some(gap) = gap {
        writer.incidents(&incidents::incidents(findings, gap), gap).context("writing incidents")?;
    }
    writer.close().context("writing alerts")?;
    Ok(summary)
}

/// The sink of a hunt: the decoders screen every event with the rules ([`RuleScreen`]), so what
/// arrives here are the events that matched, with their rules, and a count of the others.
struct Hunter {
    alerts: Hunt,
    problems: Problems,
    events: u64,
    progress: HuntProgress,
}

impl Sink for Hunter {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        // Only reached without a screen, which a hunt always sets.
        self.screened(event, Marks::new())
    }

    fn screened(&mut self, event: Event, rules: Marks) -> ControlFlow<()> {
        self.dropped(1);
        self.alerts.push(event, rules);
        ControlFlow::Continue(())
    }

    fn dropped(&mut self, count: u64) {
        self.events += count;
        self.progress.events(count, self.alerts.len());
    }

    fn problem(&mut self, problem: Problem) {
        let problems = &mut self.problems;
        self.progress.suspend(|| problems.add(&problem));
    }

    fn file_done(&mut self, bytes: u64) {
        self.progress.file_done(bytes);
    }
}

/// The width of the terminal standard output is (asked of the terminal itself; `$COLUMNS` when it
/// cannot say; 120 when neither does).
fn terminal_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(width, _)| usize::from(width.0))
        .filter(|&w| w > 0)
        .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .filter(|&w| w >= 40)
        .unwrap_or(120)
}

/// A duration written as a number and a unit (`90s`, `30m`, `24h`, `7d`, `2w`); `None` when the
/// text is not of that form.
pub(crate) fn parse_duration(text: &str) -> Option<anyhow::Result<jiff::SignedDuration>> {
    Some(match shellward_hunt::duration_seconds(text)? {
        Ok(seconds) => Ok(jiff::SignedDuration::from_secs(seconds)),
        Err(unit) => {
            Err(anyhow::anyhow!("unknown unit '{unit}' in {} (s, m, h, d, w)", text.trim()))
        }
    })
}

/// Parses `--since`/`--until`: `90s`, `30m`, `24h`, `7d` back from `now`, an RFC 3339 time, or a
/// UTC time as the table prints it (`2026-11-03 14:00:00`, `2026-11-03T14:00:00`, `2026-11-03`).
pub(crate) fn parse_when(text: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    let text = text.trim();
    if let Some(span) = parse_duration(text) {
        return now.checked_sub(span?).with_context(|| format!("{text} is too far back"));
    }
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    let utc = |civil: jiff::civil::DateTime| {
        civil.to_zoned(jiff::tz::TimeZone::UTC).map(|zoned| zoned.timestamp()).ok()
    };
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(utc)
        .or_else(|| text.parse::<jiff::civil::Date>().ok().and_then(|d| utc(d.to_datetime(jiff::civil::Time::midnight()))))
        .with_context(|| {
            format!(
                "'{text}' is not a time: give a duration back from now (90s, 30m, 24h, 7d) or a time \
                 (2026-11-03 14:00:00 in UTC, as the table prints it; 2026-11-03T14:00:00+01:00; \
                 2026-11-03)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when() {
        let now: Timestamp = "2024-01-02T00:00:00Z".parse().unwrap_or(Timestamp::UNIX_EPOCH);
        let back =
            |t: &str| parse_when(t, now).map(|t| t.to_string()).unwrap_or_else(|e| e.to_string());
        assert_eq!(back("24h"), "2024-01-01T00:00:00Z");
        assert_eq!(back("90s"), "2024-01-01T23:58:30Z");
        assert_eq!(back("2023-05-01T10:00:00Z"), "2023-05-01T10:00:00Z");
        assert_eq!(back("2023-05-01"), "2023-05-01T00:00:00Z");
        assert_eq!(back("2026-11-03 14:00:00"), "2026-11-03T14:00:00Z");
        assert_eq!(back("2026-11-03T14:00:00"), "2026-11-03T14:00:00Z");
        assert_eq!(back("2026-11-03T14:00:00+01:00"), "2026-11-03T13:00:00Z");
        assert!(back("2026-11-03 14:00").starts_with("2026-11-03T14:00:00Z"));
        assert!(back("yesterday").starts_with("'yesterday' is not a time: give a duration"));
        assert!(parse_when("yesterday", now).is_err());
        assert!(parse_when("5y", now).is_err());
    }

    #[test]
    fn the_skip_table_says_why_each_route_was_decoded() {
        let route = |route: &str, records, skipped, because: Option<&str>, atoms, searched| {
            shellward_hunt::RouteSkips {
                route: route.into(),
                records,
                skipped,
                because: because.map(str::to_owned),
                atoms,
                searched,
            }
        };
        let table = skip_table(&[
            route("Security/5145", 2101, 1584, None, 53, 2070),
            route("Security/4688", 1260, 0, Some("process lineage reads these events"), 0, 0),
        ]);
        let searched =
            "(53 atom(s) searched in 2070 record(s); 31 decoded before the search was built)";
        let lines = [
            "records skipped unread: 1584 of 3361 routed before decoding".to_owned(),
            format!("       1584 of      2101 skipped  Security/5145  {searched}"),
            "          0 of      1260 skipped  Security/4688  (process lineage reads these events)"
                .to_owned(),
        ];
        assert_eq!(table, lines.join("\n"));
    }
}
