//! `rules test` on a user's own rules, `rules check` warnings, `rules list` filters and
//! correlations, `rules show` by part of a title, and `--version` naming the pack.

#![allow(clippy::unwrap_used)]

mod common;

use common::{run_in, text};

const RULE: &str = "title: Curl From Tomcat\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        ParentImage|endswith: '\\tomcat9.exe'\n        Image|endswith: '\\curl.exe'\n    condition: sel\nlevel: high\n";

fn event(parent: &str) -> String {
    serde_json::json!({
        "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": "app01",
        "UtcTime": "2026-11-02 09:00:00.000", "ParentImage": parent,
        "Image": "C:\\Windows\\System32\\curl.exe", "CommandLine": "curl http://example.org",
    })
    .to_string()
}

#[test]
fn rules_test_passes_and_fails_on_users_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("mine");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("curl_from_tomcat.yml"), RULE).unwrap();
    std::fs::write(
        rules.join("curl_from_tomcat.match.jsonl"),
        event("C:\\tomcat\\bin\\tomcat9.exe") + "\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("curl_from_tomcat.nomatch.jsonl"),
        event("C:\\Windows\\explorer.exe") + "\n",
    )
    .unwrap();
    let ok = run_in(dir.path(), &["rules", "test", "mine"]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert!(text(&ok.stderr).contains("1 rule(s) passed, 0 failed"), "{}", text(&ok.stderr));
    // A negative scenario the rule fires on fails the run, naming the record.
    std::fs::write(rules.join("curl_from_tomcat.nomatch.jsonl"), event("D:\\tomcat9.exe") + "\n")
        .unwrap();
    let failed = run_in(dir.path(), &["rules", "test", "mine"]);
    assert_eq!(failed.status.code(), Some(1));
    let stderr = text(&failed.stderr);
    assert!(stderr.contains("FAILED Curl From Tomcat"), "{stderr}");
    assert!(stderr.contains("curl_from_tomcat.nomatch.jsonl record 1: fired"), "{stderr}");
    // Without scenarios: untested, which --strict fails.
    std::fs::remove_file(rules.join("curl_from_tomcat.nomatch.jsonl")).unwrap();
    std::fs::remove_file(rules.join("curl_from_tomcat.match.jsonl")).unwrap();
    let untested = run_in(dir.path(), &["rules", "test", "mine"]);
    assert!(untested.status.success());
    assert!(text(&untested.stderr).contains("1 without scenarios"), "{}", text(&untested.stderr));
    let strict = run_in(dir.path(), &["rules", "test", "--strict", "mine"]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
}

#[test]
fn rules_check_warns_of_a_rule_without_a_level() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("r.yml"), RULE.replace("level: high\n", "")).unwrap();
    let out = run_in(dir.path(), &["rules", "check", "r.yml"]);
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no `level`: its alerts are medium"), "{stderr}");
    assert!(stderr.contains("1 warning(s)"), "{stderr}");
}

/// The rule with `pattern` as its one selection, on the command line.
fn rule_with_regex(pattern: &str) -> String {
    let rule = RULE.replace(
        "        ParentImage|endswith: '\\tomcat9.exe'\n        Image|endswith: '\\curl.exe'\n",
        &format!("        CommandLine|re: '{pattern}'\n"),
    );
    assert!(rule.contains("|re:"), "{rule}");
    rule
}

/// A regular expression is built on first use, so one that parses but is too large to build is
/// found late: `rules check` and `--strict` build every one, and a hunt that tries it reports it.
#[test]
fn a_regex_too_large_to_build_is_reported_by_check_strict_and_the_hunt() {
    let dir = tempfile::tempdir().unwrap();
    // Too large with Unicode: ASCII text still has a matcher, and `rules check` says so.
    std::fs::write(dir.path().join("r.yml"), rule_with_regex("\\w{1000}\\w{1000}\\w{1000}"))
        .unwrap();
    let check = run_in(dir.path(), &["rules", "check", "r.yml"]);
    let said = "regular expression cannot be built for text that is not ASCII, so it matches only \
                ASCII text";
    assert!(text(&check.stderr).contains(said), "{}", text(&check.stderr));
    // Too large with Unicode off as well.
    let huge = rule_with_regex("(?:\\w{1000}){100}");
    std::fs::write(dir.path().join("r.yml"), huge).unwrap();
    std::fs::write(dir.path().join("events.jsonl"), event("C:\\x.exe") + "\n").unwrap();
    let said = "regular expression cannot be built, so it matches nothing";
    let check = run_in(dir.path(), &["rules", "check", "r.yml"]);
    assert_eq!(check.status.code(), Some(2), "{}", text(&check.stderr));
    assert!(text(&check.stderr).contains(said), "{}", text(&check.stderr));
    let args = ["hunt", "--no-config", "--no-builtin", "-r", "r.yml", "events.jsonl"];
    let hunt = run_in(dir.path(), &args);
    assert_eq!(hunt.status.code(), Some(3), "{}", text(&hunt.stderr));
    assert!(text(&hunt.stderr).contains(said), "{}", text(&hunt.stderr));
    let strict = run_in(dir.path(), &[&args[..5], &["--strict"], &args[5..]].concat());
    assert_eq!(strict.status.code(), Some(2), "{}", text(&strict.stderr));
    assert!(text(&strict.stderr).contains(said), "{}", text(&strict.stderr));
}

#[test]
fn rules_list_filters_and_shows_correlations() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        run_in(dir.path(), &["rules", "list", "--level", "critical", "--tag", "attack.t1505.003"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("correlation (temporal)  "), "{stdout}");
    assert!(stdout.contains("Web Server Spawns A Command Shell"), "{stdout}");
    assert!(!stdout.contains("  high  "), "{stdout}");
    assert!(!stdout.contains("Terminal Services"), "{stdout}");
    // By part of a title, and by a correlation's id as hunts print it.
    let shown = run_in(dir.path(), &["rules", "show", "deployed and USED"]);
    assert!(
        text(&shown.stdout).starts_with("# Web Shell Deployed And Used\n"),
        "{}",
        text(&shown.stderr)
    );
    let by_id = run_in(dir.path(), &["rules", "show", "7e4f0c2a-5d1b-5a8e-9c36-2b8d4f6a1e07"]);
    assert!(text(&by_id.stdout).contains("# correlation: temporal of"), "{}", text(&by_id.stderr));
    let ambiguous = run_in(dir.path(), &["rules", "show", "web shell"]);
    assert!(text(&ambiguous.stderr).contains("give more of it"));
}

#[test]
fn version_names_the_builtin_pack() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["--version"]);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("shellward "), "{stdout}");
    assert!(stdout.contains("(built-in pack 20"), "{stdout}");
    assert!(stdout.contains(" rules, 5 correlations)"), "{stdout}");
}
