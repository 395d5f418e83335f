//! `shellward selftest`: replays the seeds' five attack tests (event sequences built from the
//! telemetry each test says it produces, in `rules/selftest/`) through the loaded rules and shows
//! what fires; then the same tests as other sources record them (`rules/selftest/sources/`:
//! Defender, Falcon, auditd, web server logs), one line per source. Exit 1 if a test goes
//! undetected in any form.

use crate::args::SelftestArgs;
use crate::commands::ruleload;
use crate::output::table::details;
use crate::report::{self, escape};
use shellward_engine::Scratch;
use shellward_sources::{Collected, ReadOptions, read_bytes};
use std::io::Write;
use std::process::ExitCode;

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

/// The same attack tests as other sources record them: (test, source, file content).
macro_rules! source_form {
    ($test:literal, $source:literal, $file:literal) => {
        ($test, $source, include_str!(concat!("../../../../rules/selftest/sources/", $file)))
    };
}

const SOURCE_FORMS: [(&str, &str, &str); 13] = [
    source_form!("1_aspx_web_shell_iis", "Defender", "1_aspx_web_shell_iis.defender.jsonl"),
    source_form!("1_aspx_web_shell_iis", "Falcon", "1_aspx_web_shell_iis.falcon.jsonl"),
    source_form!("1_aspx_web_shell_iis", "IIS log", "1_aspx_web_shell_iis.iis.log"),
    source_form!("2_mssql_xp_cmdshell", "Defender", "2_mssql_xp_cmdshell.defender.jsonl"),
    source_form!("2_mssql_xp_cmdshell", "Falcon", "2_mssql_xp_cmdshell.falcon.jsonl"),
    source_form!(
        "3_iis_native_module_appcmd",
        "Defender",
        "3_iis_native_module_appcmd.defender.jsonl"
    ),
    source_form!("3_iis_native_module_appcmd", "Falcon", "3_iis_native_module_appcmd.falcon.jsonl"),
    source_form!(
        "4_php_web_shell_linux_apache",
        "Defender",
        "4_php_web_shell_linux_apache.defender.jsonl"
    ),
    source_form!(
        "4_php_web_shell_linux_apache",
        "Falcon",
        "4_php_web_shell_linux_apache.falcon.jsonl"
    ),
    source_form!(
        "4_php_web_shell_linux_apache",
        "auditd",
        "4_php_web_shell_linux_apache.audit.log"
    ),
    source_form!(
        "4_php_web_shell_linux_apache",
        "Apache log",
        "4_php_web_shell_linux_apache.access.log"
    ),
    source_form!(
        "5_exchange_transport_agent",
        "Defender",
        "5_exchange_transport_agent.defender.jsonl"
    ),
    source_form!("5_exchange_transport_agent", "Falcon", "5_exchange_transport_agent.falcon.jsonl"),
];

/// The detection types (else titles) the rules fire on `text`, in first-fired order. Rules that
/// alert on first sightings only (`first_seen`) need a hunt's history and are left out.
fn fired(rules: &ruleload::Rules, name: &str, text: &str) -> anyhow::Result<Vec<String>> {
    let mut read = Collected::default();
    let _ = read_bytes(name, text.as_bytes(), &ReadOptions::default(), &mut read);
    if !read.problems.is_empty() {
        anyhow::bail!("selftest data {name} does not decode: {:?}", read.problem_texts());
    }
    let (mut scratch, mut matched) = (Scratch::default(), Vec::new());
    let mut kinds: Vec<String> = Vec::new();
    for event in &read.events {
        rules.set.matching(event, &mut scratch, &mut matched);
        for &i in &matched {
            let info = &rules.set.rules()[i].info;
            let kind = info.detection_type.clone().unwrap_or_else(|| info.title.clone());
            if info.first_seen.is_none() && !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    Ok(kinds)
}

/// Runs the tests.
pub(crate) fn run(args: &SelftestArgs) -> anyhow::Result<ExitCode> {
    let rules = ruleload::load(&args.selection);
    ruleload::print_diagnostics(&rules, false);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut scratch, mut matched) = (Scratch::default(), Vec::new());
    let mut detected = 0;
    for test in &TESTS {
        let mut read = Collected::default();
        let name = format!("selftest:{}", test.name);
        let _ = read_bytes(&name, test.events.as_bytes(), &ReadOptions::default(), &mut read);
        if !read.problems.is_empty() {
            anyhow::bail!(
                "selftest data {} does not decode: {:?}",
                test.name,
                read.problem_texts()
            );
        }
        let mut lines = Vec::new();
        for event in &read.events {
            rules.set.matching(event, &mut scratch, &mut matched);
            for &i in &matched {
                let info = &rules.set.rules()[i].info;
                lines.push(format!(
                    "    {:<8}  {}  ({})",
                    info.level.name(),
                    escape(&info.title),
                    escape(&crate::output::table::one_line(&details(event)))
                ));
            }
        }
        let mut caught = !lines.is_empty();
        let verdict = if caught { "detected" } else { "MISSED" };
        writeln!(out, "{}  {:<70} {verdict}", test.name.chars().next().unwrap_or('?'), test.what)?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
        for (_, source, text) in SOURCE_FORMS.iter().filter(|(t, _, _)| *t == test.name) {
            let kinds = fired(&rules, &format!("selftest:{}:{source}", test.name), text)?;
            caught &= !kinds.is_empty();
            let what =
                if kinds.is_empty() { "MISSED".to_owned() } else { escape(&kinds.join(", ")) };
            writeln!(out, "    as {source:<11} {what}")?;
        }
        detected += usize::from(caught);
    }
    writeln!(out, "{detected} of {} attack tests detected", TESTS.len())?;
    out.flush()?;
    report::note(&format!("{} rule(s) run", rules.set.len()));
    Ok(if detected == TESTS.len() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
