//! A value pattern of the tuning file: a wildcard pattern (`*`, `?`, case-insensitive), or a
//! regular expression written as `{ regex = '...' }`.

use serde::Deserialize;

/// As written.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Pattern {
    /// `*` any run of characters, `?` one; the whole value, case-insensitive.
    Glob(String),
    /// A regular expression (Rust syntax) that must find a match.
    Regex {
        /// The expression.
        regex: String,
    },
}

/// A pattern ready to test values.
#[derive(Debug, Clone)]
pub(crate) struct Matcher(regex::Regex);

impl Matcher {
    /// Compiles a pattern; the error is the regex crate's message.
    pub(crate) fn new(pattern: &Pattern) -> Result<Matcher, String> {
        let source = match pattern {
            Pattern::Glob(glob) => {
                let mut out = String::from("(?is)^");
                for c in glob.chars() {
                    match c {
                        '*' => out.push_str(".*"),
                        '?' => out.push('.'),
                        c => out.push_str(&regex::escape(&c.to_string())),
                    }
                }
                out.push('$');
                out
            }
            Pattern::Regex { regex } => regex.clone(),
        };
        regex::RegexBuilder::new(&source)
            .size_limit(1 << 20)
            .build()
            .map(Matcher)
            .map_err(|e| e.to_string())
    }

    /// Whether the value matches.
    pub(crate) fn matches(&self, value: &str) -> bool {
        self.0.is_match(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> Matcher {
        Matcher::new(&Pattern::Glob(text.into())).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn globs_are_whole_and_case_insensitive() {
        assert!(glob("*\\octopus\\*").matches("C:\\Program Files\\Octopus\\Tentacle.exe"));
        assert!(glob("web??.corp").matches("WEB01.corp"));
        assert!(!glob("web??.corp").matches("web001.corp"));
        assert!(!glob("web").matches("webserver"));
        // Regex syntax in a glob is literal.
        assert!(glob("a.b(c)").matches("A.B(C)") && !glob("a.b(c)").matches("axb(c)"));
    }

    #[test]
    fn regexes_find_a_match() {
        let m = Matcher::new(&Pattern::Regex { regex: "deploy-[0-9]+".into() }).unwrap();
        assert!(m.matches("run deploy-42 now"));
        assert!(Matcher::new(&Pattern::Regex { regex: "(".into() }).is_err());
    }
}
