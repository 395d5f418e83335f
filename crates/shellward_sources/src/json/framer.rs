//! Cuts a JSON byte stream into top-level objects.
//!
//! Layouts seen in the wild: JSON lines; one array of objects (on one line or pretty-printed);
//! concatenated pretty-printed objects; `evtx_dump -o json`, which puts a `Record N` line before each
//! object. All are one grammar here: at the top level, whitespace, `[`, `]` and `,` separate records,
//! `Record N` lines are skipped, and anything else is reported as garbage up to the end of its line.
//! Inside a record only braces and strings matter for finding its end; the JSON parser checks the rest.
//!
//! Memory is bounded: a record larger than [`MAX_RECORD`] is skipped (and reported) without being
//! kept, and the read window grows only to hold one record.

use crate::problem::DecodeError;
use crate::window::Window;
use std::io::Read;

/// The largest record kept, in bytes.
pub(crate) const MAX_RECORD: usize = 64 << 20;

/// What the framer found next.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A complete top-level object and the 1-based line it starts on.
    Record { line: u64, bytes: Vec<u8> },
    /// Something that is not a record, at a 1-based line.
    Problem { line: u64, error: DecodeError },
}

/// See the module documentation.
pub(crate) struct Framer<R> {
    win: Window<R>,
    line: u64,
}

impl<R: Read> Framer<R> {
    pub(crate) fn new(reader: R) -> Self {
        Framer { win: Window::new(reader), line: 1 }
    }

    /// The next record or problem; `None` at the end of input.
    pub(crate) fn next_frame(&mut self) -> Option<Frame> {
        loop {
            // Top level: skip separators.
            while self.win.pos < self.win.bytes.len() {
                match self.win.bytes[self.win.pos] {
                    b'\n' => self.line += 1,
                    b' ' | b'\t' | b'\r' | b',' | b'[' | b']' | 0xEF | 0xBB | 0xBF => {}
                    b'{' => return Some(self.record()),
                    _ => return self.garbage(),
                }
                self.win.pos += 1;
            }
            match self.win.fill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    return Some(Frame::Problem { line: self.line, error: e.into() });
                }
            }
        }
    }

    /// A top-level line that is not JSON: skipped to its end; `Record N` lines silently.
    fn garbage(&mut self) -> Option<Frame> {
        let line = self.line;
        let mut text = Vec::new();
        loop {
            let rest = self.win.rest();
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    push_bounded(&mut text, &rest[..i]);
                    self.win.pos += i;
                    break;
                }
                None => {
                    push_bounded(&mut text, rest);
                    self.win.pos = self.win.bytes.len();
                    if !matches!(self.win.fill(), Ok(true)) {
                        break;
                    }
                }
            }
        }
        let text = String::from_utf8_lossy(&text);
        let text = text.trim();
        if is_record_header(text) {
            return self.next_frame();
        }
        let error = DecodeError::Garbage(text.chars().take(80).collect());
        Some(Frame::Problem { line, error })
    }

    /// A record starting at `self.win.pos` (a `{`).
    fn record(&mut self) -> Frame {
        let line = self.line;
        if let Some(frame) = self.single_line_record(line) {
            return frame;
        }
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut kept: Vec<u8> = Vec::new();
        let mut too_large = false;
        let mut scan = self.win.pos;
        loop {
            if scan >= self.win.bytes.len() {
                let from = self.win.pos;
                append(&mut kept, &self.win.bytes[from..scan], &mut too_large);
                self.win.pos = scan;
                match self.win.fill() {
                    Ok(true) => {
                        scan = self.win.pos;
                        continue;
                    }
                    _ => return Frame::Problem { line, error: DecodeError::Truncated },
                }
            }
            let b = self.win.bytes[scan];
            scan += 1;
            if b == b'\n' {
                self.line += 1;
            }
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        let from = self.win.pos;
                        append(&mut kept, &self.win.bytes[from..scan], &mut too_large);
                        self.win.pos = scan;
                        if too_large {
                            return Frame::Problem {
                                line,
                                error: DecodeError::TooLarge { limit: MAX_RECORD },
                            };
                        }
                        return Frame::Record { line, bytes: kept };
                    }
                }
                _ => {}
            }
        }
    }

    /// The JSON-lines fast path: a line that starts with `{` and ends with `}` is taken whole, without
    /// scanning it byte by byte. (If it is not one object after all, the parser says so.)
    fn single_line_record(&mut self, line: u64) -> Option<Frame> {
        let rest = self.win.rest();
        let end = memchr::memchr(b'\n', rest)?;
        let text = rest[..end].trim_ascii_end();
        if text.last() != Some(&b'}') || text.len() > MAX_RECORD {
            return None;
        }
        if maybe_several(&text[..text.len() - 1]) {
            return None;
        }
        let bytes = text.to_vec();
        self.win.pos += end;
        Some(Frame::Record { line, bytes })
    }
}

/// Whether a line may hold more than one top-level object (`{..}, {..}` or `{..}{..}`): a `}`
/// followed by `,` or `{`. Also true for such text inside strings; the slow path then decides.
fn maybe_several(text: &[u8]) -> bool {
    memchr::memchr_iter(b'}', text).any(|i| {
        text[i + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b',' | b'{'))
    })
}

fn append(kept: &mut Vec<u8>, bytes: &[u8], too_large: &mut bool) {
    if *too_large || kept.len() + bytes.len() > MAX_RECORD {
        *too_large = true;
        kept.clear();
    } else {
        kept.extend_from_slice(bytes);
    }
}

fn push_bounded(text: &mut Vec<u8>, bytes: &[u8]) {
    let room = 200usize.saturating_sub(text.len());
    text.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// `Record 12`: the header `evtx_dump -o json` prints before each record.
fn is_record_header(text: &str) -> bool {
    text.strip_prefix("Record ")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<String> {
        let mut framer = Framer::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(frame) = framer.next_frame() {
            out.push(match frame {
                Frame::Record { line, bytes } => {
                    format!("{line}:{}", String::from_utf8_lossy(&bytes))
                }
                Frame::Problem { line, error } => format!("{line}!{error}"),
            });
        }
        out
    }

    #[test]
    fn json_lines() {
        assert_eq!(frames("{\"a\":1}\n{\"b\":\"}\"}\n"), ["1:{\"a\":1}", "2:{\"b\":\"}\"}"]);
    }

    #[test]
    fn arrays_and_pretty_objects() {
        assert_eq!(frames("[{\"a\":1},{\"b\":2}]"), ["1:{\"a\":1}", "1:{\"b\":2}"]);
        assert_eq!(
            frames("[\n  {\n    \"a\": {\"x\": 1}\n  },\n  {\"b\": 2}\n]\n"),
            ["2:{\n    \"a\": {\"x\": 1}\n  }", "5:{\"b\": 2}"]
        );
    }

    #[test]
    fn record_headers_and_garbage() {
        assert_eq!(
            frames("Record 1\n{\"a\":1}\nnot json\n{\"b\":2}"),
            ["2:{\"a\":1}", "3!not a record: not json", "4:{\"b\":2}"]
        );
    }

    #[test]
    fn truncated() {
        assert_eq!(
            frames("{\"a\":1}\n{\"b\":"),
            ["1:{\"a\":1}", "2!file ends inside a record (truncated)"]
        );
    }

    #[test]
    fn braces_inside_strings_and_escapes() {
        assert_eq!(frames("{\"a\":\"\\\"{\"\n,\"b\":1}"), ["1:{\"a\":\"\\\"{\"\n,\"b\":1}"]);
    }
}
