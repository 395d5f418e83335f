//! Web roots and server components on disk: what `shellward scan` looks at.
//!
//! # Design
//!
//! ```text
//! roots ─► walk (no symlink followed; escapes, oversize and unreadable files reported)
//!       ─► content rules (YARA, on script files; on every file for rules that ask)
//!       ─► findings: an Event (provenance = the file, format `file`) and the rule that fired
//!       ─► (recording) every file's size, times, owner and SHA-256, every component
//!       ─► baseline: written, or compared with the last one (drift findings)
//! ```
//!
//! - **Walk** ([`walk`]): each root is walked without following symbolic links; a link that
//!   points out of its root is itself a finding. Files over the size limit are reported, not read;
//!   unreadable ones are problems, and the walk goes on.
//! - **Content** ([`content`]): YARA rules, compiled once ([`ContentRules`]), run on every worker
//!   (a scanner per worker). The built-in set (`rules/yara/`) is written for web shells; any YARA
//!   file or directory the user adds runs too. A rule's `level`, `attack` and `scope` metadata say
//!   how severe a match is, which ATT&CK technique it shows, and whether it reads script files only
//!   (the default) or every file (content that lies about its extension).
//! - **Inventories** ([`inventory`]): the configuration files where servers name what they load
//!   (IIS, Exchange, PHP, Apache, nginx, Tomcat, ESXi) are read whatever their extension, each component listed,
//!   and those loaded from where they should not be are findings.
//! - **Baselines** ([`baseline`]): a versioned JSON record of every file and component under the
//!   roots; comparing a scan with one reports new, changed and removed scripts and components,
//!   new files in upload folders, and scripts whose times were set back.
//! - **Findings** ([`Finding`]) are alerts of the same contract as `hunt`'s: an event for the file
//!   (its path as `TargetFilename`, `Hashes`, size, times, owner) with a [`RuleInfo`] for the rule,
//!   so the same writers, levels and exit statuses serve both.
//!
//! YARA is `yara-x`, built without the binary-format modules (web shells are text); a rule that
//! imports one of them is skipped with a warning.

pub mod baseline;
pub mod content;
mod finding;
pub mod inventory;
mod rules;
mod scan;
pub mod walk;

pub use baseline::{Baseline, BaselineError};
pub use content::{ContentRules, RuleSource};
pub use finding::{Finding, file_event};
pub use scan::{ScanOptions, ScanReport, drift_findings, scan};
pub use shellward_engine::RuleInfo;
