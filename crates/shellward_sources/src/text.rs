//! Text telemetry (JSON, XML, CSV, log lines): framed on the reading thread, decoded in batches on the
//! pool.
//!
//! Framing (finding where each record ends) is sequential by nature; decoding and screening a
//! record needs nothing but its bytes. So the reading thread cuts batches of records (a megabyte,
//! or 1,024 records) and hands each to the pool as soon as it is cut, while it cuts the next:
//! framing and decoding overlap, and a single large file keeps every core busy. JSON lines need no
//! sequential framing at all (a record never spans lines): the reading thread hands out the read
//! window's whole lines as one block, without copying them, and the pool frames them
//! ([`json::framer::Lines`]). At most 16 MiB of batches are held between being cut and their
//! records delivered ([`in_order`]), so memory stays bounded whatever the input size; results
//! reach the sink in input order.
//!
//! What is not self-contained is handled in the sequential passes around the pool:
//! - column headers (IIS W3C `#Fields:` directives, the header line of a CSV export) are read by
//!   the framer, and each line goes to the pool with the columns in effect ([`Framed::Columns`]);
//! - audit records are gathered into events by their framer ([`crate::auditd::Grouper`]).
//!
//! Events that name their parent or actor by id only (Falcon, auditd) are not linked here: the
//! hunt's one process table does that, in input order, whatever the events were read from.

use crate::lines::{self, Columns, LineFrame};
use crate::problem::{DecodeError, Location, Problem};
use crate::screen::{self, Screen, Screened};
use crate::sniff::TextKind;
use crate::web::{clf, w3c};
use crate::{ReadOptions, Sink, auditd, csv_rows, esxi, in_order, json, xml};
use shellward_event::Format;
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Arc;

/// The most records in a batch (decoded by one task of the pool).
const BATCH_RECORDS: usize = 1024;
/// How many bytes of records a batch holds (at most, but for one record); a block of JSON lines
/// counts the whole buffer it holds, not only its text (so a block is a batch).
const BATCH_BYTES: usize = 1 << 20;
/// The batches held between being cut and their records delivered: about as much text as two
/// batches of 8 MiB held when one decoded while the next was cut.
const IN_FLIGHT: in_order::Limits = in_order::Limits { items: 32, weight: 16 << 20 };

/// Reads text of a known kind (not [`TextKind::Unknown`]) into `sink`.
pub(crate) fn read(
    reader: &mut dyn Read,
    kind: TextKind,
    forced: Option<Format>,
    name: &Arc<str>,
    options: &ReadOptions,
    sink: &mut dyn Sink,
) -> ControlFlow<()> {
    let decoder = Decoder {
        name,
        forced,
        kind,
        parallel: options.threads > 1,
        screen: options.screen.as_deref(),
    };
    match kind {
        TextKind::Json => {
            use json::framer::{Block, Frame};
            let mut framer = json::framer::Framer::new(reader);
            decoder.run(
                || {
                    framer.next_block().map(|block| match block {
                        Block::Lines(lines) => Framed::Lines(lines),
                        Block::Frame(Frame::Record { line, bytes }) => {
                            Framed::Frame(Ok((line, bytes)))
                        }
                        Block::Frame(Frame::Problem { line, error }) => {
                            Framed::Frame(Err((line, error)))
                        }
                    })
                },
                sink,
            )
        }
        TextKind::Xml => {
            let mut framer = crate::xml::Framer::new(reader);
            decoder.run(|| framer.next_frame().map(Framed::Frame), sink)
        }
        TextKind::W3c => {
            let mut framer = lines::LineFramer::new(reader);
            decoder.run(|| w3c_frame(&mut framer), sink)
        }
        TextKind::Auditd => {
            let mut framer = auditd::Grouper::new(reader);
            decoder.run(|| framer.next_frame().map(Framed::Frame), sink)
        }
        TextKind::Csv => {
            let mut framer = CsvFramer::new(reader);
            decoder.run(|| framer.next_frame(), sink)
        }
        TextKind::Esxi | TextKind::AccessLog | TextKind::Unknown => {
            let mut framer = lines::LineFramer::new(reader);
            decoder.run(|| framer.next_frame().map(Framed::Frame), sink)
        }
    }
}

/// What framing gives: a record (or a problem at a line), whole JSON lines to frame on the pool,
/// or the columns of the lines after it.
enum Framed {
    Frame(LineFrame),
    Lines(json::framer::Lines),
    Columns(Arc<Columns>),
}

/// What a batch holds: a record (or a problem), or whole JSON lines.
enum Unit {
    Frame(LineFrame),
    Lines(json::framer::Lines),
}

/// The next W3C frame: a `#Fields:` directive gives columns, other directives are passed over.
fn w3c_frame<R: Read>(framer: &mut lines::LineFramer<R>) -> Option<Framed> {
    loop {
        let frame = framer.next_frame()?;
        match &frame {
            Ok((_, bytes)) if bytes.first() == Some(&b'#') => {
                if let Some(columns) = Columns::from_directive(bytes) {
                    return Some(Framed::Columns(Arc::new(columns)));
                }
            }
            _ => return Some(Framed::Frame(frame)),
        }
    }
}

