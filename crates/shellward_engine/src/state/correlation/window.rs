//! Running correlations over time-sorted alerts, one at a time ([`Stream`]) or as a batch.
//!
//! # Semantics
//! - A member's alerts (or a chained correlation's firings) enter the window of their group: the
//!   values of the `group-by` fields in that member's events (through `aliases`); a missing field
//!   is the empty value, and `host` falls back to the event's host.
//! - The window slides: when a signal arrives at time `t`, signals older than `t - timespan` leave
//!   it, so two signals are in one window when at most `timespan` apart (both ends included).
//! - Then the condition is checked on the window: the number of signals (`event_count`), of
//!   distinct values of the field (`value_count`, signals without the field do not count), of
//!   distinct members present (`temporal`, or its extended condition over member names), or of
//!   members found in the listed order (`temporal_ordered`, which fires when all are).
//! - When it holds, the correlation fires at `t` with every signal of the window as its members,
//!   and the group's window is cleared: the next firing needs the threshold met again by new
//!   signals (one incident, not one alert per signal after the threshold).
//!
//! Signals without a time cannot be placed in a window and are left out. A group's window keeps
//! at most [`MAX_WINDOW`] signals (the oldest leave first), and a stream forgets, every few
//! thousand alerts, the groups whose every signal is older than the timespan, so memory stays
//! bounded by the signals inside a timespan.

use shellward_event::{Event, Timestamp};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::Arc;

use rsigma_parser::ConditionExpr;

use super::group_window::GroupWindow;
use super::{Correlation, Kind};
use crate::ruleset::RuleSet;

/// The most signals one group's window holds.
pub const MAX_WINDOW: usize = 10_000;

/// Where a signal stands in a hunt: an alert (its position in the sequence of alerts pushed) or
/// a firing of a chained correlation (its index, and its position among that one's firings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRef {
    /// An alert of a detection rule.
    Alert(usize),
    /// A firing of another correlation.
    Fired(usize, usize),
}

/// What enters a correlation's window: an alert of a member rule, or a firing of a chained
/// correlation. It holds what it stands for, so a firing can be reported without the alerts
/// around it (a live hunt keeps no list of them).
#[derive(Debug, Clone)]
pub enum Signal {
    /// An alert: its event, its rule (index in the rule set) and its position in the sequence of
    /// alerts pushed.
    Alert {
        /// The event that matched.
        event: Arc<Event>,
        /// The rule's index in [`RuleSet::rules`].
        rule: usize,
        /// Its position among the alerts pushed.
        order: usize,
    },
    /// A chained correlation's firing.
    Fired(Arc<Fired>),
}

impl Signal {
    /// Where the signal stands (see [`MemberRef`]).
    pub fn reference(&self) -> MemberRef {
        match self {
            Signal::Alert { order, .. } => MemberRef::Alert(*order),
            Signal::Fired(fired) => MemberRef::Fired(fired.correlation, fired.index),
        }
    }

    fn time(&self) -> Timestamp {
        match self {
            Signal::Alert { event, .. } => event.time.unwrap_or(Timestamp::UNIX_EPOCH),
            Signal::Fired(fired) => fired.time,
        }
    }

    fn host(&self) -> Option<String> {
        match self {
            Signal::Alert { event, .. } => event.host.clone(),
            Signal::Fired(fired) => fired.host.clone(),
        }
    }

    /// The value of `field` (`alias` is the name the correlation used) in a signal.
    fn value(&self, field: &str, alias: &str) -> Option<String> {
        match self {
            Signal::Alert { event, .. } => match event.get(field).filter(|v| !v.is_null()) {
                Some(value) => Some(value.as_text().into_owned()),
                None if field == "host" => event.host.clone(),
                None => None,
            },
            Signal::Fired(fired) => {
                let group = |name: &str| {
                    fired.group.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
                };
                group(field)
                    .or_else(|| group(alias))
                    .or_else(|| (field == "host").then(|| fired.host.clone()).flatten())
            }
        }
    }
}

/// One firing of a correlation.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Index of the correlation in the list given to [`Correlator::new`].
    pub correlation: usize,
    /// Its position among that correlation's firings.
    pub index: usize,
    /// When it fired: the time of the signal that met the condition.
    pub time: Timestamp,
    /// The host of that signal.
    pub host: Option<String>,
    /// The group: each `group-by` name with its value.
    pub group: Vec<(String, String)>,
    /// The signals in the window, oldest first.
    pub members: Vec<Signal>,
}

