//! What a hunt keeps from one event to the next, owned by the caller, never by the shared
//! [`crate::RuleSet`]: the process table ([`lineage`]) and the correlation windows
//! ([`correlation`]), each with the form a checkpoint stores.

pub mod correlation;
pub mod lineage;
pub mod server;
