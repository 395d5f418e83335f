//! Rules rendered as queries for the places detections run besides shellward.
//!
//! # Design
//!
//! One lowering, many printers. [`shellward_engine::CompiledRule::lower`] turns a compiled rule into
//! a small boolean form ([`shellward_engine::Query`]: all/any/not/at-least over field tests whose
//! modifiers are already applied), the same thing the engine evaluates; each target here only
//! prints that form in its language, escaping every value so that no value can change the query,
//! and returns [`RenderError`] for a part its language cannot express (never a quietly different
//! query).
//!
//! [`sqlite`] is the first target. It exists to prove the lowering: its SQL runs over a table of the
//! same normalized events the engine sees, and a test requires the same matches as the engine for
//! every rule it renders.

mod error;
pub mod sqlite;

pub use error::RenderError;