impl Fired {
    /// Where its members stand.
    pub fn member_refs(&self) -> Vec<MemberRef> {
        self.members.iter().map(Signal::reference).collect()
    }
}

/// What a member reference resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Rule(usize),
    Correlation(usize),
}

/// What each correlation's members name, resolved once when a rule set is compiled (and again
/// when `--min-level` removes rules: [`RuleSet::retain`]), and an order to run them in.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Per correlation, per member: what it names (`None`: nothing loaded has that name).
    targets: Vec<Vec<Option<Target>>>,
    /// Correlations in an order where every chained member comes first; those in a cycle are
    /// left out.
    order: Vec<usize>,
}

impl Resolution {
    /// Resolves every member reference (a detection rule's or correlation's id, name or title).
    pub(crate) fn new(
        rules: &[crate::compile::rule::CompiledRule],
        correlations: &[Correlation],
    ) -> Self {
        let targets: Vec<Vec<Option<Target>>> = correlations
            .iter()
            .map(|c| {
                c.members
                    .iter()
                    .map(|reference| {
                        let rule = rules.iter().position(|r| r.info.is_named(reference));
                        let chained =
                            || correlations.iter().position(|other| other.info.is_named(reference));
                        rule.map(Target::Rule).or_else(|| chained().map(Target::Correlation))
                    })
                    .collect()
            })
            .collect();
        let mut order = Vec::new();
        let mut placed = vec![false; correlations.len()];
        loop {
            let before = order.len();
            for (i, members) in targets.iter().enumerate() {
                let ready = members.iter().all(|t| match t {
                    Some(Target::Correlation(j)) => placed[*j] && *j != i,
                    _ => true,
                });
                if !placed[i] && ready {
                    placed[i] = true;
                    order.push(i);
                }
            }
            if order.len() == before {
                break;
            }
        }
        Resolution { targets, order }
    }
}

/// A rule set's correlations with their resolved members, ready to run.
#[derive(Debug, Clone, Copy)]
pub struct Correlator<'a> {
    pub(super) correlations: &'a [Correlation],
    resolution: &'a Resolution,
}

/// An alert as the window sees it.
type Alert = (Arc<Event>, usize);

impl<'a> Correlator<'a> {
    /// The correlations of `rules`, as resolved when it was compiled.
    pub fn new(rules: &'a RuleSet) -> Self {
        Correlator { correlations: rules.correlations(), resolution: rules.resolution() }
    }

    /// The member references of correlation `index` that name nothing loaded.
    pub fn unresolved(&self, index: usize) -> Vec<&str> {
        let members = &self.correlations[index].members;
        members
            .iter()
            .zip(&self.resolution.targets[index])
            .filter(|(_, t)| t.is_none())
            .map(|(m, _)| m.as_str())
            .collect()
    }

    /// Whether correlation `index` is left out because it is part of a chain that loops.
    pub fn in_cycle(&self, index: usize) -> bool {
        !self.resolution.order.contains(&index)
    }

    /// Whether rule `rule`'s own alerts are kept: not when every correlation that names it has
    /// `generate: false` (Sigma's default).
    pub fn rule_generates(&self, rule: usize) -> bool {
        self.generates(Target::Rule(rule))
    }

    /// The same for correlation `index` named by other correlations (chaining).
    pub fn correlation_generates(&self, index: usize) -> bool {
        self.generates(Target::Correlation(index))
    }

    fn generates(&self, target: Target) -> bool {
        let mut named = false;
        for (correlation, targets) in self.correlations.iter().zip(&self.resolution.targets) {
            if targets.contains(&Some(target)) {
                named = true;
                if correlation.generate {
                    return true;
                }
            }
        }
        !named
    }

