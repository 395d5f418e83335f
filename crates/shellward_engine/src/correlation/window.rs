//! Running correlations over time-sorted alerts.
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
//! at most [`MAX_WINDOW`] signals (the oldest leave first), so memory stays bounded.

use shellward_event::{Event, Timestamp};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use rsigma_parser::ConditionExpr;

use super::{Correlation, Kind};
use crate::ruleset::RuleSet;

/// The most signals one group's window holds.
pub const MAX_WINDOW: usize = 10_000;

/// A member of a firing: an alert (index into the alerts given to [`Correlator::run`]) or an
/// earlier firing of a chained correlation (its index, and the index into its firings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRef {
    /// An alert of a detection rule.
    Alert(usize),
    /// A firing of another correlation.
    Fired(usize, usize),
}

/// One firing of a correlation.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Index of the correlation in the list given to [`Correlator::new`].
    pub correlation: usize,
    /// When it fired: the time of the signal that met the condition.
    pub time: Timestamp,
    /// The host of that signal.
    pub host: Option<String>,
    /// The group: each `group-by` name with its value.
    pub group: Vec<(String, String)>,
    /// The signals in the window, oldest first.
    pub members: Vec<MemberRef>,
}

/// What a member reference resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Rule(usize),
    Correlation(usize),
}

/// Correlations resolved against a rule set, ready to run.
#[derive(Debug)]
pub struct Correlator<'a> {
    correlations: &'a [Correlation],
    /// Per correlation, per member: what it names (`None`: nothing loaded has that name).
    targets: Vec<Vec<Option<Target>>>,
    /// Correlations in an order where every chained member comes first; those in a cycle are
    /// left out.
    order: Vec<usize>,
}

/// An alert as the window sees it.
type Alert = (Arc<Event>, usize);

