//! A rule's regular expression: its syntax checked when the rule compiles, the matcher built on
//! first use.
//!
//! Building the matchers was a fifth of the CPU of loading every SigmaHQ Windows rule (their
//! Unicode classes and counted repetitions make large automata), and most are never run: the
//! prefilter leaves a rule out of an event unless one of its literals occurs, and a log source no
//! event has never runs at all. Parsing checks everything a build checks except the size of the
//! built automaton, so a pattern that parses is accepted; one whose automaton would pass
//! [`SIZE_LIMIT`] matches nothing, and [`LazyRegex::problem`] says so (the hunt reports it,
//! `rules check` builds every pattern to report it before a hunt).

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// The largest automaton a pattern may build, in bytes (the `regex` crate's `size_limit`).
pub(crate) const SIZE_LIMIT: usize = 1 << 22;

/// A regular expression whose syntax is known good, built on first use.
#[derive(Debug, Clone)]
pub(crate) struct LazyRegex {
    pattern: String,
    built: OnceLock<Result<Regex, String>>,
}

impl LazyRegex {
    /// Checks `pattern`'s syntax as the `regex` crate would (same parser, same defaults); the
    /// error is the one its build would give.
    pub(crate) fn new(pattern: String) -> Result<LazyRegex, regex::Error> {
        if let Err(error) = regex_syntax::Parser::new().parse(&pattern) {
            return Err(regex::Error::Syntax(error.to_string()));
        }
        Ok(LazyRegex { pattern, built: OnceLock::new() })
    }

    /// The pattern, with its flags inline.
    pub(crate) fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern matches somewhere in `text` (never, if it could not be built).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.built().as_ref().is_ok_and(|regex| regex.is_match(text))
    }

    /// Builds the matcher now if it was not built; why it cannot be built, if so.
    pub(crate) fn problem(&self) -> Option<&str> {
        self.built().as_ref().err().map(String::as_str)
    }

    /// Why the matcher could not be built, if it was tried and failed (without building it).
    pub(crate) fn failed(&self) -> Option<&str> {
        self.built.get().and_then(|built| built.as_ref().err()).map(String::as_str)
    }

    fn built(&self) -> &Result<Regex, String> {
        self.built.get_or_init(|| {
            RegexBuilder::new(&self.pattern)
                .size_limit(SIZE_LIMIT)
                .build()
                .map_err(|error| error.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_is_checked_at_once_and_the_error_is_the_builds() {
        let look_ahead = String::from("a(?=b)");
        let error = LazyRegex::new(look_ahead.clone()).unwrap_err();
        let built = RegexBuilder::new(&look_ahead).build().unwrap_err();
        assert_eq!(error.to_string(), built.to_string());
        assert!(LazyRegex::new("(unclosed".into()).is_err());
    }

    #[test]
    fn a_good_pattern_is_built_on_first_use() {
        let regex = LazyRegex::new("(?i)cmd\\.exe$".into()).unwrap();
        assert!(regex.failed().is_none());
        assert!(regex.is_match("C:\\Windows\\CMD.EXE"));
        assert!(!regex.is_match("cmd.exe /c"));
        assert!(regex.problem().is_none());
        assert_eq!(regex.as_str(), "(?i)cmd\\.exe$");
    }

    #[test]
    fn a_pattern_too_large_to_build_matches_nothing_and_says_why() {
        // Parses, but its automaton is far over the limit.
        let regex = LazyRegex::new("\\w{1000}\\w{1000}\\w{1000}".into()).unwrap();
        assert!(regex.failed().is_none(), "nothing was tried yet");
        assert!(!regex.is_match(&"a".repeat(3000)));
        let why = regex.failed().unwrap();
        assert!(why.contains("size limit"), "{why}");
        assert_eq!(regex.problem(), Some(why));
    }
}
