//! Cuts a text stream into lines, for the line-oriented logs (ESXi, and later auditd and web server
//! access logs).
//!
//! Memory is bounded like the other framers: a line longer than [`MAX_LINE`] is skipped without being
//! kept, and reported once it ends. Blank lines are not records.

use crate::problem::DecodeError;
use crate::window::Window;
use std::io::Read;

/// The longest line kept, in bytes.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// The column names in effect for the lines after a header line (an IIS `#Fields:` directive, the
/// header of a CSV file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Columns(pub(crate) Vec<String>);

/// A line's text, with each invalid UTF-8 sequence as U+FFFD: `String::from_utf8_lossy`, but
/// borrowed after the faster check of `str::from_utf8` when the line is valid, as nearly every
/// line is (the lossy scan took a tenth of a hunt over an access log).
pub(crate) fn text(line: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(line) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(line),
    }
}

/// What the framer found next: a line and its 1-based number, or a problem at a line.
pub(crate) type LineFrame = Result<(u64, Vec<u8>), (u64, DecodeError)>;

/// See the module documentation.
pub(crate) struct LineFramer<R> {
    win: Window<R>,
    /// The number of the next line to be returned.
    line: u64,
    /// Set while the bytes of an over-long line are being thrown away.
    skipping: bool,
}

impl<R: Read> LineFramer<R> {
    pub(crate) fn new(reader: R) -> Self {
        LineFramer { win: Window::new(reader), line: 1, skipping: false }
    }

    /// The next non-blank line or problem; `None` at the end of input.
    pub(crate) fn next_frame(&mut self) -> Option<LineFrame> {
        loop {
            let rest = self.win.rest();
            if let Some(end) = memchr::memchr(b'\n', rest) {
                let number = self.line;
                self.line += 1;
                let text = trim_line(&rest[..end]).to_vec();
                self.win.pos += end + 1;
                if std::mem::take(&mut self.skipping) {
                    return Some(Err((number, DecodeError::TooLarge { limit: MAX_LINE })));
                }
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return Some(Ok((number, text)));
            }
            if rest.len() > MAX_LINE {
                self.skipping = true;
                self.win.pos = self.win.bytes.len();
            }
            match self.win.fill() {
                Ok(true) => {}
                Ok(false) => return self.last(),
                Err(e) => return Some(Err((self.line, e.into()))),
            }
        }
    }

    /// The last line when the input does not end with a newline.
    fn last(&mut self) -> Option<LineFrame> {
        let number = self.line;
        let rest = trim_line(self.win.rest()).to_vec();
        self.win.pos = self.win.bytes.len();
        if std::mem::take(&mut self.skipping) {
            self.line += 1;
            return Some(Err((number, DecodeError::TooLarge { limit: MAX_LINE })));
        }
        if rest.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        self.line += 1;
        Some(Ok((number, rest)))
    }
}

/// A line without its carriage return and byte order mark.
fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Result<(u64, String), (u64, String)>> {
        let mut framer = LineFramer::new(input);
        std::iter::from_fn(|| framer.next_frame())
            .map(|f| match f {
                Ok((n, bytes)) => Ok((n, String::from_utf8(bytes).unwrap())),
                Err((n, e)) => Err((n, e.to_string())),
            })
            .collect()
    }

    #[test]
    fn numbers_lines_and_skips_blank_ones() {
        assert_eq!(
            frames(b"a\r\n\n  \nb\nc"),
            vec![Ok((1, "a".into())), Ok((4, "b".into())), Ok((5, "c".into()))]
        );
        assert!(frames(b"").is_empty());
        assert!(frames(b"\n\n").is_empty());
    }

    #[test]
    fn over_long_lines_are_reported_and_skipped() {
        let mut input = vec![b'x'; MAX_LINE * 2 + 10];
        input.extend_from_slice(b"\nnext\n");
        assert_eq!(
            frames(&input),
            vec![
                Err((1, format!("record larger than {MAX_LINE} bytes; skipped"))),
                Ok((2, "next".into()))
            ]
        );
        let unterminated = vec![b'y'; MAX_LINE * 2];
        assert_eq!(frames(&unterminated).len(), 1);
    }
}