impl<'a> Correlator<'a> {
    /// Resolves every member reference (a detection rule's or correlation's id, name or title).
    pub fn new(rules: &RuleSet, correlations: &'a [Correlation]) -> Self {
        let targets: Vec<Vec<Option<Target>>> = correlations
            .iter()
            .map(|c| {
                c.members
                    .iter()
                    .map(|reference| {
                        let rule = rules.rules().iter().position(|r| r.info.is_named(reference));
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
        Correlator { correlations, targets, order }
    }

    /// The member references of correlation `index` that name nothing loaded.
    pub fn unresolved(&self, index: usize) -> Vec<&str> {
        let members = &self.correlations[index].members;
        members
            .iter()
            .zip(&self.targets[index])
            .filter(|(_, t)| t.is_none())
            .map(|(m, _)| m.as_str())
            .collect()
    }

    /// Whether correlation `index` is left out because it is part of a chain that loops.
    pub fn in_cycle(&self, index: usize) -> bool {
        !self.order.contains(&index)
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
        for (correlation, targets) in self.correlations.iter().zip(&self.targets) {
            if targets.contains(&Some(target)) {
                named = true;
                if correlation.generate {
                    return true;
                }
            }
        }
        !named
    }

    /// Runs every correlation over `alerts` (sorted by time): per correlation, its firings in
    /// time order.
    pub fn run(&self, alerts: &[Alert]) -> Vec<Vec<Fired>> {
        let mut fired: Vec<Vec<Fired>> = vec![Vec::new(); self.correlations.len()];
        for &index in &self.order {
            let result = self.run_one(index, alerts, &fired);
            fired[index] = result;
        }
        fired
    }

    fn run_one(&self, index: usize, alerts: &[Alert], fired: &[Vec<Fired>]) -> Vec<Fired> {
        let correlation = &self.correlations[index];
        // Every signal of every member: (time in ms, member position, signal).
        let mut signals: Vec<(i64, usize, MemberRef)> = Vec::new();
        for (member, target) in self.targets[index].iter().enumerate() {
            match target {
                Some(Target::Rule(rule)) => signals.extend(
                    alerts.iter().enumerate().filter(|(_, (_, r))| r == rule).filter_map(
                        |(i, (e, _))| Some((e.time?.as_millisecond(), member, MemberRef::Alert(i))),
                    ),
                ),
                Some(Target::Correlation(other)) => {
                    signals.extend(fired[*other].iter().enumerate().map(|(i, f)| {
                        (f.time.as_millisecond(), member, MemberRef::Fired(*other, i))
                    }))
                }
                None => {}
            }
        }
        signals.sort_by_key(|&(time, member, signal)| (time, signal_order(signal), member));
        let source = Source { alerts, chained: fired };
        let mut windows: HashMap<Vec<String>, VecDeque<Entry>> = HashMap::new();
        let mut out = Vec::new();
        for (time, member, signal) in signals {
            let reference = &correlation.members[member];
            let field = |name: &String| -> Option<String> {
                let actual =
                    correlation.aliases.get(name).and_then(|m| m.get(reference)).unwrap_or(name);
                source.value(signal, actual, name)
            };
            let key: Vec<String> =
                correlation.group_by.iter().map(|g| field(g).unwrap_or_default()).collect();
            let value = correlation.field.as_ref().and_then(field);
            if correlation.kind == Kind::ValueCount && value.is_none() {
                continue;
            }
            let window = windows.entry(key.clone()).or_default();
            while window.front().is_some_and(|e| time - e.time > correlation.span_ms) {
                window.pop_front();
            }
            window.push_back(Entry { time, member, value, signal });
            if window.len() > MAX_WINDOW {
                window.pop_front();
            }
            if self.holds(index, window) {
                let entries = std::mem::take(window);
                out.push(Fired {
                    correlation: index,
                    time: source.time(signal),
                    host: source.host(signal),
                    group: correlation.group_by.iter().cloned().zip(key).collect(),
                    members: entries.into_iter().map(|e| e.signal).collect(),
                });
            }
        }
        out
    }

    /// Whether correlation `index`'s condition holds on `window`.
    fn holds(&self, index: usize, window: &VecDeque<Entry>) -> bool {
        let correlation = &self.correlations[index];
        let count = match correlation.kind {
            Kind::EventCount => window.len(),
            Kind::ValueCount => {
                window.iter().filter_map(|e| e.value.as_deref()).collect::<HashSet<_>>().len()
            }
            Kind::Temporal => {
                let present: HashSet<usize> = window.iter().map(|e| e.member).collect();
                if let Some(expression) = &correlation.expression {
                    let named = |name: &str| {
                        correlation.members.iter().enumerate().any(|(m, reference)| {
                            present.contains(&m) && self.names(index, m, reference, name)
                        })
                    };
                    return evaluate(expression, &named);
                }
                present.len()
            }
            Kind::TemporalOrdered => {
                // The longest prefix of the members found in order (earliest matches first,
                // which finds the order whenever it is there).
                let mut next = 0;
                for entry in window {
                    if entry.member == next {
                        next += 1;
                    }
                }
                next
            }
        };
        correlation.holds(count as u64)
    }

    /// Whether `name` (in an extended condition) names member `member` of correlation `index`.
    fn names(&self, index: usize, member: usize, reference: &str, name: &str) -> bool {
        reference == name
            || match self.targets[index][member] {
                Some(Target::Correlation(j)) => self.correlations[j].info.is_named(name),
                _ => false,
            }
    }
}

/// Alerts before firings at the same time, so a chained correlation sees what fired with them.
fn signal_order(signal: MemberRef) -> (u8, usize) {
    match signal {
        MemberRef::Alert(i) => (0, i),
        MemberRef::Fired(_, i) => (1, i),
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
#[derive(Debug)]
struct Entry {
    time: i64,
    member: usize,
    value: Option<String>,
    signal: MemberRef,
}

/// Reads fields, times and hosts of signals.
struct Source<'s> {
    alerts: &'s [Alert],
    chained: &'s [Vec<Fired>],
}

impl Source<'_> {
    /// The value of `field` (`alias` is the name the correlation used) in a signal.
    fn value(&self, signal: MemberRef, field: &str, alias: &str) -> Option<String> {
        match signal {
            MemberRef::Alert(i) => {
                let event = &self.alerts[i].0;
                match event.get(field).filter(|v| !v.is_null()) {
                    Some(value) => Some(value.as_text().into_owned()),
                    None if field == "host" => event.host.clone(),
                    None => None,
                }
            }
            MemberRef::Fired(..) => {
                let fired = self.fired_at(signal)?;
                let group = |name: &str| {
                    fired.group.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
                };
                group(field)
                    .or_else(|| group(alias))
                    .or_else(|| (field == "host").then(|| fired.host.clone()).flatten())
            }
        }
    }

    fn fired_at(&self, signal: MemberRef) -> Option<&Fired> {
        let MemberRef::Fired(correlation, i) = signal else { return None };
        self.chained.get(correlation)?.get(i)
    }

    fn time(&self, signal: MemberRef) -> Timestamp {
        match signal {
            MemberRef::Alert(i) => self.alerts[i].0.time.unwrap_or(Timestamp::UNIX_EPOCH),
            MemberRef::Fired(..) => self.fired_at(signal).map_or(Timestamp::UNIX_EPOCH, |f| f.time),
        }
    }

    fn host(&self, signal: MemberRef) -> Option<String> {
        match signal {
            MemberRef::Alert(i) => self.alerts[i].0.host.clone(),
            MemberRef::Fired(..) => self.fired_at(signal).and_then(|f| f.host.clone()),
        }
    }
}
