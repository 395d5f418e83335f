//! Named detections (search identifiers): maps of items (AND), lists of maps (OR), keyword lists.

use rsigma_parser::{Detection, DetectionItem, FieldSpec, Modifier};

use crate::compile::error::CompileError;
use crate::compile::fields::{Field, FieldIds};
use crate::compile::item::{self, Item};

/// A compiled search identifier.
#[derive(Debug, Clone)]
pub(crate) enum Det {
    /// A map: every item must match.
    All(Vec<Item>),
    /// A list of maps: any must match.
    Any(Vec<Det>),
}

/// Compiles a detection. Array-matching blocks (a proposed Sigma v3 extension) are refused.
pub(crate) fn compile(
    name: &str,
    detection: &Detection,
    ids: &mut FieldIds,
) -> Result<Det, CompileError> {
    match detection {
        Detection::AllOf(items) => {
            Ok(Det::All(items.iter().map(|i| item::compile(i, ids)).collect::<Result<_, _>>()?))
        }
        Detection::AnyOf(subs) => {
            Ok(Det::Any(subs.iter().map(|d| compile(name, d, ids)).collect::<Result<_, _>>()?))
        }
        Detection::Keywords(values) => {
            let keywords = DetectionItem {
                field: FieldSpec::new(None, vec![Modifier::Contains]),
                values: values.clone(),
            };
            Ok(Det::All(vec![item::compile(&keywords, ids)?]))
        }
        Detection::ArrayMatch { .. } | Detection::And(_) | Detection::Conditional { .. } => {
            Err(CompileError::unsupported("array matching blocks (field[any]/field[all])", name))
        }
    }
}

impl Det {
    /// Appends the ids of the fields its items read.
    pub(crate) fn field_ids(&self, out: &mut Vec<u32>) {
        match self {
            Det::All(items) => {
                out.extend(items.iter().filter_map(|i| i.field.as_ref().map(|f| f.id)))
            }
            Det::Any(subs) => subs.iter().for_each(|sub| sub.field_ids(out)),
        }
    }

    /// Calls `f` with every field its items read (`fieldref` targets included).
    pub(crate) fn fields_mut(&mut self, f: &mut impl FnMut(&mut Field)) {
        match self {
            Det::All(items) => items.iter_mut().for_each(|item| item.fields_mut(f)),
            Det::Any(subs) => subs.iter_mut().for_each(|sub| sub.fields_mut(f)),
        }
    }

    /// Calls `f` with every item.
    pub(crate) fn items(&self, f: &mut impl FnMut(&Item)) {
        match self {
            Det::All(items) => items.iter().for_each(&mut *f),
            Det::Any(subs) => subs.iter().for_each(|sub| sub.items(f)),
        }
    }

    /// Whether any item is a keyword search (no field).
    pub(crate) fn has_keywords(&self) -> bool {
        match self {
            Det::All(items) => items.iter().any(|i| i.field.is_none()),
            Det::Any(subs) => subs.iter().any(Det::has_keywords),
        }
    }

    /// Evaluation, with `item` evaluating one item (by reference or fast).
    pub(crate) fn eval(&self, item: &impl Fn(&Item) -> bool) -> bool {
        match self {
            Det::All(items) => items.iter().all(item),
            Det::Any(subs) => subs.iter().any(|sub| sub.eval(item)),
        }
    }
}
