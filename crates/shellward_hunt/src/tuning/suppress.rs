//! `[[suppress]]`: repeats of an alert folded into the first one.

use super::{Select, Tuning};
use crate::Finding;
use shellward_event::Timestamp;
use std::collections::HashMap;

/// A suppression entry.
#[derive(Debug)]
pub(super) struct Rule {
    pub(super) select: Select,
    /// Fields whose values are part of the key (besides rule and host).
    pub(super) fields: Vec<String>,
    pub(super) window_ms: i64,
}

/// What an alert that others were folded into reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeats {
    /// Alerts it stands for, itself included.
    pub count: u64,
    /// The time of the first (its own).
    pub first: Option<Timestamp>,
    /// The time of the last.
    pub last: Option<Timestamp>,
}

/// The open suppression groups, kept from one batch of findings to the next (a live hunt): each
/// key's first alert time and id. Groups whose window has passed are dropped as newer alerts
/// arrive, so it holds at most the groups of one window.
#[derive(Debug, Default)]
pub struct SuppressState {
    open: HashMap<Key, (i64, String)>,
    /// The newest alert time seen, and the longest window (for pruning).
    newest_ms: i64,
    longest_ms: i64,
    /// The size after the last pruning.
    pruned: usize,
}

type Key = (usize, String, String, Vec<String>);

impl SuppressState {
    fn prune(&mut self) {
        if self.open.len() < 2 * self.pruned.max(1024) {
            return;
        }
        let before = self.newest_ms.saturating_sub(self.longest_ms);
        self.open.retain(|_, (first, _)| *first >= before);
        self.pruned = self.open.len();
    }
}

/// Folds the findings (time-ordered) as the entries say; returns what is reported and what was
/// folded (with the id of the alert it was folded into). An alert folded into one of an earlier
/// batch (already written by a live hunt) is counted, and the earlier alert is not changed.
pub(super) fn fold<'r>(
    tuning: &Tuning,
    findings: Vec<Finding<'r>>,
    state: &mut SuppressState,
) -> (Vec<Finding<'r>>, Vec<(Finding<'r>, String)>) {
    if tuning.suppress.is_empty() {
        return (findings, Vec::new());
    }
    let mut out: Vec<Finding<'r>> = Vec::with_capacity(findings.len());
    let mut folded = Vec::new();
    // This batch's groups: key → index of its first alert in `out`.
    let mut batch: HashMap<Key, usize> = HashMap::new();
    for finding in findings {
        let entry = tuning
            .suppress
            .iter()
            .position(|rule| tuning.selects(&rule.select, finding.rule, &finding.event));
        let (Some(entry), Some(time)) = (entry, finding.event.time) else {
            out.push(finding);
            continue;
        };
        let rule = &tuning.suppress[entry];
        let values = rule
            .fields
            .iter()
            .map(|f| finding.event.get(f).map(|v| v.as_text().into_owned()).unwrap_or_default())
            .collect();
        let key = (
            entry,
            finding.rule.key().to_owned(),
            finding.event.host.clone().unwrap_or_default(),
            values,
        );
        let ms = time.as_millisecond();
        state.newest_ms = state.newest_ms.max(ms);
        state.longest_ms = state.longest_ms.max(rule.window_ms);
        match state.open.get(&key) {
            Some((first_ms, id)) if (ms - first_ms).abs() <= rule.window_ms => {
                if let Some(&kept) = batch.get(&key) {
                    let first = &mut out[kept];
                    let repeats = first.repeats.get_or_insert(Repeats {
                        count: 1,
                        first: first.event.time,
                        last: first.event.time,
                    });
                    repeats.count += 1;
                    repeats.last = repeats.last.max(Some(time));
                }
                folded.push((finding, id.clone()));
            }
            _ => {
                state.open.insert(key.clone(), (ms, finding.id()));
                batch.insert(key, out.len());
                out.push(finding);
            }
        }
    }
    state.prune();
    (out, folded)
}
