//! Sigma correlation rules as Splunk searches.
//!
//! The member rules' events are selected as in a combined search (their terms OR-ed as a
//! prefilter, then `eval shellward_rule=case(...)` with each member's exact condition), aliases
//! become `eval` fields, and the window is `streamstats time_window=...`: a sliding window ending
//! at each event, per group-by value, which is what Sigma's `timespan` means (pySigma's Splunk
//! backend uses `bin _time`, fixed buckets that miss events straddling a boundary). A `tumbling`
//! window is `bin _time` on purpose. The search reports each event at which the condition holds.
//!
//! A `temporal` rule's extended condition (`(a or b) and c`) is tested on the member names the
//! window holds (`values(shellward_rule)`, `mvfind`). A member whose events Splunk's Windows
//! event logs do not hold (a Linux or web log source) is left out and counts as absent, which a
//! comment at the top says; a condition that then cannot hold is refused. `temporal_ordered` chains
//! `streamstats` steps, each carrying the start of the chains completed so far (see [`ordered`]).
//! Refused here: `session` windows.

use crate::{RenderError, spl};
use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType,
    WindowMode,
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
    let (predicates, field, expression) = match &correlation.condition {
        CorrelationCondition::Threshold { predicates, field, .. } => {
            (predicates.as_slice(), field, None)
        }
        CorrelationCondition::Extended(expression) => (&[][..], &None, Some(expression)),
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
        CorrelationType::Temporal if expression.is_some() => {
            ("values(shellward_rule) AS shellward_rules".to_owned(), "shellward_rules")
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
            if correlation.window != WindowMode::Sliding {
                return refuse("temporal_ordered over a tumbling or session window");
            }
            if !super::every_rule_in_order(correlation, members.len()) {
                return refuse("temporal_ordered with a condition other than every rule in order");
            }
            (String::new(), "")
        }
    };
    let mut terms = Vec::new();
    let mut cases = Vec::new();
    let mut absent = Vec::new();
    for (reference, rule) in members {
        match spl::selection(rule) {
            Ok((search, condition)) => {
                terms.push(search);
                cases.push(format!("{condition}, {}", spl::literal(reference)?));
            }
            // Events Splunk's Windows event logs do not hold: the member counts as absent.
            Err(error) if error.to_string().contains("the log source") => absent.push(*reference),
            Err(error) => return Err(error),
        }
    }
    if terms.is_empty() {
        return refuse("a correlation none of whose rules has a Splunk source");
    }
    let mut out = String::new();
    if !absent.is_empty() {
        out.push_str(&crate::Target::Spl.comment_line(&format!(
            "left out (no Splunk source; counted as absent): {}",
            absent.join(", ")
        )));
    }
    let _ =
        writeln!(out, "{} ({}){}", spl::INDEX, terms.join(" OR "), spl::stages(&cases.join(" ")));
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
    if correlation.correlation_type == CorrelationType::TemporalOrdered {
        if !absent.is_empty() {
            return refuse("a temporal_ordered correlation needing rules Splunk has no source for");
        }
        ordered(&mut out, members, window, &by)?;
        return Ok(out);
    }
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
    if let Some(expression) = expression {
        let condition = extended(expression, &absent)?;
        if condition == FALSE {
            return refuse("this condition without the rules Splunk has no source for");
        }
        let _ = write!(out, "| where {condition}");
        return Ok(out);
    }
    let all_rules = [(ConditionOperator::Gte, members.len() as u64)];
    let predicates: &[(ConditionOperator, u64)] = match correlation.correlation_type {
        CorrelationType::Temporal if predicates == [(ConditionOperator::Gte, 1)] => &all_rules,
        _ => predicates,
    };
    if correlation.correlation_type == CorrelationType::Temporal
        && predicates == all_rules
        && !absent.is_empty()
    {
        return refuse("a temporal correlation needing rules Splunk has no source for");
    }
    let tests: Vec<String> =
        predicates.iter().map(|(op, n)| format!("{value}{}{n}", super::operator(*op))).collect();
    if tests.is_empty() {
        return refuse("a correlation without a condition");
    }
    let _ = write!(out, "| where {}", tests.join(" AND "));
    Ok(out)
}

/// `temporal_ordered`: each member's event completes a chain step when an event completing the
/// step before (its chain's start time in `shellward_c<i-1>`) lies in the window before it and that
/// chain started no more than the timespan ago; the latest start is the best, so a `max` over the
/// sliding window carries it. The search reports each event completing the last step.
fn ordered(
    out: &mut String,
    members: &[(&str, &CompiledRule)],
    window: u64,
    by: &str,
) -> Result<(), RenderError> {
    out.push_str("| sort 0 _time\n");
    let _ = writeln!(
        out,
        "| eval shellward_c0=if(shellward_rule=={}, _time, null())",
        spl::literal(members[0].0)?
    );
    for (i, (reference, _)) in members.iter().enumerate().skip(1) {
        let _ = writeln!(
            out,
            "| streamstats time_window={window}s max(shellward_c{}) AS shellward_p{i}{by}\n\
             | eval shellward_c{i}=if(shellward_rule=={} AND shellward_p{i}>=_time-{window}, shellward_p{i}, null())",
            i - 1,
            spl::literal(reference)?
        );
    }
    let _ = write!(out, "| where isnotnull(shellward_c{})", members.len() - 1);
    Ok(())
}

/// A condition that never holds.
const FALSE: &str = "1==0";

/// An extended condition over the member names a window holds (`shellward_rules`); `absent`
/// members never hold.
fn extended(expression: &ConditionExpr, absent: &[&str]) -> Result<String, RenderError> {
    let join = |parts: &[ConditionExpr], word: &str| -> Result<String, RenderError> {
        let parts: Vec<String> =
            parts.iter().map(|p| extended(p, absent)).collect::<Result<_, _>>()?;
        // Absent alternatives drop out of an OR; one makes an AND false.
        let kept: Vec<&String> =
            parts.iter().filter(|p| !(word == " OR " && *p == FALSE)).collect();
        if word == " AND " && parts.iter().any(|p| p == FALSE) || kept.is_empty() {
            return Ok(FALSE.to_owned());
        }
        Ok(format!("({})", kept.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(word)))
    };
    match expression {
        ConditionExpr::And(parts) => join(parts, " AND "),
        ConditionExpr::Or(parts) => join(parts, " OR "),
        ConditionExpr::Not(inner) => match extended(inner, absent)? {
            inner if inner == FALSE => Ok("1==1".to_owned()),
            inner => Ok(format!("NOT {inner}")),
        },
        ConditionExpr::Identifier(name) if absent.contains(&name.as_str()) => Ok(FALSE.to_owned()),
        ConditionExpr::Identifier(name) => Ok(format!(
            "isnotnull(mvfind(shellward_rules, {}))",
            spl::literal(&format!("^{}$", regex_escape(name)))?
        )),
        ConditionExpr::Selector { .. } => Err(RenderError::unsupported(
            TARGET,
            "a quantified selector in a correlation condition".to_owned(),
        )),
    }
}

/// `text` with regular expression metacharacters escaped.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
