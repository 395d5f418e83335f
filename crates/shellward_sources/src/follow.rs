//! Following telemetry as agents write it: files that grow, rotate and appear, and standard input.
//!
//! # What is followed, and how
//!
//! - **Line-oriented text** (JSON lines, audit logs, access and W3C logs, ESXi and syslog lines,
//!   XML events one per line, Defender CSV): a [`Tail`] per file decodes each complete line as it
//!   is appended. A line still being written (no line break yet) waits for its end. The format is
//!   decided from the first lines, as for a whole file. A W3C `#Fields` directive and a CSV header
//!   stay in effect for the lines after them; the records of one audit event (which share a serial)
//!   are held until a record of another event follows or the file goes quiet
//!   ([`Follower::poll`] with `idle`), so an event is never split. Records keep their line number
//!   in the file, so a record has the same provenance as in a hunt over the final file.
//! - **EVTX** files are read again whenever they change, and only records with an
//!   `EventRecordID` above the highest already read are passed on.
//! - **Containers** (`.gz`, `.zip`) are read once, when they appear.
//! - **Rotation.** Files are known by device and inode. A file renamed (`access.log` to
//!   `access.log.1`) keeps being read through its open handle to its end and keeps its name in
//!   provenance; a new file under the old name is read from its start; a file truncated in place
//!   is read again from its start (its line numbers start again). Directories are walked again on
//!   every poll, so new files are picked up.
//!
//! Memory: a file's pending partial line is bounded by [`crate::lines::MAX_LINE`] (a longer one is
//! reported and skipped), and nothing else is kept but positions.

use crate::inputs::{InputFile, Source};
use crate::problem::{DecodeError, Location, Problem};
use crate::screen::Marks;
use crate::sniff::{self, Kind, TextKind};
use crate::{ReadOptions, Sink, lines, text};
use shellward_event::Event;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

/// How many files that left the followed paths are remembered (in case they come back renamed).
const MAX_GONE: usize = 1024;

/// How much is read from one file in one poll (the rest waits for the next).
const READ_PER_POLL: u64 = 16 << 20;

/// The decoding state of one followed text stream (stored in checkpoints without its name, which
/// the file's entry gives).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tail {
    #[serde(skip)]
    name: Arc<str>,
    kind: Option<TextKind>,
    /// Set once the stream is known to be in no format shellward reads.
    unknown: bool,
    /// Whether the user named it (an unknown format is an error) or it was found in a directory.
    explicit: bool,
    /// Complete lines already decoded (or held in `held`), i.e. the number of the last one.
    lines: u64,
    /// The start of a line still being written.
    partial: Vec<u8>,
    /// Whether the partial line overflowed [`lines::MAX_LINE`] (its bytes are being skipped).
    skipping: bool,
    /// The line that gives the columns of the lines after it (W3C `#Fields`, CSV header).
    header: Option<Vec<u8>>,
    /// Audit records of the last event, not yet decoded, and the number of their first line.
    held: Vec<u8>,
    held_from: u64,
}

impl Tail {
    /// A stream named `name` in provenance and problems, read from its start.
    pub fn new(name: Arc<str>) -> Self {
        Tail {
            name,
            kind: None,
            unknown: false,
            explicit: true,
            lines: 0,
            partial: Vec::new(),
            skipping: false,
            header: None,
            held: Vec::new(),
            held_from: 0,
        }
    }

    /// Decodes the complete lines `bytes` ends (with what earlier calls left unfinished).
    pub fn feed(
        &mut self,
        bytes: &[u8],
        options: &ReadOptions,
        sink: &mut dyn Sink,
    ) -> ControlFlow<()> {
        let Some(end) = memchr::memrchr(b'\n', bytes) else {
            self.keep_partial(bytes);
            return ControlFlow::Continue(());
        };
        let mut chunk = std::mem::take(&mut self.partial);
        if std::mem::take(&mut self.skipping) {
            // The end of an over-long line: reported, and decoded as an empty line, which keeps
            // the line numbers after it.
            let first = memchr::memchr(b'\n', bytes).unwrap_or(end);
            let number = self.lines + count_lines(&chunk) + 1;
            let error = DecodeError::TooLarge { limit: lines::MAX_LINE };
            sink.problem(Problem::error(&self.name, Some(Location::Line(number)), error));
            chunk.push(b'\n');
            chunk.extend_from_slice(&bytes[first + 1..=end]);
        } else {
            chunk.extend_from_slice(&bytes[..=end]);
        }
        self.keep_partial(&bytes[end + 1..]);
        self.decode(chunk, false, options, sink)
    }

