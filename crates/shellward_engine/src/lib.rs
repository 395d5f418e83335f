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
//! The semantics are SIGMA.md §6 (Sigma v2.1): case-insensitive whole-value matching unless
//! `cased`; `*`/`?` wildcards; numbers in rules compare as text; lists are OR (`|all`: AND); an item
//! on an absent field is false except `null`; `neq` needs the field; `exists` is presence (a null
//! value is present); keywords are substring searches over every field.

mod alert;
mod cidr;
mod condition;
pub mod correlation;
mod detection;
mod encode;
mod error;
mod fields;
mod first_seen;
mod item;
mod level;
pub mod lineage;
mod logsource;
mod lower;
mod need;
mod pattern;
mod prefilter;
mod rule;
mod ruleset;

pub use alert::{SECTIONS, alert_id, alert_json, rfc3339, stable_id};
pub use correlation::{Correlation, Correlator};
pub use error::CompileError;
pub use fields::Scratch;
pub use first_seen::FirstSeen;
pub use level::Level;
pub use lineage::Lineage;
pub use logsource::RuleLogSource;
pub use lower::{GlobUnit, Query, RefPosition, ValueTest};
pub use rule::{CompiledRule, RuleInfo};
pub use ruleset::RuleSet;
