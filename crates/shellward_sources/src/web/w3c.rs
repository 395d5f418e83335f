//! IIS W3C extended logs (`u_exYYMMDD.log`).
//!
//! ```text
//! #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) ...
//! 2019-09-03 10:13:36 10.0.2.15 GET /erp/conn.aspx proxy&port=3389&ip=127.0.0.1 80 - 10.0.2.17 - ...
//! ```
//!
//! The `#Fields:` directive names the columns of the lines after it, until the next one (IIS writes
//! a new header block after each restart), so it is read by the framer, in order, and handed to the
//! decoder with each line ([`Columns`]). Header names become taxonomy names: `cs(User-Agent)` is
//! `cs-user-agent`, `cs(Referer)` is `cs-referer`, any `cs(X)`/`sc(X)` is `cs-x`/`sc-x`. IIS writes
//! spaces as `+`; they are turned back into spaces in the header fields (user agent, referer,
//! cookie), never in the query, where a `+` is what the client sent. `date` and `time` are UTC.
//!
//! Lines before any `#Fields:` (logs cut out of a file, or exported without directives) are read
//! with the IIS default columns when they have that many values, else by finding the method column
//! and reading the usual columns around it.

use super::{is_method, push, push_target};
use crate::lines::Columns;
use crate::problem::DecodeError;
use shellward_event::{Event, FieldName, Format};
use std::sync::Arc;

/// The column names of a `#Fields:` directive, as taxonomy names.
impl Columns {
    /// The columns a `#Fields:` line names; `None` for other lines.
    pub(crate) fn from_directive(line: &[u8]) -> Option<Columns> {
        let text = std::str::from_utf8(line).ok()?;
        let names = text.trim_end().strip_prefix("#Fields:")?;
        Some(Columns(names.split_ascii_whitespace().map(taxonomy_name).collect()))
    }
}

/// The IIS default selection (FORMATS.md §6.1).
const DEFAULT: [&str; 15] = [
    "date",
    "time",
    "s-ip",
    "cs-method",
    "cs-uri-stem",
    "cs-uri-query",
    "s-port",
    "cs-username",
    "c-ip",
    "cs-user-agent",
    "cs-referer",
    "sc-status",
    "sc-substatus",
    "sc-win32-status",
    "time-taken",
];

/// `cs(User-Agent)` to `cs-user-agent`; other names as they are.
fn taxonomy_name(name: &str) -> String {
    match name.split_once('(') {
        Some((prefix, rest)) if rest.ends_with(')') => {
            format!("{prefix}-{}", rest.trim_end_matches(')').to_ascii_lowercase())
        }
        _ => name.to_owned(),
    }
}

/// Whether a header-derived field, where IIS writes spaces as `+`.
fn is_header(name: &str) -> bool {
    matches!(name, "cs-user-agent" | "cs-referer" | "cs-cookie")
}

/// Whether a line (the first significant one of a file) is W3C: a directive, or `date time` followed
/// within three columns by an HTTP method.
pub(crate) fn sniff(line: &str) -> bool {
    if line.starts_with("#Software: Microsoft") || line.starts_with("#Fields:") {
        return true;
    }
    let mut words = line.split(' ');
    let (Some(date), Some(time)) = (words.next(), words.next()) else { return false };
    is_date(date) && is_time(time) && words.take(3).any(is_method)
}

fn is_date(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && word.replace('-', "").bytes().all(|c| c.is_ascii_digit())
}

fn is_time(word: &str) -> bool {
    let b = word.as_bytes();
    b.len() >= 8 && b[2] == b':' && b[5] == b':' && b[..2].iter().all(u8::is_ascii_digit)
}

/// Whether [`decode`] reads a line without a problem under `columns` because it has as many
/// values as they name (`false` also where there are none: a line without a header may or may not
/// be read).
pub(crate) fn well_formed(bytes: &[u8], columns: Option<&Columns>) -> bool {
    columns.is_some_and(|Columns(names)| {
        let text = crate::lines::text(bytes);
        text.trim_end().split(' ').count() == names.len()
    })
}

/// Decodes one line with the columns in effect (`None`: no `#Fields:` seen yet).
pub(crate) fn decode(
    bytes: &[u8],
    path: &Arc<str>,
    line: u64,
    columns: Option<&Columns>,
) -> Result<Event, DecodeError> {
    let text = crate::lines::text(bytes);
    let text = text.trim_end();
    let values: Vec<&str> = text.split(' ').collect();
    let guessed;
    let names: Vec<&str> = match columns {
        Some(Columns(names)) if names.len() == values.len() => {
            names.iter().map(String::as_str).collect()
        }
        Some(Columns(names)) => {
            return Err(DecodeError::Garbage(format!(
                "W3C line has {} values where #Fields names {}",
                values.len(),
                names.len()
            )));
        }
        None => {
            guessed = guess(&values).ok_or_else(|| {
                let shown: String = text.chars().take(80).collect();
                DecodeError::Garbage(format!("not a W3C log line: {shown:?}"))
            })?;
            guessed.iter().map(String::as_str).collect()
        }
    };
    let mut event = super::event(path, line, Format::W3cLog);
    let column = |want: &str| names.iter().position(|&n| n == want).map(|i| values[i]);
    let (mut date, mut time) = (None, None);
    for (&name, &value) in names.iter().zip(&values) {
        match name {
            "date" => date = Some(value),
            "time" => time = Some(value),
            "cs-uri-stem" if value != "-" => match column("cs-uri-query").filter(|q| *q != "-") {
                Some(query) => push_target(&mut event, &format!("{value}?{query}")),
                None => push_target(&mut event, value),
            },
            "cs-uri-stem" | "cs-uri-query" => {}
            _ if is_header(name) => {
                push(&mut event, FieldName::Owned(name.to_owned()), &value.replace('+', " "))
            }
            _ => push(&mut event, FieldName::Owned(name.to_owned()), value),
        }
    }
    if let (Some(date), Some(time)) = (date, time) {
        event.time = crate::windows::parse_time(&format!("{date} {time}"));
        push(&mut event, "date", date);
        push(&mut event, "time", time);
    }
    event.host = column("s-computername").filter(|h| *h != "-").map(str::to_owned);
    Ok(event)
}

