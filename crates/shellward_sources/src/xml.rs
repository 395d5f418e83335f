//! Windows events rendered as XML: Event Viewer and `wevtutil qe /f:xml` exports, `evtx_dump -o xml`,
//! and Splunk's `XmlWinEventLog` (one event per line, single-quoted attributes).
//!
//! [`Framer`] finds each `<Event ...> ... </Event>` in the stream, whatever lies between them
//! (`<?xml?>` declarations, `<Events>` wrappers, `Record N` headers, newlines or nothing), and
//! [`decode`] turns one into an event with the same field names as the binary and JSON renderings.
//!
//! A hunt's screen is asked whether an event may be skipped unread as soon as its `<System>` is
//! read, which gives its channel and event ID as the rest of the decoding would ([`crate::raw`]):
//! its text is then searched for the texts the rules of that route need, and if none is there,
//! and the rest of the element is well-formed XML (so that a broken one is still reported), it is
//! not built. The values of an event are its elements' texts and `<System>`'s attributes as they
//! are in the XML, but for entities and character references, comments, CDATA sections and
//! processing instructions ([`RAW_FORM`]'s escapes: a text holding one is always decoded), and
//! the tabs and line breaks of an attribute value, which XML reads as spaces (an event with one
//! in `<System>` is decoded).

use crate::problem::DecodeError;
use crate::raw::RawRoute;
use crate::screen::Screen;
use crate::window::Window;
use crate::windows;
use memchr::memmem;
use quick_xml::events::Event as XmlEvent;
use shellward_event::{Event, FieldName, Format, Provenance, RawForm, RawText, Value};
use std::io::Read;
use std::sync::Arc;

/// The largest event kept, in bytes.
const MAX_RECORD: usize = 16 << 20;

/// Cuts an XML stream into `<Event>` elements (see the module documentation).
pub(crate) struct Framer<R> {
    win: Window<R>,
    line: u64,
}

/// What the framer found next: an event's text and the line it starts on, or a problem.
pub(crate) type Frame = Result<(u64, Vec<u8>), (u64, DecodeError)>;

impl<R: Read> Framer<R> {
    pub(crate) fn new(reader: R) -> Self {
        Framer { win: Window::new(reader), line: 1 }
    }

    /// Moves past `n` bytes of the window, counting lines.
    fn advance(&mut self, n: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.win.bytes[self.win.pos..self.win.pos + n])
            .count() as u64;
        self.win.pos += n;
    }

    /// The next event; `None` at the end of input.
    pub(crate) fn next_frame(&mut self) -> Option<Frame> {
        let start = memmem::Finder::new(b"<Event");
        // Find the start of an event.
        loop {
            let found = event_start(&start, self.win.rest());
            let rest = self.win.rest();
            match found {
                Some(i) => {
                    self.advance(i);
                    break;
                }
                None => {
                    // Keep a tail that could hold the start of `<Event `.
                    let keep = rest.len().min(6);
                    self.advance(rest.len() - keep);
                    match self.win.fill().map_err(DecodeError::from) {
                        Ok(true) => {}
                        Ok(false) => return None,
                        Err(e) => return Some(Err((self.line, e))),
                    }
                }
            }
        }
        let line = self.line;
        let end = memmem::Finder::new(b"</Event>");
        let mut searched = 0;
        loop {
            let rest = self.win.rest();
            let ends = end.find(&rest[searched..]).map(|i| searched + i);
            // Another event starting before this one ends: this one was cut (a raw `<Event` cannot
            // occur inside an event's text, where XML escapes `<`).
            let from = searched.max(1);
            let next = event_start(&start, &rest[from..]).map(|i| from + i);
            match (ends, next) {
                (Some(i), next) if next.is_none_or(|n| n > i) => {
                    let len = i + b"</Event>".len();
                    let bytes = rest[..len].to_vec();
                    self.advance(len);
                    return Some(Ok((line, bytes)));
                }
                (_, Some(n)) => {
                    self.advance(n);
                    let why = "another <Event> starts before its </Event>";
                    return Some(Err((line, DecodeError::CutShort(why))));
                }
                _ => {}
            }
            searched = rest.len().saturating_sub(7);
            if rest.len() > MAX_RECORD {
                // Skip the oversized event: drop what we have and look for the next start.
                self.advance(rest.len());
                return Some(Err((line, DecodeError::TooLarge { limit: MAX_RECORD })));
            }
            match self.win.fill().map_err(DecodeError::from) {
                Ok(true) => {}
                Ok(false) => {
                    let n = self.win.bytes.len() - self.win.pos;
                    self.advance(n);
                    return Some(Err((line, DecodeError::Truncated)));
                }
                Err(e) => return Some(Err((line, e))),
            }
        }
    }
}

