//! Server identity for the SIEMs: `ParentIsServer`, which shellward's process lineage sets
//! ([`shellward_engine::server`]), is in no SIEM's tables, so a query states it as the seeds do:
//! the parent's file name is one of the language runtimes application servers run on (python in
//! any version, java, node, php, perl, ruby, gunicorn, uvicorn). The query is therefore wider than
//! the hunt (a runtime not serving matches too); [`NOTE`] says so in its header.

use shellward_engine::{CompiledRule, GlobUnit, Query, ValueTest};

/// The field rewritten.
const FIELD: &str = shellward_engine::server::PARENT_IS_SERVER;

/// What a header says of a rule that reads server identity.
pub const NOTE: &str = "ParentIsServer (shellward's server identity, from process lineage) is \
    stated as the seeds' runtime names (python*, java, node, php, perl, ruby, gunicorn, uvicorn): \
    wider than a hunt";

/// Runtime file names on Windows (`?`: one character), as `ParentImage` ends.
const WINDOWS: &[&str] = &[
    "\\python.exe",
    "\\pythonw.exe",
    "\\python2.exe",
    "\\python3.exe",
    "\\python3.?.exe",
    "\\python3.??.exe",
    "\\java.exe",
    "\\javaw.exe",
    "\\node.exe",
    "\\php.exe",
    "\\perl.exe",
    "\\ruby.exe",
    "\\gunicorn.exe",
    "\\gunicorn",
    "\\uvicorn.exe",
    "\\uvicorn",
];

/// The same on Linux.
const LINUX: &[&str] = &[
    "/python",
    "/python2",
    "/python3",
    "/python3.?",
    "/python3.??",
    "/java",
    "/node",
    "/nodejs",
    "/php",
    "/php?",
    "/php?.?",
    "/perl",
    "/ruby",
    "/gunicorn",
    "/uvicorn",
];

fn suffixes(windows: bool) -> &'static [&'static str] {
    if windows { WINDOWS } else { LINUX }
}

/// `*` then the suffix, `?` as one character.
fn glob(suffix: &str) -> Vec<GlobUnit> {
    let mut units = vec![GlobUnit::AnyChars];
    for (i, part) in suffix.split('?').enumerate() {
        if i > 0 {
            units.push(GlobUnit::OneChar);
        }
        if !part.is_empty() {
            units.push(GlobUnit::Text(part.to_owned()));
        }
    }
    units
}

/// Whether a rule's log source is Windows (else the Linux forms are used).
fn windows(rule: &CompiledRule) -> bool {
    rule.logsource().product.as_deref() != Some("linux")
}

/// Whether the rule reads server identity.
pub fn reads_server_identity(rule: &CompiledRule) -> bool {
    reads_field(rule, FIELD)
}

/// Whether the rule's condition tests `field`.
pub(crate) fn reads_field(rule: &CompiledRule, field: &str) -> bool {
    fn reads(query: &Query, name: &str) -> bool {
        match query {
            Query::All(parts) | Query::Any(parts) | Query::AtLeast(_, parts) => {
                parts.iter().any(|part| reads(part, name))
            }
            Query::Not(inner) => reads(inner, name),
            Query::Exists(field) | Query::Present(field) | Query::Null(field) => field == name,
            Query::Value { field, .. } => field.as_deref() == Some(name),
        }
    }
    reads(&rule.lower(), field)
}

/// The rule's condition as a SIEM states it: every test of `ParentIsServer` becomes "the
/// parent's name is a runtime's".
pub(crate) fn lowered(rule: &CompiledRule) -> Query {
    siem_form(rule.lower(), windows(rule))
}

fn siem_form(query: Query, windows: bool) -> Query {
    let runtime_parent = || {
        Query::Any(
            suffixes(windows)
                .iter()
                .map(|suffix| Query::Value {
                    field: Some("ParentImage".to_owned()),
                    test: ValueTest::Glob { units: glob(suffix), cased: false },
                })
                .collect(),
        )
    };
    let map = |parts: Vec<Query>| parts.into_iter().map(|p| siem_form(p, windows)).collect();
    match query {
        Query::All(parts) => Query::All(map(parts)),
        Query::Any(parts) => Query::Any(map(parts)),
        Query::AtLeast(n, parts) => Query::AtLeast(n, map(parts)),
        Query::Not(inner) => Query::Not(Box::new(siem_form(*inner, windows))),
        Query::Value { field: Some(field), .. } if field == FIELD => runtime_parent(),
        Query::Exists(field) | Query::Present(field) if field == FIELD => runtime_parent(),
        Query::Null(field) if field == FIELD => Query::Not(Box::new(runtime_parent())),
        other => other,
    }
}

/// Whether a SIEM query takes `parent_image` for a server (what `lowered` states), for tests
/// that evaluate the SIEM form with the engine.
pub fn siem_parent_is_server(parent_image: &str, windows: bool) -> bool {
    let image: Vec<char> = parent_image.to_lowercase().chars().collect();
    suffixes(windows).iter().any(|suffix| {
        let suffix: Vec<char> = suffix.chars().collect();
        image.len() >= suffix.len()
            && image[image.len() - suffix.len()..]
                .iter()
                .zip(&suffix)
                .all(|(c, s)| *s == '?' || c == s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_names_as_the_seeds_list_them() {
        for image in [
            "C:\\Python27\\python.exe",
            "C:\\Python311\\python3.11.exe",
            "C:\\Program Files\\nodejs\\node.exe",
            "C:\\Program Files\\Java\\bin\\java.exe",
            "C:\\srv\\gunicorn",
            "C:\\srv\\uvicorn.exe",
        ] {
            assert!(siem_parent_is_server(image, true), "{image}");
        }
        for image in ["/usr/bin/python3.11", "/usr/bin/php8.2", "/usr/local/bin/gunicorn"] {
            assert!(siem_parent_is_server(image, false), "{image}");
        }
        assert!(!siem_parent_is_server("C:\\Windows\\System32\\cmd.exe", true));
        assert!(!siem_parent_is_server("C:\\tools\\mypython.exe", true));
    }

    #[test]
    fn globs_split_on_one_character_wildcards() {
        assert_eq!(
            glob("\\python3.?.exe"),
            vec![
                GlobUnit::AnyChars,
                GlobUnit::Text("\\python3.".into()),
                GlobUnit::OneChar,
                GlobUnit::Text(".exe".into())
            ]
        );
    }
}
