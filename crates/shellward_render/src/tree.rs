//! The boolean structure every text target shares: a [`Dialect`] prints the leaves and the
//! connectives, [`print`] walks the query.
//!
//! Alternatives on one field reach the dialect together ([`Dialect::values`]), so a target can
//! print a value list as one `in~ (...)` or one alternation rather than a chain of `or`s.

use crate::RenderError;
use shellward_engine::{Query, ValueTest};
use std::cmp::Ordering;

/// How one query language writes the parts of a query.
pub(crate) trait Dialect {
    /// The conjunction between parts (` and `).
    const AND: &'static str;
    /// The disjunction between parts (` or `).
    const OR: &'static str;
    /// The negation before a part (`not `).
    const NOT: &'static str;

    /// Every part holds (two or more parts).
    fn all(&self, parts: Vec<String>) -> String {
        joined(parts, Self::AND)
    }
    /// Some part holds (two or more parts).
    fn any(&self, parts: Vec<String>) -> String {
        joined(parts, Self::OR)
    }
    /// The part does not hold.
    fn not(&self, inner: String) -> String {
        format!("{}{inner}", Self::NOT)
    }
    /// Always (`true`) or never (`false`).
    fn constant(&mut self, value: bool) -> Result<String, RenderError>;
    /// At least `n` of `parts` hold.
    fn at_least(&mut self, n: usize, parts: Vec<String>) -> Result<String, RenderError>;
    /// The field holds a value (`present`), or holds none.
    fn exists(&mut self, field: &str, present: bool) -> Result<String, RenderError>;
    /// Alternatives on one field (every field when `None`), each printed; any may hold.
    fn values(
        &mut self,
        field: Option<&str>,
        tests: &[&ValueTest],
    ) -> Result<Vec<String>, RenderError>;
}

/// A comparison operator: `>`, `>=`, `<`, `<=`, or the language's `equal`.
pub(crate) fn comparison(ordering: Ordering, or_equal: bool, equal: &'static str) -> &'static str {
    match (ordering, or_equal) {
        (Ordering::Greater, false) => ">",
        (Ordering::Greater, true) => ">=",
        (Ordering::Less, false) => "<",
        (Ordering::Less, true) => "<=",
        (Ordering::Equal, _) => equal,
    }
}

/// A number literal for `target`; an infinite or NaN one is refused.
pub(crate) fn number(value: f64, target: &'static str) -> Result<String, RenderError> {
    if value.is_finite() {
        Ok(format!("{value}"))
    } else {
        Err(RenderError::unsupported(target, format!("the number {value}")))
    }
}

/// `parts` joined by `separator` in parentheses (a single part as it is).
pub(crate) fn joined(mut parts: Vec<String>, separator: &str) -> String {
    if parts.len() == 1 {
        return parts.remove(0);
    }
    format!("({})", parts.join(separator))
}

/// The query in `dialect`.
pub(crate) fn print(dialect: &mut impl Dialect, query: &Query) -> Result<String, RenderError> {
    Ok(match query {
        Query::All(parts) => {
            let mut printed = Vec::with_capacity(parts.len());
            for part in parts {
                printed.push(print(dialect, part)?);
            }
            match printed.len() {
                0 => dialect.constant(true)?,
                1 => printed.remove(0),
                _ => dialect.all(printed),
            }
        }
        Query::Any(parts) => {
            let mut leaves = Vec::new();
            flatten(parts, &mut leaves);
            let mut by_field: Vec<(Option<&str>, Vec<&ValueTest>)> = Vec::new();
            let mut printed = Vec::new();
            for leaf in &leaves {
                if let Query::Value { field, test } = leaf {
                    match by_field.iter_mut().find(|(f, _)| *f == field.as_deref()) {
                        // A value listed twice (`%SystemRoot%` and `%systemroot%` fold to one) is
                        // printed once.
                        Some((_, tests)) if tests.contains(&test) => {}
                        Some((_, tests)) => tests.push(test),
                        None => by_field.push((field.as_deref(), vec![test])),
                    }
                }
            }
            for (field, tests) in by_field {
                printed.extend(dialect.values(field, &tests)?);
            }
            for leaf in leaves {
                if !matches!(leaf, Query::Value { .. }) {
                    printed.push(print(dialect, leaf)?);
                }
            }
            match printed.len() {
                0 => dialect.constant(false)?,
                1 => printed.remove(0),
                _ => dialect.any(printed),
            }
        }
        Query::Not(inner) => {
            let inner = print(dialect, inner)?;
            dialect.not(inner)
        }
        Query::AtLeast(n, parts) => {
            let mut printed = Vec::with_capacity(parts.len());
            for part in parts {
                printed.push(print(dialect, part)?);
            }
            dialect.at_least(*n, printed)?
        }
        Query::Exists(field) | Query::Present(field) => dialect.exists(field, true)?,
        Query::Null(field) => dialect.exists(field, false)?,
        Query::Value { field, test } => {
            let mut printed = dialect.values(field.as_deref(), &[test])?;
            match printed.len() {
                0 => dialect.constant(false)?,
                1 => printed.remove(0),
                _ => dialect.any(printed),
            }
        }
    })
}

/// The alternatives of `parts`, nested `Any`s opened.
fn flatten<'q>(parts: &'q [Query], out: &mut Vec<&'q Query>) {
    for part in parts {
        match part {
            Query::Any(inner) => flatten(inner, out),
            other => out.push(other),
        }
    }
}
