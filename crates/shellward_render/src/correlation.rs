//! Sigma correlation rules as Splunk searches.
//!
//! The member rules' events are selected as in a combined search (their terms OR-ed as a
//! prefilter, then `eval shellward_rule=case(...)` with each member's exact condition), aliases
//! become `eval` fields, and the window is `streamstats time_window=...`: a sliding window ending
//! at each event, per group-by value, which is what Sigma's `timespan` means (pySigma's Splunk
//! backend uses `bin _time`, fixed buckets that miss events straddling a boundary). A `tumbling`
//! window is `bin _time` on purpose. The search reports each event at which the condition holds.
//!
//! KQL and LogScale have no per-event sliding window over arbitrary groups in one pipeline, so
//! correlations are refused there with that reason; so are `temporal_ordered` (no ordered window
//! aggregate), `session` windows and extended (boolean) conditions.

use crate::{RenderError, spl};
use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType, WindowMode,
};
use shellward_engine::CompiledRule;
use std::fmt::Write;

const TARGET: &str = "spl";

/// `correlation` as an SPL search; `members` are its `rules`, each with the reference naming it.
pub fn spl(
    correlation: &CorrelationRule,
    members: &[(&str, &CompiledRule)],
) -> Result<String, RenderError> {
    let refuse = |what: &str| Err(RenderError::unsupported(TARGET, what.to_owned()));
    if members.is_empty() {
        return refuse("a correlation without rules");
    }
    let window = correlation.timespan.seconds;
    let (predicates, field) = match &correlation.condition {
        CorrelationCondition::Threshold { predicates, field, .. } => (predicates, field),
        CorrelationCondition::Extended(_) => return refuse("an extended correlation condition"),
    };
    let field = match field.as_ref().and_then(|f| f.first()) {
        Some(f) => Some(spl::field_name(f)?),
        None => None,
    };
    let needs_field = |name: &str| {
        field.clone().ok_or_else(|| {
            RenderError::unsupported(TARGET, format!("{name} without a condition field"))
        })
    };
    let (aggregate, value) = match correlation.correlation_type {
        CorrelationType::EventCount => ("count AS event_count".to_owned(), "event_count"),
        CorrelationType::ValueCount => {
            (format!("dc({}) AS value_count", needs_field("value_count")?), "value_count")
        }
        CorrelationType::Temporal => ("dc(shellward_rule) AS rule_count".to_owned(), "rule_count"),
        CorrelationType::ValueSum => {
            (format!("sum({}) AS value_sum", needs_field("value_sum")?), "value_sum")
        }
        CorrelationType::ValueAvg => {
            (format!("avg({}) AS value_avg", needs_field("value_avg")?), "value_avg")
        }
        CorrelationType::ValueMedian => {
            (format!("median({}) AS value_median", needs_field("value_median")?), "value_median")
        }
        CorrelationType::ValuePercentile => {
            return refuse("value_percentile (which percentile is a pySigma extension)");
        }
        CorrelationType::TemporalOrdered => {
            return refuse("temporal_ordered (the order of rules inside a window)");
        }
    };
    let mut terms = Vec::new();
    let mut cases = Vec::new();
    for (reference, rule) in members {
        let (search, condition) = spl::selection(rule)?;
        terms.push(search);
        cases.push(format!("{condition}, {}", spl::literal(reference)?));
    }
    let mut out = format!("{} ({})\n", spl::INDEX, terms.join(" OR "));
    let _ = writeln!(out, "| eval shellward_rule=case({})", cases.join(", "));
    out.push_str("| where isnotnull(shellward_rule)\n");
    for alias in &correlation.aliases {
        let mut choices = Vec::new();
        for (reference, _) in members {
            if let Some(field) = alias.mapping.get(*reference) {
                choices.push(format!(
                    "shellward_rule=={}, {}",
                    spl::literal(reference)?,
                    spl::field_name(field)?
                ));
            }
        }
        let _ =
            writeln!(out, "| eval {}=case({})", spl::field_name(&alias.alias)?, choices.join(", "));
    }
    let mut group = Vec::new();
    for name in &correlation.group_by {
        group.push(spl::field_name(name)?);
    }
    let by = if group.is_empty() { String::new() } else { format!(" BY {}", group.join(", ")) };
    match correlation.window {
        WindowMode::Sliding => {
            let _ = writeln!(
                out,
                "| sort 0 _time\n| streamstats time_window={window}s {aggregate}{by}"
            );
        }
        WindowMode::Tumbling => {
            let by =
                if group.is_empty() { String::new() } else { format!(", {}", group.join(", ")) };
            let _ = writeln!(
                out,
                "| bin _time span={window}s AS shellward_window\n| eventstats {aggregate} BY shellward_window{by}"
            );
        }
        WindowMode::Session => return refuse("a session window"),
    }
    // rsigma-parser fills a temporal rule's missing condition as `gte: 1`; Sigma's default is every
    // rule (`gte: <number of rules>`, as pySigma renders it). The parsed rule cannot tell an
    // explicit `gte: 1` from a missing condition, so both are read as the default.
    let all_rules = [(ConditionOperator::Gte, members.len() as u64)];
    let predicates: &[(ConditionOperator, u64)] = match correlation.correlation_type {
        CorrelationType::Temporal if predicates.as_slice() == [(ConditionOperator::Gte, 1)] => {
            &all_rules
        }
        _ => predicates,
    };
    let tests: Vec<String> = predicates
        .iter()
        .map(|(op, n)| {
            let op = match op {
                ConditionOperator::Lt => "<",
                ConditionOperator::Lte => "<=",
                ConditionOperator::Gt => ">",
                ConditionOperator::Gte => ">=",
                ConditionOperator::Eq => "==",
                ConditionOperator::Neq => "!=",
            };
            format!("{value}{op}{n}")
        })
        .collect();
    if tests.is_empty() {
        return refuse("a correlation without a condition");
    }
    let _ = write!(out, "| where {}", tests.join(" AND "));
    Ok(out)
}
