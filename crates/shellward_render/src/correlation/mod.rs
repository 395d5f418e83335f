//! Sigma correlation rules as SIEM queries: [`spl`] (a sliding `streamstats` window per group),
//! [`kql`] (member rules as `let` sets, a window anchored at every signal by a self-join) and
//! [`cql`] (LogScale's `correlate()`, or counts per bucket).

mod cql;
mod kql;
mod spl;

pub use cql::cql;
pub use kql::kql;
pub use spl::spl;

use crate::{RenderError, Target};

/// `correlation` in `target` (kql, spl or cql); `members` are its `rules` ([`members`]).
pub fn render(
    target: Target,
    correlation: &CorrelationRule,
    members: &[(&str, &CompiledRule)],
) -> Result<String, RenderError> {
    match target {
        Target::Kql => kql(correlation, members),
        Target::Spl => spl(correlation, members),
        Target::Cql => cql(correlation, members),
        Target::Sigma | Target::Sqlite => Err(RenderError::unsupported(
            target.name(),
            "a correlation (its member rules render one by one)",
        )),
    }
}

/// The notes of a correlation query's header: those of its members' queries.
pub fn notes(target: Target, members: &[(&str, &CompiledRule)]) -> Vec<&'static str> {
    crate::notes_of(members.iter().map(|(_, rule)| *rule), target)
}

use rsigma_parser::{ConditionOperator, CorrelationCondition, CorrelationRule};
use shellward_engine::{CompiledRule, RuleSet};

/// A correlation's member rules found in `set` by id, name or title, each with the reference
/// naming it; the error names a member that is not loaded.
pub fn members<'a>(
    set: &'a RuleSet,
    correlation: &'a CorrelationRule,
) -> Result<Vec<(&'a str, &'a CompiledRule)>, String> {
    correlation
        .rules
        .iter()
        .map(|reference| {
            set.rules()
                .iter()
                .find(|rule| rule.info.is_named(reference))
                .map(|rule| (reference.as_str(), rule))
                .ok_or_else(|| format!("its rule {reference} is not loaded"))
        })
        .collect()
}

/// Whether a `temporal_ordered` rule's condition is its only meaning Sigma defines: every rule, in
/// order (rsigma-parser fills a missing condition as `gte: 1`).
fn every_rule_in_order(correlation: &CorrelationRule, members: usize) -> bool {
    match &correlation.condition {
        CorrelationCondition::Threshold { predicates, .. } => {
            predicates.is_empty()
                || predicates.as_slice() == [(ConditionOperator::Gte, 1)]
                || predicates.as_slice() == [(ConditionOperator::Gte, members as u64)]
        }
        CorrelationCondition::Extended(_) => false,
    }
}

/// The field a member rule names a group-by field with: its alias's mapping for that rule, else
/// the field itself.
fn member_field<'c>(correlation: &'c CorrelationRule, reference: &str, name: &'c str) -> &'c str {
    correlation
        .aliases
        .iter()
        .find(|a| a.alias == name)
        .and_then(|a| a.mapping.get(reference))
        .map_or(name, String::as_str)
}

/// The refusal of a construct `target` cannot state.
fn refuse<T>(target: &'static str, what: impl Into<String>) -> Result<T, RenderError> {
    Err(RenderError::unsupported(target, what.into()))
}

/// A threshold operator as the query languages write it.
fn operator(op: ConditionOperator) -> &'static str {
    match op {
        ConditionOperator::Lt => "<",
        ConditionOperator::Lte => "<=",
        ConditionOperator::Gt => ">",
        ConditionOperator::Gte => ">=",
        ConditionOperator::Eq => "==",
        ConditionOperator::Neq => "!=",
    }
}
