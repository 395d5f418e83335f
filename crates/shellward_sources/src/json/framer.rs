//! Cuts a JSON byte stream into top-level objects, and resynchronises after a broken one.
//!
//! Layouts seen in the wild: JSON lines; one array of objects (on one line or pretty-printed);
//! concatenated pretty-printed objects; `evtx_dump -o json`, which puts a `Record N` line before each
//! object. All are one grammar here: at the top level, whitespace, `[`, `]` and `,` separate records,
//! `Record N` lines are skipped, and anything else is reported as garbage up to the end of its line.
//! Inside a record only strings, braces and brackets matter for finding its end; the JSON parser
//! checks the rest.
//!
//! # Broken records cost only themselves
//!
//! Collected JSON is often cut: a line truncated by a full disk or a crashed shipper, a copy that
//! stopped mid-record. A framer that only counted braces would read every record after the cut as
//! part of the broken one. So the framer first decides the file's [`Layout`] from a sample of its
//! first lines, then:
//!
//! - **JSON lines** (most sampled lines are one whole object): a record never spans lines. A line
//!   that ends inside a record is reported at its line, and reading goes on with the next line.
//! - **Documents** (pretty-printed or concatenated objects): a record may span lines, but JSON
//!   forbids a raw line break inside a string, and a line cannot start with `{` where a member name,
//!   `,` or `}` must come. Either one means the record was cut: it is reported at the line it
//!   started on, and reading resumes at the next line that starts an object at most as indented as
//!   the broken record was (the next top-level object).
//!
//! Memory is bounded: a record larger than [`MAX_RECORD`] is skipped (and reported) without being
//! kept, and the read window grows only to hold one record.

use crate::problem::DecodeError;
use crate::sniff::is_record_header;
use crate::window::Window;
use std::io::Read;

/// The largest record kept, in bytes.
pub(crate) const MAX_RECORD: usize = 64 << 20;

/// How much of the start of a stream decides its [`Layout`].
const SAMPLE: usize = 64 << 10;

/// How deep the framer tracks nesting (deeper records are left to the parser, which refuses them).
const MAX_TRACKED_DEPTH: usize = 4096;

/// The longest line [`Framer::next_block`] takes into a block; a longer one is framed on its own,
/// with memory bounded as for any record.
const MAX_BLOCK_LINE: usize = 8 << 20;

/// What the framer found next.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A complete top-level object and the 1-based line it starts on.
    Record { line: u64, bytes: Vec<u8> },
    /// Something that is not a record, at a 1-based line.
    Problem { line: u64, error: DecodeError },
}

/// Whole lines of a JSON-lines stream, cut in one piece by [`Framer::next_block`] and framed where
/// they are decoded ([`Lines::frames`]): on the pool, not record by record on the reading thread.
#[derive(Debug)]
pub(crate) struct Lines {
    /// The 1-based line number of the first line.
    first_line: u64,
    /// The lines, each ending with its line break, from `from` on (the read window's buffer,
    /// taken whole rather than copied).
    buffer: Vec<u8>,
    from: usize,
}

/// What [`Framer::next_block`] found next.
#[derive(Debug)]
pub(crate) enum Block {
    Lines(Lines),
    Frame(Frame),
}

/// How records are laid out in a stream (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Not decided yet (nothing read).
    Undecided,
    /// One record per line.
    Lines,
    /// Records may span lines.
    Document,
}

/// See the module documentation.
pub(crate) struct Framer<R> {
    win: Window<R>,
    line: u64,
    /// Bytes since the last line break, at the top level (the indentation of a record's `{`).
    column: usize,
    layout: Layout,
    /// After a broken record in a document: skip to the next line starting an object indented at
    /// most this much.
    resync: Option<usize>,
}

impl<R: Read> Framer<R> {
    pub(crate) fn new(reader: R) -> Self {
        Framer {
            win: Window::new(reader),
            line: 1,
            column: 0,
            layout: Layout::Undecided,
            resync: None,
        }
    }

