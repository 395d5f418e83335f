//! The raw-text filter: whether a record's undecoded text can hold anything that a rule of its
//! log sources needs, asked before the record is parsed and built into an event.
//!
//! A decoder that can tell a record's log sources cheaply (a Windows record's channel and event
//! ID; a web server log's lines, all of one log source) asks for the [`RawPlan`] of those log
//! sources once and then tests each record's text with it. The plan holds one search for the
//! atoms ([`crate::prefilter::need`]) of every rule of those log sources, each atom in the form it
//! takes in the record's text ([`RawForm`]); a record in which none occurs cannot match any of the
//! rules, and is skipped unread.
//!
//! This is only sound for atoms whose text the record holds verbatim, so an atom is used only if:
//! - its field is not one the decoder computes for such records ([`RawPlan::new`]'s `computed`:
//!   a path joined from two fields, a hex number made decimal, a hive renamed), and a keyword
//!   search is not used where any field is computed (it may span the join);
//! - it holds no control character; in JSON no `"` (whose escapes vary by producer), and is not a
//!   number that a float could print otherwise (`1e3`); in plain text none of the characters the
//!   decoder joins values with ([`RawForm::Plain`]'s `joins`), and is not a negative whole number
//!   (the text `-07` gives the value `-7`);
//! - it is ASCII, or else its longest ASCII run is used (at least [`MIN_ASCII_RUN`] bytes): the
//!   search folds ASCII case only (the atoms are folded, the text is lowered), and only ASCII
//!   characters keep their offsets.
//!
//! Where an AND offers a choice of atoms (`TargetImage|endswith: \\lsass.exe` and `GrantedAccess:
//! 0x1FFFFF`), the part whose weakest text is the longest is searched for; or, given texts of
//! the route's records, the part found in the fewest of them ([`RouteFacts::samples`],
//! [`crate::prefilter::sampled`]).
//!
//! In JSON its backslashes are doubled (JSON's escape); in plain text its spaces are written as the
//! form writes them (IIS W3C: `+`). A rule with no usable atom makes the plan
//! decode everything. Text that could hide an atom from this search is always decoded: in JSON an
//! escape other than `\\`, `\"` or a control character's (`\u0041` is `A`; `\/` is `/`); in plain
//! text any of the form's escapes; in both, the two characters whose lower case is ASCII
//! (KELVIN SIGN folds to `k`, `İ` to `i` and a combining dot).
//!
//! A Windows export's JSON record repeats every field in its `Message` (OTRF: 43% of the bytes).
//! Where the decoder tells where the record's top-level `Message` string is ([`RawText::read`]),
//! only the atoms of a field named `Message` and of keyword searches are looked for in it: the
//! value of every other field is outside it, and it is the value of no other field.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind, packed};
use shellward_event::{LogSource, RawForm, RawText};

use super::need::{ANY_FIELD, Atom, AtomUse, Judge};
use super::sampled::Found;
use crate::compile::pattern::{Need, fold};
use crate::compile::rule::CompiledRule;
use crate::ruleset::RuleSet;
use std::sync::{Arc, Mutex};

/// How a decoder treats the records of some log sources before decoding them.
#[derive(Debug)]
pub enum RawPlan {
    /// Test each record's text ([`RawMatcher::may_match`]); skip it where that is false.
    Test(RawMatcher),
    /// Decode every record: some rule of these log sources has nothing to search for in raw text.
    DecodeAll {
        /// The title of that rule.
        because: String,
    },
}

/// The search of a [`RawPlan::Test`].
#[derive(Debug)]
pub struct RawMatcher {
    search: Search,
    /// Whether the search runs over the text in ASCII lower case (else it ignores ASCII case
    /// itself).
    lowered: bool,
    /// The texts of a contiguous NFA, for [`RawMatcher::faster`].
    texts: Option<Vec<String>>,
    /// The form of the texts it tests.
    form: RawForm,
    /// How many atoms it searches for (the characters that may hide one not counted).
    atoms: usize,
    /// The search of a JSON record's `Message` ([`shellward_event::ReadJson::message`]) where
    /// the decoder tells where it is: for the atoms of a field named `Message` (any case) and
    /// the keywords (atoms of any field), or for nothing (`None`). The rest of the text is
    /// searched for every atom.
    in_message: Option<Arc<RawMatcher>>,
}

