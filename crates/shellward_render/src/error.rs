//! Why a rule cannot be rendered for a target.

use thiserror::Error;

/// A part of a rule a target's language cannot express.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RenderError {
    /// The construct has no equivalent in the target.
    #[error("{target} cannot express {construct}")]
    Unsupported {
        /// The target (`sqlite`, `kql`, ...).
        target: &'static str,
        /// What it cannot express.
        construct: String,
    },
}

impl RenderError {
    pub(crate) fn unsupported(target: &'static str, construct: impl Into<String>) -> RenderError {
        RenderError::Unsupported { target, construct: construct.into() }
    }
}
