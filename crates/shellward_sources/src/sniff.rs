//! Recognizing a file's format from its first bytes.

/// What the first bytes of a stream say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Empty,
    Evtx,
    Gzip,
    Zip,
    /// Text; `utf16` is `Some(big_endian)` when a UTF-16 byte order mark starts it.
    Text {
        utf16: Option<bool>,
    },
    Unknown,
}

/// Text content, once decoded: which framer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Classifies a stream by its first bytes (as many as are available, at least 8 when the stream has
/// them).
pub(crate) fn kind(head: &[u8]) -> Kind {
    match head {
        [] => Kind::Empty,
        [b'E', b'l', b'f', b'F', b'i', b'l', b'e', 0, ..] => Kind::Evtx,
        [0x1f, 0x8b, ..] => Kind::Gzip,
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Kind::Zip,
        [0xFF, 0xFE, ..] => Kind::Text { utf16: Some(false) },
        [0xFE, 0xFF, ..] => Kind::Text { utf16: Some(true) },
        _ if looks_textual(head) => Kind::Text { utf16: None },
        _ => Kind::Unknown,
    }
}

/// Classifies decoded text by its first significant character: `{` or `[` is JSON, `<` is XML;
/// `Record N` headers (evtx_dump) are looked past; otherwise the first line's layout decides.
pub(crate) fn text_kind(head: &[u8]) -> TextKind {
    let mut rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    loop {
        rest = rest.trim_ascii_start();
        match rest.first() {
            Some(b'{' | b'[') => return TextKind::Json,
            Some(b'<') => return TextKind::Xml,
            Some(b'R') if rest.starts_with(b"Record ") => match memchr::memchr(b'\n', rest) {
                Some(i) => rest = &rest[i + 1..],
                None => return TextKind::Unknown,
            },
            _ => return line_kind(rest),
        }
    }
}

/// The kind of a line-oriented log, from its first non-blank line.
fn line_kind(text: &[u8]) -> TextKind {
    let lossy = String::from_utf8_lossy(text);
    let Some(line) = lossy.lines().map(str::trim_end).find(|l| !l.is_empty()) else {
        return TextKind::Unknown;
    };
    if line.contains("<Event>") || line.contains("<Event ") {
        // Events written to syslog (Sysmon for Linux: `host sysmon: <Event>...`): the XML framer
        // skips whatever lies between events.
        TextKind::Xml
    } else if crate::auditd::sniff(line) {
        TextKind::Auditd
    } else if crate::esxi::sniff(text) {
        TextKind::Esxi
    } else if crate::web::w3c::sniff(line) {
        TextKind::W3c
    } else if crate::web::clf::sniff(line) {
        TextKind::AccessLog
    } else if crate::csv_rows::sniff(line) {
        TextKind::Csv
    } else {
        TextKind::Unknown
    }
}

/// Whether bytes look like text: no NUL, few control characters.
fn looks_textual(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(4096)];
    let control = sample
        .iter()
        .filter(|&&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c)))
        .count();
    !sample.contains(&0) && control * 100 <= sample.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind(b""), Kind::Empty);
        assert_eq!(kind(b"ElfFile\0rest"), Kind::Evtx);
        assert_eq!(kind(&[0x1f, 0x8b, 8]), Kind::Gzip);
        assert_eq!(kind(b"PK\x03\x04"), Kind::Zip);
        assert_eq!(kind(&[0xFF, 0xFE, b'{', 0]), Kind::Text { utf16: Some(false) });
        assert_eq!(kind(b"{\"a\":1}"), Kind::Text { utf16: None });
        assert_eq!(kind(&[0u8, 1, 2, 3, 200, 17]), Kind::Unknown);
    }

    #[test]
    fn text_kinds() {
        assert_eq!(text_kind(b"  \n{\"a\""), TextKind::Json);
        assert_eq!(text_kind(b"\xEF\xBB\xBF[{"), TextKind::Json);
        assert_eq!(text_kind(b"Record 1\n{"), TextKind::Json);
        assert_eq!(text_kind(b"Record 1\n<Event"), TextKind::Xml);
        assert_eq!(text_kind(b"<?xml version"), TextKind::Xml);
        assert_eq!(text_kind(b"hello"), TextKind::Unknown);
        assert_eq!(text_kind(b"\n2025-07-01T14:29:11.508Z shell[1]: [root]: ls\n"), TextKind::Esxi);
        assert_eq!(
            text_kind(b"#Software: Microsoft Internet Information Services 10.0\r\n"),
            TextKind::W3c
        );
        let clf = b"::1 - - [26/Dec/2016:16:16:29 +0200] \"GET /favicon.ico HTTP/1.1\" 404 209\n";
        assert_eq!(text_kind(clf), TextKind::AccessLog);
    }
}
