//! Sigma rule loading: files, directories and embedded text to parsed rules, with diagnostics that
//! point at a file and a line.
//!
//! # Design
//!
//! Parsing Sigma is not ours to write: the YAML structure, the modifier chains, the condition
//! grammar, multi-document collections with `action: global/repeat`, correlation rules and filters are
//! all parsed by [`rsigma_parser`] (pinned, re-exported here as [`ast`] so the engine and renderers
//! use the same types). This crate adds what a command-line tool needs around it:
//!
//! - **Where a rule came from.** Every parsed document keeps its [`Origin`] (a path, or the name of a
//!   rule embedded in the binary) and the YAML text, so that any later stage (the compiler rejecting
//!   a construct, a renderer failing on a modifier) can report `file:line` by asking
//!   [`RuleText::line_of`] for the line where a key or value appears.
//! - **Diagnostics like a compiler's.** [`Diagnostic`] is `path:line:col: severity: message`, with
//!   the rule's title; the parser's errors are strings, from which the YAML position is recovered
//!   when it gives one.
//! - **Nothing silently dropped.** A file that does not parse is a diagnostic; a rule in it that does
//!   parse is still loaded, because rsigma collects errors per document.
//!
//! Nothing here matches events; see `shellward_engine`.

mod diagnostic;
mod load;
mod text;

pub use diagnostic::{Diagnostic, Severity};
pub use load::{Loaded, LoadedCorrelation, LoadedFilter, LoadedRule, load_paths, load_text};
pub use rsigma_parser as ast;
pub use text::{Origin, RuleText};
