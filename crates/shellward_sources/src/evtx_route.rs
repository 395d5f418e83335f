//! An EVTX record's channel and event ID, read from its binary XML before the evtx crate renders
//! it, so that a record no rule reads is skipped without being rendered ([`crate::raw`]).
//!
//! A record is a template instance: a reference to a template definition (elsewhere in its chunk,
//! or inline) and an array of substitution values. The template says which substitution is the
//! text of `<Event><System><EventID>` and which is `<Channel>`; the record's array gives their
//! values. Only the two values are read, in place: nothing is decoded or allocated but the channel.
//! A record written without a template (by tools that write EVTX: its elements and values inline)
//! is walked to its end for the text of the same two elements.
//!
//! The reading is exact or nothing. Anything but the plain shapes (a fragment header and one
//! template instance, or one element; `EventID` and `Channel` each holding exactly one
//! substitution or text and nothing else; `EventID` an unsigned 16-bit value or its decimal text,
//! `Channel` a non-empty string; every token one this reader knows) gives no route, and the
//! record is rendered and routed from its JSON as before. Every read is bounds-checked: hostile
//! bytes give no route, never a panic. A test holds the route read here to the route of the
//! rendered JSON on every record of the shared EVTX corpora.
//!
//! The same walk of a template gives its own text (the values written in it rather than
//! substituted: a provider's name, a schema's address), which the raw search of a record before it
//! is rendered reads with the record's values ([`crate::evtx_search`]).
//!
//! What a template gives is kept per thread, keyed by its offset in the chunk and checked against a
//! copy of its bytes (so a chunk reusing an address or an offset cannot be given another chunk's
//! answer).

use std::cell::RefCell;
use std::sync::Arc;

/// Where a template puts a record's route, and its own text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    /// The substitution holding the event ID, and the channel: a substitution or the template's
    /// own text ([`Slot::One`] or [`Slot::Text`]). `None` for a template without both (a nested
    /// fragment's, such as an `EventData`).
    route: Option<(u16, Slot)>,
    /// Its own text ([`OwnText`]), if every element and attribute of it holds at most one text or
    /// substitution (so that each value the record renders to is one text or one substitution).
    text: Option<Arc<str>>,
}

/// Binary XML tokens (MS-EVEN6 2.2.12); `| 0x40` marks "more data follows" on some of them.
mod token {
    pub(super) const EOF: u8 = 0x00;
    pub(super) const OPEN_START: u8 = 0x01;
    pub(super) const CLOSE_START: u8 = 0x02;
    pub(super) const CLOSE_EMPTY: u8 = 0x03;
    pub(super) const END_ELEMENT: u8 = 0x04;
    pub(super) const VALUE: u8 = 0x05;
    pub(super) const ATTRIBUTE: u8 = 0x06;
    pub(super) const CDATA: u8 = 0x07;
    pub(super) const CHAR_REF: u8 = 0x08;
    pub(super) const ENTITY_REF: u8 = 0x09;
    pub(super) const PI_TARGET: u8 = 0x0a;
    pub(super) const PI_DATA: u8 = 0x0b;
    pub(super) const TEMPLATE_INSTANCE: u8 = 0x0c;
    pub(super) const SUBSTITUTION: u8 = 0x0d;
    pub(super) const OPTIONAL_SUBSTITUTION: u8 = 0x0e;
    pub(super) const FRAGMENT_HEADER: u8 = 0x0f;
    pub(super) const MORE: u8 = 0x40;
}

/// Substitution value types this reader reads.
const STRING: u8 = 0x01;
const UINT16: u8 = 0x06;

/// A template definition's header: next template offset, GUID, data size.
const TEMPLATE_HEADER: usize = 4 + 16 + 4;

/// The templates a thread has read: (offset in chunk, the definition's bytes, what it gave).
type Seen = Vec<(u32, Box<[u8]>, Option<Template>)>;

/// How many templates a thread keeps (a chunk rarely has more than a few dozen).
const KEPT: usize = 256;

