//! Evaluation: rules compiled by [`crate::compile`] run against events.
//!
//! - [`binding`]: an event's fields bound to the rule set's field ids, folded on demand;
//! - [`item`]: one detection item, by the reference path (every matcher in full) and the fast one
//!   (reading the folded text the prefilter already made);
//! - [`rule`]: a rule's condition and filters over its items ([`crate::CompiledRule::matches`],
//!   the reference evaluator the fast path is checked against).
//!
//! It depends on [`crate::compile`] only; the prefilter ([`crate::prefilter`]) and the rule set
//! ([`crate::RuleSet`]) build on it.

pub(crate) mod binding;
mod item;
mod rule;
