//! What a wildcard pattern asks for, and the same pattern as a regular expression.
//!
//! Targets with `contains`/`startswith`/`endswith` operators print the common shapes with them;
//! every other pattern becomes an anchored regular expression whose literal text is escaped, so a
//! value's metacharacters stay literal.

use shellward_engine::GlobUnit;

/// The shape of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No wildcard: the whole value.
    Exact(String),
    /// `*text*`.
    Contains(String),
    /// `text*`.
    StartsWith(String),
    /// `*text`.
    EndsWith(String),
    /// `*` (or `**`...): any value at all.
    Anything,
    /// Anything else (`?`, or text between wildcards).
    Other,
}

/// The pattern with adjacent text joined and runs of `*` collapsed.
pub(crate) fn normalized(units: &[GlobUnit]) -> Vec<GlobUnit> {
    let mut out: Vec<GlobUnit> = Vec::new();
    for unit in units {
        match (out.last_mut(), unit) {
            (Some(GlobUnit::Text(last)), GlobUnit::Text(text)) => last.push_str(text),
            (Some(GlobUnit::AnyChars), GlobUnit::AnyChars) => {}
            (_, GlobUnit::Text(text)) if text.is_empty() => {}
            (_, unit) => out.push(unit.clone()),
        }
    }
    out
}

/// The shape of `units`.
pub(crate) fn shape(units: &[GlobUnit]) -> Shape {
    use GlobUnit::{AnyChars, Text};
    match normalized(units).as_slice() {
        [] => Shape::Exact(String::new()),
        [Text(t)] => Shape::Exact(t.clone()),
        [AnyChars] => Shape::Anything,
        [AnyChars, Text(t), AnyChars] => Shape::Contains(t.clone()),
        [Text(t), AnyChars] => Shape::StartsWith(t.clone()),
        [AnyChars, Text(t)] => Shape::EndsWith(t.clone()),
        _ => Shape::Other,
    }
}

/// The pattern as a regular expression matching the whole value (`^...$`; leading and trailing
/// `*` leave the anchor out), literal text escaped for RE2, PCRE and Java alike. `extra` lists
/// further characters to escape (a target's delimiter, such as `/`).
pub(crate) fn regex(units: &[GlobUnit], extra: &[char]) -> String {
    let units = normalized(units);
    let mut out = String::new();
    let last = units.len().saturating_sub(1);
    for (i, unit) in units.iter().enumerate() {
        match unit {
            GlobUnit::AnyChars if i == 0 || i == last => {}
            GlobUnit::AnyChars => out.push_str(".*"),
            GlobUnit::OneChar => out.push('.'),
            GlobUnit::Text(text) => out.push_str(&escape(text, extra)),
        }
        if i == 0 && !matches!(unit, GlobUnit::AnyChars) {
            out.insert(0, '^');
        }
    }
    if units.is_empty() {
        return "^$".to_owned();
    }
    if !matches!(units.last(), Some(GlobUnit::AnyChars)) {
        out.push('$');
    }
    // `.` and `.*` must cross line breaks, as the engine's wildcards do.
    if out.contains(".*") || units.contains(&GlobUnit::OneChar) {
        out.insert_str(0, "(?s)");
    }
    out
}

/// Regular expressions (from [`regex`]) as one alternation, a shared `(?s)` flag hoisted to
/// the front.
pub(crate) fn alternation(list: &[String]) -> String {
    if let [one] = list {
        return one.clone();
    }
    let dotall = list.iter().any(|r| r.starts_with("(?s)"));
    let bodies: Vec<&str> = list.iter().map(|r| r.strip_prefix("(?s)").unwrap_or(r)).collect();
    format!("{}(?:{})", if dotall { "(?s)" } else { "" }, bodies.join("|"))
}

/// Literal text as a regular expression: metacharacters and `extra` escaped with `\`, control
/// characters written as `\x{..}`.
pub(crate) fn escape(text: &str, extra: &[char]) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) || extra.contains(&c) {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push_str(&format!("\\x{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use GlobUnit::{AnyChars, OneChar, Text};

    fn text(s: &str) -> GlobUnit {
        Text(s.to_owned())
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(&[text("a")]), Shape::Exact("a".into()));
        assert_eq!(shape(&[AnyChars, text("a"), AnyChars]), Shape::Contains("a".into()));
        assert_eq!(
            shape(&[text("a"), text("b"), AnyChars, AnyChars]),
            Shape::StartsWith("ab".into())
        );
        assert_eq!(shape(&[AnyChars, text("\\cmd.exe")]), Shape::EndsWith("\\cmd.exe".into()));
        assert_eq!(shape(&[AnyChars, AnyChars]), Shape::Anything);
        assert_eq!(shape(&[text("a"), OneChar]), Shape::Other);
        assert_eq!(shape(&[text("a"), AnyChars, text("b")]), Shape::Other);
    }

    #[test]
    fn regexes_keep_text_literal() {
        assert_eq!(regex(&[AnyChars, text("\\cmd.exe")], &[]), "\\\\cmd\\.exe$");
        assert_eq!(regex(&[text("a"), AnyChars, text("b")], &[]), "(?s)^a.*b$");
        assert_eq!(regex(&[text("a/b"), OneChar], &['/']), "(?s)^a\\/b.$");
        assert_eq!(regex(&[text("(x)|[y]")], &[]), "^\\(x\\)\\|\\[y\\]$");
        assert_eq!(regex(&[text("a\nb")], &[]), "^a\\x{a}b$");
        assert_eq!(regex(&[], &[]), "^$");
    }
}