thread_local! {
    static TEMPLATES: RefCell<Seen> = const { RefCell::new(Vec::new()) };
}

/// The channel and event ID of the record whose binary XML is `chunk[offset..offset + len]`, if
/// it has the plain shape (see the module documentation).
pub(crate) fn read(chunk: &[u8], offset: usize, len: usize) -> Option<(String, i64)> {
    read_record(chunk, offset, len).map(|record| (record.channel, record.event_id))
}

/// A record's route, read from its binary XML ([`read`]), and what its template instance gave
/// on the way, for the raw search ([`crate::evtx_search`]).
pub(crate) struct RecordRoute<'a> {
    pub(crate) channel: String,
    pub(crate) event_id: i64,
    /// The template's own text ([`Template::text`]) and the record's values, from the start;
    /// `None` for a record written without a template.
    pub(crate) instance: Option<(Option<Arc<str>>, Values<'a>)>,
}

/// [`read`], keeping the record's template instance.
pub(crate) fn read_record(chunk: &[u8], offset: usize, len: usize) -> Option<RecordRoute<'_>> {
    let record = chunk.get(offset..offset.checked_add(len)?)?;
    // A fragment header, then the record's element or its template instance.
    let [token::FRAGMENT_HEADER, _, _, _, next, ..] = record else { return None };
    if *next & !token::MORE == token::OPEN_START {
        let (channel, event_id) = walk_record(chunk, offset + 4, offset + len)?;
        return Some(RecordRoute { channel, event_id, instance: None });
    }
    if *next != token::TEMPLATE_INSTANCE {
        return None;
    }
    let (template, values) = template_instance(chunk, offset + 5)?;
    let instance = Some((template.text, values.clone()));
    let (event_id_at, channel_at) = template.route?;
    let (mut event_id, mut channel) = (None, None);
    for (index, value) in values.enumerate() {
        let (kind, _, bytes) = value?;
        if index == usize::from(event_id_at) {
            event_id = Some((kind, bytes));
        }
        if channel_at == Slot::One(index as u16) {
            channel = Some((kind, bytes));
        }
    }
    let event_id = match event_id? {
        (UINT16, &[lo, hi]) => i64::from(u16::from_le_bytes([lo, hi])),
        _ => return None,
    };
    let channel = match (channel_at, channel) {
        (Slot::Text(text), _) => text,
        (_, Some((STRING, bytes))) if !bytes.is_empty() && bytes.len() % 2 == 0 => utf16(bytes)?,
        _ => return None,
    };
    Some(RecordRoute { channel, event_id, instance })
}

/// The template instance whose token is just before `chunk[at]`: its template and its
/// substitution values.
fn template_instance(chunk: &[u8], at: usize) -> Option<(Template, Values<'_>)> {
    let mut at = Cursor { bytes: chunk, pos: at };
    at.skip(1)?;
    let _template_id = at.u32()?;
    let definition = at.u32()?;
    let template = template_bytes(chunk, definition)?;
    if at.pos == definition as usize {
        at.skip(template.len())?;
    }
    let template = template_of(chunk, definition, template)?;
    let count = at.u32()? as usize;
    // Each value's size and type, then the values one after another.
    let descriptors = Cursor { bytes: chunk, pos: at.pos };
    let values = Cursor { bytes: chunk, pos: at.pos.checked_add(count.checked_mul(4)?)? };
    Some((template, Values { descriptors, values, left: count }))
}

/// A template instance's substitution values: each its type, offset in the chunk and bytes, or
/// `None` (and no more) where the chunk ends first.
#[derive(Clone)]
pub(crate) struct Values<'a> {
    descriptors: Cursor<'a>,
    values: Cursor<'a>,
    left: usize,
}

impl Values<'_> {
    /// Where the values end (once all are read).
    pub(crate) fn end(&self) -> usize {
        self.values.pos
    }
}

