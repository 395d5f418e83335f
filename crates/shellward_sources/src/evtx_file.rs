//! Binary Windows event logs (`.evtx`), through the `evtx` crate.
//!
//! The crate parses chunks on its own rayon pipeline; each record is rendered to JSON there, on the
//! worker thread, built into an [`Event`] by the same code that reads `evtx_dump` JSON
//! ([`crate::json::evtx_json`]), so both renderings give identical events, and screened there
//! ([`crate::screen`]); a record the screen skips unread is dropped before it is rendered where its
//! route and values can be read from its binary XML ([`crate::raw::before_rendering`]), else before
//! its event is built. A chunk or record the crate refuses becomes a [`Problem`] naming the chunk
//! or record, and the records around it still come out.

use crate::evtx_extent::{self, CHUNK, Chunks, FILE_HEADER, ReadAt, View};
use crate::json::evtx_json;
use crate::json::evtx_stream::{self, Built};
use crate::problem::{DecodeError, Location, Problem, Severity};
use crate::raw;
use crate::screen::{self, Screened};
use crate::{ReadOptions, Screen, Sink, windows};
use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use shellward_event::{Event, Format, Provenance, Value};
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::sync::Arc;

/// Reads every record of an EVTX file into `sink`.
pub(crate) fn read<R: Read + Seek + ReadAt + Send + 'static>(
    mut source: R,
    path: &Arc<str>,
    options: &ReadOptions,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    // The evtx crate silently ignores a partial last chunk; a truncated log should say so.
    let Ok(len) = source.seek(SeekFrom::End(0)) else { return ControlFlow::Continue(()) };
    let partial = len
        .checked_sub(FILE_HEADER)
        .and_then(|body| (body % CHUNK != 0).then_some((body / CHUNK, body % CHUNK)));
    let choice = evtx_extent::choose(&source, len, options.screen.as_deref());
    if choice.skipped_records > 0 {
        sink.dropped(choice.skipped_records);
    }
    let chunks = choice.chunks;
    let parser = match EvtxParser::from_read_seek(View::new(source, len, chunks.clone())) {
        Ok(p) => p,
        Err(e) => {
            let (location, message) = describe(e, &chunks);
            sink.problem(Problem::error(path, location, DecodeError::Evtx(message)));
            return ControlFlow::Continue(());
        }
    };
    let settings = ParserSettings::default().num_threads(options.threads.max(1));
    let mut parser = parser.with_configuration(settings);
    let record_path = Arc::clone(path);
    let screen = options.screen.clone();
    let records = parser.serialized_records(move |record| {
        let record = record?;
        let id = record.event_record_id;
        let before = screen.as_deref().map(|screen| raw::before_rendering(screen, &record));
        if let Some(raw::BeforeRendering::Skipped) = before {
            return Ok(Ok((None, None)));
        }
        let rendered = record.into_json_bytes()?;
        if let (Some(screen), Some(before)) = (screen.as_deref(), &before)
            && let Ok(text) = std::str::from_utf8(&rendered.data)
            && raw::skips_rendered(screen, before, text)
        {
            return Ok(Ok((None, None)));
        }
        Ok(build(&rendered.data, &record_path, id, screen.as_deref()).map(|screened| {
            let replaced = screened.as_ref().and_then(|(event, _)| replaced_utf16(event));
            (replaced, screened)
        }))
    });
    for result in records {
        match result {
            Ok(Ok((replaced, screened))) => {
                if let Some((record, field)) = replaced {
                    warn_replaced(path, record, &field, sink);
                }
                screen::deliver(screened, sink)?;
            }
            Ok(Err((id, error))) => {
                sink.problem(Problem::error(path, Some(Location::Record(id)), error))
            }
            Err(e) => {
                let (location, message) = describe(e, &chunks);
                sink.problem(Problem::error(path, location, DecodeError::Evtx(message)));
            }
        }
    }
    if let Some((chunk, bytes)) = partial {
        let error = DecodeError::Evtx(format!(
            "file ends {bytes} bytes into chunk {chunk} (truncated); that chunk is not read"
        ));
        sink.problem(Problem::error(path, Some(Location::Chunk(chunk)), error));
    }
    ControlFlow::Continue(())
}

