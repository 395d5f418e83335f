//! `shellward selftest`: replays the seeds' five attack tests (event sequences built from the
//! telemetry each test says it produces, in `rules/selftest/`) through the loaded rules and shows
//! what fires; then the same tests as other sources record them (`rules/selftest/sources/`:
//! Defender, Falcon, auditd, web server logs), one line per source. Exit 1 if a test goes
//! undetected in any form.
//!
//! Each test runs as a hunt runs it: process lineage, then the correlation rules over the alerts
//! ([`shellward_hunt::findings`]), so the multi-signal detections are tested too.

use crate::args::SelftestArgs;
use crate::commands::ruleload;
use crate::output::details::one_line;
use crate::report::{self, escape};
use shellward_engine::RuleSet;
use shellward_event::Event;
use shellward_hunt::{Finding, hunt_events};
use shellward_sources::{Collected, ReadOptions, read_bytes};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

/// One attack test: its name, what it does, and its events (JSON lines).
struct AttackTest {
    name: &'static str,
    what: &'static str,
    events: &'static str,
}

/// An attack test whose events are `rules/selftest/NAME.jsonl`.
macro_rules! attack_test {
    ($name:literal, $what:literal) => {
        AttackTest {
            name: $name,
            what: $what,
            events: include_str!(concat!("../../../../rules/selftest/", $name, ".jsonl")),
        }
    };
}

const TESTS: [AttackTest; 5] = [
    attack_test!(
        "1_aspx_web_shell_iis",
        "ASPX web shell dropped in the IIS web root and run (T1505.003)"
    ),
    attack_test!(
        "2_mssql_xp_cmdshell",
        "SQL Server xp_cmdshell enabled and used to run commands (T1505.001)"
    ),
    attack_test!(
        "3_iis_native_module_appcmd",
        "IIS native module registered with appcmd (T1505.004)"
    ),
    attack_test!(
        "4_php_web_shell_linux_apache",
        "PHP web shell on Linux Apache runs a shell (T1505.003)"
    ),
    attack_test!("5_exchange_transport_agent", "Exchange transport agent installed (T1505.002)"),
];

/// The same attack tests as other sources record them: (test, source, file content), the file
/// being `rules/selftest/sources/TEST.EXT`.
macro_rules! source_form {
    ($test:literal, $source:literal, $ext:literal) => {
        (
            $test,
            $source,
            include_str!(concat!("../../../../rules/selftest/sources/", $test, ".", $ext)),
        )
    };
}

const SOURCE_FORMS: [(&str, &str, &str); 13] = [
    source_form!("1_aspx_web_shell_iis", "Defender", "defender.jsonl"),
    source_form!("1_aspx_web_shell_iis", "Falcon", "falcon.jsonl"),
    source_form!("1_aspx_web_shell_iis", "IIS log", "iis.log"),
    source_form!("2_mssql_xp_cmdshell", "Defender", "defender.jsonl"),
    source_form!("2_mssql_xp_cmdshell", "Falcon", "falcon.jsonl"),
    source_form!("3_iis_native_module_appcmd", "Defender", "defender.jsonl"),
    source_form!("3_iis_native_module_appcmd", "Falcon", "falcon.jsonl"),
    source_form!("4_php_web_shell_linux_apache", "Defender", "defender.jsonl"),
    source_form!("4_php_web_shell_linux_apache", "Falcon", "falcon.jsonl"),
    source_form!("4_php_web_shell_linux_apache", "auditd", "audit.log"),
    source_form!("4_php_web_shell_linux_apache", "Apache log", "access.log"),
    source_form!("5_exchange_transport_agent", "Defender", "defender.jsonl"),
    source_form!("5_exchange_transport_agent", "Falcon", "falcon.jsonl"),
];

/// The events of a test's data, which must decode without a problem.
fn events(name: &str, text: &str) -> anyhow::Result<Vec<Event>> {
    let mut read = Collected::default();
    let _ = read_bytes(name, text.as_bytes(), &ReadOptions::default(), &mut read);
    if !read.problems.is_empty() {
        anyhow::bail!("selftest data {name} does not decode: {:?}", read.problem_texts());
    }
    Ok(read.events)
}

/// What a hunt reports for a test's data: every event matched and through lineage, then the
/// correlations over the alerts.
fn hunt<'r>(set: &'r Arc<RuleSet>, name: &str, text: &str) -> anyhow::Result<Vec<Finding<'r>>> {
    Ok(hunt_events(set, events(name, text)?))
}

/// The detection types (else titles) of what a hunt reports on `text`, in first-reported order.
/// Rules that alert on first sightings only (`first_seen`) need a hunt's history and are left out.
fn fired(set: &Arc<RuleSet>, name: &str, text: &str) -> anyhow::Result<Vec<String>> {
    let mut kinds: Vec<String> = Vec::new();
    for finding in hunt(set, name, text)? {
        let info = finding.rule;
        let kind = info.detection_type.clone().unwrap_or_else(|| info.title.clone());
        if info.first_seen.is_none() && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// Runs the tests.
pub(crate) fn run(args: &SelftestArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection)?;
    ruleload::print_diagnostics(&rules, false);
    let set = Arc::new(rules.set);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut detected = 0;
    for test in &TESTS {
        let mut lines = Vec::new();
        for finding in hunt(&set, &format!("selftest:{}", test.name), test.events)? {
            lines.push(format!(
                "    {:<8}  {}  ({})",
                finding.rule.level.name(),
                escape(&finding.rule.title),
                escape(&one_line(&crate::output::details::finding_details(&finding)))
            ));
        }
        let mut caught = !lines.is_empty();
        let verdict = if caught { "detected" } else { "MISSED" };
        writeln!(out, "{}  {:<70} {verdict}", test.name.chars().next().unwrap_or('?'), test.what)?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
        for (_, source, text) in SOURCE_FORMS.iter().filter(|(t, _, _)| *t == test.name) {
            let kinds = fired(&set, &format!("selftest:{}:{source}", test.name), text)?;
            caught &= !kinds.is_empty();
            let what =
                if kinds.is_empty() { "MISSED".to_owned() } else { escape(&kinds.join(", ")) };
            writeln!(out, "    as {source:<11} {what}")?;
        }
        detected += usize::from(caught);
    }
    writeln!(out, "{detected} of {} attack tests detected", TESTS.len())?;
    out.flush()?;
    report::note(&format!("{} rule(s) run", set.len()));
    Ok(if detected == TESTS.len() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
