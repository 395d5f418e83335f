//! JSON telemetry: JSON lines, JSON arrays, concatenated or pretty-printed objects.
//!
//! [`framer`] cuts the byte stream into one slice per top-level object (whatever the layout: one per
//! line, pretty-printed over many lines, inside a top-level array, behind `evtx_dump`'s `Record N`
//! headers), so a malformed record costs only itself. [`decode`] then recognizes the shape of each
//! record on its own, so a file may mix shapes:
//!
//! | shape | recognized by | builder |
//! |---|---|---|
//! | evtx_dump JSON | `{"Event": {"System": ...}}` | [`evtx_json`] |
//! | Winlogbeat / Elastic Agent | a `winlog` object | [`winlogbeat`] |
//! | flattened Windows event | top-level `Channel` and `EventID` | [`flat`] |
//! | Defender advanced hunting row | `category: "AdvancedHunting-.."` with `properties`, or `ActionType`, `DeviceName` and `Timestamp` | [`crate::edr::defender`] |
//! | Falcon Data Replicator event | `event_simpleName` | [`crate::edr::falcon`] (linked later, in input order) |
//! | audit record in a syslog row | `SyslogMessage` holding `type=.. audit(..)` (Sentinel, AUOMS) | [`crate::auditd`] (linked later) |
//! | `shellward scan` finding | `source.format` is `file`, with a `rule` object | [`scan_finding`] |
//! | anything else | | fields flattened with dotted names, no log source |
//!
//! A message that wraps records (`{"records": [..]}` from Azure Event Hubs and diagnostic exports,
//! `{"Results": [..]}` from the Defender advanced hunting API) is opened and each record decoded on
//! its own.

