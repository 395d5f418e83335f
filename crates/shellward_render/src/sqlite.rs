//! SQLite over a table of normalized events: the target that proves the lowering.
//!
//! The schema ([`SCHEMA`]): `events(id, product, category, service)` and one `fields` row per
//! field value (`event`, `name`, `value` as text or NULL, `num`: the value as a number where it is
//! one); a list gives one row per element. A rule becomes `SELECT e.id FROM events e WHERE
//! <log source> AND <condition>`, each field test an `EXISTS` over the event's rows:
//!
//! - wildcards: `LIKE ... ESCAPE '\'` (case-insensitive for ASCII, as SQLite's LIKE is), or `GLOB`
//!   for `|cased` patterns;
//! - `|re`: `REGEXP`, which SQLite leaves to a user function (the caller registers one with the
//!   `regex` crate's syntax, the rules' own);
//! - `|gt`/`|lt`...: the `num` column; `|fieldref`: a second row of the same event;
//! - `|cidr` is refused (SQLite has no network type).

use crate::RenderError;
use shellward_engine::{CompiledRule, GlobUnit, Query, RefPosition, ValueTest};
use std::fmt::Write;

const TARGET: &str = "sqlite";

/// The tables the SQL reads.
pub const SCHEMA: &str =
    "CREATE TABLE events (id INTEGER PRIMARY KEY, product TEXT, category TEXT, service TEXT);
CREATE TABLE fields (event INTEGER NOT NULL, name TEXT NOT NULL, value TEXT, num REAL);
CREATE INDEX fields_by_event ON fields (event, name);";

/// The registry categories Sigma's `registry_event` stands for.
const REGISTRY_CATEGORIES: [&str; 5] =
    ["registry_event", "registry_add", "registry_delete", "registry_set", "registry_rename"];

/// The SQL selecting the ids of the events `rule` matches.
pub fn render(rule: &CompiledRule) -> Result<String, RenderError> {
    let mut sql = String::from("SELECT e.id FROM events e WHERE ");
    let logsource = rule.logsource();
    for (column, value) in [
        ("product", &logsource.product),
        ("service", &logsource.service),
        ("category", &logsource.category),
    ] {
        let Some(value) = value else { continue };
        if column == "category" && value == "registry_event" {
            let list: Vec<String> =
                REGISTRY_CATEGORIES.iter().map(|c| literal(c)).collect::<Result<_, _>>()?;
            let _ = write!(sql, "lower(e.category) IN ({}) AND ", list.join(", "));
        } else {
            // The rule's log source is lower-cased already.
            let _ = write!(sql, "lower(e.{column}) = {} AND ", literal(value)?);
        }
    }
    query(&rule.lower(), &mut sql)?;
    Ok(sql)
}

/// Prints a query as an SQL boolean expression.
fn query(q: &Query, out: &mut String) -> Result<(), RenderError> {
    match q {
        Query::All(parts) => join(parts, " AND ", "1", out)?,
        Query::Any(parts) => any(parts, out)?,
        Query::Not(inner) => {
            out.push_str("NOT (");
            query(inner, out)?;
            out.push(')');
        }
        Query::AtLeast(n, parts) => {
            out.push('(');
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(" + ");
                }
                out.push('(');
                query(part, out)?;
                out.push(')');
            }
            let _ = write!(out, ") >= {n}");
        }
        Query::Exists(field) => rows(Some(field), "1", out)?,
        Query::Present(field) => rows(Some(field), "f.value IS NOT NULL", out)?,
        Query::Null(field) => {
            out.push_str("NOT ");
            rows(Some(field), "f.value IS NOT NULL", out)?;
        }
        Query::Value { field, test } => {
            let condition = format!("f.value IS NOT NULL AND {}", value_test(test)?);
            rows(field.as_deref(), &condition, out)?;
        }
    }
    Ok(())
}

/// Alternatives; the value tests of one field share one `EXISTS` (`IN`-list style), so a rule's
/// list of values costs one scan of the event's rows, not one per value.
fn any(parts: &[Query], out: &mut String) -> Result<(), RenderError> {
    let mut merged: Vec<Query> = Vec::new();
    let mut by_field: Vec<(Option<&str>, Vec<&ValueTest>)> = Vec::new();
    let mut leaves = Vec::new();
    flatten(parts, &mut leaves);
    for part in leaves {
        match part {
            Query::Value { field, test } => {
                match by_field.iter_mut().find(|(f, _)| *f == field.as_deref()) {
                    Some((_, tests)) => tests.push(test),
                    None => by_field.push((field.as_deref(), vec![test])),
                }
            }
            other => merged.push(other.clone()),
        }
    }
    let mut texts: Vec<String> = Vec::new();
    for (field, tests) in by_field {
        let conditions: Vec<String> =
            tests.into_iter().map(value_test).collect::<Result<_, _>>()?;
        let mut text = String::new();
        let condition = format!("f.value IS NOT NULL AND {}", balanced(&conditions, " OR "));
        rows(field, &condition, &mut text)?;
        texts.push(text);
    }
    for part in &merged {
        texts.push(printed(part)?);
    }
    if texts.is_empty() {
        out.push('0');
    } else {
        out.push_str(&balanced(&texts, " OR "));
    }
    Ok(())
}

/// The alternatives of `parts`, nested `Any`s opened (a rule's value list lowers to one `Any` per
/// value).
fn flatten<'q>(parts: &'q [Query], out: &mut Vec<&'q Query>) {
    for part in parts {
        match part {
            Query::Any(inner) => flatten(inner, out),
            other => out.push(other),
        }
    }
}