/// Whether text holds the start of an `<Event>` element (for sniffing).
pub(crate) fn has_event(text: &[u8]) -> bool {
    event_start(&memmem::Finder::new(b"<Event"), text).is_some()
}

/// Where the first `<Event>` element starts in `text` (`<Event` then a delimiter, not
/// `<EventData>` or `<EventID>`); a start at the very end of `text` is not found yet.
fn event_start(start: &memmem::Finder<'_>, text: &[u8]) -> Option<usize> {
    start.find_iter(text).find(|&i| {
        text.get(i + 6).is_some_and(|b| matches!(b, b' ' | b'>' | b'\t' | b'\r' | b'\n' | b'/'))
    })
}

/// Where an XML element sits in a Windows event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Other,
    System,
    EventData,
    UserData,
}

/// How an event's XML holds its values (see the module documentation).
pub(crate) const RAW_FORM: RawForm =
    RawForm::Plain { space: b' ', joins: b"", escapes: &[b"&", b"<!", b"<?"] };

/// Decodes one `<Event>` element; `None` when `screen` skips it unread (see the module
/// documentation).
pub(crate) fn decode(
    bytes: &[u8],
    path: &Arc<str>,
    line: u64,
    mut screen: Option<&dyn Screen>,
) -> Result<Option<Event>, DecodeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::Xml(e.to_string()))?;
    let provenance = Provenance { path: Arc::clone(path), record: line, format: Format::EvtxXml };
    let mut builder = Builder::new(Event::new(provenance));
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event().map_err(|e| DecodeError::Xml(e.to_string()))? {
            XmlEvent::Start(start) => builder.open(&start)?,
            XmlEvent::Empty(start) => {
                builder.open(&start)?;
                builder.close();
            }
            XmlEvent::End(_) => builder.close(),
            XmlEvent::Text(t) => builder.text.push_str(&t.into_inner()),
            XmlEvent::CData(c) => builder.text.push_str(&c.into_inner()),
            XmlEvent::GeneralRef(r) => {
                builder.text.push('&');
                builder.text.push_str(&r.xml10_content());
                builder.text.push(';');
            }
            XmlEvent::Eof => return Err(DecodeError::Xml("unclosed element".into())),
            _ => {}
        }
        if builder.stack.is_empty() {
            break;
        }
        if builder.system_read
            && let Some(asked) = screen.take()
            && builder.skips(asked, bytes)
        {
            // Skipped if the rest is well-formed; else decoded again from the start, without
            // the screen, for its problem.
            return match well_formed(&mut reader, builder.stack.len()) {
                true => Ok(None),
                false => decode(bytes, path, line, None),
            };
        }
    }
    let mut event = builder.event;
    windows::finish(&mut event);
    Ok(Some(event))
}

