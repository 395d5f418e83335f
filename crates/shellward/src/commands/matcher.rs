//! Matching decoded events against the rule set on all cores, with the alerts in a deterministic
//! order whatever the scheduling.
//!
//! Events arrive in input order from the decoders; they are matched in batches in parallel (one
//! [`Scratch`] per worker), the events that raised alerts are kept, and at the end the alerts are
//! sorted by event time (events without a time last), then file, record and rule order.

use rayon::prelude::*;
use shellward_engine::{RuleSet, Scratch};
use shellward_event::Event;
use std::sync::Arc;

/// How many events are matched together.
const BATCH: usize = 4096;

/// One alert: an event and the index of the rule it matched.
pub(crate) type Alert = (Arc<Event>, usize);

/// See the module documentation.
pub(crate) struct Matcher<'a> {
    rules: &'a RuleSet,
    pending: Vec<Event>,
    alerts: Vec<Alert>,
}

impl<'a> Matcher<'a> {
    pub(crate) fn new(rules: &'a RuleSet) -> Self {
        Matcher { rules, pending: Vec::with_capacity(BATCH), alerts: Vec::new() }
    }

    /// Queues an event; a full batch is matched at once.
    pub(crate) fn push(&mut self, event: Event) {
        self.pending.push(event);
        if self.pending.len() >= BATCH {
            self.flush();
        }
    }

    /// How many alerts so far.
    pub(crate) fn alerts(&self) -> usize {
        self.alerts.len()
    }

    /// Matches the queued events.
    fn flush(&mut self) {
        let rules = self.rules;
        let matched: Vec<Vec<usize>> = self
            .pending
            .par_iter()
            .map_init(
                || (Scratch::default(), Vec::new()),
                |(scratch, out), event| {
                    rules.matching(event, scratch, out);
                    out.clone()
                },
            )
            .collect();
        for (event, matched) in self.pending.drain(..).zip(matched) {
            if matched.is_empty() {
                continue;
            }
            let event = Arc::new(event);
            self.alerts.extend(matched.into_iter().map(|rule| (Arc::clone(&event), rule)));
        }
    }

    /// Every alert, sorted.
    pub(crate) fn finish(mut self) -> Vec<Alert> {
        self.flush();
        let mut alerts = self.alerts;
        alerts.sort_by(|(a, ra), (b, rb)| {
            (a.time.is_none(), a.time, &a.provenance.path, a.provenance.record, ra).cmp(&(
                b.time.is_none(),
                b.time,
                &b.provenance.path,
                b.provenance.record,
                rb,
            ))
        });
        alerts
    }
}
