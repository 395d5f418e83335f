//! Linux audit logs: `audit.log` (raw or enriched), `ausearch -i` output, syslog-forwarded records,
//! and AUOMS records in Sentinel's Syslog table.
//!
//! [`group::Grouper`] gathers the records of one event (same `audit(timestamp:serial)`); [`decode`]
//! turns an event into:
//! - one event per record, log source `linux` / `auditd`, with the record's fields under their own
//!   names plus `type` (what SigmaHQ's auditd rules match: `type: EXECVE`, `a0`, `exe`, `key`...);
//! - for a successful `execve`/`execveat` (or an `AUOMS_EXECVE`), a `process_creation` event in
//!   the Sigma taxonomy: `Image` (`exe`), `CommandLine` (the EXECVE arguments joined by spaces, else
//!   `proctitle`), `CurrentDirectory`, `ProcessId`, `ParentProcessId`, `User` (the name where the
//!   log has it, else the uid), `LogonId` (`auid`);
//! - for each PATH record that created a regular file (`nametype=CREATE`), a `file_event` with
//!   `TargetFilename` (relative names joined to the CWD), `Image`, `ProcessId` and `User`.
//!
//! auditd names a parent by pid only: the hunt's process table ([`shellward_engine::Lineage`])
//! learns the image of each pid from SYSCALL records and the image and command line of each
//! process creation, and fills a process creation's `ParentImage` and `ParentCommandLine` from its
//! `ppid` on the same host.

mod group;
mod record;

pub(crate) use group::Grouper;

use crate::problem::DecodeError;
use record::Record;
use shellward_event::{Event, FieldName, Format, Provenance, Timestamp, Value};
use std::sync::Arc;

/// Whether a first line is an audit record.
pub(crate) fn sniff(line: &str) -> bool {
    record::parse(line).is_some()
}

/// Decodes one event's record lines (see the module documentation). `host` is the host when the
/// container knows it (Sentinel's `Computer`).
pub(crate) fn decode(
    bytes: &[u8],
    path: &Arc<str>,
    line: u64,
    host: Option<&str>,
) -> Result<Vec<Event>, DecodeError> {
    let text = crate::lines::text(bytes);
    let records: Vec<Record> = text.lines().filter_map(record::parse).collect();
    let Some(first) = records.first() else {
        return Err(DecodeError::Garbage(text.chars().take(80).collect()));
    };
    let host = host.map(str::to_owned).or_else(|| records.iter().find_map(|r| r.node.clone()));
    let time = Timestamp::from_millisecond(first.seconds * 1000 + first.millis).ok();
    let new_event = |category: Option<&'static str>, service: Option<&'static str>| {
        let provenance =
            Provenance { path: Arc::clone(path), record: line, format: Format::Auditd };
        let mut event = Event::new(provenance);
        event.logsource.product = Some("linux");
        event.logsource.category = category;
        event.logsource.service = service;
        event.host.clone_from(&host);
        event.time = time;
        event
    };
    let mut events = Vec::with_capacity(records.len() + 1);
    for record in &records {
        let mut event = new_event(None, Some("auditd"));
        event.push("type", Value::Str(record.kind.clone()));
        for (name, value) in &record.fields {
            event.push(FieldName::Owned(name.clone()), Value::Str(value.clone()));
        }
        if record.kind == "SYSCALL"
            && record.get("SYSCALL").is_none()
            && let Some(name) = syscall_name(record)
        {
            event.push("SYSCALL", Value::Str(name.to_owned()));
        }
        events.push(event);
    }
    let find = |kind: &str| records.iter().find(|r| r.kind == kind);
    let process = find("SYSCALL").or_else(|| find("AUOMS_EXECVE"));
    if let Some(syscall) = process.filter(|r| is_execve(r)) {
        let mut event = new_event(Some("process_creation"), None);
        fill_process(&mut event, syscall, &records);
        events.push(event);
    }
    let cwd = find("CWD").and_then(|r| r.get("cwd")).or_else(|| process.and_then(|r| r.get("cwd")));
    for created in records.iter().filter(|r| r.kind == "PATH" && creates_file(r)) {
        let Some(name) = created.get("name") else { continue };
        let mut event = new_event(Some("file_event"), None);
        let target = match cwd {
            Some(cwd) if !name.starts_with('/') => format!("{}/{name}", cwd.trim_end_matches('/')),
            _ => name.to_owned(),
        };
        event.push("TargetFilename", Value::Str(target));
        if let Some(syscall) = process {
            actor_fields(&mut event, syscall);
        }
        events.push(event);
    }
    Ok(events)
}

