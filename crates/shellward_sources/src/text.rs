//! Text telemetry (JSON, XML, ESXi lines): framed on the reading thread, decoded in batches on the
//! pool.
//!
//! Framing (finding where each record ends) is sequential by nature; decoding and screening a
//! record needs nothing but its bytes. So the reading thread cuts a batch of records and hands it
//! to the pool, then cuts the next batch while the pool decodes the first: framing and decoding
//! overlap, and a single large file keeps every core busy. At most two batches exist at once
//! (the one decoding, the one being cut), so memory stays bounded whatever the input size; results
//! reach the sink in input order.
//!
//! The one layout whose lines are not self-contained, IIS W3C (its `#Fields:` directives name the
//! columns of the lines after them), is handled in the same sequential pass: the framer reads the
//! directives and each line goes to the pool with the columns in effect ([`Framed::Columns`]).

use crate::lines::{self, LineFrame};
use crate::problem::{DecodeError, Location, Problem};
use crate::screen::{self, Screen, Screened};
use crate::sniff::TextKind;
use crate::web::{clf, w3c};
use crate::{ReadOptions, Sink, esxi, json, xml};
use rayon::prelude::*;
use shellward_event::Format;
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Arc;

/// How many text records are decoded in parallel at once (at most).
const BATCH_RECORDS: usize = 4096;
/// How many bytes of records a batch holds (at most, but for one record).
const BATCH_BYTES: usize = 8 << 20;

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
            let mut framer = json::framer::Framer::new(reader);
            decoder.run(
                || {
                    framer.next_frame().map(|frame| match frame {
                        json::framer::Frame::Record { line, bytes } => {
                            Framed::Frame(Ok((line, bytes)))
                        }
                        json::framer::Frame::Problem { line, error } => {
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
        TextKind::Esxi | TextKind::AccessLog | TextKind::Unknown => {
            let mut framer = lines::LineFramer::new(reader);
            decoder.run(|| framer.next_frame().map(Framed::Frame), sink)
        }
    }
}

/// What framing gives: a record (or a problem at a line), or the W3C columns of the lines after it.
enum Framed {
    Frame(LineFrame),
    Columns(Arc<w3c::Columns>),
}

/// The next W3C frame: a `#Fields:` directive gives columns, other directives are passed over.
fn w3c_frame<R: Read>(framer: &mut lines::LineFramer<R>) -> Option<Framed> {
    loop {
        let frame = framer.next_frame()?;
        match &frame {
            Ok((_, bytes)) if bytes.first() == Some(&b'#') => {
                if let Some(columns) = w3c::Columns::from_directive(bytes) {
                    return Some(Framed::Columns(Arc::new(columns)));
                }
            }
            _ => return Some(Framed::Frame(frame)),
        }
    }
}

/// A frame and the W3C columns in effect for it.
type Item = (LineFrame, Option<Arc<w3c::Columns>>);

/// How the records of one text input are decoded.
struct Decoder<'a> {
    name: &'a Arc<str>,
    forced: Option<Format>,
    kind: TextKind,
    parallel: bool,
    screen: Option<&'a dyn Screen>,
}

/// A decoded frame: the line it started on, and its event (or why there is none).
type Decoded = (u64, Result<Screened, DecodeError>);

impl Decoder<'_> {
    /// Frames with `next` and decodes batch by batch, overlapping the two when parallel.
    fn run(
        &self,
        mut next: impl FnMut() -> Option<Framed>,
        sink: &mut dyn Sink,
    ) -> ControlFlow<()> {
        let mut columns = None;
        let mut batch = cut(&mut next, &mut columns);
        while !batch.is_empty() {
            let decoded = if self.parallel {
                let mut decoded = Vec::new();
                let current = std::mem::take(&mut batch);
                batch = rayon::in_place_scope(|scope| {
                    scope.spawn(|_| decoded = self.decode_all(current));
                    cut(&mut next, &mut columns)
                });
                decoded
            } else {
                let decoded = self.decode_all(std::mem::take(&mut batch));
                batch = cut(&mut next, &mut columns);
                decoded
            };
            self.deliver(decoded, sink)?;
        }
        ControlFlow::Continue(())
    }

    fn decode_all(&self, batch: Vec<Item>) -> Vec<Decoded> {
        if self.parallel && batch.len() > 1 {
            batch.into_par_iter().map(|frame| self.decode(frame)).collect()
        } else {
            batch.into_iter().map(|frame| self.decode(frame)).collect()
        }
    }

    /// Decodes one record and screens the event (framing problems pass through).
    fn decode(&self, (frame, columns): Item) -> Decoded {
        let (line, bytes) = match frame {
            Ok(record) => record,
            Err((line, error)) => return (line, Err(error)),
        };
        let event = match self.kind {
            TextKind::Xml => xml::decode(&bytes, self.name, line),
            TextKind::Esxi => esxi::decode(&bytes, self.name, line),
            TextKind::W3c => w3c::decode(&bytes, self.name, line, columns.as_deref()),
            TextKind::AccessLog => clf::decode(&bytes, self.name, line),
            _ => return (line, json::decode(&bytes, self.name, line, self.forced, self.screen)),
        };
        (line, event.map(|event| screen::apply(self.screen, event)))
    }

    fn deliver(&self, decoded: Vec<Decoded>, sink: &mut dyn Sink) -> ControlFlow<()> {
        for (line, result) in decoded {
            match result {
                Ok(screened) => screen::deliver(screened, sink)?,
                Err(error) => {
                    sink.problem(Problem::error(self.name, Some(Location::Line(line)), error))
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The next batch of frames: up to [`BATCH_RECORDS`] records or [`BATCH_BYTES`] bytes; empty at
/// the end of input. `columns` holds the W3C columns in effect, from batch to batch.
fn cut(
    next: &mut impl FnMut() -> Option<Framed>,
    columns: &mut Option<Arc<w3c::Columns>>,
) -> Vec<Item> {
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
                batch.push((frame, columns.clone()));
            }
        }
    }
    batch
}
