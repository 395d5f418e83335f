//! Matching decoded events against the rule set on the decoding threads ([`RuleScreen`]), and the
//! state of a hunt that needs the events in input order ([`Hunt`]): lineage, the re-evaluation of
//! what lineage changed, and first-seen values; alerts in a deterministic order whatever the
//! scheduling.
//!
//! The rules run as the decoders' [`Screen`]: each event is matched on the worker that decoded it
//! (one [`Scratch`] per thread), the events that match nothing (and those outside the time window)
//! are dropped there, and only the others reach the hunt, with the indexes of their rules. At the
//! end the alerts are sorted by event time (events without a time last), then file, record and
//! rule order.

use crate::novelty::Novelty;
use crate::raw_skip::{RawSkips, RouteSkips, Wanted};
use crate::spill::{AlertStore, SPILL_AFTER, SortedAlerts};
use shellward_engine::{Lineage, RuleSet, Scratch};
use shellward_event::{Event, LogSource, RawText, Timestamp};
use shellward_sources::{Marks, RawRoute, Screen};
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One alert: an event and the index of the rule it matched (in [`RuleSet::rules`]).
pub type Alert = (Arc<Event>, usize);

/// The time window of `--since`/`--until`: events with a time outside it are not matched.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Events before this time are left out.
    pub since: Option<Timestamp>,
    /// Events at or after this time are left out.
    pub until: Option<Timestamp>,
}

impl Window {
    fn contains(&self, event: &Event) -> bool {
        event.time.is_none_or(|time| {
            self.since.is_none_or(|since| time >= since)
                && self.until.is_none_or(|until| time < until)
        })
    }
}

/// The rules as a decoding screen: see the module documentation.
pub struct RuleScreen {
    rules: Arc<RuleSet>,
    window: Window,
    /// Pass on, matched or not, what lineage needs ([`shellward_engine::Lineage::wants`]).
    lineage: bool,
    out_of_window: AtomicU64,
    /// Records skipped unread, per route; `None`: every record is decoded.
    raw: Option<RawSkips>,
}

thread_local! {
    /// Each decoding thread's scratch memory and rule list (a [`Scratch`] resets itself when it
    /// meets another rule set).
    static SCRATCH: RefCell<(Scratch, Vec<usize>)> = RefCell::default();
}

impl RuleScreen {
    /// Screens with `rules` within `window`; with `lineage`, every event lineage needs and every
    /// event a rule on ancestor fields reads is passed on, matched or not.
    pub fn new(rules: Arc<RuleSet>, window: Window, lineage: bool) -> Self {
        let raw = Some(RawSkips::new());
        RuleScreen { rules, window, lineage, out_of_window: AtomicU64::new(0), raw }
    }

    /// The same screen, skipping records unread where their text shows that no rule can match
    /// ([`Screen::skips_raw`]) or not (`false`: every record is decoded).
    pub fn with_raw_skips(mut self, skip: bool) -> Self {
        self.raw = skip.then(RawSkips::new);
        self
    }

    /// The same screen, building a route's search once the route has had `records` records (by
    /// default 32: a search over thousands of rules costs about as much to build as decoding a
    /// few dozen records). Tests use 1, to search every record.
    pub fn with_raw_search_after(mut self, records: u64) -> Self {
        if let Some(raw) = &mut self.raw {
            raw.search_after = records.max(1);
        }
        self
    }

    /// Per route met: the records tested before decoding, how many were skipped unread, and why
    /// the others were decoded (most records first).
    pub fn skip_report(&self) -> Vec<RouteSkips> {
        self.raw.as_ref().map_or_else(Vec::new, RawSkips::report)
    }

    /// Whether lineage may need events of this log source whether they match or not: what builds
    /// the process table, and what rules on ancestor fields read.
    fn for_lineage(&self, logsource: &LogSource) -> bool {
        self.lineage && (Lineage::wants_source(logsource) || self.rules.reads_lineage(logsource))
    }

    /// Whether lineage needs this event whether it matched or not ([`Lineage::wants`]), or may
    /// add the ancestor fields a rule reads.
    fn for_lineage_event(&self, event: &Event) -> bool {
        self.lineage && (Lineage::wants(event) || self.rules.reads_lineage(&event.logsource))
    }

