//! The reports people read: the HTML page (hostile values escaped; opened in headless Chromium
//! without a console error), OCSF findings validated against the OCSF project's schema, the table
//! at the widths of real terminals (a pseudo-terminal), CSV read back with hostile values, the
//! coverage statistics, the incident options and the one time format.
//!
//! Chromium comes from Debian's package (`scripts/headless-chromium --install`, which `.ci/run`
//! runs); where it cannot be installed the browser test says so and passes, unless
//! `SHELLWARD_REQUIRE_BROWSER=1` (CI) makes that a failure. Screenshots are kept in
//! `target/test-artifacts/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use common::{repo, run_in, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A web shell's commands, with values written to break out of HTML, CSV and the terminal.
const HOSTILE: &str = concat!(
    r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"web<b>01</b>","UtcTime":"2026-11-02 09:15:41.532","ParentImage":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd.exe /c echo <script>alert(1)</script></textarea><img src=x onerror=alert(2)> \u001b[31mred\u0007 \"q\",x","ProcessId":"4242","User":"IIS APPPOOL\\DefaultAppPool"}"#,
    "\n",
    r#"{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"web<b>01</b>","UtcTime":"2026-11-02 09:15:42.000","ParentImage":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"=cmd|' /c calc'!A1","ProcessId":"4243"}"#,
    "\n"
);

fn hostile_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostile.jsonl"), HOSTILE).unwrap();
    dir
}

/// Whether the shared corpora are here (else the test says so and returns, unless required).
fn shared(name: &str) -> Option<PathBuf> {
    let path = repo().join("../shared/data").join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("SHELLWARD_REQUIRE_SHARED").is_none(),
        "SHELLWARD_REQUIRE_SHARED is set but {} is missing",
        path.display()
    );
    eprintln!("SKIPPED: {} is not here", path.display());
    None
}

#[test]
fn html_report_escapes_every_hostile_value() {
    let dir = hostile_dir();
    let out =
        run_in(dir.path(), &["hunt", "--no-config", "-f", "html", "-o", "r.html", "hostile.jsonl"]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // One script: the report's own, allowed by hash; nothing from telemetry is markup.
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(!page.contains("</textarea>"), "{page}");
    assert!(!page.contains("<b>01"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;/textarea&gt;&lt;img"),
        "{page}"
    );
    assert!(page.contains("web&lt;b&gt;01&lt;/b&gt;"), "{page}");
    // Control characters shown, not sent to the browser.
    assert!(!page.contains('\u{1b}') && !page.contains('\u{7}'), "{page}");
    assert!(page.contains("\\u{1b}[31mred\\u{7}"), "{page}");
    assert!(page.contains("Content-Security-Policy") && page.contains("script-src 'sha256-"));
    assert!(!page.contains("http://") && !page.contains("https://cdn"), "no network");
    // The rule's guide is inline.
    assert!(page.contains("<b>Investigate</b>") && page.contains("<b>Respond</b>"), "{page}");
}

/// Loads a page in headless Chromium: the console messages (errors, CSP refusals) and the DOM after
/// the script ran; a screenshot into `target/test-artifacts/<name>.png`. `None` without Chromium.
fn chromium(page: &Path, name: &str) -> Option<(Vec<String>, String)> {
    let script = repo().join("scripts/headless-chromium");
    let installed = Command::new(&script).arg("--install").output().unwrap();
    if !installed.status.success() {
        assert!(
            std::env::var_os("SHELLWARD_REQUIRE_BROWSER").is_none(),
            "SHELLWARD_REQUIRE_BROWSER is set but Chromium cannot be installed: {}",
            text(&installed.stderr)
        );
        eprintln!("SKIPPED: Chromium cannot be installed ({})", text(&installed.stderr).trim());
        return None;
    }
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(&script)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--virtual-time-budget=3000")
            .args(extra)
            .arg(&url)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let dom = run(&["--dump-dom"]);
    assert!(dom.status.success(), "{}", text(&dom.stderr));
    let console: Vec<String> =
        text(&dom.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_owned).collect();
    let artifacts = repo().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&shot);
    let screenshot = run(&[&format!("--screenshot={}", shot.display()), "--window-size=1280,1800"]);
    assert!(screenshot.status.success() && shot.exists(), "{}", text(&screenshot.stderr));
    Some((console, text(&dom.stdout)))
}

/// The report of the bundled samples and of evtx-to-mitre hunted with SigmaHQ's rules opens in
/// Chromium with no console message, and its filter script ran (it counts the alerts shown). The
/// harness itself reports a page's script error (a control).
#[test]
fn html_reports_open_in_headless_chromium_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.html");
    std::fs::write(&broken, "<html><body><script>undefined_function()</script></body></html>")
        .unwrap();
    let Some((console, _)) = chromium(&broken, "control") else { return };
    assert!(console.iter().any(|l| l.contains("Uncaught ReferenceError")), "{console:?}");

    let samples = dir.path().join("samples.html");
    let hunt = run_in(
        &repo(),
        &["hunt", "--no-config", "-f", "html", "-o", samples.to_str().unwrap(), "rules/selftest"],
    );
    assert!(hunt.status.code().is_some_and(|c| c <= 1), "{}", text(&hunt.stderr));
    let (console, dom) = chromium(&samples, "report-samples").unwrap();
    assert!(console.is_empty(), "{console:?}");
    assert!(dom.contains("id=\"f-count\">38 shown<"), "the filter script did not run");

    let (Some(corpus), Some(sigmahq)) = (shared("evtx-to-mitre"), shared("sigmahq/rules/windows"))
    else {
        return;
    };
    let report = dir.path().join("sigmahq.html");
    let hunt = run_in(
        &repo(),
        &[
            "hunt",
            "--no-config",
            "--no-builtin",
            "-r",
            sigmahq.to_str().unwrap(),
            "-f",
            "html",
            "-o",
            report.to_str().unwrap(),
            corpus.to_str().unwrap(),
        ],
    );
    assert!(hunt.status.code().is_some_and(|c| c <= 3), "{}", text(&hunt.stderr));
    let (console, dom) = chromium(&report, "report-evtx-to-mitre-sigmahq").unwrap();
    assert!(console.is_empty(), "{console:?}");
    assert!(dom.contains(" shown</span>"), "the filter script did not run");
}