    /// The next record or problem; `None` at the end of input.
    pub(crate) fn next_frame(&mut self) -> Option<Frame> {
        if self.layout == Layout::Undecided
            && let Err(e) = self.decide_layout()
        {
            return Some(Frame::Problem { line: self.line, error: e.into() });
        }
        if let Some(indent) = self.resync.take() {
            self.skip_to_object(indent);
        }
        loop {
            // Top level: skip separators.
            while self.win.pos < self.win.bytes.len() {
                let byte = self.win.bytes[self.win.pos];
                match byte {
                    b'\n' => {
                        self.line += 1;
                        self.column = 0;
                        self.win.pos += 1;
                        continue;
                    }
                    b' ' | b'\t' | b'\r' | b',' | b'[' | b']' => {}
                    0xEF if self.at_byte_order_mark() => {
                        self.column += 2;
                        self.win.pos += 2;
                    }
                    b'{' => return Some(self.record()),
                    _ => return self.garbage(),
                }
                self.column += 1;
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

    /// The next block of input: in JSON lines, every whole line the read window holds, in one
    /// piece; otherwise (a document, a line too long for a block, the last line when it has no
    /// line break) the next frame. Expanding a block with [`Lines::frames`] gives exactly the
    /// frames [`Framer::next_frame`] would have given, so the two may be mixed.
    pub(crate) fn next_block(&mut self) -> Option<Block> {
        if self.layout == Layout::Undecided
            && let Err(e) = self.decide_layout()
        {
            return Some(Block::Frame(Frame::Problem { line: self.line, error: e.into() }));
        }
        if self.layout != Layout::Lines {
            return self.next_frame().map(Block::Frame);
        }
        loop {
            let rest = self.win.rest();
            if let Some(end) = memchr::memrchr(b'\n', rest) {
                let (buffer, from) = self.win.take(end + 1);
                let first_line = self.line;
                self.line += memchr::memchr_iter(b'\n', &buffer[from..]).count() as u64;
                self.column = 0;
                return Some(Block::Lines(Lines { first_line, buffer, from }));
            }
            if rest.len() > MAX_BLOCK_LINE {
                return self.next_frame().map(Block::Frame);
            }
            match self.win.fill() {
                Ok(true) => {}
                Ok(false) => return self.next_frame().map(Block::Frame),
                Err(e) => {
                    return Some(Block::Frame(Frame::Problem { line: self.line, error: e.into() }));
                }
            }
        }
    }

    /// Whether the window is at a UTF-8 byte order mark (which a concatenation of files may put
    /// anywhere between records; a lone byte of one is garbage).
    fn at_byte_order_mark(&mut self) -> bool {
        if self.win.rest().len() < 3 {
            let _ = self.win.fill();
        }
        self.win.rest().starts_with(b"\xEF\xBB\xBF")
    }

    /// Reads the first window and decides the layout from its first [`SAMPLE`] bytes: JSON lines
    /// when at least half of the sampled lines (`Record N` headers aside) are one whole object.
    fn decide_layout(&mut self) -> std::io::Result<()> {
        self.layout = Layout::Document;
        while self.win.rest().len() < SAMPLE && self.win.fill()? {}
        let sample = &self.win.rest()[..self.win.rest().len().min(SAMPLE)];
        // The last line may be incomplete (or end the input without a line break: it is then
        // left out of the sample unless it is the only line).
        let complete = match memchr::memrchr(b'\n', sample) {
            Some(end) => &sample[..end],
            None => sample,
        };
        let (mut lines, mut objects) = (0usize, 0usize);
        for line in complete.split(|&b| b == b'\n') {
            let line = line.trim_ascii();
            let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            if line.is_empty() || std::str::from_utf8(line).is_ok_and(is_record_header) {
                continue;
            }
            lines += 1;
            if line.first() == Some(&b'{') && line.last() == Some(&b'}') {
                objects += 1;
            }
        }
        if objects > 0 && objects * 2 >= lines {
            self.layout = Layout::Lines;
        }
        Ok(())
    }

    /// After a broken record in a document: passes over lines up to the next one whose first
    /// character is a `{` indented at most `indent` (or the end of input).
    fn skip_to_object(&mut self, indent: usize) {
        loop {
            // The window is at the start of a line (or at a `{` whose column is known).
            while self.win.pos < self.win.bytes.len() {
                match self.win.bytes[self.win.pos] {
                    b' ' | b'\t' | b'\r' => {
                        self.column += 1;
                        self.win.pos += 1;
                    }
                    b'\n' => {
                        self.line += 1;
                        self.column = 0;
                        self.win.pos += 1;
                    }
                    b'{' if self.column <= indent => return,
                    _ => {
                        if !self.skip_line() {
                            return;
                        }
                    }
                }
            }
            if !matches!(self.win.fill(), Ok(true)) {
                return;
            }
        }
    }

    /// Moves past the end of the current line; false at the end of input.
    fn skip_line(&mut self) -> bool {
        loop {
            if let Some(i) = memchr::memchr(b'\n', self.win.rest()) {
                self.win.pos += i + 1;
                self.line += 1;
                self.column = 0;
                return true;
            }
            self.win.pos = self.win.bytes.len();
            if !matches!(self.win.fill(), Ok(true)) {
                return false;
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
        let indent = self.column;
        if let Some(frame) = self.single_line_record(line) {
            return frame;
        }
        let lines = self.layout == Layout::Lines;
        let mut shape = Shape::default();
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
                if lines || in_string {
                    // A line break ends a JSON line, and JSON strings hold no raw line break.
                    self.win.pos = scan;
                    self.column = 0;
                    if !lines {
                        self.resync = Some(indent);
                    }
                    let why = if in_string {
                        "a line break inside a string"
                    } else {
                        "the line ends inside the record"
                    };
                    return Frame::Problem { line, error: DecodeError::CutShort(why) };
                }
                shape.line_start = true;
                continue;
            }
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {
                        // The string's plain bytes, passed over at once (a PowerShell script
                        // block is thousands of them).
                        let rest = &self.win.bytes[scan..];
                        scan += memchr::memchr3(b'"', b'\\', b'\n', rest).unwrap_or(rest.len());
                    }
                }
                continue;
            }
            if b.is_ascii_whitespace() {
                continue;
            }
            if b == b'{' && std::mem::take(&mut shape.line_start) && !shape.object_may_start() {
                // The line starts a new object where this one needs a member: this one was cut.
                self.win.pos = scan - 1;
                self.column =
                    self.win.bytes[..scan - 1].iter().rev().take_while(|&&c| c != b'\n').count();
                self.resync = Some(indent);
                return Frame::Problem {
                    line,
                    error: DecodeError::CutShort("a new object starts where a member was due"),
                };
            }
            shape.line_start = false;
            match b {
                b'"' => {
                    in_string = true;
                    shape.last = b'"';
                }
                b'{' | b'[' => shape.open(b),
                b'}' | b']' => {
                    if shape.close() {
                        let from = self.win.pos;
                        append(&mut kept, &self.win.bytes[from..scan], &mut too_large);
                        self.win.pos = scan;
                        self.column += 1;
                        if too_large {
                            return Frame::Problem {
                                line,
                                error: DecodeError::TooLarge { limit: MAX_RECORD },
                            };
                        }
                        return Frame::Record { line, bytes: kept };
                    }
                }
                b':' | b',' => shape.last = b,
                _ => shape.last = b'v',
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

impl Framer<std::io::Empty> {
    /// A framer over one line of JSON lines (with its line break, if it has one), numbered `line`.
    fn over_line(text: &[u8], line: u64) -> Self {
        Framer {
            win: Window::holding(text.to_vec()),
            line,
            column: 0,
            layout: Layout::Lines,
            resync: None,
        }
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        crate::window::recycle(std::mem::take(&mut self.buffer));
    }
}

impl Lines {
    /// The lines' text.
    pub(crate) fn text(&self) -> &[u8] {
        &self.buffer[self.from..]
    }

    /// The memory the block holds: its whole buffer, with what precedes the text and any spare
    /// capacity.
    pub(crate) fn held(&self) -> usize {
        self.buffer.capacity()
    }

    /// Each record (its bytes) or problem of the lines, in order, with the line it starts on: the
    /// frames [`Framer::next_frame`] gives for them. A line that is one whole object is taken as
    /// it is; any other line goes through a framer of its own.
    pub(crate) fn frames(&self, mut each: impl FnMut(u64, Result<&[u8], DecodeError>)) {
        let bytes = self.text();
        let (mut start, mut line) = (0, self.first_line);
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
            let text = &bytes[start..end];
            match whole_record(text) {
                Some(record) => each(line, Ok(record)),
                None => {
                    let mut framer = Framer::over_line(text, line);
                    while let Some(frame) = framer.next_frame() {
                        match frame {
                            Frame::Record { line, bytes } => each(line, Ok(&bytes)),
                            Frame::Problem { line, error } => each(line, Err(error)),
                        }
                    }
                }
            }
            (start, line) = (end, line + 1);
        }
    }
}

/// A line that is one whole object, as [`Framer::next_frame`]'s fast path takes it: it starts
/// with `{`, ends with `}` (trailing whitespace aside) and cannot hold two objects.
fn whole_record(line: &[u8]) -> Option<&[u8]> {
    let text = line.trim_ascii_end();
    let inner = text.strip_prefix(b"{")?.strip_suffix(b"}")?;
    (text.len() <= MAX_RECORD && !maybe_several(inner)).then_some(text)
}

/// What the framer tracks of a record's structure, outside strings: the open objects and arrays,
/// and the last significant character, enough to tell where an object may start.
struct Shape {
    /// The open containers (`{` or `[`), innermost last; deeper ones are only counted.
    open: Vec<u8>,
    untracked: usize,
    /// The last significant character: a structural one, `"` (a string ended) or `v` (a scalar).
    last: u8,
    /// Whether nothing but whitespace came since the last line break.
    line_start: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Shape { open: Vec::new(), untracked: 0, last: b'{', line_start: false }
    }
}

impl Shape {
    fn open(&mut self, bracket: u8) {
        if self.open.len() < MAX_TRACKED_DEPTH {
            self.open.push(bracket);
        } else {
            self.untracked += 1;
        }
        self.last = bracket;
    }

    /// Closes the innermost container; true when that was the record itself.
    fn close(&mut self) -> bool {
        self.last = b'v';
        if self.untracked > 0 {
            self.untracked -= 1;
            return false;
        }
        self.open.pop();
        self.open.is_empty()
    }

    /// Whether a value may start here: after a `:`, or first or after a `,` in an array.
    fn object_may_start(&self) -> bool {
        self.untracked > 0
            || self.last == b':'
            || (self.open.last() == Some(&b'[') && matches!(self.last, b'[' | b','))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn show(line: u64, frame: Result<&[u8], DecodeError>) -> String {
        match frame {
            Ok(bytes) => format!("{line}:{}", String::from_utf8_lossy(bytes)),
            Err(error) => format!("{line}!{error}"),
        }
    }

    fn show_frame(frame: Frame) -> String {
        match frame {
            Frame::Record { line, bytes } => show(line, Ok(&bytes)),
            Frame::Problem { line, error } => show(line, Err(error)),
        }
    }

    fn frames(input: &str) -> Vec<String> {
        let mut framer = Framer::new(input.as_bytes());
        std::iter::from_fn(|| framer.next_frame()).map(show_frame).collect()
    }

    /// The frames of `input` through [`Framer::next_block`] and [`Lines::frames`].
    fn block_frames(input: &[u8]) -> Vec<String> {
        let mut framer = Framer::new(input);
        let mut out = Vec::new();
        while let Some(block) = framer.next_block() {
            match block {
                Block::Lines(lines) => lines.frames(|line, frame| out.push(show(line, frame))),
                Block::Frame(frame) => out.push(show_frame(frame)),
            }
        }
        out
    }

    /// Lines of every kind the framer tells apart.
    const LINES: [&str; 16] = [
        "{\"a\":1}",
        "{\"b\":\"}\"}",
        "  {\"c\":2}  ",
        "{\"d\":3}\r",
        "{\"e\":1},{\"f\":2}",
        "{\"g\":1}{\"h\":2}",
        "[{\"i\":1},{\"j\":2}]",
        "",
        "   ",
        "Record 7",
        "not json",
        "{\"k\":",
        "{\"l\":\"x",
        "\u{feff}{\"m\":1}",
        "{\"n\":\"a}, {b\"}",
        "}",
    ];

    #[test]
    fn blocks_of_lines_give_the_frames_records_give() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for case in 0..300 {
            let mut input = String::new();
            // Mostly whole objects, so that the layout is JSON lines.
            for _ in 0..(case % 9) + 1 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = (seed % 24) as usize;
                input.push_str(LINES[if pick < LINES.len() { pick } else { 0 }]);
                input.push('\n');
            }
            if case % 3 == 0 {
                input.pop();
            }
            assert_eq!(block_frames(input.as_bytes()), frames(&input), "{input:?}");
        }
    }

    #[test]
    fn blocks_span_reads_and_long_lines_are_framed_alone() {
        let filler = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(1000));
        let mut input = filler.repeat(3000);
        input.push_str(&format!("{{\"long\":\"{}\"}}\n", "y".repeat(MAX_BLOCK_LINE + 10)));
        input.push_str("{\"cut\":\n");
        input.push_str(&filler);
        let blocks = block_frames(input.as_bytes());
        assert_eq!(blocks.len(), 3003);
        assert_eq!(blocks, frames(&input));
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

    #[test]
    fn a_long_string_is_passed_over_across_reads() {
        // Braces, brackets and escaped quotes in a string of several read windows, the escapes
        // falling at every offset: the record is the whole object, and so is the next.
        let text = "x{}[],\\\"".repeat(300_000);
        for layout in ["\n", "\n\n  "] {
            let input = format!("{{\"a\":\"{text}\",\n\"b\":1}}{layout}{{\"c\":2}}\n");
            let framed = frames(&input);
            assert_eq!(framed.len(), 2, "{:?}", framed.iter().map(|f| f.len()).collect::<Vec<_>>());
            let object = input.find(&format!("}}{layout}")).unwrap() + 1;
            assert_eq!(framed[0], format!("1:{}", &input[..object]));
            assert_eq!(framed[1], format!("{}:{{\"c\":2}}", 2 + layout.matches('\n').count()));
        }
    }

    #[test]
    fn a_cut_line_costs_only_itself() {
        let input = "{\"Channel\":\"S\",\"EventID\":1,\n{\"a\":1}\n{\"b\":2}\n";
        assert_eq!(
            frames(input),
            [
                "1!record cut short (the line ends inside the record); reading resumes at the next record",
                "2:{\"a\":1}",
                "3:{\"b\":2}"
            ]
        );
    }

    #[test]
    fn a_line_cut_inside_a_string_costs_only_itself() {
        let input = "{\"a\":1}\n{\"Image\":\"C:\\\\a\n{\"b\":2}\n{\"c\":3}\n";
        let got = frames(input);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[1].starts_with("2!record cut short"), "{got:?}");
        assert_eq!(got[2..], ["3:{\"b\":2}", "4:{\"c\":3}"]);
    }

    #[test]
    fn garbage_first_line_of_json_lines() {
        assert_eq!(
            frames("\u{1}\u{2}garbage\n{\"a\":1}\n{\"b\":2}\n"),
            ["1!not a record: \u{1}\u{2}garbage", "2:{\"a\":1}", "3:{\"b\":2}"]
        );
    }

    #[test]
    fn pretty_documents_resynchronise_at_the_next_top_level_object() {
        // The first object is cut after a member; the second starts at column 0.
        let cut_member = "{\n  \"a\": 1,\n{\n  \"b\": {\"c\": 2}\n}\n";
        assert_eq!(
            frames(cut_member),
            [
                "1!record cut short (a new object starts where a member was due); reading resumes at the next record",
                "3:{\n  \"b\": {\"c\": 2}\n}"
            ]
        );
        // Cut inside a string: the nested object lines of the broken record are passed over.
        let cut_string = "[\n  {\n    \"a\": \"x\n    \"n\": [\n      {\"d\": 1}\n    ]\n  },\n  {\"b\": 2}\n]\n";
        let got = frames(cut_string);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("2!record cut short (a line break inside a string)"));
        assert_eq!(got[1], "8:{\"b\": 2}");
        // Objects inside arrays and after a member name may start a line.
        let valid =
            "{\n  \"a\": [\n    {\"x\": 1},\n    {\"y\": 2}\n  ],\n  \"b\":\n  {\"z\": 3}\n}\n";
        assert_eq!(frames(valid).len(), 1);
        assert!(frames(valid)[0].starts_with("1:{"));
    }
}