    /// Runs `f` with what the screen wants, for the plans of the records skipped unread.
    fn with_wanted<T>(&self, f: impl FnOnce(&Wanted<'_>) -> T) -> T {
        let wants = |logsource: &LogSource| self.wants(logsource);
        let lineage = |logsource: &LogSource| self.for_lineage(logsource);
        f(&Wanted { wants: &wants, lineage: &lineage })
    }

    /// How many events were outside the time window.
    pub fn out_of_window(&self) -> u64 {
        self.out_of_window.load(Ordering::Relaxed)
    }
}

impl Screen for RuleScreen {
    fn screen(&self, event: &Event) -> Option<Marks> {
        if !self.window.contains(event) {
            self.out_of_window.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        SCRATCH.with_borrow_mut(|(scratch, matched)| {
            self.rules.matching(event, scratch, matched);
            let marks: Marks = matched.iter().filter_map(|&i| u32::try_from(i).ok()).collect();
            (!marks.is_empty() || self.for_lineage_event(event)).then_some(marks)
        })
    }

    fn wants(&self, logsource: &LogSource) -> bool {
        self.for_lineage(logsource)
            || SCRATCH.with_borrow_mut(|(scratch, _)| self.rules.can_match(logsource, scratch))
    }

    fn may_skip(&self, route: &RawRoute<'_>) -> bool {
        let Some(raw) = &self.raw else { return false };
        self.with_wanted(|wanted| raw.may_skip(&self.rules, route, wanted))
    }

    fn skips_route(&self, route: &RawRoute<'_>) -> bool {
        let Some(raw) = &self.raw else { return false };
        self.with_wanted(|wanted| raw.skips_route(route, wanted))
    }

    fn skipped_route(&self, route: &RawRoute<'_>, records: u64) {
        let Some(raw) = &self.raw else { return };
        self.with_wanted(|wanted| raw.skipped_route(route, records, wanted))
    }

    fn skips_raw(&self, route: &RawRoute<'_>, text: &RawText<'_>) -> bool {
        let Some(raw) = &self.raw else { return false };
        self.with_wanted(|wanted| raw.skips(&self.rules, route, text, wanted))
    }
}

/// The alerts of a hunt, gathered as the screened events arrive (in input order), with the rules
/// that alert only on new values ([`Novelty`]) applied.
pub struct Hunt {
    pub(crate) rules: Arc<RuleSet>,
    pub(crate) novelty: Novelty,
    /// Process lineage, when tracked: process creations arrive here in input order.
    pub(crate) lineage: Option<Lineage>,
    /// For matching again what lineage changed.
    scratch: Scratch,
    alerts: AlertStore,
}

impl Hunt {
    /// A hunt with `rules`, tracking process lineage when `lineage` is given.
    pub fn new(rules: Arc<RuleSet>, lineage: Option<Lineage>) -> Self {
        Hunt::with_novelty(rules, lineage, Novelty::default())
    }

    /// The same, going on with the first-seen values of `novelty`.
    pub(crate) fn with_novelty(
        rules: Arc<RuleSet>,
        lineage: Option<Lineage>,
        novelty: Novelty,
    ) -> Self {
        Hunt { rules, novelty, lineage, scratch: Scratch::default(), alerts: AlertStore::default() }
    }

    /// The same hunt, holding at most about `budget` bytes of the events behind its alerts: past
    /// that, they are sorted and written to temporary files, and [`Hunt::finish`] merges them
    /// back. For a hunt that reports at its end, not one taking its alerts as they come
    /// ([`Hunt::take_alerts`] gives only those held in memory).
    pub fn spilling_after(mut self, budget: usize) -> Self {
        self.alerts = AlertStore::spilling(budget);
        self
    }

    /// [`Hunt::spilling_after`] the default budget, 64 MiB.
    pub fn spilling(self) -> Self {
        self.spilling_after(SPILL_AFTER)
    }

    /// An event the screen passed, with the rules it matched. It first goes through lineage, and
    /// the rules that read what lineage added are evaluated again.
    pub fn push(&mut self, mut event: Event, mut rules: Marks) {
        if let Some(lineage) = &mut self.lineage {
            let added = lineage.observe(&mut event);
            if added.any() {
                self.rules.rematch(&event, added.fields(), &mut self.scratch, &mut rules);
            }
        }
        if rules.is_empty() {
            return;
        }
        let event = Arc::new(event);
        let (set, novelty) = (&self.rules, &mut self.novelty);
        let kept = rules.into_iter().map(|rule| rule as usize).filter(|&rule| {
            match &set.rules()[rule].info.first_seen {
                Some(setting) => novelty.keep(rule, setting, &event),
                None => true,
            }
        });
        self.alerts.push(&event, kept);
    }

    /// An event no screen has matched yet: matched here, then [`Hunt::push`]ed.
    pub fn push_unscreened(&mut self, event: Event) {
        let mut matched = Vec::new();
        self.rules.matching(&event, &mut self.scratch, &mut matched);
        self.push(event, matched.iter().filter_map(|&i| u32::try_from(i).ok()).collect());
    }

    /// The alerts gathered since the last call, in input order (a live hunt reports them as they
    /// come; they are not kept).
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        self.alerts.take_held()
    }

    /// The memory limits its state reached so far (see [`crate::Limits`]).
    pub fn limits(&self) -> crate::Limits {
        crate::Limits {
            processes_forgotten: self.lineage.as_ref().map_or(0, Lineage::forgotten),
            values_forgotten: self.novelty.forgotten(),
            ..crate::Limits::default()
        }
    }

    /// How many alerts so far.
    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    /// Whether there is no alert yet.
    pub fn is_empty(&self) -> bool {
        self.alerts.len() == 0
    }

    /// Every alert, sorted by time (none last), file, record and rule, read back from temporary
    /// files if it spilled ([`Hunt::spilling`]).
    pub fn finish(self) -> SortedAlerts {
        self.alerts.finish()
    }
}