impl<'a> Iterator for Values<'a> {
    type Item = Option<(u8, usize, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let value = (|| {
            let size = usize::from(self.descriptors.u16()?);
            let kind = self.descriptors.u8()?;
            self.descriptors.skip(1)?;
            let at = self.values.pos;
            Some((kind, at, self.values.take(size)?))
        })();
        if value.is_none() {
            self.left = 0;
        }
        Some(value)
    }
}

/// A fragment (a record's binary XML, or a substitution value of type BinXML, at
/// `chunk[offset..offset + len]`) that is one template instance (with or without a fragment
/// header before it): its template's own text ([`Template::text`]) and its values. `None` for any
/// other shape, or a template with mixed content.
pub(crate) fn fragment_instance(
    chunk: &[u8],
    offset: usize,
    len: usize,
) -> Option<(Arc<str>, Values<'_>)> {
    let fragment = chunk.get(offset..offset.checked_add(len)?)?;
    // The template instance, after a fragment header or without one.
    let at = match fragment {
        [token::FRAGMENT_HEADER, _, _, _, token::TEMPLATE_INSTANCE, ..] => offset + 5,
        [token::TEMPLATE_INSTANCE, ..] => offset + 1,
        _ => return None,
    };
    let (template, values) = template_instance(chunk, at)?;
    Some((template.text?, values))
}

/// A chunk's header, before its first record.
const CHUNK_HEADER: usize = 512;
/// A record's header, before its binary XML: signature, size, record ID, time written.
const RECORD_HEADER: usize = 24;

/// Walks a chunk's records as the evtx crate does (from the chunk header to the free space, or to
/// the record the header names last) and gives `each` the route of every one, in order. Gives the
/// number of records, or `None` as soon as `each` says no, a record has no route read here, or the
/// chunk or a record header is one the crate would refuse (its signature, size, time or bounds).
pub(crate) fn chunk_routes(chunk: &[u8], mut each: impl FnMut(&str, i64) -> bool) -> Option<u64> {
    let header = evtx::EvtxChunkHeader::from_bytes(chunk).ok()?;
    let live_end = (header.free_space_offset as usize).min(chunk.len());
    let (mut at, mut records) = (CHUNK_HEADER, 0);
    while at < live_end {
        let record = evtx::EvtxRecordHeader::from_bytes_at(chunk, at).ok()?;
        let size = record.record_data_size().ok()? as usize;
        let (channel, event_id) = read(chunk, at + RECORD_HEADER, size)?;
        if !each(&channel, event_id) {
            return None;
        }
        records += 1;
        if record.event_record_id == header.last_event_record_id {
            break;
        }
        at += record.data_size as usize;
    }
    Some(records)
}

/// A string value: UTF-16LE, without trailing NULs; `None` if invalid, empty or holding a NUL.
fn utf16(bytes: &[u8]) -> Option<String> {
    let units = bytes.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    let text = char::decode_utf16(units).collect::<Result<String, _>>().ok()?;
    let text = text.trim_end_matches('\0');
    (!text.is_empty() && !text.contains('\0')).then(|| text.to_owned())
}

/// The bytes of the template definition at `offset`: its header and data.
fn template_bytes(chunk: &[u8], offset: u32) -> Option<&[u8]> {
    let start = offset as usize;
    let size = chunk.get(start + 20..start + 24)?;
    let size = u32::from_le_bytes(size.try_into().ok()?) as usize;
    chunk.get(start..start.checked_add(TEMPLATE_HEADER)?.checked_add(size)?)
}

/// What the template at `offset` (whose bytes are `template`) gives, read once per thread.
fn template_of(chunk: &[u8], offset: u32, template: &[u8]) -> Option<Template> {
    TEMPLATES.with_borrow_mut(|seen| {
        if let Some((_, _, known)) =
            seen.iter().find(|(at, bytes, _)| *at == offset && **bytes == *template)
        {
            return known.clone();
        }
        let start = offset as usize;
        let known = walk_template(chunk, start + TEMPLATE_HEADER, start + template.len());
        if seen.len() == KEPT {
            seen.clear();
        }
        seen.push((offset, template.into(), known.clone()));
        known
    })
}

