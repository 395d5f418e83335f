//! The terminal table: one line per alert (time, level in colour, rule, host, where the event came
//! from, what happened), then counts per rule and per host. Every cell is escaped: command lines
//! and paths come from the attacker.
//!
//! The columns fit the terminal's real width ([`Layout::for_width`]; not a terminal: full cells).
//! Alerts of one rule on one process (or, for events without a process, with the same details)
//! within a batch are one line with a count and the time of the last: a web shell run 69 times
//! is one line, not 69.

use super::details::{self, one_line};
use super::incidents::{self, Incident};
use super::{AlertWriter, Out, Summary};
use crate::report::escape;
use shellward_engine::{Level, RuleInfo};
use shellward_event::{Event, Timestamp};
use shellward_hunt::Finding;
use std::io::{self, Write};

/// The width of a time ([`details::time`]).
const TIME: usize = 24;
/// The width of a level.
const LEVEL: usize = 8;
/// Between columns.
const GAP: usize = 2;
/// The narrowest table laid out (a narrower terminal wraps its lines).
const MIN_WIDTH: usize = 74;

/// Column widths: the rule title, the host, the source (when shown) and the details (`None`:
/// whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    title: usize,
    host: usize,
    source: Option<usize>,
    details: Option<usize>,
}

impl Layout {
    /// The layout for a terminal `width` columns wide (`None`: not a terminal, nothing cut but the
    /// title and host, which are padded to a width a reader's pager can align).
    pub(crate) fn for_width(width: Option<usize>) -> Layout {
        let Some(width) = width else {
            return Layout { title: 44, host: 22, source: Some(30), details: None };
        };
        let width = width.max(MIN_WIDTH);
        let fixed = TIME + GAP + LEVEL + GAP;
        let source = (width >= 160).then_some(26);
        let rest = width - fixed - source.map_or(0, |s| s + GAP);
        let title = (rest * 30 / 100).clamp(14, 44);
        let host = (rest * 14 / 100).clamp(8, 22);
        let details = rest.saturating_sub(title + host + 2 * GAP).max(12);
        Layout { title, host, source, details: Some(details) }
    }
}

impl Layout {
    /// The layout with the title, host and source columns no wider than `rows` need (nor than
    /// their headings); what they give up goes to the details.
    fn shrunk(self, rows: &[Row]) -> Layout {
        let widest = |cell: &dyn Fn(&Row) -> &str, heading: &str| {
            rows.iter()
                .map(|r| escape(cell(r)).chars().count())
                .chain([heading.len()])
                .max()
                .unwrap_or(0)
        };
        let title = self.title.min(widest(&|r| &r.title, "RULE"));
        let host = self.host.min(widest(&|r| &r.host, "HOST"));
        let source = self.source.map(|s| s.min(widest(&|r| &r.source, "SOURCE")));
        let saved = (self.title - title)
            + (self.host - host)
            + self.source.zip(source).map_or(0, |(before, after)| before - after);
        Layout { title, host, source, details: self.details.map(|d| d + saved) }
    }
}

/// One line of the table, perhaps standing for several alerts.
struct Row {
    /// What makes two alerts one line (`None`: never grouped).
    key: Option<String>,
    time: Option<Timestamp>,
    last: Option<Timestamp>,
    level: Level,
    title: String,
    host: String,
    source: String,
    details: String,
    count: u64,
}

/// Writes alerts as an aligned table.
pub(crate) struct TableWriter {
    out: Out,
    color: bool,
    layout: Layout,
    /// The terminal's width, if writing to one (the cells are then cut to fit it).
    terminal: Option<usize>,
    header: bool,
    /// The lines of the current batch, in first-seen order.
    rows: Vec<Row>,
}

impl TableWriter {
    /// A table for a terminal `width` columns wide (`None`: not a terminal).
    pub(crate) fn new(out: Out, color: bool, width: Option<usize>) -> Self {
        TableWriter {
            out,
            color,
            layout: Layout::for_width(width),
            terminal: width.map(|w| w.max(MIN_WIDTH)),
            header: false,
            rows: Vec::new(),
        }
    }

    fn level(&self, level: Level) -> String {
        paint(level, self.color)
    }

    fn add(&mut self, event: &Event, rule: &RuleInfo, details: String, key: Option<String>) {
        if let Some(key) = &key
            && let Some(row) = self.rows.iter_mut().find(|r| r.key.as_ref() == Some(key))
        {
            row.count += 1;
            row.last = event.time.max(row.last);
            return;
        }
        self.rows.push(Row {
            key,
            time: event.time,
            last: event.time,
            level: rule.level,
            title: rule.title.clone(),
            host: event.host.clone().unwrap_or_else(|| "-".into()),
            source: details::source(event),
            details,
            count: 1,
        });
    }

