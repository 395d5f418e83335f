//! Sigma correlation rules: `event_count`, `value_count`, `temporal` and `temporal_ordered` over
//! the alerts of their member rules (or of other correlations: chaining), per `group-by` value,
//! in a sliding window of `timespan`.
//!
//! A correlation is compiled against a [`crate::RuleSet`] ([`Correlation::compile`]) and run by
//! a [`Correlator`]: incrementally, one alert at a time in time order ([`Stream::push`], each
//! firing returned as soon as the alert completing it arrives; per-group windows, so a live hunt
//! holds only the signals still inside a timespan), or over a batch ([`Correlator::run`], which a
//! hunt over files uses once its alerts are all known and sorted by time, so a window is right
//! whatever order the input files came in). Both give the same firings. The semantics are in
//! `window`'s documentation.
//!
//! Not evaluated (each a compile error naming the rule, so a rule is never half-run):
//! `value_sum`, `value_avg`, `value_median`, `value_percentile`, `tumbling` and `session`
//! windows, and extended (boolean) conditions outside `temporal`.

mod group_window;
mod stored;
mod window;

use rsigma_parser::{ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule};
use rsigma_parser::{CorrelationType, WindowMode};
use shellward_sigma::LoadedCorrelation;
use std::collections::HashMap;

use crate::compile::level::Level;
use crate::compile::logsource::RuleLogSource;
use crate::compile::rule::RuleInfo;

pub use stored::{StateMismatch, StreamState};
pub use window::{Correlator, Fired, MAX_WINDOW, MemberRef, Resolution, Signal, Stream};

/// The kinds of correlation the engine evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Number of member alerts.
    EventCount,
    /// Number of distinct values of a field.
    ValueCount,
    /// Every member (or what the extended condition names) in the window, in any order.
    Temporal,
    /// Every member in the window, in the order the rule lists them.
    TemporalOrdered,
}

impl Kind {
    /// The Sigma name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::EventCount => "event_count",
            Kind::ValueCount => "value_count",
            Kind::Temporal => "temporal",
            Kind::TemporalOrdered => "temporal_ordered",
        }
    }
}

/// A compiled correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// Metadata, as for a detection rule (the log source is empty).
    pub info: RuleInfo,
    /// What it counts.
    pub kind: Kind,
    /// Its `rules`: ids, names or titles of detection rules or other correlations.
    pub members: Vec<String>,
    /// `group-by` field names (aliases allowed). `host` is the event's host when no field of
    /// that name exists.
    pub group_by: Vec<String>,
    /// `timespan` in milliseconds.
    pub span_ms: i64,
    /// The threshold: every (operator, count) must hold.
    pub predicates: Vec<(ConditionOperator, u64)>,
    /// `value_count`'s field.
    pub field: Option<String>,
    /// A `temporal` extended condition over member names.
    pub expression: Option<ConditionExpr>,
    /// `aliases`: alias → (member reference → field name in that member's events).
    pub aliases: HashMap<String, HashMap<String, String>>,
    /// `generate`: whether the members also alert on their own.
    pub generate: bool,
}

/// Why a correlation rule cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shellward does not evaluate {0}")]
pub struct Unsupported(String);

impl Correlation {
    /// Compiles a loaded correlation rule.
    pub fn compile(loaded: &LoadedCorrelation) -> Result<Correlation, Unsupported> {
        let rule = &loaded.rule;
        let refuse = |what: &str| Err(Unsupported(what.to_owned()));
        let kind = match rule.correlation_type {
            CorrelationType::EventCount => Kind::EventCount,
            CorrelationType::ValueCount => Kind::ValueCount,
            CorrelationType::Temporal => Kind::Temporal,
            CorrelationType::TemporalOrdered => Kind::TemporalOrdered,
            other => return refuse(&format!("{} correlations", other.as_str())),
        };
        if rule.window != WindowMode::Sliding {
            return refuse("tumbling or session windows (only sliding ones)");
        }
        if rule.rules.is_empty() {
            return refuse("a correlation without rules");
        }
        let (predicates, field, expression) = match &rule.condition {
            CorrelationCondition::Threshold { predicates, field, .. } => {
                (predicates.clone(), field.as_ref().and_then(|f| f.first().cloned()), None)
            }
            CorrelationCondition::Extended(expr) if kind == Kind::Temporal => {
                (Vec::new(), None, Some(expr.clone()))
            }
            CorrelationCondition::Extended(_) => {
                return refuse("extended conditions outside temporal correlations");
            }
        };
        let below = predicates
            .iter()
            .any(|(op, _)| matches!(op, ConditionOperator::Lt | ConditionOperator::Lte));
        if below && matches!(kind, Kind::EventCount | Kind::ValueCount) {
            return refuse("count thresholds with lt or lte, which need the end of a window");
        }
        if kind == Kind::ValueCount && field.is_none() {
            return refuse("value_count without a condition field");
        }
        // rsigma-parser writes a temporal rule without a condition as `gte: 1`; the
        // specification means every rule (and `gte: 1` alone would correlate nothing).
        let every = matches!(kind, Kind::Temporal | Kind::TemporalOrdered)
            && predicates == [(ConditionOperator::Gte, 1)];
        let predicates = if every {
            vec![(ConditionOperator::Gte, rule.rules.len() as u64)]
        } else {
            predicates
        };
        let aliases = rule.aliases.iter().map(|a| (a.alias.clone(), a.mapping.clone())).collect();
        Ok(Correlation {
            info: info(rule, loaded),
            kind,
            members: rule.rules.clone(),
            group_by: rule.group_by.clone(),
            span_ms: i64::try_from(rule.timespan.seconds).unwrap_or(i64::MAX / 2000) * 1000,
            predicates,
            field,
            expression,
            aliases,
            generate: rule.generate,
        })
    }

    /// Whether `count` meets every predicate.
    pub(crate) fn holds(&self, count: u64) -> bool {
        self.predicates.iter().all(|&(op, n)| match op {
            ConditionOperator::Lt => count < n,
            ConditionOperator::Lte => count <= n,
            ConditionOperator::Gt => count > n,
            ConditionOperator::Gte => count >= n,
            ConditionOperator::Eq => count == n,
            ConditionOperator::Neq => count != n,
        })
    }
}

fn info(rule: &CorrelationRule, loaded: &LoadedCorrelation) -> RuleInfo {
    RuleInfo {
        id: rule.id.clone(),
        name: rule.name.clone(),
        title: rule.title.clone(),
        level: rule.level.map_or(Level::Medium, Level::from_sigma),
        status: rule.status.map(crate::compile::rule::status_name),
        tags: rule.tags.clone(),
        detection_type: crate::compile::rule::detection_type(&rule.custom_attributes),
        first_seen: None,
        description: rule.description.clone(),
        author: rule.author.clone(),
        references: rule.references.clone(),
        falsepositives: rule.falsepositives.clone(),
        investigation: crate::compile::rule::guide(&rule.custom_attributes, "investigation"),
        response: crate::compile::rule::guide(&rule.custom_attributes, "response"),
        fields: Vec::new(),
        logsource: RuleLogSource::default(),
        origin: loaded.text.origin.to_string(),
        line: loaded.line,
    }
}
