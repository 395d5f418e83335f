//! The reference and fast evaluation of one detection item against a bound event.

use crate::compile::item::{Item, Matcher, Position, Test};
use crate::compile::pattern::fold;
use crate::evaluate::binding::{Folded, View};
use shellward_event::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

impl Item {
    /// Reference evaluation against an event.
    pub(crate) fn matches(&self, event: View<'_>) -> bool {
        self.eval(event, |matcher, value| matcher.matches(value, event))
    }

    /// Fast evaluation: like [`Item::matches`], reading the field's folded text from `folded`
    /// (where the rule set folded it for the candidate rules) for case-insensitive patterns.
    pub(crate) fn matches_folded(&self, event: View<'_>, folded: &Folded) -> bool {
        // A list (lineage's ancestors, positional data) matches if any element does: each
        // element is folded once for all the patterns, not once per pattern.
        if let (Some(field), Test::Values { values, all: false, neq: false }) =
            (&self.field, &self.test)
            && let Some(Value::List(elements)) = event.get(field)
        {
            let mut buffer = String::new();
            return elements.iter().any(|element| {
                buffer.clear();
                let text = crate::compile::pattern::fold_value_into(element, &mut buffer)
                    .then_some(&*buffer);
                values.iter().flatten().any(|m| m.matches_fast(Some(element), text, event))
            });
        }
        let text = self.field.as_ref().and_then(|field| folded.get(field.id));
        self.eval(event, |matcher, value| matcher.matches_fast(value, text, event))
    }

    /// The item's logic, with `hit` comparing one matcher with the field's value.
    fn eval(&self, event: View<'_>, hit: impl Fn(&Matcher, Option<&Value>) -> bool) -> bool {
        let Some(field) = &self.field else { return self.matches_keywords(event) };
        let value = event.get(field);
        match &self.test {
            Test::Exists(expected) => value.is_some() == *expected,
            Test::Values { values, all, neq } => {
                if *neq && value.is_none_or(Value::is_null) {
                    return false;
                }
                let group = |group: &Vec<Matcher>| group.iter().any(|m| hit(m, value));
                let matched =
                    if *all { values.iter().all(group) } else { values.iter().any(group) };
                matched != *neq
            }
        }
    }

    fn matches_keywords(&self, event: View<'_>) -> bool {
        let Test::Values { values, all, .. } = &self.test else { return false };
        let hit = |group: &Vec<Matcher>| {
            event
                .event
                .fields()
                .any(|(_, value)| group.iter().any(|m| m.matches(Some(value), event)))
        };
        if *all { values.iter().all(hit) } else { values.iter().any(hit) }
    }
}

impl Matcher {
    /// Like [`Matcher::matches`], using `folded` (the value's folded text, when it is a single text
    /// or number) for case-insensitive patterns and the original text for the rest.
    fn matches_fast(&self, value: Option<&Value>, folded: Option<&str>, event: View<'_>) -> bool {
        match (self, value, folded) {
            (Matcher::Glob(glob), Some(_), Some(folded)) if !glob.cased() => {
                glob.matches_folded(folded)
            }
            (Matcher::Glob(glob), Some(Value::Str(text)), _) => glob.matches(text),
            (Matcher::Regex(regex), Some(Value::Str(text)), _) => regex.is_match(text),
            _ => self.matches(value, event),
        }
    }

    fn matches(&self, value: Option<&Value>, event: View<'_>) -> bool {
        match (self, value) {
            (Matcher::Null, None | Some(Value::Null)) => true,
            (_, None | Some(Value::Null)) | (Matcher::Null, _) => false,
            (_, Some(Value::List(items))) => items.iter().any(|v| self.matches(Some(v), event)),
            (Matcher::Glob(glob), Some(v)) => glob.matches(&v.as_text()),
            (Matcher::Regex(regex), Some(v)) => regex.is_match(&v.as_text()),
            (Matcher::Cidr(cidr), Some(v)) => cidr.contains(&v.as_text()),
            (Matcher::Compare(ordering, equal, number), Some(v)) => number_of(v)
                .and_then(|n| n.partial_cmp(number))
                .is_some_and(|o| o == *ordering || (*equal && o == Ordering::Equal)),
            (Matcher::FieldRef { field, position, cased }, Some(v)) => {
                let Some(other) = event.get(field).filter(|o| !o.is_null()) else { return false };
                let (value, other) = (v.as_text(), other.as_text());
                let (value, other) = if *cased {
                    (value, other)
                } else {
                    (Cow::Owned(fold(&value).into_owned()), Cow::Owned(fold(&other).into_owned()))
                };
                let (value, other) = (value.as_ref(), other.as_ref());
                match position {
                    Position::Whole => value == other,
                    Position::Contains => value.contains(other),
                    Position::Start => value.starts_with(other),
                    Position::End => value.ends_with(other),
                }
            }
        }
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        Value::Bool(_) | Value::Null | Value::List(_) => None,
    }
}
