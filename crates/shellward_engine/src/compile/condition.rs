//! Conditions compiled to indexes of search identifiers, with selectors (`1 of sel_*`,
//! `all of them`) expanded once at compile time.

use std::collections::HashMap;

use rsigma_parser::{ConditionExpr, Quantifier, SelectorPattern};

use crate::compile::error::CompileError;

/// A compiled condition over search identifiers `0..n` of a rule.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Det(usize),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// At least `n` of these identifiers (`1 of`, `all of`, `N of`).
    AtLeast(usize, Vec<usize>),
}

/// Compiles a condition; `names` maps each identifier to its index.
pub(crate) fn compile(
    expr: &ConditionExpr,
    names: &HashMap<String, usize>,
) -> Result<Cond, CompileError> {
    Ok(match expr {
        ConditionExpr::Identifier(name) => Cond::Det(*names.get(name).ok_or_else(|| {
            CompileError::Condition(format!("'{name}' is not a search identifier of this rule"))
        })?),
        ConditionExpr::Not(inner) => Cond::Not(Box::new(compile(inner, names)?)),
        ConditionExpr::And(parts) => {
            Cond::And(parts.iter().map(|p| compile(p, names)).collect::<Result<_, _>>()?)
        }
        ConditionExpr::Or(parts) => {
            Cond::Or(parts.iter().map(|p| compile(p, names)).collect::<Result<_, _>>()?)
        }
        ConditionExpr::Selector { quantifier, pattern } => {
            let mut matched: Vec<(&String, usize)> = names
                .iter()
                .filter(|(name, _)| selects(pattern, name))
                .map(|(n, i)| (n, *i))
                .collect();
            matched.sort();
            if matched.is_empty() {
                return Err(CompileError::Condition(format!(
                    "'{quantifier} of {pattern}' matches no search identifier"
                )));
            }
            let indexes: Vec<usize> = matched.into_iter().map(|(_, i)| i).collect();
            let needed = match quantifier {
                Quantifier::Any => 1,
                Quantifier::All => indexes.len(),
                Quantifier::Count(n) => usize::try_from(*n).unwrap_or(usize::MAX),
            };
            Cond::AtLeast(needed, indexes)
        }
    })
}

/// Whether a selector pattern selects an identifier: `them` is every identifier not starting
/// with `_`; a pattern is a full match with `*` as any run, and does not select `_` identifiers
/// unless it starts with `_` itself.
fn selects(pattern: &SelectorPattern, name: &str) -> bool {
    match pattern {
        SelectorPattern::Them => !name.starts_with('_'),
        SelectorPattern::Pattern(pattern) => {
            (pattern.starts_with('_') || !name.starts_with('_'))
                && crate::compile::pattern::star_glob(pattern, name)
        }
    }
}

impl Cond {
    /// Evaluates with `det(i)` telling whether identifier `i` matched.
    pub(crate) fn eval(&self, det: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Det(i) => det(*i),
            Cond::Not(inner) => !inner.eval(det),
            Cond::And(parts) => parts.iter().all(|p| p.eval(det)),
            Cond::Or(parts) => parts.iter().any(|p| p.eval(det)),
            Cond::AtLeast(needed, indexes) => {
                let mut count = 0;
                for &i in indexes {
                    if det(i) {
                        count += 1;
                        if count >= *needed {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn selector_globs_are_linear() {
        use crate::compile::pattern::star_glob;
        assert!(star_glob("sel*", "selection"));
        assert!(star_glob("*tion", "selection"));
        assert!(star_glob("s*l*c*n", "selection"));
        assert!(!star_glob("sel*x", "selection"));
        assert!(star_glob("*", ""));
        assert!(!star_glob("a", ""));
        // Found by fuzzing (fuzz/ cql target): exponential with a recursive match.
        let many = format!("se{}cess", "*".repeat(61));
        assert!(!star_glob(&many, "selection_parent"));
        assert!(star_glob(&many, "selection_process"));
    }

    use super::*;

    #[test]
    fn selector_patterns() {
        let p = |s: &str| SelectorPattern::Pattern(s.to_string());
        assert!(selects(&p("selection_*"), "selection_img"));
        assert!(selects(&p("sel*img"), "selection_img"));
        assert!(!selects(&p("selection_*"), "selection"));
        assert!(!selects(&p("*"), "_hidden"));
        assert!(selects(&p("_*"), "_hidden"));
        assert!(!selects(&SelectorPattern::Them, "_hidden"));
        assert!(selects(&SelectorPattern::Them, "filter"));
    }
}
