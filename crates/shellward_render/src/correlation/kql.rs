//! Sigma correlation rules as KQL for Defender XDR and Sentinel.
//!
//! Each member rule's query is a `let` set of rows tagged with the member's name, its group-by
//! values (through `aliases`; `host` is `DeviceName`) and, for `value_count`, the counted field;
//! the sets are unioned into `shellward_signals`. Sigma's `timespan` is a sliding window, and KQL
//! has no sliding window per group in one operator, so every signal anchors a window ending at
//! it: a self-join on the group keys keeps the signals of the timespan before each anchor, then
//! `summarize ... by` group and anchor counts them. A group fires when some window holds the
//! condition, which is exactly "some window of that length holds it" (such a window can always be
//! moved to end at its last signal). `temporal_ordered` chains joins in the rules' order, each
//! signal no earlier than the one before and within the timespan of the first. The query returns
//! one row per firing group with the first and last anchor times.

use super::operator;
use crate::kql::{self, literal};
use crate::source::Field;
use crate::{RenderError, Target};
use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType,
    WindowMode,
};
use shellward_engine::CompiledRule;
use std::fmt::Write;

const TARGET: &str = "kql";

fn refuse<T>(what: impl Into<String>) -> Result<T, RenderError> {
    super::refuse(TARGET, what)
}

/// The column of a Sigma field in a member rule's table (`host`: the device).
fn column(rule: &CompiledRule, field: &str) -> Result<String, RenderError> {
    let source = kql::source(rule.logsource())?;
    match source.field(TARGET, field) {
        Ok(Field::Name(name)) => Ok(name),
        Ok(Field::DevicePath(name)) => Ok(name.to_owned()),
        Ok(_) => refuse(format!("grouping by {field}, which KQL computes per table")),
        Err(_) if field == "host" => Ok("DeviceName".to_owned()),
        Err(error) => Err(error),
    }
}

/// `correlation` as a KQL query; `members` are its `rules`, each with the reference naming it.
pub fn kql(
    correlation: &CorrelationRule,
    members: &[(&str, &CompiledRule)],
) -> Result<String, RenderError> {
    if members.is_empty() {
        return refuse("a correlation without rules");
    }
    if correlation.window != WindowMode::Sliding {
        return refuse("a tumbling or session window");
    }
    let span = correlation.timespan.seconds;
    let value_field = match (&correlation.correlation_type, &correlation.condition) {
        (CorrelationType::ValueCount, CorrelationCondition::Threshold { field, .. }) => {
            match field.as_ref().and_then(|f| f.first()) {
                Some(field) => Some(field.clone()),
                None => return refuse("value_count without a condition field"),
            }
        }
        _ => None,
    };
    let keys: Vec<String> = if correlation.group_by.is_empty() {
        vec!["shellward_all".to_owned()]
    } else {
        (0..correlation.group_by.len()).map(|k| format!("shellward_group{k}")).collect()
    };
    let mut out = String::new();
    let mut sets = Vec::new();
    for (i, (reference, rule)) in members.iter().enumerate() {
        let query = crate::render(rule, Target::Kql, "")?;
        let mut extend = vec![format!("shellward_rule = {}", literal(reference)?)];
        if correlation.group_by.is_empty() {
            extend.push("shellward_all = 1".to_owned());
        }
        for (k, name) in correlation.group_by.iter().enumerate() {
            let field = super::member_field(correlation, reference, name);
            extend.push(format!("shellward_group{k} = tostring({})", column(rule, field)?));
        }
        if let Some(field) = &value_field {
            extend.push(format!("shellward_value = tostring({})", column(rule, field)?));
        }
        let _ = writeln!(out, "let shellward_m{i} = {query}\n| extend {};", extend.join(", "));
        sets.push(format!("shellward_m{i}"));
    }
    let mut projected = vec!["Timestamp".to_owned(), "shellward_rule".to_owned()];
    projected.extend(keys.iter().cloned());
    if value_field.is_some() {
        projected.push("shellward_value".to_owned());
    }
    let _ = writeln!(
        out,
        "let shellward_signals = union {}\n| project {};",
        sets.join(", "),
        projected.join(", ")
    );
    let on = keys.join(", ");
    let (first, last) = if correlation.correlation_type == CorrelationType::TemporalOrdered {
        ordered(&mut out, correlation, members, &keys, span)?
    } else {
        let condition = condition(correlation, members.len())?;
        let _ = writeln!(
            out,
            "shellward_signals\n| join kind=inner (shellward_signals) on {on}\n\
             | where Timestamp1 between ((Timestamp - {span}s) .. Timestamp)\n\
             | summarize shellward_rules = make_set(shellward_rule1), shellward_events = count(){} by {on}, Timestamp\n\
             | where {condition}",
            if value_field.is_some() {
                ", shellward_values = dcount(shellward_value1)"
            } else {
                ""
            }
        );
        ("Timestamp".to_owned(), "Timestamp".to_owned())
    };
    let _ = write!(
        out,
        "| summarize FirstTime = min({first}), LastTime = max({last}), Firings = count() by {on}"
    );
    Ok(out)
}

