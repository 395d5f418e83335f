//! The set of compiled rules a hunt runs, built from everything loaded, with the diagnostics of
//! what could not be used.

use rayon::prelude::*;
use rsigma_parser::FilterRuleTarget;
use shellward_event::{Event, LogSource};
use shellward_sigma::{Diagnostic, Loaded, RuleText, Severity};

use crate::compile::error::CompileError;
use crate::compile::fields::FieldIds;
use crate::compile::level::Level;
use crate::compile::logsource::RuleLogSource;
use crate::compile::rule::CompiledRule;
use crate::evaluate::binding::{Bound, Folded};
use crate::prefilter::Prefilter;
use crate::prefilter::raw::{RawPlan, RouteFacts};
use crate::scratch::Scratch;
use crate::state::correlation::{Correlation, Correlator, Resolution};
use crate::state::lineage::ANCESTOR_FIELDS;

/// Compiled rules, immutable once built and shared by every worker.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<CompiledRule>,
    correlations: Vec<Correlation>,
    /// What the correlations' members name, resolved against `rules`.
    resolution: Resolution,
    fields: FieldIds,
    /// What the fast evaluator derives from the rules. Built eagerly, not on first use: building
    /// runs on the rayon pool, and a lazy build from inside a parallel match could be re-entered by
    /// a stolen job on the same thread. (Only the prefilter's automata are built on first use, each
    /// group's on the calling thread: [`crate::prefilter`].)
    index: Index,
}

/// See [`RuleSet::index`].
#[derive(Debug)]
struct Index {
    prefilter: Prefilter,
    /// Per rule: the field ids its items read.
    rule_fields: Vec<Vec<u32>>,
    /// Per field id: the rules that read it.
    readers: Vec<Vec<u32>>,
    /// The rules with keyword searches (which read every field).
    keyword_rules: Vec<u32>,
    /// The rules that read the ancestor fields lineage adds.
    lineage_rules: Vec<u32>,
}

