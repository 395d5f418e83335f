//! A compiled rule lowered to a small boolean query form ([`Query`]) that every SIEM target prints.
//!
//! The lowering starts from the compiled rule, not the YAML, so a rendering means exactly what the
//! engine evaluates: modifiers are already applied (`windash` and `base64offset` expanded into
//! their alternatives, `startswith`/`endswith`/`contains` turned into globs, regex flags inline,
//! filters joined to the condition). A target only prints the form, or says which part it cannot
//! express; nothing is dropped on the way.

use crate::compile::condition::Cond;
use crate::compile::detection::Det;
use crate::compile::item::{Item, Matcher, Position, Test};
pub use crate::compile::pattern::GlobUnit;
use crate::compile::rule::CompiledRule;
use std::cmp::Ordering;

/// A rule's condition as a boolean query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Every part holds (an empty list always holds).
    All(Vec<Query>),
    /// Some part holds (an empty list never holds).
    Any(Vec<Query>),
    /// The part does not hold.
    Not(Box<Query>),
    /// At least `n` of the parts hold.
    AtLeast(usize, Vec<Query>),
    /// The field is present (its value may be null).
    Exists(String),
    /// The field is present with a value that is not null.
    Present(String),
    /// The field is absent or null.
    Null(String),
    /// Some value of the field (of any field when `None`; each element of a list) passes the test.
    Value {
        /// The field, or `None` for a keyword search over every field.
        field: Option<String>,
        /// The test.
        test: ValueTest,
    },
}

/// A test of one value.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTest {
    /// The whole value matches a wildcard pattern (its text folded to lower case unless `cased`).
    Glob {
        /// The pattern.
        units: Vec<GlobUnit>,
        /// Whether case matters.
        cased: bool,
    },
    /// A regular expression (Rust `regex` syntax, flags inline) finds a match.
    Regex(String),
    /// The value is an IP address inside this network (`a.b.c.d/n`, `x::/n`).
    Cidr(String),
    /// The value, as a number, compares so with `value` (`or_equal`: equality also passes).
    Compare {
        /// Greater or less.
        ordering: Ordering,
        /// Whether equal passes.
        or_equal: bool,
        /// The number.
        value: f64,
    },
    /// The value equals, contains, starts or ends with another field's value.
    FieldRef {
        /// The other field.
        other: String,
        /// Where the other value must sit.
        position: RefPosition,
        /// Whether case matters.
        cased: bool,
    },
}

/// Where a `fieldref` value must sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefPosition {
    /// The whole value.
    Whole,
    /// Anywhere.
    Contains,
    /// At the start.
    Start,
    /// At the end.
    End,
}

impl CompiledRule {
    /// The rule's condition (and its filters') as a [`Query`], without the log source (a target
    /// maps that to its own tables or event types).
    pub fn lower(&self) -> Query {
        let detections: Vec<Query> = self.detections().iter().map(lower_det).collect();
        let condition = |cond: &Cond| lower_cond(cond, &detections);
        let mut parts = vec![match self.conditions() {
            [one] => condition(one),
            many => Query::Any(many.iter().map(condition).collect()),
        }];
        parts.extend(self.filter_conditions().iter().map(condition));
        if parts.len() == 1 { parts.remove(0) } else { Query::All(parts) }
    }
}

fn lower_cond(cond: &Cond, detections: &[Query]) -> Query {
    let det = |i: &usize| detections.get(*i).cloned().unwrap_or(Query::Any(Vec::new()));
    match cond {
        Cond::Det(i) => det(i),
        Cond::Not(inner) => Query::Not(Box::new(lower_cond(inner, detections))),
        Cond::And(parts) => Query::All(parts.iter().map(|p| lower_cond(p, detections)).collect()),
        Cond::Or(parts) => Query::Any(parts.iter().map(|p| lower_cond(p, detections)).collect()),
        Cond::AtLeast(n, ids) => {
            let parts: Vec<Query> = ids.iter().map(det).collect();
            match *n {
                1 => Query::Any(parts),
                n if n == parts.len() => Query::All(parts),
                n => Query::AtLeast(n, parts),
            }
        }
    }
}

fn lower_det(det: &Det) -> Query {
    match det {
        Det::All(items) => Query::All(items.iter().map(lower_item).collect()),
        Det::Any(subs) => Query::Any(subs.iter().map(lower_det).collect()),
    }
}

fn lower_item(item: &Item) -> Query {
    let field = item.field.as_ref().map(|f| f.name.clone());
    match (&item.test, field) {
        (Test::Exists(true), Some(field)) => Query::Exists(field),
        (Test::Exists(false), Some(field)) => Query::Not(Box::new(Query::Exists(field))),
        (Test::Exists(_), None) => Query::Any(Vec::new()),
        (Test::Values { values, all, neq }, field) => {
            let group = |matchers: &Vec<Matcher>| {
                Query::Any(
                    matchers.iter().filter_map(|m| lower_matcher(m, field.as_deref())).collect(),
                )
            };
            let groups: Vec<Query> = values.iter().map(group).collect();
            let matched = if *all { Query::All(groups) } else { Query::Any(groups) };
            match (neq, field) {
                (true, Some(field)) => {
                    Query::All(vec![Query::Present(field), Query::Not(Box::new(matched))])
                }
                _ => matched,
            }
        }
    }
}

/// One matcher; `None` for one that can never match (`null` in a keyword search).
fn lower_matcher(matcher: &Matcher, field: Option<&str>) -> Option<Query> {
    let value = |test: ValueTest| Some(Query::Value { field: field.map(str::to_owned), test });
    match matcher {
        Matcher::Null => field.map(|f| Query::Null(f.to_owned())),
        Matcher::Glob(glob) => value(ValueTest::Glob { units: glob.units(), cased: glob.cased() }),
        Matcher::Regex(regex) => value(ValueTest::Regex(regex.as_str().to_owned())),
        Matcher::Cidr(cidr) => value(ValueTest::Cidr(cidr.to_string())),
        Matcher::Compare(ordering, or_equal, number) => {
            value(ValueTest::Compare { ordering: *ordering, or_equal: *or_equal, value: *number })
        }
        Matcher::FieldRef { field: other, position, cased } => value(ValueTest::FieldRef {
            other: other.name.clone(),
            position: match position {
                Position::Whole => RefPosition::Whole,
                Position::Contains => RefPosition::Contains,
                Position::Start => RefPosition::Start,
                Position::End => RefPosition::End,
            },
            cased: *cased,
        }),
    }
}
