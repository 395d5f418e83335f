//! The tuning file as written (`shellward.toml`), read with serde; [`super::Tuning::parse`]
//! checks what serde cannot and locates every mistake.

use super::pattern::Pattern;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    /// Named groups of hosts: name → host patterns.
    #[serde(default)]
    pub(crate) scopes: BTreeMap<String, Vec<Spanned<Pattern>>>,
    /// `[[allow]]`: alerts that are not reported.
    #[serde(default)]
    pub(crate) allow: Vec<Spanned<Entry>>,
    /// `[[level]]`: a rule's level on some hosts.
    #[serde(default)]
    pub(crate) level: Vec<Spanned<Entry>>,
    /// `[[suppress]]`: repeats folded into one alert.
    #[serde(default)]
    pub(crate) suppress: Vec<Spanned<Entry>>,
    /// Extra Sigma files or directories (filters, rules), relative to the tuning file.
    #[serde(default)]
    pub(crate) sigma: Vec<Spanned<String>>,
}

/// One entry of `[[allow]]`, `[[level]]` or `[[suppress]]`: which alerts (rule, detection type,
/// scope, host; none given: all), and what each kind adds. Keys another kind uses are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    /// A rule's id, name or title.
    pub(crate) rule: Option<Spanned<String>>,
    /// A `detection_type`.
    pub(crate) detection_type: Option<Spanned<String>>,
    /// A scope from `[scopes]`.
    pub(crate) scope: Option<Spanned<String>>,
    /// A host pattern.
    pub(crate) host: Option<Spanned<Pattern>>,
    /// allow: `Image`.
    pub(crate) image: Option<Spanned<Pattern>>,
    /// allow: `CommandLine`.
    pub(crate) command_line: Option<Spanned<Pattern>>,
    /// allow: `ParentImage`.
    pub(crate) parent: Option<Spanned<Pattern>>,
    /// allow: `ParentCommandLine`.
    pub(crate) parent_command_line: Option<Spanned<Pattern>>,
    /// allow: a file or key path (`TargetFilename`, `FilePath`, `ImageLoaded`, `TargetObject`).
    pub(crate) path: Option<Spanned<Pattern>>,
    /// allow: `User`.
    pub(crate) user: Option<Spanned<Pattern>>,
    /// allow: why (shown by `--explain-suppressed`).
    pub(crate) reason: Option<String>,
    /// level: the level the alerts get.
    pub(crate) level: Option<Spanned<String>>,
    /// suppress: fields whose values must be equal too (besides rule and host).
    pub(crate) fields: Option<Vec<String>>,
    /// suppress: how long after an alert its repeats are folded into it (`30m`, `1h`, `1d`).
    pub(crate) window: Option<Spanned<String>>,
}
