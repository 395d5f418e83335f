//! What an alert says happened, in a few words: the summary the table, CSV, incident view and
//! report show. Known event shapes read as sentences (`w3wp.exe → cmd.exe /c whoami`, `x wrote
//! y`, `a → 1.2.3.4:443`); any other event shows the fields its rule tested, so a SigmaHQ rule's
//! alert reads `ServiceFileName=... ImagePath=...` rather than the first fields of the event.

use shellward_engine::RuleInfo;
use shellward_event::{Event, Timestamp, Value};
use shellward_hunt::Finding;

/// Every time shellward prints, in one form: RFC 3339 in UTC with milliseconds
/// (`2026-11-02T09:00:00.000Z`), `-` when unknown.
pub(crate) fn time(time: Option<Timestamp>) -> String {
    time.map_or_else(|| "-".to_owned(), shellward_hunt::rfc3339)
}

/// The last path component of a Windows or Unix path.
pub(crate) fn base(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// What a finding says happened, in a few words: its event's details, or its correlation's line.
pub(crate) fn finding_details(finding: &Finding<'_>) -> String {
    match &finding.correlated {
        Some(correlated) => correlated.line(),
        None => details(&finding.event, finding.rule),
    }
}

/// The fields that say what happened, in a few words.
pub(crate) fn details(event: &Event, rule: &RuleInfo) -> String {
    let get =
        |name: &str| event.get(name).filter(|v| !v.is_null()).map(|v| v.as_text().into_owned());
    let actor = get("Image").map(|i| base(&i).to_string());
    if let Some(key) = get("TargetObject") {
        return match get("Details") {
            Some(details) => format!("{key} = {details}"),
            None => key,
        };
    }
    if let Some(file) = get("TargetFilename") {
        return match actor {
            Some(actor) => format!("{actor} wrote {file}"),
            None => file,
        };
    }
    if let Some(ip) = get("DestinationIp") {
        let port = get("DestinationPort").unwrap_or_default();
        return format!("{} → {ip}:{port}", actor.unwrap_or_default());
    }
    if let Some(command) = get("CommandLine").or_else(|| get("Image")) {
        // The chain from lineage, root first (up to three ancestors), else the parent.
        if let Some(Value::List(ancestors)) = event.get("AncestorImage")
            && ancestors.len() > 1
        {
            let mut chain: Vec<String> =
                ancestors.iter().take(3).map(|a| base(&a.as_text()).to_string()).collect();
            if ancestors.len() > 3 {
                chain.push("…".into());
            }
            chain.reverse();
            return format!("{} → {command}", chain.join(" → "));
        }
        return match get("ParentImage") {
            Some(parent) => format!("{} → {command}", base(&parent)),
            None => command,
        };
    }
    if let Some(script) = get("ScriptBlockText") {
        return script;
    }
    if let Some(cmdlet) = get("CmdletName") {
        return format!("{cmdlet} {}", get("CmdletParameters").unwrap_or_default());
    }
    if let Some(option) = get("ConfigOption") {
        return format!(
            "{option}: {} → {}",
            get("OldValue").unwrap_or_default(),
            get("NewValue").unwrap_or_default()
        );
    }
    if let (Some(program), Some(message)) = (get("Program"), get("Message")) {
        return format!("{program}: {message}");
    }
    // Anything else: the event id and the fields the rule tested, else its first few own fields,
    // each kept short.
    let mut parts: Vec<String> =
        get("EventID").map(|id| format!("EventID {id}")).into_iter().collect();
    let tested: Vec<String> = rule
        .fields
        .iter()
        .filter(|name| !SKIP.contains(&name.as_str()))
        .filter_map(|name| get(name).map(|value| format!("{name}={}", clip(&value, 60))))
        .take(6)
        .collect();
    if !tested.is_empty() {
        parts.extend(tested);
        return parts.join(" ");
    }
    parts.extend(
        event
            .fields()
            .filter(|(name, value)| {
                !SKIP.contains(name)
                    && !name.starts_with("Execution_")
                    && !name.starts_with("Security_")
                    && !value.is_null()
            })
            .take(4)
            .map(|(name, value)| format!("{name}={}", clip(&value.as_text(), 60))),
    );
    parts.join(" ")
}

/// Fields that say where an event came from, not what happened.
const SKIP: [&str; 17] = [
    "Provider_Name",
    "Provider_Guid",
    "EventID",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "TimeCreated",
    "EventRecordID",
    "Channel",
    "Computer",
    "Qualifiers",
    "Data",
    "DataText",
    "Binary",
    "Correlation_ActivityID",
];

/// Where an event came from, short: the log (a Windows channel without its `Microsoft-Windows-`
/// and `/Operational`, else the input format), the event id, and the file's name and record
/// (`Sysmon:1 web01.evtx#812`).
pub(crate) fn source(event: &Event) -> String {
    let log = log(event);
    let id = event.get("EventID").filter(|v| !v.is_null()).map(|v| format!(":{}", v.as_text()));
    format!(
        "{log}{} {}#{}",
        id.unwrap_or_default(),
        base(&event.provenance.path),
        event.provenance.record
    )
}

/// The log an event came from: its Windows channel, short ([`short_channel`]), else its input
/// format.
pub(crate) fn log(event: &Event) -> String {
    match event.get("Channel").filter(|v| !v.is_null()) {
        Some(channel) => short_channel(&channel.as_text()),
        None => event.provenance.format.name().to_owned(),
    }
}

/// A Windows channel without the words every channel has.
pub(crate) fn short_channel(channel: &str) -> String {
    let channel = channel.strip_prefix("Microsoft-Windows-").unwrap_or(channel);
    channel.strip_suffix("/Operational").unwrap_or(channel).to_owned()
}

/// Collapses runs of whitespace (line breaks included) to one space, so a detail stays on a line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` on one line, cut to `width` characters (ending in `…`).
pub(crate) fn clip(text: &str, width: usize) -> String {
    cut(one_line(text), width)
}

/// `text` as it is if it has at most `width` characters, else its first `width - 1` and `…`.
pub(crate) fn cut(text: String, width: usize) -> String {
    if text.chars().count() <= width {
        return text;
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_channels_and_clips() {
        assert_eq!(base(r"C:\Windows\System32\cmd.exe"), "cmd.exe");
        assert_eq!(base("/usr/bin/bash"), "bash");
        assert_eq!(short_channel("Microsoft-Windows-Sysmon/Operational"), "Sysmon");
        assert_eq!(short_channel("Security"), "Security");
        assert_eq!(clip("a  b\nc", 10), "a b c");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