    /// The input went quiet: decodes what is held back (the records of the last audit event).
    pub fn idle(&mut self, options: &ReadOptions, sink: &mut dyn Sink) -> ControlFlow<()> {
        if self.kind.is_none()
            && !self.unknown
            && let Some(end) = memchr::memrchr(b'\n', &self.partial)
        {
            // Lines kept while too few to tell the format: decide with what there is.
            let rest = self.partial.split_off(end + 1);
            let lines = std::mem::replace(&mut self.partial, rest);
            return self.decode(lines, true, options, sink);
        }
        if self.held.is_empty() {
            return ControlFlow::Continue(());
        }
        self.decode(Vec::new(), true, options, sink)
    }

    /// Marks the stream as found inside a followed directory rather than named: a format nothing
    /// reads is then only noted (a README beside the logs), as a hunt does.
    pub fn found_in_directory(mut self) -> Self {
        self.explicit = false;
        self
    }

    /// Keeps the start of a line still being written; one longer than [`lines::MAX_LINE`] is
    /// dropped (whole lines kept before it while the format is undecided stay).
    fn keep_partial(&mut self, bytes: &[u8]) {
        if self.skipping {
            return;
        }
        let line_start = memchr::memrchr(b'\n', &self.partial).map_or(0, |i| i + 1);
        if self.partial.len() - line_start + bytes.len() > lines::MAX_LINE {
            self.partial.truncate(line_start);
            self.skipping = true;
            return;
        }
        self.partial.extend_from_slice(bytes);
    }

    /// Starts again from the beginning of the stream (a file truncated in place).
    fn restart(&mut self) {
        *self = Tail { explicit: self.explicit, ..Tail::new(Arc::clone(&self.name)) };
    }

    /// Decodes `chunk` (complete lines following `self.lines`), holding back the last audit event
    /// unless `all`.
    fn decode(
        &mut self,
        chunk: Vec<u8>,
        all: bool,
        options: &ReadOptions,
        sink: &mut dyn Sink,
    ) -> ControlFlow<()> {
        if self.unknown {
            self.lines += count_lines(&chunk);
            return ControlFlow::Continue(());
        }
        let kind = match self.kind {
            Some(kind) => kind,
            None => match sniff::text_kind(&chunk) {
                TextKind::Unknown if chunk.len() < sniff::SAMPLE && !all => {
                    // Too little to tell yet: wait for more lines.
                    self.partial.splice(0..0, chunk);
                    return ControlFlow::Continue(());
                }
                TextKind::Unknown => {
                    self.unknown = true;
                    sink.problem(if self.explicit {
                        Problem::error(&self.name, None, DecodeError::UnknownFormat)
                    } else {
                        Problem::note(&self.name, DecodeError::UnknownFormat)
                    });
                    self.lines += count_lines(&chunk);
                    return ControlFlow::Continue(());
                }
                kind => {
                    self.kind = Some(kind);
                    kind
                }
            },
        };
        // The lines to decode now: what was held, then the chunk.
        let first = if self.held.is_empty() { self.lines + 1 } else { self.held_from };
        let mut lines_now = std::mem::take(&mut self.held);
        let new_lines = count_lines(&chunk);
        lines_now.extend_from_slice(&chunk);
        self.lines += new_lines;
        if kind == TextKind::Auditd && !all {
            let keep = last_event_start(&lines_now);
            if keep < lines_now.len() {
                self.held = lines_now.split_off(keep);
                self.held_from = first + count_lines(&lines_now);
            }
        }
        if lines_now.is_empty() {
            return ControlFlow::Continue(());
        }
        self.remember_header(kind, &lines_now);
        let (input, shift) = match (&self.header, kind) {
            (Some(header), TextKind::W3c | TextKind::Csv) if !lines_now.starts_with(header) => {
                let mut input = header.clone();
                input.push(b'\n');
                input.extend_from_slice(&lines_now);
                (input, 1)
            }
            _ => (lines_now, 0),
        };
        let mut shifted = Shifted { inner: sink, by: first as i64 - 1 - shift };
        text::read(&mut &input[..], kind, None, &self.name, options, &mut shifted)
    }

