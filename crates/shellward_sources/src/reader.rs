//! Reading inputs: containers, sniffing, and the decoders, in parallel with ordered output.

use crate::inputs::{InputFile, Source};
use crate::problem::{DecodeError, Location, Problem};
use crate::screen::{Marks, Screen};
use crate::sniff::{self, Kind, TextKind};
use crate::utf16::Utf16Reader;
use crate::{evtx_file, text};
use rayon::prelude::*;
use shellward_event::{Event, Format};
use std::io::{BufReader, Cursor, Read, Seek};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

/// Receives what the decoders produce, in input order.
pub trait Sink {
    /// One decoded event. Return `ControlFlow::Break` to stop reading (e.g. after `--limit`).
    fn event(&mut self, event: Event) -> ControlFlow<()>;
    /// One problem; reading goes on.
    fn problem(&mut self, problem: Problem);
    /// One event the screen ([`ReadOptions::screen`]) passed, with what it found. By default it
    /// goes to [`Sink::event`].
    fn screened(&mut self, event: Event, marks: Marks) -> ControlFlow<()> {
        let _ = marks;
        self.event(event)
    }
    /// `count` more events the screen dropped.
    fn dropped(&mut self, count: u64) {
        let _ = count;
    }
    /// An input of `bytes` bytes (its size on disk) was read to its end: what a progress bar
    /// counts.
    fn file_done(&mut self, bytes: u64) {
        let _ = bytes;
    }
}

/// How to read inputs.
#[derive(Clone)]
pub struct ReadOptions {
    /// The format to assume instead of sniffing each file (`--input-format`).
    pub format: Option<Format>,
    /// Worker threads for decoding one large file (EVTX chunks, batches of JSON records).
    pub threads: usize,
    /// Run on every event on the thread that decoded it; only the events it passes reach the sink
    /// (see [`Screen`]).
    pub screen: Option<Arc<dyn Screen>>,
}

impl ReadOptions {
    /// Sniffed formats, every core, no screen, but `threads` workers.
    pub fn with_threads(threads: usize) -> Self {
        ReadOptions { threads, ..ReadOptions::default() }
    }
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            screen: None,
        }
    }
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("format", &self.format)
            .field("threads", &self.threads)
            .field("screen", &self.screen.is_some())
            .finish()
    }
}

/// Files up to this size are read whole on one thread, several at a time.
const SMALL_FILE: u64 = 8 << 20;
/// How much small input is decoded at once. It bounds the events held before they are passed on:
/// two batches at most, one replayed while the next is decoded.
const BATCH_BYTES: u64 = 32 << 20;
/// How many container levels are opened (`.zip` holding `.gz`).
const MAX_NESTING: u8 = 3;

/// Reads every input into `sink`, in order: small files are decoded a batch at a time on the rayon
/// pool and replayed in order, large ones one at a time with their own internal parallelism.
///
/// A batch is replayed into `sink` on the calling thread while the pool decodes the next one, so
/// that the sink's work (lineage, alerts) does not leave the pool idle: with the built-in pack
/// over evtx-to-mitre (281 small files, two batches), replaying the first batch took a tenth of
/// the time spent reading.
pub fn read_all(
    files: &[InputFile],
    options: &ReadOptions,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    let small = |file: &InputFile| {
        file.size <= SMALL_FILE && file.source != Source::Stdin && options.threads > 1
    };
    let mut start = 0;
    // The batch decoded last, waiting to be replayed.
    let mut held: Option<Batch<'_>> = None;
    while let Some(first) = files.get(start) {
        if !small(first) {
            if let Some(batch) = held.take() {
                batch.replay(sink)?;
            }
            read_input(first, options, sink)?;
            sink.file_done(first.size);
            start += 1;
            continue;
        }
        let mut end = start;
        let mut bytes = 0;
        while let Some(file) = files.get(end).filter(|file| small(file))
            && (end == start || bytes + file.size <= BATCH_BYTES)
        {
            bytes += file.size;
            end += 1;
        }
        let next = &files[start..end];
        let mut decoded = None;
        let replayed = rayon::in_place_scope(|scope| {
            scope.spawn(|_| decoded = Some(Batch::decode(next, options)));
            held.take().map_or(ControlFlow::Continue(()), |batch| batch.replay(sink))
        });
        replayed?;
        held = decoded;
        start = end;
    }
    held.map_or(ControlFlow::Continue(()), |batch| batch.replay(sink))
}

