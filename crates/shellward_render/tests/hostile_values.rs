//! Hostile values cannot break or change a query: for each target, a value full of quotes,
//! backslashes, pipes, slashes, comment markers and regex metacharacters is rendered, the
//! query's literals are read back with the language's own quoting rules, and the value must come
//! back whole (as a string, or as a regular expression matching it and not a near miss), with
//! nothing of it left outside the literals.

#![allow(clippy::unwrap_used)]

use regex::Regex;
use shellward_engine::RuleSet;
use shellward_render::{Target, render};

/// The value: a quote of each kind, `\`, `|`, `/`, backtick, comment and SQL markers, regex
/// metacharacters, and Sigma's escaped wildcards (`\*`, `\?`: a literal `*` and `?`).
const HOSTILE_YAML: &str =
    r#"a"b' or true or 'c\d|e/f`g --h /\*i\*/ (x)[y]{z}^$.+#&-~%_ \*k\?l ``` m"#;
const HOSTILE: &str = r#"a"b' or true or 'c\d|e/f`g --h /*i*/ (x)[y]{z}^$.+#&-~%_ *k?l ``` m"#;

fn rule() -> shellward_engine::CompiledRule {
    let yaml = format!(
        "title: Hostile\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    CommandLine|contains: '{}'\n  condition: selection\nlevel: high\n",
        HOSTILE_YAML.replace('\'', "''")
    );
    let loaded =
        shellward_sigma::load_text(shellward_sigma::Origin::Builtin("hostile.yml".into()), yaml);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let set = RuleSet::compile(&loaded).0;
    set.rules()[0].clone()
}

/// A literal read back from a query.
#[derive(Debug)]
enum Literal {
    Text(String),
    Regex(String),
}

/// Reads `"..."` strings (backslash escapes) and, where `slashes`, `/.../` regular expressions;
/// returns them and the query with each literal replaced by a placeholder.
fn literals(query: &str, slashes: bool) -> (Vec<Literal>, String) {
    let mut out = Vec::new();
    let mut rest = String::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        let close = match c {
            '"' => '"',
            '/' if slashes => '/',
            other => {
                rest.push(other);
                continue;
            }
        };
        let mut text = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') if close == '"' => text.push('\n'),
                    Some('t') if close == '"' => text.push('\t'),
                    Some('/') if close == '/' => text.push('/'),
                    Some(next) if close == '/' => {
                        text.push('\\');
                        text.push(next);
                    }
                    Some(next) => text.push(next),
                    None => break,
                },
                c if c == close => break,
                c => text.push(c),
            }
        }
        if close == '/' {
            let mut flags = String::new();
            while let Some(&f) = chars.peek().filter(|f| f.is_ascii_alphabetic()) {
                flags.push(f);
                chars.next();
            }
            let prefix = if flags.contains('i') { "(?i)" } else { "" };
            out.push(Literal::Regex(format!("{prefix}{text}")));
        } else {
            out.push(Literal::Text(text));
        }
        rest.push('\u{1}');
    }
    (out, rest)
}

/// Whether some literal stands for the hostile value: the value itself (lower-cased: the engine
/// folds case), or a regular expression that finds it and not the value with its `|` changed.
fn carries_value(literals: &[Literal]) -> bool {
    let value = HOSTILE.to_lowercase();
    let near_miss = value.replace('|', "!");
    literals.iter().any(|literal| match literal {
        Literal::Text(text) => *text == value,
        Literal::Regex(regex) => {
            let Ok(regex) = Regex::new(regex) else { return false };
            regex.is_match(&format!("xx{value}yy")) && !regex.is_match(&near_miss)
        }
    })
}

fn check(target: Target, query: &str, slashes: bool, regex_strings: bool) {
    let (found, rest) = literals(query, slashes);
    let mut found = found;
    if regex_strings {
        // KQL and SPL pass regular expressions as strings (`matches regex "..."`, `match(F, "...")`).
        let as_regex: Vec<Literal> = found
            .iter()
            .filter_map(|l| match l {
                Literal::Text(t) => Some(Literal::Regex(t.clone())),
                Literal::Regex(_) => None,
            })
            .collect();
        found.extend(as_regex);
    }
    assert!(
        carries_value(&found),
        "{}: the value did not come back whole from\n{query}\n{found:?}",
        target.name()
    );
    for fragment in ["or true", "--h", "/*i*/", "```"] {
        assert!(
            !rest.contains(fragment),
            "{}: {fragment:?} outside a literal in\n{query}",
            target.name()
        );
    }
}

#[test]
fn kql_strings_hold_any_value() {
    let query = render(&rule(), Target::Kql, "").unwrap();
    check(Target::Kql, &query, false, true);
}

#[test]
fn spl_strings_hold_any_value() {
    // The literal `*` and `?` cannot be search terms: the condition is an eval regex.
    let query = render(&rule(), Target::Spl, "").unwrap();
    assert!(query.contains("| where"), "{query}");
    check(Target::Spl, &query, false, true);
}

#[test]
fn cql_regexes_hold_any_value() {
    let query = render(&rule(), Target::Cql, "").unwrap();
    check(Target::Cql, &query, true, false);
}

#[test]
fn control_characters_are_refused_or_escaped() {
    let loaded = shellward_sigma::load_text(
        shellward_sigma::Origin::Builtin("bell.yml".into()),
        "title: Bell\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n    CommandLine: \"a\\ab\"\n  condition: selection\n".into(),
    );
    let set = RuleSet::compile(&loaded).0;
    let rule = &set.rules()[0];
    // A KQL string has no escape for BEL: an error, never a broken query.
    assert!(render(rule, Target::Kql, "").is_err());
    // SPL cannot search for it, so the condition is an eval regex writing it as \x{7}.
    let spl = render(rule, Target::Spl, "").unwrap();
    assert!(spl.contains(r"\\x{7}"), "{spl}");
    // A LogScale regex writes it as \x{7}.
    let cql = render(rule, Target::Cql, "").unwrap();
    assert!(cql.contains(r"\x{7}"), "{cql}");
}
