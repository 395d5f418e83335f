//! Sigma correlation rules as SIEM queries: [`spl`] (a sliding `streamstats` window per group)
//! and [`kql`] (member rules as `let` sets, a window anchored at every signal by a self-join).

mod kql;
mod spl;

pub use kql::kql;
pub use spl::spl;

use rsigma_parser::{ConditionOperator, CorrelationRule};
use shellward_engine::{CompiledRule, RuleSet};

/// A correlation's member rules found in `set` by id, name or title, each with the reference
/// naming it; the error names a member that is not loaded.
pub fn members<'a>(
    set: &'a RuleSet,
    correlation: &'a CorrelationRule,
) -> Result<Vec<(&'a str, &'a CompiledRule)>, String> {
    correlation
        .rules
        .iter()
        .map(|reference| {
            set.rules()
                .iter()
                .find(|rule| rule.info.is_named(reference))
                .map(|rule| (reference.as_str(), rule))
                .ok_or_else(|| format!("its rule {reference} is not loaded"))
        })
        .collect()
}

/// A threshold operator as the query languages write it.
fn operator(op: ConditionOperator) -> &'static str {
    match op {
        ConditionOperator::Lt => "<",
        ConditionOperator::Lte => "<=",
        ConditionOperator::Gt => ">",
        ConditionOperator::Gte => ">=",
        ConditionOperator::Eq => "==",
        ConditionOperator::Neq => "!=",
    }
}
