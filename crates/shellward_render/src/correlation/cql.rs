//! Sigma correlation rules as LogScale queries for Falcon events.
//!
//! `temporal` and `temporal_ordered` become `correlate()`, LogScale's function for exactly this:
//! one named query per clause of the condition, each constrained to the first by the group-by
//! fields (`<=>`), `within` the timespan, `sequence=true` for `temporal_ordered`. A condition is
//! taken as an AND of clauses, each an OR of member rules (`(a or b) and c`; no rule's absence can
//! be stated), and a clause of several rules is a `case` with a branch per rule. `correlate()`
//! needs every named query to match, so the default condition (every rule) is a clause per rule.
//! `event_count` and `value_count` count per group in `bucket()`s of the timespan: tumbling
//! windows, since LogScale has no sliding window per group; a comment at the top says that a burst
//! straddling two buckets can be missed. The group `host` is the Falcon agent id (`aid`).

use super::operator;
use crate::cql::{self, literal};
use crate::source::Field;
use crate::{RenderError, Target};
use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType,
    WindowMode,
};
use shellward_engine::CompiledRule;
use std::fmt::Write;

const TARGET: &str = "cql";

fn refuse<T>(what: impl Into<String>) -> Result<T, RenderError> {
    super::refuse(TARGET, what)
}

/// The field of a Sigma field in a member rule's events (`host`: the agent id).
fn column(rule: &CompiledRule, field: &str) -> Result<String, RenderError> {
    if field == "host" {
        return Ok("aid".to_owned());
    }
    match cql::source(rule.logsource())?.field(TARGET, field)? {
        Field::Name(name) => Ok(name),
        Field::DevicePath(name) => Ok(name.to_owned()),
        _ => refuse(format!("grouping by {field}, which LogScale computes per event family")),
    }
}

/// `correlation` as a LogScale query; `members` are its `rules`, each with the reference naming it.
pub fn cql(
    correlation: &CorrelationRule,
    members: &[(&str, &CompiledRule)],
) -> Result<String, RenderError> {
    if members.is_empty() {
        return refuse("a correlation without rules");
    }
    if correlation.window != WindowMode::Sliding {
        return refuse("a tumbling or session window");
    }
    // Each member as a pipeline ending in its name and group keys (`shellward_group<k>`).
    let mut pipelines = Vec::new();
    for (reference, rule) in members {
        let mut text = crate::render(rule, Target::Cql, "")?;
        let _ = write!(text, "\n| shellward_rule := {}", literal(reference)?);
        for (k, name) in correlation.group_by.iter().enumerate() {
            let field = super::member_field(correlation, reference, name);
            let _ = write!(text, "\n| shellward_group{k} := {}", column(rule, field)?);
        }
        if let Some(field) = value_field(correlation) {
            let _ = write!(text, "\n| shellward_value := {}", column(rule, field)?);
        }
        pipelines.push((*reference, text));
    }
    let span = correlation.timespan.seconds;
    match correlation.correlation_type {
        CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
            let ordered = correlation.correlation_type == CorrelationType::TemporalOrdered;
            let clauses = if ordered {
                if !super::every_rule_in_order(correlation, members.len()) {
                    return refuse(
                        "temporal_ordered with a condition other than every rule in order",
                    );
                }
                members.iter().map(|(r, _)| vec![*r]).collect()
            } else {
                clauses(correlation, members)?
            };
            correlate(correlation, &pipelines, &clauses, span, ordered)
        }
        CorrelationType::EventCount | CorrelationType::ValueCount => {
            counted(correlation, &pipelines, span)
        }
        other => refuse(format!("{} correlations", other.as_str())),
    }
}

/// The field a `value_count` counts.
fn value_field(correlation: &CorrelationRule) -> Option<&String> {
    match (&correlation.correlation_type, &correlation.condition) {
        (CorrelationType::ValueCount, CorrelationCondition::Threshold { field, .. }) => {
            field.as_ref().and_then(|f| f.first())
        }
        _ => None,
    }
}