/// Frames CSV: the first line gives the columns; a row spans lines until its quotes balance (a row
/// longer than [`lines::MAX_LINE`] is reported and skipped). A row whose quoted value never closes
/// (a cut export) would swallow every row after it, so a continuation line that is a whole row by
/// itself (its quotes balance and it has as many values as the header has columns) ends the
/// broken row, which is reported, and starts the next.
struct CsvFramer<R> {
    lines: lines::LineFramer<R>,
    header_read: bool,
    /// The header's column count.
    width: usize,
    /// A line read ahead that starts the next row.
    pending: Option<(u64, Vec<u8>)>,
}

impl<R: Read> CsvFramer<R> {
    fn new(reader: R) -> Self {
        CsvFramer {
            lines: lines::LineFramer::new(reader),
            header_read: false,
            width: 0,
            pending: None,
        }
    }

    fn next_frame(&mut self) -> Option<Framed> {
        let (line, bytes) = match self.pending.take().map(Ok).or_else(|| self.lines.next_frame())? {
            Ok(first) => first,
            Err(problem) => return Some(Framed::Frame(Err(problem))),
        };
        if !std::mem::replace(&mut self.header_read, true)
            && let Some(columns) = csv_rows::header(&bytes)
        {
            self.width = columns.0.len();
            return Some(Framed::Columns(Arc::new(columns)));
        }
        let mut record = csv_rows::Record::default();
        let mut complete = record.push_line(&bytes);
        while !complete {
            if record.len() > lines::MAX_LINE {
                return Some(Framed::Frame(Err((
                    line,
                    DecodeError::TooLarge { limit: lines::MAX_LINE },
                ))));
            }
            complete = match self.lines.next_frame() {
                None => return Some(Framed::Frame(Err((line, DecodeError::Truncated)))),
                Some(Err(problem)) => return Some(Framed::Frame(Err(problem))),
                Some(Ok((number, more))) if csv_rows::is_whole_row(&more, self.width) => {
                    self.pending = Some((number, more));
                    let why = "a quoted value never closes before the next row";
                    return Some(Framed::Frame(Err((line, DecodeError::CutShort(why)))));
                }
                Some(Ok((_, more))) => record.push_line(&more),
            };
        }
        Some(Framed::Frame(Ok((line, record.take()))))
    }
}

/// A frame and the columns in effect for it (W3C and CSV).
type Item = (Unit, Option<Arc<Columns>>);

/// How the records of one text input are decoded.
struct Decoder<'a> {
    name: &'a Arc<str>,
    forced: Option<Format>,
    kind: TextKind,
    parallel: bool,
    screen: Option<&'a dyn Screen>,
}

/// What decoding gives, in input order.
enum Decoded {
    /// A record (or a problem) and the line it starts on.
    Record(u64, Result<Screened, DecodeError>),
    /// So many records in a row skipped unread or dropped by the screen: one element for a run of
    /// them, where one each moved a few hundred bytes apiece through the batch's vectors (5% of
    /// a pack hunt over JSON lines that skips nearly every record).
    Dropped(u64),
}

