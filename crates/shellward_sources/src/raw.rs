//! Records skipped unread: a decoder that can read a record's route cheaply (a Windows record's
//! channel and event ID, [`crate::json::route_scan`]; a line of a web server or ESXi log, whose route
//! is its format's) asks the screen whether a record of that route, with that raw text, could pass at all
//! ([`Screen::skips_raw`]) before it parses and builds it.
//!
//! The screen decides; the decoder only tells it what it knows and what it will compute
//! ([`RawRoute`]): the log sources such a record may get, and the fields whose values it computes
//! rather than copies (so that a rule's text on them need not be in the record's text), and the
//! form of the text ([`RawForm`]). The text is JSON (a record from a JSON file, or the evtx
//! crate's rendering of a binary record) or a log's line ([`skips_line`]). An EVTX
//! record's route is read before it is rendered ([`crate::evtx_route`]), so that a record of a
//! route no rule reads is not rendered at all ([`Screen::skips_route`]), and so is the text of its
//! values, in the form the search reads in a rendering ([`crate::evtx_search`]), so that a record
//! none of whose values holds an atom is not rendered either.

use crate::json::route::{self, Read, Route};
use crate::json::route_scan;
use crate::windows::{self, tables::Tables};
use crate::{Format, Screen};
use crate::{esxi, web};
use shellward_event::{LogSource, RawForm, RawText};

/// A record's route, as the decoder reads it before decoding the record: a Windows record's
/// channel and event ID, or the format of a log whose lines all have one route (web server and
/// ESXi logs).
#[derive(Debug, Clone, Copy)]
pub struct RawRoute<'a> {
    /// The rendering the record is in ([`Format::EvtxJson`] for binary records, which are tested
    /// in that rendering; [`Format::Winlogbeat`]; [`Format::FlatJson`]; [`Format::W3cLog`],
    /// [`Format::AccessLog`] and [`Format::EsxiLog`] for lines).
    pub rendering: Format,
    /// The channel (`Security`, `Microsoft-Windows-Sysmon/Operational`); for a line, the name of
    /// its log source (`webserver`, `esxi`).
    pub channel: &'a str,
    /// The event ID (0 for a line).
    pub event_id: i64,
}

impl RawRoute<'static> {
    /// The route of every line of a log in `format` ([`Format::W3cLog`], [`Format::AccessLog`],
    /// [`Format::EsxiLog`]).
    pub(crate) fn line(format: Format) -> RawRoute<'static> {
        let channel = if format == Format::EsxiLog { "esxi" } else { "webserver" };
        RawRoute { rendering: format, channel, event_id: 0 }
    }
}

/// The form of a line of a log whose lines all have one route; `None` for other formats.
fn line_form(format: Format) -> Option<RawForm> {
    match format {
        Format::EsxiLog => Some(esxi::RAW_FORM),
        _ => web::raw_form(format),
    }
}

