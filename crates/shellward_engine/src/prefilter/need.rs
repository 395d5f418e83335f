//! What a rule needs from an event before it can match: a set of *atoms* (a field and a folded
//! text that the field's folded value equals or contains) of which at least one holds whenever the
//! rule matches. The fast evaluator looks for every rule's atoms in one pass per field and runs
//! only the rules with an atom present (and the rules without atoms).
//!
//! Derivation, from the compiled rule (never from its source, so the two cannot disagree):
//! - a glob needs its longest literal run ([`crate::compile::pattern::Glob::need`]) in its field (a keyword
//!   search: in any field); a regex needs one of the literals all its matches start (or end)
//!   with, when `regex-syntax` finds a finite set; a network, comparison, `null`, `fieldref`,
//!   `exists` or `neq` needs nothing we can index;
//! - an OR (values of an item, a list of maps, `or`, `1 of`) needs the union of its parts' atoms,
//!   and nothing if any part needs nothing;
//! - an AND (`|all`, a map, `and`, `all of`) needs the atoms of any one part: the most selective
//!   one is taken ([`score`]): the one found in the fewest sampled records, where the judge has
//!   samples (a raw-text filter does: [`Judge::found`]), then the one whose weakest atom is the
//!   longest text;
//! - `not` needs nothing.
//!
//! The atoms are a necessary condition, never a sufficient one: the exact evaluation still runs on
//! every candidate, so a weak choice costs time, not correctness.
//!
//! A [`Judge`] says which fields select little and, for the raw-text filter
//! ([`crate::prefilter::raw`]), what each atom becomes there or that it cannot be used (the
//! derivation then treats it as needing nothing, and an AND picks another part).

use crate::compile::condition::Cond;
use crate::compile::detection::Det;
use crate::compile::item::{Item, Matcher, Test};
use crate::compile::pattern::Need;
use crate::compile::rule::CompiledRule;
use std::cmp::Reverse;

/// One thing an event may hold: the folded value of `field` is or contains a text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Atom {
    /// The field id.
    pub(crate) field: u32,
    /// What its folded value must hold.
    pub(crate) need: Need,
}

/// The field id of atoms of keyword searches: any field of the event.
pub(crate) const ANY_FIELD: u32 = u32::MAX;

/// At least one atom holds whenever the expression is true; `None`: nothing is known.
pub(crate) type Needs = Option<Vec<Atom>>;

/// How atoms are judged while a rule's needs are derived.
pub(crate) struct Judge<'a> {
    /// Whether a field selects little ([`crate::compile::fields::weak_field`]).
    pub(crate) weak: &'a (dyn Fn(u32) -> bool + Sync),
    /// What becomes of an atom.
    pub(crate) atom: &'a (dyn Fn(Atom) -> AtomUse + Sync),
    /// Which of up to 64 sampled records hold an atom (as [`Judge::atom`] made it), one bit per
    /// record; `0` for every atom where nothing was sampled.
    pub(crate) found: &'a (dyn Fn(&Atom) -> u64 + Sync),
}

/// What a [`Judge`] makes of an atom.
#[derive(Debug)]
pub(crate) enum AtomUse {
    /// Searched for, in this form.
    Search(Atom),
    /// Cannot be searched for: the part needs nothing.
    Unknown,
    /// Known never to hold (a field whose value is known, and is not this): the part cannot
    /// match, and needs the empty set, which an AND prefers and an OR adds nothing from.
    Never,
}

impl Judge<'_> {
    /// Every atom as it is.
    pub(crate) fn keep(atom: Atom) -> AtomUse {
        AtomUse::Search(atom)
    }

    /// No sampled records.
    pub(crate) fn unsampled(_: &Atom) -> u64 {
        0
    }
}

/// How selective a set of atoms is (larger is better): the fewest sampled records holding any
/// of them, then its weakest atom, then fewer atoms.
fn score(atoms: &[Atom], judge: &Judge<'_>) -> (Reverse<u32>, usize, Reverse<usize>) {
    let found = atoms.iter().fold(0, |found, atom| found | (judge.found)(atom));
    let weakest = atoms
        .iter()
        .map(|atom| match &atom.need {
            _ if (judge.weak)(atom.field) => 1,
            Need::Exact(text) => text.len() + 4,
            Need::Contains(text) => text.len(),
        })
        .min()
        .unwrap_or(usize::MAX);
    (Reverse(found.count_ones()), weakest, Reverse(atoms.len()))
}

/// The union of the parts' needs: nothing if any part needs nothing. (Repeated atoms are
/// harmless: the index merges them.)
fn any_of(parts: impl IntoIterator<Item = Needs>) -> Needs {
    let mut out: Vec<Atom> = Vec::new();
    for part in parts {
        out.extend(part?);
    }
    Some(out)
}

/// The most selective need among the parts (all of which hold).
fn all_of(parts: impl IntoIterator<Item = Needs>, judge: &Judge<'_>) -> Needs {
    parts.into_iter().flatten().max_by_key(|atoms| score(atoms, judge))
}

/// What a matcher needs of the value of field `field` (or of any field: [`ANY_FIELD`]).
fn matcher(field: u32, matcher: &Matcher, judge: &Judge<'_>) -> Needs {
    match matcher {
        Matcher::Glob(glob) => {
            judged(judge, Atom { field, need: glob.need()? }).map(|a| a.into_iter().collect())
        }
        Matcher::Regex(regex) => {
            let mut atoms = Vec::new();
            for text in regex_literals(regex.as_str())? {
                atoms.extend(judged(judge, Atom { field, need: Need::Contains(text) })?);
            }
            Some(atoms)
        }
        _ => None,
    }
}

