//! VMware ESXi logs: `shell.log`, `hostd.log`, `esxupdate.log`, `vmkernel.log` and the rest, as
//! written on the host or forwarded by syslog.
//!
//! Layouts (FORMATS.md §7):
//!
//! ```text
//! Jul  1 14:30:23 192.168.8.233 2025-07-01T14:29:11.508Z esx01.corp shell[1627100]: [root]: esxcli ...
//! 2025-07-01T14:29:11.508Z shell[1627100]: [root]: esxcli ...
//! 2023-03-14T10:00:00.000Z In(166) Hostd[2099425]: [Originator@6876 sub=Vimsvc] ...
//! 2015-10-16T07:44:18Z esxupdate: vmware.runcommand: INFO: runcommand called with: ...
//! ```
//!
//! An optional syslog receiver header (`<PRI>`, `Mmm dd hh:mm:ss`, sender), then the ESXi ISO 8601 UTC
//! time, then up to three tokens among a severity (`In(166)`, `info`), the host name and the program
//! (`name[pid]:`, `name[pid]` or `name:`), then the message. Every line becomes one event with log
//! source `esxi` / service = the program (`shell`, `hostd`, `esxupdate`, ...), fields `Program`,
//! `ProcessId`, `Level`, `Message`; a `shell` line (`[user]: command`) also has `User` and
//! `CommandLine`, the command the user typed.

use crate::problem::DecodeError;
use shellward_event::{Event, Format, LogSource, Provenance, RawForm, Timestamp, Value};
use std::sync::Arc;

/// The programs whose lines get a Sigma `service` of their own name.
const SERVICES: &[&str] = &[
    "shell",
    "hostd",
    "esxupdate",
    "vmkernel",
    "vobd",
    "vpxa",
    "sshd",
    "auth",
    "syslog",
    "lifecycle",
];

/// One ESXi log line, taken apart.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub(crate) time: Timestamp,
    /// The syslog sender (an address), when the line was forwarded.
    pub(crate) sender: Option<&'a str>,
    pub(crate) host: Option<&'a str>,
    pub(crate) level: Option<&'a str>,
    pub(crate) program: &'a str,
    pub(crate) pid: Option<&'a str>,
    pub(crate) message: &'a str,
}

/// Takes a line apart; `None` when it is not an ESXi log line.
pub(crate) fn parse(line: &str) -> Option<Line<'_>> {
    let mut rest = strip_priority(line.trim_start());
    let mut sender = None;
    if starts_with_syslog_time(rest) {
        let (_, after) = token(rest)?;
        let (_, after) = token(after)?;
        let (_, after) = token(after)?;
        let (from, after) = token(after)?;
        sender = Some(from);
        rest = after;
    }
    let (stamp, mut rest) = token(rest)?;
    if !stamp.ends_with('Z') || stamp.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    let time: Timestamp = stamp.parse().ok()?;
    let (mut host, mut level) = (None, None);
    for _ in 0..3 {
        let (word, after) = token(rest)?;
        rest = after;
        if let Some((program, pid)) = program_token(word) {
            return Some(Line {
                time,
                sender,
                host,
                level,
                program,
                pid,
                message: rest.trim_start(),
            });
        }
        if is_level(word) {
            level = Some(word);
        } else if host.is_none() {
            host = Some(word);
        } else {
            return None;
        }
    }
    None
}

/// How a line holds the values of its event (`crate::raw`): each is a part of the line, as it is
/// (`ProcessId` is digits, read as a number).
pub(crate) const RAW_FORM: RawForm = RawForm::Plain { space: b' ', joins: b"", escapes: &[] };

/// Every log source a line may get: `esxi`, with no service or the service of its program.
pub(crate) fn logsources() -> Vec<LogSource> {
    let esxi = LogSource { product: Some("esxi"), category: None, service: None };
    std::iter::once(esxi)
        .chain(SERVICES.iter().map(|&service| LogSource { service: Some(service), ..esxi }))
        .collect()
}

/// Whether [`decode`] reads a line without a problem.
pub(crate) fn well_formed(bytes: &[u8]) -> bool {
    parse(&crate::lines::text(bytes)).is_some()
}

