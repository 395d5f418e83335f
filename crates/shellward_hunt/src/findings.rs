//! What a hunt reports: the alerts of the detection rules and the firings of the correlation
//! rules over them, in one time-ordered list.
//!
//! Correlations run once every alert is known and sorted by time ([`shellward_engine::Correlator`]),
//! so their windows do not depend on the order of the input files. A rule whose every
//! correlation has `generate: false` alerts only through them; a rule kept below `--min-level`
//! only because a correlation at or above it names it does not alert on its own either.

use crate::alert::{AlertView, alert_id, alert_json, stable_id};
use crate::hunt::Alert;
use serde_json::{Value as Json, json};
use shellward_engine::correlation::{Fired, Signal};
use shellward_engine::{Correlator, Level, RuleInfo, RuleSet};
use shellward_event::{Event, Value};
use std::sync::Arc;

/// A correlation firing as the writers see it: a synthetic event (time and host of the firing,
/// the group's values as fields, the provenance of the signal that completed it) and what the
/// JSON contract adds.
#[derive(Debug)]
pub struct Correlated {
    /// The correlation's type (`temporal`, ...).
    pub kind: &'static str,
    /// `{"type", "group", "events": [member alerts]}` for the alert's `correlation` key.
    pub json: Json,
    /// One line for the table: the member rules in order, with counts.
    pub summary: String,
}

impl Correlated {
    /// What the firing says in one line: its type and member rules (`temporal: A → B`).
    pub fn line(&self) -> String {
        format!("{}: {}", self.kind, self.summary)
    }
}

/// One thing to report.
#[derive(Debug)]
pub struct Finding<'r> {
    /// The event (synthetic for a correlation).
    pub event: Arc<Event>,
    /// The rule or correlation.
    pub rule: &'r RuleInfo,
    /// Set for a correlation.
    pub correlated: Option<Correlated>,
    /// Set when a tuning file's `[[suppress]]` folded repeats into it.
    pub repeats: Option<crate::tuning::Repeats>,
}

impl Finding<'_> {
    /// The alert object of the JSON contract, borrowed ([`AlertView`]): a correlation's with its
    /// `correlation` object and id ([`correlation_alert_json`]). Without what a tuning file's
    /// `[[suppress]]` folded into it: [`AlertView::suppressed`] adds that.
    pub fn view(&self) -> AlertView<'_> {
        let view = AlertView::new(&self.event, self.rule);
        match &self.correlated {
            Some(correlated) => {
                view.correlated(&correlated.json, correlation_id(self.rule, &correlated.json))
            }
            None => view,
        }
    }

    /// The alert object of the JSON contract as a value ([`Finding::view`]).
    pub fn json(&self) -> Json {
        self.view().to_json()
    }

    /// The alert's stable id, as its JSON gives it: from rule, source and record, and for a
    /// correlation from its key and its members' ids. The same input gives the same ids, run
    /// after run, so a consumer (or a restarted watch) can drop repeats.
    pub fn id(&self) -> String {
        match &self.correlated {
            Some(correlated) => correlation_id(self.rule, &correlated.json),
            None => alert_id(&self.event, self.rule),
        }
    }
}

/// A correlation alert's id: the correlation's key with the ids of its member alerts, so the same
/// firing has the same id.
fn correlation_id(rule: &RuleInfo, correlation: &Json) -> String {
    let members = correlation["events"].as_array().into_iter().flatten();
    let member_ids: Vec<&str> = members.filter_map(|m| m["id"].as_str()).collect();
    stable_id(std::iter::once(rule.key()).chain(member_ids))
}

/// An alert's JSON with a `correlation` object: the contract's correlation alert (its id is
/// [`Finding::id`]'s).
pub fn correlation_alert_json(event: &Event, rule: &RuleInfo, correlation: &Json) -> Json {
    let id = correlation_id(rule, correlation);
    AlertView::new(event, rule).correlated(correlation, id).to_json()
}

/// Which findings a hunt reports on their own: a rule's alerts unless every correlation naming it
/// has `generate: false`, a correlation's firings unless it is only chained, and nothing below
/// `--min-level` (rules kept under it because a correlation at or above it names them).
#[derive(Clone, Copy)]
pub(crate) struct Reported<'a> {
    pub(crate) set: &'a RuleSet,
    pub(crate) correlator: Correlator<'a>,
    pub(crate) min_level: Option<Level>,
}

impl Reported<'_> {
    /// Whether rule `rule`'s alerts are reported.
    pub(crate) fn rule(&self, rule: usize) -> bool {
        self.correlator.rule_generates(rule) && self.shown(self.set.rules()[rule].info.level)
    }

    /// Whether correlation `index`'s firings are reported.
    pub(crate) fn correlation(&self, index: usize) -> bool {
        self.correlator.correlation_generates(index)
            && self.shown(self.set.correlations()[index].info.level)
    }

    fn shown(&self, level: Level) -> bool {
        self.min_level.is_none_or(|min| level >= min)
    }
}

