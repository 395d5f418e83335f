//! The `shellward` binary end to end: output, exit codes, stdin, problems on stderr.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn shellward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shellward"))
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shellward_sources/tests/fixtures")
        .join(name)
}

#[test]
fn events_prints_json_lines_and_exits_0() {
    let out = shellward()
        .arg("events")
        .arg(fixture("mssql_15457_xp_cmdshell_enabled.evtx"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["fields"]["ConfigOption"], "xp_cmdshell");
    assert_eq!(lines[0]["source"]["format"], "evtx");
    assert!(String::from_utf8(out.stderr).unwrap().contains("1 file(s), 2 event(s)"));
}

#[test]
fn bad_input_exits_3_and_keeps_the_good_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        "{\"Channel\":\"System\",\"EventID\":7045}\nnot json\n",
    )
    .unwrap();
    std::fs::copy(
        fixture("exchange_6_install_transportagent_failed.evtx"),
        dir.path().join("b.evtx"),
    )
    .unwrap();
    let out = shellward().arg("events").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 5);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("a.json: line 2: not a record: not json"), "{stderr}");
}

#[test]
fn stdin_limit_and_logsource_filter() {
    let mut child = shellward()
        .args(["events", "-", "--logsource", "service=security", "--limit", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"Channel\":\"System\",\"EventID\":7045}\n{\"Channel\":\"Security\",\"EventID\":4688}\n{\"Channel\":\"Security\",\"EventID\":4624}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.contains("\"EventID\":4688"));
}

#[test]
fn control_characters_from_input_are_escaped_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), "\u{1b}[31mevil\n").unwrap();
    let out = shellward().args(["events"]).arg(dir.path().join("x.json")).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    assert_eq!(out.status.code(), Some(3));
}

