//! One detection item (`Field|modifiers: values`) compiled to matchers, and its reference
//! evaluation against an event.
//!
//! Semantics (SIGMA.md §6): values of an item are ORed (`|all`: ANDed); an item on a field the
//! event lacks is false except for `null`; `neq` is true when the field is present and matches none
//! of the values; `exists` looks at presence only (a null value is present); a list-valued field
//! matches when any element does; numbers and booleans in rules compare as text, so `4688` matches
//! the event value `"4688"` and `4688`.

use std::cmp::Ordering;

use rsigma_parser::{DetectionItem, Modifier, SigmaValue, StringPart};

use crate::compile::cidr::Cidr;
use crate::compile::encode::{self, Literal, Utf16};
use crate::compile::error::CompileError;
use crate::compile::fields::{Field, FieldIds};
use crate::compile::pattern::{Glob, Piece};
use crate::compile::regex::LazyRegex;

/// A compiled detection item.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    /// The event field; `None` for a keyword search over every field.
    pub(crate) field: Option<Field>,
    pub(crate) test: Test,
}

/// What an item checks.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// `|exists: true|false`.
    Exists(bool),
    /// Values: each an OR of matchers (a value may expand to several, e.g. `windash`).
    Values {
        values: Vec<Vec<Matcher>>,
        /// `|all`: every value must match.
        all: bool,
        /// `|neq`: the field is present and no value matches.
        neq: bool,
    },
}

impl Item {
    /// Calls `f` with every field the item reads: its own and a `fieldref` target.
    pub(crate) fn fields_mut(&mut self, f: &mut impl FnMut(&mut Field)) {
        if let Some(field) = &mut self.field {
            f(field);
        }
        if let Test::Values { values, .. } = &mut self.test {
            for matcher in values.iter_mut().flatten() {
                if let Matcher::FieldRef { field, .. } = matcher {
                    f(field);
                }
            }
        }
    }

    /// Its regular expressions.
    pub(crate) fn regexes(&self) -> impl Iterator<Item = &LazyRegex> {
        let values = match &self.test {
            Test::Values { values, .. } => values.as_slice(),
            Test::Exists(_) => &[],
        };
        values.iter().flatten().filter_map(|matcher| match matcher {
            Matcher::Regex(regex) => Some(regex),
            _ => None,
        })
    }
}

/// How one (expanded) value is compared with an event value.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    Glob(Glob),
    Regex(LazyRegex),
    Cidr(Cidr),
    Compare(Ordering, bool, f64),
    /// `null`: the field is absent or null.
    Null,
    /// `|fieldref`: compare with another field of the same event.
    FieldRef {
        field: Field,
        position: Position,
        cased: bool,
    },
}

/// Where a compared text must sit in the event value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    Whole,
    Contains,
    Start,
    End,
}

/// Modifier flags of one item, in a form that is easy to validate.
#[derive(Default)]
struct Flags {
    position: Option<Position>,
    all: bool,
    cased: bool,
    exists: bool,
    fieldref: bool,
    neq: bool,
    re: bool,
    re_flags: (bool, bool, bool),
    cidr: bool,
    compare: Option<(Ordering, bool)>,
    transforms: Vec<Modifier>,
}

impl Flags {
    fn read(key: &str, modifiers: &[Modifier]) -> Result<Flags, CompileError> {
        let mut flags = Flags::default();
        for modifier in modifiers {
            match modifier {
                Modifier::Contains => flags.set_position(key, Position::Contains)?,
                Modifier::StartsWith => flags.set_position(key, Position::Start)?,
                Modifier::EndsWith => flags.set_position(key, Position::End)?,
                Modifier::All => flags.all = true,
                Modifier::Cased => flags.cased = true,
                Modifier::Exists => flags.exists = true,
                Modifier::FieldRef => flags.fieldref = true,
                Modifier::Neq => flags.neq = true,
                Modifier::Re => flags.re = true,
                Modifier::IgnoreCase => flags.re_flags.0 = true,
                Modifier::Multiline => flags.re_flags.1 = true,
                Modifier::DotAll => flags.re_flags.2 = true,
                Modifier::Cidr => flags.cidr = true,
                Modifier::Gt => flags.compare = Some((Ordering::Greater, false)),
                Modifier::Gte => flags.compare = Some((Ordering::Greater, true)),
                Modifier::Lt => flags.compare = Some((Ordering::Less, false)),
                Modifier::Lte => flags.compare = Some((Ordering::Less, true)),
                Modifier::Base64
                | Modifier::Base64Offset
                | Modifier::Wide
                | Modifier::Utf16be
                | Modifier::Utf16
                | Modifier::WindAsh => flags.transforms.push(*modifier),
                Modifier::Expand => {
                    return Err(CompileError::unsupported(
                        "modifier 'expand' (its %placeholders% need a configuration that defines them)",
                        key,
                    ));
                }
                Modifier::Minute
                | Modifier::Hour
                | Modifier::Day
                | Modifier::Week
                | Modifier::Month
                | Modifier::Year => {
                    return Err(CompileError::unsupported(
                        format!("time-part modifier '{}'", modifier_name(*modifier)),
                        key,
                    ));
                }
            }
        }
        flags.validate(key)?;
        Ok(flags)
    }