/// Runs the OCSF validator (the OCSF project's compiled 1.2.0 schema) over `findings`.
fn validate_ocsf(findings: &[u8]) -> (bool, String) {
    let mut child = Command::new(repo().join("scripts/ocsf-validate"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), findings).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

/// Every corpus's findings (the pack's, and SigmaHQ's where the pack finds nothing) are valid
/// OCSF Detection Findings; a finding without `finding_info` is not (the validator can fail).
#[test]
fn ocsf_findings_validate_against_the_ocsf_schema() {
    let ocsf = |args: &[&str]| {
        let mut all = vec!["hunt", "--no-config", "-f", "ocsf"];
        all.extend_from_slice(args);
        let out = run_in(&repo(), &all);
        assert!(out.status.code().is_some_and(|c| c <= 3), "{}", text(&out.stderr));
        out.stdout
    };
    let samples = ocsf(&["rules/selftest"]);
    let (ok, report) = validate_ocsf(&samples);
    assert!(ok, "{report}");
    assert!(report.contains("38 event(s), 0 error(s)"), "{report}");
    let first: serde_json::Value =
        serde_json::from_slice(samples.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["class_uid"], 2004);
    let mut broken = first.clone();
    broken.as_object_mut().unwrap().remove("finding_info");
    let (ok, report) = validate_ocsf(broken.to_string().as_bytes());
    assert!(!ok && report.contains("event.finding_info: required attribute missing"), "{report}");

    let Some(sigmahq) = shared("sigmahq/rules/windows") else { return };
    for corpus in ["evtx-to-mitre", "evtx-samples", "otrf"] {
        let Some(path) = shared(corpus) else { return };
        let pack = ocsf(&[path.to_str().unwrap()]);
        let sigma =
            ocsf(&["--no-builtin", "-r", sigmahq.to_str().unwrap(), path.to_str().unwrap()]);
        for (what, findings) in [("pack", pack), ("sigmahq", sigma)] {
            let (ok, report) = validate_ocsf(&findings);
            let empty = findings.is_empty();
            assert!(ok || empty, "{corpus} {what}: {report}");
            eprintln!("{corpus} {what}: {}", report.trim());
        }
    }
}

/// Runs `shellward ARGS` with standard output on a pseudo-terminal `columns` wide (Python's pty
/// module sets its size), returning what it printed.
fn on_terminal(columns: u16, args: &[&str]) -> String {
    const PTY: &str = r#"
import fcntl, os, pty, struct, subprocess, sys, termios
columns = int(sys.argv[1])
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
attrs = termios.tcgetattr(slave)
attrs[1] &= ~termios.ONLCR
termios.tcsetattr(slave, termios.TCSANOW, attrs)
child = subprocess.Popen(sys.argv[2:], stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
os.close(slave)
out = b""
while True:
    try:
        data = os.read(master, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
child.wait()
sys.stdout.buffer.write(out)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(PTY)
        .arg(columns.to_string())
        .arg(env!("CARGO_BIN_EXE_shellward"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// The table fits terminals of 80, 120 and 200 columns (the width asked of the terminal, not
/// `$COLUMNS`), and repeats of a rule on one process are one line.
#[test]
fn the_table_fits_the_terminal() {
    for columns in [80u16, 120, 200] {
        let table =
            on_terminal(columns, &["hunt", "--no-config", "--no-incidents", "rules/selftest"]);
        // Times change with nothing; the report's first lines and a few rows are the golden.
        for line in table.lines() {
            assert!(
                line.chars().count() <= usize::from(columns),
                "{columns} columns: {} wide: {line}",
                line.chars().count()
            );
        }
        let head: Vec<&str> = table.lines().take(12).collect();
        insta::assert_snapshot!(format!("table_{columns}"), head.join("\n"));
    }
}

/// CSV read back by a CSV parser: every hostile value is one cell, control characters escaped as
/// the table shows them, formulas defused; the summary and ATT&CK columns are there.
#[test]
fn csv_reads_back_with_hostile_values() {
    let dir = hostile_dir();
    let out = run_in(dir.path(), &["hunt", "--no-config", "-f", "csv", "hostile.jsonl"]);
    let csv = text(&out.stdout);
    let mut reader = csv_reader(&csv);
    let header: Vec<String> = reader.next().unwrap();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<Vec<String>> = reader.collect();
    assert!(!rows.is_empty(), "{csv}");
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        assert!(row.iter().all(|cell| !cell.chars().any(|c| c.is_control())), "{row:?}");
    }
    let lines: Vec<&str> = rows.iter().map(|r| r[column("command_line")].as_str()).collect();
    assert!(
        lines.contains(
            &"cmd.exe /c echo <script>alert(1)</script></textarea><img src=x onerror=alert(2)> \\u{1b}[31mred\\u{7} \"q\",x"
        ),
        "{lines:?}"
    );
    assert!(lines.contains(&"'=cmd|' /c calc'!A1"), "{lines:?}");
    let first = &rows[0];
    assert_eq!(first[column("host")], "web<b>01</b>");
    assert!(first[column("attack_techniques")].contains("T1505.003"), "{first:?}");
    assert!(first[column("attack_tactics")].contains("persistence"), "{first:?}");
    assert!(first[column("summary")].starts_with("w3wp.exe → cmd.exe /c echo"), "{first:?}");
    assert_eq!(first[column("log")], "Sysmon");
    assert_eq!(first[column("time")], "2026-11-02T09:15:41.532Z");
}

/// A minimal RFC 4180 reader (quotes, doubled quotes, commas and line breaks in cells).
fn csv_reader(text: &str) -> impl Iterator<Item = Vec<String>> + '_ {
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        chars.peek()?;
        let mut row = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => row.push(std::mem::take(&mut cell)),
                ('\n', false) => break,
                (c, _) => cell.push(c),
            }
        }
        row.push(cell);
        Some(row)
    })
}