    /// Keeps the latest `#Fields` directive (W3C) or the first line (a CSV header).
    fn remember_header(&mut self, kind: TextKind, lines: &[u8]) {
        match kind {
            TextKind::W3c => {
                if let Some(line) =
                    lines.rsplit(|&b| b == b'\n').find(|l| l.starts_with(b"#Fields:"))
                {
                    self.header = Some(line.strip_suffix(b"\r").unwrap_or(line).to_vec());
                }
            }
            TextKind::Csv if self.header.is_none() => {
                let line = lines.split(|&b| b == b'\n').next().unwrap_or_default();
                self.header = Some(line.strip_suffix(b"\r").unwrap_or(line).to_vec());
            }
            _ => {}
        }
    }
}

/// The number of line breaks in `bytes`.
fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Where the trailing run of audit records sharing the last record's `audit(...)` key starts.
fn last_event_start(bytes: &[u8]) -> usize {
    let key = |line: &[u8]| -> Option<Vec<u8>> {
        let open = memchr::memmem::find(line, b"audit(")?;
        let close = memchr::memchr(b')', &line[open..])? + open;
        Some(line[open..close].to_vec())
    };
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut starts: Vec<usize> = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', body).map(|i| i + 1));
    let line_at = |i: usize| {
        let start = starts[i];
        let end = starts.get(i + 1).map_or(body.len(), |&next| next - 1);
        &body[start..end]
    };
    let Some(last) = key(line_at(starts.len() - 1)) else { return bytes.len() };
    let mut first = starts.len() - 1;
    while first > 0 && key(line_at(first - 1)).as_deref() == Some(&last[..]) {
        first -= 1;
    }
    starts[first]
}

/// Adds a line offset to the record numbers and line locations passing through.
struct Shifted<'a> {
    inner: &'a mut dyn Sink,
    by: i64,
}

impl Shifted<'_> {
    fn shift(&self, n: u64) -> u64 {
        n.saturating_add_signed(self.by)
    }
}

impl Sink for Shifted<'_> {
    fn event(&mut self, mut event: Event) -> ControlFlow<()> {
        event.provenance.record = self.shift(event.provenance.record);
        self.inner.event(event)
    }
    fn problem(&mut self, mut problem: Problem) {
        if let Some(Location::Line(n)) = problem.location {
            problem.location = Some(Location::Line(self.shift(n)));
        }
        self.inner.problem(problem);
    }
    fn screened(&mut self, mut event: Event, marks: Marks) -> ControlFlow<()> {
        event.provenance.record = self.shift(event.provenance.record);
        self.inner.screened(event, marks)
    }
    fn dropped(&mut self, count: u64) {
        self.inner.dropped(count);
    }
}

/// Passes on only the EVTX records above a record id already read.
struct NewRecords<'a> {
    inner: &'a mut dyn Sink,
    above: u64,
    highest: u64,
}

impl NewRecords<'_> {
    fn is_new(&mut self, event: &Event) -> bool {
        let id = event.provenance.record;
        self.highest = self.highest.max(id);
        id > self.above
    }
}

impl Sink for NewRecords<'_> {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        if self.is_new(&event) { self.inner.event(event) } else { ControlFlow::Continue(()) }
    }
    fn problem(&mut self, problem: Problem) {
        let old = matches!(problem.location, Some(Location::Record(id)) if id <= self.above);
        if !old && self.above == 0 {
            self.inner.problem(problem);
        }
    }
    fn screened(&mut self, event: Event, marks: Marks) -> ControlFlow<()> {
        if self.is_new(&event) {
            self.inner.screened(event, marks)
        } else {
            ControlFlow::Continue(())
        }
    }
    fn dropped(&mut self, count: u64) {
        // Dropped records cannot be told old from new; count them the first time only.
        if self.above == 0 {
            self.inner.dropped(count);
        }
    }
}

