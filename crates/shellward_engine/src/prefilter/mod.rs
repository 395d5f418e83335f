//! The fast evaluator's index: which rules can still match an event, found in one pass over each
//! field that some rule needs.
//!
//! At compile time rules are grouped by logsource, and each group's atoms
//! ([`crate::prefilter::need`]) are gathered per field; when an event first meets the group they
//! become *scanners*, one per field: an Aho-Corasick automaton over the folded texts the field must
//! contain, and a hash map of the folded values it must equal. At run time an event is first routed
//! by its log source to the groups it meets (found on first sight of each log source and cached),
//! then those groups' scanners run over the event's folded field values; the candidates are the
//! groups' rules without atoms plus those with an atom present. Only the candidates are evaluated,
//! exactly. Grouping keeps each automaton to the texts that can matter for the events it sees: the
//! keyword searches of one `product: windows` rule are not looked for in every field of every event
//! because some `service: system` rule also has keywords.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rustc_hash::FxHashMap;

use aho_corasick::{AhoCorasick, Input, MatchKind};
use rayon::prelude::*;
use shellward_event::{Event, LogSource, Value};

use crate::compile::logsource::RuleLogSource;
use crate::evaluate::binding::{Bound, Folded};
pub(crate) mod need;
pub(crate) mod raw;
pub(crate) mod sampled;

use crate::compile::pattern::{Need, fold_value_into};
use crate::compile::rule::CompiledRule;
use need::{ANY_FIELD, Atom};

/// One field's atoms, for the rules of one group.
#[derive(Debug)]
struct Scanner {
    field: u32,
    /// The texts the folded value must contain, and for each the rules that need it.
    contains: Option<AhoCorasick>,
    /// Per text: the rules that need it or any text that is a prefix of it (all of which occur
    /// where it does, at the same start).
    contains_rules: Vec<Vec<u32>>,
    /// Every text has the same rules (typically: one rule's values or keywords), so finding any
    /// one is enough.
    one_list: bool,
    /// No text contains [`SEPARATOR`], so a keyword scanner may search [`Joined`] values.
    joinable: bool,
    /// The folded values, and for each the rules that need it. (Looked up with input text: a fast
    /// hash, since the keys come from the rules.)
    exact: FxHashMap<String, Vec<u32>>,
}

/// The rules that share one logsource (so an event meets all of them or none).
#[derive(Debug)]
struct Group {
    logsource: RuleLogSource,
    /// Rules without atoms, in order: candidates whenever the group applies.
    always: Vec<u32>,
    /// Its scanners, one per field, built when an event first meets the group: building their
    /// automata was most of the time spent indexing, and a collection rarely has every log source
    /// a large rule set reads (of the 62 groups of every SigmaHQ Windows rule, evtx-to-mitre meets
    /// 28, OTRF 26, the bundled samples 7). The build runs on the calling thread, without the rayon
    /// pool, so that a worker waiting for another's build cannot be handed the build's own work.
    scanners: LazyLock<Vec<Scanner>, Box<dyn FnOnce() -> Vec<Scanner> + Send>>,
}

/// One field's atoms in a group: the field, its contains texts (each with its rules, in first-seen
/// order) and its exact values.
type FieldAtoms = (u32, Vec<(String, Vec<u32>)>, FxHashMap<String, Vec<u32>>);

/// The index of a rule set.
#[derive(Debug)]
pub(crate) struct Prefilter {
    groups: Vec<Group>,
    /// Per event log source: the groups it meets (built on first sight).
    plans: Mutex<HashMap<LogSource, Arc<[u32]>>>,
    /// Tells apart the rule sets a [`Scratch`] may have been used with.
    id: u64,
}

/// A worker's state for the fast evaluator (inside [`Scratch`]).
#[derive(Debug, Default)]
pub(crate) struct State {
    owner: u64,
    plans: FxHashMap<LogSource, Arc<[u32]>>,
    /// Per rule: the generation in which it was last marked a candidate.
    marks: Vec<u32>,
    generation: u32,
    /// The candidates of the current event.
    pub(crate) candidates: Vec<u32>,
    /// Memory for the rule evaluation's memo.
    pub(crate) memo: Vec<u8>,
    /// Folded text of a value being scanned that was not folded in advance.
    element: String,
    /// Every value of the current event folded, for keyword searches (built on first need).
    joined: Joined,
}

