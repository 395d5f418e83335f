//! Golden tests: the normalized event of every Windows and ESXi fixture in
//! `../shared/reference/examples` (evtx_dump JSON, evtx_dump XML, Splunk XmlWinEventLog, Winlogbeat
//! raw and ECS, ESXi shell.log and esxupdate.log, IIS W3C and Apache/nginx/Tomcat access logs), one snapshot per
//! file. The same record rendered two ways must normalize alike, which the snapshots make visible
//! side by side, and `same_record_same_event` checks outright.

#![allow(clippy::unwrap_used)]

mod common;

use common::read_named;
use std::path::Path;

const DIRS: [&str; 14] = [
    "sysmon_windows",
    "windows_security",
    "powershell",
    "mssql",
    "exchange",
    "iis",
    "splunk_xmlwineventlog",
    "winlogbeat_ecs",
    "esxi",
    "web_access_logs",
    "defender_endpoint",
    "crowdstrike_fdr",
    "linux_auditd",
    "sysmon_linux",
];

fn examples() -> Option<std::path::PathBuf> {
    shellward_testdata::shared("reference/examples")
}

/// The snapshot text: each event as pretty JSON, then each problem.
fn render(path: &Path, name: &str) -> String {
    let got = read_named(path, name, 1);
    let mut out = String::new();
    for event in &got.events {
        out.push_str(&serde_json::to_string_pretty(event).unwrap());
        out.push('\n');
    }
    for problem in got.problem_texts() {
        out.push_str(&format!("problem: {problem}\n"));
    }
    out
}

#[test]
fn every_windows_fixture() {
    let Some(base) = examples() else { return };
    let mut seen = 0;
    for dir in DIRS {
        let mut files: Vec<_> =
            std::fs::read_dir(base.join(dir)).unwrap().flatten().map(|e| e.path()).collect();
        files.sort();
        for path in files {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let name = format!("examples/{dir}/{file}");
            let snapshot = format!("{dir}__{file}");
            insta::assert_snapshot!(snapshot, render(&path, &name));
            seen += 1;
        }
    }
    assert!(seen >= 50, "only {seen} fixtures found");
}

/// The evtx_dump JSON and XML renderings of one record give the same fields (values compared as
/// text: XML has no integer type) and the same log source, host and time.
#[test]
fn same_record_same_event() {
    let Some(base) = examples() else { return };
    let mut pairs = 0;
    for dir in ["sysmon_windows", "windows_security", "powershell", "mssql", "exchange", "iis"] {
        for entry in std::fs::read_dir(base.join(dir)).unwrap().flatten() {
            let json = entry.path();
            let Some(stem) = json.to_str().and_then(|p| p.strip_suffix(".evtx_crate_0.15.1.json"))
            else {
                continue;
            };
            let xml = Path::new(&format!("{stem}.xml")).to_owned();
            let (a, b) = (read_named(&json, "x", 1), read_named(&xml, "x", 1));
            assert_eq!(a.events.len(), 1, "{}", json.display());
            assert_eq!(b.events.len(), 1, "{}", xml.display());
            let (a, b) = (&a.events[0], &b.events[0]);
            assert_eq!((a.logsource, &a.host, a.time), (b.logsource, &b.host, b.time), "{stem}");
            // The XML fixtures were saved with LF line ends where the records hold CRLF.
            let text = |e: &shellward_event::Event| {
                e.fields()
                    .map(|(n, v)| format!("{n}={}", v.as_text().replace("\r\n", "\n")))
                    .collect::<Vec<_>>()
            };
            assert_eq!(text(a), text(b), "{stem}");
            pairs += 1;
        }
    }
    assert!(pairs >= 15, "only {pairs} pairs");
}
