//! `shellward.toml`: each allowlist kind, scopes with level overrides, suppression windows at
//! their edges, and mistakes located by line and column.

#![allow(clippy::unwrap_used)]

use shellward_engine::{Level, RuleSet};
use shellward_event::{Event, Format, LogSource, Provenance, Timestamp, Value};
use shellward_hunt::Finding;
use shellward_hunt::tuning::{SuppressState, Tuned, Tuning};
use shellward_sigma::{Origin, load_text};
use std::path::Path;
use std::sync::Arc;

/// Field names and values of an event.
type Fields<'a> = &'a [(&'a str, &'a str)];

fn rules() -> RuleSet {
    let text = "title: Web Server Spawns A Command Shell\nid: 9af70ddd-ef18-5b75-9fce-ef3dfe889bfe\nname: shell\nlogsource:\n    product: test\ndetection:\n    sel:\n        Kind: 'shell'\n    condition: sel\nlevel: critical\ndetection_type: WebShell_ChildProcess\n---\ntitle: Recon\nname: recon\nlogsource:\n    product: test\ndetection:\n    sel:\n        Kind: 'recon'\n    condition: sel\nlevel: medium\n";
    let loaded = load_text(Origin::Builtin("test".into()), text.into());
    let (set, diagnostics) = RuleSet::compile(&loaded);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    set
}

fn event(host: &str, seconds: i64, record: u64, fields: &[(&str, &str)]) -> Arc<Event> {
    let mut event = Event::new(Provenance { path: "t".into(), record, format: Format::Json });
    event.logsource = LogSource { product: Some("test"), ..LogSource::default() };
    event.host = Some(host.into());
    event.time = Some(Timestamp::from_second(1_790_000_000 + seconds).unwrap());
    for (name, value) in fields {
        event.insert((*name).to_string(), Value::Str((*value).into()));
    }
    Arc::new(event)
}

fn finding<'r>(set: &'r RuleSet, rule: usize, event: Arc<Event>) -> Finding<'r> {
    Finding { event, rule: &set.rules()[rule].info, correlated: None, repeats: None }
}

