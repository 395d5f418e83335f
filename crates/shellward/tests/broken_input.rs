//! Nothing lost, everything told: each broken input a user meets in the field (a cut JSON line, a
//! line cut inside a string, a garbage first line, a TLS handshake in an access log, a web page
//! beside the logs), each usage mistake (a missing path, an impossible time window) and each
//! combination of exit reasons, run through the binary: the records that must still come out, the
//! problems named with file and line, and the exit status with its closing line.

#![allow(clippy::unwrap_used)]

mod common;

use common::{repo, run_in as shellward, text};

/// A temporary directory holding one file.
fn with_file(name: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    dir
}

/// `shellward events FILE` in a directory holding only that file: (status, events' JSON, stderr).
fn events(name: &str, bytes: &[u8]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let dir = with_file(name, bytes);
    let out = shellward(dir.path(), &["events", name]);
    let events = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (out.status.code(), events, text(&out.stderr))
}

fn field<'a>(event: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    &event["fields"][name]
}

const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

#[test]
fn a_cut_json_line_costs_only_that_line() {
    let input = format!(
        "{{\"Channel\":\"{SYSMON}\",\"EventID\":1,\n\
         {{\"Channel\":\"{SYSMON}\",\"EventID\":1,\"Image\":\"C:\\\\w3wp.exe\"}}\n\
         {{\"Channel\":\"{SYSMON}\",\"EventID\":1,\"Image\":\"C:\\\\cmd.exe\"}}\n"
    );
    let (status, events, stderr) = events("cut.jsonl", input.as_bytes());
    assert_eq!(status, Some(3), "{stderr}");
    assert_eq!(events.len(), 2, "{stderr}");
    assert_eq!(field(&events[1], "Image"), "C:\\cmd.exe");
    assert!(stderr.contains("cut.jsonl: line 1: record cut short"), "{stderr}");
    assert!(stderr.contains("2 event(s), 1 unreadable record(s)"), "{stderr}");
}

#[test]
fn a_line_cut_inside_a_string_costs_only_that_line() {
    let input = format!(
        "{{\"Channel\":\"{SYSMON}\",\"EventID\":1,\"Image\":\"C:\\\\a\n\
         {{\"Channel\":\"{SYSMON}\",\"EventID\":1,\"Image\":\"C:\\\\b.exe\"}}\n\
         {{\"Channel\":\"{SYSMON}\",\"EventID\":1,\"Image\":\"C:\\\\c.exe\"}}\n"
    );
    let (status, events, stderr) = events("cutstring.jsonl", input.as_bytes());
    assert_eq!(status, Some(3));
    let images: Vec<_> = events.iter().map(|e| field(e, "Image").clone()).collect();
    assert_eq!(images, ["C:\\b.exe", "C:\\c.exe"], "{stderr}");
    assert!(stderr.contains("cutstring.jsonl: line 1: record cut short"), "{stderr}");
    assert!(stderr.contains("1 unreadable record(s)"), "{stderr}");
}

#[test]
fn a_garbage_first_line_does_not_reject_a_json_lines_file() {
    let input = format!(
        "\u{0}\u{7f}binary junk\n{{\"Channel\":\"{SYSMON}\",\"EventID\":1}}\n{{\"Channel\":\"{SYSMON}\",\"EventID\":3}}\n"
    );
    let (status, events, stderr) = events("garbage.jsonl", input.as_bytes());
    assert_eq!(status, Some(3));
    assert_eq!(events.len(), 2, "{stderr}");
    assert!(stderr.contains("garbage.jsonl: line 1: not a record"), "{stderr}");
}

#[test]
fn a_tls_handshake_in_an_access_log_costs_only_its_lines() {
    let good = |n: u32| {
        format!(
            "203.0.113.{n} - - [26/Dec/2016:16:16:29 +0200] \"GET /shell.jsp?cmd=id HTTP/1.1\" 200 12\n"
        )
    };
    let mut input = good(1).into_bytes();
    // A ClientHello sent to the HTTP port, logged raw (NULs and all), with no line break in it.
    input.extend_from_slice(b"198.51.100.7 - - [26/Dec/2016:16:16:30 +0200] \"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\" 400 -\n");
    for n in 2..=5 {
        input.extend_from_slice(good(n).as_bytes());
    }
    let (status, events, stderr) = events("access.log", &input);
    // The handshake is a request the server logged, and is read as one (no method; the bytes
    // kept in `request`), and every line after it too.
    assert_eq!(status, Some(0), "{stderr}");
    assert_eq!(events.len(), 6, "{stderr}");
    let shells = events.iter().filter(|e| field(e, "cs-uri-stem") == "/shell.jsp").count();
    assert_eq!(shells, 5);
    assert!(field(&events[1], "request").as_str().unwrap().starts_with('\u{16}'));
}