    /// Runs every correlation over `alerts` (sorted by time; held or taken one at a time): per
    /// correlation, its firings in time order. The batch form of [`Stream`].
    pub fn run<A: Borrow<Alert>>(
        &self,
        alerts: impl IntoIterator<Item = A>,
    ) -> Vec<Vec<Arc<Fired>>> {
        let mut stream = self.stream();
        let mut fired: Vec<Vec<Arc<Fired>>> = vec![Vec::new(); self.correlations.len()];
        let mut keep = |firings: Vec<Arc<Fired>>| {
            for firing in firings {
                fired[firing.correlation].push(firing);
            }
        };
        for (order, alert) in alerts.into_iter().enumerate() {
            let (event, rule) = alert.borrow();
            keep(stream.push(Arc::clone(event), *rule, order));
        }
        keep(stream.flush());
        fired
    }

    /// A stream of alerts to correlate one at a time.
    pub fn stream(&self) -> Stream<'_, 'a> {
        Stream {
            correlator: *self,
            _borrow: std::marker::PhantomData,
            windows: vec![HashMap::new(); self.correlations.len()],
            fired: vec![0; self.correlations.len()],
            pending: Vec::new(),
            now: i64::MIN,
            pushed: 0,
            cut: 0,
        }
    }

    /// Whether another correlation names correlation `index` as a member.
    fn chained(&self, index: usize) -> bool {
        self.resolution.targets.iter().any(|t| t.contains(&Some(Target::Correlation(index))))
    }

    /// Whether correlation `index`'s condition holds on `window`.
    fn holds(&self, index: usize, window: &GroupWindow) -> bool {
        let correlation = &self.correlations[index];
        let count = match correlation.kind {
            Kind::EventCount => window.len(),
            Kind::ValueCount => window.distinct_values(),
            Kind::Temporal => {
                if let Some(expression) = &correlation.expression {
                    let named = |name: &str| {
                        correlation.members.iter().enumerate().any(|(m, reference)| {
                            window.has(m) && self.names(index, m, reference, name)
                        })
                    };
                    return evaluate(expression, &named);
                }
                window.members_present()
            }
            Kind::TemporalOrdered => window.members_in_order(),
        };
        correlation.holds(count as u64)
    }

    /// Whether `name` (in an extended condition) names member `member` of correlation `index`.
    fn names(&self, index: usize, member: usize, reference: &str, name: &str) -> bool {
        reference == name
            || match self.resolution.targets[index][member] {
                Some(Target::Correlation(j)) => self.correlations[j].info.is_named(name),
                _ => false,
            }
    }
}

/// Evaluates an extended temporal condition with `named` telling which names are present.
fn evaluate(expression: &ConditionExpr, named: &dyn Fn(&str) -> bool) -> bool {
    match expression {
        ConditionExpr::Identifier(name) => named(name),
        ConditionExpr::Not(inner) => !evaluate(inner, named),
        ConditionExpr::And(parts) => parts.iter().all(|p| evaluate(p, named)),
        ConditionExpr::Or(parts) => parts.iter().any(|p| evaluate(p, named)),
        ConditionExpr::Selector { .. } => false,
    }
}

/// One signal in a window.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) time: i64,
    pub(super) member: usize,
    pub(super) value: Option<String>,
    pub(super) signal: Signal,
}

/// How often (in alerts pushed) a stream forgets the groups whose window can hold nothing more.
const SWEEP_EVERY: u64 = 4096;

/// Correlations fed one alert at a time, in time order: each firing is returned as soon as the
/// alert that completes it is pushed.
///
/// Within one millisecond, a chained correlation sees the alerts before the firings of the
/// correlations it names (as a batch sorted by time does): firings wait in a queue until an alert
/// of a later time is pushed, or [`Stream::flush`].
#[derive(Debug)]
pub struct Stream<'c, 'a> {
    pub(super) correlator: Correlator<'a>,
    pub(super) _borrow: std::marker::PhantomData<&'c ()>,
    /// Per correlation, the window of each group.
    pub(super) windows: Vec<HashMap<Vec<String>, GroupWindow>>,
    /// Per correlation, how many times it fired.
    pub(super) fired: Vec<usize>,
    /// Firings not yet given to the correlations that chain them (all at time `now`).
    pub(super) pending: Vec<Arc<Fired>>,
    /// The time (ms) of the latest signal.
    pub(super) now: i64,
    pub(super) pushed: u64,
    /// Signals dropped from a full window ([`MAX_WINDOW`]).
    pub(super) cut: u64,
}

impl Stream<'_, '_> {
    /// How many signals were dropped from a window holding [`MAX_WINDOW`] already (the oldest
    /// go first).
    pub fn cut(&self) -> u64 {
        self.cut
    }