/// Decodes one line into an event.
pub(crate) fn decode(bytes: &[u8], path: &Arc<str>, number: u64) -> Result<Event, DecodeError> {
    let text = crate::lines::text(bytes);
    let Some(line) = parse(&text) else {
        let shown: String = text.chars().take(80).collect();
        return Err(DecodeError::Garbage(format!("not an ESXi log line: {shown:?}")));
    };
    let mut event =
        Event::new(Provenance { path: Arc::clone(path), record: number, format: Format::EsxiLog });
    event.logsource.product = Some("esxi");
    event.logsource.service =
        SERVICES.iter().find(|s| s.eq_ignore_ascii_case(line.program)).copied();
    event.time = Some(line.time);
    event.host = line
        .host
        .filter(|h| !h.starts_with("localhost"))
        .or(line.sender)
        .or(line.host)
        .map(str::to_owned);
    event.push("Program", Value::Str(line.program.to_owned()));
    if let Some(pid) = line.pid {
        event.push("ProcessId", pid.parse().map_or_else(|_| Value::Str(pid.into()), Value::Int));
    }
    if let Some(level) = line.level {
        event.push("Level", Value::Str(level.to_owned()));
    }
    event.push("Message", Value::Str(line.message.to_owned()));
    if line.program.eq_ignore_ascii_case("shell")
        && let Some((user, command)) = shell_command(line.message)
    {
        event.push("User", Value::Str(user.to_owned()));
        event.push("CommandLine", Value::Str(command.to_owned()));
    }
    Ok(event)
}

/// `[user]: command` of a shell.log message.
fn shell_command(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix('[')?;
    let (user, command) = rest.split_once("]:")?;
    Some((user, command.trim()))
}

/// `name[pid]:`, `name[pid]` or `name:`, with a name that looks like a program's.
fn program_token(word: &str) -> Option<(&str, Option<&str>)> {
    let (name, pid) = if let Some(open) = word.find('[') {
        let inner = word[open + 1..].trim_end_matches(':').strip_suffix(']')?;
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        (&word[..open], Some(inner))
    } else {
        (word.strip_suffix(':')?, None)
    };
    let valid = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    valid.then_some((name, pid))
}

/// `In(166)`, `Wa(164)`, or a level word of the older layouts.
fn is_level(word: &str) -> bool {
    let short = word.len() >= 5
        && word.as_bytes()[2] == b'('
        && word.ends_with(')')
        && word[3..word.len() - 1].bytes().all(|b| b.is_ascii_digit());
    short
        || ["verbose", "info", "warning", "error", "debug", "trivia", "panic"]
            .iter()
            .any(|l| word.eq_ignore_ascii_case(l))
}

/// A `<PRI>` syslog priority prefix removed.
fn strip_priority(line: &str) -> &str {
    if let Some((pri, after)) = line.strip_prefix('<').and_then(|rest| rest.split_once('>'))
        && !pri.is_empty()
        && pri.len() <= 3
        && pri.bytes().all(|b| b.is_ascii_digit())
    {
        return after;
    }
    line
}

/// `Jul  1 14:30:23` (the BSD syslog receiver time, without a year).
fn starts_with_syslog_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() > 15
        && b[..3].iter().all(u8::is_ascii_alphabetic)
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
}

/// The next space-separated token and the text after it.
fn token(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches(' ');
    if text.is_empty() {
        return None;
    }
    Some(text.split_once(' ').unwrap_or((text, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_shell_line() {
        let line = parse("Jul  1 14:30:23 192.168.8.233 2025-07-01T14:29:11.508Z localhost.localdomain shell[1627100]: [root]: esxcli system auditrecords local set").unwrap();
        assert_eq!(line.sender, Some("192.168.8.233"));
        assert_eq!(line.host, Some("localhost.localdomain"));
        assert_eq!(line.program, "shell");
        assert_eq!(line.pid, Some("1627100"));
        assert_eq!(
            shell_command(line.message),
            Some(("root", "esxcli system auditrecords local set"))
        );
        assert_eq!(line.time.to_string(), "2025-07-01T14:29:11.508Z");
    }

    #[test]
    fn raw_layouts() {
        let esxupdate =
            parse("2015-10-16T07:44:18Z esxupdate: vmware.runcommand: INFO: x").unwrap();
        assert_eq!((esxupdate.program, esxupdate.pid), ("esxupdate", None));
        assert_eq!(esxupdate.message, "vmware.runcommand: INFO: x");
        let hostd = parse(
            "2023-03-14T10:00:00.000Z In(166) Hostd[2099425]: [Originator@6876 sub=Vimsvc] y",
        )
        .unwrap();
        assert_eq!((hostd.level, hostd.program), (Some("In(166)"), "Hostd"));
        let old =
            parse("2019-05-01T10:00:00.000Z info hostd[2099425] [Originator@6876] z").unwrap();
        assert_eq!(
            (old.level, old.program, old.message),
            (Some("info"), "hostd", "[Originator@6876] z")
        );
        let with_pri = parse("<14>2025-07-01T14:29:11.508Z esx01 shell[1]: [root]: ls").unwrap();
        assert_eq!(with_pri.host, Some("esx01"));
    }

    #[test]
    fn other_text_is_refused() {
        for text in [
            "",
            "hello world",
            "2025-07-01 14:29:11 something: else",
            "2025-07-01T14:29:11Z a b c d",
            "{\"a\": 1}",
            "Jul  1 14:30:23 host sshd[1]: Accepted password",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
