//! The Sigma engine: compiles parsed rules against the event model and evaluates them.
//!
//! # Design
//!
//! Rules arrive parsed (`shellward_sigma`, which wraps `rsigma-parser`). Compilation turns each
//! rule into a [`CompiledRule`]: its logsource ([`RuleLogSource`]), its search identifiers as
//! vectors of items, each item a list of matchers, and its condition with every selector
//! (`1 of sel_*`, `all of them`) already expanded to identifier indexes. All value modifiers are
//! applied at compile time (`windash` and `base64offset` become several alternatives, `wide` and
//! `base64` rewrite the value, `contains`/`startswith`/`endswith` become wildcards), so evaluation
//! only compares text, numbers, networks and regexes.
//!
//! Anything the engine cannot do exactly is a [`CompileError`] naming the rule, the construct and
//! its line; a rule is never half-run.
//!
//! Field names are interned to small ids when a [`RuleSet`] is compiled; to evaluate an event the
//! set binds the event's fields to those ids once ([`Scratch`]), so every item reads its field by
//! index. A rule evaluated on its own ([`CompiledRule::matches`]) reads fields by name; both paths
//! are exercised by the tests.
//!
//! This crate holds the *reference* evaluator: [`CompiledRule::matches`] walks the condition and
//! checks each item directly, with no prefilter and no sharing between rules. It is written to be
//! obviously right; the fast evaluator is checked against it.
//!
//! State lives outside the rules, in objects the caller owns: [`Lineage`] (the process table
//! that adds ancestor fields to events, fed in input order) and [`Correlator`] (correlation rules
//! run over the time-sorted alerts of a hunt). A [`RuleSet`] stays immutable and shared.
//!
//! # Layout
//!
//! Modules depend on the ones above them only:
//!
//! ```text
//! compile    Sigma rule -> CompiledRule (items, detections, conditions, patterns, field ids;
//!            lower: the same rules as queries, for the renderers)
//! evaluate   a compiled rule against a bound event (reference and fast paths)
//! prefilter  what each rule needs from an event, so most rules are never evaluated
//! RuleSet    the set: compiled once, shared; matching = prefilter + fast evaluation;
//!            Scratch: each worker's memory for both
//! state      what a hunt keeps between events: lineage, correlation (and their checkpoints)
//! ```
//!
//! The alert contract (what an alert says, its stable id) is written where alerts are made, in
//! `shellward_hunt`.
//!
//! The semantics are SIGMA.md §6 (Sigma v2.1): case-insensitive whole-value matching unless
//! `cased`; `*`/`?` wildcards; numbers in rules compare as text; lists are OR (`|all`: AND); an item
//! on an absent field is false except `null`; `neq` needs the field; `exists` is presence (a null
//! value is present); keywords are substring searches over every field.

pub(crate) mod compile;
pub(crate) mod evaluate;
pub(crate) mod prefilter;
mod ruleset;
mod scratch;
pub(crate) mod state;

pub use compile::error::CompileError;
pub use compile::first_seen::FirstSeen;
pub use compile::level::Level;
pub use compile::logsource::RuleLogSource;
pub use compile::lower::{GlobUnit, Query, RefPosition, ValueTest};
pub use compile::rule::{CompiledRule, RuleInfo};
pub use prefilter::raw::{RawMatcher, RawPlan, RouteFacts};
pub use prefilter::sampled::MAX_SAMPLES;
pub use ruleset::RuleSet;
pub use scratch::Scratch;
pub use state::correlation::{self, Correlation, Correlator};
pub use state::lineage::{self, Lineage};
pub use state::server;
