//! Where a target reads a rule's events from, and what it calls each Sigma field there.
//!
//! Each target has a table of [`Source`]s (a Defender table, a Sysmon EventCode, a Falcon event
//! family) chosen by the rule's log source. A source names the Sigma fields it can provide: a
//! column under another name, a value the query computes first (a `stage` printed before the
//! condition, such as KQL's `extend`), or a column whose paths need rewriting. A field the
//! source does not list is an error naming both, so a rule never silently tests a field the
//! data does not have.

use crate::RenderError;
use shellward_engine::RuleLogSource;

/// How a source provides one Sigma field.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column {
    /// A column of the source, under this name.
    Name(&'static str),
    /// A value the query computes in `stage` (printed before the condition), named like the
    /// Sigma field.
    Computed(&'static str),
    /// A column holding NT device paths (`\Device\HarddiskVolume3\...`) where Sigma writes `C:\`.
    DevicePath(&'static str),
    /// Columns of which an event fills at most one (IPv4 or IPv6): a test passes on either.
    Either(&'static str, &'static str),
    /// Columns computed in a stage, each one value of a list field (the ancestors a row names):
    /// a test passes on either, as a list field's does on any element.
    ComputedEither(&'static str, &'static str, &'static str),
}

/// One place a target reads events from.
#[derive(Debug)]
pub(crate) struct Source {
    /// What the query starts with (a table, a base search, an event filter).
    pub(crate) base: &'static str,
    /// Short name for messages and combined queries.
    pub(crate) label: &'static str,
    /// The Sigma fields it provides.
    pub(crate) fields: &'static [(&'static str, Column)],
    /// Whether a field not listed passes through under its own name (Splunk extracts every XML
    /// field by name).
    pub(crate) open: bool,
}

impl Source {
    /// How this source provides `field`.
    pub(crate) fn field(&self, target: &'static str, field: &str) -> Result<Field, RenderError> {
        let listed = self
            .fields
            .iter()
            .find(|(name, _)| *name == field)
            .or_else(|| self.fields.iter().find(|(name, _)| name.eq_ignore_ascii_case(field)));
        match listed {
            Some((_, Column::Name(column))) => Ok(Field::Name((*column).to_owned())),
            Some((name, Column::Computed(stage))) => Ok(Field::Computed { name, stage }),
            Some((_, Column::DevicePath(column))) => Ok(Field::DevicePath(column)),
            Some((_, Column::Either(a, b))) => Ok(Field::Either(a, b)),
            Some((_, Column::ComputedEither(stage, a, b))) => {
                Ok(Field::ComputedEither { stage, columns: (a, b) })
            }
            None if self.open && plain_name(field) => Ok(Field::Name(field.to_owned())),
            None => Err(RenderError::unsupported(
                target,
                format!("the field {field} (not in {})", self.label),
            )),
        }
    }
}

/// A Sigma field as a source provides it ([`Column`], resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    /// A column.
    Name(String),
    /// A value computed in `stage`, under the Sigma field's name.
    Computed {
        /// The name.
        name: &'static str,
        /// The stage computing it.
        stage: &'static str,
    },
    /// A column of NT device paths.
    DevicePath(&'static str),
    /// Two columns, at most one filled.
    Either(&'static str, &'static str),
    /// Two columns computed in `stage`, either of which may hold.
    ComputedEither {
        /// The stage computing them.
        stage: &'static str,
        /// Their names.
        columns: (&'static str, &'static str),
    },
}

/// A field name every target can print bare.
pub(crate) fn plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The error for a log source a target has no data for.
pub(crate) fn no_source(target: &'static str, logsource: &RuleLogSource) -> RenderError {
    RenderError::unsupported(target, format!("the log source {logsource}"))
}

/// The computed stages a query uses, in first-use order, each once.
#[derive(Debug, Default)]
pub(crate) struct Stages(Vec<&'static str>);

impl Stages {
    /// Notes that the query uses `stage`.
    pub(crate) fn add(&mut self, stage: &'static str) {
        if !self.0.contains(&stage) {
            self.0.push(stage);
        }
    }

    /// The query: `base`, then each stage and `last` on a line of its own after `| `.
    pub(crate) fn pipeline(&self, base: &str, last: &str) -> String {
        let mut out = String::from(base);
        for part in self.0.iter().copied().chain([last]) {
            out.push_str("\n| ");
            out.push_str(part);
        }
        out
    }
}