/// The column names of a line without a `#Fields:` header: the default selection when it has as
/// many values, else the usual columns around the method (the first method among columns 2 to 4);
/// columns it cannot name are `x-column-N` (1-based).
fn guess(values: &[&str]) -> Option<Vec<String>> {
    if values.len() < 9 || !is_date(values[0]) || !is_time(values[1]) {
        return None;
    }
    if values.len() == DEFAULT.len() && is_method(values[3]) {
        return Some(DEFAULT.iter().map(|&n| n.to_owned()).collect());
    }
    let method = (2..5).find(|&i| values.get(i).is_some_and(|v| is_method(v)))?;
    let mut names: Vec<&str> = vec![""; values.len()];
    names[0] = "date";
    names[1] = "time";
    if method == 4 {
        names[2] = "s-computername";
    }
    // The default layout from the server address to the user agent, placed around the method.
    let around = &DEFAULT[2..10];
    for (offset, name) in around.iter().enumerate() {
        if let Some(slot) = names.get_mut(method + offset - 1) {
            *slot = name;
        }
    }
    // The status is the first three-digit number after the user agent followed by two numbers
    // (substatus and win32 status).
    let after = method + 7;
    if let Some(i) = (after..values.len().saturating_sub(2)).find(|&i| {
        values[i].len() == 3
            && values[i].parse::<u16>().is_ok_and(|s| (100..600).contains(&s))
            && values[i + 1].parse::<u32>().is_ok()
            && values[i + 2].parse::<u64>().is_ok()
    }) {
        names[i] = "sc-status";
        names[i + 1] = "sc-substatus";
        names[i + 2] = "sc-win32-status";
        if let Some(slot) = names.get_mut(i + 3) {
            *slot = "time-taken";
        }
    }
    let named = names.iter().enumerate();
    Some(
        named
            .map(
                |(i, n)| if n.is_empty() { format!("x-column-{}", i + 1) } else { (*n).to_owned() },
            )
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(event: &Event) -> Vec<String> {
        event.fields().map(|(n, v)| format!("{n}={}", v.as_text())).collect()
    }

    #[test]
    fn header_names_the_columns() {
        let columns = Columns::from_directive(b"#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status\r").unwrap();
        let event = decode(
            b"2019-09-03 10:13:36 GET /erp/conn.aspx cmd=net+user 10.0.2.17 Mozilla/5.0+(Windows) 200",
            &"x".into(),
            7,
            Some(&columns),
        )
        .unwrap();
        assert_eq!(
            fields(&event),
            [
                "cs-method=GET",
                "cs-uri-stem=/erp/conn.aspx",
                "cs-uri-query=cmd=net+user",
                "cs-uri=/erp/conn.aspx?cmd=net+user",
                "RequestFileName=conn.aspx",
                "c-ip=10.0.2.17",
                "cs-user-agent=Mozilla/5.0 (Windows)",
                "sc-status=200",
                "date=2019-09-03",
                "time=10:13:36",
            ]
        );
        assert_eq!(event.time.unwrap().to_string(), "2019-09-03T10:13:36Z");
        assert_eq!(event.logsource.category, Some("webserver"));
    }

    #[test]
    fn wrong_column_count_is_an_error() {
        let columns = Columns::from_directive(b"#Fields: date time cs-method").unwrap();
        assert!(decode(b"2019-09-03 10:13:36", &"x".into(), 1, Some(&columns)).is_err());
    }

    #[test]
    fn headerless_lines_are_guessed() {
        let line = "2023-08-28 07:37:00 exchange01 10.44.0.131 POST /EWS/Exchange.asmx &a=1; 443 EXAMPLE\\user01 10.119.1.75 OC/16.0+(Skype) - 200 0 0 52 10.10.10.7 59050";
        let event = decode(line.as_bytes(), &"x".into(), 1, None).unwrap();
        assert_eq!(event.host.as_deref(), Some("exchange01"));
        assert_eq!(event.get_str("cs-method"), Some("POST"));
        assert_eq!(event.get_str("cs-uri-query"), Some("&a=1;"));
        assert_eq!(event.get_str("c-ip"), Some("10.119.1.75"));
        assert_eq!(event.get_str("cs-username"), Some("EXAMPLE\\user01"));
        assert_eq!(event.get("sc-status").and_then(|v| v.as_i64()), Some(200));
        assert!(decode(b"hello world", &"x".into(), 1, None).is_err());
    }

    #[test]
    fn sniffing() {
        assert!(sniff("#Software: Microsoft Internet Information Services 10.0"));
        assert!(sniff("2022-05-08 01:26:01 10.119.32.8 POST /x.svc - 443 -"));
        assert!(!sniff("2022-05-08 01:26:01 something else entirely"));
    }
}