/// A visitor's methods for every scalar JSON value, each passing over it and giving `$value`
/// (for the one-pass readers, [`route`] and [`evtx_stream`]).
macro_rules! scalars {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// Reads a map's keys, borrowed from the text where they have no escapes (serde's own `Cow`
/// always copies), for the one-pass readers.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

pub(crate) mod convert;
pub(crate) mod doc;
pub(crate) mod evtx_json;
pub(crate) mod evtx_stream;
mod flat;
pub(crate) mod framer;
pub(crate) mod route;
pub(crate) mod route_scan;
mod scan_finding;
mod winlogbeat;

use crate::edr::{defender, falcon};
use crate::problem::DecodeError;
use crate::screen::{self, Screened};
use crate::{Screen, auditd, windows};
use doc::{Doc, Members, TopLevel};
use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde_json::Value as Json;
use shellward_event::{Event, Format, Provenance};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Member names under which a message wraps its records.
const ENVELOPES: [&str; 3] = ["records", "Results", "results"];

/// Decodes one top-level JSON object into `out`: one record, or each record of an envelope. Each
/// is screened. `forced` is the format the
/// user named with `--input-format`, if any.
pub(crate) fn decode(
    bytes: &[u8],
    path: &Arc<str>,
    line: u64,
    forced: Option<Format>,
    screen: Option<&dyn Screen>,
    out: &mut Vec<Result<Screened, DecodeError>>,
) {
    // The route scanner checks the UTF-8 of what it reads (not of what follows where it stops
    // early: such a record is skipped whatever its text).
    if let Some(screen) = screen
        && crate::raw::skips(screen, bytes, forced)
    {
        out.push(Ok(None));
        return;
    }
    // Valid UTF-8 (as nearly all telemetry is) is checked in one pass over the record and parsed
    // as text, which spares serde_json checking each string on its own (1% of the instructions
    // of an OTRF hunt); the byte parser gives the error, with its position, otherwise.
    let text = std::str::from_utf8(bytes);
    let parsed = match text {
        Ok(text) => serde_json::from_str::<TopLevel>(text),
        Err(_) => serde_json::from_slice::<TopLevel>(bytes),
    };
    let doc = match parsed {
        Ok(TopLevel::Object(doc)) => doc,
        Ok(TopLevel::NotObject) => {
            out.push(Err(DecodeError::Garbage("a JSON value that is not an object".into())));
            return;
        }
        Err(e) => {
            out.push(Err(e.into()));
            return;
        }
    };
    match envelope(doc) {
        Ok(records) => {
            for record in records {
                match record {
                    Json::Object(doc) => {
                        decode_record(Doc::from(doc), path, line, forced, screen, out)
                    }
                    _ => out.push(Err(DecodeError::Garbage(
                        "a wrapped record that is not an object".into(),
                    ))),
                }
            }
        }
        Err(doc) => decode_record(doc, path, line, forced, screen, out),
    }
}

/// An audit record carried in a syslog row (Sentinel's Syslog table: AUOMS, auditd through rsyslog).
fn syslog_audit_record(doc: &Doc) -> Option<&str> {
    let message = doc.member("SyslogMessage")?.as_str()?;
    (message.starts_with("type=") && message.contains("audit(")).then_some(message)
}

/// The records an envelope wraps, or the object itself when it is not one.
fn envelope(mut doc: Doc) -> Result<Vec<Json>, Doc> {
    let Some(key) = ENVELOPES.iter().find(|k| doc.member(k).is_some_and(Json::is_array)) else {
        return Err(doc);
    };
    if shape(&doc) != Format::Json {
        return Err(doc);
    }
    match doc.remove(key) {
        Some(Json::Array(records)) => Ok(records),
        _ => Err(doc),
    }
}

/// Decodes one record into `out` and screens it.
fn decode_record(
    doc: Doc,
    path: &Arc<str>,
    line: u64,
    forced: Option<Format>,
    screen: Option<&dyn Screen>,
    out: &mut Vec<Result<Screened, DecodeError>>,
) {
    let format = forced.unwrap_or_else(|| shape(&doc));
    if format == Format::Auditd {
        let Some(message) = syslog_audit_record(&doc) else {
            out.push(Err(DecodeError::Garbage("no audit record in \"SyslogMessage\"".into())));
            return;
        };
        let host = ["Computer", "HostName"].iter().find_map(|k| doc.member(k)?.as_str());
        match auditd::decode(message.as_bytes(), path, line, host) {
            Ok(events) => out.extend(events.into_iter().map(|e| Ok(screen::apply(screen, e)))),
            Err(error) => out.push(Err(error)),
        }
        return;
    }
    out.push(build_record(doc, format, path, line, screen));
}

/// Builds one record of a known format and screens it.
fn build_record(
    mut doc: Doc,
    format: Format,
    path: &Arc<str>,
    line: u64,
    screen: Option<&dyn Screen>,
) -> Result<Screened, DecodeError> {
    if let Some(screen) = screen
        && let Some((channel, event_id)) = windows_key(&doc, format)
        && !windows::wanted(screen, channel, event_id)
    {
        return Ok(None);
    }
    let mut event = Event::new(Provenance { path: Arc::clone(path), record: line, format });
    match format {
        Format::EvtxJson => match doc.remove("Event") {
            Some(Json::Object(root)) => evtx_json::build(&mut event, root),
            _ => return Err(DecodeError::Garbage("no \"Event\" object".into())),
        },
        Format::Winlogbeat => winlogbeat::build(&mut event, doc.into_map()),
        Format::FlatJson => flat::build(&mut event, doc),
        Format::Defender => defender::build(&mut event, doc.into_map()),
        Format::FalconFdr => falcon::build(&mut event, doc.into_map()),
        Format::File => scan_finding::build(&mut event, doc),
        _ => generic(&mut event, doc),
    }
    Ok(screen::apply(screen, event))
}

/// The channel and event ID of a Windows record of this shape, read from the JSON without building
/// the event (as [`windows::finish`] will read them). `None` when either is missing or odd: then the
/// record is built and screened as usual.
fn windows_key(doc: &Doc, format: Format) -> Option<(&str, i64)> {
    let (system, channel, event_id): (&dyn Members, _, _) = match format {
        Format::EvtxJson => return evtx_json::key(doc.member("Event")?.as_object()?),
        Format::Winlogbeat => (doc.member("winlog")?.as_object()?, "channel", "event_id"),
        Format::FlatJson => (doc, "Channel", "EventID"),
        _ => return None,
    };
    Some((system.member(channel)?.as_str()?, event_id_of(system.member(event_id)?)?))
}

/// An event ID as the event will hold it: a number, a numeric string, or the `#text` of an
/// element with attributes (evtx_dump's `{"#attributes": {"Qualifiers": ..}, "#text": 4625}`).
pub(crate) fn event_id_of(json: &Json) -> Option<i64> {
    match json {
        Json::Object(element) => element.get("#text").and_then(event_id_of),
        Json::Number(_) | Json::String(_) => convert::value(json.clone()).as_i64(),
        _ => None,
    }
}

/// The route the decoder reads a record with: its format (`forced`, or its shape), channel and
/// event ID, if the text is a JSON object of a Windows shape. (The oracle of the route readers'
/// tests.)
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn decoder_route(text: &str, forced: Option<Format>) -> Option<(Format, String, i64)> {
    let TopLevel::Object(doc) = serde_json::from_str::<TopLevel>(text).ok()? else { return None };
    let format = forced.unwrap_or_else(|| shape(&doc));
    let (channel, event_id) = windows_key(&doc, format)?;
    Some((format, channel.to_owned(), event_id))
}

/// Which builder a JSON object needs.
fn shape(doc: &Doc) -> Format {
    if doc.member("Event").and_then(|e| e.get("System")).is_some() {
        Format::EvtxJson
    } else if doc.member("winlog").is_some_and(Json::is_object) {
        Format::Winlogbeat
    } else if doc.has("EventID") && doc.has("Channel") {
        Format::FlatJson
    } else if defender::is_row(doc) {
        Format::Defender
    } else if falcon::is_event(doc) {
        Format::FalconFdr
    } else if syslog_audit_record(doc).is_some() {
        Format::Auditd
    } else if scan_finding::is_finding(doc) {
        Format::File
    } else {
        Format::Json
    }
}

/// JSON of no known shape: every field, flattened; time and host from the usual names.
fn generic(event: &mut Event, doc: Doc) {
    convert::flatten_into(event, "", doc);
    event.time = ["@timestamp", "timestamp", "time", "TimeCreated", "Timestamp"]
        .iter()
        .find_map(|k| event.get_str(k).and_then(crate::windows::parse_time));
    event.host =
        ["host.name", "hostname", "Hostname", "Computer", "ComputerName", "DeviceName", "host"]
            .iter()
            .find_map(|k| event.get_str(k))
            .map(str::to_owned);
}
