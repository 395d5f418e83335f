//! Work done on each event on the decoding threads, as soon as it is built.
//!
//! A hunt keeps a few events out of many: running the rules where the event is decoded (on the
//! worker that built it, while it is still in cache) means the events that match nothing are
//! dropped there, never cross threads, and are freed by the thread that allocated them. The sink
//! then sees only the events the screen passed, with what it found ([`Marks`]), and a count of the
//! rest ([`crate::Sink::dropped`]).

use crate::Sink;
use crate::raw::RawRoute;
use shellward_event::{Event, LogSource, RawText};
use std::ops::ControlFlow;

/// What a screen found in an event it passed on (for a hunt: the indexes of the matching rules).
pub type Marks = Vec<u32>;

/// A check run on every decoded event on the decoding threads ([`crate::ReadOptions::screen`]).
pub trait Screen: Send + Sync {
    /// `Some(marks)` passes the event on to the sink with `marks`; `None` drops it.
    fn screen(&self, event: &Event) -> Option<Marks>;

    /// Whether an event of this log source could pass at all. `false` lets a decoder skip a record
    /// before building its event, where the format tells the log source early (Windows records:
    /// channel and event ID); so it must be `true` whenever [`Screen::screen`] could pass such an
    /// event. The default wants everything.
    fn wants(&self, logsource: &LogSource) -> bool {
        let _ = logsource;
        true
    }

    /// Whether records of this route may be skipped unread at all (`crate::raw`): asked once
    /// per record, as soon as its route is read; `false` has it decoded without reading the rest
    /// of its text first. The default decodes everything.
    fn may_skip(&self, route: &RawRoute<'_>) -> bool {
        let _ = route;
        false
    }

    /// Whether every record of this route is skipped unread, whatever its text: asked of a record
    /// whose route is known before it has a text (an EVTX record, before it is rendered, and every
    /// record of an EVTX chunk before the chunk is parsed). Asking counts nothing: the decoder
    /// tells the records it did skip to [`Screen::skipped_route`]. The default skips nothing.
    fn skips_route(&self, route: &RawRoute<'_>) -> bool {
        let _ = route;
        false
    }

    /// `records` records of this route were skipped unread, as [`Screen::skips_route`] allowed:
    /// counted as records of the route, skipped.
    fn skipped_route(&self, route: &RawRoute<'_>, records: u64) {
        let _ = (route, records);
    }

    /// Whether a record of this route, whose text is `text` (in the route's form,
    /// [`RawRoute::form`]: JSON, valid and read to its end, or for an EVTX record its rendering or
    /// the text of its values in the same form, `crate::evtx_search`; or a log's line that
    /// decodes without a problem), can be skipped unread: `true` only if [`Screen::screen`] would drop
    /// any event the decoder could build from it. Asked only where [`Screen::may_skip`] said yes.
    /// A JSON record's text comes with what the route's reading saw of it ([`RawText::read`]).
    fn skips_raw(&self, route: &RawRoute<'_>, text: &RawText<'_>) -> bool {
        let _ = (route, text);
        false
    }
}

/// An event after the screen (if any): passed on with its marks, or dropped.
pub(crate) type Screened = Option<(Event, Marks)>;

/// Runs the screen, if there is one, on a freshly decoded event.
pub(crate) fn apply(screen: Option<&dyn Screen>, event: Event) -> Screened {
    match screen {
        None => Some((event, Marks::new())),
        Some(screen) => screen.screen(&event).map(|marks| (event, marks)),
    }
}

/// Hands a screened event to the sink, or counts it as dropped.
pub(crate) fn deliver(screened: Screened, sink: &mut dyn Sink) -> ControlFlow<()> {
    match screened {
        Some((event, marks)) => sink.screened(event, marks),
        None => {
            sink.dropped(1);
            ControlFlow::Continue(())
        }
    }
}