fn tune(text: &str) -> Tuning {
    Tuning::parse(Path::new("shellward.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

fn apply<'r>(
    tuning: &Tuning,
    set: &'r RuleSet,
    overrides: &'r shellward_hunt::tuning::Overrides,
    findings: Vec<Finding<'r>>,
) -> Tuned<'r> {
    let _ = set;
    tuning.apply(findings, overrides, &mut SuppressState::default())
}

#[test]
fn each_allowlist_kind_drops_only_what_it_names() {
    let set = rules();
    let shell = |host: &str, record: u64, fields: &[(&str, &str)]| {
        finding(&set, 0, event(host, 0, record, fields))
    };
    let cases: &[(&str, Fields, Fields)] = &[
        (
            "image = '*\\deploy\\*'",
            &[("Image", "C:\\deploy\\run.exe")],
            &[("Image", "C:\\Windows\\cmd.exe")],
        ),
        (
            "command_line = { regex = 'octo-[0-9]+' }",
            &[("CommandLine", "cmd /c octo-42")],
            &[("CommandLine", "cmd /c whoami")],
        ),
        (
            "parent = '*\\Tentacle.exe'",
            &[("ParentImage", "C:\\Octopus\\Tentacle.exe")],
            &[("ParentImage", "C:\\w3wp.exe")],
        ),
        (
            "parent_command_line = '*agent.jar*'",
            &[("ParentCommandLine", "java -jar agent.jar")],
            &[("ParentCommandLine", "w3wp")],
        ),
        (
            "path = 'C:\\inetpub\\thumbs\\*'",
            &[("TargetFilename", "C:\\inetpub\\thumbs\\a.php")],
            &[("TargetFilename", "C:\\inetpub\\a.php")],
        ),
        (
            "user = 'CORP\\svc-deploy'",
            &[("User", "corp\\SVC-DEPLOY")],
            &[("User", "IIS APPPOOL\\Default")],
        ),
    ];
    for (key, dropped, kept) in cases {
        let tuning = tune(&format!("[[allow]]\nrule = 'shell'\n{key}\nreason = 'test'\n"));
        let overrides = tuning.overrides(&set);
        let tuned = apply(
            &tuning,
            &set,
            &overrides,
            vec![shell("web01", 1, dropped), shell("web01", 2, kept)],
        );
        assert_eq!(tuned.allowlisted.len(), 1, "{key}");
        assert_eq!(tuned.allowlisted[0].1, "allow[1] (test)");
        assert_eq!(tuned.findings.len(), 1, "{key}");
        assert_eq!(tuned.findings[0].event.provenance.record, 2, "{key}");
    }
    // By detection type or rule (id or title, any case): that rule only; by host or scope: every
    // rule on those hosts.
    for select in [
        "detection_type = 'WebShell_ChildProcess'",
        "host = 'WEB0?'",
        "scope = 'build'",
        "rule = 'Web Server Spawns A Command Shell'",
        "rule = '9AF70DDD-EF18-5B75-9FCE-EF3DFE889BFE'",
    ] {
        let tuning = tune(&format!("[scopes]\nbuild = ['web*', 'ci-*']\n[[allow]]\n{select}\n"));
        let overrides = tuning.overrides(&set);
        let findings = vec![
            shell("web01", 1, &[]),
            finding(&set, 1, event("web01", 0, 2, &[])),
            shell("db01", 3, &[]),
        ];
        let tuned = apply(&tuning, &set, &overrides, findings);
        let records: Vec<u64> = tuned.findings.iter().map(|f| f.event.provenance.record).collect();
        if select.starts_with("detection_type") || select.starts_with("rule") {
            assert_eq!(records, [2], "{select}: every alert of the rule");
        } else {
            assert_eq!(records, [3], "{select}: every alert on the hosts");
        }
    }
}

#[test]
fn scopes_override_levels() {
    let set = rules();
    let tuning = tune(
        "[scopes]\ndev = ['dev-*']\n[[level]]\nscope = 'dev'\ndetection_type = 'WebShell_ChildProcess'\nlevel = 'low'\n[[level]]\nrule = 'recon'\nlevel = 'high'\n",
    );
    let overrides = tuning.overrides(&set);
    let findings = vec![
        finding(&set, 0, event("dev-01", 0, 1, &[])),
        finding(&set, 0, event("web01", 0, 2, &[])),
        finding(&set, 1, event("dev-01", 0, 3, &[])),
    ];
    let tuned = apply(&tuning, &set, &overrides, findings);
    let levels: Vec<Level> = tuned.findings.iter().map(|f| f.rule.level).collect();
    assert_eq!(levels, [Level::Low, Level::Critical, Level::High]);
    assert_eq!(tuned.findings[0].rule.title, "Web Server Spawns A Command Shell");
}

#[test]
fn suppression_windows_at_their_edges() {
    let set = rules();
    let tuning = tune("[[suppress]]\nrule = 'shell'\nfields = ['CommandLine']\nwindow = '1h'\n");
    let overrides = tuning.overrides(&set);
    let at = |seconds: i64, record: u64, line: &str| {
        finding(&set, 0, event("web01", seconds, record, &[("CommandLine", line)]))
    };
    let findings = vec![
        at(0, 1, "whoami"),
        at(1800, 2, "whoami"),
        at(3600, 3, "whoami"), // just inside: exactly the window after the first
        at(3600, 4, "ipconfig"), // another command line: its own alert
        at(3601, 5, "whoami"), // just outside: a new alert
        finding(&set, 0, event("web02", 10, 6, &[("CommandLine", "whoami")])), // another host
    ];
    let tuned = apply(&tuning, &set, &overrides, findings);
    let records: Vec<u64> = tuned.findings.iter().map(|f| f.event.provenance.record).collect();
    assert_eq!(records, [1, 4, 5, 6]);
    let repeats = tuned.findings[0].repeats.as_ref().unwrap();
    assert_eq!(repeats.count, 3);
    assert_eq!(repeats.first, tuned.findings[0].event.time);
    assert_eq!(repeats.last, Some(Timestamp::from_second(1_790_003_600).unwrap()));
    assert!(tuned.findings[1].repeats.is_none());
    assert_eq!(tuned.suppressed.len(), 2);
    assert_eq!(tuned.suppressed[0].1, tuned.findings[0].id());
}

#[test]
fn mistakes_are_located() {
    let error = |text: &str| Tuning::parse(Path::new("t.toml"), text).unwrap_err().to_string();
    assert_eq!(
        error("[[allow]]\nrule = 'x'\nimage = \n"),
        "t.toml:3:9: string values must be quoted, expected literal string"
    );
    assert!(
        error("[[allow]]\ncomand_line = 'x'\n")
            .starts_with("t.toml:2:1: unknown field `comand_line`"),
        "{}",
        error("[[allow]]\ncomand_line = 'x'\n")
    );
    assert_eq!(
        error("[[level]]\nrule = 'x'\nlevel = 'severe'\n"),
        "t.toml:3:9: \"severe\" is not a level (informational, low, medium, high, critical)"
    );
    assert_eq!(
        error("[[suppress]]\nwindow = '1 year'\n"),
        "t.toml:2:10: \"1 year\" is not a duration (90s, 30m, 1h, 7d)"
    );
    assert_eq!(error("[[allow]]\nscope = 'nope'\n"), "t.toml:2:9: no scope \"nope\" in [scopes]");
    assert_eq!(
        error("[[allow]]\nimage = { regex = '(' }\n")
            .lines()
            .next()
            .unwrap()
            .split(": ")
            .next()
            .unwrap(),
        "t.toml:2:9"
    );
    assert!(
        error("[[allow]]\nwindow = '1h'\n").starts_with("t.toml:1:1: [[allow]] takes no `window`"),
        "{}",
        error("[[allow]]\nwindow = '1h'\n")
    );
    // A rule no rule answers to is reported against a set, located.
    let tuning = Tuning::parse(Path::new("t.toml"), "[[allow]]\nrule = 'no such rule'\n").unwrap();
    let unknown = tuning.unknown_rules(&rules());
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].to_string().starts_with("t.toml:2:8: no rule"), "{}", unknown[0]);
}
