//! The KQL correlations mean what the hunt means: the same Defender rows are hunted by shellward
//! and queried with the exported KQL, executed by duckdb-kql (`scripts/kql-run`: KQL translated to
//! DuckDB SQL), and the same groups fire, at the windows' edges too (exactly the timespan apart:
//! inside; one second more: outside).
//!
//! Runs where Python can install duckdb-kql; CI sets `SHELLWARD_REQUIRE_SIEM_PARSERS=1` to make
//! its absence a failure.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use common::{repo, text};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A Defender row and its table.
struct Row {
    table: &'static str,
    seconds: i64,
    fields: serde_json::Value,
}

fn time(seconds: i64, iso: bool) -> String {
    let (h, m, s) = (9 + seconds / 3600, seconds / 60 % 60, seconds % 60);
    if iso {
        format!("2026-11-02T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("2026-11-02 {h:02}:{m:02}:{s:02}")
    }
}

/// w3wp.exe starting cmd.exe with `line`.
fn shell(host: &str, seconds: i64, line: &str) -> Row {
    Row {
        table: "DeviceProcessEvents",
        seconds,
        fields: serde_json::json!({
            "DeviceName": host, "ActionType": "ProcessCreated", "FileName": "cmd.exe",
            "FolderPath": "C:\\Windows\\System32\\cmd.exe", "ProcessCommandLine": line,
            "InitiatingProcessFileName": "w3wp.exe",
            "InitiatingProcessFolderPath": "c:\\windows\\system32\\inetsrv\\w3wp.exe",
            "InitiatingProcessCommandLine": "w3wp.exe -ap \"DefaultAppPool\"",
        }),
    }
}

/// PowerShell writing an ASPX file into the web root.
fn script(host: &str, seconds: i64) -> Row {
    Row {
        table: "DeviceFileEvents",
        seconds,
        fields: serde_json::json!({
            "DeviceName": host, "ActionType": "FileCreated", "FileName": "shell.aspx",
            "FolderPath": "C:\\inetpub\\wwwroot\\shell.aspx",
            "InitiatingProcessFileName": "powershell.exe",
            "InitiatingProcessFolderPath": "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",
            "InitiatingProcessCommandLine": "powershell.exe -NoProfile",
        }),
    }
}

fn shellward(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shellward")).current_dir(dir).args(args).output().unwrap()
}

/// The hosts the correlation fired on: by the hunt, and by its KQL run over the same rows.
/// `None` where duckdb-kql cannot be installed.
fn both(
    correlation: &str,
    title: &str,
    rows: &[Row],
) -> Option<(BTreeSet<String>, BTreeSet<String>)> {
    let run = repo().join("scripts/kql-run");
    let installed = Command::new(&run).arg("--install").output();
    if !installed.as_ref().is_ok_and(|o| o.status.success()) {
        let why = installed.map_or_else(|e| e.to_string(), |o| text(&o.stderr));
        assert!(
            std::env::var_os("SHELLWARD_REQUIRE_SIEM_PARSERS").is_none(),
            "SHELLWARD_REQUIRE_SIEM_PARSERS is set but duckdb-kql cannot be installed: {why}"
        );
        eprintln!("SKIPPED: duckdb-kql cannot be installed ({why})");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut jsonl = String::new();
    let mut tables: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for row in rows {
        let mut hunted = row.fields.clone();
        hunted["Timestamp"] = time(row.seconds, true).into();
        jsonl.push_str(&format!("{hunted}\n"));
        let mut queried = row.fields.clone();
        queried["Timestamp"] = time(row.seconds, false).into();
        tables
            .entry(row.table)
            .or_insert_with(|| serde_json::json!([]))
            .as_array_mut()
            .unwrap()
            .push(queried);
    }
    std::fs::write(dir.path().join("rows.jsonl"), jsonl).unwrap();
    let hunt = shellward(dir.path(), &["hunt", "--no-config", "-f", "jsonl", "rows.jsonl"]);
    assert!(hunt.status.code().is_some_and(|c| c <= 1), "{}", text(&hunt.stderr));
    let hunted: BTreeSet<String> = text(&hunt.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|a| a["rule"]["title"] == title)
        .map(|a| a["host"].as_str().unwrap().to_owned())
        .collect();
    let export = shellward(dir.path(), &["rules", "export", "-t", "kql", correlation]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    let input = serde_json::json!({"rows": tables, "query": text(&export.stdout)});
    let mut child = Command::new(&run)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let queried =
        result.iter().map(|r| r["shellward_group0"].as_str().unwrap().to_owned()).collect();
    Some((hunted, queried))
}

/// Asserts that the hunt and the correlation's KQL fire on exactly the hosts `expected` (nothing
/// where duckdb-kql cannot be installed).
fn fire_alike(correlation: &str, title: &str, rows: &[Row], expected: &[&str]) {
    let Some((hunted, queried)) = both(correlation, title, rows) else { return };
    let expected: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(hunted, expected, "the hunt");
    assert_eq!(queried, expected, "the KQL");
}

#[test]
fn web_shell_deployed_and_used_fires_alike_in_kql() {
    let rows = vec![
        script("inside", 0),
        shell("inside", 600, "cmd.exe /c whoami"),
        script("outside", 0),
        shell("outside", 601, "cmd.exe /c whoami"),
        shell("reversed", 0, "cmd.exe /c whoami"),
        script("reversed", 300),
        shell("alone", 0, "cmd.exe /c whoami"),
        script("alone-script", 0),
    ];
    fire_alike(
        "web_shell_deployed_and_used",
        "Web Shell Deployed And Used",
        &rows,
        &["inside", "reversed"],
    );
}

#[test]
fn many_distinct_shell_commands_fire_alike_in_kql() {
    let mut rows = Vec::new();
    for (host, last) in [("inside", 3600), ("outside", 3601)] {
        for i in 0..5 {
            let at = if i == 4 { last } else { i * 60 };
            rows.push(shell(host, at, &format!("cmd.exe /c command{i}")));
        }
    }
    for i in 0..6 {
        rows.push(shell("same", i * 60, "cmd.exe /c whoami"));
    }
    fire_alike(
        "many_web_server_shell_commands",
        "Many Distinct Commands From Web Server Shells",
        &rows,
        &["inside"],
    );
}

/// A process started at `seconds` (`ProcessCreated`), with its parent's id, image and start; a
/// Defender process is its id and start time.
fn started(host: &str, seconds: i64, (pid, image): (i64, &str), parent: (i64, &str, i64)) -> Row {
    let (parent_pid, parent_image, parent_start) = parent;
    let name = |path: &str| path.rsplit('\\').next().unwrap().to_owned();
    Row {
        table: "DeviceProcessEvents",
        seconds,
        fields: serde_json::json!({
            "DeviceName": host, "DeviceId": host, "ActionType": "ProcessCreated",
            "FileName": name(image), "FolderPath": image, "ProcessCommandLine": name(image),
            "ProcessId": pid, "ProcessCreationTime": time(seconds, false),
            "InitiatingProcessId": parent_pid, "InitiatingProcessFileName": name(parent_image),
            "InitiatingProcessFolderPath": parent_image,
            "InitiatingProcessCommandLine": name(parent_image),
            "InitiatingProcessCreationTime": time(parent_start, false),
        }),
    }
}

/// PowerShell (`pid`, started at `start`; its parent cmd.exe `parent`, started at `parent_start`)
/// connecting to a public address at `seconds`.
fn connects(
    host: &str,
    seconds: i64,
    (pid, start): (i64, i64),
    (parent, parent_start): (i64, i64),
) -> Row {
    Row {
        table: "DeviceNetworkEvents",
        seconds,
        fields: serde_json::json!({
            "DeviceName": host, "DeviceId": host, "ActionType": "ConnectionSuccess",
            "RemoteIP": "203.0.113.7", "RemotePort": 443, "LocalIP": "10.0.0.5", "LocalPort": 50000,
            "Protocol": "Tcp", "InitiatingProcessId": pid,
            "InitiatingProcessCreationTime": time(start, false),
            "InitiatingProcessFileName": "powershell.exe",
            "InitiatingProcessFolderPath": POWERSHELL,
            "InitiatingProcessCommandLine": "powershell.exe -nop",
            "InitiatingProcessParentId": parent, "InitiatingProcessParentFileName": "cmd.exe",
            "InitiatingProcessParentCreationTime": time(parent_start, false),
        }),
    }
}

const W3WP: &str = "c:\\windows\\system32\\inetsrv\\w3wp.exe";
const CMD: &str = "C:\\Windows\\System32\\cmd.exe";
const POWERSHELL: &str = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";

/// The temporal_ordered correlation, whose network member reads `AncestorImage`: w3wp.exe starts
/// cmd.exe, which starts PowerShell, which connects out. The KQL joins the grandparent (w3wp.exe,
/// from cmd.exe's own creation row) that the hunt's lineage knows. The connection must follow the
/// shell within the timespan: exactly 600 s after is inside, 601 s outside, before is out of order.
#[test]
fn web_shell_then_outbound_connection_fires_alike_in_kql() {
    let mut rows = Vec::new();
    for (host, shell_at, connect_at) in
        [("inside", 0, 600), ("outside", 0, 601), ("reversed", 300, 200)]
    {
        rows.push(started(host, shell_at, (100, CMD), (50, W3WP, 0)));
        rows.push(started(host, shell_at, (200, POWERSHELL), (100, CMD, shell_at)));
        rows.push(connects(host, connect_at, (200, shell_at), (100, shell_at)));
    }
    fire_alike(
        "web_shell_then_outbound_connection",
        "Web Server Shell Followed By An Outbound Connection",
        &rows,
        &["inside"],
    );
}
