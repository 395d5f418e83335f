//! The alerts a hunt holds until it ends, to sort them, with a memory budget: past it, the alerts
//! held are sorted and written to a temporary file (a *run*), and the end merges the runs.
//!
//! A hunt reports its alerts sorted by time, so that correlation windows do not depend on the
//! order of the input files; sorting needs every alert first. Most alerts are few, but a rule that
//! feeds a correlation without alerting itself can match most of an input: the built-in pack's
//! request answered by a server-side script matches nearly every request of a PHP site, and a
//! 31 MB access log of 300,000 such requests held 390 MB of events. With a budget, memory stays at
//! the budget plus one alert per run being merged; what the findings keep after the correlations
//! is only what they report.
//!
//! Alerts are ordered by time (none last), file, record and rule, with a stable sort, so that
//! alerts alike in all four keep the order they were pushed in; a merge of runs gives exactly that
//! order too, as every run holds alerts pushed before those of the runs after it, and ties go to
//! the earlier run. A run holds one JSON line per alert: its rule and its event in its stored form
//! ([`StoredEvent`], which gives it back unchanged). Runs are unnamed temporary files, removed by
//! the system when closed. If one cannot be written, the alerts stay in memory (the first error is
//! kept for the hunt to report); if one cannot be read back, the alerts after the error in it are
//! lost, and the error is kept likewise ([`SortedAlerts::lost_some`]: the hunt ends incomplete).

use crate::hunt::Alert;
use serde::{Deserialize, Serialize};
use shellward_event::{Event, StoredEvent, Value};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::sync::Arc;

/// How many bytes of events a hunt holds before it spills them (estimated, [`weight`]).
pub(crate) const SPILL_AFTER: usize = 64 << 20;

/// One line of a run.
#[derive(Serialize, Deserialize)]
struct Line {
    rule: usize,
    event: StoredEvent,
}

/// The alerts of a hunt (see the module documentation).
#[derive(Default)]
pub(crate) struct AlertStore {
    /// In push order until sorted.
    held: Vec<Alert>,
    /// The estimated bytes of the events in `held` (each shared event once; counted only with a
    /// budget).
    held_bytes: usize,
    /// Alerts pushed, held or spilled.
    pushed: usize,
    /// Spill past this many bytes (`None`: never).
    budget: Option<usize>,
    runs: Vec<File>,
    /// The first error writing a run.
    error: Option<String>,
}

impl std::fmt::Debug for AlertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertStore")
            .field("held", &self.held.len())
            .field("held_bytes", &self.held_bytes)
            .field("runs", &self.runs.len())
            .finish()
    }
}

impl AlertStore {
    /// A store that spills past `budget` bytes of events.
    pub(crate) fn spilling(budget: usize) -> Self {
        AlertStore { budget: Some(budget), ..AlertStore::default() }
    }

    /// Adds the alerts of one event (`rules` in order).
    pub(crate) fn push(&mut self, event: &Arc<Event>, rules: impl IntoIterator<Item = usize>) {
        let before = self.held.len();
        self.held.extend(rules.into_iter().map(|rule| (Arc::clone(event), rule)));
        self.pushed += self.held.len() - before;
        let Some(budget) = self.budget else { return };
        if self.held.len() == before {
            return;
        }
        self.held_bytes += weight(event);
        if self.held_bytes > budget
            && self.error.is_none()
            && let Err(error) = self.spill()
        {
            self.error = Some(format!("could not spill alerts to a temporary file: {error}"));
        }
    }

    /// The alerts held in memory now (in push order; spilled ones not included).
    pub(crate) fn take_held(&mut self) -> Vec<Alert> {
        self.held_bytes = 0;
        std::mem::take(&mut self.held)
    }

    /// How many alerts so far.
    pub(crate) fn len(&self) -> usize {
        self.pushed
    }

