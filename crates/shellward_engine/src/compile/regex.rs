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
//!
//! **ASCII text gets an ASCII matcher.** Most values in telemetry are ASCII, and on ASCII text a
//! pattern written in ASCII means the same with Unicode off: `\w`, `\s`, `\d`, `\b` and `.`
//! agree on every ASCII character, and case folding pairs no ASCII letter with another ASCII
//! character than its other case. A pattern with a character that is not ASCII, or an escape that
//! names a code point (`\x`, `\u`, `\U`) or a Unicode class (`\p`, `\P`), has no ASCII matcher:
//! such a character can fold to an ASCII one (`(?i)\x{212A}`, the Kelvin sign, matches `k`),
//! which it does not with Unicode off. The ASCII automaton of a Unicode class is a few states
//! where Unicode's is hundreds per repetition: SigmaHQ's `-k\s\w{1,64}` took 19 ms to build with
//! Unicode and under 0.1 ms without. The Unicode matcher is built only when text that is not
//! ASCII meets the pattern.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder, bytes};

/// The largest automaton a pattern may build, in bytes (the `regex` crate's `size_limit`).
pub(crate) const SIZE_LIMIT: usize = 1 << 22;

/// A regular expression whose syntax is known good, built on first use.
#[derive(Debug, Clone)]
pub(crate) struct LazyRegex {
    pattern: String,
    /// The matcher for ASCII text, with Unicode off (`None`: the pattern has none).
    ascii: OnceLock<Option<bytes::Regex>>,
    /// The matcher for any text.
    built: OnceLock<Result<Regex, String>>,
}

impl LazyRegex {
    /// Checks `pattern`'s syntax as the `regex` crate would (same parser, same defaults); the
    /// error is the one its build would give.
    pub(crate) fn new(pattern: String) -> Result<LazyRegex, regex::Error> {
        if let Err(error) = regex_syntax::Parser::new().parse(&pattern) {
            return Err(regex::Error::Syntax(error.to_string()));
        }
        Ok(LazyRegex { pattern, ascii: OnceLock::new(), built: OnceLock::new() })
    }

