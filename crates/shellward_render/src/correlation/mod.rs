//! Sigma correlation rules as SIEM queries: [`spl`] (a sliding `streamstats` window per group)
//! and [`kql`] (member rules as `let` sets, a window anchored at every signal by a self-join).

mod kql;
mod spl;

pub use kql::kql;
pub use spl::spl;

use rsigma_parser::ConditionOperator;

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