/// The folded text of every value of an event (list elements each on their own), joined by
/// [`SEPARATOR`], so that a keyword scanner searches an event in one pass instead of one per field:
/// a text without the separator can only occur inside one value.
#[derive(Debug, Default)]
struct Joined {
    text: String,
    /// Each value's byte range in `text` (for exact keyword values).
    spans: Vec<(usize, usize)>,
    /// The generation of the event `text` holds.
    generation: u32,
}

/// What [`Joined`] puts between values.
const SEPARATOR: char = '\0';

impl Joined {
    /// Folds every value of `event` unless this generation's event is already held.
    fn fill(&mut self, event: &Event, generation: u32) {
        if self.generation == generation {
            return;
        }
        self.generation = generation;
        self.text.clear();
        self.spans.clear();
        for (_, value) in event.fields() {
            self.push(value);
        }
    }

    fn push(&mut self, value: &Value) {
        if let Value::List(items) = value {
            items.iter().for_each(|item| self.push(item));
            return;
        }
        let start = self.text.len();
        if fold_value_into(value, &mut self.text) {
            self.spans.push((start, self.text.len()));
            self.text.push(SEPARATOR);
        } else {
            self.text.truncate(start);
        }
    }
}

/// A group's atoms while it is being built: per field, the contains texts (each with its rules,
/// in first-seen order) and the exact values.
type Atoms = FxHashMap<
    u32,
    (Vec<(String, Vec<u32>)>, FxHashMap<String, usize>, FxHashMap<String, Vec<u32>>),
>;