impl RawRoute<'_> {
    /// The form in which such a record's text holds its values.
    pub fn form(&self) -> RawForm {
        match self.rendering {
            Format::EvtxXml => crate::xml::RAW_FORM,
            other => line_form(other).unwrap_or(RawForm::Json),
        }
    }

    /// Whether the route of a log's lines.
    fn is_line(&self) -> bool {
        line_form(self.rendering).is_some()
    }

    /// The route's name in a report: `Security/4688`, with its rendering when not EVTX
    /// (`Security/4688 (flat-json)`); `webserver (w3c-log)`, `esxi (esxi-log)`.
    pub fn name(&self) -> String {
        match self.rendering {
            _ if self.is_line() => format!("{} ({})", self.channel, self.rendering.name()),
            Format::EvtxJson => format!("{}/{}", self.channel, self.event_id),
            other => format!("{}/{} ({})", self.channel, self.event_id, other.name()),
        }
    }

    /// Every log source the decoder may give such a record (`windows::logsources`), each once.
    pub fn logsources(&self) -> Vec<LogSource> {
        match self.rendering {
            Format::EsxiLog => return esxi::logsources(),
            _ if self.is_line() => return vec![web::LOGSOURCE],
            _ => {}
        }
        let mut all: Vec<LogSource> = Vec::new();
        for logsource in windows::logsources(self.channel, self.event_id) {
            if !all.contains(&logsource) {
                all.push(logsource);
            }
        }
        all
    }

    /// The value every such record has in field `name`, where the route tells it: a Windows
    /// record's `EventID` and `Channel`.
    pub fn known(&self, name: &str) -> Option<String> {
        match name {
            _ if self.is_line() => None,
            "EventID" => Some(self.event_id.to_string()),
            "Channel" => Some(self.channel.to_owned()),
            _ => None,
        }
    }

    /// Whether the decoder may compute field `name` of such a record from other values (a path
    /// joined, a number converted, a hive renamed) instead of copying it: then the field's text
    /// need not be in the record's text.
    /// (A line's values are all parts of it, as [`RawRoute::form`] allows.)
    pub fn computes(&self, name: &str) -> bool {
        if self.is_line() {
            return false;
        }
        let tables = Tables::get();
        let mapped = tables
            .rules(self.channel, self.event_id)
            .iter()
            .flat_map(|rule| &rule.fields)
            .any(|(field, spec)| *field == name && !spec.verbatim());
        mapped
            || (self.rendering == Format::Winlogbeat
                && tables.ecs_templates.iter().any(|(field, _)| *field == name))
    }

    /// Whether every field the decoder copies from such a record is a whole JSON value of it:
    /// not so where the mapping table splits a text into `key: value` lines (MSSQL audit
    /// records), nor in a line, which is not JSON.
    pub fn whole_values(&self) -> bool {
        !self.is_line()
            && !Tables::get().rules(self.channel, self.event_id).iter().any(|rule| rule.key_values)
    }
}

/// Whether a JSON record of a Windows shape may be skipped unread, as the screen says: asked
/// first of its route ([`Screen::may_skip`], before the text is read to its end), then of the
/// record ([`Screen::skips_raw`]). A record without a route, or whose text is not valid JSON
/// (in UTF-8), is decoded; except that a record of a route whose records are all skipped
/// ([`Screen::skips_route`]) is not read past its route where the rest of it cannot change the
/// route ([`route_scan::read`]): damage there is not seen.
pub(crate) fn skips(screen: &dyn Screen, bytes: &[u8], forced: Option<Format>) -> bool {
    let mut ask = |route: &Route| screen.may_skip(&route.raw());
    let skipped_whatever = |route: &Route| screen.skips_route(&route.raw());
    let Some((route, seen)) = route_scan::read(bytes, forced, &mut ask, &skipped_whatever) else {
        return false;
    };
    screen.skips_raw(&route.raw(), &RawText { bytes, read: seen })
}

/// Whether a line of a log in `format` ([`Format::W3cLog`], [`Format::AccessLog`],
/// [`Format::EsxiLog`]) may be skipped unread, as the screen says: asked first of the route ([`Screen::may_skip`]), then,
/// if the decoder would decode the line without a problem (`well_formed`: a broken line is
/// decoded, so that it is reported), of its text ([`Screen::skips_raw`]).
pub(crate) fn skips_line(
    screen: &dyn Screen,
    format: Format,
    line: &[u8],
    well_formed: impl FnOnce() -> bool,
) -> bool {
    let route = RawRoute::line(format);
    screen.may_skip(&route) && well_formed() && screen.skips_raw(&route, &RawText::whole(line))
}

/// What the screen says of an EVTX record before it is rendered ([`before_rendering`]).
#[derive(Debug)]
pub(crate) enum BeforeRendering {
    /// Skipped unread (and counted).
    Skipped,
    /// Its route cannot be read from its binary XML: it is rendered, then its route is read from
    /// the rendering's `System` and its text searched ([`skips_rendered`]).
    Unknown,
    /// Rendered and decoded: the screen does not skip records of its route.
    Decode,
    /// Rendered, then its rendering searched ([`Screen::skips_raw`]): its values have no text
    /// before rendering ([`crate::evtx_search`]).
    SearchRendering { channel: String, event_id: i64 },
}

