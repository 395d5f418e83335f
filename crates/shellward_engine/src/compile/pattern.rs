//! Sigma string values as patterns: literal text, `*` (any run) and `?` (one character), matched
//! against the whole value, case-insensitively unless `cased`.
//!
//! A pattern is kept as [`Piece`]s (the parser already resolved the escapes `\*`, `\?`, `\\`).
//! Matching folds both sides with the same lowercase function, then takes a fast path for the
//! four shapes nearly every rule uses (exact, prefix, suffix, substring) and a backtracking glob for
//! the rest.

use std::borrow::Cow;

/// A piece of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobUnit {
    /// Literal text.
    Text(String),
    /// `*`: any run of characters.
    AnyChars,
    /// `?`: one character.
    OneChar,
}

/// One element of a Sigma string value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text.
    Text(String),
    /// `*`: any run of characters, possibly empty.
    Any,
    /// `?`: exactly one character.
    One,
}

/// Lowercases text for case-insensitive comparison, borrowing when nothing changes.
pub(crate) fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// What a value must hold for a pattern to match it, in folded form (see [`Glob::need`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Need {
    /// The folded value is exactly this.
    Exact(String),
    /// The folded value contains this (not empty).
    Contains(String),
}

/// Appends the folded form of `text` to `out` (as [`fold`] would give it). Text that is not all
/// ASCII is folded run by run: the ASCII runs in bulk and each other character on its own, which
/// is what `str::to_lowercase` does for every character but `Σ` (whose lower case depends on its
/// neighbours: such text goes through `str::to_lowercase` whole).
pub(crate) fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        push_ascii_folded(text, out);
    } else if text.contains('Σ') {
        out.push_str(&text.to_lowercase());
    } else {
        let mut rest = text;
        while let Some(at) = rest.bytes().position(|b| !b.is_ascii()) {
            let (ascii, from) = rest.split_at(at);
            push_ascii_folded(ascii, out);
            let mut chars = from.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_lowercase());
            }
            rest = chars.as_str();
        }
        push_ascii_folded(rest, out);
    }
}

/// Appends ASCII `text` to `out`, lower-cased.
fn push_ascii_folded(text: &str, out: &mut String) {
    let start = out.len();
    out.push_str(text);
    if let Some(added) = out.get_mut(start..) {
        added.make_ascii_lowercase();
    }
}

/// Appends the folded text of a single value (text, number or boolean) to `out`, as rules compare
/// it; false for null and lists, which have no single text.
pub(crate) fn fold_value_into(value: &shellward_event::Value, out: &mut String) -> bool {
    use shellward_event::Value;
    use std::fmt::Write as _;
    match value {
        Value::Str(text) => fold_into(text, out),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(_) | Value::Bool(_) => fold_into(&value.as_text(), out),
        Value::Null | Value::List(_) => return false,
    }
    true
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    shape: Shape,
    cased: bool,
}

#[derive(Debug, Clone)]
enum Shape {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Literal text around a `*` in the middle: `prefix*suffix`.
    Both(String, String),
    General(Vec<Unit>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Char(char),
    One,
    Any,
}

impl Glob {
    /// Compiles pieces; literal text is folded unless `cased`.
    pub(crate) fn new(pieces: &[Piece], cased: bool) -> Glob {
        let pieces = normalize(pieces, cased);
        let shape = match pieces.as_slice() {
            [] => Shape::Exact(String::new()),
            [Piece::Text(t)] => Shape::Exact(t.clone()),
            [Piece::Text(t), Piece::Any] => Shape::Prefix(t.clone()),
            [Piece::Any, Piece::Text(t)] => Shape::Suffix(t.clone()),
            [Piece::Any, Piece::Text(t), Piece::Any] => Shape::Contains(t.clone()),
            [Piece::Any] => Shape::Prefix(String::new()),
            [Piece::Text(a), Piece::Any, Piece::Text(b)] => Shape::Both(a.clone(), b.clone()),
            _ => Shape::General(
                pieces
                    .iter()
                    .flat_map(|p| match p {
                        Piece::Text(t) => t.chars().map(Unit::Char).collect::<Vec<_>>(),
                        Piece::Any => vec![Unit::Any],
                        Piece::One => vec![Unit::One],
                    })
                    .collect(),
            ),
        };
        Glob { shape, cased }
    }

    /// Whether the whole `value` matches.
    pub(crate) fn matches(&self, value: &str) -> bool {
        if self.cased { self.shape_matches(value) } else { self.shape_matches(&fold(value)) }
    }

