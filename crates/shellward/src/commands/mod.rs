//! One module per subcommand.

pub(crate) mod events;
pub(crate) mod hunt;
pub(crate) mod ruleload;
pub(crate) mod rules;
