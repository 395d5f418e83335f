use super::*;
use shellward_event::{Format, LogSource, Provenance};

fn sysmon(guid: &str, parent: &str, image: &str, line: &str, second: i64) -> Event {
    let mut event =
        Event::new(Provenance { path: "t.evtx".into(), record: 1, format: Format::Evtx });
    event.logsource = LogSource {
        product: Some("windows"),
        category: Some("process_creation"),
        service: Some("sysmon"),
    };
    event.host = Some("WEB01".into());
    event.time = Timestamp::from_second(1_700_000_000 + second).ok();
    event.insert("ProcessGuid", Value::Str(guid.into()));
    event.insert("ParentProcessGuid", Value::Str(parent.into()));
    event.insert("Image", Value::Str(image.into()));
    event.insert("CommandLine", Value::Str(line.into()));
    event
}

fn list(event: &Event, name: &str) -> Vec<String> {
    match event.get(name) {
        Some(Value::List(items)) => items.iter().map(|v| v.as_text().into_owned()).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_whole_chain_parent_first() {
    let mut lineage = Lineage::default();
    let mut w3wp = sysmon("{A}", "{0}", r"C:\w\w3wp.exe", "w3wp -ap pool", 0);
    assert_eq!(lineage.observe(&mut w3wp), Added::default());
    let mut cmd = sysmon("{B}", "{A}", r"C:\w\cmd.exe", "cmd /c powershell -enc x", 1);
    let mut ps = sysmon("{c}", "{b}", r"C:\w\powershell.exe", "powershell -enc x", 2);
    let mut certutil = sysmon("{D}", "{C}", r"C:\w\certutil.exe", "certutil -urlcache", 3);
    for event in [&mut cmd, &mut ps] {
        assert!(lineage.observe(event).parent_image);
    }
    let added = lineage.observe(&mut certutil);
    assert!(added.ancestors && added.parent_image && added.parent_command_line);
    assert_eq!(
        list(&certutil, "AncestorImage"),
        [r"C:\w\powershell.exe", r"C:\w\cmd.exe", r"C:\w\w3wp.exe"]
    );
    assert_eq!(list(&certutil, "AncestorCommandLine")[2], "w3wp -ap pool");
    assert_eq!(certutil.get_str("ParentCommandLine"), Some("powershell -enc x"));
}

#[test]
fn the_sources_own_parent_fields_win() {
    let mut lineage = Lineage::default();
    lineage.observe(&mut sysmon("R", "0", r"C:\svc.exe", "svc", 0));
    lineage.observe(&mut sysmon("A", "R", r"C:\w\W3WP.exe", "w3wp", 0));
    let mut child = sysmon("B", "A", r"C:\cmd.exe", "cmd", 1);
    child.insert("ParentImage", Value::Str(r"C:\w\w3wp.exe".into()));
    let added = lineage.observe(&mut child);
    assert!(!added.parent_image && added.parent_command_line && added.ancestors);
    assert_eq!(list(&child, "AncestorImage"), [r"C:\w\w3wp.exe", r"C:\svc.exe"]);
    // A table entry for another image under the parent's id is not this parent.
    let mut stale = sysmon("B2", "A", r"C:\cmd.exe", "cmd", 1);
    stale.insert("ParentImage", Value::Str(r"C:\real\sqlservr.exe".into()));
    let added = lineage.observe(&mut stale);
    assert!(!added.parent_image && !added.parent_command_line && added.ancestors);
    assert_eq!(list(&stale, "AncestorImage"), [r"C:\real\sqlservr.exe"]);
    // The parent unknown to the table: the event's own parent is the chain.
    let mut orphan = sysmon("C", "Z", r"C:\cmd.exe", "cmd", 2);
    orphan.insert("ParentImage", Value::Str(r"C:\x\sqlservr.exe".into()));
    assert!(lineage.observe(&mut orphan).ancestors);
    assert_eq!(list(&orphan, "AncestorImage"), [r"C:\x\sqlservr.exe"]);
}

#[test]
fn hosts_are_apart_and_cycles_end() {
    let mut lineage = Lineage::default();
    lineage.observe(&mut sysmon("A", "0", "w3wp.exe", "", 0));
    let mut other = sysmon("B", "A", "cmd.exe", "", 1);
    other.host = Some("OTHER".into());
    assert_eq!(lineage.observe(&mut other), Added::default());
    lineage.observe(&mut sysmon("X", "Y", "x.exe", "", 2));
    lineage.observe(&mut sysmon("Y", "X", "y.exe", "", 3));
    let mut child = sysmon("Z", "X", "z.exe", "", 4);
    lineage.observe(&mut child);
    assert_eq!(list(&child, "AncestorImage"), ["x.exe", "y.exe"]);
}

#[test]
fn security_4688_ids_and_reuse() {
    let event = |new: &str, creator: i64, image: &str| {
        let mut event = sysmon("", "", image, image, 0);
        event.remove("ProcessGuid");
        event.remove("ParentProcessGuid");
        event.insert("NewProcessId", Value::Str(new.into()));
        event.insert("ProcessId", Value::Int(creator));
        event
    };
    let mut lineage = Lineage::default();
    lineage.observe(&mut event("0x10", 4, "sqlservr.exe"));
    let mut cmd = event("0x20", 16, "cmd.exe");
    lineage.observe(&mut cmd);
    assert_eq!(cmd.get_str("ParentImage"), Some("sqlservr.exe"));
    // Id 0x10 reused by another process: later children name the new one.
    lineage.observe(&mut event("0x10", 4, "notepad.exe"));
    let mut late = event("0x30", 16, "cmd.exe");
    lineage.observe(&mut late);
    assert_eq!(late.get_str("ParentImage"), Some("notepad.exe"));
    // A record naming the new process as its own creator has no parent.
    let mut own = event("0x30", 48, "powershell.exe");
    assert_eq!(lineage.observe(&mut own), Added::default());
    assert_eq!(own.get_str("ParentImage"), None);
}

#[test]
fn bounded_by_count_bytes_and_idle_time() {
    let limits = Limits { max_processes: 100, max_bytes: 1 << 20, max_idle: 3600 };
    let mut lineage = Lineage::new(limits);
    for i in 0..1000 {
        lineage.observe(&mut sysmon(&i.to_string(), "p", "a.exe", "a", i));
    }
    assert_eq!(lineage.len(), 100);
    let by_bytes = Limits { max_processes: 1000, max_bytes: 2000, max_idle: 3600 };
    let mut lineage = Lineage::new(by_bytes);
    for i in 0..1000 {
        lineage.observe(&mut sysmon(&i.to_string(), "p", "image.exe", &"x".repeat(91), i));
    }
    assert!(lineage.bytes() <= 2000 && lineage.len() == 20, "{}", lineage.len());
    // A process idle for over an hour of event time is forgotten; one named as a parent is not.
    let mut lineage = Lineage::new(limits);
    lineage.observe(&mut sysmon("old", "0", "old.exe", "", 0));
    lineage.observe(&mut sysmon("busy", "0", "w3wp.exe", "", 0));
    lineage.observe(&mut sysmon("k1", "busy", "cmd.exe", "", 3000));
    lineage.observe(&mut sysmon("k2", "0", "x.exe", "", 4000));
    let mut child = sysmon("k3", "busy", "cmd.exe", "", 4100);
    lineage.observe(&mut child);
    assert_eq!(child.get_str("ParentImage"), Some("w3wp.exe"));
    let mut orphan = sysmon("k4", "old", "cmd.exe", "", 4200);
    lineage.observe(&mut orphan);
    assert_eq!(orphan.get_str("ParentImage"), None);
}

#[test]
fn repeated_parents_do_not_grow_the_order_queue() {
    let mut lineage = Lineage::default();
    lineage.observe(&mut sysmon("root", "0", "w3wp.exe", "", 0));
    for i in 0..100_000 {
        lineage.observe(&mut sysmon("child", "root", "cmd.exe", "", i));
    }
    assert!(lineage.order.len() <= 4 * 1024 + 2, "{}", lineage.order.len());
}

#[test]
fn a_parent_known_by_file_name_only_gets_its_path() {
    let mut lineage = Lineage::default();
    lineage.observe(&mut sysmon("A", "0", r"C:\inetpub\W3WP.exe", "w3wp", 0));
    let mut child = sysmon("B", "A", r"C:\cmd.exe", "cmd", 1);
    child.insert("ParentImage", Value::Str(r"\w3wp.exe".into()));
    let added = lineage.observe(&mut child);
    assert!(added.parent_image && added.parent_command_line);
    assert_eq!(child.get_str("ParentImage"), Some(r"C:\inetpub\W3WP.exe"));
}

/// A process creation from another source: `fields` as its decoder names them.
fn from(format: Format, fields: &[(&str, Value)], image: &str) -> Event {
    let mut event = sysmon("", "", image, image, 0);
    event.provenance.format = format;
    event.remove("ProcessGuid");
    event.remove("ParentProcessGuid");
    for (name, value) in fields {
        event.insert(name.to_string(), value.clone());
    }
    event
}

#[test]
fn defender_falcon_and_auditd_identities() {
    let mut lineage = Lineage::default();
    // Defender: process id with its creation time; the initiating process is the parent.
    let pid = |id: i64, time: &str| {
        vec![("ProcessId", Value::Int(id)), ("ProcessCreationTime", Value::Str(time.into()))]
    };
    lineage.observe(&mut from(Format::Defender, &pid(100, "2026-01-01T00:00:00Z"), "w3wp.exe"));
    let mut fields = pid(200, "2026-01-01T00:00:05Z");
    fields.push(("InitiatingProcessId", Value::Int(100)));
    fields.push(("InitiatingProcessCreationTime", Value::Str("2026-01-01T00:00:00Z".into())));
    let mut child = from(Format::Defender, &fields, "cmd.exe");
    lineage.observe(&mut child);
    assert_eq!(list(&child, "AncestorImage"), ["w3wp.exe"]);
    // The same pid created at another time is another process.
    fields[3].1 = Value::Str("2025-12-31T00:00:00Z".into());
    let mut other = from(Format::Defender, &fields, "cmd.exe");
    assert_eq!(lineage.observe(&mut other), Added::default());
    // Falcon: TargetProcessId and ParentProcessId.
    let falcon = |id: &str, parent: &str| {
        vec![
            ("TargetProcessId", Value::Str(id.into())),
            ("ParentProcessId", Value::Str(parent.into())),
        ]
    };
    lineage.observe(&mut from(Format::FalconFdr, &falcon("9001", "1"), "sqlservr.exe"));
    let mut child = from(Format::FalconFdr, &falcon("9002", "9001"), "cmd.exe");
    lineage.observe(&mut child);
    assert_eq!(child.get_str("ParentImage"), Some("sqlservr.exe"));
    // auditd: pid and ppid.
    let audit = |pid: i64, ppid: i64| {
        vec![("ProcessId", Value::Int(pid)), ("ParentProcessId", Value::Int(ppid))]
    };
    lineage.observe(&mut from(Format::Auditd, &audit(500, 1), "/usr/sbin/apache2"));
    lineage.observe(&mut from(Format::Auditd, &audit(501, 500), "/bin/sh"));
    let mut curl = from(Format::Auditd, &audit(502, 501), "/usr/bin/curl");
    lineage.observe(&mut curl);
    assert_eq!(list(&curl, "AncestorImage"), ["/bin/sh", "/usr/sbin/apache2"]);
}

#[test]
fn a_restored_table_links_as_the_stored_one() {
    let mut lineage = Lineage::default();
    lineage.observe(&mut sysmon("R", "0", r"C:\svc.exe", "svc -k", 0));
    lineage.observe(&mut sysmon("A", "R", r"C:\w\w3wp.exe", "w3wp -ap pool", 1));
    lineage.observe(&mut sysmon("B", "A", r"C:\cmd.exe", "cmd /c x", 2));
    let text = serde_json::to_string(&lineage.state()).unwrap_or_default();
    let state: LineageState = serde_json::from_str(&text).unwrap_or_default();
    let mut restored = Lineage::restore(Limits::default(), state);
    assert_eq!(restored.len(), lineage.len());
    assert_eq!(restored.bytes(), lineage.bytes());
    let (mut one, mut two) =
        (sysmon("C", "B", r"C:\ps.exe", "ps", 3), sysmon("C", "B", r"C:\ps.exe", "ps", 3));
    assert_eq!(lineage.observe(&mut one), restored.observe(&mut two));
    assert_eq!(one, two);
    assert_eq!(list(&two, "AncestorImage"), [r"C:\cmd.exe", r"C:\w\w3wp.exe", r"C:\svc.exe"]);
}

#[test]
fn server_identity_from_binaries_command_lines_and_ancestors() {
    let mut lineage = Lineage::default();
    // A shell starting uvicorn, then the python it runs (a plain command line): a server.
    lineage.observe(&mut sysmon("S", "0", r"C:\w\cmd.exe", "cmd /c uvicorn main:app", 0));
    lineage.observe(&mut sysmon("P", "S", r"C:\Python311\python.exe", "python.exe main.py", 1));
    let mut child = sysmon("C", "P", r"C:\w\cmd.exe", "cmd /c whoami", 2);
    assert!(lineage.observe(&mut child).parent_is_server);
    assert_eq!(child.get_str("ParentIsServer"), Some("true"));
    // python.exe running a tool is not one, nor is what it starts.
    lineage.observe(&mut sysmon("T", "0", r"C:\Python27\python.exe", "python.exe exploit.py", 0));
    let mut tool = sysmon("R", "T", r"C:\w\rundll32.exe", "rundll32 x.dll,Start", 1);
    assert!(!lineage.observe(&mut tool).parent_is_server);
    assert!(tool.get("ParentIsServer").is_none());
    // A known server binary, with or without the table knowing it.
    let mut known = sysmon("K", "unknown", r"C:\w\cmd.exe", "cmd", 1);
    known.insert("ParentImage", Value::Str(r"C:\Windows\System32\inetsrv\w3wp.exe".into()));
    assert!(lineage.observe(&mut known).parent_is_server);
}

/// An event of another category: `fields` as its decoder names them.
fn acting(
    category: Option<&'static str>,
    service: Option<&'static str>,
    fields: &[(&str, Value)],
) -> Event {
    let mut event = from(Format::Json, fields, "");
    event.remove("Image");
    event.remove("CommandLine");
    event.logsource = LogSource { product: Some("windows"), category, service };
    for (name, value) in fields {
        event.insert(name.to_string(), value.clone());
    }
    event
}

#[test]
fn processes_seen_accepting_connections_are_servers() {
    let text = |s: &str| Value::Str(s.into());
    let network = Some("network_connection");
    let cases: Vec<(Event, Event)> = vec![
        // Sysmon 3, Initiated=false, of a process the table does not know yet.
        (
            acting(
                network,
                None,
                &[
                    ("ProcessGuid", text("{L}")),
                    ("Image", text(r"C:\a\listener.exe")),
                    ("Initiated", text("false")),
                ],
            ),
            from(
                Format::Json,
                &[("ProcessGuid", text("{L2}")), ("ParentProcessGuid", text("{L}"))],
                r"C:\w\cmd.exe",
            ),
        ),
        // Defender: InboundConnectionAccepted by an initiating process.
        (
            acting(
                network,
                None,
                &[
                    ("ActionType", text("InboundConnectionAccepted")),
                    ("InitiatingProcessId", Value::Int(70)),
                    ("InitiatingProcessCreationTime", text("2026-01-01T00:00:00Z")),
                    ("Image", text(r"C:\a\api.exe")),
                ],
            ),
            from(
                Format::Defender,
                &[
                    ("ProcessId", Value::Int(71)),
                    ("ProcessCreationTime", text("2026-01-01T00:01:00Z")),
                    ("InitiatingProcessId", Value::Int(70)),
                    ("InitiatingProcessCreationTime", text("2026-01-01T00:00:00Z")),
                ],
                r"C:\w\cmd.exe",
            ),
        ),
        // Falcon: ReceiveAcceptIP4 of a context process.
        (
            acting(
                network,
                None,
                &[
                    ("event_simpleName", text("ReceiveAcceptIP4")),
                    ("ContextProcessId", text("777")),
                    ("Image", text(r"\Device\HarddiskVolume2\a\svc.exe")),
                ],
            ),
            from(
                Format::FalconFdr,
                &[("TargetProcessId", text("778")), ("ParentProcessId", text("777"))],
                r"C:\w\cmd.exe",
            ),
        ),
        // auditd: a successful accept4 system call.
        (
            acting(
                None,
                Some("auditd"),
                &[
                    ("type", text("SYSCALL")),
                    ("syscall", text("288")),
                    ("success", text("yes")),
                    ("pid", Value::Int(900)),
                    ("exe", text("/opt/app/server")),
                ],
            ),
            from(
                Format::Auditd,
                &[("ProcessId", Value::Int(901)), ("ParentProcessId", Value::Int(900))],
                "/bin/sh",
            ),
        ),
    ];
    for (mut accept, mut child) in cases {
        let mut lineage = Lineage::default();
        assert!(Lineage::wants(&accept), "{accept:?}");
        lineage.observe(&mut accept);
        assert!(lineage.observe(&mut child).parent_is_server, "{accept:?}");
    }
    // An outbound connection makes no server.
    let mut lineage = Lineage::default();
    let mut out = acting(
        network,
        None,
        &[
            ("ProcessGuid", text("{O}")),
            ("Image", text(r"C:\a\client.exe")),
            ("Initiated", text("true")),
        ],
    );
    lineage.observe(&mut out);
    let mut child = from(
        Format::Json,
        &[("ProcessGuid", text("{O2}")), ("ParentProcessGuid", text("{O}"))],
        r"C:\w\cmd.exe",
    );
    assert!(!lineage.observe(&mut child).parent_is_server);
}
