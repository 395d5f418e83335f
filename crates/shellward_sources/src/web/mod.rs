//! Web server access logs, as Sigma category `webserver`.
//!
//! Two layouts (FORMATS.md §6): IIS W3C extended ([`w3c`]: space-separated columns named by the
//! `#Fields:` directive before them) and the common/combined log format of Apache, nginx and Tomcat
//! ([`clf`]). Both give the field names of the Sigma web taxonomy, so one rule reads both:
//! `c-ip`, `cs-username`, `cs-method`, `cs-uri-stem`, `cs-uri-query` (without the `?`), `cs-uri` (stem
//! and query as requested), `cs-version`, `sc-status`, `sc-bytes`, `cs-referer`, `cs-user-agent`,
//! `cs-host`, plus whatever else the log holds under its own name, and `RequestFileName` (the last
//! segment of `cs-uri-stem`, lower-cased, when it names a file: a scan finding's join key). A value logged as `-` (none) is
//! left out rather than kept as text, so `cs-uri-query|contains` never matches a missing query.

pub(crate) mod clf;
pub(crate) mod w3c;

use shellward_event::{Event, Format, LogSource, Provenance, RawForm, Value};
use std::sync::Arc;

/// The log source of every web server log line.
pub(crate) const LOGSOURCE: LogSource =
    LogSource { product: None, category: Some("webserver"), service: None };

/// A fresh `webserver` event.
fn event(path: &Arc<str>, line: u64, format: Format) -> Event {
    let mut event = Event::new(Provenance { path: Arc::clone(path), record: line, format });
    event.logsource = LOGSOURCE;
    event
}

/// How a line of a web server log holds the values of its event (`crate::raw`), `None` for
/// other formats. Every value is a part of the line, as it is, but for:
/// - W3C: a space in a value, which can only be a header field's `+` (a space separates the
///   columns), and the `?` that joins `cs-uri` from the stem and query columns;
/// - the common and combined formats: `\"` and `\\` in quoted values, which are resolved.
///
/// Numbers are read as integers (`sc-status`), so `007` gives `7`: still a part of the line, but
/// for a negative number, which the search allows for ([`RawForm`]).
pub(crate) fn raw_form(format: Format) -> Option<RawForm> {
    match format {
        Format::W3cLog => Some(RawForm::Plain { space: b'+', joins: b"?", escapes: &[] }),
        Format::AccessLog => Some(RawForm::Plain { space: b' ', joins: b"", escapes: &[b"\\"] }),
        _ => None,
    }
}

/// Fields that hold numbers.
const NUMERIC: [&str; 7] = [
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "s-port",
    "sc-bytes",
    "cs-bytes",
    "time-taken",
];

/// Adds a field unless the log says it has no value (`-` or empty); numbers become integers.
fn push(event: &mut Event, name: impl Into<shellward_event::FieldName>, text: &str) {
    if text.is_empty() || text == "-" {
        return;
    }
    let name = name.into();
    let value = match text.parse::<i64>() {
        Ok(n) if NUMERIC.contains(&name.as_ref()) => Value::Int(n),
        _ => Value::Str(text.to_owned()),
    };
    event.push(name, value);
}

/// Adds `cs-uri-stem`, `cs-uri-query` and `cs-uri` for a request target (`/a.php?cmd=id`).
fn push_target(event: &mut Event, target: &str) {
    let (stem, query) = match target.split_once('?') {
        Some((stem, query)) => (stem, Some(query)),
        None => (target, None),
    };
    push(event, "cs-uri-stem", stem);
    if let Some(query) = query {
        push(event, "cs-uri-query", query);
    }
    push(event, "cs-uri", target);
    // The requested file's name, lower-cased: what a correlation joins with a scan finding's
    // `ScanFileName` (the web root is not known, the name is).
    if let Some(name) = stem.rsplit('/').next().filter(|n| n.contains('.')) {
        event.push("RequestFileName", Value::Str(name.to_lowercase()));
    }
}

/// The HTTP methods a request line or W3C `cs-method` starts with (for sniffing and for finding
/// the columns of a W3C line without a `#Fields` header).
fn is_method(word: &str) -> bool {
    matches!(
        word,
        "GET"
            | "POST"
            | "HEAD"
            | "PUT"
            | "DELETE"
            | "OPTIONS"
            | "PATCH"
            | "TRACE"
            | "CONNECT"
            | "PROPFIND"
            | "PROPPATCH"
            | "MKCOL"
            | "COPY"
            | "MOVE"
            | "LOCK"
            | "UNLOCK"
            | "SEARCH"
            | "RPC_IN_DATA"
            | "RPC_OUT_DATA"
    )
}