    /// Whether the whole `value`, already folded with [`fold`], matches (only for patterns that
    /// are not `cased`; cased patterns need the original text).
    pub(crate) fn matches_folded(&self, folded: &str) -> bool {
        debug_assert!(!self.cased);
        self.shape_matches(folded)
    }

    /// The pattern's shape against text already in the pattern's case form.
    fn shape_matches(&self, value: &str) -> bool {
        match &self.shape {
            Shape::Exact(t) => value == t,
            Shape::Prefix(t) => value.starts_with(t.as_str()),
            Shape::Suffix(t) => value.ends_with(t.as_str()),
            Shape::Contains(t) => value.contains(t.as_str()),
            Shape::Both(a, b) => {
                value.len() >= a.len() + b.len()
                    && value.starts_with(a.as_str())
                    && value.ends_with(b.as_str())
            }
            Shape::General(units) => glob(units, value),
        }
    }

    /// The pattern as literal runs and wildcards (literal text folded unless cased).
    pub(crate) fn units(&self) -> Vec<GlobUnit> {
        let text = |t: &str| (!t.is_empty()).then(|| GlobUnit::Text(t.to_owned()));
        match &self.shape {
            Shape::Exact(t) => text(t).into_iter().collect(),
            Shape::Prefix(t) => text(t).into_iter().chain([GlobUnit::AnyChars]).collect(),
            Shape::Suffix(t) => [GlobUnit::AnyChars].into_iter().chain(text(t)).collect(),
            Shape::Contains(t) => [GlobUnit::AnyChars]
                .into_iter()
                .chain(text(t))
                .chain([GlobUnit::AnyChars])
                .collect(),
            Shape::Both(a, b) => {
                text(a).into_iter().chain([GlobUnit::AnyChars]).chain(text(b)).collect()
            }
            Shape::General(units) => {
                let mut out: Vec<GlobUnit> = Vec::new();
                for unit in units {
                    match unit {
                        Unit::Char(c) => match out.last_mut() {
                            Some(GlobUnit::Text(run)) => run.push(*c),
                            _ => out.push(GlobUnit::Text(c.to_string())),
                        },
                        Unit::Any => out.push(GlobUnit::AnyChars),
                        Unit::One => out.push(GlobUnit::OneChar),
                    }
                }
                out
            }
        }
    }

    /// Whether the pattern is case-sensitive.
    pub(crate) fn cased(&self) -> bool {
        self.cased
    }

    /// What any value this pattern matches must hold once folded: the whole folded text
    /// ([`Need::Exact`]) or a substring of it ([`Need::Contains`], the longest literal run).
    /// `None` when nothing useful is required (`*`), or when a cased pattern has non-ASCII text
    /// (folding is not substring-preserving for every non-ASCII character).
    pub(crate) fn need(&self) -> Option<Need> {
        let text = |t: &str| if self.cased { fold(t).into_owned() } else { t.to_owned() };
        if self.cased && !self.literal_text().is_ascii() {
            return None;
        }
        let contains = |t: &str| (!t.is_empty()).then(|| Need::Contains(text(t)));
        match &self.shape {
            Shape::Exact(t) => Some(Need::Exact(text(t))),
            Shape::Prefix(t) | Shape::Suffix(t) | Shape::Contains(t) => contains(t),
            Shape::Both(a, b) => contains(if a.len() >= b.len() { a } else { b }),
            Shape::General(units) => {
                let mut best = String::new();
                let mut run = String::new();
                for unit in units.iter().chain(std::iter::once(&Unit::Any)) {
                    match unit {
                        Unit::Char(c) => run.push(*c),
                        _ => {
                            if run.len() > best.len() {
                                best = std::mem::take(&mut run);
                            }
                            run.clear();
                        }
                    }
                }
                contains(&best)
            }
        }
    }