/// What a [`RawMatcher`] searches with.
#[derive(Debug)]
enum Search {
    /// Teddy alone ([`aho_corasick::packed`]), for a few dozen texts over lowered text. An
    /// automaton of them uses Teddy as its prefilter and searches no faster (or, where it picks a
    /// prefilter on rare bytes instead, up to eight times slower), but building its DFA took
    /// 0.2–0.5 ms against 3–15 µs for Teddy alone, for every route: 29 routes of every SigmaHQ
    /// Windows rule over evtx-to-mitre spent 8 ms of CPU building them.
    Packed(packed::Searcher),
    /// An automaton: for more texts than Teddy takes, or where it is not available.
    Automaton(AhoCorasick),
}

impl Search {
    fn is_match(&self, text: &[u8]) -> bool {
        match self {
            Search::Packed(searcher) => searcher.find(text).is_some(),
            Search::Automaton(automaton) => automaton.is_match(text),
        }
    }
}

/// The most texts searched for with Teddy alone ([`Search::Packed`]), or where it cannot be built,
/// with a DFA (the fastest automaton, but one whose table costs more to build than a route's
/// records save beyond this); more get a contiguous NFA, and a DFA only once the route has shown
/// it has records enough to pay for it ([`RawMatcher::faster`]).
const SMALL_DFA: usize = 64;

/// The most texts a DFA is built for ([`RawMatcher::faster`]): its table grows with them.
const LARGEST_DFA: usize = 4096;

/// The shortest ASCII run of a non-ASCII atom that is searched for instead of it.
pub(crate) const MIN_ASCII_RUN: usize = 3;

/// Characters whose lower case is (or starts with) an ASCII letter: a value holding one may match
/// an ASCII atom that its raw text does not hold. (Proved complete by a test over every `char`.)
const FOLDS_TO_ASCII: [char; 2] = ['\u{0130}', '\u{212A}'];

/// Field names that make [`crate::Lineage::wants`] read an event of any log source (a Falcon
/// event's acting process): a record holding one is decoded.
const LINEAGE_READS: [&str; 2] = ["ContextProcessId", "event_simpleName"];

/// The largest lowered copy a thread keeps for the next record.
const KEPT_LOWERED: usize = 1 << 20;

thread_local! {
    /// A record's text in ASCII lower case, for [`RawMatcher::may_match`].
    static LOWERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl RawMatcher {
    /// Whether a record with this text (in the plan's [`RawForm`]) may match a rule of the plan:
    /// some atom occurs in it (ASCII case ignored), or it has text that could hide one.
    ///
    /// The atoms are searched for in lower case in a lower-cased copy of the text: lowering is a
    /// vectorized pass, and a case-sensitive search of a few dozen atoms (Teddy) skips through
    /// text many times faster than a case-folding automaton walks it. A larger automaton has no
    /// such prefilter: once a DFA ([`RawMatcher::faster`]), it ignores case itself.
    ///
    /// Where the decoder tells where a JSON record's `Message` is
    /// ([`shellward_event::ReadJson::message`]), it is searched only for the atoms of that field
    /// and the keywords (often none): no other field's value is in it. Where the decoder saw
    /// every escape of the text ([`RawText::read`]), the text is not searched again for escapes
    /// that may hide a character.
    pub fn may_match(&self, text: &RawText<'_>) -> bool {
        let bytes = text.bytes;
        let whole = || self.found(&[bytes]) || self.hides(bytes);
        let (Some(read), RawForm::Json) = (text.read, self.form) else { return whole() };
        let Some((start, end)) = read.message.filter(|&(start, end)| start <= end) else {
            return self.found(&[bytes]) || read.hiding_escape;
        };
        let (Some(before), Some(message), Some(after)) =
            (bytes.get(..start), bytes.get(start..end), bytes.get(end..))
        else {
            return whole();
        };
        self.found(&[before, after])
            || read.hiding_escape
            || self
                .in_message
                .as_ref()
                .is_some_and(|search| read.hiding_escape_in_message || search.found(&[message]))
    }

    /// Whether an atom occurs in one of the parts of a text.
    fn found(&self, parts: &[&[u8]]) -> bool {
        if !self.lowered {
            return parts.iter().any(|part| self.search.is_match(part));
        }
        LOWERED.with_borrow_mut(|lowered| {
            lowered.clear();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    // No atom holds a control character: none is found across the joint.
                    lowered.push(b'\n');
                }
                lowered.extend_from_slice(part);
            }
            lowered.make_ascii_lowercase();
            let found = self.search.is_match(lowered.as_slice());
            if lowered.capacity() > KEPT_LOWERED {
                *lowered = Vec::new();
            }
            found
        })
    }

    /// Whether a text has text that could hide an atom from the search.
    fn hides(&self, text: &[u8]) -> bool {
        match self.form {
            RawForm::Json => hides_text(text),
            RawForm::Plain { escapes, .. } => {
                escapes.iter().any(|escape| memchr::memmem::find(text, escape).is_some())
            }
        }
    }

    /// How many atoms the plan searches for.
    pub fn atoms(&self) -> usize {
        self.atoms
    }

    /// The same search with a DFA that ignores ASCII case itself, if this one is a contiguous
    /// NFA of at most `LARGEST_DFA` (4,096) texts: it takes milliseconds to build, but walks text
    /// about twice as fast and needs no lowered copy, so a route with thousands of records gains.
    /// (Without a prefilter for more than a few dozen texts, the lowered copy gains nothing.)
    pub fn faster(&self) -> Option<RawMatcher> {
        let texts = self.texts.as_ref().filter(|texts| texts.len() <= LARGEST_DFA)?;
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(texts)
            .ok()?;
        Some(RawMatcher {
            search: Search::Automaton(automaton),
            lowered: false,
            texts: None,
            form: self.form,
            atoms: self.atoms,
            in_message: self.in_message.clone(),
        })
    }
}

