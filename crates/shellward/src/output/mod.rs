//! Alert sinks: the views of the alert contract `hunt` can print.

mod csv;
pub(crate) mod details;
mod html;
pub(crate) mod incidents;
mod jsonl;
mod ocsf;
pub(crate) mod table;

use incidents::Incident;
use shellward_engine::{Level, RuleInfo};
use shellward_event::Event;
use shellward_hunt::Finding;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub(crate) use csv::CsvWriter;
pub(crate) use html::HtmlWriter;
pub(crate) use jsonl::JsonlWriter;
pub(crate) use ocsf::OcsfWriter;
pub(crate) use table::TableWriter;

/// Receives alerts as they are found, and the totals at the end.
pub(crate) trait AlertWriter {
    /// Writes one finding: an alert, or a correlation alert (whose event is the firing's, see
    /// [`shellward_hunt::Correlated`]).
    fn finding(&mut self, finding: &Finding<'_>) -> io::Result<()>;
    /// Writes findings in order; a writer may render them in parallel.
    fn findings(&mut self, findings: &[Finding<'_>]) -> io::Result<()> {
        findings.iter().try_for_each(|finding| self.finding(finding))
    }
    /// Shows the incident view (after [`AlertWriter::finish`]). By default on standard error,
    /// so that machine-readable output stays alerts only.
    fn incidents(&mut self, incidents: &[Incident], gap: i64) -> io::Result<()> {
        let pad = |level: Level| format!("{:<8}", level.name());
        // Standard error is unbuffered: a write per line cost as much as finding the incidents.
        let mut err = io::BufWriter::new(io::stderr().lock());
        incidents::write(&mut err, incidents, gap, &pad)?;
        err.flush()
    }
    /// Sends what was written so far on its way (a live hunt calls it after each batch).
    fn flush(&mut self) -> io::Result<()>;
    /// Writes whatever closes the output (the table's summary) and flushes.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
    /// Called last, after the incidents: a writer that needs everything first (the HTML report)
    /// writes here.
    fn close(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Alert counts by rule and by host.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// Alerts per rule: (level, title) → count, most severe first when printed.
    pub(crate) per_rule: BTreeMap<(std::cmp::Reverse<Level>, String), u64>,
    /// Alerts per host.
    pub(crate) per_host: BTreeMap<String, u64>,
    /// All alerts.
    pub(crate) alerts: u64,
}

impl Summary {
    /// Counts an alert.
    pub(crate) fn add(&mut self, event: &Event, rule: &RuleInfo) {
        *self.per_rule.entry((std::cmp::Reverse(rule.level), rule.title.clone())).or_default() += 1;
        *self.per_host.entry(event.host.clone().unwrap_or_else(|| "-".into())).or_default() += 1;
        self.alerts += 1;
    }

    /// The most severe level among the alerts (`per_rule` is ordered most severe first).
    /// How many alerts are at or above a level.
    pub(crate) fn at_or_above(&self, level: Level) -> usize {
        let alerts: u64 =
            self.per_rule.iter().filter(|((l, _), _)| l.0 >= level).map(|(_, n)| n).sum();
        usize::try_from(alerts).unwrap_or(usize::MAX)
    }
}

/// A boxed writer for standard output or a file.
pub(crate) type Out = Box<dyn Write + Send>;