/// The condition as clauses that must all hold, each a list of rules one of which must match.
fn clauses<'m>(
    correlation: &CorrelationRule,
    members: &[(&'m str, &CompiledRule)],
) -> Result<Vec<Vec<&'m str>>, RenderError> {
    let name = |n: &str| -> Result<&'m str, RenderError> {
        members
            .iter()
            .map(|(r, _)| *r)
            .find(|r| *r == n)
            .ok_or_else(|| RenderError::unsupported(TARGET, format!("the unknown rule {n}")))
    };
    let every: Vec<Vec<&str>> = members.iter().map(|(r, _)| vec![*r]).collect();
    let expression = match &correlation.condition {
        CorrelationCondition::Threshold { predicates, .. } => {
            let all = [(ConditionOperator::Gte, members.len() as u64)];
            let gte_one = [(ConditionOperator::Gte, 1)];
            if predicates.is_empty()
                || predicates.as_slice() == all
                || predicates.as_slice() == gte_one
            {
                return Ok(every);
            }
            return refuse(
                "a temporal condition other than every rule (correlate() needs each query)",
            );
        }
        CorrelationCondition::Extended(expression) => expression,
    };
    let alternatives = |expression: &ConditionExpr| -> Result<Vec<&'m str>, RenderError> {
        match expression {
            ConditionExpr::Identifier(n) => Ok(vec![name(n)?]),
            ConditionExpr::Or(parts) => parts
                .iter()
                .map(|part| match part {
                    ConditionExpr::Identifier(n) => name(n),
                    _ => refuse("a condition that is not an AND of ORs of rules"),
                })
                .collect(),
            _ => refuse("a condition that is not an AND of ORs of rules"),
        }
    };
    match expression {
        ConditionExpr::And(parts) => parts.iter().map(alternatives).collect(),
        other => Ok(vec![alternatives(other)?]),
    }
}

/// The pipelines of `rules` as one: the only one, or a `case` with a branch each.
fn union(pipelines: &[(&str, String)], rules: &[&str], indent: &str) -> String {
    let chosen: Vec<&String> =
        pipelines.iter().filter(|(r, _)| rules.contains(r)).map(|(_, text)| text).collect();
    let inner = format!("{indent}    ");
    match chosen.as_slice() {
        [one] => one.replace('\n', &format!("\n{indent}")),
        _ => {
            let branches: Vec<String> = chosen
                .iter()
                .map(|text| format!("{inner}{}", text.replace('\n', &format!("\n{inner}"))))
                .collect();
            format!("case {{\n{};\n{indent}}}", branches.join(";\n"))
        }
    }
}

/// `correlate()` over `clauses`, the group keys of every clause equal to the first's.
fn correlate(
    correlation: &CorrelationRule,
    pipelines: &[(&str, String)],
    clauses: &[Vec<&str>],
    span: u64,
    ordered: bool,
) -> Result<String, RenderError> {
    let mut out = String::from("correlate(\n");
    for (i, rules) in clauses.iter().enumerate() {
        let mut query = union(pipelines, rules, "    ");
        for k in 0..correlation.group_by.len() {
            if i > 0 {
                let _ =
                    write!(query, "\n    | shellward_group{k} <=> shellward_q0.shellward_group{k}");
            }
        }
        let _ = writeln!(out, "  shellward_q{i}: {{\n    {query}\n  }} include: [*],");
    }
    let _ = write!(out, "  within={span}s,\n  sequence={ordered}\n)");
    Ok(out)
}

/// `event_count` / `value_count`: each group counted per bucket of the timespan.
fn counted(
    correlation: &CorrelationRule,
    pipelines: &[(&str, String)],
    span: u64,
) -> Result<String, RenderError> {
    let CorrelationCondition::Threshold { predicates, .. } = &correlation.condition else {
        return refuse("an extended condition on a count");
    };
    if predicates.is_empty() {
        return refuse("a correlation without a condition");
    }
    let function = match (correlation.correlation_type, value_field(correlation)) {
        (CorrelationType::ValueCount, Some(_)) => {
            "count(shellward_value, distinct=true, as=shellward_count)"
        }
        (CorrelationType::ValueCount, None) => {
            return refuse("value_count without a condition field");
        }
        _ => "count(as=shellward_count)",
    };
    let rules: Vec<&str> = pipelines.iter().map(|(r, _)| *r).collect();
    let mut out = Target::Cql.comment_line(&format!(
        "tumbling buckets of {span}s (LogScale has no sliding window per group): a burst straddling two buckets can be missed"
    ));
    out.push_str(&union(pipelines, &rules, ""));
    let groups: Vec<String> =
        (0..correlation.group_by.len()).map(|k| format!("shellward_group{k}")).collect();
    let field =
        if groups.is_empty() { String::new() } else { format!("field=[{}], ", groups.join(", ")) };
    let _ = write!(out, "\n| bucket(span={span}s, {field}function={function})");
    for (op, n) in predicates {
        let _ = write!(out, "\n| test(shellward_count {} {n})", operator(*op));
    }
    Ok(out)
}
