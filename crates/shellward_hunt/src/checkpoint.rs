//! A live hunt's state as a checkpoint stores it ([`LiveState`]), and a live hunt restored from
//! it: process lineage, first-seen values, the open correlation windows and the alerts waiting for
//! them, so that a hunt stopped and started again on the same inputs reports what one uninterrupted
//! hunt would have.
//!
//! The state names rules by their index in the rule set, so it carries a fingerprint of the rules
//! it was taken with ([`rules_fingerprint`]); restoring it under other rules is refused (the caller
//! starts afresh and says so).

use crate::Novelty;
use crate::alert::stable_id;
use crate::hunt::Hunt;
use crate::live::Live;
use crate::novelty::NoveltyState;
use serde::{Deserialize, Serialize};
use shellward_engine::correlation::{StateMismatch, Stream, StreamState};
use shellward_engine::lineage::{Limits, LineageState};
use shellward_engine::{Correlator, Level, Lineage, RuleSet};
use shellward_event::StoredEvent;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// The state of a [`Live`] hunt between two polls (see the module documentation).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveState {
    rules: String,
    lineage: Option<LineageState>,
    novelty: NoveltyState,
    stream: StreamState,
    /// Alerts waiting for the correlation windows: the event and the rule's index.
    waiting: Vec<(StoredEvent, usize)>,
    watermark: Option<i64>,
    frontier: Option<i64>,
    order: usize,
    late: u64,
}

/// Why a stored live hunt cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The rules differ from those the state was taken with.
    #[error("the rules changed since the checkpoint was written")]
    OtherRules,
    /// The state does not fit the rules (a damaged checkpoint).
    #[error(transparent)]
    Mismatch(#[from] StateMismatch),
    /// A waiting alert names a rule that is not there (a damaged checkpoint).
    #[error("the checkpoint's waiting alerts name rules that are not loaded")]
    Waiting,
    /// First-seen values name rules that are not there (a damaged checkpoint).
    #[error("the checkpoint's first-seen values name rules that are not loaded")]
    Novelty,
}

/// A fingerprint of a rule set: what each rule is, in order, and its correlations.
pub fn rules_fingerprint(set: &RuleSet) -> String {
    let mut parts: Vec<String> = Vec::new();
    for rule in set.rules() {
        parts.push(rule.info.key().to_owned());
        parts.push(rule.info.title.clone());
    }
    for correlation in set.correlations() {
        parts.push(correlation.info.key().to_owned());
        parts.extend(correlation.members.iter().cloned());
    }
    stable_id(parts.iter().map(String::as_str))
}

impl<'c, 'r> Live<'c, 'r> {
    /// The hunt's state, for a checkpoint. Take it between polls, after [`Live::decide`]: alerts
    /// not yet decided are not in it.
    pub fn state(&self) -> LiveState {
        let mut waiting: Vec<_> = self.waiting.iter().map(|w| (&w.0.key, &w.0.event)).collect();
        waiting.sort_by(|a, b| a.0.cmp(b.0));
        LiveState {
            rules: rules_fingerprint(self.reported.set),
            lineage: self.hunt.lineage.as_ref().map(Lineage::state),
            novelty: self.hunt.novelty.state(),
            stream: self.stream.state(),
            waiting: waiting
                .into_iter()
                .map(|(key, event)| (StoredEvent::from(&**event), key.3))
                .collect(),
            watermark: self.watermark,
            frontier: self.frontier,
            order: self.order,
            late: self.late,
        }
    }

    /// A live hunt going on from `state`, as [`Live::new`] would start one otherwise; with
    /// `lineage`, the stored process table is kept (or a new one started if there was none).
    pub fn restore(
        set: &'r Arc<RuleSet>,
        correlator: &'c Correlator<'r>,
        lineage: bool,
        min_level: Option<Level>,
        max_lateness: Duration,
        state: LiveState,
    ) -> Result<Self, RestoreError> {
        if state.rules != rules_fingerprint(set) {
            return Err(RestoreError::OtherRules);
        }
        let rules = set.rules().len();
        let mut paths = HashSet::new();
        let stream = Stream::restore(*correlator, rules, state.stream, &mut paths)?;
        let novelty = Novelty::restore(state.novelty, rules).ok_or(RestoreError::Novelty)?;
        let table = lineage.then(|| match state.lineage {
            Some(stored) => Lineage::restore(Limits::default(), stored),
            None => Lineage::default(),
        });
        let hunt = Hunt::with_novelty(Arc::clone(set), table, novelty);
        let mut live = Live::new(set, correlator, hunt, min_level, max_lateness);
        live.stream = stream;
        for (event, rule) in state.waiting {
            if rule >= rules {
                return Err(RestoreError::Waiting);
            }
            live.enqueue(Arc::new(event.into_event(&mut paths)), rule);
        }
        live.watermark = state.watermark;
        live.frontier = state.frontier;
        live.order = state.order;
        live.late = state.late;
        Ok(live)
    }
}