/// The condition a window must hold, over `shellward_rules` (the members present),
/// `shellward_events` and `shellward_values`.
fn condition(correlation: &CorrelationRule, members: usize) -> Result<String, RenderError> {
    let predicates = match &correlation.condition {
        CorrelationCondition::Extended(expression) => return extended(expression),
        CorrelationCondition::Threshold { predicates, .. } => predicates,
    };
    let value = match correlation.correlation_type {
        CorrelationType::Temporal => "array_length(shellward_rules)",
        CorrelationType::EventCount => "shellward_events",
        CorrelationType::ValueCount => "shellward_values",
        other => return refuse(format!("{} correlations", other.as_str())),
    };
    // rsigma-parser fills a temporal rule's missing condition as `gte: 1`; Sigma's default is
    // every rule (see the Splunk rendering).
    let all = [(ConditionOperator::Gte, members as u64)];
    let predicates: &[(ConditionOperator, u64)] = match correlation.correlation_type {
        CorrelationType::Temporal if predicates.as_slice() == [(ConditionOperator::Gte, 1)] => &all,
        _ => predicates,
    };
    if predicates.is_empty() {
        return refuse("a correlation without a condition");
    }
    let tests: Vec<String> =
        predicates.iter().map(|(op, n)| format!("{value} {} {n}", operator(*op))).collect();
    Ok(tests.join(" and "))
}

/// An extended condition over member names: each name is "present in the window".
fn extended(expression: &ConditionExpr) -> Result<String, RenderError> {
    let join = |parts: &[ConditionExpr], word: &str| -> Result<String, RenderError> {
        let parts: Vec<String> = parts.iter().map(extended).collect::<Result<_, _>>()?;
        Ok(format!("({})", parts.join(word)))
    };
    match expression {
        ConditionExpr::And(parts) => join(parts, " and "),
        ConditionExpr::Or(parts) => join(parts, " or "),
        ConditionExpr::Not(inner) => Ok(format!("not({})", extended(inner)?)),
        ConditionExpr::Identifier(name) => {
            Ok(format!("set_has_element(shellward_rules, {})", literal(name)?))
        }
        ConditionExpr::Selector { .. } => {
            refuse("a quantified selector in a correlation condition")
        }
    }
}

/// `temporal_ordered`: a chain of joins in the rules' order; returns the first and last time
/// columns.
fn ordered(
    out: &mut String,
    correlation: &CorrelationRule,
    members: &[(&str, &CompiledRule)],
    keys: &[String],
    span: u64,
) -> Result<(String, String), RenderError> {
    if !super::every_rule_in_order(correlation, members.len()) {
        return refuse("temporal_ordered with a condition other than every rule in order");
    }
    let on = keys.join(", ");
    let step = |i: usize, reference: &str| -> Result<String, RenderError> {
        Ok(format!(
            "shellward_signals | where shellward_rule == {} | project shellward_t{i} = Timestamp, {on}",
            literal(reference)?
        ))
    };
    let _ = writeln!(out, "{}", step(0, members[0].0)?);
    for (i, (reference, _)) in members.iter().enumerate().skip(1) {
        let _ = writeln!(
            out,
            "| join kind=inner ({}) on {on}\n| where shellward_t{i} between (shellward_t{} .. (shellward_t0 + {span}s))",
            step(i, reference)?,
            i - 1
        );
    }
    Ok(("shellward_t0".to_owned(), format!("shellward_t{}", members.len() - 1)))
}