    /// Writes the batch's lines.
    fn write_rows(&mut self) -> io::Result<()> {
        let rows = std::mem::take(&mut self.rows);
        if !rows.is_empty() && !self.header {
            // The first batch sizes the columns: none wider than its widest cell.
            self.layout = self.layout.shrunk(&rows);
        }
        let layout = self.layout;
        if !rows.is_empty() && !self.header {
            self.header = true;
            let mut header = format!(
                "{:<TIME$}  {:<LEVEL$}  {:<title$}  {:<host$}  ",
                "TIME (UTC)",
                "LEVEL",
                "RULE",
                "HOST",
                title = layout.title,
                host = layout.host
            );
            if let Some(source) = layout.source {
                header.push_str(&format!("{:<source$}  ", "SOURCE"));
            }
            header.push_str("DETAILS");
            writeln!(self.out, "{header}")?;
        }
        for row in rows {
            let mut details = escape(&one_line(&row.details));
            if row.count > 1 {
                // The last time, where the details have room for it.
                details = match layout.details.filter(|&w| self.terminal.is_some() && w < 60) {
                    Some(_) => format!("×{} {details}", row.count),
                    None => format!("×{} to {}  {details}", row.count, details::time(row.last)),
                };
            }
            let mut line = format!(
                "{:<TIME$}  {}  {}  {}  ",
                details::time(row.time),
                self.level(row.level),
                fit(&escape(&row.title), layout.title),
                fit(&escape(&row.host), layout.host)
            );
            if let Some(width) = layout.source {
                line.push_str(&fit(&escape(&row.source), width));
                line.push_str("  ");
            }
            match layout.details.filter(|_| self.terminal.is_some()) {
                Some(width) => line.push_str(fit(&details, width).trim_end()),
                None => line.push_str(&details),
            }
            writeln!(self.out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// What makes alerts one line: the rule, the host and the process (its id, else its image and
/// command line), or for an event without a process, its details.
fn group_key(event: &Event, rule: &RuleInfo, details: &str) -> String {
    let get = |name: &str| {
        event
            .get(name)
            .filter(|v| !v.is_null())
            .map(|v| v.as_text().into_owned())
            .unwrap_or_default()
    };
    let process = ["ProcessGuid", "ProcessId", "pid"]
        .iter()
        .map(|name| get(name))
        .find(|id| !id.is_empty())
        .map(|id| format!("{id}\u{0}{}", get("Image")))
        .unwrap_or_else(|| details.to_owned());
    format!("{}\u{0}{}\u{0}{process}", rule.key(), event.host.as_deref().unwrap_or(""))
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
    fn finding(&mut self, finding: &Finding<'_>) -> io::Result<()> {
        let (event, rule) = (&finding.event, finding.rule);
        let details = details::finding_details(finding);
        // A correlation alert is never one of a group.
        let key = finding.correlated.is_none().then(|| group_key(event, rule, &details));
        self.add(event, rule, details, key);
        Ok(())
    }

    fn incidents(&mut self, incidents: &[Incident], gap: i64) -> io::Result<()> {
        if incidents.is_empty() {
            return Ok(());
        }
        writeln!(self.out)?;
        let color = self.color;
        incidents::write(&mut self.out, incidents, gap, &|level| paint(level, color))?;
        self.out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_rows()?;
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.write_rows()?;
        if summary.alerts == 0 {
            writeln!(self.out, "No alerts.")?;
            return self.out.flush();
        }
        writeln!(self.out)?;
        writeln!(self.out, "Alerts by rule")?;
        // Titles and hosts are cut to the terminal, if there is one.
        let room = |used: usize| self.terminal.map(|width| width.saturating_sub(used).max(12));
        let cut = |text: String, room: Option<usize>| match room {
            Some(room) => fit(&text, room).trim_end().to_owned(),
            None => text,
        };
        let title_room = room(2 + LEVEL + 2 + 7 + 2);
        for ((level, title), count) in &summary.per_rule {
            let title = cut(escape(title), title_room);
            writeln!(self.out, "  {}  {count:>7}  {title}", self.level(level.0))?;
        }
        writeln!(self.out, "Alerts by host")?;
        let host_room = room(2 + 2 + 7);
        let width = summary.per_host.keys().map(|h| escape(h).chars().count()).max().unwrap_or(0);
        let width = host_room.map_or(width, |room| width.min(room));
        for (host, count) in &summary.per_host {
            writeln!(self.out, "  {:<width$}  {count:>7}", fit(&escape(host), width))?;
        }
        writeln!(self.out, "{} alert(s)", summary.alerts)?;
        self.out.flush()
    }
}

/// Pads or cuts text to exactly `width` characters (cut text ends with `…`).
fn fit(text: &str, width: usize) -> String {
    let text = details::cut(text.to_owned(), width);
    format!("{text:<width$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
    }

    #[test]
    fn every_layout_fits_its_width() {
        for width in [40, 60, 80, 100, 120, 159, 160, 200, 300] {
            let layout = Layout::for_width(Some(width));
            let used = TIME
                + GAP
                + LEVEL
                + GAP
                + layout.title
                + GAP
                + layout.host
                + GAP
                + layout.source.map_or(0, |s| s + GAP)
                + layout.details.unwrap_or(0);
            assert!(used <= width.max(MIN_WIDTH), "{width}: {layout:?} uses {used}");
        }
        assert_eq!(Layout::for_width(Some(120)).source, None);
        assert!(Layout::for_width(Some(200)).source.is_some());
    }
}
