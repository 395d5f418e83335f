//! `shellward watch` end to end: the seeds' five attack sequences appended line by line to files
//! being followed (in event-time order across the files, as agents write them), one file rotated
//! in the middle: every alert `hunt` gives on the final files appears once, correlations included;
//! and the same with the watch killed (-9) in the middle and started again with its `--state`.

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

/// Every line of every seed test with its event time, merged in time order: (time, test, line
/// number, line).
fn merged_lines() -> Vec<(String, usize, usize, String)> {
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
    lines
}

/// Writes seed lines to `logs` as agents would: each test's lines to its own file, test 1's file
/// rotated after its second line (renamed to a name that sorts first, as the older part, and its
/// later lines written to a new file under the old name).
struct Writer {
    logs: std::path::PathBuf,
    written: Vec<usize>,
}

impl Writer {
    fn write(&mut self, lines: &[(String, usize, usize, String)]) {
        for (_, test, _, raw) in lines {
            let file = self.logs.join(format!("{}.jsonl", test + 1));
            append(&file, raw);
            self.written[*test] += 1;
            if *test == 0 && self.written[0] == 2 {
                std::thread::sleep(Duration::from_millis(60));
                std::fs::rename(&file, self.logs.join("1.0.jsonl")).unwrap();
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    }
}

fn watch(dir: &Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_shellward"))
        .current_dir(dir)
        .args(["watch", "logs", "-f", "jsonl", "--poll-ms", "20"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends SIGTERM (or SIGKILL) to a watch and waits for it.
fn stop(watch: std::process::Child, signal: &str) -> std::process::Output {
    let sent = Command::new("kill").args([signal, &watch.id().to_string()]).status().unwrap();
    assert!(sent.success());
    watch.wait_with_output().unwrap()
}

#[test]
fn watch_reports_every_alert_hunt_finds_once() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let lines = merged_lines();

    let watch = watch(dir.path(), &[]);
    std::thread::sleep(Duration::from_millis(200));
    Writer { logs, written: vec![0; TESTS.len()] }.write(&lines);
    // Everything is written: wait for the watch to go quiet and report what waits.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGTERM ends it after the current poll, with the summary and the exit status.
    let output = stop(watch, "-TERM");
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
fn watch_killed_and_restarted_with_its_state_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let lines = merged_lines();
    let (first, rest) = lines.split_at(lines.len() / 2);
    let (second, third) = rest.split_at(rest.len() / 3);
    let state = ["--state", "state.json", "--checkpoint-every", "3s"];
    let mut writer = Writer { logs, written: vec![0; TESTS.len()] };

    // First run: a checkpoint after the first part, then alerts written after it (journaled),
    // then kill -9 with no chance to write anything more.
    let run = watch(dir.path(), &[&state[..], &["-o", "one.jsonl"]].concat());
    std::thread::sleep(Duration::from_millis(200));
    writer.write(first);
    // The first checkpoint comes 3 s after the start; the next one 3 s later, long after the kill.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.path().join("state.json").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(dir.path().join("state.json").exists());
    writer.write(second);
    std::thread::sleep(Duration::from_millis(300));
    let killed = stop(run, "-KILL");
    assert_eq!(killed.status.code(), None, "{}", text(&killed.stderr));
    let journal = std::fs::read_to_string(dir.path().join("state.json.reported")).unwrap();
    assert!(!journal.is_empty(), "no alert written between the checkpoint and the kill");

    // Lines written while it was down, then the second run goes on from the checkpoint.
    writer.write(&third[..third.len() / 2]);
    let run = watch(dir.path(), &[&state[..], &["-o", "two.jsonl"]].concat());
    std::thread::sleep(Duration::from_millis(300));
    writer.write(&third[third.len() / 2..]);
    std::thread::sleep(Duration::from_secs(3));
    let output = stop(run, "-TERM");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("going on from the checkpoint"), "{stderr}");

    let one = std::fs::read_to_string(dir.path().join("one.jsonl")).unwrap();
    let two = std::fs::read_to_string(dir.path().join("two.jsonl")).unwrap();
    assert!(!one.is_empty() && !two.is_empty());
    let mut ids = BTreeMap::new();
    for line in one.lines().chain(two.lines()) {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        *ids.entry(alert["id"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    assert!(ids.values().all(|&n| n == 1), "an alert id twice: {ids:?}");
    let watched = alerts(&format!("{one}{two}"));
    let hunted = alerts(&text(&run_in(dir.path(), &["hunt", "logs", "-f", "jsonl"]).stdout));
    assert!(hunted.keys().any(|(title, ..)| title == "Web Shell Deployed And Used"), "{hunted:?}");
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
