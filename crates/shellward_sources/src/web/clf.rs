//! The common and combined log formats: Apache `access_log`, nginx `access.log`, Tomcat
//! `localhost_access_log`.
//!
//! ```text
//! [vhost] host ident user [10/Oct/2000:13:55:36 -0700] "GET /a.php?cmd=id HTTP/1.0" 200 2326 ["referer" "user agent"] [extras]
//! ```
//!
//! The time carries its own offset and becomes UTC. The request line is split into method, target
//! and protocol when it has that shape; otherwise (`"-"`, raw TLS bytes, injected text) it is kept
//! whole as `request`, so keyword rules still see it. A leading virtual host (Apache
//! `vhost_combined`, nginx with `$host` first) becomes `cs-host`; trailing `key="value"` pairs (such
//! as `X-Forwarded-For="…"`) become fields of their own name.

use super::{push, push_target};
use crate::problem::DecodeError;
use shellward_event::{Event, FieldName, Format, Timestamp};
use std::sync::Arc;

/// A line taken apart.
#[derive(Debug, PartialEq, Eq)]
struct Line<'a> {
    vhost: Option<&'a str>,
    client: &'a str,
    user: &'a str,
    time: Timestamp,
    request: String,
    status: &'a str,
    bytes: &'a str,
    /// Referer, user agent, then anything after them.
    rest: &'a str,
}

fn parse(line: &str) -> Option<Line<'_>> {
    let open = line.find(" [")?;
    let head: Vec<&str> = line[..open].split(' ').collect();
    let (vhost, client, user) = match head.as_slice() {
        [client, _ident, user] => (None, *client, *user),
        [vhost, client, _ident, user] => (Some(*vhost), *client, *user),
        _ => return None,
    };
    let after_open = &line[open + 2..];
    let close = after_open.find(']')?;
    let time = parse_time(&after_open[..close])?;
    let rest = after_open[close + 1..].strip_prefix(" \"")?;
    let (request, rest) = quoted(rest)?;
    let mut words = rest.trim_start().splitn(3, ' ');
    let status = words.next()?;
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bytes = words.next().unwrap_or("-");
    Some(Line {
        vhost,
        client,
        user,
        time,
        request,
        status,
        bytes,
        rest: words.next().unwrap_or(""),
    })
}

/// `10/Oct/2000:13:55:36 -0700` as UTC.
fn parse_time(text: &str) -> Option<Timestamp> {
    jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", text).ok()?.to_timestamp().ok()
}

/// A double-quoted string (its `\"` and `\\` unescaped) and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[i + 1..])),
            '\\' => match chars.next() {
                Some((_, next @ ('"' | '\\'))) => out.push(next),
                Some((_, next)) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            _ => out.push(c),
        }
    }
    None
}

/// Whether a line is in the common or combined format.
pub(crate) fn sniff(line: &str) -> bool {
    parse(line).is_some()
}

/// Whether [`decode`] reads a line without a problem.
pub(crate) fn well_formed(bytes: &[u8]) -> bool {
    parse(crate::lines::text(bytes).trim_end()).is_some()
}

/// Decodes one line.
pub(crate) fn decode(bytes: &[u8], path: &Arc<str>, number: u64) -> Result<Event, DecodeError> {
    let text = crate::lines::text(bytes);
    let Some(line) = parse(text.trim_end()) else {
        let shown: String = text.chars().take(80).collect();
        return Err(DecodeError::Garbage(format!("not a common/combined log line: {shown:?}")));
    };
    let mut event = super::event(path, number, Format::AccessLog);
    event.time = Some(line.time);
    push(&mut event, "c-ip", line.client);
    push(&mut event, "cs-username", line.user);
    let parts: Vec<&str> = line.request.split(' ').collect();
    match parts.as_slice() {
        [method, target, version] if super::is_method(method) => {
            push(&mut event, "cs-method", method);
            push_target(&mut event, target);
            push(&mut event, "cs-version", version);
        }
        _ => {}
    }
    push(&mut event, "request", &line.request);
    push(&mut event, "sc-status", line.status);
    push(&mut event, "sc-bytes", line.bytes);
    if let Some(vhost) = line.vhost {
        push(&mut event, "cs-host", vhost);
    }
    let mut rest = line.rest.trim_start();
    for name in ["cs-referer", "cs-user-agent"] {
        let Some((value, after)) = rest.strip_prefix('"').and_then(quoted) else { break };
        push(&mut event, name, &value);
        rest = after.trim_start();
    }
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some((value, after)) = quoted(after) else { break };
        push(&mut event, FieldName::Owned(key.trim().to_owned()), &value);
        rest = after.trim_start();
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str) -> Vec<String> {
        let event = decode(line.as_bytes(), &"x".into(), 1).unwrap();
        event.fields().map(|(n, v)| format!("{n}={}", v.as_text())).collect()
    }

    #[test]
    fn combined() {
        assert_eq!(
            fields(
                r#"203.0.113.10 - - [10/Aug/2026:14:03:09 +0200] "GET /uploads/shell.php?cmd=id HTTP/1.1" 200 45 "-" "curl/7.88.1""#
            ),
            [
                "c-ip=203.0.113.10",
                "cs-method=GET",
                "cs-uri-stem=/uploads/shell.php",
                "cs-uri-query=cmd=id",
                "cs-uri=/uploads/shell.php?cmd=id",
                "RequestFileName=shell.php",
                "cs-version=HTTP/1.1",
                "request=GET /uploads/shell.php?cmd=id HTTP/1.1",
                "sc-status=200",
                "sc-bytes=45",
                "cs-user-agent=curl/7.88.1",
            ]
        );
        let event =
            decode(b"::1 - - [26/Dec/2016:16:16:48 +0200] \"-\" 408 -", &"x".into(), 1).unwrap();
        assert_eq!(event.time.unwrap().to_string(), "2016-12-26T14:16:48Z");
        assert_eq!(event.get_str("cs-method"), None);
    }

    #[test]
    fn variants() {
        let f = fields(
            r#"lessons.example.com 192.168.0.1 - bob [09/Jun/2020:12:10:39 -0700] "GET /a HTTP/1.1" 206 7 "-" "UA \"quoted\"" X-Forwarded-For="192.168.0.2""#,
        );
        assert!(f.contains(&"cs-host=lessons.example.com".to_owned()), "{f:?}");
        assert!(f.contains(&"cs-username=bob".to_owned()), "{f:?}");
        assert!(f.contains(&"cs-user-agent=UA \"quoted\"".to_owned()), "{f:?}");
        assert!(f.contains(&"X-Forwarded-For=192.168.0.2".to_owned()), "{f:?}");
        assert!(decode(b"just some text", &"x".into(), 1).is_err());
        assert!(!sniff("2019-09-03 10:13:36 GET /x"));
    }
}