impl RuleSet {
    /// Compiles every loaded rule and applies the loaded filters. Rules that cannot be compiled
    /// are left out, each with an error diagnostic naming the rule, the construct and its line.
    ///
    /// Rules compile in parallel, each with field ids of its own; they then join the set's ids in
    /// load order, so the ids do not depend on the threads.
    pub fn compile(loaded: &Loaded) -> (RuleSet, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut fields = FieldIds::default();
        let mut rules = Vec::with_capacity(loaded.rules.len());
        let compiled: Vec<_> = loaded
            .rules
            .par_iter()
            .map(|loaded_rule| {
                let origin = loaded_rule.text.origin.to_string();
                let mut own = FieldIds::default();
                CompiledRule::compile(&loaded_rule.rule, origin, loaded_rule.line, &mut own)
            })
            .collect();
        for (loaded_rule, compiled) in loaded.rules.iter().zip(compiled) {
            match compiled {
                Ok(mut rule) => {
                    rule.intern_fields(&mut fields);
                    rules.push(rule);
                }
                Err(error) => diagnostics.push(located(
                    &loaded_rule.text,
                    loaded_rule.line,
                    &loaded_rule.rule.title,
                    &error,
                )),
            }
        }
        let mut seen = std::collections::HashMap::new();
        for rule in &rules {
            if let Some(id) = &rule.info.id
                && let Some(first) = seen.insert(id.clone(), rule.info.origin.clone())
            {
                diagnostics.push(warning(
                    &rule.info.origin,
                    Some(rule.info.line),
                    &rule.info.title,
                    format!("duplicate rule id {id} (also in {first})"),
                ));
            }
        }
        for filter in &loaded.filters {
            let scope = filter.rule.logsource.as_ref().map(RuleLogSource::new).unwrap_or_default();
            let mut applied = 0;
            for rule in rules.iter_mut() {
                let targeted = match &filter.rule.rules {
                    FilterRuleTarget::Any => true,
                    FilterRuleTarget::Specific(names) => {
                        names.iter().any(|n| rule.info.is_named(n))
                    }
                };
                if !targeted || !scope.within(rule.logsource()) {
                    continue;
                }
                if let Err(error) = rule.add_filter(&filter.rule.detection, &mut fields) {
                    diagnostics.push(located(
                        &filter.text,
                        filter.line,
                        &filter.rule.title,
                        &error,
                    ));
                    break;
                }
                applied += 1;
            }
            if applied == 0 {
                diagnostics.push(warning(
                    &filter.text.origin.to_string(),
                    Some(filter.line),
                    &filter.rule.title,
                    "filter applies to no loaded rule".to_string(),
                ));
            }
        }
        let mut correlations = Vec::new();
        for loaded_correlation in &loaded.correlations {
            let origin = loaded_correlation.text.origin.to_string();
            let title = &loaded_correlation.rule.title;
            match Correlation::compile(loaded_correlation) {
                Ok(correlation) => correlations.push(correlation),
                Err(error) => diagnostics.push(error_diagnostic(
                    &origin,
                    Some(loaded_correlation.line),
                    title,
                    error.to_string(),
                )),
            }
        }
        let index = Index::new(&rules, &fields);
        let resolution = Resolution::new(&rules, &correlations);
        let set = RuleSet { rules, correlations, resolution, fields, index };
        let correlator = Correlator::new(&set);
        for (i, correlation) in set.correlations.iter().enumerate() {
            let unresolved = correlator.unresolved(i);
            let problem = if !unresolved.is_empty() {
                format!("references no loaded rule: {}", unresolved.join(", "))
            } else if correlator.in_cycle(i) {
                "is part of a chain of correlations that loops; it is not evaluated".to_owned()
            } else {
                continue;
            };
            let info = &correlation.info;
            diagnostics.push(warning(&info.origin, Some(info.line), &info.title, problem));
        }
        (set, diagnostics)
    }

    /// Error diagnostics for the rules' regular expressions that cannot be built (their automaton
    /// would pass the size limit), which match nothing (or, if only the Unicode automaton is too
    /// large, nothing but ASCII text). Patterns are built on first use, so by
    /// default only those a run has tried are known; `build_all` builds every one first (as
    /// `rules check` does, to report them before any run).
    pub fn regex_problems(&self, build_all: bool) -> Vec<Diagnostic> {
        let problems: Vec<Vec<String>> = if build_all {
            self.rules.par_iter().map(|rule| rule.regex_problems(true)).collect()
        } else {
            self.rules.iter().map(|rule| rule.regex_problems(false)).collect()
        };
        self.rules
            .iter()
            .zip(problems)
            .flat_map(|(rule, problems)| {
                let info = &rule.info;
                problems.into_iter().map(|message| {
                    error_diagnostic(&info.origin, Some(info.line), &info.title, message)
                })
            })
            .collect()
    }