/// Printed expressions joined by `separator`, parenthesized as a balanced tree: SQLite parses a
/// flat chain as a tree as deep as it is long and refuses depths over 1000 (SigmaHQ's hash lists
/// are longer).
fn balanced(parts: &[String], separator: &str) -> String {
    const FLAT: usize = 16;
    if parts.len() <= FLAT {
        return format!("({})", parts.join(separator));
    }
    let chunk = parts.len().div_ceil(FLAT).max(FLAT);
    let groups: Vec<String> = parts.chunks(chunk).map(|g| balanced(g, separator)).collect();
    format!("({})", groups.join(separator))
}

/// Parts joined by `separator` ([`balanced`]); `empty` when there are none.
fn join(
    parts: &[Query],
    separator: &str,
    empty: &str,
    out: &mut String,
) -> Result<(), RenderError> {
    if parts.is_empty() {
        out.push_str(empty);
        return Ok(());
    }
    let printed = parts.iter().map(printed).collect::<Result<Vec<_>, _>>()?;
    out.push_str(&balanced(&printed, separator));
    Ok(())
}

/// A query printed on its own.
fn printed(q: &Query) -> Result<String, RenderError> {
    let mut text = String::new();
    query(q, &mut text)?;
    Ok(text)
}

/// `EXISTS` over the event's rows of `field` (of any field when `None`) meeting `condition`.
fn rows(field: Option<&str>, condition: &str, out: &mut String) -> Result<(), RenderError> {
    out.push_str("EXISTS (SELECT 1 FROM fields f WHERE f.event = e.id");
    if let Some(field) = field {
        let _ = write!(out, " AND f.name = {}", literal(field)?);
    }
    let _ = write!(out, " AND {condition})");
    Ok(())
}

/// A test of `f.value`.
fn value_test(test: &ValueTest) -> Result<String, RenderError> {
    Ok(match test {
        ValueTest::Glob { units, cased: false } => {
            format!("f.value LIKE {} ESCAPE '\\'", literal(&like_pattern(units))?)
        }
        ValueTest::Glob { units, cased: true } => {
            format!("f.value GLOB {}", literal(&glob_pattern(units))?)
        }
        ValueTest::Regex(pattern) => format!("f.value REGEXP {}", literal(pattern)?),
        ValueTest::Cidr(network) => {
            return Err(RenderError::unsupported(
                TARGET,
                format!("the network test cidr {network}"),
            ));
        }
        ValueTest::Compare { ordering, or_equal, value } => {
            // Written as a REAL literal (`400.0`), the type of the `num` column.
            let number = crate::tree::number(*value, TARGET).map(|_| format!("{value:?}"))?;
            let op = crate::tree::comparison(*ordering, *or_equal, "=");
            format!("f.num IS NOT NULL AND f.num {op} {number}")
        }
        ValueTest::FieldRef { other, position, cased } => {
            let (a, b) = if *cased {
                ("f.value".to_owned(), "g.value".to_owned())
            } else {
                ("lower(f.value)".to_owned(), "lower(g.value)".to_owned())
            };
            let compare = match position {
                RefPosition::Whole => format!("{a} = {b}"),
                RefPosition::Contains => format!("instr({a}, {b}) > 0"),
                RefPosition::Start => format!("substr({a}, 1, length({b})) = {b}"),
                RefPosition::End => {
                    format!("(length({b}) = 0 OR substr({a}, -length({b})) = {b})")
                }
            };
            format!(
                "EXISTS (SELECT 1 FROM fields g WHERE g.event = f.event AND g.name = {} AND g.value IS NOT NULL AND {compare})",
                literal(other)?
            )
        }
    })
}

/// A LIKE pattern with `\` as the escape character.
fn like_pattern(units: &[GlobUnit]) -> String {
    wildcard_pattern(units, ('%', '_'), |c, pattern| {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    })
}

/// A GLOB pattern (case-sensitive; specials made literal with brackets).
fn glob_pattern(units: &[GlobUnit]) -> String {
    wildcard_pattern(units, ('*', '?'), |c, pattern| {
        if matches!(c, '*' | '?' | '[') {
            pattern.push('[');
            pattern.push(c);
            pattern.push(']');
        } else {
            pattern.push(c);
        }
    })
}

/// A pattern in a language whose wildcards are `(any run, one character)`, literal characters
/// written by `literal`.
fn wildcard_pattern(
    units: &[GlobUnit],
    (any, one): (char, char),
    literal: impl Fn(char, &mut String),
) -> String {
    let mut pattern = String::new();
    for unit in units {
        match unit {
            GlobUnit::AnyChars => pattern.push(any),
            GlobUnit::OneChar => pattern.push(one),
            GlobUnit::Text(text) => text.chars().for_each(|c| literal(c, &mut pattern)),
        }
    }
    pattern
}

/// A string literal: quotes doubled; NUL, which an SQL text cannot hold, refused.
fn literal(text: &str) -> Result<String, RenderError> {
    if text.contains('\0') {
        return Err(RenderError::unsupported(TARGET, "a value holding a NUL character"));
    }
    Ok(format!("'{}'", text.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_values() {
        assert_eq!(literal("a'; DROP TABLE events; --").unwrap(), "'a''; DROP TABLE events; --'");
        assert!(literal("a\0b").is_err());
        let units = [GlobUnit::AnyChars, GlobUnit::Text("50%_off\\x".into()), GlobUnit::OneChar];
        assert_eq!(like_pattern(&units), "%50\\%\\_off\\\\x_");
        let units = [GlobUnit::Text("a*b?[c]".into()), GlobUnit::AnyChars];
        assert_eq!(glob_pattern(&units), "a[*]b[?][[]c]*");
    }
}
