//! Recognizing a file's format from its first bytes and a sample of its lines.

/// What the first bytes of a stream say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Empty,
    Evtx,
    Gzip,
    Zip,
    /// Maybe text; `utf16` is `Some(big_endian)` when a UTF-16 byte order mark starts it.
    Text {
        utf16: Option<bool>,
    },
}

/// Text content, once decoded: which framer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum TextKind {
    Json,
    Xml,
    /// VMware ESXi log lines.
    Esxi,
    /// IIS W3C extended logs.
    W3c,
    /// Common/combined access logs (Apache, nginx, Tomcat).
    AccessLog,
    /// CSV with a header line (Defender advanced hunting exports).
    Csv,
    /// Linux audit records.
    Auditd,
    Unknown,
}

impl TextKind {
    /// The format's name in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TextKind::Json => "JSON",
            TextKind::Xml => "XML event log",
            TextKind::Esxi => "ESXi log",
            TextKind::W3c => "IIS W3C log",
            TextKind::AccessLog => "access log",
            TextKind::Csv => "Defender CSV",
            TextKind::Auditd => "audit log",
            TextKind::Unknown => "unknown",
        }
    }

    /// What to tell a user who forced another format on text of this kind.
    pub(crate) fn looks_like(self) -> &'static str {
        match self {
            TextKind::Json => "it looks like JSON: drop --input-format, or name a JSON format",
            TextKind::Xml => "it looks like XML events: drop --input-format, or use evtx-xml",
            TextKind::Esxi => "it looks like an ESXi log: drop --input-format, or use esxi-log",
            TextKind::W3c => "it looks like an IIS W3C log: drop --input-format, or use w3c-log",
            TextKind::AccessLog => {
                "it looks like an access log: drop --input-format, or use access-log"
            }
            TextKind::Csv => {
                "it looks like a Defender CSV export: drop --input-format, or use defender"
            }
            TextKind::Auditd => "it looks like an audit log: drop --input-format, or use auditd",
            TextKind::Unknown => "its content is not a format shellward reads",
        }
    }
}

/// How much of a stream's start is read to recognize it.
pub(crate) const SAMPLE: usize = 64 << 10;

/// How many bytes tell an EVTX file ([`Kind::Evtx`]).
pub(crate) const EVTX_SIGNATURE: usize = 8;

/// How many of the sample's lines vote on a line-oriented format.
const VOTING_LINES: usize = 512;

/// Classifies a stream by its first bytes (as many as are available, at least 8 when the stream has
/// them): container and EVTX magic, UTF-16 byte order marks; anything else may be text, which
/// [`text_kind`] decides on.
pub(crate) fn kind(head: &[u8]) -> Kind {
    match head {
        [] => Kind::Empty,
        [b'E', b'l', b'f', b'F', b'i', b'l', b'e', 0, ..] => Kind::Evtx,
        [0x1f, 0x8b, ..] => Kind::Gzip,
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Kind::Zip,
        [0xFF, 0xFE, rest @ ..] if looks_utf16(rest, 1) => Kind::Text { utf16: Some(false) },
        [0xFE, 0xFF, rest @ ..] if looks_utf16(rest, 0) => Kind::Text { utf16: Some(true) },
        _ => Kind::Text { utf16: None },
    }
}

/// Whether the bytes after a UTF-16 byte order mark read as UTF-16 text: in the first 512, at
/// least a quarter of the high bytes (at odd offsets little-endian, even ones big-endian) are zero,
/// as in any text with ASCII in it. Two bytes `FF FE` in front of plain text (garbage, a cut
/// record) are not taken for a mark, or every line after them would be lost.
fn looks_utf16(rest: &[u8], high: usize) -> bool {
    let sample = &rest[..rest.len().min(512)];
    let units = sample.len() / 2;
    if units == 0 {
        return true;
    }
    let zeros = sample.iter().skip(high).step_by(2).filter(|&&b| b == 0).count();
    zeros * 4 >= units
}

/// Classifies decoded text from a sample of its start ([`SAMPLE`] bytes).
///
/// - A first significant character `{`, or `[` opening an array of objects, is JSON (one record may
///   span the whole sample).
/// - Windows events in XML: an `<Event>` element in the sample, whatever comes before it (a
///   `<?xml?>` declaration, an `<Events>` wrapper, syslog prefixes). A file that merely starts with
///   `<` (a `.php`, `.jsp` or `.html` page) is not an event log.
/// - A CSV header line first (a Defender export).
/// - Otherwise the sample's lines vote: each line counts for the first format it fits (JSON lines,
///   XML events, audit records, ESXi, IIS W3C, access log), and the format most lines fit wins, so
///   a garbage first line or a request line of binary bytes (a TLS handshake sent to an HTTP port)
///   does not decide for the whole file. The winner must fit at least a quarter of the lines, so a
///   binary file with a stray line that looks like a record stays unknown. The lines that fit no
///   format are reported one by one when the file is decoded.
pub(crate) fn text_kind(head: &[u8]) -> TextKind {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut rest = head;
    loop {
        rest = rest.trim_ascii_start();
        match rest.first() {
            Some(b'{') => return TextKind::Json,
            // An array of records; not a log line that starts with a bracketed time or level
            // (`[Sat Dec 05 09:15:41 2026] [error] ...`).
            Some(b'[')
                if matches!(rest[1..].trim_ascii_start().first(), None | Some(b'{' | b']')) =>
            {
                return TextKind::Json;
            }
            Some(b'R') if rest.starts_with(b"Record ") => match memchr::memchr(b'\n', rest) {
                Some(i) => rest = &rest[i + 1..],
                None => return TextKind::Unknown,
            },
            Some(b'<') if crate::xml::has_event(head) => return TextKind::Xml,
            _ => break,
        }
    }
    vote(rest)
}

