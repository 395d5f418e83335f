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
//! - [`kql`]: Defender XDR / Sentinel advanced hunting tables;
//! - [`spl`]: Splunk over Windows event logs in XML (Sysmon, Security, Application...);
//! - [`cql`]: CrowdStrike LogScale over Falcon events;
//! - [`sigma`]: the rule itself as normalized Sigma YAML;
//! - [`sqlite`]: SQL over a table of normalized events. It exists to prove the lowering: a test
//!   runs its SQL over the same events the engine sees and requires the same matches.
//!
//! Where a Sigma field comes from several columns of a target's data (Defender's registry key and
//! value name, Falcon's parent), each target's source table (`source`) computes it as the
//! decoders do, so a query and a hunt over the same data agree. [`combine`] joins several rules
//! into one query in the shape of the hand-written seeds: one block per signal with its detection
//! type and severity, unioned and sorted.

pub mod combine;
pub mod correlation;
pub mod cql;
mod error;
pub mod kql;
mod mapped;
mod pattern;
mod quote;
pub mod server;
pub mod sigma;
mod source;
pub mod spl;
pub mod sqlite;
mod tree;

pub use error::RenderError;

use shellward_engine::CompiledRule;

/// A query language rules are rendered to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Microsoft Defender XDR / Sentinel advanced hunting.
    Kql,
    /// Splunk.
    Spl,
    /// CrowdStrike LogScale.
    Cql,
    /// Sigma YAML.
    Sigma,
    /// SQLite over normalized events.
    Sqlite,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 5] =
        [Target::Kql, Target::Spl, Target::Cql, Target::Sigma, Target::Sqlite];

    /// The target's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Kql => "kql",
            Target::Spl => "spl",
            Target::Cql => "cql",
            Target::Sigma => "sigma",
            Target::Sqlite => "sqlite",
        }
    }

    /// The file extension of a rendered query.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Kql => "kql",
            Target::Spl => "spl",
            Target::Cql => "cql",
            Target::Sigma => "yml",
            Target::Sqlite => "sql",
        }
    }

    /// `text` as one comment line, ending in a newline. Line breaks become spaces, and
    /// ```` ``` ```` (SPL's comment marker) is written `'''`, so no text can end the comment and
    /// become query.
    pub fn comment_line(self, text: &str) -> String {
        let text = text.replace(['\n', '\r'], " ").replace("```", "'''");
        match self {
            Target::Kql | Target::Cql => format!("// {text}\n"),
            Target::Spl => format!("``` {text} ```\n"),
            Target::Sigma => format!("# {text}\n"),
            Target::Sqlite => format!("-- {text}\n"),
        }
    }
}

/// What a SIEM query's header says of a rule that reads `AncestorImage`.
pub const ANCESTRY_NOTE: &str = "AncestorImage (shellward's process lineage: every ancestor) is \
    stated as the two ancestors the events name or join, parent and grandparent: narrower than a hunt";

/// The notes a header of `rule`'s query in `target` carries: where the query and a hunt differ.
pub fn notes(rule: &CompiledRule, target: Target) -> Vec<&'static str> {
    let mut notes = Vec::new();
    if target == Target::Sigma {
        return notes;
    }
    if server::reads_server_identity(rule) {
        notes.push(server::NOTE);
    }
    if server::reads_field(rule, "AncestorImage") {
        notes.push(ANCESTRY_NOTE);
    }
    notes
}

/// The notes of a query of several rules (combined, or a correlation's members): each rule's
/// [`notes`], once.
pub fn notes_of<'r>(
    rules: impl IntoIterator<Item = &'r CompiledRule>,
    target: Target,
) -> Vec<&'static str> {
    let mut notes = Vec::new();
    for note in rules.into_iter().flat_map(|rule| crate::notes(rule, target)) {
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    notes
}

/// `rule` as a query in `target`. `text` is the rule's YAML document (the Sigma target prints it
/// normalized; the others do not need it).
pub fn render(rule: &CompiledRule, target: Target, text: &str) -> Result<String, RenderError> {
    expressible(rule, target)?;
    match target {
        Target::Kql => kql::render(rule),
        Target::Spl => spl::render(rule),
        Target::Cql => cql::render(rule),
        Target::Sigma => sigma::render(text),
        Target::Sqlite => sqlite::render(rule),
    }
}

/// Refuses what no query language can state: a `first_seen` rule alerts on the first occurrence
/// after a baseline, which needs the history a hunt keeps; its condition alone would match every
/// candidate. (The Sigma target writes the attribute as it is.)
pub(crate) fn expressible(rule: &CompiledRule, target: Target) -> Result<(), RenderError> {
    match &rule.info.first_seen {
        Some(first_seen) if target != Target::Sigma => Err(RenderError::unsupported(
            target.name(),
            format!(
                "first_seen (a first occurrence of {} after a baseline needs the history a hunt keeps; the rule's condition alone would match every candidate)",
                first_seen.fields.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}