thread_local! {
    /// The text of a record's values ([`crate::evtx_search`]), kept for the next record.
    static VALUES: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The largest values text a thread keeps for the next record.
const KEPT_VALUES: usize = 1 << 16;

/// Whether an EVTX record is skipped before it is rendered: its route, read from its binary XML
/// ([`crate::evtx_route`]), is one whose records the screen skips whatever their text
/// ([`Screen::skips_route`]); or one whose records may be skipped ([`Screen::may_skip`]) and the
/// text of its values ([`crate::evtx_search`]) holds nothing the screen searches for
/// ([`Screen::skips_raw`]). A record skipped by its route is counted here; the others by the
/// screen's own test.
pub(crate) fn before_rendering(
    screen: &dyn Screen,
    record: &evtx::EvtxRecord<'_>,
) -> BeforeRendering {
    let Ok(offset) = usize::try_from(record.binxml_offset) else { return BeforeRendering::Unknown };
    let len = record.binxml_size as usize;
    let Some(found) = crate::evtx_route::read_record(record.chunk.data, offset, len) else {
        return BeforeRendering::Unknown;
    };
    let route =
        RawRoute { rendering: Format::EvtxJson, channel: &found.channel, event_id: found.event_id };
    if screen.skips_route(&route) {
        screen.skipped_route(&route, 1);
        return BeforeRendering::Skipped;
    }
    if !screen.may_skip(&route) {
        return BeforeRendering::Decode;
    }
    let end = offset.saturating_add(len);
    let searched = VALUES.with_borrow_mut(|text| {
        let skip = crate::evtx_search::search_text(record.chunk.data, end, &found, text)
            .map(|()| screen.skips_raw(&route, &RawText::whole(text.as_bytes())));
        if text.capacity() > KEPT_VALUES {
            *text = String::new();
        }
        skip
    });
    match searched {
        Some(true) => BeforeRendering::Skipped,
        Some(false) => BeforeRendering::Decode,
        None => {
            BeforeRendering::SearchRendering { channel: found.channel, event_id: found.event_id }
        }
    }
}

/// After rendering: whether a record that [`before_rendering`] left to be rendered is skipped,
/// from its rendered JSON `text`.
pub(crate) fn skips_rendered(screen: &dyn Screen, before: &BeforeRendering, text: &str) -> bool {
    match before {
        BeforeRendering::Skipped => true,
        BeforeRendering::Decode => false,
        BeforeRendering::Unknown => {
            // The crate's rendering is valid JSON: its route is read from its `System` alone.
            let mut ask = |route: &Route| screen.may_skip(&route.raw());
            let route = route::read(text, Some(Format::EvtxJson), Read::SystemOnly, &mut ask);
            route.is_some_and(|route| {
                screen.skips_raw(&route.raw(), &RawText::whole(text.as_bytes()))
            })
        }
        BeforeRendering::SearchRendering { channel, event_id } => {
            let route = RawRoute { rendering: Format::EvtxJson, channel, event_id: *event_id };
            screen.skips_raw(&route, &RawText::whole(text.as_bytes()))
        }
    }
}

/// The number of records of an EVTX chunk (its bytes) if every one of them is skipped before the
/// chunk is parsed: each has a route read from its binary XML ([`crate::evtx_route::chunk_routes`])
/// that the screen skips whatever the text ([`Screen::skips_route`]). They are then counted. `None`
/// (nothing counted) if any record is wanted or has no route read there, or the chunk is damaged.
pub(crate) fn skips_chunk(screen: &dyn Screen, chunk: &[u8]) -> Option<u64> {
    // Runs of records of one route, asked once a run.
    let mut runs: Vec<(String, i64, u64)> = Vec::new();
    let records = crate::evtx_route::chunk_routes(chunk, |channel, event_id| {
        if let Some((last, id, n)) = runs.last_mut()
            && *id == event_id
            && last == channel
        {
            *n += 1;
            return true;
        }
        let skip = screen.skips_route(&RawRoute { rendering: Format::EvtxJson, channel, event_id });
        if skip {
            runs.push((channel.to_owned(), event_id, 1));
        }
        skip
    })?;
    for (channel, event_id, n) in &runs {
        let route = RawRoute { rendering: Format::EvtxJson, channel, event_id: *event_id };
        screen.skipped_route(&route, *n);
    }
    Some(records)
}

impl Route {
    fn raw(&self) -> RawRoute<'_> {
        RawRoute { rendering: self.rendering, channel: &self.channel, event_id: self.event_id }
    }
}
