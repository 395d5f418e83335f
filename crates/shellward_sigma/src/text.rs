//! The text of a rule file and where it came from, for locating things in it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a rule file came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A file on disk.
    File(PathBuf),
    /// A rule embedded in the binary, by its path inside the pack.
    Builtin(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Builtin(name) => write!(f, "builtin:{name}"),
        }
    }
}

/// A rule file's text with its origin, shared by every rule parsed from it.
#[derive(Debug)]
pub struct RuleText {
    /// Where the text came from.
    pub origin: Origin,
    /// The YAML text.
    pub text: String,
}

impl RuleText {
    /// Wraps a text for sharing among the rules parsed from it.
    pub fn new(origin: Origin, text: String) -> Arc<Self> {
        Arc::new(RuleText { origin, text })
    }

    /// The 1-based line of the document whose `title:` is `title` (the first document if not
    /// found): a multi-document file names each rule by its own title.
    pub fn document_line(&self, title: &str) -> u32 {
        for (index, line) in self.text.lines().enumerate() {
            if let Some(rest) = line.strip_prefix("title:") {
                let value = rest.trim().trim_matches(|c| c == '\'' || c == '"');
                if value == title {
                    return line_number(index);
                }
            }
        }
        1
    }

    /// The 1-based line and column of the first occurrence of `needle` at or after line `from`
    /// (1-based), e.g. a detection key such as `CommandLine|re` or `condition`.
    pub fn line_of(&self, needle: &str, from: u32) -> Option<(u32, u32)> {
        if needle.is_empty() {
            return None;
        }
        let skip = from.saturating_sub(1) as usize;
        self.text.lines().enumerate().skip(skip).find_map(|(index, line)| {
            line.find(needle).map(|col| (line_number(index), column_number(line, col)))
        })
    }
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn column_number(line: &str, byte: usize) -> u32 {
    u32::try_from(line[..byte].chars().count() + 1).unwrap_or(u32::MAX)
}