/// Whether JSON text has an escape that may stand for a printable character (`\uXXXX`, `\/`): the
/// atoms are searched for with only `\\` and `\"` escaped.
fn hides_text(text: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\\', &text[from..]) {
        let escape = from + at + 1;
        match text.get(escape) {
            Some(b'u' | b'/') => return true,
            Some(_) => from = escape + 1,
            None => return false,
        }
    }
    false
}

/// The text of an atom's folded text in `form`, or `None` when it cannot be searched for raw (see
/// the module documentation).
fn raw_text(text: &str, form: RawForm) -> Option<String> {
    let usable = match form {
        RawForm::Json => !text.contains('"') && !float_like(text),
        RawForm::Plain { joins, .. } => {
            !text.bytes().any(|b| joins.contains(&b)) && !negative_whole(text)
        }
    };
    if !usable || text.chars().any(char::is_control) {
        return None;
    }
    let ascii = if text.is_ascii() {
        text
    } else {
        let run = text.split(|c: char| !c.is_ascii()).max_by_key(|run| run.len())?;
        if run.len() < MIN_ASCII_RUN {
            return None;
        }
        run
    };
    match form {
        _ if ascii.is_empty() => None,
        RawForm::Json => Some(ascii.replace('\\', "\\\\")),
        RawForm::Plain { space, .. } => Some(ascii.replace(' ', &char::from(space).to_string())),
    }
}

/// A minus sign and digits (or none): part of the text of a negative number, which the text it
/// was read from may write otherwise (`-07` for `-7`).
fn negative_whole(text: &str) -> bool {
    text.strip_prefix('-').is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
}

/// A text that a JSON number, `true`, `false` or `null` may print (unquoted).
fn literal_like(text: &str) -> bool {
    matches!(text, "true" | "false" | "null") || number_like(text)
}

/// A text made only of the characters a JSON number prints.
fn number_like(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
}

/// A number whose text a float may print differently (`1.50`, `1e3`); whole numbers print as
/// written.
fn float_like(text: &str) -> bool {
    number_like(text) && text.bytes().any(|b| matches!(b, b'.' | b'e' | b'+'))
}