    fn set_position(&mut self, key: &str, position: Position) -> Result<(), CompileError> {
        self.position = Some(match (self.position, position) {
            (None, p) => p,
            (Some(Position::Start), Position::End) | (Some(Position::End), Position::Start) => {
                Position::Contains
            }
            (Some(a), b) if a == b => a,
            _ => {
                return Err(CompileError::invalid(key, "conflicting contains/startswith/endswith"));
            }
        });
        Ok(())
    }

    fn validate(&self, key: &str) -> Result<(), CompileError> {
        let operators = [
            self.re,
            self.cidr,
            self.compare.is_some(),
            self.exists,
            self.fieldref,
            self.position.is_some() && !self.fieldref,
        ];
        if operators.iter().filter(|&&b| b).count() > 1 {
            return Err(CompileError::invalid(
                key,
                "modifiers that each decide the comparison cannot be combined (re, cidr, lt/gt, exists, fieldref, contains/startswith/endswith)",
            ));
        }
        let special =
            self.re || self.cidr || self.compare.is_some() || self.exists || self.fieldref;
        if special && !self.transforms.is_empty() {
            return Err(CompileError::invalid(
                key,
                "encoding modifiers (base64, wide, windash, ...) only apply to plain string matches",
            ));
        }
        if !self.re && (self.re_flags.0 || self.re_flags.1 || self.re_flags.2) {
            return Err(CompileError::invalid(
                key,
                "the regex flags i, m and s need the re modifier",
            ));
        }
        if self.exists && (self.neq || self.all) {
            return Err(CompileError::invalid(key, "exists takes no other modifier"));
        }
        Ok(())
    }
}

fn modifier_name(modifier: Modifier) -> String {
    format!("{modifier:?}").to_lowercase()
}

/// The key of an item as written in the rule (`Field|mod|mod`), to locate it in the file.
fn key_of(item: &DetectionItem) -> String {
    let mut key = item.field.name.clone().unwrap_or_default();
    for modifier in &item.field.modifiers {
        key.push('|');
        key.push_str(&modifier_name(*modifier));
    }
    key
}

/// Compiles one detection item. A field-less item is a keyword search (substring semantics).
pub(crate) fn compile(item: &DetectionItem, ids: &mut FieldIds) -> Result<Item, CompileError> {
    let key = key_of(item);
    let field = item.field.name.as_ref().map(|name| ids.field(unescape_field(name)));
    let mut flags = Flags::read(&key, &item.field.modifiers)?;
    if field.is_none() {
        if flags.neq || flags.exists || flags.fieldref {
            return Err(CompileError::invalid(
                &key,
                "a keyword search cannot use neq, exists or fieldref",
            ));
        }
        if flags.position.is_none() && !flags.re && !flags.cidr && flags.compare.is_none() {
            flags.position = Some(Position::Contains);
        }
    }
    if flags.exists {
        let expected = match item.values.as_slice() {
            [SigmaValue::Bool(b)] => *b,
            [SigmaValue::String(s)] if s.original.eq_ignore_ascii_case("true") => true,
            [SigmaValue::String(s)] if s.original.eq_ignore_ascii_case("false") => false,
            _ => return Err(CompileError::invalid(&key, "exists takes one value, true or false")),
        };
        return Ok(Item { field, test: Test::Exists(expected) });
    }
    if item.values.is_empty() {
        return Err(CompileError::invalid(&key, "no values"));
    }
    let values = item
        .values
        .iter()
        .map(|value| compile_value(&key, value, &flags, ids))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Item { field, test: Test::Values { values, all: flags.all, neq: flags.neq } })
}

/// Field names from rules may escape brackets (`\[`) that rsigma reserves for array paths.
fn unescape_field(name: &str) -> String {
    rsigma_parser::fieldpath::unescape_brackets(name).into_owned()
}

fn value_text(value: &SigmaValue) -> Option<String> {
    match value {
        SigmaValue::String(s) => Some(s.original.clone()),
        SigmaValue::Integer(i) => Some(i.to_string()),
        SigmaValue::Float(f) => Some(f.to_string()),
        SigmaValue::Bool(b) => Some(b.to_string()),
        SigmaValue::Null => None,
    }
}

