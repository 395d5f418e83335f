//! Field values.

use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::borrow::Cow;
use std::fmt;

/// The value of one event field.
///
/// Sources carry typed values (the EVTX binary XML has integers and booleans, JSON has numbers), and
/// the type is kept so that printing an event shows what the source said. Rules compare values as text
/// (Sigma treats `443` in a rule and `"443"` in an event as equal); [`Value::as_text`] gives that form.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An explicit null (an empty element in EVTX, `null` in JSON).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 signed bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// Text.
    Str(String),
    /// A positional list, such as the unnamed `<Data>` elements of classic Windows providers (MSSQL,
    /// MSExchange CmdletLogs). A rule matches a list if it matches any element.
    List(Vec<Value>),
}

impl Value {
    /// The text if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer, parsing decimal or `0x` hexadecimal text.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Value::Str(s) => parse_int(s),
            _ => None,
        }
    }

    /// The text form rules compare against: strings as they are, numbers in decimal, booleans as
    /// `true`/`false`, null as the empty string, lists as their elements joined by newlines.
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Null => Cow::Borrowed(""),
            Value::Bool(true) => Cow::Borrowed("true"),
            Value::Bool(false) => Cow::Borrowed("false"),
            Value::Int(i) => Cow::Owned(i.to_string()),
            Value::Float(f) => Cow::Owned(f.to_string()),
            Value::List(items) => {
                Cow::Owned(items.iter().map(|v| v.as_text()).collect::<Vec<_>>().join("\n"))
            }
        }
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Parses `123`, `-5` or `0x1f` (any case) as an integer.
fn parse_int(text: &str) -> Option<i64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|v| v as i64),
        None => text.parse().ok(),
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        assert_eq!(Value::Int(443).as_text(), "443");
        assert_eq!(Value::Bool(true).as_text(), "true");
        assert_eq!(Value::Null.as_text(), "");
        let list = Value::List(vec!["xp_cmdshell".into(), Value::Int(0), "1".into()]);
        assert_eq!(list.as_text(), "xp_cmdshell\n0\n1");
    }

    #[test]
    fn integers_from_text() {
        assert_eq!(Value::from("0xAE8").as_i64(), Some(0xae8));
        assert_eq!(Value::from(" 42 ").as_i64(), Some(42));
        assert_eq!(Value::from("x42").as_i64(), None);
        assert_eq!(Value::Float(3.0).as_i64(), Some(3));
    }
}