impl Decoder<'_> {
    /// Frames with `next` and decodes batch by batch: when parallel, each batch on the pool as
    /// soon as it is cut, while the next ones are cut ([`in_order`]).
    fn run(
        &self,
        mut next: impl FnMut() -> Option<Framed>,
        sink: &mut dyn Sink,
    ) -> ControlFlow<()> {
        let mut columns = None;
        let mut cut_next = || {
            let (batch, bytes) = cut(&mut next, &mut columns);
            (!batch.is_empty()).then_some((batch, bytes))
        };
        // A batch is dropped on the thread that framed (allocated) it, not on the pool's: its
        // memory is then reused for the next batch instead of fresh pages.
        let mut deliver = |batch: Vec<Item>, decoded: Vec<Decoded>| {
            drop(batch);
            self.deliver(decoded, sink)
        };
        if self.parallel {
            let decode = |batch: &mut Vec<Item>| self.decode_all(batch);
            return in_order::map_in_order(cut_next, decode, deliver, IN_FLIGHT);
        }
        while let Some((mut batch, _)) = cut_next() {
            let decoded = self.decode_all(&mut batch);
            deliver(batch, decoded)?;
        }
        ControlFlow::Continue(())
    }

    fn decode_all(&self, batch: &mut [Item]) -> Vec<Decoded> {
        batch.iter_mut().flat_map(|frame| self.decode(frame)).collect()
    }

    /// Decodes one frame (one record, or several when a JSON message wraps them) and screens its
    /// events. A framing problem passes through, taken out of the batch; a record's bytes stay in
    /// it, to be freed with it.
    fn decode(&self, (unit, columns): &mut Item) -> Vec<Decoded> {
        let frame = match unit {
            Unit::Frame(frame) => frame,
            Unit::Lines(lines) => return self.decode_lines(lines),
        };
        let (line, bytes) = match frame {
            Ok((line, bytes)) => (*line, &*bytes),
            Err((line, _)) => {
                let line = *line;
                let Err((_, error)) = std::mem::replace(frame, Ok((line, Vec::new()))) else {
                    return Vec::new();
                };
                return vec![Decoded::Record(line, Err(error))];
            }
        };
        let event = match self.kind {
            TextKind::Xml => match xml::decode(bytes, self.name, line, self.screen) {
                Ok(None) => return vec![Decoded::Record(line, Ok(None))],
                Ok(Some(event)) => Ok(event),
                Err(error) => Err(error),
            },
            TextKind::Esxi => {
                if self.skips_line(Format::EsxiLog, bytes, || esxi::well_formed(bytes)) {
                    return vec![Decoded::Record(line, Ok(None))];
                }
                esxi::decode(bytes, self.name, line)
            }
            TextKind::W3c => {
                let columns = columns.as_deref();
                if self.skips_line(Format::W3cLog, bytes, || w3c::well_formed(bytes, columns)) {
                    return vec![Decoded::Record(line, Ok(None))];
                }
                w3c::decode(bytes, self.name, line, columns)
            }
            TextKind::AccessLog => {
                if self.skips_line(Format::AccessLog, bytes, || clf::well_formed(bytes)) {
                    return vec![Decoded::Record(line, Ok(None))];
                }
                clf::decode(bytes, self.name, line)
            }
            TextKind::Csv => csv_rows::decode(bytes, self.name, line, columns.as_deref()),
            TextKind::Auditd => {
                return match auditd::decode(bytes, self.name, line, None) {
                    Ok(events) => events
                        .into_iter()
                        .map(|e| Decoded::Record(line, Ok(screen::apply(self.screen, e))))
                        .collect(),
                    Err(error) => vec![Decoded::Record(line, Err(error))],
                };
            }
            _ => {
                let mut decoded = Vec::with_capacity(1);
                self.decode_json(bytes, line, &mut Vec::new(), &mut decoded);
                return decoded;
            }
        };
        vec![Decoded::Record(line, event.map(|event| screen::apply(self.screen, event)))]
    }

    /// Whether a log's line is skipped unread ([`crate::raw::skips_line`]).
    fn skips_line(&self, format: Format, line: &[u8], well_formed: impl FnOnce() -> bool) -> bool {
        self.screen.is_some_and(|screen| crate::raw::skips_line(screen, format, line, well_formed))
    }

    /// Frames and decodes whole JSON lines.
    fn decode_lines(&self, lines: &json::framer::Lines) -> Vec<Decoded> {
        let mut decoded = Vec::new();
        let mut records = Vec::with_capacity(1);
        lines.frames(|line, frame| match frame {
            Ok(bytes) => self.decode_json(bytes, line, &mut records, &mut decoded),
            Err(error) => decoded.push(Decoded::Record(line, Err(error))),
        });
        decoded
    }

    /// Decodes one JSON record starting on `line` (or each record its envelope wraps) into
    /// `decoded`, through `records` (left empty).
    fn decode_json(
        &self,
        bytes: &[u8],
        line: u64,
        records: &mut Vec<Result<Screened, DecodeError>>,
        decoded: &mut Vec<Decoded>,
    ) {
        json::decode(bytes, self.name, line, self.forced, self.screen, records);
        for record in records.drain(..) {
            match (record, decoded.last_mut()) {
                (Ok(None), Some(Decoded::Dropped(run))) => *run += 1,
                (Ok(None), _) => decoded.push(Decoded::Dropped(1)),
                (record, _) => decoded.push(Decoded::Record(line, record)),
            }
        }
    }

    fn deliver(&self, decoded: Vec<Decoded>, sink: &mut dyn Sink) -> ControlFlow<()> {
        for decoded in decoded {
            match decoded {
                Decoded::Record(_, Ok(screened)) => screen::deliver(screened, sink)?,
                Decoded::Record(line, Err(error)) => {
                    sink.problem(Problem::error(self.name, Some(Location::Line(line)), error))
                }
                Decoded::Dropped(records) => sink.dropped(records),
            }
        }
        ControlFlow::Continue(())
    }
}

/// The next batch of frames, and its bytes: up to [`BATCH_RECORDS`] records or [`BATCH_BYTES`]
/// bytes; empty at the end of input. `columns` holds the columns in effect, from batch to batch.
fn cut(
    next: &mut impl FnMut() -> Option<Framed>,
    columns: &mut Option<Arc<Columns>>,
) -> (Vec<Item>, usize) {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while batch.len() < BATCH_RECORDS && bytes < BATCH_BYTES {
        match next() {
            None => break,
            Some(Framed::Columns(new)) => *columns = Some(new),
            Some(Framed::Frame(frame)) => {
                if let Ok((_, record)) = &frame {
                    bytes += record.len();
                }
                batch.push((Unit::Frame(frame), columns.clone()));
            }
            Some(Framed::Lines(lines)) => {
                bytes += lines.held();
                batch.push((Unit::Lines(lines), None));
            }
        }
    }
    (batch, bytes)
}
