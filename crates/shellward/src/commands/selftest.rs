//! `shellward selftest`: replays the seeds' five attack tests (event sequences built from the
//! telemetry each test says it produces, in `rules/selftest/`) through the loaded rules and shows
//! what fires. Exit 1 if a test goes undetected.

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
        let verdict = if lines.is_empty() { "MISSED" } else { "detected" };
        detected += usize::from(!lines.is_empty());
        writeln!(out, "{}  {:<70} {verdict}", test.name.chars().next().unwrap_or('?'), test.what)?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
    }
    writeln!(out, "{detected} of {} attack tests detected", TESTS.len())?;
    out.flush()?;
    report::note(&format!("{} rule(s) run", rules.set.len()));
    Ok(if detected == TESTS.len() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