/// What a decoder knows of the records of one route (a Windows channel and event ID; a web
/// server log), for [`RuleSet::raw_plan`].
pub struct RouteFacts<'a> {
    /// The form of the records' text.
    pub form: RawForm,
    /// Every log source such a record may get.
    pub logsources: &'a [LogSource],
    /// Whether the decoder computes a field (by name) rather than copying it from the record.
    pub computed: &'a dyn Fn(&str) -> bool,
    /// The value every such record has in a field (its channel, its event ID), if known.
    pub known: &'a dyn Fn(&str) -> Option<String>,
    /// Whether every copied field's value is a whole JSON string or literal of the record (not
    /// a part of one, as the `key: value` lines of an MSSQL audit record are): then a value
    /// that must equal a text is searched for as that text in quotes. Read only for JSON.
    pub whole_values: bool,
    /// The texts of some records of the route (in its form), to tell how common an atom is
    /// there: the first [`crate::MAX_SAMPLES`] are read. May be empty.
    pub samples: &'a [Vec<u8>],
}

impl RawPlan {
    /// The plan for the records of a route (see the module documentation). An atom on a field
    /// whose value is known is decided here, once, instead of searched for.
    pub(crate) fn new(rules: &RuleSet, facts: &RouteFacts<'_>) -> RawPlan {
        let names = rules.field_names();
        let computed: Vec<bool> = names.iter().map(|name| (facts.computed)(name)).collect();
        let known: Vec<Option<String>> =
            names.iter().map(|name| (facts.known)(name).map(|v| fold(&v).into_owned())).collect();
        let any_computed = computed.contains(&true);
        let form = facts.form;
        let whole_values = facts.whole_values && form == RawForm::Json;
        let weak = rules.weak_fields();
        let atom_use = |atom: Atom| {
            if let Some(Some(value)) = known.get(atom.field as usize) {
                let holds = match &atom.need {
                    Need::Exact(text) => value == text,
                    Need::Contains(text) => value.contains(text.as_str()),
                };
                return if holds { AtomUse::Unknown } else { AtomUse::Never };
            }
            let verbatim = match atom.field {
                ANY_FIELD => !any_computed,
                id => computed.get(id as usize) == Some(&false),
            };
            let (Need::Exact(text) | Need::Contains(text)) = &atom.need;
            let whole = whole_values
                && matches!(atom.need, Need::Exact(_))
                && text.is_ascii()
                && !literal_like(text);
            match raw_text(text, form) {
                Some(raw) if verbatim && whole => AtomUse::Search(Atom {
                    field: atom.field,
                    need: Need::Contains(format!("\"{raw}\"")),
                }),
                Some(raw) if verbatim => {
                    AtomUse::Search(Atom { field: atom.field, need: Need::Contains(raw) })
                }
                _ => AtomUse::Unknown,
            }
        };
        let weak = |id: u32| weak.get(id as usize).copied().unwrap_or(false);
        let route_rules: Vec<&CompiledRule> = rules
            .rules()
            .iter()
            .filter(|rule| facts.logsources.iter().any(|l| rule.logsource().matches(l)))
            .collect();
        let message = |atom: &Atom| {
            atom.field == ANY_FIELD
                || names
                    .get(atom.field as usize)
                    .is_some_and(|name| name.eq_ignore_ascii_case("message"))
        };
        let plan = |judge: &Judge<'_>| match atoms(&route_rules, judge) {
            Ok(atoms) => {
                let in_message: Option<Vec<String>> = (form == RawForm::Json).then(|| {
                    let atoms = atoms.iter().filter(|atom| message(atom));
                    atoms.map(|atom| atom_text(atom.need.clone())).collect()
                });
                let texts = atoms.into_iter().map(|atom| atom_text(atom.need)).collect();
                RawPlan::from(RawMatcher::new(texts, form, in_message))
            }
            Err(because) => RawPlan::DecodeAll { because },
        };
        // The choices of an AND made by length, unless there are samples.
        let judge = Judge { weak: &weak, atom: &atom_use, found: &Judge::unsampled };
        if facts.samples.is_empty() {
            return plan(&judge);
        }
        // Every atom an AND chooses among, counted in the samples. (The first AND on the way up
        // from an atom scores it whatever is chosen below, so these are all that the choices
        // by the samples will score.)
        let every = Mutex::new(Vec::new());
        let scored = |atom: &Atom| {
            let (Need::Exact(text) | Need::Contains(text)) = &atom.need;
            every.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(text.clone());
            0
        };
        let _ = atoms(&route_rules, &Judge { found: &scored, ..judge });
        let mut every = every.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        every.sort_unstable();
        every.dedup();
        let found = Found::new(every, facts.samples);
        let found = |atom: &Atom| found.of(atom);
        plan(&Judge { found: &found, ..judge })
    }
}