/// The format most of the sample's lines fit (see [`text_kind`]).
fn vote(text: &[u8]) -> TextKind {
    // The last line of a full sample may be cut: it does not vote unless it is the only one.
    let text = match memchr::memrchr(b'\n', text) {
        Some(end) if text.len() >= SAMPLE - 8 => &text[..end],
        _ => text,
    };
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|line| line.trim_ascii())
        .filter(|line| !line.is_empty())
        .take(VOTING_LINES)
        .peekable();
    if let Some(first) = lines.peek()
        && crate::csv_rows::sniff(&String::from_utf8_lossy(first))
    {
        return TextKind::Csv;
    }
    let mut votes = [0usize; CANDIDATES.len()];
    let mut total = 0;
    for line in lines {
        let line = String::from_utf8_lossy(line);
        if is_record_header(&line) {
            continue;
        }
        total += 1;
        if let Some(i) = CANDIDATES.iter().position(|(_, fits)| fits(&line)) {
            votes[i] += 1;
        }
    }
    // The first of the formats with the most votes (CANDIDATES is in order of precedence).
    let (best, count) = votes
        .iter()
        .enumerate()
        .fold((0, 0), |(bi, bc), (i, &c)| if c > bc { (i, c) } else { (bi, bc) });
    if count == 0 || count * 4 < total {
        return TextKind::Unknown;
    }
    CANDIDATES[best].0
}

/// Whether a line fits a format.
type Fits = fn(&str) -> bool;

/// The line formats, in order of precedence, each with the test a line must pass.
const CANDIDATES: [(TextKind, Fits); 6] = [
    (TextKind::Json, |line| line.starts_with('{')),
    // Events written to syslog (Sysmon for Linux: `host sysmon: <Event>...`): the XML framer
    // skips whatever lies between events.
    (TextKind::Xml, |line| crate::xml::has_event(line.as_bytes())),
    (TextKind::Auditd, crate::auditd::sniff),
    (TextKind::Esxi, |line| crate::esxi::parse(line).is_some()),
    (TextKind::W3c, crate::web::w3c::sniff),
    (TextKind::AccessLog, crate::web::clf::sniff),
];

/// `Record 12`: the header `evtx_dump` prints before each record.
pub(crate) fn is_record_header(line: &str) -> bool {
    line.strip_prefix("Record ")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_needs_utf16_after_it() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("{\"a\":1}".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(kind(&utf16), Kind::Text { utf16: Some(false) });
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("{\"a\":1}".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(kind(&be), Kind::Text { utf16: Some(true) });
        assert_eq!(kind(b"\xFF\xFEabc\n{\"a\":1}\n"), Kind::Text { utf16: None });
        assert_eq!(kind(&[0xFF, 0xFE]), Kind::Text { utf16: Some(false) });
    }

    #[test]
    fn kinds() {
        assert_eq!(kind(b""), Kind::Empty);
        assert_eq!(kind(b"ElfFile\0rest"), Kind::Evtx);
        assert_eq!(kind(&[0x1f, 0x8b, 8]), Kind::Gzip);
        assert_eq!(kind(b"PK\x03\x04"), Kind::Zip);
        assert_eq!(kind(&[0xFF, 0xFE, b'{', 0]), Kind::Text { utf16: Some(false) });
        assert_eq!(kind(b"{\"a\":1}"), Kind::Text { utf16: None });
        assert_eq!(kind(&[0u8, 1, 2, 3, 200, 17]), Kind::Text { utf16: None });
        assert_eq!(text_kind(&[0u8, 1, 2, 3, 200, 17]), TextKind::Unknown);
    }

    #[test]
    fn text_kinds() {
        assert_eq!(text_kind(b"  \n{\"a\""), TextKind::Json);
        assert_eq!(text_kind(b"\xEF\xBB\xBF[{"), TextKind::Json);
        assert_eq!(text_kind(b"Record 1\n{"), TextKind::Json);
        assert_eq!(text_kind(b"Record 1\n<Event xmlns=\"x\">"), TextKind::Xml);
        assert_eq!(text_kind(b"<?xml version=\"1.0\"?>\n<Events><Event xmlns="), TextKind::Xml);
        assert_eq!(text_kind(b"<?xml version=\"1.0\"?>\n<configuration>"), TextKind::Unknown);
        assert_eq!(text_kind(b"<?php eval($_POST['x']); ?>\n"), TextKind::Unknown);
        assert_eq!(
            text_kind(b"<!DOCTYPE html>\n<html><body>hi</body></html>\n"),
            TextKind::Unknown
        );
        assert_eq!(text_kind(b"hello"), TextKind::Unknown);
        assert_eq!(text_kind(b"[\n  {\"a\": 1}\n]"), TextKind::Json);
        assert_eq!(text_kind(b"[]"), TextKind::Json);
        assert_eq!(
            text_kind(
                b"[Sat Dec 05 09:15:41 2026] [error] [client 203.0.113.7] File does not exist\n"
            ),
            TextKind::Unknown,
            "an Apache error log is not a JSON array"
        );
        assert_eq!(text_kind(b"\n2025-07-01T14:29:11.508Z shell[1]: [root]: ls\n"), TextKind::Esxi);
        assert_eq!(
            text_kind(b"#Software: Microsoft Internet Information Services 10.0\r\n"),
            TextKind::W3c
        );
        let clf = b"::1 - - [26/Dec/2016:16:16:29 +0200] \"GET /favicon.ico HTTP/1.1\" 404 209\n";
        assert_eq!(text_kind(clf), TextKind::AccessLog);
    }
}