/// Small files decoded together, each into its own [`Collector`].
struct Batch<'a> {
    files: &'a [InputFile],
    collected: Vec<Collector>,
}

impl<'a> Batch<'a> {
    /// Decodes `files` in parallel, each on one thread.
    fn decode(files: &'a [InputFile], options: &ReadOptions) -> Batch<'a> {
        let single = ReadOptions { threads: 1, ..options.clone() };
        let collected = files
            .par_iter()
            .map(|file| {
                let mut collector = Collector::default();
                let _ = read_input(file, &single, &mut collector);
                collector
            })
            .collect();
        Batch { files, collected }
    }

    /// Passes what was decoded to `sink`, file by file in input order.
    fn replay(self, sink: &mut dyn Sink) -> ControlFlow<()> {
        for (collector, file) in self.collected.into_iter().zip(self.files) {
            collector.replay(sink)?;
            sink.file_done(file.size);
        }
        ControlFlow::Continue(())
    }
}

/// Reads one input into `sink`.
pub fn read_input(file: &InputFile, options: &ReadOptions, sink: &mut dyn Sink) -> ControlFlow<()> {
    match &file.source {
        Source::Stdin => {
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            read_stream(&mut lock, None, &file.name, file.explicit, options, sink, 0)
        }
        Source::Path(path) => match std::fs::File::open(path) {
            Ok(mut f) => {
                read_stream(&mut f, Some(path), &file.name, file.explicit, options, sink, 0)
            }
            Err(e) => {
                sink.problem(Problem::error(&file.name, None, e.into()));
                ControlFlow::Continue(())
            }
        },
    }
}

/// Reads telemetry held in memory (embedded test data, a network payload), named `name` in
/// provenance and problems.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    options: &ReadOptions,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    let name: Arc<str> = name.into();
    if options.format == Some(Format::Evtx)
        || (options.format.is_none() && sniff::kind(bytes) == Kind::Evtx)
    {
        // The EVTX parser seeks: give it the bytes, not a temporary copy of them.
        return read_evtx(bytes, &name, options, sink, || Ok(Cursor::new(bytes.to_vec())));
    }
    read_stream(&mut &bytes[..], None, &name, true, options, sink, 0)
}

/// Reads a stream whose format is not known yet. `on_disk` is its path when it is a plain file (so
/// EVTX and zip can seek in it without a temporary copy).
fn read_stream(
    reader: &mut dyn Read,
    on_disk: Option<&Path>,
    name: &Arc<str>,
    explicit: bool,
    options: &ReadOptions,
    sink: &mut dyn Sink,
    nesting: u8,
) -> ControlFlow<()> {
    // An EVTX file says so in its first bytes, and is read again from its start: its sample stops
    // there, so that the first chunk is not read twice.
    let mut head = Vec::with_capacity(sniff::SAMPLE);
    let sampled =
        (&mut *reader).take(sniff::EVTX_SIGNATURE as u64).read_to_end(&mut head).and_then(|_| {
            if sniff::kind(&head) == Kind::Evtx
                && matches!(options.format, None | Some(Format::Evtx))
            {
                return Ok(0);
            }
            let rest = (sniff::SAMPLE - head.len()) as u64;
            (&mut *reader).take(rest).read_to_end(&mut head)
        });
    if let Err(e) = sampled {
        sink.problem(Problem::error(name, None, e.into()));
        return ControlFlow::Continue(());
    }
    let kind = sniff::kind(&head);
    let mut whole = Cursor::new(head.clone()).chain(reader);
    match (options.format, kind) {
        (_, Kind::Empty) => {
            sink.problem(Problem::warning(name, DecodeError::Empty));
            ControlFlow::Continue(())
        }
        (_, Kind::Gzip) if nesting < MAX_NESTING => {
            let mut inner = flate2::read::MultiGzDecoder::new(whole);
            read_stream(&mut inner, None, name, explicit, options, sink, nesting + 1)
        }
        (_, Kind::Zip) if nesting < MAX_NESTING => match seekable(on_disk, &mut whole) {
            Ok(file) => read_zip(file, name, options, sink, nesting),
            Err(e) => {
                sink.problem(Problem::error(name, None, e.into()));
                ControlFlow::Continue(())
            }
        },
        (Some(Format::Evtx), _) | (None, Kind::Evtx) => {
            read_evtx(&head, name, options, sink, || seekable(on_disk, &mut whole))
        }
        (forced, Kind::Text { utf16: Some(big_endian) }) => {
            let mut decoded = Utf16Reader::new(BufReader::new(whole.take_after(2)), big_endian);
            let flow = read_text(
                &mut decoded,
                &head_utf16(&head, big_endian),
                forced,
                name,
                explicit,
                options,
                sink,
            );
            if let Some((units, first_offset)) = decoded.invalid() {
                let error = DecodeError::Utf16 { units, first_offset };
                sink.problem(Problem::error(name, Some(Location::Offset(first_offset)), error));
            }
            flow
        }
        (forced, Kind::Text { utf16: None }) => {
            read_text(&mut whole, &head, forced, name, explicit, options, sink)
        }
        (Some(forced), _) => {
            read_text(&mut whole, &head, Some(forced), name, explicit, options, sink)
        }
        (None, _) => unknown(name, explicit, sink),
    }
}

