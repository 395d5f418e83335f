//! Compilation: a parsed Sigma rule becomes a [`CompiledRule`](rule::CompiledRule), every
//! modifier applied and every field name interned, so evaluation only compares.
//!
//! Nothing here depends on evaluation, the prefilter or hunt state.

pub(crate) mod cidr;
pub(crate) mod condition;
pub(crate) mod detection;
pub(crate) mod encode;
pub(crate) mod error;
pub(crate) mod fields;
pub(crate) mod first_seen;
pub(crate) mod item;
pub(crate) mod level;
pub(crate) mod logsource;
pub(crate) mod lower;
pub(crate) mod pattern;
pub(crate) mod regex;
pub(crate) mod rule;
