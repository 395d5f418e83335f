//! The terminal table: one line per alert (time, level in colour, rule, host, the key fields),
//! then counts per rule and per host. Every cell is escaped: command lines and paths come from
//! the attacker.

use super::incidents::{self, Incident};
use super::{AlertWriter, Out, Summary};
use crate::report::escape;
use shellward_engine::{Level, RuleInfo};
use shellward_event::{Event, Value};
use shellward_hunt::{Correlated, Finding};
use std::io::{self, Write};

/// Writes alerts as an aligned table.
pub(crate) struct TableWriter {
    out: Out,
    color: bool,
    /// Terminal width to fit lines into; `None` when not writing to a terminal.
    width: Option<usize>,
    header: bool,
}

const TITLE: usize = 44;
const HOST: usize = 22;

impl TableWriter {
    pub(crate) fn new(out: Out, color: bool, width: Option<usize>) -> Self {
        TableWriter { out, color, width, header: false }
    }

    fn level(&self, level: Level) -> String {
        paint(level, self.color)
    }

    fn line(&mut self, event: &Event, rule: &RuleInfo, details: &str) -> io::Result<()> {
        if !self.header {
            self.header = true;
            writeln!(
                self.out,
                "{:<19}  {:<8}  {:<TITLE$}  {:<HOST$}  DETAILS",
                "TIME (UTC)", "LEVEL", "RULE", "HOST"
            )?;
        }
        let time = event
            .time
            .map_or_else(|| "-".to_string(), |t| t.strftime("%Y-%m-%d %H:%M:%S").to_string());
        let title = fit(&escape(&rule.title), TITLE);
        let host = fit(&escape(event.host.as_deref().unwrap_or("-")), HOST);
        let mut details = escape(&one_line(details));
        if let Some(width) = self.width {
            let used = 19 + 2 + 8 + 2 + TITLE + 2 + HOST + 2;
            details = fit(&details, width.saturating_sub(used).max(20)).trim_end().to_string();
        }
        writeln!(self.out, "{time:<19}  {}  {title}  {host}  {details}", self.level(rule.level))
    }
}

/// A level's name padded to 8 columns, in its colour when `color`.
fn paint(level: Level, color: bool) -> String {
    let name = format!("{:<8}", level.name().get(..8).unwrap_or(level.name()));
    if !color {
        return name;
    }
    let code = match level {
        Level::Critical => "1;31",
        Level::High => "31",
        Level::Medium => "33",
        Level::Low => "32",
        Level::Informational => "2",
    };
    format!("\x1b[{code}m{name}\x1b[0m")
}

impl AlertWriter for TableWriter {
    fn alert(&mut self, event: &Event, rule: &RuleInfo) -> io::Result<()> {
        self.line(event, rule, &details(event))
    }

    fn correlation(
        &mut self,
        event: &Event,
        rule: &RuleInfo,
        correlated: &Correlated,
    ) -> io::Result<()> {
        self.line(event, rule, &correlated.line())
    }

    fn incidents(&mut self, incidents: &[Incident]) -> io::Result<()> {
        if incidents.is_empty() {
            return Ok(());
        }
        writeln!(self.out)?;
        let color = self.color;
        incidents::write(&mut self.out, incidents, &|level| paint(level, color))?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if summary.alerts == 0 {
            writeln!(self.out, "No alerts.")?;
            return self.out.flush();
        }
        writeln!(self.out)?;
        writeln!(self.out, "Alerts by rule")?;
        for ((level, title), count) in &summary.per_rule {
            writeln!(self.out, "  {}  {count:>7}  {}", self.level(level.0), escape(title))?;
        }
        writeln!(self.out, "Alerts by host")?;
        let width = summary.per_host.keys().map(|h| escape(h).chars().count()).max().unwrap_or(0);
        for (host, count) in &summary.per_host {
            writeln!(self.out, "  {:<width$}  {count:>7}", escape(host))?;
        }
        writeln!(self.out, "{} alert(s)", summary.alerts)?;
        self.out.flush()
    }
}

/// Pads or cuts text to exactly `width` characters (cut text ends with `…`).
fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text:<width$}")
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The last path component of a Windows or Unix path.
fn base(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// What a finding says happened, in a few words: its event's details, or its correlation's line.
pub(crate) fn finding_details(finding: &Finding<'_>) -> String {
    match &finding.correlated {
        Some(correlated) => correlated.line(),
        None => details(&finding.event),
    }
}

/// The fields that say what happened, in a few words.
pub(crate) fn details(event: &Event) -> String {
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
    // Anything else: the event id and its first few own fields, each kept short.
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
    let mut parts: Vec<String> =
        get("EventID").map(|id| format!("EventID {id}")).into_iter().collect();
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

/// Collapses runs of whitespace (line breaks included) to one space, so a detail stays on a line.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clip(text: &str, width: usize) -> String {
    let text = one_line(text);
    if text.chars().count() <= width { text } else { fit(&text, width) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(base(r"C:\Windows\System32\cmd.exe"), "cmd.exe");
        assert_eq!(base("/usr/bin/bash"), "bash");
    }
}