#[test]
fn binary_bytes_splitting_an_access_log_line_are_reported_per_line() {
    let good = "203.0.113.1 - - [26/Dec/2016:16:16:29 +0200] \"GET /a.php HTTP/1.1\" 200 12\n";
    let mut input = good.as_bytes().to_vec();
    input.extend_from_slice(b"198.51.100.7 - - [26/Dec/2016:16:16:30 +0200] \"\x16\x03\x01\x00\n\x0b\x0c\x00\x00\" 400 -\n");
    input.extend_from_slice(good.as_bytes());
    let (status, events, stderr) = events("access.log", &input);
    assert_eq!(status, Some(3));
    assert_eq!(events.len(), 2, "{stderr}");
    assert!(stderr.contains("access.log: line 3: not a record"), "{stderr}");
}

#[test]
fn a_php_page_is_not_an_event_log() {
    let (status, events, stderr) =
        events("shell.php", b"<?php eval($_POST['x']); ?>\n<html></html>\n");
    assert_eq!(status, Some(3), "a file named on the command line that nothing reads");
    assert!(events.is_empty());
    assert!(stderr.contains("shell.php: unknown format"), "{stderr}");
    // Found in a directory beside logs it is only noted (-v), and the logs are read.
    let dir = with_file("shell.php", b"<?php system($_GET['c']); ?>\n");
    std::fs::copy(repo().join("samples/iis_webshell_sysmon.jsonl"), dir.path().join("a.jsonl"))
        .unwrap();
    let out = shellward(dir.path(), &["events", ".", "-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("skipped: ./shell.php: unknown format"));
}

#[test]
fn a_file_read_as_a_format_that_yields_nothing_is_named() {
    let (status, events, stderr) = events("empty.json", b"[]\n");
    assert!(events.is_empty());
    assert!(stderr.contains("warning: empty.json: read as JSON, but no events in it"), "{stderr}");
    assert!(stderr.contains("no events were read"), "{stderr}");
    assert_eq!(status, Some(3));
}

#[test]
fn missing_paths_are_usage_errors() {
    let repo = repo();
    let input = shellward(&repo, &["hunt", "samples", "/nonexistent/logs"]);
    assert_eq!(input.status.code(), Some(2));
    assert!(text(&input.stderr).contains("input /nonexistent/logs: no such file or directory"));
    assert_eq!(text(&input.stdout), "", "nothing runs");
    let rules = shellward(&repo, &["hunt", "samples", "--rules", "/nope"]);
    assert_eq!(rules.status.code(), Some(2));
    assert!(text(&rules.stderr).contains("--rules /nope: no such file or directory"));
    let events = shellward(&repo, &["events", "/nonexistent"]);
    assert_eq!(events.status.code(), Some(2));
}

#[test]
fn unreadable_input_outranks_fail_on_and_both_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("random.bin"), [0u8, 1, 2, 250, 251, 13, 0, 0, 7]).unwrap();
    let samples = repo().join("samples");
    let out = shellward(
        dir.path(),
        &["hunt", samples.to_str().unwrap(), "random.bin", "--fail-on", "high"],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    let last = stderr.lines().last().unwrap();
    assert!(
        last.starts_with("shellward: exit 3: 1 unreadable record(s) or file(s) in 1 file(s); "),
        "{last}"
    );
    assert!(last.contains("alert(s) at or above --fail-on high"), "{last}");
    assert!(!text(&out.stdout).is_empty(), "the alerts are still written");
}

#[test]
fn an_empty_directory_says_nothing_was_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let out = shellward(dir.path(), &["hunt", "logs"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("warning: no events were read from the input"), "{stderr}");
    assert!(stderr.ends_with("shellward: exit 3: no events were read\n"), "{stderr}");
    // Only files no decoder reads: said too, with a pointer to -v.
    std::fs::write(dir.path().join("logs/README.txt"), "notes\n").unwrap();
    let out = shellward(dir.path(), &["hunt", "logs"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains(
        "no events were read from the input (1 file(s) of unknown format skipped; -v lists them)"
    ));
}

#[test]
fn events_limit_zero_prints_nothing() {
    let out = shellward(&repo(), &["events", "samples", "--limit", "0"]);
    assert_eq!(text(&out.stdout), "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn since_takes_the_time_the_table_prints_and_refuses_an_empty_window() {
    let repo = repo();
    let table_time = shellward(&repo, &["hunt", "samples", "--since", "2019-05-24 01:00:00"]);
    assert_eq!(table_time.status.code(), Some(0), "{}", text(&table_time.stderr));
    let bad = shellward(&repo, &["hunt", "samples", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = text(&bad.stderr);
    assert!(stderr.contains("'yesterday' is not a time"), "{stderr}");
    assert!(!stderr.contains("unparsed input"), "no parser internals: {stderr}");
    let empty = shellward(
        &repo,
        &["hunt", "samples", "--since", "2026-11-03", "--until", "2026-11-02 23:00:00"],
    );
    assert_eq!(empty.status.code(), Some(2));
    assert!(text(&empty.stderr).contains("is not before --until"));
}

#[test]
fn input_format_evtx_on_json_says_what_the_file_is() {
    let dir = with_file("a.json", b"{\"Channel\":\"Security\",\"EventID\":4688}\n");
    let out = shellward(dir.path(), &["events", "--input-format", "evtx", "a.json"]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("a.json: not an EVTX file (no ElfFile header): it looks like JSON"),
        "{stderr}"
    );
    assert!(!stderr.contains("deserialize"), "no parser internals: {stderr}");
}
