//! Lineage through the whole pipeline: decoders name processes by id only (Falcon, auditd), the
//! hunt's one process table links them, and the screen passes what the table needs even when no
//! rule matched it yet.

#![allow(clippy::unwrap_used)]

use shellward_engine::{Lineage, RuleSet};
use shellward_event::Event;
use shellward_hunt::{Hunt, RuleScreen, Window};
use shellward_sigma::{Origin, load_text};
use shellward_sources::{Marks, Problem, ReadOptions, Screen, Sink, read_bytes};
use std::ops::ControlFlow;
use std::sync::Arc;

/// Collects events unscreened, or pushes screened ones into a hunt.
#[derive(Default)]
struct Events {
    events: Vec<Event>,
    hunt: Option<Hunt>,
}

impl Sink for Events {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.events.push(event);
        ControlFlow::Continue(())
    }

    fn screened(&mut self, event: Event, rules: Marks) -> ControlFlow<()> {
        match &mut self.hunt {
            Some(hunt) => hunt.push(event, rules),
            None => self.events.push(event),
        }
        ControlFlow::Continue(())
    }

    fn problem(&mut self, problem: Problem) {
        panic!("{problem}");
    }
}

fn decode(name: &str, text: &str) -> Vec<Event> {
    let mut sink = Events::default();
    let _ = read_bytes(name, text.as_bytes(), &ReadOptions::with_threads(1), &mut sink);
    sink.events
}

fn linked(name: &str, text: &str) -> Vec<Event> {
    let mut lineage = Lineage::default();
    let mut events = decode(name, text);
    for event in &mut events {
        lineage.observe(event);
    }
    events
}

const FALCON: &str = r#"{"event_simpleName":"ProcessRollup2","event_platform":"Win","aid":"a","TargetProcessId":"1","ImageFileName":"\\Device\\HarddiskVolume2\\Windows\\System32\\inetsrv\\w3wp.exe","CommandLine":"w3wp.exe -ap DefaultAppPool","ParentBaseFileName":"svchost.exe","ContextTimeStamp":"1700000000.5"}
{"event_simpleName":"ProcessRollup2","event_platform":"Win","aid":"a","TargetProcessId":"2","ParentProcessId":"1","ImageFileName":"\\Device\\HarddiskVolume2\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami","ParentBaseFileName":"w3wp.exe","ContextTimeStamp":"1700000001"}
{"event_simpleName":"ProcessRollup2","event_platform":"Win","aid":"b","TargetProcessId":"3","ParentProcessId":"1","ImageFileName":"\\Device\\HarddiskVolume2\\x.exe","ParentBaseFileName":"y.exe","ContextTimeStamp":"1700000002"}
{"event_simpleName":"NewScriptWritten","event_platform":"Win","aid":"a","ContextProcessId":"2","ContextBaseFileName":"cmd.exe","TargetFileName":"\\Device\\HarddiskVolume2\\inetpub\\wwwroot\\x.aspx","ContextTimeStamp":"1700000003"}
"#;

#[test]
fn falcon_parents_and_actors_get_their_full_paths() {
    let events = linked("falcon.json", FALCON);
    assert_eq!(events.len(), 4);
    let (w3wp, cmd, other, file) = (&events[0], &events[1], &events[2], &events[3]);
    assert_eq!(w3wp.get_str("ParentImage"), Some("\\svchost.exe"));
    assert_eq!(cmd.get_str("ParentImage"), Some("C:\\Windows\\System32\\inetsrv\\w3wp.exe"));
    assert_eq!(cmd.get_str("ParentCommandLine"), Some("w3wp.exe -ap DefaultAppPool"));
    // Another sensor's process 1 is not this one's.
    assert_eq!(other.get_str("ParentImage"), Some("\\y.exe"));
    assert_eq!(file.logsource.category, Some("file_event"));
    assert_eq!(file.get_str("TargetFilename"), Some("C:\\inetpub\\wwwroot\\x.aspx"));
    assert_eq!(file.get_str("Image"), Some("C:\\Windows\\System32\\cmd.exe"));
    assert_eq!(file.get_str("CommandLine"), Some("cmd /c whoami"));
}