impl From<Option<RawMatcher>> for RawPlan {
    fn from(matcher: Option<RawMatcher>) -> RawPlan {
        match matcher {
            Some(matcher) => RawPlan::Test(matcher),
            None => RawPlan::DecodeAll { because: "the automaton could not be built".into() },
        }
    }
}

impl RawMatcher {
    /// The search for `texts` (atom texts in `form`, folded) over lowered text, and for those
    /// of `in_message` (`Some` for JSON) in a record's `Message` ([`RawMatcher::in_message`]);
    /// `None` if no search can be built.
    fn new(
        mut texts: Vec<String>,
        form: RawForm,
        in_message: Option<Vec<String>>,
    ) -> Option<RawMatcher> {
        let in_message = match in_message {
            Some(texts) if !texts.is_empty() => Some(Arc::new(RawMatcher::new(texts, form, None)?)),
            _ => None,
        };
        texts.sort_unstable();
        texts.dedup();
        let atoms = texts.len();
        // The atoms are folded already; the search runs over lowered text.
        texts.extend(hiding_texts());
        let small = texts.len() <= SMALL_DFA;
        let packed = small
            .then(|| {
                let mut config = packed::Config::new();
                config.match_kind(packed::MatchKind::LeftmostFirst).builder().extend(&texts).build()
            })
            .flatten();
        let (search, texts) = match packed {
            Some(searcher) => (Search::Packed(searcher), None),
            None => {
                let kind =
                    if small { AhoCorasickKind::DFA } else { AhoCorasickKind::ContiguousNFA };
                let automaton = AhoCorasick::builder()
                    .kind(Some(kind))
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&texts)
                    .ok()?;
                (Search::Automaton(automaton), (!small).then_some(texts))
            }
        };
        Some(RawMatcher { search, lowered: true, texts, form, atoms, in_message })
    }
}

/// What a lowered search looks for besides the atoms: the characters that fold to ASCII and the
/// field names lineage reads (a record holding any is decoded).
fn hiding_texts() -> impl Iterator<Item = String> {
    let folds = FOLDS_TO_ASCII.iter().map(|c| c.to_string());
    folds.chain(LINEAGE_READS.iter().map(|name| name.to_ascii_lowercase()))
}

/// The atoms searched for to find what `rules` need, as `judge` makes them; `Err` with the
/// title of a rule that needs nothing to be searched for.
fn atoms(rules: &[&CompiledRule], judge: &Judge<'_>) -> Result<Vec<Atom>, String> {
    let mut atoms = Vec::new();
    for rule in rules {
        atoms.extend(rule.needs(judge).ok_or_else(|| rule.info.title.clone())?);
    }
    Ok(atoms)
}