/// Text after sniffing: JSON, XML or line framing, records decoded in parallel batches.
fn read_text(
    reader: &mut dyn Read,
    head: &[u8],
    forced: Option<Format>,
    name: &Arc<str>,
    explicit: bool,
    options: &ReadOptions,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    let kind = match forced {
        Some(Format::EvtxXml) => TextKind::Xml,
        Some(Format::EsxiLog) => TextKind::Esxi,
        Some(Format::W3cLog) => TextKind::W3c,
        Some(Format::AccessLog) => TextKind::AccessLog,
        Some(Format::Defender) if sniff::text_kind(head) != TextKind::Json => TextKind::Csv,
        Some(Format::Auditd) if sniff::text_kind(head) != TextKind::Json => TextKind::Auditd,
        Some(_) => TextKind::Json,
        None => sniff::text_kind(head),
    };
    if kind == TextKind::Unknown {
        return unknown(name, explicit, sink);
    }
    counted(name, kind.name(), sink, |sink| text::read(reader, kind, forced, name, options, sink))
}

/// Every entry of a zip archive, each sniffed on its own.
fn read_zip(
    file: std::fs::File,
    name: &Arc<str>,
    options: &ReadOptions,
    sink: &mut dyn Sink,
    nesting: u8,
) -> ControlFlow<()> {
    let mut archive = match zip::ZipArchive::new(file) {
        Ok(a) => a,
        Err(e) => {
            sink.problem(Problem::error(name, None, DecodeError::Archive(e.to_string())));
            return ControlFlow::Continue(());
        }
    };
    for index in 0..archive.len() {
        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => {
                sink.problem(Problem::error(name, None, DecodeError::Archive(e.to_string())));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let entry_name: Arc<str> = match entry.name() {
            Ok(inner) => format!("{name}!{inner}").into(),
            Err(_) => format!("{name}!#{index}").into(),
        };
        read_stream(&mut entry, None, &entry_name, false, options, sink, nesting + 1)?;
    }
    ControlFlow::Continue(())
}

/// A seekable file with the stream's bytes: the file itself when it is on disk, otherwise an
/// anonymous temporary copy (memory stays bounded whatever the size).
fn seekable(on_disk: Option<&Path>, reader: &mut dyn Read) -> std::io::Result<std::fs::File> {
    if let Some(path) = on_disk {
        return std::fs::File::open(path);
    }
    let mut file = tempfile::tempfile()?;
    std::io::copy(reader, &mut file)?;
    file.rewind()?;
    Ok(file)
}

/// Reads an EVTX file whose first bytes are `head`, opened by `open` only when they are EVTX's
/// (`--input-format evtx` on anything else says what it is instead).
fn read_evtx<R: Read + Seek + crate::evtx_extent::ReadAt + Send + 'static>(
    head: &[u8],
    name: &Arc<str>,
    options: &ReadOptions,
    sink: &mut dyn Sink,
    open: impl FnOnce() -> std::io::Result<R>,
) -> ControlFlow<()> {
    if sniff::kind(head) != Kind::Evtx {
        let error = DecodeError::NotEvtx(describe_content(head));
        sink.problem(Problem::error(name, None, error));
        return ControlFlow::Continue(());
    }
    match open() {
        Ok(file) => counted(name, "EVTX", sink, |sink| evtx_file::read(file, name, options, sink)),
        Err(e) => {
            sink.problem(Problem::error(name, None, e.into()));
            ControlFlow::Continue(())
        }
    }
}

