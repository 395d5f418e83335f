//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): each framer and decoder on
//! its own, single-threaded, with the events and problems only counted.
//!
//! Whole inputs ([`sniffed`], [`forced`]) are read twice: as `shellward events` reads them (no
//! screen), and under a [`Skipping`] screen, so that the paths that skip records unread (an EVTX
//! record's route and values read from its binary XML, a chunk left out, a JSON record's route
//! read) meet the same hostile bytes.

use crate::raw::RawRoute;
use crate::screen::Marks;
use crate::sniff::TextKind;
use crate::{Problem, ReadOptions, Screen, Sink, text};
use shellward_event::{Event, Format, RawText};
use std::ops::ControlFlow;
use std::sync::Arc;

/// Counts what a decoder produced.
#[derive(Debug, Default)]
pub struct Counts {
    /// Events decoded.
    pub events: u64,
    /// Problems reported.
    pub problems: u64,
}

impl Sink for Counts {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        // Serializing exercises every value the decoder built.
        let _ = serde_json::to_vec(&event);
        self.events += 1;
        ControlFlow::Continue(())
    }
    fn problem(&mut self, problem: Problem) {
        let _ = problem.to_string();
        self.problems += 1;
    }
}

fn options(format: Option<Format>) -> ReadOptions {
    ReadOptions { format, threads: 1, screen: None }
}

/// A screen that skips by route and by text, on a whim (the route's event ID, a letter in the
/// text), so that every way of skipping a record unread is taken.
#[derive(Debug)]
pub struct Skipping;

impl Screen for Skipping {
    fn screen(&self, _: &Event) -> Option<Marks> {
        Some(Marks::new())
    }
    fn may_skip(&self, route: &RawRoute<'_>) -> bool {
        // What a hunt's screen computes of a route, exercised on hostile routes too.
        let _ = (route.logsources(), route.computes("CommandLine"), route.whole_values());
        route.event_id % 2 == 0
    }
    fn skips_route(&self, route: &RawRoute<'_>) -> bool {
        route.event_id % 3 == 0
    }
    fn skips_raw(&self, _: &RawRoute<'_>, text: &RawText<'_>) -> bool {
        !text.bytes.contains(&b'x')
    }
}

/// [`options`] under the [`Skipping`] screen.
fn skipping(format: Option<Format>) -> ReadOptions {
    ReadOptions { screen: Some(Arc::new(Skipping)), ..options(format) }
}

/// Reads `bytes` with `format` forced (or sniffed), without a screen and then with [`Skipping`].
fn read_twice(bytes: &[u8], format: Option<Format>) -> Counts {
    let mut counts = Counts::default();
    let _ = crate::read_bytes("fuzz", bytes, &options(format), &mut counts);
    let _ = crate::read_bytes("fuzz", bytes, &skipping(format), &mut Counts::default());
    counts
}

/// Reads bytes as the user would with no `--input-format`: sniffing, containers, every decoder
/// (and again under [`Skipping`]).
pub fn sniffed(bytes: &[u8]) -> Counts {
    read_twice(bytes, None)
}

/// Reads bytes as a forced format (`--input-format`), and again under [`Skipping`].
pub fn forced(bytes: &[u8], format: Format) -> Counts {
    read_twice(bytes, Some(format))
}

/// Reads bytes with one text framer and its decoders, the record shapes recognized as usual (and
/// again under [`Skipping`]).
pub fn text(bytes: &[u8], kind: &str) -> Counts {
    let kind = match kind {
        "json" => TextKind::Json,
        "xml" => TextKind::Xml,
        "csv" => TextKind::Csv,
        "auditd" => TextKind::Auditd,
        "w3c" => TextKind::W3c,
        "access" => TextKind::AccessLog,
        "esxi" => TextKind::Esxi,
        _ => TextKind::Unknown,
    };
    let mut counts = Counts::default();
    let name: Arc<str> = "fuzz".into();
    let _ = text::read(&mut &bytes[..], kind, None, &name, &options(None), &mut counts);
    let _ = text::read(&mut &bytes[..], kind, None, &name, &skipping(None), &mut Counts::default());
    counts
}

/// Feeds bytes to a [`crate::Tail`] in pieces: the first byte seeds where the input is cut (so
/// lines are split anywhere, as an agent's writes are), then the stream goes quiet.
pub fn tail(data: &[u8]) -> Counts {
    let mut counts = Counts::default();
    let Some((&seed, mut rest)) = data.split_first() else { return counts };
    let options = options(None);
    let mut tail = crate::Tail::new("fuzz".into());
    let mut step = usize::from(seed % 61) + 1;
    while !rest.is_empty() {
        let (piece, after) = rest.split_at(step.min(rest.len()));
        let _ = tail.feed(piece, &options, &mut counts);
        if step % 3 == 0 {
            let _ = tail.idle(&options, &mut counts);
        }
        rest = after;
        step = (step * 7 + 3) % 97 + 1;
    }
    let _ = tail.feed(b"\n", &options, &mut counts);
    let _ = tail.idle(&options, &mut counts);
    counts
}

/// Reads a JSON record's route with the scanner the hunt uses and with the serde_json pass it
/// stands for, and panics where the scanner would let a record be skipped that the serde pass or
/// the decoder would not (the scanner may refuse more, see [`crate::json::route_scan`], never
/// less), or where what it saw of the text (its `Message`, its escapes) is wrong.
pub fn json_route(bytes: &[u8]) {
    let forced = match bytes.first().map(|b| b % 4) {
        Some(1) => Some(Format::EvtxJson),
        Some(2) => Some(Format::FlatJson),
        _ => None,
    };
    let read =
        |whatever: bool| crate::json::route_scan::read(bytes, forced, &mut |_| true, &|_| whatever);
    let Ok(text) = std::str::from_utf8(bytes) else {
        // Read to its end, text that is not UTF-8 has no route: it is decoded, and reported.
        assert!(read(false).is_none());
        return;
    };
    let early = read(true);
    if let Some((route, _)) = &early
        && serde_json::from_str::<serde_json::Value>(text).is_ok()
    {
        let decoded = crate::json::decoder_route(text, forced);
        let route = (route.rendering, route.channel.clone(), route.event_id);
        assert_eq!(decoded, Some(route), "{text}");
    }
    let Some((fast, seen)) = read(false) else { return };
    let slow =
        crate::json::route::read(text, forced, crate::json::route::Read::Validate, &mut |_| true);
    assert_eq!(Some(&fast), slow.as_ref(), "{text}");
    assert_eq!(early.map(|(route, _)| route).as_ref(), Some(&fast), "{text}");
    if let Some(Err(wrong)) = seen.map(|seen| crate::json::route_scan::check_seen(text, &seen)) {
        panic!("{text}: {wrong}");
    }
}