/// One followed file.
#[derive(Debug)]
struct Followed {
    /// Device and inode.
    id: (u64, u64),
    file: std::fs::File,
    offset: u64,
    how: How,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum How {
    Text(Tail),
    /// Re-read whole when its size or modification time changes; EVTX records above `above`.
    Whole {
        size: u64,
        modified: Option<std::time::SystemTime>,
        above: u64,
        read: bool,
        container: bool,
    },
}

/// What one poll found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Polled {
    /// Bytes read.
    pub bytes: u64,
    /// Whether standard input has ended (and everything from it was read).
    pub stdin_closed: bool,
}

/// Follows files, directories and standard input (see the module documentation).
pub struct Follower {
    roots: Vec<PathBuf>,
    files: BTreeMap<PathBuf, Followed>,
    /// Files no longer under a followed path, by device and inode.
    gone: BTreeMap<(u64, u64), (PathBuf, Followed)>,
    stdin: Option<(Receiver<Vec<u8>>, Tail)>,
    stdin_closed: bool,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("roots", &self.roots)
            .field("files", &self.files.len())
            .finish()
    }
}

impl Follower {
    /// Follows `paths` (`-` is standard input, read on a thread of its own).
    pub fn new(paths: &[PathBuf]) -> Self {
        let mut roots = Vec::new();
        let mut stdin = None;
        for path in paths {
            if path.as_os_str() == "-" {
                let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(64);
                std::thread::spawn(move || {
                    let mut input = std::io::stdin().lock();
                    let mut buffer = vec![0u8; 1 << 16];
                    loop {
                        match input.read(&mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if sender.send(buffer[..n].to_vec()).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
                stdin = Some((receiver, Tail::new("-".into())));
            } else {
                roots.push(path.clone());
            }
        }
        let stdin_closed = stdin.is_none();
        Follower { roots, files: BTreeMap::new(), gone: BTreeMap::new(), stdin, stdin_closed }
    }

    /// Reads what was written since the last poll. `idle` says the inputs were quiet since then:
    /// what is held back for completeness (an audit event's records) is decoded.
    pub fn poll(&mut self, options: &ReadOptions, idle: bool, sink: &mut dyn Sink) -> Polled {
        let mut polled = Polled::default();
        self.poll_stdin(options, idle, sink, &mut polled);
        let seen = self.paths_now();
        // Files are matched by inode, not by path: a file renamed keeps its state (and its name in
        // provenance); one that left every followed path is read to its end through its handle.
        let mut known: std::collections::HashMap<(u64, u64), (PathBuf, Followed)> =
            std::mem::take(&mut self.files).into_iter().map(|(p, f)| (f.id, (p, f))).collect();
        let mut current: BTreeMap<PathBuf, Followed> = BTreeMap::new();
        let mut fresh: Vec<(PathBuf, (u64, u64), bool)> = Vec::new();
        for (path, explicit) in seen {
            let Some(id) = file_id(&path) else { continue };
            match known.remove(&id).or_else(|| self.gone.remove(&id)) {
                Some((_, followed)) => {
                    current.insert(path, followed);
                }
                None if !current.values().any(|f| f.id == id) => fresh.push((path, id, explicit)),
                None => {}
            }
        }
        // What left its path, then what stayed, then what is new: a rotated file's end comes before
        // the start of the file that replaced it. A file that left is kept (read to its end) in
        // case it shows up under another name in a later poll (a rename seen half-done).
        for (id, (path, mut followed)) in known {
            polled.bytes += read_more(&path, &mut followed, options, true, sink);
            self.gone.insert(id, (path, followed));
        }
        while self.gone.len() > MAX_GONE {
            let Some(&oldest) = self.gone.keys().next() else { break };
            self.gone.remove(&oldest);
        }
        for (path, followed) in current.iter_mut() {
            polled.bytes += read_more(path, followed, options, idle, sink);
        }
        for (path, id, explicit) in fresh {
            if let Some(mut followed) = open(&path, id, explicit) {
                polled.bytes += read_more(&path, &mut followed, options, idle, sink);
                current.insert(path, followed);
            }
        }
        self.files = current;
        polled.stdin_closed = self.stdin_closed;
        polled
    }

    /// The files under the followed paths now, each with whether the user named it.
    fn paths_now(&self) -> Vec<(PathBuf, bool)> {
        let mut seen: Vec<(PathBuf, bool)> = Vec::new();
        for root in &self.roots {
            match std::fs::metadata(root) {
                Ok(meta) if meta.is_dir() => {
                    for entry in walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name()
                    {
                        if let Ok(entry) = entry
                            && entry.file_type().is_file()
                        {
                            seen.push((entry.into_path(), false));
                        }
                    }
                }
                Ok(_) => seen.push((root.clone(), true)),
                Err(_) => {}
            }
        }
        seen
    }

    fn poll_stdin(
        &mut self,
        options: &ReadOptions,
        idle: bool,
        sink: &mut dyn Sink,
        polled: &mut Polled,
    ) {
        let Some((receiver, tail)) = &mut self.stdin else { return };
        loop {
            match receiver.try_recv() {
                Ok(bytes) => {
                    polled.bytes += bytes.len() as u64;
                    let _ = tail.feed(&bytes, options, sink);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    let _ = tail.feed(b"\n", options, sink);
                    let _ = tail.idle(options, sink);
                    self.stdin = None;
                    self.stdin_closed = true;
                    return;
                }
            }
        }
        if idle {
            let _ = tail.idle(options, sink);
        }
    }
}

/// A file's device and inode.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// Starts following a file: text from its start; EVTX and containers whole.
fn open(path: &Path, id: (u64, u64), explicit: bool) -> Option<Followed> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut magic = [0u8; 8];
    let n = file.read(&mut magic).ok()?;
    file.rewind().ok()?;
    let name: Arc<str> = path.display().to_string().into();
    let how = match sniff::kind(&magic[..n]) {
        Kind::Text { utf16: None } | Kind::Empty if explicit => How::Text(Tail::new(name)),
        Kind::Text { utf16: None } | Kind::Empty => How::Text(Tail::new(name).found_in_directory()),
        kind => How::Whole {
            size: 0,
            modified: None,
            above: 0,
            read: false,
            container: matches!(kind, Kind::Gzip | Kind::Zip),
        },
    };
    Some(Followed { id, file, offset: 0, how })
}

/// Reads what a followed file gained; returns the bytes read.
fn read_more(
    path: &Path,
    followed: &mut Followed,
    options: &ReadOptions,
    idle: bool,
    sink: &mut dyn Sink,
) -> u64 {
    let Ok(meta) = followed.file.metadata() else { return 0 };
    let size = meta.len();
    match &mut followed.how {
        How::Text(tail) => {
            if size < followed.offset {
                // Truncated in place: read again from the start.
                followed.offset = 0;
                tail.restart();
            }
            let mut read = 0;
            if size > followed.offset
                && followed.file.seek(SeekFrom::Start(followed.offset)).is_ok()
            {
                let mut bytes = Vec::new();
                let want = (size - followed.offset).min(READ_PER_POLL);
                if (&mut followed.file).take(want).read_to_end(&mut bytes).is_ok() {
                    read = bytes.len() as u64;
                    followed.offset += read;
                    let _ = tail.feed(&bytes, options, sink);
                }
            }
            if idle || read == 0 {
                let _ = tail.idle(options, sink);
            }
            read
        }
        How::Whole { size: known, modified, above, read, container } => {
            let changed = size != *known || meta.modified().ok() != *modified;
            if !changed || (*read && *container) {
                return 0;
            }
            *known = size;
            *modified = meta.modified().ok();
            *read = true;
            let input = InputFile {
                source: Source::Path(path.to_owned()),
                name: path.display().to_string().into(),
                explicit: true,
                size,
            };
            let mut filter = NewRecords { inner: sink, above: *above, highest: *above };
            let _ = crate::read_input(&input, options, &mut filter);
            *above = filter.highest;
            size
        }
    }
}

#[path = "follow_stored.rs"]
mod stored;

pub use stored::FollowerState;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collected;

    fn feed_all(tail: &mut Tail, parts: &[&[u8]]) -> Collected {
        let mut out = Collected::default();
        let options = ReadOptions::with_threads(1);
        for part in parts {
            let _ = tail.feed(part, &options, &mut out);
        }
        let _ = tail.idle(&options, &mut out);
        out
    }

    #[test]
    fn lines_cut_anywhere_give_the_records_of_the_whole_file() {
        let text = b"{\"Channel\":\"Security\",\"EventID\":4688,\"n\":\"1\"}\n{\"Channel\":\"Security\",\"EventID\":4688,\"n\":\"2\"}\nnot json\n{\"Channel\":\"Security\",\"EventID\":4688,\"n\":\"3\"}\n";
        for cut in 1..text.len() {
            let mut tail = Tail::new("t".into());
            let got = feed_all(&mut tail, &[&text[..cut], &text[cut..]]);
            let records: Vec<u64> = got.events.iter().map(|e| e.provenance.record).collect();
            assert_eq!(records, [1, 2, 4], "cut at {cut}");
            assert_eq!(got.problems.len(), 1, "cut at {cut}");
            assert_eq!(got.problems[0].location, Some(Location::Line(3)));
        }
    }

    #[test]
    fn w3c_fields_stay_in_effect_and_audit_events_are_not_split() {
        let mut tail = Tail::new("w3c".into());
        let got = feed_all(
            &mut tail,
            &[
                b"#Software: Microsoft Internet Information Services 10.0\n#Fields: date time cs-method cs-uri-stem c-ip\n",
                b"2026-11-02 09:15:41 GET /a.aspx 203.0.113.7\n",
                b"2026-11-02 09:15:42 POST /b.aspx 203.0.113.7\n",
            ],
        );
        let stems: Vec<_> =
            got.events.iter().map(|e| e.get_str("cs-uri-stem").unwrap_or("?")).collect();
        assert_eq!(stems, ["/a.aspx", "/b.aspx"], "{:?}", got.problem_texts());
        assert_eq!(got.events[1].provenance.record, 4);

        let syscall = b"type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes exit=0 ppid=29002 pid=2168 auid=1000 uid=1000 comm=\"dd\" exe=\"/bin/dd\"\n";
        let execve =
            b"type=EXECVE msg=audit(1604996384.965:93777): argc=2 a0=\"dd\" a1=\"if=/dev/zero\"\n";
        let mut tail = Tail::new("audit".into());
        let options = ReadOptions::with_threads(1);
        let mut got = Collected::default();
        let _ = tail.feed(syscall, &options, &mut got);
        assert!(got.events.is_empty(), "the event's records are held until it is complete");
        let _ = tail.feed(execve, &options, &mut got);
        let _ = tail.idle(&options, &mut got);
        let process = got.events.iter().find(|e| e.logsource.category == Some("process_creation"));
        assert_eq!(process.and_then(|e| e.get_str("CommandLine")), Some("dd if=/dev/zero"));
    }

    #[test]
    fn a_follower_reads_growth_rotation_and_truncation() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let log = dir.path().join("a.jsonl");
        let line =
            |n: u32| format!("{{\"Channel\":\"Security\",\"EventID\":4688,\"n\":\"{n}\"}}\n");
        let write = |path: &Path, text: &str, append: bool| {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(append)
                .write(true)
                .truncate(!append)
                .open(path)
                .unwrap_or_else(|e| panic!("{e}"));
            file.write_all(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        };
        let mut follower = Follower::new(&[dir.path().to_owned()]);
        let options = ReadOptions::with_threads(1);
        let mut got = Collected::default();
        let mut poll = |got: &mut Collected| follower.poll(&options, false, got);
        write(&log, &line(1), true);
        poll(&mut got);
        write(&log, &format!("{}{}", line(2), &line(3)[..10]), true);
        poll(&mut got);
        write(&log, &line(3)[10..], true);
        // Rotated: renamed, with one more line written to it by the agent before it lets go.
        std::fs::rename(&log, dir.path().join("a.0.jsonl")).unwrap_or_else(|e| panic!("{e}"));
        write(&dir.path().join("a.0.jsonl"), &line(4), true);
        write(&log, &line(5), true);
        poll(&mut got);
        // Truncated in place (logrotate's copytruncate), then written again.
        write(&log, "", false);
        poll(&mut got);
        write(&log, &line(6), true);
        poll(&mut got);
        let seen: Vec<(String, u64)> = got
            .events
            .iter()
            .map(|e| (e.get_str("n").unwrap_or("?").to_owned(), e.provenance.record))
            .collect();
        let expected: Vec<(String, u64)> =
            [("1", 1), ("2", 2), ("3", 3), ("4", 4), ("5", 1), ("6", 1)]
                .iter()
                .map(|(n, r)| (n.to_string(), *r))
                .collect();
        assert_eq!(seen, expected, "{:?}", got.problem_texts());
    }

    #[test]
    fn an_evtx_file_dropped_in_is_read_once_and_again_only_for_new_records() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mssql_15457_xp_cmdshell_enabled.evtx");
        let bytes = std::fs::read(fixture).unwrap_or_else(|e| panic!("{e}"));
        let mut follower = Follower::new(&[dir.path().to_owned()]);
        let options = ReadOptions::with_threads(1);
        let mut got = Collected::default();
        follower.poll(&options, false, &mut got);
        std::fs::write(dir.path().join("Application.evtx"), &bytes)
            .unwrap_or_else(|e| panic!("{e}"));
        follower.poll(&options, false, &mut got);
        let first = got.events.len();
        assert!(first > 0, "{:?}", got.problem_texts());
        // Written again (as an agent flushing it does): no record is new.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("Application.evtx"), &bytes)
            .unwrap_or_else(|e| panic!("{e}"));
        follower.poll(&options, false, &mut got);
        assert_eq!(got.events.len(), first);
        assert!(got.problems.is_empty(), "{:?}", got.problem_texts());
    }

    #[test]
    fn a_small_file_nothing_reads_is_noted_once_the_directory_is_quiet() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("README"), "notes\nmore notes\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let mut follower = Follower::new(&[dir.path().to_owned()]);
        let options = ReadOptions::with_threads(1);
        let mut got = Collected::default();
        follower.poll(&options, false, &mut got);
        assert!(got.problems.is_empty(), "too few lines to tell yet");
        follower.poll(&options, true, &mut got);
        follower.poll(&options, true, &mut got);
        assert_eq!(got.problems.len(), 1, "{:?}", got.problem_texts());
        assert_eq!(got.problems[0].severity, crate::Severity::Note);
    }