/// The text searched for to find an atom.
fn atom_text(need: Need) -> String {
    match need {
        Need::Exact(text) | Need::Contains(text) => super::tail(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shellward_event::ReadJson;

    #[test]
    fn only_two_characters_fold_to_ascii() {
        let found: Vec<char> = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|c| !c.is_ascii() && c.to_lowercase().any(|l| l.is_ascii()))
            .collect();
        assert_eq!(found, FOLDS_TO_ASCII);
    }

    /// An atom's text in JSON.
    fn json_text(text: &str) -> Option<String> {
        raw_text(text, RawForm::Json)
    }

    /// An atom's text in a W3C line's form.
    fn w3c_text(text: &str) -> Option<String> {
        raw_text(text, RawForm::Plain { space: b'+', joins: b"?", escapes: &[] })
    }

    #[test]
    fn atoms_in_json_form() {
        assert_eq!(json_text("\\cmd.exe").as_deref(), Some("\\\\cmd.exe"));
        assert_eq!(json_text("a\"b"), None);
        assert_eq!(json_text("a\nb"), None);
        assert_eq!(json_text("1.5"), None);
        assert_eq!(json_text("1e3"), None);
        assert_eq!(json_text("4688").as_deref(), Some("4688"));
        assert_eq!(json_text("-5").as_deref(), Some("-5"));
        assert_eq!(json_text("straße.exe").as_deref(), Some("e.exe"));
        assert_eq!(json_text("éé"), None);
        assert_eq!(json_text("überwachung").as_deref(), Some("berwachung"));
    }

    #[test]
    fn atoms_in_plain_form() {
        assert_eq!(w3c_text("\\cmd.exe").as_deref(), Some("\\cmd.exe"));
        assert_eq!(w3c_text("a\"b").as_deref(), Some("a\"b"));
        assert_eq!(w3c_text("1.5").as_deref(), Some("1.5"));
        assert_eq!(w3c_text("cmd=whoami").as_deref(), Some("cmd=whoami"));
        // A space as IIS writes it; a join of the decoder.
        assert_eq!(w3c_text("mozilla/5.0 (windows").as_deref(), Some("mozilla/5.0+(windows"));
        assert_eq!(w3c_text("a+b").as_deref(), Some("a+b"));
        assert_eq!(w3c_text(".aspx?cmd"), None);
        // Negative numbers, which the text may write with leading zeros.
        assert_eq!(w3c_text("-5"), None);
        assert_eq!(w3c_text("-"), None);
        assert_eq!(w3c_text("-x").as_deref(), Some("-x"));
        assert_eq!(w3c_text("404").as_deref(), Some("404"));
        assert_eq!(w3c_text("a\tb"), None);
        assert_eq!(w3c_text("überwachung").as_deref(), Some("berwachung"));
    }

    #[test]
    fn a_plain_escape_hides_text() {
        let plan = |escapes: &'static [&'static [u8]]| {
            let search = Search::Automaton(AhoCorasick::new(["needle"]).unwrap());
            let form = RawForm::Plain { space: b' ', joins: b"", escapes };
            RawMatcher { search, lowered: true, texts: None, form, atoms: 1, in_message: None }
        };
        assert!(!plan(&[]).may_match(&RawText::whole(b"GET /a\\b")));
        assert!(plan(&[b"\\"]).may_match(&RawText::whole(b"GET /a\\b")));
        assert!(!plan(&[b"\\"]).may_match(&RawText::whole(b"GET /a/b")));
        assert!(plan(&[]).may_match(&RawText::whole(b"GET /NEEDLE")));
        assert!(plan(&[b"&", b"<!"]).may_match(&RawText::whole(b"<Data>a<![CDATA[b]]>c</Data>")));
        assert!(!plan(&[b"&", b"<!"]).may_match(&RawText::whole(b"<Data>a<b/>c</Data>")));
    }

    #[test]
    fn the_faster_search_finds_what_the_lowered_one_finds() {
        let mut texts: Vec<String> = ["\\\\lsass.exe", "\"0x1fffff\"", "mimikatz", "sekurlsa::"]
            .iter()
            .map(|t| (*t).to_owned())
            .collect();
        texts.extend((0..80).map(|i| format!("tool{i}.exe")));
        texts.extend(FOLDS_TO_ASCII.iter().map(|c| c.to_string()));
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::LeftmostFirst)
            .build(&texts)
            .unwrap();
        let lowered = RawMatcher {
            search: Search::Automaton(automaton),
            lowered: true,
            texts: Some(texts),
            form: RawForm::Json,
            atoms: 84,
            in_message: None,
        };
        let faster = lowered.faster().expect("a DFA of 86 texts");
        assert!(faster.faster().is_none(), "a DFA is not rebuilt");
        let records: [&[u8]; 9] = [
            br#"{"TargetImage":"C:\\Windows\\LSASS.EXE"}"#,
            br#"{"GrantedAccess":"0x1FFFFF"}"#,
            br#"{"GrantedAccess":"0x1FFFFFF"}"#,
            br#"{"CommandLine":"MimiKatz"}"#,
            br#"{"CommandLine":"TOOL42.EXE run"}"#,
            "{\"x\":\"\u{212A}\"}".as_bytes(),
            "{\"x\":\"\u{0130}\"}".as_bytes(),
            br#"{"x":"nothing here"}"#,
            br#"{"x":"tool.exe"}"#,
        ];
        for record in records {
            assert_eq!(
                faster.may_match(&RawText::whole(record)),
                lowered.may_match(&RawText::whole(record)),
                "{}",
                String::from_utf8_lossy(record)
            );
        }
        assert!(!faster.may_match(&RawText::whole(br#"{"x":"nothing here"}"#)));
        assert!(faster.may_match(&RawText::whole(br#"{"CommandLine":"TOOL42.EXE run"}"#)));
    }

    #[test]
    fn teddy_alone_finds_what_an_automaton_finds_in_short_and_long_texts() {
        let atoms = ["\\\\lsass.exe", "\"0x1410\"", "mimikatz", "ab"];
        let texts: Vec<String> = atoms.iter().map(|t| (*t).to_owned()).collect();
        let packed = RawMatcher::new(texts.clone(), RawForm::Json, None).unwrap();
        assert!(matches!(packed.search, Search::Packed(_)), "a few texts get Teddy alone");
        let all: Vec<String> = texts.into_iter().chain(hiding_texts()).collect();
        let search = Search::Automaton(AhoCorasick::new(&all).unwrap());
        let reference = RawMatcher {
            search,
            lowered: true,
            texts: None,
            form: RawForm::Json,
            atoms: 4,
            in_message: None,
        };
        // Each atom (and near misses) at the start, middle and end of texts from 0 to 80 bytes
        // (where Teddy falls back to Rabin-Karp) and of 200 and 1,000 bytes.
        for needle in
            ["C:\\\\LSASS.EXE", "\"0x1410\"", "MimiKatz", "aB", "a", "mimikat", "\u{212A}"]
        {
            for len in (0..80).chain([200, 1000]) {
                for at in [0, len / 2, len] {
                    let mut text = "x".repeat(len);
                    text.insert_str(at, needle);
                    let record = RawText::whole(text.as_bytes());
                    assert_eq!(packed.may_match(&record), reference.may_match(&record), "{text}");
                }
            }
        }
        assert!(!packed.may_match(&RawText::whole(b"xxxxmimikatxxxx")));
        assert_eq!(
            packed.may_match(&RawText::whole(b"A")),
            reference.may_match(&RawText::whole(b"A"))
        );
    }

    #[test]
    fn a_message_is_searched_only_for_the_atoms_that_may_be_in_it() {
        let text = br#"{"Channel":"A","EventID":1,"Message":"a NEEDLE","CommandLine":"plain"}"#;
        let start = text.windows(3).position(|w| w == b"\"a ").unwrap();
        let end = start + br#""a NEEDLE""#.len();
        let read = |in_message| ReadJson {
            message: Some((start, end)),
            hiding_escape: false,
            hiding_escape_in_message: in_message,
        };
        let raw = |in_message| RawText { bytes: text, read: Some(read(in_message)) };
        let plan = |atoms: &[&str], in_message: &[&str]| {
            let owned = |texts: &[&str]| texts.iter().map(|t| (*t).to_owned()).collect();
            RawMatcher::new(owned(atoms), RawForm::Json, Some(owned(in_message))).unwrap()
        };
        // Of fields other than Message: the Message is passed over.
        assert!(!plan(&["needle"], &[]).may_match(&raw(false)));
        assert!(plan(&["plain"], &[]).may_match(&raw(false)));
        assert!(plan(&["needle"], &[]).may_match(&RawText::whole(text)));
        // A keyword (or an atom of Message) is looked for in it too.
        assert!(plan(&["needle", "other"], &["needle"]).may_match(&raw(false)));
        assert!(!plan(&["other"], &["other"]).may_match(&raw(false)));
        // An escape that may hide a character counts only where the text is searched.
        assert!(!plan(&["other"], &[]).may_match(&raw(true)));
        assert!(plan(&["other"], &["other"]).may_match(&raw(true)));
        // The same of a DFA that ignores case itself.
        let many: Vec<String> =
            (0..80).map(|i| format!("tool{i}")).chain(["needle".into()]).collect();
        let faster = plan(&many.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        let faster = faster.faster().unwrap();
        assert!(!faster.may_match(&raw(false)));
        assert!(faster.may_match(&RawText::whole(text)));
    }

    #[test]
    fn escapes_that_hide_text() {
        assert!(!hides_text(br#"{"a":"C:\\Users\\x","b":"say \"hi\"\r\n"}"#));
        assert!(hides_text(br#"{"a":"\u0041"}"#));
        assert!(hides_text(br#"{"a":"http:\/\/x"}"#));
        assert!(!hides_text(br#"{"a":"C:\\users"}"#));
        assert!(hides_text(br#"{"a":"C:\\\users"}"#));
        assert!(!hides_text(b"trailing \\"));
    }
}