/// Which element the tokens are in, for [`walk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    EventId,
    Channel,
}

/// Reads a template definition's tokens (`chunk[start..end]`, after its header) for the
/// substitutions that are the whole text of `Event/System/EventID` and `Event/System/Channel`
/// (or, for the channel, the template's own text), and for its own text.
fn walk_template(chunk: &[u8], start: usize, end: usize) -> Option<Template> {
    let mut own = OwnText::default();
    let route = match walk(chunk, start, end, true, Some(&mut own))? {
        (Slot::One(event_id), channel @ (Slot::One(_) | Slot::Text(_))) => {
            Some((event_id, channel))
        }
        _ => None,
    };
    let text = (!own.mixed).then(|| Arc::from(own.text));
    Some(Template { route, text })
}

/// A template's own text, gathered by [`walk`]: every name and text value in it, each as the body of a JSON
/// string (`\` and `"` escaped, as the raw search expects: [`crate::evtx_search`]) followed by
/// `","`; and whether some element or attribute holds more than one text or substitution (whose
/// rendering joins them, so that an atom could span two).
#[derive(Debug, Default)]
struct OwnText {
    text: String,
    mixed: bool,
    /// Per open element, the texts and substitutions of its content so far.
    content: Vec<u8>,
    /// The texts and substitutions of the attribute being read.
    attribute: u8,
}

impl OwnText {
    /// An element starts: its name is text too (a field's name, which the screen may look for).
    fn open(&mut self, utf16_name: &[u8]) {
        self.content.push(0);
        self.attribute = 0;
        self.push(utf16_name);
    }

    /// An attribute starts.
    fn attribute(&mut self, utf16_name: &[u8]) {
        self.attribute = 0;
        self.push(utf16_name);
    }

    /// A text of the template.
    fn push(&mut self, utf16: &[u8]) {
        crate::evtx_search::push_utf16(&mut self.text, utf16);
        self.text.push_str(crate::evtx_search::SEPARATOR);
    }

    fn close(&mut self) {
        self.content.pop();
    }

    /// One more text or substitution, in the start tag (an attribute's value) or the content.
    fn piece(&mut self, in_start_tag: bool) {
        let count = if in_start_tag { Some(&mut self.attribute) } else { self.content.last_mut() };
        match count {
            Some(count) if *count == 0 => *count = 1,
            _ => self.mixed = true,
        }
    }
}

/// The route of a record written without a template (its elements and values inline): the text
/// of `Event/System/EventID` (a decimal number) and of `Channel`.
fn walk_record(chunk: &[u8], start: usize, end: usize) -> Option<(String, i64)> {
    match walk(chunk, start, end, false, None)? {
        (Slot::Text(event_id), Slot::Text(channel)) => {
            let number = event_id.bytes().all(|b| b.is_ascii_digit()).then_some(event_id)?;
            Some((channel, i64::from(number.parse::<u16>().ok()?)))
        }
        _ => None,
    }
}