/// `--stats` reports what was read and which log sources no rule reads; `--no-incidents` drops
/// the incident view and `--incident-gap` sets its gap; every time is RFC 3339 with milliseconds.
#[test]
fn stats_incident_options_and_one_time_format() {
    let out = run_in(&repo(), &["hunt", "--no-config", "--stats", "-f", "jsonl", "rules/selftest"]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("Read: 57 event(s)"), "{stderr}");
    assert!(
        stderr.contains("from 2026-11-02T09:00:00.000Z to 2026-11-02T11:00:00.200Z"),
        "{stderr}"
    );
    assert!(stderr.contains("By log source (rules reading it)"), "{stderr}");
    assert!(stderr.contains("By log and event id"), "{stderr}");
    assert!(stderr.contains("  Sysmon 1 "), "{stderr}");
    assert!(stderr.contains("By host"), "{stderr}");
    assert!(
        stderr.contains("Every log source read has a rule.") || stderr.contains("No rule reads:")
    );

    let table = run_in(&repo(), &["hunt", "--no-config", "rules/selftest"]);
    let table = text(&table.stdout);
    assert!(table.contains("Incidents (") && table.contains("less than 30m apart"), "{table}");
    let gap = run_in(&repo(), &["hunt", "--no-config", "--incident-gap", "2h", "rules/selftest"]);
    assert!(text(&gap.stdout).contains("less than 2h apart"));
    let none = run_in(&repo(), &["hunt", "--no-config", "--no-incidents", "rules/selftest"]);
    assert!(!text(&none.stdout).contains("Incidents ("));
    let bad = run_in(&repo(), &["hunt", "--no-config", "--incident-gap", "soon", "rules/selftest"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));

    // One time format: the table, JSON lines, CSV and `events` print the same string.
    let time = "2026-11-02T09:14:03.120Z";
    assert!(table.contains(time), "{table}");
    let jsonl = run_in(&repo(), &["hunt", "--no-config", "-f", "jsonl", "rules/selftest"]);
    assert!(text(&jsonl.stdout).contains(&format!("\"time\":\"{time}\"")));
    let csv = run_in(&repo(), &["hunt", "--no-config", "-f", "csv", "rules/selftest"]);
    assert!(text(&csv.stdout).contains(&format!("{time},")));
    let events = run_in(&repo(), &["events", "rules/selftest/1_aspx_web_shell_iis.jsonl"]);
    assert!(text(&events.stdout).contains(&format!("\"time\":\"{time}\"")));
}