/// Whether a SYSCALL (or AUOMS_EXECVE) record is a successful execve.
fn is_execve(record: &Record) -> bool {
    if record.get("success") == Some("no") {
        return false;
    }
    if record.kind == "AUOMS_EXECVE" {
        return true;
    }
    let named = |v: &str| v == "execve" || v == "execveat";
    if record.get("SYSCALL").is_some_and(named) {
        return true;
    }
    let Some(syscall) = record.get("syscall") else { return false };
    if named(syscall) {
        return true;
    }
    // Numbers per architecture (x86_64, aarch64, i386, and the names ausearch -i prints).
    match record.get("arch").unwrap_or("c000003e") {
        "c000003e" | "x86_64" => matches!(syscall, "59" | "322"),
        "c00000b7" | "aarch64" => matches!(syscall, "221" | "281"),
        "40000003" | "i386" => matches!(syscall, "11" | "358"),
        _ => false,
    }
}

/// The name of an x86_64 syscall number, as the enriched format writes it in `SYSCALL` (SigmaHQ's
/// auditd rules match it): the calls rules ask about, not the whole table.
fn syscall_name(record: &Record) -> Option<&'static str> {
    const X86_64: [(&str, &str); 24] = [
        ("2", "open"),
        ("41", "socket"),
        ("42", "connect"),
        ("43", "accept"),
        ("49", "bind"),
        ("56", "clone"),
        ("57", "fork"),
        ("59", "execve"),
        ("62", "kill"),
        ("82", "rename"),
        ("87", "unlink"),
        ("90", "chmod"),
        ("92", "chown"),
        ("99", "sysinfo"),
        ("101", "ptrace"),
        ("103", "syslog"),
        ("133", "mknod"),
        ("135", "personality"),
        ("175", "init_module"),
        ("176", "delete_module"),
        ("257", "openat"),
        ("259", "mknodat"),
        ("313", "finit_module"),
        ("319", "memfd_create"),
    ];
    if !matches!(record.get("arch"), None | Some("c000003e")) {
        return None;
    }
    let number = record.get("syscall")?;
    if number == "322" {
        return Some("execveat");
    }
    X86_64.iter().find(|(n, _)| *n == number).map(|(_, name)| *name)
}

/// Whether a PATH record created a regular file.
fn creates_file(record: &Record) -> bool {
    record.get("nametype") == Some("CREATE")
        && record.get("mode").is_none_or(|m| m.starts_with("0100") || m.starts_with("file"))
}

/// The process_creation fields of an execve event.
fn fill_process(event: &mut Event, syscall: &Record, records: &[Record]) {
    if let Some(exe) = syscall.get("exe") {
        event.push("Image", Value::Str(exe.to_owned()));
    }
    if let Some(line) = command_line(syscall, records) {
        event.push("CommandLine", Value::Str(line));
    }
    let cwd = records.iter().find(|r| r.kind == "CWD").and_then(|r| r.get("cwd"));
    if let Some(cwd) = cwd.or_else(|| syscall.get("cwd")) {
        event.push("CurrentDirectory", Value::Str(cwd.to_owned()));
    }
    actor_fields(event, syscall);
    if let Some(ppid) = syscall.get("ppid").and_then(|p| p.parse::<i64>().ok()) {
        event.push("ParentProcessId", Value::Int(ppid));
    }
    if let Some(auid) = syscall.get("auid") {
        event.push("LogonId", Value::Str(auid.to_owned()));
    }
    for name in ["comm", "key", "uid", "euid", "auid", "tty", "ses"] {
        if let Some(value) = syscall.get(name) {
            event.push(name, Value::Str(value.to_owned()));
        }
    }
}

/// `Image`, `ProcessId` and `User` of the acting process.
fn actor_fields(event: &mut Event, syscall: &Record) {
    if event.get("Image").is_none()
        && let Some(exe) = syscall.get("exe")
    {
        event.push("Image", Value::Str(exe.to_owned()));
    }
    if let Some(pid) = syscall.get("pid").and_then(|p| p.parse::<i64>().ok()) {
        event.push("ProcessId", Value::Int(pid));
    }
    let user = ["UID", "user"].iter().find_map(|k| syscall.get(k)).or_else(|| syscall.get("uid"));
    if let Some(user) = user {
        event.push("User", Value::Str(user.to_owned()));
    }
}