/// Reads binary XML tokens from `start` to `end` (a template definition's, whose elements carry a
/// dependency identifier; or a record's own) for what `Event/System/EventID` and
/// `Event/System/Channel` hold, and gathers its own text into `own` if given.
fn walk(
    chunk: &[u8],
    start: usize,
    end: usize,
    dependency: bool,
    mut own: Option<&mut OwnText>,
) -> Option<(Slot, Slot)> {
    let mut at = Cursor { bytes: chunk.get(..end)?, pos: start };
    // Open elements (whether each is a target, and its path is Event/System so far), and whether a
    // start tag is open (its attributes are being read).
    let mut path: Vec<Option<&[u8]>> = Vec::new();
    let mut in_start_tag = false;
    let (mut event_id, mut channel) = (Slot::Empty, Slot::Empty);
    loop {
        let byte = at.u8()?;
        let (kind, more) = (byte & !token::MORE, byte & token::MORE != 0);
        let target = || match path.as_slice() {
            [Some(b"Event"), Some(b"System"), Some(name)] if !in_start_tag => match *name {
                b"EventID" => Some(Target::EventId),
                b"Channel" => Some(Target::Channel),
                _ => None,
            },
            _ => None,
        };
        match kind {
            token::EOF if !more => break,
            token::FRAGMENT_HEADER if !more => at.skip(3)?,
            token::OPEN_START => {
                if dependency {
                    let _dependency = at.u16()?;
                }
                let _size = at.u32()?;
                let utf16_name = at.name()?;
                let name = name_ascii(utf16_name);
                if more {
                    let _attributes = at.u32()?;
                }
                // Only the names on the way to the targets matter.
                let known = match (path.as_slice(), name) {
                    ([], b"Event") | ([Some(b"Event")], b"System") => Some(name),
                    ([Some(b"Event"), Some(b"System")], b"EventID" | b"Channel") => Some(name),
                    _ => None,
                };
                path.push(known);
                in_start_tag = true;
                if let Some(own) = own.as_deref_mut() {
                    own.open(utf16_name);
                }
            }
            token::CLOSE_START if !more => in_start_tag = false,
            token::CLOSE_EMPTY | token::END_ELEMENT if !more => {
                path.pop()?;
                in_start_tag = false;
                if let Some(own) = own.as_deref_mut() {
                    own.close();
                }
            }
            token::ATTRIBUTE => {
                let name = at.name()?;
                if let Some(own) = own.as_deref_mut() {
                    own.attribute(name);
                }
            }
            token::SUBSTITUTION | token::OPTIONAL_SUBSTITUTION if !more => {
                let index = at.u16()?;
                let _kind = at.u8()?;
                if let Some(own) = own.as_deref_mut() {
                    own.piece(in_start_tag);
                }
                match target() {
                    Some(Target::EventId) => event_id.fill(index),
                    Some(Target::Channel) => channel.fill(index),
                    None => {}
                }
            }
            token::VALUE if at.u8()? == STRING => {
                let text = at.utf16_text()?;
                if let Some(own) = own.as_deref_mut() {
                    own.piece(in_start_tag);
                    own.push(text);
                }
                match target() {
                    Some(Target::EventId) => event_id.text(text),
                    Some(Target::Channel) => channel.text(text),
                    None => {}
                }
            }
            // A value of another type: its size is not read here.
            token::VALUE => return None,
            token::CDATA | token::CHAR_REF | token::ENTITY_REF => {
                // Text this walk does not render: the template's own text is not known.
                if let Some(own) = own.as_deref_mut() {
                    own.mixed = true;
                }
                match target() {
                    Some(Target::EventId) => event_id = Slot::Mixed,
                    Some(Target::Channel) => channel = Slot::Mixed,
                    None => {}
                }
                match kind {
                    token::CDATA => {
                        at.utf16_text()?;
                    }
                    token::CHAR_REF => at.skip(2)?,
                    _ => {
                        at.name()?;
                    }
                }
            }
            token::PI_TARGET if !more => {
                at.name()?;
            }
            token::PI_DATA if !more => {
                at.utf16_text()?;
            }
            // A template instance inside a template, or a token this reader does not know.
            _ => return None,
        }
    }
    Some((event_id, channel))
}

/// What a target element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Empty,
    /// Exactly one substitution, this one.
    One(u16),
    /// Exactly one text, this one (valid, without NUL).
    Text(String),
    /// Anything else (more than one token, or a text that is not valid).
    Mixed,
}

impl Slot {
    fn fill(&mut self, index: u16) {
        *self = match self {
            Slot::Empty => Slot::One(index),
            _ => Slot::Mixed,
        };
    }

    /// A text (UTF-16LE bytes).
    fn text(&mut self, utf16_bytes: &[u8]) {
        *self = match (&self, utf16(utf16_bytes)) {
            (Slot::Empty, Some(text)) => Slot::Text(text),
            _ => Slot::Mixed,
        };
    }
}

