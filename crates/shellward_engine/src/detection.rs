//! Named detections (search identifiers): maps of items (AND), lists of maps (OR), keyword lists.

use rsigma_parser::{Detection, DetectionItem, FieldSpec, Modifier};
use shellward_event::Event;

use crate::error::CompileError;
use crate::item::{self, Item};

/// A compiled search identifier.
#[derive(Debug, Clone)]
pub(crate) enum Det {
    /// A map: every item must match.
    All(Vec<Item>),
    /// A list of maps: any must match.
    Any(Vec<Det>),
}

/// Compiles a detection. Array-matching blocks (a proposed Sigma v3 extension) are refused.
pub(crate) fn compile(name: &str, detection: &Detection) -> Result<Det, CompileError> {
    match detection {
        Detection::AllOf(items) => {
            Ok(Det::All(items.iter().map(item::compile).collect::<Result<_, _>>()?))
        }
        Detection::AnyOf(subs) => {
            Ok(Det::Any(subs.iter().map(|d| compile(name, d)).collect::<Result<_, _>>()?))
        }
        Detection::Keywords(values) => {
            let keywords = DetectionItem {
                field: FieldSpec::new(None, vec![Modifier::Contains]),
                values: values.clone(),
            };
            Ok(Det::All(vec![item::compile(&keywords)?]))
        }
        Detection::ArrayMatch { .. } | Detection::And(_) | Detection::Conditional { .. } => {
            Err(CompileError::unsupported("array matching blocks (field[any]/field[all])", name))
        }
    }
}

impl Det {
    /// Reference evaluation.
    pub(crate) fn matches(&self, event: &Event) -> bool {
        match self {
            Det::All(items) => items.iter().all(|item| item.matches(event)),
            Det::Any(subs) => subs.iter().any(|sub| sub.matches(event)),
        }
    }
}
