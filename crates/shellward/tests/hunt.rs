//! `shellward hunt` and `shellward rules` end to end: alerts in each format (golden files), exit
//! codes, rule diagnostics.

#![allow(clippy::unwrap_used)]

mod common;

use common::{repo, text};
use std::process::Output;

fn shellward(args: &[&str]) -> Output {
    common::run_in(&repo(), args)
}

const RULES: &str = "crates/shellward/tests/fixtures/rules";

/// `shellward hunt samples --no-builtin --rules RULES` plus `extra`.
fn hunt_samples(extra: &[&str]) -> Output {
    let mut args = vec!["hunt", "samples", "--no-builtin", "-r", RULES];
    args.extend_from_slice(extra);
    shellward(&args)
}

#[test]
fn hunt_table_on_the_samples() {
    let out = hunt_samples(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("hunt_table", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("2 rule(s) run, 2 alert(s)"), "{stderr}");
}

#[test]
fn hunt_jsonl_follows_the_alert_contract() {
    let out = hunt_samples(&["--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(0));
    let alerts: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(alerts.len(), 2);
    for alert in &alerts {
        for key in [
            "time",
            "host",
            "rule",
            "detection_type",
            "user",
            "process",
            "parent",
            "file",
            "registry",
            "network",
            "source",
            "event",
        ] {
            assert!(alert.get(key).is_some(), "{key} missing from {alert}");
        }
    }
    insta::assert_json_snapshot!("hunt_jsonl", alerts);
}

#[test]
fn hunt_csv() {
    let out = hunt_samples(&["-f", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("hunt_csv", text(&out.stdout));
}

#[test]
fn hunt_output_file_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.jsonl");
    let out =
        hunt_samples(&["-f", "jsonl", "-o", file.to_str().unwrap(), "--min-level", "critical"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.lines().count(), 1);
    assert!(written.contains("xp_cmdshell"));
    // The web shell sample is from 2026-11-02, the SQL Server one from 2020.
    let out = hunt_samples(&["-f", "jsonl", "--since", "2026-01-01T00:00:00Z"]);
    assert_eq!(text(&out.stdout).lines().count(), 1);
    assert!(text(&out.stderr).contains("outside --since/--until"));
    let out = hunt_samples(&["-f", "jsonl", "--until", "2026-01-01"]);
    assert_eq!(text(&out.stdout).lines().count(), 1);
}

#[test]
fn hunt_exit_codes() {
    let fail = hunt_samples(&["--fail-on", "high"]);
    assert_eq!(fail.status.code(), Some(1));
    let pass = shellward(&[
        "hunt",
        "samples/iis_webshell_sysmon.jsonl",
        "--no-builtin",
        "-r",
        RULES,
        "--fail-on",
        "critical",
    ]);
    assert_eq!(pass.status.code(), Some(0));
    let no_rules = shellward(&["hunt", "samples", "--no-builtin"]);
    assert_eq!(no_rules.status.code(), Some(2));
    assert!(text(&no_rules.stderr).contains("no rules to run"));
    let usage = shellward(&["hunt", "samples", "--format", "xml"]);
    assert_eq!(usage.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        "{\"EventID\": 1, \"Channel\": \"Security\"}\n{broken\n",
    )
    .unwrap();
    let unreadable =
        shellward(&["hunt", dir.path().to_str().unwrap(), "--no-builtin", "-r", RULES]);
    assert_eq!(unreadable.status.code(), Some(3), "{}", text(&unreadable.stderr));
}

#[test]
fn hunt_runs_the_good_rules_and_names_the_bad_ones() {
    let out = hunt_samples(&["-r", "crates/shellward/tests/fixtures/broken", "-f", "jsonl"]);
    assert_eq!(out.status.code(), Some(3), "rules left out make the run incomplete");
    assert_eq!(text(&out.stdout).lines().count(), 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("2 rule(s) run"), "{stderr}");
    assert!(stderr.contains("3 rule(s) could not be loaded"), "{stderr}");
    assert!(stderr.ends_with("exit 3: 3 rule(s) could not be loaded\n"), "{stderr}");
    let strict = hunt_samples(&["-r", "crates/shellward/tests/fixtures/broken", "--strict"]);
    assert_eq!(strict.status.code(), Some(2));
    assert_eq!(text(&strict.stdout), "", "nothing runs");
    assert!(text(&strict.stderr).contains("--strict: 3 rule(s) could not be loaded"));
}

#[test]
fn rules_check_reports_every_problem_with_its_location() {
    let out = shellward(&["rules", "check", "crates/shellward/tests/fixtures/broken"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("rules_check", text(&out.stderr));
    let good = shellward(&["rules", "check", RULES]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
}

#[test]
fn rules_list_and_show() {
    let out = shellward(&["rules", "list", "--no-builtin", "-r", RULES]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("rules_list", text(&out.stdout));
    let out = shellward(&[
        "rules",
        "show",
        "6f2c0e4e-4c1b-4d8e-9a53-0d7b8c1e5a02",
        "--no-builtin",
        "-r",
        RULES,
    ]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("rules_show", text(&out.stdout));
    let ambiguous = shellward(&["rules", "show", "6f2c0e4e", "--no-builtin", "-r", RULES]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(text(&ambiguous.stderr).contains("answers to 2 rules"), "{}", text(&ambiguous.stderr));
}

#[test]
fn hunt_with_sigmahq_finds_the_sample_attacks() {
    let Some(rules) = shellward_testdata::shared("data/sigmahq/rules/windows") else { return };
    let out = shellward(&[
        "hunt",
        "samples",
        "--no-builtin",
        "-r",
        rules.to_str().unwrap(),
        "-f",
        "jsonl",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let titles: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["rule"]["title"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for expected in [
        "Suspicious Process By Web Server Process",
        "MSSQL XPCmdshell Option Change",
        "Failed MSExchange Transport Agent Installation",
    ] {
        assert!(titles.iter().any(|t| t == expected), "{expected} not in {titles:?}");
    }
}

#[test]
fn the_table_escapes_attacker_controlled_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("evil.jsonl");
    let line = serde_json::json!({
        "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": "WEB01\u{1b}]0;owned\u{7}",
        "UtcTime": "2026-11-02 09:15:41.532", "Image": "C:\\Windows\\System32\\cmd.exe",
        "ParentImage": "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
        "CommandLine": "cmd /c echo \u{1b}[2J\u{1b}[31mgotcha \u{202e}txt.exe",
    });
    std::fs::write(&input, format!("{line}\n")).unwrap();
    let out = shellward(&["hunt", input.to_str().unwrap(), "--no-builtin", "-r", RULES]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("Shell Spawned By A Web Server Process"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{7}') && !table.contains('\u{202e}'),
        "{table:?}"
    );
    assert!(table.contains(r"\u{1b}[2J") && table.contains(r"\u{202e}txt.exe"), "{table}");
}

#[test]
fn selftest_detects_all_five_attack_tests() {
    let out = shellward(&["selftest"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    insta::assert_snapshot!("selftest", text(&out.stdout));
    let weak = shellward(&["selftest", "--no-builtin", "-r", RULES]);
    assert_eq!(weak.status.code(), Some(1), "an undetected test fails the run");
    assert!(text(&weak.stdout).contains("MISSED"));
}

#[test]
fn the_builtin_pack_on_the_samples() {
    let out = shellward(&["hunt", "samples"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!("hunt_builtin_samples", text(&out.stdout));
}

/// Alerts come out in the same order (event time, then file, record and rule) whatever the
/// number of threads, on a corpus large enough to be split into batches.
#[test]
fn alert_order_does_not_depend_on_threads() {
    let Some(rules) = shellward_testdata::shared("data/sigmahq/rules/windows") else { return };
    let Some(corpus) = shellward_testdata::shared("data/evtx-to-mitre") else { return };
    let (rules, corpus) = (rules.to_str().unwrap(), corpus.to_str().unwrap());
    let run = |threads: &str| {
        shellward(&["--threads", threads, "hunt", "--format", "jsonl", "-r", rules, corpus]).stdout
    };
    let one = run("1");
    assert!(one.iter().filter(|&&b| b == b'\n').count() > 1000);
    assert!(one == run("2"), "1 and 2 threads give different output");
    assert!(one == run("3"), "1 and 3 threads give different output");
    let times: Vec<String> = text(&one)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["time"].to_string())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "alerts are not in time order");
}

/// `first_seen`: the first request to a script that appeared after the first hour of the log
/// alerts once; scripts seen in the first hour, and later requests to the new one, do not. Split
/// over two files (a day's rotation), in input order.
#[test]
fn first_request_to_a_new_script_alerts_once() {
    let header = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n";
    let line = |time: &str, stem: &str| {
        format!(
            "2026-11-02 {time} 10.0.0.5 GET {stem} - 443 - 198.51.100.7 Mozilla/5.0 - 200 0 0 9\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let first = [
        line("08:00:00", "/default.aspx"),
        line("08:10:00", "/login.aspx"),
        // A new script inside the baseline hour: part of the site.
        line("08:50:00", "/reports.aspx"),
    ];
    let second = [
        line("09:30:00", "/default.aspx"),
        line("09:31:00", "/aspnet_client/system_web/errorEE.aspx"),
        line("09:32:00", "/ASPNET_CLIENT/system_web/errorEE.aspx"),
        line("09:40:00", "/reports.aspx"),
    ];
    std::fs::write(dir.path().join("u_ex261102_a.log"), format!("{header}{}", first.concat()))
        .unwrap();
    std::fs::write(dir.path().join("u_ex261102_b.log"), format!("{header}{}", second.concat()))
        .unwrap();
    let out = shellward(&["hunt", dir.path().to_str().unwrap(), "--format", "jsonl"]);
    let alerts: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let new_scripts: Vec<&serde_json::Value> =
        alerts.iter().filter(|a| a["detection_type"] == "WebShell_NewScript_Request").collect();
    assert_eq!(new_scripts.len(), 1, "{alerts:#?}");
    assert_eq!(new_scripts[0]["time"], "2026-11-02T09:31:00.000Z");
}