/// A bounds-checked reader over a chunk's bytes.
#[derive(Clone)]
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(bytes)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(drop)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A length-prefixed UTF-16 text: its bytes.
    fn utf16_text(&mut self) -> Option<&'a [u8]> {
        let units = usize::from(self.u16()?);
        self.take(units * 2)
    }

    /// A name reference: its offset in the chunk, and the name stored inline when the offset is
    /// here. Gives the name's UTF-16LE characters.
    fn name(&mut self) -> Option<&'a [u8]> {
        let offset = self.u32()? as usize;
        let name = name_at(self.bytes, offset)?;
        if offset == self.pos {
            // Next-name offset, hash, length, the characters (UTF-16) and their NUL.
            self.skip(4 + 2 + 2 + name.len() + 2)?;
        }
        Some(name)
    }
}

/// The UTF-16LE characters of the name stored at `offset` (after its next-name offset and hash,
/// and its length).
fn name_at(chunk: &[u8], offset: usize) -> Option<&[u8]> {
    let len = chunk.get(offset + 6..offset + 8)?;
    let units = usize::from(u16::from_le_bytes([len[0], len[1]]));
    chunk.get(offset + 8..offset + 8 + units * 2)
}

/// A UTF-16LE name as ASCII bytes if it is ASCII, else empty: the target names are ASCII, so only
/// their own spelling must compare equal. The bytes are taken from the even positions when every
/// odd one is zero.
fn name_ascii(utf16: &[u8]) -> &'static [u8] {
    const NAMES: [&[u8]; 4] = [b"Event", b"System", b"EventID", b"Channel"];
    NAMES
        .into_iter()
        .find(|name| {
            name.len() * 2 == utf16.len()
                && name.iter().zip(utf16.chunks_exact(2)).all(|(&c, unit)| unit == [c, 0])
        })
        .unwrap_or(b"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::route::{self, Read};
    use evtx::{EvtxParser, ParserSettings};
    use shellward_event::Format;

    /// (records, records with a route read here); panics where a route read here differs from the
    /// rendered record's.
    fn check(path: &std::path::Path) -> (u64, u64) {
        let Ok(mut parser) = EvtxParser::from_path(path) else { return (0, 0) };
        let (mut records, mut read_here) = (0, 0);
        let settings = ParserSettings::default().num_threads(1);
        let mut chunks = parser.chunks();
        while let Some(Ok(mut chunk)) = chunks.next() {
            let Ok(mut chunk) = chunk.parse(std::sync::Arc::new(settings.clone())) else {
                continue;
            };
            let mut walked = Vec::new();
            let walk = chunk_routes(chunk.data, |channel, event_id| {
                walked.push((channel.to_owned(), event_id));
                true
            });
            let mut early_routes = Vec::new();
            let mut failed = false;
            for record in chunk.iter() {
                let Ok(record) = record else {
                    failed = true;
                    continue;
                };
                records += 1;
                let offset = usize::try_from(record.binxml_offset).expect("offset");
                let early = read(record.chunk.data, offset, record.binxml_size as usize);
                early_routes.push(early.clone());
                let Ok(json) = record.into_json() else { continue };
                let Some((channel, event_id)) = early else { continue };
                read_here += 1;
                let rendered =
                    route::read(&json.data, Some(Format::EvtxJson), Read::SystemOnly, &mut |_| {
                        true
                    });
                let rendered = rendered.map(|r| (r.channel, r.event_id));
                assert_eq!(
                    Some((channel, event_id)),
                    rendered,
                    "{} record {}",
                    path.display(),
                    json.event_record_id
                );
            }
            // A chunk walked whole gives the routes of the crate's records, in order; one with a
            // record the crate refuses, or without a route read here, is not walked whole.
            match walk {
                Some(n) => {
                    assert!(!failed, "{}: a chunk walked whole has a bad record", path.display());
                    assert_eq!(n as usize, walked.len());
                    let walked: Vec<_> = walked.into_iter().map(Some).collect();
                    assert_eq!(walked, early_routes, "{}", path.display());
                }
                None => assert!(
                    failed || early_routes.iter().any(Option::is_none),
                    "{}: a chunk not walked whole has every route",
                    path.display()
                ),
            }
        }
        (records, read_here)
    }

    #[test]
    fn the_route_read_from_binary_xml_is_the_rendered_records() {
        let Some(sums) = shellward_testdata::over_evtx_corpora(check) else { return };
        for (dir, records, read_here) in sums {
            eprintln!(
                "{}: {read_here} of {records} records routed before rendering",
                dir.display()
            );
            assert!(read_here * 100 > records * 99, "{read_here} of {records}");
        }
    }

    /// The first chunk of a fixture, and where its records' binary XML is.
    fn fixture_chunk() -> (Vec<u8>, Vec<(usize, usize)>) {
        let path = shellward_testdata::repo_root()
            .join("crates/shellward_sources/tests/fixtures/mssql_15457_xp_cmdshell_enabled.evtx");
        let file = std::fs::read(path).expect("fixture");
        let mut data = evtx::EvtxChunkData::new(file[4096..4096 + 65536].to_vec(), false).unwrap();
        let settings = std::sync::Arc::new(ParserSettings::default());
        let mut chunk = data.parse(settings).unwrap();
        let records: Vec<_> = chunk
            .iter()
            .flatten()
            .map(|r| (r.binxml_offset as usize, r.binxml_size as usize))
            .collect();
        (file[4096..4096 + 65536].to_vec(), records)
    }

    #[test]
    fn a_fixture_chunk_is_routed() {
        let (chunk, records) = fixture_chunk();
        assert!(!records.is_empty());
        let mut routes = Vec::new();
        for &(offset, len) in &records {
            routes.push(read(&chunk, offset, len).expect("a route"));
        }
        let mut walked = Vec::new();
        let walk = chunk_routes(&chunk, |channel, event_id| {
            walked.push((channel.to_owned(), event_id));
            true
        });
        assert_eq!(walk, Some(records.len() as u64));
        assert_eq!(walked, routes);
        // `each` saying no stops the walk; a chunk without its signature is not walked.
        assert_eq!(chunk_routes(&chunk, |_, _| false), None);
        let mut unsigned = chunk.clone();
        unsigned[0] = b'X';
        assert_eq!(chunk_routes(&unsigned, |_, _| true), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Bytes changed anywhere in a real chunk (its templates, names, values, sizes) give a
        /// route or none, never a panic.
        #[test]
        fn changed_bytes_never_panic(
            changes in proptest::collection::vec(
                (proptest::prelude::any::<proptest::sample::Index>(), proptest::num::u8::ANY),
                1..12,
            )
        ) {
            let (mut chunk, records) = fixture_chunk();
            // Within the chunk's header (its string and template tables) and records.
            let used = records.iter().map(|(offset, len)| offset + len).max().unwrap_or(512);
            for (at, byte) in changes {
                chunk[at.index(used)] = byte;
            }
            for (offset, len) in records {
                let _ = read(&chunk, offset, len);
                let _ = crate::evtx_search::record_text(&chunk, offset, len, &mut String::new());
            }
            let _ = chunk_routes(&chunk, |_, _| true);
        }
    }

    #[test]
    fn hostile_bytes_give_no_route_and_no_panic() {
        // A chunk's worth of bytes of every value at every offset a reader would look at.
        let mut bytes = vec![0u8; 4096];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(7);
        }
        bytes[100..105].copy_from_slice(&[0x0f, 1, 1, 0, 0x0c]);
        for len in [0, 1, 5, 10, 50, 4000, usize::MAX] {
            for offset in [0, 100, 4095, 4096, usize::MAX] {
                assert_eq!(read(&bytes, offset, len), None);
            }
        }
    }
}
