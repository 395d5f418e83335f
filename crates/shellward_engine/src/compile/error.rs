//! Why a rule could not be compiled.

use thiserror::Error;

/// A rule the engine cannot run, with the detection key or construct to point at.
#[derive(Debug, Error)]
pub enum CompileError {
    /// A construct the engine does not implement. The rule is refused, never half-run.
    #[error("unsupported: {construct}")]
    Unsupported {
        /// What is not supported, e.g. `modifier 'expand'`.
        construct: String,
        /// Text to find in the rule file to locate it.
        key: String,
    },
    /// A value or modifier combination that cannot mean anything.
    #[error("{key}: {message}")]
    Invalid {
        /// The detection key or modifier concerned.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A condition names a detection that does not exist, or a selector matches none.
    #[error("condition: {0}")]
    Condition(String),
}

impl CompileError {
    pub(crate) fn invalid(key: &str, message: impl Into<String>) -> CompileError {
        CompileError::Invalid { key: key.to_string(), message: message.into() }
    }

    pub(crate) fn unsupported(construct: impl Into<String>, key: &str) -> CompileError {
        CompileError::Unsupported { construct: construct.into(), key: key.to_string() }
    }

    /// Text to look for in the rule file to find the line this error is about.
    pub fn key(&self) -> &str {
        match self {
            CompileError::Unsupported { key, .. } | CompileError::Invalid { key, .. } => key,
            CompileError::Condition(_) => "condition",
        }
    }
}
