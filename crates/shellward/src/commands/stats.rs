//! `hunt --stats`: what was read, so that a responder knows what the hunt covered and what it did
//! not. A screen wrapped around the hunt's ([`StatsScreen`]) sees every event (it asks the
//! decoders not to skip any record, so a hunt with `--stats` decodes everything) and counts it by
//! log source, by channel and event id, and by host, with the time range; the report ends with the
//! log sources no loaded rule reads.

use crate::output::details;
use crate::report::escape;
use shellward_engine::RuleSet;
use shellward_event::{Event, LogSource, Timestamp};
use shellward_sources::{Marks, Screen};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// Counts of what was read.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    events: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    logsources: BTreeMap<LogSource, u64>,
    channels: BTreeMap<(String, String), u64>,
    hosts: BTreeMap<String, u64>,
}

impl Stats {
    fn add(&mut self, event: &Event) {
        self.events += 1;
        if let Some(time) = event.time {
            self.first = Some(self.first.map_or(time, |t| t.min(time)));
            self.last = Some(self.last.map_or(time, |t| t.max(time)));
        }
        *self.logsources.entry(event.logsource).or_default() += 1;
        let text = |name: &str| event.get(name).filter(|v| !v.is_null()).map(|v| v.as_text());
        let log = details::log(event);
        let id = text("EventID").map(|id| id.into_owned()).unwrap_or_default();
        *self.channels.entry((log, id)).or_default() += 1;
        *self.hosts.entry(event.host.clone().unwrap_or_else(|| "-".into())).or_default() += 1;
    }

    /// Writes the report: `rules` tells which log sources a rule reads.
    pub(crate) fn write(&self, out: &mut dyn Write, rules: &RuleSet) -> io::Result<()> {
        writeln!(out, "Read: {} event(s)", self.events)?;
        if let (Some(first), Some(last)) = (self.first, self.last) {
            writeln!(
                out,
                "  from {} to {}",
                details::time(Some(first)),
                details::time(Some(last))
            )?;
        }
        writeln!(out, "By log source (rules reading it)")?;
        let mut unread = Vec::new();
        for (logsource, count) in &self.logsources {
            let readers = rules.rules().iter().filter(|r| r.logsource().matches(logsource)).count();
            if readers == 0 {
                unread.push(name(logsource));
            }
            writeln!(out, "  {:<48} {count:>10}  ({readers})", name(logsource))?;
        }
        writeln!(out, "By log and event id")?;
        top(
            out,
            self.channels.iter().map(|((log, id), n)| {
                (if id.is_empty() { log.clone() } else { format!("{log} {id}") }, *n)
            }),
        )?;
        writeln!(out, "By host")?;
        top(out, self.hosts.iter().map(|(host, n)| (host.clone(), *n)))?;
        if unread.is_empty() {
            writeln!(out, "Every log source read has a rule.")?;
        } else {
            writeln!(out, "No rule reads: {}", unread.join(", "))?;
        }
        Ok(())
    }
}

/// The 25 largest counts, then how many more there were.
fn top(out: &mut dyn Write, counts: impl Iterator<Item = (String, u64)>) -> io::Result<()> {
    const SHOWN: usize = 25;
    let mut counts: Vec<(String, u64)> = counts.collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (label, count) in counts.iter().take(SHOWN) {
        writeln!(out, "  {:<48} {count:>10}", escape(label))?;
    }
    if counts.len() > SHOWN {
        let rest: u64 = counts[SHOWN..].iter().map(|(_, n)| n).sum();
        writeln!(out, "  … {} more ({rest} event(s))", counts.len() - SHOWN)?;
    }
    Ok(())
}

/// A log source as `product/category/service`, `-` for a part it has not.
fn name(logsource: &LogSource) -> String {
    [logsource.product, logsource.category, logsource.service]
        .iter()
        .map(|part| part.unwrap_or("-"))
        .collect::<Vec<_>>()
        .join("/")
}

/// The hunt's screen, counting every event it sees.
pub(crate) struct StatsScreen {
    inner: Arc<dyn Screen>,
    stats: Mutex<Stats>,
}

impl StatsScreen {
    /// Counts what passes through to `inner`.
    pub(crate) fn new(inner: Arc<dyn Screen>) -> StatsScreen {
        StatsScreen { inner, stats: Mutex::default() }
    }

    /// The counts so far.
    pub(crate) fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Screen for StatsScreen {
    fn screen(&self, event: &Event) -> Option<Marks> {
        self.stats().add(event);
        self.inner.screen(event)
    }

    fn wants(&self, _: &LogSource) -> bool {
        // Every record must be decoded to be counted.
        true
    }
}
