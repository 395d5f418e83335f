//! A hunt over a stream that does not end: each alert reported as soon as it is decided.
//!
//! Detection alerts are decided when their event arrives. Correlations need their member alerts in
//! time order, and a stream delivers events in the order agents write them: so alerts wait in a
//! queue ordered by event time until the watermark (the latest event time seen) has passed them by
//! the allowed lateness, or until the inputs go quiet, and only then enter the correlation windows
//! ([`shellward_engine::correlation::Stream`]). An alert older than what was already given to the
//! windows is late: it is still reported on its own, but correlates with nothing, and is counted;
//! so is one dated more than an hour past the wall clock, which would otherwise make every alert
//! after it late. At most [`MAX_WAITING`] alerts wait; past that the oldest take their turn early.

use crate::findings::{Finding, Reported, correlation_finding};
use crate::hunt::Hunt;
use shellward_engine::correlation::Stream;
use shellward_engine::{Correlator, Level, RuleSet};
use shellward_event::{Event, Timestamp};
use shellward_sources::Marks;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

/// The most alerts waiting for the correlation windows; past it the oldest take their turn early
/// (memory stays bounded whatever the alert rate and lateness).
const MAX_WAITING: usize = 100_000;

/// How far past the wall clock an event time may be and still move the watermark (one hour).
const FUTURE_MS: i64 = 3_600_000;

/// An alert waiting for its turn in the correlation windows, ordered as a batch hunt sorts alerts
/// (time, file, record, rule).
pub(crate) struct Waiting {
    pub(crate) key: (Timestamp, Arc<str>, u64, usize),
    pub(crate) event: Arc<Event>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// See the module documentation.
pub struct Live<'c, 'r> {
    pub(crate) reported: Reported<'r>,
    pub(crate) hunt: Hunt,
    pub(crate) stream: Stream<'c, 'r>,
    lateness_ms: i64,
    pub(crate) waiting: BinaryHeap<Reverse<Waiting>>,
    /// The latest event time seen in an alert (ms).
    pub(crate) watermark: Option<i64>,
    /// The latest time given to the correlation windows (ms).
    pub(crate) frontier: Option<i64>,
    pub(crate) order: usize,
    pub(crate) late: u64,
    /// Alerts that entered the windows before their time because [`MAX_WAITING`] were waiting.
    forced: u64,
}

impl<'c, 'r> Live<'c, 'r> {
    /// A live hunt: `hunt` holds the rules and the lineage state, `correlator` the correlations of
    /// the same rule set; an alert may come `max_lateness` (event time) after a later one and
    /// still correlate.
    pub fn new(
        set: &'r RuleSet,
        correlator: &'c Correlator<'r>,
        hunt: Hunt,
        min_level: Option<Level>,
        max_lateness: std::time::Duration,
    ) -> Self {
        Live {
            reported: Reported { set, correlator: *correlator, min_level },
            hunt,
            stream: correlator.stream(),
            lateness_ms: i64::try_from(max_lateness.as_millis()).unwrap_or(i64::MAX),
            waiting: BinaryHeap::new(),
            watermark: None,
            frontier: None,
            order: 0,
            late: 0,
            forced: 0,
        }
    }

    /// An event the screen passed, with the rules it matched (see [`Hunt::push`]).
    pub fn push(&mut self, event: Event, rules: Marks) {
        self.hunt.push(event, rules);
    }

    /// An event no screen has matched yet: matched here (see [`Hunt::push_unscreened`]).
    pub fn push_unscreened(&mut self, event: Event) {
        self.hunt.push_unscreened(event);
    }

    /// What is decided since the last call: the alerts of the events pushed, and the correlation
    /// firings their turn in the windows completed. `quiet` says the inputs went quiet: every
    /// waiting alert takes its turn (nothing older is expected).
    pub fn decide(&mut self, quiet: bool) -> Vec<Finding<'r>> {
        let set = self.reported.set;
        let mut out = Vec::new();
        for (event, rule) in self.hunt.take_alerts() {
            if self.reported.rule(rule) {
                let info = &set.rules()[rule].info;
                out.push(Finding {
                    event: Arc::clone(&event),
                    rule: info,
                    correlated: None,
                    repeats: None,
                });
            }
            self.wait(event, rule);
        }
        let limit = match self.watermark {
            Some(mark) if quiet => mark,
            Some(mark) => mark.saturating_sub(self.lateness_ms),
            None => return out,
        };
        loop {
            let due =
                self.waiting.peek().is_some_and(|Reverse(w)| w.key.0.as_millisecond() <= limit);
            let full = self.waiting.len() > MAX_WAITING;
            if !due && !full {
                break;
            }
            self.forced += u64::from(!due);
            let Some(Reverse(waiting)) = self.waiting.pop() else { break };
            let ms = waiting.key.0.as_millisecond();
            self.frontier = Some(self.frontier.map_or(ms, |f| f.max(ms)));
            let firings = self.stream.push(waiting.event, waiting.key.3, self.order);
            self.order += 1;
            self.report(firings, &mut out);
        }
        if quiet {
            let firings = self.stream.flush();
            self.report(firings, &mut out);
        }
        out
    }

    /// How many alerts came too late to correlate.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// The memory limits reached so far (see [`crate::Limits`]).
    pub fn limits(&self) -> crate::Limits {
        crate::Limits {
            alerts_forced: self.forced,
            signals_cut: self.stream.cut(),
            ..self.hunt.limits()
        }
    }

    /// How many alerts wait for their turn in the correlation windows.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    fn wait(&mut self, event: Arc<Event>, rule: usize) {
        let Some(time) = event.time else { return };
        let ms = time.as_millisecond();
        // Too late for the windows, or dated so far ahead that taking it as the watermark would
        // make every honest alert after it late (a hostile or broken clock).
        let horizon = Timestamp::now().as_millisecond().saturating_add(FUTURE_MS);
        if self.frontier.is_some_and(|f| ms < f) || ms > horizon {
            self.late += 1;
            return;
        }
        self.watermark = Some(self.watermark.map_or(ms, |w| w.max(ms)));
        self.enqueue(event, rule);
    }

    /// Puts an alert with a time in the queue for the correlation windows.
    pub(crate) fn enqueue(&mut self, event: Arc<Event>, rule: usize) {
        let Some(time) = event.time else { return };
        let key = (time, Arc::clone(&event.provenance.path), event.provenance.record, rule);
        self.waiting.push(Reverse(Waiting { key, event }));
    }

    fn report(
        &self,
        firings: Vec<Arc<shellward_engine::correlation::Fired>>,
        out: &mut Vec<Finding<'r>>,
    ) {
        for firing in firings {
            if self.reported.correlation(firing.correlation) {
                out.push(correlation_finding(self.reported.set, &firing));
            }
        }
    }
}