    /// Sorts the held alerts and writes them to a new run.
    fn spill(&mut self) -> std::io::Result<()> {
        sort(&mut self.held);
        let mut file = BufWriter::new(tempfile::tempfile()?);
        for (event, rule) in &self.held {
            let line = Line { rule: *rule, event: StoredEvent::from(&**event) };
            serde_json::to_writer(&mut file, &line)?;
            file.write_all(b"\n")?;
        }
        let mut file = file.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        file.rewind()?;
        self.runs.push(file);
        self.held.clear();
        self.held_bytes = 0;
        Ok(())
    }

    /// Every alert, sorted.
    pub(crate) fn finish(mut self) -> SortedAlerts {
        sort(&mut self.held);
        let errors = self.error.into_iter().collect();
        if self.runs.is_empty() {
            return SortedAlerts { inner: Inner::Held(self.held.into_iter()), errors, lost: false };
        }
        let mut sources: Vec<Source> = self.runs.into_iter().map(Source::run).collect();
        sources.push(Source::Held(self.held.into_iter()));
        let count = sources.len();
        let mut sorted = SortedAlerts {
            inner: Inner::Merge { heap: BinaryHeap::new(), sources, paths: HashSet::new() },
            errors,
            lost: false,
        };
        for source in 0..count {
            sorted.refill(source);
        }
        sorted
    }
}

/// The estimated bytes an event holds (its texts and a share for each value's and field's
/// overhead): enough to keep a budget, not an exact count.
fn weight(event: &Event) -> usize {
    let fields: usize = event.fields().map(|(name, v)| name.len() + 24 + value_weight(v)).sum();
    std::mem::size_of::<Event>() + event.host.as_ref().map_or(0, String::len) + fields
}

/// [`weight`] of one value.
fn value_weight(value: &Value) -> usize {
    match value {
        Value::Str(text) => text.len() + 24,
        Value::List(items) => items.iter().map(value_weight).sum::<usize>() + 24,
        _ => 24,
    }
}

/// The order of alerts (see the module documentation).
fn order((ea, ra): &Alert, (eb, rb): &Alert) -> Ordering {
    (ea.time.is_none(), ea.time, &ea.provenance.path, ea.provenance.record, ra).cmp(&(
        eb.time.is_none(),
        eb.time,
        &eb.provenance.path,
        eb.provenance.record,
        rb,
    ))
}

/// Sorts alerts held in push order (stable: alike alerts stay in that order).
fn sort(held: &mut [Alert]) {
    held.sort_by(order);
}

/// Where a merge takes alerts from.
enum Source {
    Run(std::io::Lines<BufReader<File>>),
    Held(std::vec::IntoIter<Alert>),
}

impl Source {
    fn run(file: File) -> Source {
        Source::Run(BufReader::new(file).lines())
    }
}

/// The next alert of each source, smallest first (the earlier source first among alike ones).
struct Head {
    alert: Alert,
    source: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        order(&self.alert, &other.alert).then(self.source.cmp(&other.source))
    }
}

enum Inner {
    Held(std::vec::IntoIter<Alert>),
    Merge {
        heap: BinaryHeap<Reverse<Head>>,
        sources: Vec<Source>,
        /// Shares the path text among the events read back.
        paths: HashSet<Arc<str>>,
    },
}

/// A hunt's alerts in order ([`crate::Hunt::finish`]), read back from its runs if it spilled.
pub struct SortedAlerts {
    inner: Inner,
    errors: Vec<String>,
    /// A run could not be read to its end.
    lost: bool,
}

impl SortedAlerts {
    /// Errors writing the temporary files (the alerts then stayed in memory) or reading them
    /// back ([`SortedAlerts::lost_some`]): each once, for the hunt to report.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Whether a temporary file could not be read to its end: the alerts after the error in it
    /// are missing.
    pub fn lost_some(&self) -> bool {
        self.lost
    }