    /// The correlation rules, in load order.
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// What the correlations' members name (see [`Resolution`]).
    pub fn resolution(&self) -> &Resolution {
        &self.resolution
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Keeps only the rules `keep` accepts (e.g. at or above a level).
    pub fn retain(&mut self, keep: impl FnMut(&CompiledRule) -> bool) {
        self.rules.retain(keep);
        self.index = Index::new(&self.rules, &self.fields);
        self.resolution = Resolution::new(&self.rules, &self.correlations);
    }

    /// Keeps the rules at or above `min` (`--min-level`), and those below it that a correlation at
    /// or above it names (they then alert only through it).
    pub fn retain_at_or_above(&mut self, min: Level) {
        let needed: Vec<String> = self
            .correlations
            .iter()
            .filter(|c| c.info.level >= min)
            .flat_map(|c| c.members.iter().cloned())
            .collect();
        self.retain(|rule| {
            rule.info.level >= min || needed.iter().any(|name| rule.info.is_named(name))
        });
    }

    /// The indexes of the rules the event matches, in rule order, into `out` (cleared first).
    ///
    /// The fast evaluator: the event is bound to the rule set's field ids in `scratch` (one per
    /// worker, reused from event to event); the prefilter (`crate::prefilter`) names the
    /// candidate rules, and only those are evaluated, reading field values folded at most once per
    /// event. Gives exactly what [`RuleSet::matching_reference`] gives.
    pub fn matching(&self, event: &Event, scratch: &mut Scratch, out: &mut Vec<usize>) {
        out.clear();
        let index = &self.index;
        scratch.bind(&self.fields, event);
        index.prefilter.candidates(&self.rules, event, scratch.split());
        let (bound, folded, state) = scratch.split();
        self.evaluate(event, bound, folded, &mut state.memo, &state.candidates, |rule, matched| {
            if matched {
                out.push(rule as usize);
            }
        });
    }

    /// The fast evaluation of `rules` on an event bound in `bound`: every field they read is
    /// folded once, then `verdict(rule, matched)` is called for each, in order.
    fn evaluate(
        &self,
        event: &Event,
        bound: Bound<'_>,
        folded: &mut Folded,
        memo: &mut Vec<u8>,
        rules: &[u32],
        mut verdict: impl FnMut(u32, bool),
    ) {
        for &rule in rules {
            for &field in &self.index.rule_fields[rule as usize] {
                folded.fold(bound, event, field);
            }
        }
        let (view, folded) = (bound.view(event), &*folded);
        for &rule in rules {
            let matched = self.rules[rule as usize]
                .eval(memo, |det| det.eval(&|item| item.matches_folded(view, folded)));
            verdict(rule, matched);
        }
    }

    /// After fields named `added` were added to an event (by [`crate::Lineage`]), re-evaluates
    /// the rules that read any of them, or search keywords, and that the prefilter leaves as
    /// candidates, and updates `marks` (the sorted indexes of the rules the event matched before)
    /// to what the event matches now.
    pub fn rematch<'a>(
        &self,
        event: &Event,
        added: impl IntoIterator<Item = &'a str>,
        scratch: &mut Scratch,
        marks: &mut Vec<u32>,
    ) {
        let index = &self.index;
        let mut affected: Vec<u32> = index.keyword_rules.clone();
        for name in added {
            if let Some(id) = self.fields.get(name) {
                affected.extend(&index.readers[id as usize]);
            }
        }
        if affected.is_empty() {
            return;
        }
        affected.sort_unstable();
        affected.dedup();
        // Only the prefilter's candidates for the event as it is now can match it: the others
        // are settled without evaluating them (most rules read ParentImage, which lineage adds to
        // 4688 events).
        scratch.bind(&self.fields, event);
        index.prefilter.candidates(&self.rules, event, scratch.split());
        let (bound, folded, state) = scratch.split();
        affected.retain(|rule| {
            let candidate = state.candidates.binary_search(rule).is_ok();
            if !candidate && let Ok(at) = marks.binary_search(rule) {
                marks.remove(at);
            }
            candidate
        });
        self.evaluate(event, bound, folded, &mut state.memo, &affected, |rule, matched| {
            match (marks.binary_search(&rule), matched) {
                (Err(at), true) => marks.insert(at, rule),
                (Ok(at), false) => {
                    marks.remove(at);
                }
                _ => {}
            }
        });
    }

    /// Whether a rule reading the ancestor fields of lineage ([`ANCESTOR_FIELDS`]) takes events of
    /// this log source: such events must reach lineage before they can be matched.
    pub fn reads_lineage(&self, logsource: &LogSource) -> bool {
        let rules = &self.rules;
        self.index.lineage_rules.iter().any(|&i| rules[i as usize].logsource().matches(logsource))
    }