    #[test]
    fn an_over_long_line_is_reported_at_its_number_and_the_lines_after_it_keep_theirs() {
        let line =
            |n: u32| format!("{{\"Channel\":\"Security\",\"EventID\":4688,\"n\":\"{n}\"}}\n");
        let long = vec![b'x'; lines::MAX_LINE + 10];
        for undecided in [false, true] {
            let mut tail = Tail::new("t".into());
            let options = ReadOptions::with_threads(1);
            let mut got = Collected::default();
            // Undecided: a line no format fits comes first, so the format waits for more lines.
            let first = if undecided { "garbage\n".to_owned() } else { line(1) };
            let _ = tail.feed(first.as_bytes(), &options, &mut got);
            let _ = tail.feed(&long[..long.len() / 2], &options, &mut got);
            let _ = tail.feed(&long[long.len() / 2..], &options, &mut got);
            let _ = tail.feed(format!("\n{}{}", line(3), line(4)).as_bytes(), &options, &mut got);
            let _ = tail.idle(&options, &mut got);
            let records: Vec<u64> = got.events.iter().map(|e| e.provenance.record).collect();
            let expected: &[u64] = if undecided { &[3, 4] } else { &[1, 3, 4] };
            assert_eq!(records, expected, "undecided: {undecided}");
            let lines: Vec<_> = got.problems.iter().map(|p| p.location).collect();
            let expected = if undecided {
                vec![Some(Location::Line(2)), Some(Location::Line(1))]
            } else {
                vec![Some(Location::Line(2))]
            };
            assert_eq!(lines, expected, "{:?}", got.problem_texts());
        }
    }
}