impl Prefilter {
    /// Indexes `rules`; `weak` tells the fields that select little (see [`crate::prefilter::need`]).
    pub(crate) fn new(rules: &[CompiledRule], weak: &(dyn Fn(u32) -> bool + Sync)) -> Prefilter {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let judge = need::Judge { weak, atom: &need::Judge::keep, found: &need::Judge::unsampled };
        let needs: Vec<_> = rules.par_iter().map(|rule| rule.needs(&judge)).collect();
        let mut groups: Vec<(RuleLogSource, Vec<u32>, Atoms)> = Vec::new();
        let mut group_of: FxHashMap<&RuleLogSource, usize> = FxHashMap::default();
        for (index, (rule, needs)) in rules.iter().zip(needs).enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            let group = *group_of.entry(rule.logsource()).or_insert_with(|| {
                groups.push((rule.logsource().clone(), Vec::new(), FxHashMap::default()));
                groups.len() - 1
            });
            let (_, always, atoms) = &mut groups[group];
            let Some(needs) = needs else {
                always.push(index);
                continue;
            };
            for Atom { field, need } in needs {
                let (contains, slots, exact) = atoms.entry(field).or_default();
                match need {
                    Need::Exact(text) => exact.entry(text).or_default().push(index),
                    Need::Contains(text) => {
                        let text = tail(text);
                        let slot = *slots.entry(text.clone()).or_insert_with(|| {
                            contains.push((text, Vec::new()));
                            contains.len() - 1
                        });
                        contains[slot].1.push(index);
                    }
                }
            }
        }
        let groups: Vec<Group> = groups
            .into_iter()
            .map(|(logsource, always, atoms)| {
                let mut fields: Vec<FieldAtoms> = atoms
                    .into_iter()
                    .map(|(field, (contains, _, exact))| (field, contains, exact))
                    .collect();
                fields.sort_by_key(|(field, ..)| *field);
                let build = move || {
                    fields
                        .into_iter()
                        .map(|(field, contains, exact)| Scanner::new(field, contains, exact))
                        .collect()
                };
                Group { logsource, always, scanners: LazyLock::new(Box::new(build)) }
            })
            .collect();
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Prefilter { groups, plans: Mutex::default(), id }
    }

    /// Whether some rule's log source is met by events of `logsource` (so such an event can match
    /// at all).
    pub(crate) fn meets_any(&self, logsource: &LogSource, state: &mut State) -> bool {
        !self.cached_plan(state, logsource).is_empty()
    }

    /// [`Prefilter::plan`], through the worker's cache.
    fn cached_plan(&self, state: &mut State, logsource: &LogSource) -> Arc<[u32]> {
        if state.owner != self.id {
            *state = State { owner: self.id, ..State::default() };
        }
        match state.plans.get(logsource) {
            Some(plan) => Arc::clone(plan),
            None => {
                let plan = self.plan(logsource);
                state.plans.insert(*logsource, Arc::clone(&plan));
                plan
            }
        }
    }

    /// The groups an event log source meets, found on first sight.
    fn plan(&self, logsource: &LogSource) -> Arc<[u32]> {
        let mut plans = self.plans.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(plans.entry(*logsource).or_insert_with(|| {
            (0..self.groups.len())
                .filter(|&g| self.groups[g].logsource.matches(logsource))
                .map(|g| u32::try_from(g).unwrap_or(u32::MAX))
                .collect()
        }))
    }

    /// Fills `state.candidates` with the rules that can match `event`, in rule order. The event
    /// must be bound (`bound`) already; `folded` takes the text folded on the way.
    pub(crate) fn candidates(
        &self,
        rules: &[CompiledRule],
        event: &Event,
        (bound, folded, state): (Bound<'_>, &mut Folded, &mut State),
    ) {
        let plan = self.cached_plan(state, &event.logsource);
        state.generation = state.generation.wrapping_add(1);
        if state.generation == 0 || state.marks.len() != rules.len() {
            state.marks.clear();
            state.marks.resize(rules.len(), 0);
            state.generation = 1;
            state.joined.generation = 0;
        }
        state.candidates.clear();
        let generation = state.generation;
        let (marks, candidates, element, joined) =
            (&mut state.marks, &mut state.candidates, &mut state.element, &mut state.joined);
        let mut mark = |rule: u32| {
            let r = rule as usize;
            if marks[r] != generation {
                marks[r] = generation;
                candidates.push(rule);
            }
        };
        for &g in plan.iter() {
            let group = &self.groups[g as usize];
            group.always.iter().for_each(|&r| mark(r));
            for scanner in group.scanners.iter() {
                if scanner.field == ANY_FIELD {
                    if scanner.joinable {
                        joined.fill(event, generation);
                        scanner.scan_joined(joined, &mut mark);
                    } else {
                        for (_, value) in event.fields() {
                            scanner.scan_value(value, element, &mut mark);
                        }
                    }
                    continue;
                }
                match bound.value(event, scanner.field) {
                    None | Some(Value::Null) => {}
                    Some(value @ Value::List(_)) => scanner.scan_value(value, element, &mut mark),
                    Some(_) => {
                        folded.fold(bound, event, scanner.field);
                        if let Some(text) = folded.get(scanner.field) {
                            scanner.scan(text, &mut mark);
                        }
                    }
                }
            }
        }
        state.candidates.sort_unstable();
    }
}

/// An automaton over the folded texts, run over folded values (measured: folding a value and
/// searching it case-sensitively beats an ASCII-case-insensitive automaton on the raw value by a
/// quarter, because the case-sensitive one can use the SIMD prefilters). The builder's choice of
/// kind: a DFA for up to 100 texts, else a contiguous NFA. Forcing a DFA up to 300 texts, as this
/// did before, cost more to build than it saved: with every SigmaHQ Windows rule over
/// evtx-to-mitre, 440 against 500 ms of CPU and 272 against 286 ms wall, and no faster on OTRF
/// (`perf stat -r 8`). Leftmost-longest semantics, which let the search use the SIMD prefilters:
/// [`Scanner::scan_contains`] finds every text that occurs from them.
fn automaton<'t>(texts: impl ExactSizeIterator<Item = &'t str>) -> Option<AhoCorasick> {
    AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(texts).ok()
}