const AUDIT: &str = "node=web02 type=SYSCALL msg=audit(1.0:1): syscall=59 success=yes ppid=1 pid=100 exe=\"/usr/sbin/apache2\"\n\
type=EXECVE msg=audit(1.0:1): argc=2 a0=\"/usr/sbin/apache2\" a1=\"-k\"\n\
node=web02 type=SYSCALL msg=audit(1.5:9): syscall=42 success=yes ppid=1 pid=150 exe=\"/usr/sbin/nginx\"\n\
node=web02 type=SYSCALL msg=audit(2.0:2): syscall=59 success=yes ppid=100 pid=200 uid=33 exe=\"/usr/bin/dash\"\n\
type=EXECVE msg=audit(2.0:2): argc=3 a0=\"sh\" a1=\"-c\" a2=6964\n\
node=web02 type=SYSCALL msg=audit(3.0:3): syscall=59 success=yes ppid=150 pid=300 exe=\"/usr/bin/id\"\n\
type=EXECVE msg=audit(3.0:3): argc=1 a0=\"id\"\n";

#[test]
fn auditd_parents_from_executions_and_from_syscall_records() {
    let events = linked("audit.log", AUDIT);
    let process = |image: &str| {
        events
            .iter()
            .find(|e| {
                e.logsource.category == Some("process_creation")
                    && e.get_str("Image") == Some(image)
            })
            .unwrap()
    };
    let shell = process("/usr/bin/dash");
    assert_eq!(shell.get_str("ParentImage"), Some("/usr/sbin/apache2"));
    assert_eq!(shell.get_str("ParentCommandLine"), Some("/usr/sbin/apache2 -k"));
    assert_eq!(shell.host.as_deref(), Some("web02"));
    // nginx never ran execve in the log; its SYSCALL record named its executable.
    let id = process("/usr/bin/id");
    assert_eq!(id.get_str("ParentImage"), Some("/usr/sbin/nginx"));
    assert_eq!(id.get("ParentCommandLine"), None);
}

#[test]
fn the_screen_passes_what_lineage_completes() {
    let rule = "title: Script written by a shell\nname: shell-writes\nlogsource:\n    category: file_event\n    product: windows\ndetection:\n    sel:\n        Image|endswith: '\\System32\\cmd.exe'\n    condition: sel\nlevel: high\n---\ntitle: Shell under IIS\nname: iis-shell\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    sel:\n        ParentImage|contains: '\\inetsrv\\'\n    condition: sel\nlevel: high\n";
    let (set, diagnostics) = RuleSet::compile(&load_text(Origin::Builtin("t".into()), rule.into()));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let set = Arc::new(set);
    let hunted = |lineage: bool| {
        let screen = RuleScreen::new(Arc::clone(&set), Window::default(), lineage);
        let options = ReadOptions {
            screen: Some(Arc::new(screen) as Arc<dyn Screen>),
            ..ReadOptions::with_threads(2)
        };
        let hunt = Hunt::new(Arc::clone(&set), lineage.then(Lineage::default));
        let mut sink = Events { events: Vec::new(), hunt: Some(hunt) };
        let _ = read_bytes("falcon.json", FALCON.as_bytes(), &options, &mut sink);
        let alerts = sink.hunt.unwrap().finish();
        alerts.map(|(event, rule)| (event.provenance.record, rule)).collect::<Vec<_>>()
    };
    // Neither event matches as decoded (the file event's Image is `\cmd.exe`, the shell's parent
    // `\w3wp.exe`): both alert once lineage has named their processes in full.
    assert_eq!(hunted(true), [(2, 1), (4, 0)]);
    assert_eq!(hunted(false), []);
}

#[test]
fn limits_reached_are_counted_and_said() {
    use shellward_engine::lineage::Limits;
    use shellward_event::{Format, LogSource, Provenance, Value};
    let (set, _) = RuleSet::compile(&load_text(Origin::Builtin("t".into()), String::new()));
    let small = Limits { max_processes: 2, ..Limits::default() };
    let mut hunt = Hunt::new(Arc::new(set), Some(Lineage::new(small)));
    assert_eq!(hunt.limits().line(), None);
    for i in 0..5u64 {
        let mut event =
            Event::new(Provenance { path: "t".into(), record: i, format: Format::Json });
        event.logsource = LogSource {
            product: Some("windows"),
            category: Some("process_creation"),
            service: Some("sysmon"),
        };
        event.insert("ProcessGuid", Value::Str(format!("{{{i}}}")));
        event.insert("Image", Value::Str("C:\\x.exe".into()));
        hunt.push_unscreened(event);
    }
    let limits = hunt.limits();
    assert_eq!(limits.processes_forgotten, 3);
    let line = limits.line().unwrap();
    assert!(line.contains("3 process(es) forgotten"), "{line}");
}