/// Every finding of a hunt, sorted by time (then as [`crate::Hunt::finish`] sorts); `min_level`
/// leaves out the rules kept below it only because a correlation at or above it names them.
/// `alerts` (sorted) are taken one at a time through the correlations, and only what is reported
/// is kept: a rule that only feeds correlations costs no memory once its alerts have left their
/// windows.
pub fn findings(
    set: &RuleSet,
    alerts: impl IntoIterator<Item = Alert>,
    min_level: Option<Level>,
) -> Vec<Finding<'_>> {
    let correlator = Correlator::new(set);
    let reported = Reported { set, correlator, min_level };
    let mut out: Vec<(usize, Finding<'_>)> = Vec::new();
    let fired = correlator.run(alerts.into_iter().enumerate().map(|(order, alert)| {
        let (event, rule) = &alert;
        if reported.rule(*rule) {
            let info = &set.rules()[*rule].info;
            let event = Arc::clone(event);
            out.push((order, Finding { event, rule: info, correlated: None, repeats: None }));
        }
        alert
    }));
    for (index, firings) in fired.iter().enumerate() {
        let info = &set.correlations()[index].info;
        if !reported.correlation(index) {
            continue;
        }
        for firing in firings {
            let event = synthetic(firing);
            let correlated = correlated(set, firing);
            out.push((
                usize::MAX,
                Finding { event, rule: info, correlated: Some(correlated), repeats: None },
            ));
        }
    }
    // Stable: alerts keep their order; a correlation comes right after the alert completing it.
    out.sort_by(|(oa, a), (ob, b)| {
        (a.event.time.is_none(), a.event.time, a.correlated.is_some(), *oa).cmp(&(
            b.event.time.is_none(),
            b.event.time,
            b.correlated.is_some(),
            *ob,
        ))
    });
    out.into_iter().map(|(_, finding)| finding).collect()
}

/// The finding of one correlation firing.
pub fn correlation_finding<'r>(set: &'r RuleSet, firing: &Fired) -> Finding<'r> {
    Finding {
        event: synthetic(firing),
        rule: &set.correlations()[firing.correlation].info,
        correlated: Some(correlated(set, firing)),
        repeats: None,
    }
}

/// The event standing for a firing: its time, host and group, and the provenance of the alert
/// that completed it.
fn synthetic(firing: &Fired) -> Arc<Event> {
    let provenance = match last_alert(firing) {
        Some(event) => event.provenance.clone(),
        None => shellward_event::Provenance {
            path: "-".into(),
            record: 0,
            format: shellward_event::Format::Json,
        },
    };
    let mut event = Event::new(provenance);
    event.time = Some(firing.time);
    event.host = firing.host.clone();
    for (name, value) in &firing.group {
        event.insert(name.clone(), Value::Str(value.clone()));
    }
    Arc::new(event)
}

/// The last alert under a firing (a chained firing's last member, recursively).
fn last_alert(firing: &Fired) -> Option<&Event> {
    match firing.members.last()? {
        Signal::Alert { event, .. } => Some(event),
        Signal::Fired(inner) => last_alert(inner),
    }
}

fn correlated(set: &RuleSet, firing: &Fired) -> Correlated {
    let correlation = &set.correlations()[firing.correlation];
    // Member titles in order of first appearance, with how many alerts each.
    let mut titles: Vec<(String, usize)> = Vec::new();
    for member in &firing.members {
        let title = match member {
            Signal::Alert { rule, .. } => set.rules()[*rule].info.title.clone(),
            Signal::Fired(inner) => set.correlations()[inner.correlation].info.title.clone(),
        };
        match titles.iter_mut().find(|(t, _)| *t == title) {
            Some((_, count)) => *count += 1,
            None => titles.push((title, 1)),
        }
    }
    let summary = titles
        .iter()
        .map(|(t, n)| if *n > 1 { format!("{t} ×{n}") } else { t.clone() })
        .collect::<Vec<_>>()
        .join(" → ");
    Correlated { kind: correlation.kind.name(), json: correlation_json(set, firing), summary }
}

/// The `correlation` object: type, group, and every member alert in full (chained firings as
/// correlation alerts of their own).
fn correlation_json(set: &RuleSet, firing: &Fired) -> Json {
    let correlation = &set.correlations()[firing.correlation];
    let events: Vec<Json> = firing
        .members
        .iter()
        .map(|member| match member {
            Signal::Alert { event, rule, .. } => alert_json(event, &set.rules()[*rule].info),
            Signal::Fired(inner) => correlation_alert_json(
                &synthetic(inner),
                &set.correlations()[inner.correlation].info,
                &correlation_json(set, inner),
            ),
        })
        .collect();
    let group: serde_json::Map<String, Json> =
        firing.group.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
    json!({"type": correlation.kind.name(), "group": group, "events": events})
}