    /// Puts the next alert of `source` on the heap.
    fn refill(&mut self, source: usize) {
        let Inner::Merge { heap, sources, paths } = &mut self.inner else { return };
        let alert = match &mut sources[source] {
            Source::Held(held) => held.next(),
            Source::Run(lines) => match lines.next() {
                None => None,
                Some(Ok(line)) => match serde_json::from_str::<Line>(&line) {
                    Ok(line) => Some((Arc::new(line.event.into_event(paths)), line.rule)),
                    Err(error) => {
                        self.errors.push(format!("a spilled alert could not be read: {error}"));
                        self.lost = true;
                        None
                    }
                },
                Some(Err(error)) => {
                    self.errors.push(format!("spilled alerts could not be read: {error}"));
                    self.lost = true;
                    None
                }
            },
        };
        if let Some(alert) = alert {
            heap.push(Reverse(Head { alert, source }));
        }
    }
}

impl Iterator for SortedAlerts {
    type Item = Alert;

    fn next(&mut self) -> Option<Alert> {
        let Reverse(head) = match &mut self.inner {
            Inner::Held(alerts) => return alerts.next(),
            Inner::Merge { heap, .. } => heap.pop()?,
        };
        self.refill(head.source);
        Some(head.alert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shellward_event::{Format, Provenance, Timestamp};

    /// A random event (seeded): a time or none (few distinct, so that keys tie), one of three
    /// files, a small record number, and fields of every value type (floats with random bits).
    fn event(state: &mut u64) -> Event {
        let mut next = || {
            *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            *state >> 33
        };
        let path: Arc<str> = ["a.evtx", "b.json", "c.log"][(next() % 3) as usize].into();
        let mut event = Event::new(Provenance { path, record: next() % 4, format: Format::Json });
        event.time =
            (next() % 5 != 0).then(|| Timestamp::from_second((next() % 3) as i64).unwrap());
        event.host = (next() % 2 == 0).then(|| "web01".to_owned());
        event.push("Text", Value::Str(format!("text {}", next())));
        event.push("Number", Value::Int(next() as i64 - (1 << 30)));
        event.push("Float", Value::Float(f64::from_bits(next() << 31 | next()) % 1e6));
        event.push("List", Value::List(vec![Value::Null, Value::Bool(next() % 2 == 0)]));
        event
    }

    /// The alerts of a store, each as its stored event and rule.
    fn sorted(store: AlertStore) -> Vec<(StoredEvent, usize)> {
        let mut sorted = store.finish();
        let alerts: Vec<_> =
            sorted.by_ref().map(|(event, rule)| (StoredEvent::from(&*event), rule)).collect();
        assert!(sorted.errors().is_empty() && !sorted.lost_some(), "{:?}", sorted.errors());
        alerts
    }

    #[test]
    fn spilled_runs_merge_into_the_order_of_one_sort_in_memory() {
        for budget in [1, 3_000, 40_000] {
            let (mut memory, mut spilling) = (AlertStore::default(), AlertStore::spilling(budget));
            let mut state = budget as u64;
            for _ in 0..500 {
                let event = Arc::new(event(&mut state));
                let rules: Vec<usize> = (0..3).filter(|r| (state >> (r + 3)) % 2 == 1).collect();
                memory.push(&event, rules.iter().copied());
                spilling.push(&event, rules);
            }
            assert!(memory.runs.is_empty());
            assert!(spilling.runs.len() > 1, "budget {budget}: {} runs", spilling.runs.len());
            let (expected, merged) = (sorted(memory), sorted(spilling));
            assert!(expected.len() > 300);
            assert_eq!(merged, expected, "budget {budget}");
        }
    }

    #[test]
    fn a_damaged_run_is_reported_and_the_other_runs_still_merge() {
        let mut store = AlertStore::spilling(1);
        let mut state = 11;
        for _ in 0..20 {
            store.push(&Arc::new(event(&mut state)), [0]);
        }
        assert_eq!(store.runs.len(), 20);
        store.runs[3].set_len(25).unwrap();
        let mut sorted = store.finish();
        assert_eq!(sorted.by_ref().count(), 19);
        assert_eq!(sorted.errors().len(), 1, "{:?}", sorted.errors());
        assert!(sorted.errors()[0].starts_with("a spilled alert could not be read"));
        assert!(sorted.lost_some());
    }
}