/// Whether the rest of an element, `depth` elements deep in `reader`, is read to its end without
/// a problem (as [`decode`] would read it).
fn well_formed(reader: &mut quick_xml::Reader<&[u8]>, mut depth: usize) -> bool {
    while depth > 0 {
        match reader.read_event() {
            Ok(XmlEvent::Start(_)) => depth += 1,
            Ok(XmlEvent::End(_)) => depth -= 1,
            Ok(XmlEvent::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    true
}

/// The state of one XML event being read.
struct Builder {
    event: Event,
    /// Open elements: name and whether a child element was seen.
    stack: Vec<(String, bool)>,
    section: Section,
    /// Raw text of the innermost element, references not yet resolved.
    text: String,
    /// The `Name` attribute of the open `<Data>`.
    data_name: Option<String>,
    /// `<System>` has been read.
    system_read: bool,
    /// An attribute of a `<System>` element holds a tab or line break (read as a space).
    system_normalized: bool,
}

impl Builder {
    fn new(event: Event) -> Self {
        Builder {
            event,
            stack: Vec::new(),
            section: Section::Other,
            text: String::new(),
            data_name: None,
            system_read: false,
            system_normalized: false,
        }
    }

    /// Whether `screen` skips the event unread, asked once its `<System>` is read: its route is
    /// known, and its `text` (in [`RAW_FORM`]) holds nothing the screen searches for.
    fn skips(&self, screen: &dyn Screen, text: &[u8]) -> bool {
        let (Some(channel), Some(event_id)) =
            (self.event.get_str("Channel"), self.event.get("EventID").and_then(Value::as_i64))
        else {
            return false;
        };
        let route = RawRoute { rendering: Format::EvtxXml, channel, event_id };
        !self.system_normalized
            && screen.may_skip(&route)
            && screen.skips_raw(&route, &RawText::whole(text))
    }

    fn open(&mut self, start: &quick_xml::events::BytesStart<'_>) -> Result<(), DecodeError> {
        let name = start.local_name().as_ref().to_owned();
        let depth = self.stack.len();
        if depth == 0 && name != "Event" {
            return Err(DecodeError::Xml(format!("<{name}> is not a Windows <Event>")));
        }
        if depth == 1 {
            self.section = match name.as_str() {
                "System" => Section::System,
                "EventData" => Section::EventData,
                "UserData" => Section::UserData,
                _ => Section::Other,
            };
        }
        if let Some(parent) = self.stack.last_mut() {
            parent.1 = true;
        }
        self.text.clear();
        if depth == 2 {
            for attr in start.attributes().flatten() {
                let key = attr.key.local_name().as_ref().to_owned();
                let value = attr
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_default();
                match self.section {
                    Section::System => {
                        if attr.value.contains(['\t', '\n', '\r']) {
                            self.system_normalized = true;
                        }
                        let field = windows::system_attribute_name(&name, &key);
                        self.event.push(FieldName::Owned(field), typed(value));
                    }
                    Section::EventData if name == "Data" && key == "Name" => {
                        self.data_name = Some(value);
                    }
                    _ => {}
                }
            }
        }
        self.stack.push((name, false));
        Ok(())
    }

    fn close(&mut self) {
        let Some((name, had_child)) = self.stack.pop() else { return };
        let text = match quick_xml::escape::unescape(&self.text) {
            Ok(t) => t.into_owned(),
            Err(_) => self.text.clone(),
        };
        self.text.clear();
        let depth = self.stack.len();
        if depth == 1 && self.section == Section::System {
            self.system_read = true;
        }
        match self.section {
            Section::System if depth == 2 && !had_child && !text.is_empty() => {
                self.event.push(FieldName::Owned(name), typed(text));
            }
            Section::EventData if depth == 2 => match (name.as_str(), self.data_name.take()) {
                ("Data", Some(field)) => self.event.push(FieldName::Owned(field), Value::Str(text)),
                // Unnamed `<Data>` values form the positional list `Data`, where the first one was.
                ("Data", None) => match self.event.get_mut("Data") {
                    Some(Value::List(items)) => items.push(Value::Str(text)),
                    _ => self.event.push("Data", Value::List(vec![Value::Str(text)])),
                },
                _ => self.event.push(FieldName::Owned(name), Value::Str(text)),
            },
            Section::UserData if depth >= 3 && !had_child => {
                self.event.push(FieldName::Owned(name), Value::Str(text));
            }
            _ => {}
        }
    }
}

/// System values that are plain decimal numbers become integers, as in the binary rendering.
fn typed(text: String) -> Value {
    match text.parse::<i64>() {
        Ok(n) if !text.starts_with('+') && (text == "0" || !text.starts_with('0')) => Value::Int(n),
        _ => Value::Str(text),
    }
}