/// What an atom needs, as the judge makes it: itself (or its new form), nothing, or the empty set.
fn judged(judge: &Judge<'_>, atom: Atom) -> Option<Option<Atom>> {
    match (judge.atom)(atom) {
        AtomUse::Search(atom) => Some(Some(atom)),
        AtomUse::Unknown => None,
        AtomUse::Never => Some(None),
    }
}

/// Texts one of which every match of a regular expression contains, folded: the literals every
/// match starts with, or those it ends with (whichever set's shortest is longer), as `regex-syntax`
/// extracts them. `None` when there is no such finite set of non-empty texts, or a text could fold
/// otherwise in context (`Σ`).
fn regex_literals(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let set = |kind| {
        let seq = Extractor::new().kind(kind).extract(&hir);
        let literals = seq.literals()?;
        let texts: Option<Vec<String>> = literals
            .iter()
            .map(|literal| {
                let text = std::str::from_utf8(literal.as_bytes()).ok()?;
                (!text.is_empty() && !text.contains('Σ'))
                    .then(|| crate::compile::pattern::fold(text).into_owned())
            })
            .collect();
        let mut texts = texts.filter(|t| !t.is_empty())?;
        texts.sort_unstable();
        texts.dedup();
        Some(texts)
    };
    let shortest = |texts: &Vec<String>| texts.iter().map(String::len).min().unwrap_or(0);
    match (set(ExtractKind::Prefix), set(ExtractKind::Suffix)) {
        (Some(p), Some(s)) => Some(if shortest(&s) > shortest(&p) { s } else { p }),
        (p, s) => p.or(s),
    }
}

/// What a detection item needs; a keyword search needs its texts in any field.
pub(crate) fn item(item: &Item, judge: &Judge<'_>) -> Needs {
    let field = item.field.as_ref().map_or(ANY_FIELD, |field| field.id);
    let Test::Values { values, all, neq: false } = &item.test else { return None };
    let groups = values.iter().map(|group| any_of(group.iter().map(|m| matcher(field, m, judge))));
    if *all { all_of(groups, judge) } else { any_of(groups) }
}

/// What a search identifier needs.
pub(crate) fn detection(det: &Det, judge: &Judge<'_>) -> Needs {
    match det {
        Det::All(items) => all_of(items.iter().map(|i| item(i, judge)), judge),
        Det::Any(subs) => any_of(subs.iter().map(|d| detection(d, judge))),
    }
}

/// What a condition needs, given what each search identifier needs.
pub(crate) fn condition(cond: &Cond, dets: &[Needs], judge: &Judge<'_>) -> Needs {
    let det = |i: &usize| dets.get(*i).cloned().flatten();
    match cond {
        Cond::Det(i) => det(i),
        Cond::Not(_) => None,
        Cond::And(parts) => all_of(parts.iter().map(|p| condition(p, dets, judge)), judge),
        Cond::Or(parts) => any_of(parts.iter().map(|p| condition(p, dets, judge))),
        Cond::AtLeast(0, _) => None,
        Cond::AtLeast(needed, indexes) if *needed >= indexes.len() => {
            all_of(indexes.iter().map(det), judge)
        }
        Cond::AtLeast(_, indexes) => any_of(indexes.iter().map(det)),
    }
}

/// What a rule needs: one of its conditions holds (their union), and every filter holds (any one
/// of which may be taken instead).
pub(crate) fn rule(
    detections: &[Det],
    conditions: &[Cond],
    filters: &[Cond],
    judge: &Judge<'_>,
) -> Needs {
    let dets: Vec<Needs> = detections.iter().map(|d| detection(d, judge)).collect();
    let conditions = any_of(conditions.iter().map(|c| condition(c, &dets, judge)));
    let filters = filters.iter().map(|f| condition(f, &dets, judge));
    all_of(std::iter::once(conditions).chain(filters), judge)
}

impl CompiledRule {
    /// What the rule needs from an event (see the module documentation).
    pub(crate) fn needs(&self, judge: &Judge<'_>) -> Needs {
        rule(&self.detections, &self.conditions, &self.filters, judge)
    }
}

#[cfg(test)]
mod tests {
    use super::regex_literals;

    #[test]
    fn regex_literals_every_match_contains() {
        let lits = |p: &str| regex_literals(p);
        assert_eq!(lits(r"\\pipe\\msagent_[0-9a-f]{2}"), Some(vec!["\\pipe\\msagent_".into()]));
        assert_eq!(lits(r"(?i)AbC|dEf"), Some(vec!["abc".into(), "def".into()]));
        // A match may start anywhere, but ends with the suffix.
        assert_eq!(lits(r".*\.asPx$"), Some(vec![".aspx".into()]));
        // The Kelvin sign is among (?i)'s variants of `k`; folded, it is `k` again.
        assert_eq!(lits(r"(?i)kit"), Some(vec!["kit".into()]));
        assert_eq!(lits(r"\d+"), None);
        assert_eq!(lits(r"a?"), None);
        assert_eq!(lits(r"ΑΣ"), None);
    }
}
