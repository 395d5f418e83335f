//! `shellward watch` end to end: the seeds' five attack sequences appended line by line to files
//! being followed (in event-time order across the files, as agents write them), one file rotated
//! in the middle: every alert `hunt` gives on the final files appears once, correlations included.

#![allow(clippy::unwrap_used)]

mod common;

use common::{repo, run_in, text};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TESTS: [&str; 5] = [
    "1_aspx_web_shell_iis",
    "2_mssql_xp_cmdshell",
    "3_iis_native_module_appcmd",
    "4_php_web_shell_linux_apache",
    "5_exchange_transport_agent",
];

/// Each alert line as (rule title, time, record, host), counted: the path is left out, as a
/// rotated file keeps the name it was followed under.
fn alerts(jsonl: &str) -> BTreeMap<(String, String, u64, String), usize> {
    let mut out = BTreeMap::new();
    for line in jsonl.lines() {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = (
            alert["rule"]["title"].as_str().unwrap_or_default().to_owned(),
            alert["time"].as_str().unwrap_or_default().to_owned(),
            alert["source"]["record"].as_u64().unwrap_or_default(),
            alert["host"].as_str().unwrap_or_default().to_owned(),
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

fn append(path: &Path, line: &str) {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, "{line}").unwrap();
}

#[test]
fn watch_reports_every_alert_hunt_finds_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    // Every line of every test with its event time, merged in time order.
    let mut lines: Vec<(String, usize, usize, String)> = Vec::new();
    for (test, name) in TESTS.iter().enumerate() {
        let source = repo().join(format!("rules/selftest/{name}.jsonl"));
        let raw: Vec<String> =
            std::fs::read_to_string(&source).unwrap().lines().map(str::to_owned).collect();
        let events = run_in(&repo(), &["events", source.to_str().unwrap()]);
        for event in text(&events.stdout).lines() {
            let event: serde_json::Value = serde_json::from_str(event).unwrap();
            let line = event["source"]["record"].as_u64().unwrap() as usize;
            let time = event["time"].as_str().unwrap_or("~").to_owned();
            lines.push((time, test, line, raw[line - 1].clone()));
        }
    }
    lines.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));

    let watch = Command::new(env!("CARGO_BIN_EXE_shellward"))
        .current_dir(dir.path())
        .args(["watch", "logs", "-f", "jsonl", "--poll-ms", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut written = vec![0; TESTS.len()];
    for (_, test, _, raw) in &lines {
        let file = logs.join(format!("{}.jsonl", test + 1));
        append(&file, raw);
        written[*test] += 1;
        // Test 1's file is rotated after its second line: renamed (the name sorts first, as the
        // older part), and its later lines go to a new file under the old name.
        if *test == 0 && written[0] == 2 {
            std::thread::sleep(Duration::from_millis(60));
            std::fs::rename(&file, logs.join("1.0.jsonl")).unwrap();
        }
        std::thread::sleep(Duration::from_millis(15));
    }
    // Everything is written: wait for the watch to go quiet and report what waits.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGTERM ends it after the current poll, with the summary and the exit status.
    let terminated =
        Command::new("kill").args(["-TERM", &watch.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    let output = watch.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("alert(s)"), "{stderr}");
    let watched = alerts(&text(&output.stdout));

    let hunt = run_in(dir.path(), &["hunt", "logs", "-f", "jsonl"]);
    let hunted = alerts(&text(&hunt.stdout));
    assert!(hunted.len() >= 10, "{hunted:?}");
    assert!(hunted.keys().any(|(title, ..)| title == "Web Shell Deployed And Used"), "{hunted:?}");
    assert!(watched.values().all(|&n| n == 1), "an alert twice: {watched:?}");
    assert_eq!(watched, hunted);
}

#[test]
fn watch_on_standard_input_ends_with_it() {
    let sample = std::fs::read(repo().join("samples/iis_webshell_sysmon.jsonl")).unwrap();
    let mut watch = Command::new(env!("CARGO_BIN_EXE_shellward"))
        .current_dir(repo())
        .args(["watch", "-", "-f", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    watch.stdin.take().unwrap().write_all(&sample).unwrap();
    let output = watch.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let watched = alerts(&text(&output.stdout));
    let hunted = alerts(&text(
        &run_in(&repo(), &["hunt", "samples/iis_webshell_sysmon.jsonl", "-f", "jsonl"]).stdout,
    ));
    assert_eq!(watched, hunted);
}