    /// The pattern, with its flags inline.
    pub(crate) fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern matches somewhere in `text` (never, if it could not be built).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        if text.is_ascii()
            && let Some(ascii) = self.ascii()
        {
            return ascii.is_match(text.as_bytes());
        }
        self.built().as_ref().is_ok_and(|regex| regex.is_match(text))
    }

    /// Builds the matcher for any text now if it was not built; why it cannot be built, if so.
    pub(crate) fn problem(&self) -> Option<&str> {
        self.built().as_ref().err().map(String::as_str)
    }

    /// Why the matcher for any text could not be built, if it was tried and failed (without
    /// building it).
    pub(crate) fn failed(&self) -> Option<&str> {
        self.built.get().and_then(|built| built.as_ref().err()).map(String::as_str)
    }

    /// Whether ASCII text has its own matcher (built now if it was not).
    pub(crate) fn matches_ascii(&self) -> bool {
        self.ascii().is_some()
    }

    /// The matcher for ASCII text, built on first use, if the pattern is ASCII and builds with
    /// Unicode off.
    fn ascii(&self) -> Option<&bytes::Regex> {
        let build = || {
            let builder = bytes::RegexBuilder::new(&self.pattern)
                .unicode(false)
                .size_limit(SIZE_LIMIT)
                .build();
            builder.ok()
        };
        self.ascii.get_or_init(|| names_only_ascii(&self.pattern).then(build).flatten()).as_ref()
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

/// Whether every character `pattern` names is ASCII: it holds only ASCII, and no escape that
/// names a code point or a Unicode class (a backslash always escapes the next character, in a
/// class too; one in a `(?x)` comment counts, which only costs the ASCII matcher).
fn names_only_ascii(pattern: &str) -> bool {
    let mut bytes = pattern.bytes();
    while let Some(byte) = bytes.next() {
        let escaped = if byte == b'\\' { bytes.next() } else { None };
        if !byte.is_ascii() || matches!(escaped, Some(b'x' | b'u' | b'U' | b'p' | b'P' | 128..)) {
            return false;
        }
    }
    true
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
        // Parses, but its automaton is far over the limit, with Unicode and without.
        let regex = LazyRegex::new("(?:\\w{1000}){100}".into()).unwrap();
        assert!(regex.failed().is_none(), "nothing was tried yet");
        assert!(!regex.is_match(&"a".repeat(100_000)));
        let why = regex.failed().unwrap();
        assert!(why.contains("size limit"), "{why}");
        assert_eq!(regex.problem(), Some(why));
        assert!(!regex.matches_ascii());
    }

    #[test]
    fn a_pattern_too_large_for_unicode_still_matches_ascii_text() {
        // Unicode's `\w` is hundreds of states per repetition; ASCII's is one.
        let regex = LazyRegex::new("\\w{1000}\\w{1000}\\w{1000}".into()).unwrap();
        assert!(regex.is_match(&"a".repeat(3000)));
        assert!(regex.failed().is_none(), "ASCII text needs no Unicode matcher");
        assert!(!regex.is_match(&"é".repeat(3000)));
        assert!(regex.failed().unwrap().contains("size limit"));
        assert!(regex.matches_ascii());
    }

    /// Every ASCII character, alone and between others, and text that is not ASCII.
    fn haystacks() -> Vec<String> {
        let mut texts: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        texts.extend((0u8..128).map(|b| format!("a{}Z 9_", char::from(b))));
        for text in [
            "",
            "svchost.exe -k netsvcs -p",
            "C:\\Windows\\System32\\cmd.exe /c whoami",
            "KELVIN k K",
            "straSSe",
            "word boundary\ttab\r\n",
            "\u{212A}",
            "stra\u{DF}e",
            "\u{17F}",
            "caf\u{E9}",
            "CAF\u{C9}",
            "\u{A0}nbsp",
            "x\u{85}y",
            "\u{661}\u{662}",
        ] {
            texts.push(text.into());
        }
        texts
    }

    #[test]
    fn the_ascii_matcher_agrees_with_unicode_on_every_text() {
        let patterns = [
            "\\w+",
            "^\\w$",
            "\\W",
            "\\s",
            "^\\S+$",
            "\\d",
            "\\D",
            "\\bk\\b",
            "\\B",
            ".",
            "^.$",
            "[^a]",
            "(?i)k",
            "(?i)s",
            "(?i)K$",
            "(?i)\\x{212A}",
            "(?i)\\x{17F}",
            "(?i)\\xE9",
            "(?i)\\u212A",
            "\\\\x",
            "(?i)\\x6B",
            "(?i)caf\\xC9",
            "\\p{L}",
            "\\pN",
            "[[:alpha:]]+",
            "[[:^space:]]",
            "(?-u:\\w)",
            "(?i)straße",
            "(?i)STRASSE",
            "-k\\s\\w{1,64}(?:\\s?(?:-p|-s))?",
            "(?s).",
            "(?m)^Z",
            "[\\w&&[^\\d]]",
            "[\\x00-\\x7F]",
            "[^\\x00-\\x7F]",
            "\\x{85}",
            "\\x{A0}",
        ];
        for pattern in patterns {
            let lazy = LazyRegex::new(pattern.into()).unwrap();
            let unicode = Regex::new(pattern).unwrap();
            for text in haystacks() {
                assert_eq!(
                    lazy.is_match(&text),
                    unicode.is_match(&text),
                    "pattern {pattern:?} on {text:?}"
                );
            }
        }
        // The patterns whose meaning on ASCII text depends on Unicode have no ASCII matcher.
        for pattern in ["(?i)\\x{212A}", "(?i)\\u212A", "\\p{L}", "(?i)straße", "\\x41"] {
            assert!(!LazyRegex::new(pattern.into()).unwrap().matches_ascii(), "{pattern}");
        }
        for pattern in ["-k\\s\\w{1,64}", "\\\\x", "[\\\\p]", "(?i)K\\.exe"] {
            assert!(LazyRegex::new(pattern.into()).unwrap().matches_ascii(), "{pattern}");
        }
    }
}