/// `shellward events` on a directory mixing formats under names that say nothing: each file is
/// recognized on its own and its events normalized (the Sigma view beside the source's fields).
#[test]
fn events_normalizes_a_directory_of_mixed_formats() {
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sources = repo.join("rules/selftest/sources");
    let inputs = [
        (sources.join("1_aspx_web_shell_iis.defender.jsonl"), "defender"),
        (sources.join("1_aspx_web_shell_iis.falcon.jsonl"), "falcon-fdr"),
        (sources.join("1_aspx_web_shell_iis.iis.log"), "w3c-log"),
        (sources.join("4_php_web_shell_linux_apache.access.log"), "access-log"),
        (sources.join("4_php_web_shell_linux_apache.audit.log"), "auditd"),
        (fixture("defender_advanced_hunting_export.csv"), "defender"),
        (fixture("mssql_15457_xp_cmdshell_enabled.evtx"), "evtx"),
        (repo.join("samples/esxi_vib_backdoor_shell.log"), "esxi-log"),
        (repo.join("samples/iis_webshell_sysmon.jsonl"), "flat-json"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (path, _)) in inputs.iter().enumerate() {
        std::fs::copy(path, dir.path().join(format!("input{i}"))).unwrap();
    }
    let out = shellward().arg("events").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (i, (path, format)) in inputs.iter().enumerate() {
        let name = format!("input{i}");
        let mine: Vec<_> = events
            .iter()
            .filter(|e| e["source"]["path"].as_str().unwrap().ends_with(&name))
            .collect();
        assert!(!mine.is_empty(), "{}: no events", path.display());
        assert!(mine.iter().all(|e| e["source"]["format"] == *format), "{}", path.display());
    }
    // The Sigma view: an EDR process row and an audit execve are process creations with an image.
    let processes = events
        .iter()
        .filter(|e| {
            e["logsource"]["category"] == "process_creation" && e["fields"]["Image"].is_string()
        })
        .count();
    assert!(processes >= 4, "{processes} process creations");
}

#[test]
fn rules_export_writes_each_rule_and_reports_what_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let out = shellward()
        .args(["rules", "export", "--target", "kql", "--tag", "attack.t1505", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Web server, ESXi and SQL Server log rules have no Defender table: reported, exit 1.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("kql cannot express the log source */webserver/*"), "{stderr}");
    let shell = std::fs::read_to_string(dir.path().join("web_server_spawns_shell.kql")).unwrap();
    assert!(shell.starts_with("// Web Server Spawns A Command Shell\n"), "{shell}");
    assert!(shell.contains("DeviceProcessEvents"), "{shell}");
    let written = std::fs::read_dir(dir.path()).unwrap().count();
    assert!(written >= 15, "{written} files");
}

#[test]
fn rules_export_combine_is_one_query_in_the_seeds_shape() {
    let out = shellward()
        .args(["rules", "export", "-t", "spl", "--combine", "--tag", "attack.t1505"])
        .args(["--lookback", "24h"])
        .output()
        .unwrap();
    let query = String::from_utf8_lossy(&out.stdout);
    assert!(query.contains("index=wineventlog earliest=-24h ("), "{query}");
    assert!(query.contains("| eval DetectionType=case("), "{query}");
    assert!(query.contains("\"WebShell_ChildProcess\""), "{query}");
    assert!(query.contains("| sort - _time\n"), "{query}");
    // The pack's correlations follow the combined query, each a search of its own.
    assert!(query.contains("\n``` Web Shell Deployed And Used ```\n"), "{query}");
    assert!(query.contains("| streamstats time_window=600s"), "{query}");
}

/// Some pack rules have no Defender table (web logs, scans): a combined KQL export leaves them out
/// and exits 1, unless `--allow-partial` accepts that; the refusals are reported either way.
#[test]
fn rules_export_allow_partial_accepts_refusals() {
    let export = |extra: &[&str]| {
        shellward()
            .args(["rules", "export", "-t", "kql", "--combine", "--tag", "attack.t1505"])
            .args(extra)
            .output()
            .unwrap()
    };
    let strict = export(&[]);
    assert_eq!(strict.status.code(), Some(1));
    let partial = export(&["--allow-partial"]);
    assert_eq!(partial.status.code(), Some(0), "{}", String::from_utf8_lossy(&partial.stderr));
    let stderr = String::from_utf8_lossy(&partial.stderr);
    assert!(stderr.contains("left out of the combined query"), "{stderr}");
    assert!(stderr.contains("accepted (--allow-partial)"), "{stderr}");
    assert_eq!(strict.stdout, partial.stdout);
    assert!(String::from_utf8_lossy(&partial.stdout).contains("// left out "));
}

#[test]
fn rules_export_sigma_reads_back_as_the_same_rule() {
    let out = shellward().args(["rules", "export", "-t", "sigma", "9af70ddd"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let again = shellward_sigma::load_text(shellward_sigma::Origin::Builtin("x.yml".into()), text);
    assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
    let original = shellward_sigma::load_paths(&[shellward_testdata::repo_root()
        .join("rules/windows/process_creation/web_server_spawns_shell.yml")]);
    let lower = |loaded: &shellward_sigma::Loaded| {
        shellward_engine::RuleSet::compile(loaded).0.rules()[0].lower()
    };
    assert_eq!(lower(&again), lower(&original));
}

#[test]
fn rules_export_needs_a_selection() {
    let out = shellward().args(["rules", "export", "-t", "cql"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name the rules to export"));
}

#[test]
fn rules_export_renders_a_correlation_for_every_siem_and_says_why_not_elsewhere() {
    let correlation = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/web_shell_deployed_and_used.yml");
    let out = shellward()
        .args(["rules", "export", "-t", "spl", "fixture_deployed_and_used", "--rules"])
        .arg(&correlation)
        .output()
        .unwrap();
    let query = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(query.contains("| eval shellward_rule=case("), "{query}");
    assert!(
        query.contains("| streamstats time_window=600s dc(shellward_rule) AS rule_count BY ComputerName\n| where rule_count>=2"),
        "{query}"
    );
    let out = shellward()
        .args(["rules", "export", "-t", "kql", "fixture_deployed_and_used", "--rules"])
        .arg(&correlation)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let query = String::from_utf8_lossy(&out.stdout);
    assert!(query.contains("| join kind=inner (shellward_signals) on shellward_group0"), "{query}");
    let out = shellward()
        .args(["rules", "export", "-t", "cql", "fixture_deployed_and_used", "--rules"])
        .arg(&correlation)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let query = String::from_utf8_lossy(&out.stdout);
    assert!(query.contains("correlate(\n"), "{query}");
    assert!(query.contains("within=600s,\n  sequence=false\n)"), "{query}");
    let out = shellward()
        .args(["rules", "export", "-t", "sigma", "fixture_deployed_and_used", "--rules"])
        .arg(&correlation)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fixture_deployed_and_used")
            && stderr.contains("sigma cannot express a correlation"),
        "{stderr}"
    );
}

#[test]
fn rules_export_renders_a_value_count_correlation() {
    let correlation = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/web_shell_deployed_and_used.yml");
    let out = shellward()
        .args(["rules", "export", "-t", "spl", "fixture_many_commands", "--rules"])
        .arg(&correlation)
        .output()
        .unwrap();
    let query = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        query.contains("| streamstats time_window=3600s dc(CommandLine) AS value_count BY ComputerName\n| where value_count>=5"),
        "{query}"
    );
}