fn pieces_of(value: &SigmaValue) -> Vec<Piece> {
    match value {
        SigmaValue::String(s) => s
            .parts
            .iter()
            .map(|part| match part {
                StringPart::Plain(t) => Piece::Text(t.clone()),
                StringPart::Special(rsigma_parser::SpecialChar::WildcardMulti) => Piece::Any,
                StringPart::Special(rsigma_parser::SpecialChar::WildcardSingle) => Piece::One,
            })
            .collect(),
        other => vec![Piece::Text(value_text(other).unwrap_or_default())],
    }
}

fn compile_value(
    key: &str,
    value: &SigmaValue,
    flags: &Flags,
    ids: &mut FieldIds,
) -> Result<Vec<Matcher>, CompileError> {
    if matches!(value, SigmaValue::Null) {
        if !flags.transforms.is_empty()
            || flags.re
            || flags.cidr
            || flags.compare.is_some()
            || flags.fieldref
        {
            return Err(CompileError::invalid(key, "null cannot be combined with this modifier"));
        }
        return Ok(vec![Matcher::Null]);
    }
    if flags.re {
        let pattern = value_text(value).unwrap_or_default();
        // The flags go inline, so the pattern text says everything (renderings print it).
        let inline: String =
            [(flags.re_flags.0, 'i'), (flags.re_flags.1, 'm'), (flags.re_flags.2, 's')]
                .iter()
                .filter_map(|(on, flag)| on.then_some(*flag))
                .collect();
        let pattern = if inline.is_empty() { pattern } else { format!("(?{inline}){pattern}") };
        let regex =
            LazyRegex::new(pattern.clone()).map_err(|error| regex_error(key, &pattern, &error))?;
        return Ok(vec![Matcher::Regex(regex)]);
    }
    if flags.cidr {
        let text = value_text(value).unwrap_or_default();
        let cidr = Cidr::parse(&text)
            .ok_or_else(|| CompileError::invalid(key, format!("'{text}' is not a network")))?;
        return Ok(vec![Matcher::Cidr(cidr)]);
    }
    if let Some((ordering, equal)) = flags.compare {
        let number = match value {
            SigmaValue::Integer(i) => *i as f64,
            SigmaValue::Float(f) => *f,
            other => value_text(other)
                .and_then(|t| t.trim().parse::<f64>().ok())
                .ok_or_else(|| CompileError::invalid(key, "lt/lte/gt/gte need a number"))?,
        };
        return Ok(vec![Matcher::Compare(ordering, equal, number)]);
    }
    if flags.fieldref {
        let field = ids.field(value_text(value).unwrap_or_default());
        let position = flags.position.unwrap_or(Position::Whole);
        return Ok(vec![Matcher::FieldRef { field, position, cased: flags.cased }]);
    }
    let mut literals = vec![Literal::Text(pieces_of(value))];
    for modifier in &flags.transforms {
        let mut next = Vec::with_capacity(literals.len());
        for literal in literals {
            match modifier {
                Modifier::WindAsh => next.extend(encode::windash(literal)?),
                Modifier::Wide => next.push(encode::utf16(&literal, Utf16::Le, "wide")?),
                Modifier::Utf16be => next.push(encode::utf16(&literal, Utf16::Be, "utf16be")?),
                Modifier::Utf16 => next.push(encode::utf16(&literal, Utf16::LeBom, "utf16")?),
                Modifier::Base64 => next.push(encode::base64(&literal)?),
                Modifier::Base64Offset => next.extend(encode::base64offset(&literal)?),
                _ => next.push(literal),
            }
        }
        literals = next;
    }
    Ok(literals
        .into_iter()
        .map(|literal| {
            let mut pieces = literal.into_pieces();
            wrap(&mut pieces, flags.position.unwrap_or(Position::Whole));
            Matcher::Glob(Glob::new(&pieces, flags.cased))
        })
        .collect())
}

fn regex_error(key: &str, pattern: &str, error: &regex::Error) -> CompileError {
    let message = error.to_string();
    if message.contains("look-around") || message.contains("backreferences") {
        CompileError::unsupported(
            format!("regular expression with look-around or backreferences: {pattern}"),
            key,
        )
    } else {
        CompileError::invalid(
            key,
            format!("bad regular expression: {}", message.lines().last().unwrap_or("")),
        )
    }
}

/// Adds the wildcards `contains`, `startswith` and `endswith` imply, unless already there.
fn wrap(pieces: &mut Vec<Piece>, position: Position) {
    if matches!(position, Position::Contains | Position::End) && pieces.first() != Some(&Piece::Any)
    {
        pieces.insert(0, Piece::Any);
    }
    if matches!(position, Position::Contains | Position::Start)
        && pieces.last() != Some(&Piece::Any)
    {
        pieces.push(Piece::Any);
    }
}