    /// Pushes one alert (`order`: its position among the alerts pushed); returns the firings it
    /// decided (those of the chained correlations it completes included), in the order decided.
    /// Alerts must come in time order; one without a time is left out.
    pub fn push(&mut self, event: Arc<Event>, rule: usize, order: usize) -> Vec<Arc<Fired>> {
        let mut out = Vec::new();
        let Some(time) = event.time else { return out };
        let ms = time.as_millisecond();
        if ms > self.now {
            if !self.pending.is_empty() {
                out = self.flush();
            }
            self.now = ms;
        }
        self.pushed += 1;
        if self.pushed.is_multiple_of(SWEEP_EVERY) {
            self.sweep();
        }
        let signal = Signal::Alert { event, rule, order };
        let correlator = self.correlator;
        for &c in &correlator.resolution.order {
            for (member, target) in correlator.resolution.targets[c].iter().enumerate() {
                if *target == Some(Target::Rule(rule)) {
                    self.enter(c, member, signal.clone(), ms, &mut out);
                }
            }
        }
        out
    }

    /// Gives the waiting firings to the correlations that chain them; returns what they decided.
    pub fn flush(&mut self) -> Vec<Arc<Fired>> {
        let mut out = Vec::new();
        let mut queue = std::mem::take(&mut self.pending);
        let correlator = self.correlator;
        for &c in &correlator.resolution.order {
            let mut inputs: Vec<(usize, usize, Arc<Fired>)> = Vec::new();
            for firing in &queue {
                for (member, target) in correlator.resolution.targets[c].iter().enumerate() {
                    if *target == Some(Target::Correlation(firing.correlation)) {
                        inputs.push((firing.index, member, Arc::clone(firing)));
                    }
                }
            }
            inputs.sort_by_key(|(index, member, _)| (*index, *member));
            for (_, member, firing) in inputs {
                let ms = firing.time.as_millisecond();
                self.enter(c, member, Signal::Fired(firing), ms, &mut out);
            }
            // What fired here and is chained (`enter` queued it) goes to the correlations later
            // in the order, at this same time.
            queue.append(&mut self.pending);
        }
        out
    }

    /// Puts a signal in its group's window of correlation `c`; a firing goes to `out`.
    fn enter(
        &mut self,
        c: usize,
        member: usize,
        signal: Signal,
        ms: i64,
        out: &mut Vec<Arc<Fired>>,
    ) {
        let correlator = self.correlator;
        let correlation = &correlator.correlations[c];
        let reference = &correlation.members[member];
        let field = |name: &String| -> Option<String> {
            let actual =
                correlation.aliases.get(name).and_then(|m| m.get(reference)).unwrap_or(name);
            signal.value(actual, name)
        };
        let key: Vec<String> =
            correlation.group_by.iter().map(|g| field(g).unwrap_or_default()).collect();
        let value = correlation.field.as_ref().and_then(field);
        if correlation.kind == Kind::ValueCount && value.is_none() {
            return;
        }
        let window = self.windows[c].entry(key.clone()).or_default();
        while window.front().is_some_and(|e| ms - e.time > correlation.span_ms) {
            window.pop_front();
        }
        let (time, host) = (signal.time(), signal.host());
        window.push_back(Entry { time: ms, member, value, signal });
        if window.len() > MAX_WINDOW {
            window.pop_front();
            self.cut += 1;
        }
        if correlator.holds(c, window) {
            let entries = window.take();
            let firing = Arc::new(Fired {
                correlation: c,
                index: self.fired[c],
                time,
                host,
                group: correlation.group_by.iter().cloned().zip(key).collect(),
                members: entries.into_iter().map(|e| e.signal).collect(),
            });
            self.fired[c] += 1;
            if correlator.chained(c) {
                self.pending.push(Arc::clone(&firing));
            }
            out.push(firing);
        }
    }

    /// Forgets the groups whose every signal is older than the timespan: the next signal of the
    /// group would push them all out anyway.
    fn sweep(&mut self) {
        let now = self.now;
        for (c, windows) in self.windows.iter_mut().enumerate() {
            let span = self.correlator.correlations[c].span_ms;
            windows.retain(|_, window| window.back().is_some_and(|e| now - e.time <= span));
        }
    }
}
