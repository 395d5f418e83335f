//! The rule itself as normalized Sigma YAML, for sharing.
//!
//! Normalized means: comments and formatting dropped, top-level keys in the order the Sigma
//! specification lists them (`title`, `id`, ... `detection`, `fields`, `falsepositives`, `level`)
//! with custom attributes after them in their own order, and strings quoted only where YAML needs
//! it. The detection is kept as written (not the lowered form), so the rule stays the rule its
//! author wrote and any Sigma tool reads it the same way.

use crate::RenderError;
use yaml_serde::{Mapping, Value};

const TARGET: &str = "sigma";

/// Sigma's top-level keys in the specification's order.
const ORDER: &[&str] = &[
    "title",
    "id",
    "name",
    "related",
    "taxonomy",
    "status",
    "description",
    "license",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "logsource",
    "detection",
    "correlation",
    "filter",
    "fields",
    "falsepositives",
    "level",
    "scope",
    "generate",
];

/// The rule document `text` (one YAML document) normalized.
pub fn render(text: &str) -> Result<String, RenderError> {
    let value: Value = yaml_serde::from_str(text)
        .map_err(|e| RenderError::unsupported(TARGET, format!("a rule that is not YAML ({e})")))?;
    let Value::Mapping(mapping) = value else {
        return Err(RenderError::unsupported(TARGET, "a rule that is not a YAML mapping"));
    };
    let mut ordered = Mapping::new();
    for key in ORDER {
        if let Some(value) = mapping.get(*key) {
            ordered.insert(Value::String((*key).to_owned()), value.clone());
        }
    }
    for (key, value) in &mapping {
        if !ordered.contains_key(key) {
            ordered.insert(key.clone(), value.clone());
        }
    }
    yaml_serde::to_string(&Value::Mapping(ordered))
        .map_err(|e| RenderError::unsupported(TARGET, format!("a value YAML cannot write ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_spec_order_and_comments_gone() {
        let text = "level: high # tuned\ndetection_type: X\ndetection:\n  sel:\n    A: 'x'\n  condition: sel\nlogsource:\n  category: process_creation\ntitle: T\n";
        let out = render(text).unwrap();
        assert_eq!(
            out,
            "title: T\nlogsource:\n  category: process_creation\ndetection:\n  sel:\n    A: x\n  condition: sel\nlevel: high\ndetection_type: X\n"
        );
    }
}