    /// How a decoder may test the raw text of the records of one route before decoding them
    /// ([`RawPlan`]), given what it knows of them ([`RouteFacts`]). Built anew on each call: a
    /// decoder keeps it per route.
    pub fn raw_plan(&self, facts: &RouteFacts<'_>) -> RawPlan {
        RawPlan::new(self, facts)
    }

    /// Per field id: its name.
    pub(crate) fn field_names(&self) -> Vec<&str> {
        self.fields.names()
    }

    /// Per field id: whether it selects little.
    pub(crate) fn weak_fields(&self) -> Vec<bool> {
        self.fields.weak_fields()
    }

    /// Whether an event of this log source can match any rule of the set: `false` lets a decoder
    /// skip such a record before building it. Uses (and fills) the worker's plan cache in
    /// `scratch`.
    pub fn can_match(&self, logsource: &LogSource, scratch: &mut Scratch) -> bool {
        self.index.prefilter.meets_any(logsource, &mut scratch.fast)
    }

    /// Reference evaluation: the indexes of the rules the event matches, in rule order, into `out`
    /// (cleared first). The event's fields are bound to the rule set's field ids once, in
    /// `scratch` (reused from event to event), and every rule reads them by id; every rule is
    /// evaluated.
    pub fn matching_reference(&self, event: &Event, scratch: &mut Scratch, out: &mut Vec<usize>) {
        out.clear();
        scratch.bind(&self.fields, event);
        let view = scratch.view(event);
        out.extend(
            self.rules
                .iter()
                .enumerate()
                .filter(|(_, rule)| rule.matches_view(view))
                .map(|(i, _)| i),
        );
    }
}

impl Index {
    fn new(rules: &[CompiledRule], fields: &FieldIds) -> Index {
        let weak: Vec<bool> = fields.weak_fields();
        let prefilter =
            Prefilter::new(rules, &|id| weak.get(id as usize).copied().unwrap_or(false));
        let rule_fields: Vec<Vec<u32>> = rules.iter().map(CompiledRule::field_ids).collect();
        let mut readers = vec![Vec::new(); fields.len()];
        for (rule, ids) in rule_fields.iter().enumerate() {
            for &id in ids {
                readers[id as usize].push(rule as u32);
            }
        }
        let keyword_rules =
            (0..rules.len() as u32).filter(|&i| rules[i as usize].reads_keywords()).collect();
        let mut lineage_rules: Vec<u32> = ANCESTOR_FIELDS
            .iter()
            .filter_map(|name| fields.get(name))
            .flat_map(|id| readers[id as usize].iter().copied())
            .collect();
        lineage_rules.sort_unstable();
        lineage_rules.dedup();
        Index { prefilter, rule_fields, readers, keyword_rules, lineage_rules }
    }
}

fn located(text: &RuleText, line: u32, title: &str, error: &CompileError) -> Diagnostic {
    let key = error.key();
    let field = key.split('|').next().unwrap_or(key);
    let position = text
        .line_of(&format!("{key}:"), line)
        .or_else(|| text.line_of(key, line))
        .or_else(|| if field.is_empty() { None } else { text.line_of(field, line) });
    Diagnostic {
        origin: text.origin.to_string(),
        line: Some(position.map_or(line, |p| p.0)),
        column: position.map(|p| p.1),
        severity: Severity::Error,
        rule: Some(title.to_string()),
        message: error.to_string(),
    }
}

/// An error about a rule, as [`warning`] makes a warning.
fn error_diagnostic(origin: &str, line: Option<u32>, title: &str, message: String) -> Diagnostic {
    Diagnostic { severity: Severity::Error, ..warning(origin, line, title, message) }
}

fn warning(origin: &str, line: Option<u32>, title: &str, message: String) -> Diagnostic {
    Diagnostic {
        origin: origin.to_string(),
        line,
        column: None,
        severity: Severity::Warning,
        rule: Some(title.to_string()),
        message,
    }
}