    /// All the literal text of the pattern, concatenated (to check it is ASCII).
    fn literal_text(&self) -> String {
        match &self.shape {
            Shape::Exact(t) | Shape::Prefix(t) | Shape::Suffix(t) | Shape::Contains(t) => t.clone(),
            Shape::Both(a, b) => format!("{a}{b}"),
            Shape::General(units) => units
                .iter()
                .filter_map(|u| match u {
                    Unit::Char(c) => Some(*c),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The literal text of an exact pattern, if it is one.
    #[cfg(test)]
    pub(crate) fn exact(&self) -> Option<&str> {
        match &self.shape {
            Shape::Exact(t) => Some(t),
            _ => None,
        }
    }
}

/// Folds text, merges adjacent text and collapses runs of `*`.
fn normalize(pieces: &[Piece], cased: bool) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match (piece, out.last_mut()) {
            (Piece::Text(t), _) if t.is_empty() => {}
            (Piece::Text(t), Some(Piece::Text(prev))) => {
                prev.push_str(&if cased { Cow::Borrowed(t.as_str()) } else { fold(t) });
            }
            (Piece::Text(t), _) => {
                let t = if cased { t.clone() } else { fold(t).into_owned() };
                out.push(Piece::Text(t));
            }
            (Piece::Any, Some(Piece::Any)) => {}
            (other, _) => out.push(other.clone()),
        }
    }
    out
}

/// Whether `name` is matched by `pattern`, where only `*` is a wildcard (any run, possibly empty):
/// how a condition's `1 of sel*` selects identifiers.
pub(crate) fn star_glob(pattern: &str, name: &str) -> bool {
    let units: Vec<Unit> =
        pattern.chars().map(|c| if c == '*' { Unit::Any } else { Unit::Char(c) }).collect();
    glob(&units, name)
}

/// Classic wildcard matching with one backtrack point per `*`: linear in practice, O(n·m) at worst
/// (a recursive match is exponential in the number of `*`s).
fn glob(units: &[Unit], value: &str) -> bool {
    let chars: Vec<char> = value.chars().collect();
    let (mut p, mut v) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while v < chars.len() {
        match units.get(p) {
            Some(Unit::Any) => {
                star = Some((p, v));
                p += 1;
            }
            Some(Unit::One) => {
                p += 1;
                v += 1;
            }
            Some(Unit::Char(c)) if *c == chars[v] => {
                p += 1;
                v += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    p = sp + 1;
                    v = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    units[p..].iter().all(|u| *u == Unit::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_into_folds_as_to_lowercase_does() {
        let texts = [
            "C:\\Windows\\System32\\CMD.EXE",
            "ÄÖÜ Straße ÉCOLE",
            "İstanbul KELVIN \u{212A} ΑΣ ΟΔΟΣ Σ",
            "mixed Ünïcödé and ASCII ÀB",
            "日本語 TEXT 中文",
            "",
        ];
        for text in texts {
            let mut out = String::from("kept ");
            fold_into(text, &mut out);
            assert_eq!(out, format!("kept {}", text.to_lowercase()), "{text}");
            assert_eq!(fold(text), text.to_lowercase(), "{text}");
        }
    }

    fn pieces(pattern: &str) -> Vec<Piece> {
        pattern
            .chars()
            .map(|c| match c {
                '*' => Piece::Any,
                '?' => Piece::One,
                c => Piece::Text(c.to_string()),
            })
            .collect()
    }

    fn m(pattern: &str, value: &str) -> bool {
        Glob::new(&pieces(pattern), false).matches(value)
    }

    #[test]
    fn shapes() {
        assert!(m("abc", "ABC"));
        assert!(!m("abc", "abcd"));
        assert!(m("ab*", "ABxyz"));
        assert!(m("*yz", "ABxyz"));
        assert!(m("*x*", "ABxyz"));
        assert!(m("a*z", "az"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("*", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn general_glob() {
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", "xxcxxbxxaxx"));
        assert!(m("?*", "x"));
        assert!(!m("?*", ""));
        assert!(m("*\\cmd.exe*/c*", r"C:\Windows\System32\cmd.exe /c whoami"));
        assert!(m("é?", "ÉA"));
    }

    #[test]
    fn needs() {
        let need = |p: &str| Glob::new(&pieces(p), false).need();
        let contains = |t: &str| Some(Need::Contains(t.into()));
        assert_eq!(need("ABC"), Some(Need::Exact("abc".into())));
        assert_eq!(need("*\\Cmd.exe"), contains("\\cmd.exe"));
        assert_eq!(need("ab*cde"), contains("cde"));
        assert_eq!(need("*a?bcd*e"), contains("bcd"));
        assert_eq!(need("*"), None);
        assert_eq!(need("?*?"), None);
        let cased = Glob::new(&[Piece::Any, Piece::Text("AbC".into())], true);
        assert_eq!(cased.need(), contains("abc"));
        assert_eq!(Glob::new(&[Piece::Text("É".into())], true).need(), None);
    }

    #[test]
    fn cased_patterns_do_not_fold() {
        let glob = Glob::new(&[Piece::Text("Abc".into())], true);
        assert!(glob.matches("Abc"));
        assert!(!glob.matches("abc"));
        assert_eq!(Glob::new(&[Piece::Text("AbC".into())], false).exact(), Some("abc"));
    }
}
