//! The per-host incident view that ends a hunt: each host's findings grouped into incidents
//! (findings less than `--incident-gap` apart, 30 minutes by default), most severe first, each
//! with a short timeline.

use crate::output::details::{self, one_line};
use crate::report::escape;
use shellward_engine::Level;
use shellward_event::Timestamp;
use shellward_hunt::Finding;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Timeline lines shown per incident.
const SHOWN: usize = 8;

/// One incident: a host's findings close in time.
#[derive(Debug)]
pub(crate) struct Incident {
    pub(crate) host: String,
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) level: Level,
    /// The most severe correlation's title, else the most severe alert's.
    pub(crate) headline: String,
    /// Timeline: (time, level, title, details, repeats).
    pub(crate) lines: Vec<(Timestamp, Level, String, String, usize)>,
    pub(crate) findings: usize,
}

/// Groups findings (sorted by time) into incidents per host, findings less than `gap` seconds
/// apart in one; findings without a time are left out. Most severe first, then by host and time.
pub(crate) fn incidents(findings: &[Finding<'_>], gap: i64) -> Vec<Incident> {
    let mut by_host: BTreeMap<String, Vec<&Finding<'_>>> = BTreeMap::new();
    for finding in findings.iter().filter(|f| f.event.time.is_some()) {
        let host = finding.event.host.clone().unwrap_or_else(|| "-".into());
        by_host.entry(host).or_default().push(finding);
    }
    let mut out = Vec::new();
    for (host, findings) in by_host {
        let mut current: Vec<&Finding<'_>> = Vec::new();
        for finding in findings {
            let time = finding.event.time.map_or(0, |t| t.as_second());
            let last = current.last().and_then(|f| f.event.time).map_or(time, |t| t.as_second());
            if !current.is_empty() && time - last > gap {
                out.push(incident(&host, std::mem::take(&mut current)));
            }
            current.push(finding);
        }
        if !current.is_empty() {
            out.push(incident(&host, current));
        }
    }
    out.sort_by(|a, b| (b.level, &a.host, a.start).cmp(&(a.level, &b.host, b.start)));
    out
}

fn incident(host: &str, findings: Vec<&Finding<'_>>) -> Incident {
    let time = |f: &Finding<'_>| f.event.time.unwrap_or(Timestamp::UNIX_EPOCH);
    let level = findings.iter().map(|f| f.rule.level).max().unwrap_or(Level::Informational);
    let headline = findings
        .iter()
        .filter(|f| f.correlated.is_some())
        .max_by_key(|f| f.rule.level)
        .or_else(|| findings.iter().max_by_key(|f| f.rule.level))
        .map(|f| f.rule.title.clone())
        .unwrap_or_default();
    let mut lines: Vec<(Timestamp, Level, String, String, usize)> = Vec::new();
    for finding in &findings {
        match lines.last_mut() {
            Some(last) if last.2 == finding.rule.title => last.4 += 1,
            _ => lines.push((
                time(finding),
                finding.rule.level,
                finding.rule.title.clone(),
                // Only a line's first finding shows its details.
                details::finding_details(finding),
                1,
            )),
        }
    }
    Incident {
        host: host.to_owned(),
        start: findings.first().map_or(Timestamp::UNIX_EPOCH, |f| time(f)),
        end: findings.last().map_or(Timestamp::UNIX_EPOCH, |f| time(f)),
        level,
        headline,
        lines,
        findings: findings.len(),
    }
}

/// Writes the view; `level` colours a level name (or pads it).
pub(crate) fn write(
    out: &mut dyn Write,
    incidents: &[Incident],
    gap: i64,
    level: &dyn Fn(Level) -> String,
) -> io::Result<()> {
    if incidents.is_empty() {
        return Ok(());
    }
    let clock = |t: Timestamp| details::time(Some(t));
    writeln!(
        out,
        "Incidents ({} by host, findings less than {} apart)",
        incidents.len(),
        shellward_hunt::format_duration(gap)
    )?;
    for (n, incident) in incidents.iter().enumerate() {
        writeln!(
            out,
            "  #{} {}  {}  {}  {} → {}  {} finding(s)",
            n + 1,
            level(incident.level),
            escape(&incident.host),
            escape(&incident.headline),
            clock(incident.start),
            clock(incident.end),
            incident.findings
        )?;
        for (time, line_level, title, detail, repeats) in incident.lines.iter().take(SHOWN) {
            let times = if *repeats > 1 { format!(" ×{repeats}") } else { String::new() };
            let detail: String = escape(&one_line(detail)).chars().take(100).collect();
            writeln!(
                out,
                "      {}  {}  {}{times}  {detail}",
                clock(*time),
                level(*line_level),
                escape(title)
            )?;
        }
        if incident.lines.len() > SHOWN {
            writeln!(out, "      … {} more", incident.lines.len() - SHOWN)?;
        }
    }
    Ok(())
}