/// Reads with `read` and warns when the input, read as `format`, gave no event and no error: a
/// file that is not what it seemed must not pass for an empty log.
fn counted(
    name: &Arc<str>,
    format: &'static str,
    sink: &mut dyn Sink,
    read: impl FnOnce(&mut dyn Sink) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let mut counting = Counting { inner: sink, events: 0, errors: 0 };
    let flow = read(&mut counting);
    if flow.is_continue() && counting.events == 0 && counting.errors == 0 {
        sink.problem(Problem::warning(name, DecodeError::NoEvents(format)));
    }
    flow
}

/// A sink that counts the events and errors passing through it.
struct Counting<'a> {
    inner: &'a mut dyn Sink,
    events: u64,
    errors: u64,
}

impl Sink for Counting<'_> {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.events += 1;
        self.inner.event(event)
    }
    fn problem(&mut self, problem: Problem) {
        if problem.severity == crate::Severity::Error {
            self.errors += 1;
        }
        self.inner.problem(problem);
    }
    fn screened(&mut self, event: Event, marks: Marks) -> ControlFlow<()> {
        self.events += 1;
        self.inner.screened(event, marks)
    }
    fn dropped(&mut self, count: u64) {
        self.events += count;
        self.inner.dropped(count);
    }
}

/// What bytes look like, for a message about a file that is not in the format the user named.
fn describe_content(head: &[u8]) -> &'static str {
    match sniff::kind(head) {
        Kind::Empty => "it is empty",
        Kind::Gzip => "it is gzip-compressed: drop --input-format to have it opened",
        Kind::Zip => "it is a zip archive: drop --input-format to have it opened",
        Kind::Evtx => "it is EVTX",
        Kind::Text { .. } => match sniff::text_kind(head) {
            TextKind::Unknown => "its content is not a format shellward reads",
            kind => kind.looks_like(),
        },
    }
}

fn unknown(name: &Arc<str>, explicit: bool, sink: &mut dyn Sink) -> ControlFlow<()> {
    sink.problem(if explicit {
        Problem::error(name, None, DecodeError::UnknownFormat)
    } else {
        Problem::note(name, DecodeError::UnknownFormat)
    });
    ControlFlow::Continue(())
}

/// The first bytes of a UTF-16 stream decoded, for sniffing.
fn head_utf16(head: &[u8], big_endian: bool) -> Vec<u8> {
    let mut text = String::new();
    let _ = Utf16Reader::new(&head[2.min(head.len())..], big_endian).read_to_string(&mut text);
    text.into_bytes()
}

/// Skips the first `n` bytes of a reader (the byte order mark).
trait TakeAfter: Read + Sized {
    fn take_after(mut self, n: u64) -> Self {
        let _ = std::io::copy(&mut self.by_ref().take(n), &mut std::io::sink());
        self
    }
}
impl<R: Read> TakeAfter for R {}

/// Holds one file's output so several files can be decoded at once and replayed in order.
#[derive(Default)]
struct Collector {
    items: Vec<Item>,
    dropped: u64,
}

enum Item {
    Event(Event, Marks),
    Problem(Problem),
}

impl Sink for Collector {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.screened(event, Marks::new())
    }
    fn problem(&mut self, problem: Problem) {
        self.items.push(Item::Problem(problem));
    }
    fn screened(&mut self, event: Event, marks: Marks) -> ControlFlow<()> {
        self.items.push(Item::Event(event, marks));
        ControlFlow::Continue(())
    }
    fn dropped(&mut self, count: u64) {
        self.dropped += count;
    }
}

impl Collector {
    fn replay(self, sink: &mut dyn Sink) -> ControlFlow<()> {
        if self.dropped > 0 {
            sink.dropped(self.dropped);
        }
        for item in self.items {
            match item {
                Item::Event(event, marks) => sink.screened(event, marks)?,
                Item::Problem(p) => sink.problem(p),
            }
        }
        ControlFlow::Continue(())
    }
}