/// For each text, the rules of every text that is a prefix of it (itself included), sorted.
fn prefix_closure(contains: &[(String, Vec<u32>)]) -> Vec<Vec<u32>> {
    let index: HashMap<&str, usize> =
        contains.iter().enumerate().map(|(i, (text, _))| (text.as_str(), i)).collect();
    contains
        .iter()
        .map(|(text, rules)| {
            let mut all = rules.clone();
            for (end, _) in text.char_indices().skip(1) {
                if let Some(&prefix) = index.get(&text[..end]) {
                    all.extend(&contains[prefix].1);
                }
            }
            all.sort_unstable();
            all.dedup();
            all
        })
        .collect()
}

/// The longest text put in an automaton, in bytes: longer texts (hashes, whole command lines) are
/// cut to their last bytes, which any value containing the whole text contains too. This bounds
/// the automata (5,000 hashes would otherwise make a trie of 200,000 states) at no cost in
/// selectivity worth measuring.
const MAX_TEXT: usize = 16;

/// The last [`MAX_TEXT`] bytes of a text (or a little more, to end on a character boundary).
fn tail(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut start = text.len() - MAX_TEXT;
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        text.drain(..start);
    }
    text
}

impl Scanner {
    fn new(
        field: u32,
        contains: Vec<(String, Vec<u32>)>,
        exact: FxHashMap<String, Vec<u32>>,
    ) -> Scanner {
        let one_list = contains.windows(2).all(|pair| pair[0].1 == pair[1].1);
        let joinable = !contains.iter().any(|(text, _)| text.contains(SEPARATOR));
        let texts = contains.iter().map(|(text, _)| text.as_str());
        let automaton = (!contains.is_empty()).then(|| automaton(texts)).flatten();
        let contains_rules = if one_list {
            contains.into_iter().take(1).map(|(_, rules)| rules).collect()
        } else {
            prefix_closure(&contains)
        };
        Scanner { field, contains: automaton, contains_rules, one_list, joinable, exact }
    }

    /// Scans every value of an event at once (a keyword scanner whose texts are all
    /// [`Scanner::joinable`]).
    fn scan_joined(&self, joined: &Joined, found: &mut impl FnMut(u32)) {
        if !self.exact.is_empty() {
            for &(start, end) in &joined.spans {
                if let Some(rules) = joined.text.get(start..end).and_then(|v| self.exact.get(v)) {
                    rules.iter().for_each(|&r| found(r));
                }
            }
        }
        self.scan_contains(&joined.text, found);
    }

    /// Scans a value that was not folded in advance (a list's elements, or any field for keyword
    /// searches), folding it into `buffer`.
    fn scan_value(&self, value: &Value, buffer: &mut String, found: &mut impl FnMut(u32)) {
        if let Value::List(items) = value {
            items.iter().for_each(|item| self.scan_value(item, buffer, found));
            return;
        }
        buffer.clear();
        if fold_value_into(value, buffer) {
            self.scan(buffer, found);
        }
    }

    /// Calls `found` with every rule that has an atom `text` holds (a rule may come several times).
    fn scan(&self, text: &str, found: &mut impl FnMut(u32)) {
        if let Some(rules) = self.exact.get(text) {
            rules.iter().for_each(|&r| found(r));
        }
        self.scan_contains(text, found);
    }

    /// Calls `found` with every rule that has a contains atom `text` holds. Every start of an
    /// occurrence of some text is visited once, leftmost first: there the longest text that occurs
    /// is reported, and every other text occurring at that start is a prefix of it, whose rules
    /// its closure holds ([`prefix_closure`]).
    fn scan_contains(&self, text: &str, found: &mut impl FnMut(u32)) {
        let Some(automaton) = &self.contains else { return };
        if self.one_list {
            if automaton.is_match(text) {
                self.contains_rules[0].iter().for_each(|&r| found(r));
            }
            return;
        }
        let mut input = Input::new(text);
        while let Some(hit) = automaton.find(input.clone()) {
            self.contains_rules[hit.pattern().as_usize()].iter().for_each(|&r| found(r));
            if hit.start() + 1 >= text.len() {
                break;
            }
            input.set_start(hit.start() + 1);
        }
    }
}