/// The command line: EXECVE arguments (long ones reassembled from `aN[i]` pieces), else the AUOMS
/// `cmdline`, else `proctitle`.
fn command_line(syscall: &Record, records: &[Record]) -> Option<String> {
    if let Some(execve) = records.iter().find(|r| r.kind == "EXECVE") {
        let mut args: Vec<(usize, usize, &str)> = execve
            .fields
            .iter()
            .filter(|(k, _)| record::is_argument(k))
            .filter_map(|(k, v)| {
                let digits = &k[1..];
                let (n, piece) = match digits.split_once('[') {
                    Some((n, piece)) => (n, piece.trim_end_matches(']')),
                    None => (digits, "0"),
                };
                Some((n.parse().ok()?, piece.parse().ok()?, v.as_str()))
            })
            .collect();
        if !args.is_empty() {
            args.sort_by_key(|(n, piece, _)| (*n, *piece));
            let mut line = String::new();
            let mut last = None;
            for (n, _, value) in args {
                if last.is_some() && last != Some(n) {
                    line.push(' ');
                }
                line.push_str(value);
                last = Some(n);
            }
            return Some(line);
        }
    }
    if let Some(line) = syscall.get("cmdline") {
        return Some(line.to_owned());
    }
    records.iter().find_map(|r| r.get("proctitle")).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_text(text: &str) -> Vec<Event> {
        decode(text.as_bytes(), &Arc::from("t"), 1, None).unwrap()
    }

    #[test]
    fn execve_event_becomes_a_process_creation() {
        let events = decode_text(
            "type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes exit=0 items=2 ppid=29002 pid=2168 auid=1000 uid=1000 comm=\"dd\" exe=\"/bin/dd\" key=(null)\n\
             type=EXECVE msg=audit(1604996384.965:93777): argc=4 a0=\"dd\" a1=\"if=/dev/zero\" a2=\"bs=1\" a3=\"count=1\"\n\
             type=CWD msg=audit(1604996384.965:93777): cwd=\"/home/wardog\"\n\
             type=PATH msg=audit(1604996384.965:93777): item=0 name=\"/bin/dd\" nametype=NORMAL\n\
             type=PROCTITLE msg=audit(1604996384.965:93777): proctitle=64640069663D2F6465762F7A65726F0062733D3100636F756E743D31",
        );
        assert_eq!(events.len(), 6);
        assert!(events[..5].iter().all(|e| e.logsource.service == Some("auditd")));
        assert_eq!(events[0].get_str("SYSCALL"), Some("execve"));
        assert_eq!(events[1].get_str("type"), Some("EXECVE"));
        let process = &events[5];
        assert_eq!(process.logsource.category, Some("process_creation"));
        assert_eq!(process.logsource.product, Some("linux"));
        assert_eq!(process.get_str("Image"), Some("/bin/dd"));
        assert_eq!(process.get_str("CommandLine"), Some("dd if=/dev/zero bs=1 count=1"));
        assert_eq!(process.get_str("CurrentDirectory"), Some("/home/wardog"));
        assert_eq!(process.get("ProcessId"), Some(&Value::Int(2168)));
        assert_eq!(process.get("ParentProcessId"), Some(&Value::Int(29002)));
        assert_eq!(process.get_str("User"), Some("1000"));
        assert_eq!(process.time.unwrap().to_string(), "2020-11-10T08:19:44.965Z");
    }

    #[test]
    fn created_files_and_shells() {
        let mut all = Vec::new();
        all.extend(decode_text("node=web02 type=SYSCALL msg=audit(1.0:1): syscall=59 success=yes ppid=1 pid=100 exe=\"/usr/sbin/apache2\"\ntype=EXECVE msg=audit(1.0:1): argc=2 a0=\"/usr/sbin/apache2\" a1=\"-k\""));
        all.extend(decode_text("node=web02 type=SYSCALL msg=audit(2.0:2): syscall=59 success=yes ppid=100 pid=200 uid=33 exe=\"/usr/bin/dash\"\x1dSYSCALL=execve UID=\"www-data\"\ntype=EXECVE msg=audit(2.0:2): argc=3 a0=\"sh\" a1=\"-c\" a2=6964"));
        all.extend(decode_text("node=web02 type=SYSCALL msg=audit(3.0:3): syscall=257 success=yes ppid=100 pid=201 exe=\"/usr/bin/cp\"\ntype=CWD msg=audit(3.0:3): cwd=\"/var/www/html\"\ntype=PATH msg=audit(3.0:3): item=1 name=\"shell.php\" nametype=CREATE mode=0100644"));
        let shell = all
            .iter()
            .find(|e| e.get_str("Image") == Some("/usr/bin/dash") && e.logsource.category.is_some())
            .unwrap();
        assert_eq!(shell.get("ParentProcessId"), Some(&Value::Int(100)));
        assert_eq!(shell.get_str("CommandLine"), Some("sh -c id"));
        assert_eq!(shell.get_str("User"), Some("www-data"));
        assert_eq!(shell.host.as_deref(), Some("web02"));
        let file = all.iter().find(|e| e.logsource.category == Some("file_event")).unwrap();
        assert_eq!(file.get_str("TargetFilename"), Some("/var/www/html/shell.php"));
        assert_eq!(file.get_str("Image"), Some("/usr/bin/cp"));
    }

    #[test]
    fn failed_execs_are_not_processes() {
        let events = decode_text(
            "type=SYSCALL msg=audit(1.0:1): syscall=59 success=no pid=5 exe=\"/bin/x\"",
        );
        assert!(events.iter().all(|e| e.logsource.category.is_none()));
        assert!(decode(b"hello", &Arc::from("t"), 1, None).is_err());
    }
}