/// A record whose text held invalid UTF-16 (the event is kept, with U+FFFD in its place).
fn warn_replaced(path: &Arc<str>, record: u64, field: &str, sink: &mut dyn Sink) {
    let error = DecodeError::Evtx(format!(
        "invalid UTF-16 in {field}, replaced with U+FFFD (the event is kept)"
    ));
    let location = Some(Location::Record(record));
    sink.problem(Problem { severity: Severity::Warning, ..Problem::error(path, location, error) });
}

/// The record and first field whose text holds U+FFFD: the evtx crate's replacement for invalid
/// UTF-16.
fn replaced_utf16(event: &Event) -> Option<(u64, String)> {
    fn has(v: &Value) -> bool {
        match v {
            Value::Str(s) => memchr::memmem::find(s.as_bytes(), "\u{FFFD}".as_bytes()).is_some(),
            Value::List(items) => items.iter().any(has),
            _ => false,
        }
    }
    let (field, _) = event.fields().find(|(_, v)| has(v))?;
    Some((event.provenance.record, field.to_owned()))
}

/// Builds the event from a record's JSON rendering, in one pass over the text
/// ([`evtx_stream`]) or, for a record of another shape, from its tree; and screens it. A record
/// whose log source the screen does not want is dropped.
fn build(
    json: &[u8],
    path: &Arc<str>,
    id: u64,
    screen: Option<&dyn Screen>,
) -> Result<Screened, (u64, DecodeError)> {
    let provenance = || Provenance { path: Arc::clone(path), record: id, format: Format::Evtx };
    let mut event = Event::new(provenance());
    if let Built::Event(key) = evtx_stream::build(json, &mut event) {
        if let Some(screen) = screen
            && let Some((channel, event_id)) = key
            && !windows::wanted(screen, &channel, event_id)
        {
            return Ok(None);
        }
        return Ok(screen::apply(screen, event));
    }
    build_from_tree(json, provenance(), screen).map_err(|error| (id, error))
}

/// [`build`] from the record's `serde_json` tree.
fn build_from_tree(
    json: &[u8],
    provenance: Provenance,
    screen: Option<&dyn Screen>,
) -> Result<Screened, DecodeError> {
    let mut root: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(json).map_err(DecodeError::Json)?;
    let Some(serde_json::Value::Object(inner)) = root.remove("Event") else {
        return Err(DecodeError::Evtx("record has no <Event> element".into()));
    };
    if let Some(screen) = screen
        && let Some((channel, event_id)) = evtx_json::key(&inner)
        && !windows::wanted(screen, channel, event_id)
    {
        return Ok(None);
    }
    let mut event = Event::new(provenance);
    evtx_json::build(&mut event, inner);
    Ok(screen::apply(screen, event))
}

/// Where an evtx error is, and its chain of causes as one line; the crate's chunk numbers (in the
/// view it was given) are turned into numbers in the file.
fn describe(mut error: EvtxError, chunks: &Chunks) -> (Option<Location>, String) {
    match &mut error {
        EvtxError::FailedToParseChunk { chunk_id, .. } => *chunk_id = chunks.in_file(*chunk_id),
        EvtxError::FailedToReadRecordAt { chunk: Some(chunk), .. } => {
            *chunk = chunks.in_file(*chunk)
        }
        _ => {}
    }
    let error = &error;
    let location = match error {
        EvtxError::FailedToParseRecord { record_id, .. } => Some(Location::Record(*record_id)),
        EvtxError::FailedToParseChunk { chunk_id, .. } => Some(Location::Chunk(*chunk_id)),
        EvtxError::FailedToReadRecordAt { chunk, offset, .. } => {
            Some(Location::ChunkOffset { chunk: *chunk, offset: *offset })
        }
        _ => None,
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    (location, message)
}
