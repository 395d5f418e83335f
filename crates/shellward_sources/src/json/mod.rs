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
//! | anything else | | fields flattened with dotted names, no log source |

pub(crate) mod convert;
pub(crate) mod evtx_json;
mod flat;
pub(crate) mod framer;
mod winlogbeat;

use crate::problem::DecodeError;
use crate::screen::{self, Screened};
use crate::{Screen, windows};
use serde_json::{Map, Value as Json};
use shellward_event::{Event, Format, Provenance};
use std::sync::Arc;

/// Decodes one JSON record and screens it. `forced` is the format the user named with
/// `--input-format`, if any. A Windows record whose log source the screen does not want is dropped
/// before its event is built.
pub(crate) fn decode(
    bytes: &[u8],
    path: &Arc<str>,
    line: u64,
    forced: Option<Format>,
    screen: Option<&dyn Screen>,
) -> Result<Screened, DecodeError> {
    let json: Json = serde_json::from_slice(bytes)?;
    let Json::Object(mut doc) = json else {
        return Err(DecodeError::Garbage("a JSON value that is not an object".into()));
    };
    let format = forced.unwrap_or_else(|| shape(&doc));
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
        Format::Winlogbeat => winlogbeat::build(&mut event, doc),
        Format::FlatJson => flat::build(&mut event, doc),
        _ => generic(&mut event, doc),
    }
    Ok(screen::apply(screen, event))
}

/// The channel and event ID of a Windows record of this shape, read from the JSON without building
/// the event (as [`windows::finish`] will read them). `None` when either is missing or odd: then the
/// record is built and screened as usual.
fn windows_key(doc: &Map<String, Json>, format: Format) -> Option<(&str, i64)> {
    let (system, channel, event_id) = match format {
        Format::EvtxJson => return evtx_json::key(doc.get("Event")?.as_object()?),
        Format::Winlogbeat => (doc.get("winlog")?.as_object()?, "channel", "event_id"),
        Format::FlatJson => (doc, "Channel", "EventID"),
        _ => return None,
    };
    Some((system.get(channel)?.as_str()?, event_id_of(system.get(event_id)?)?))
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

/// Which builder a JSON object needs.
fn shape(doc: &Map<String, Json>) -> Format {
    if doc.get("Event").and_then(|e| e.get("System")).is_some() {
        Format::EvtxJson
    } else if doc.get("winlog").is_some_and(Json::is_object) {
        Format::Winlogbeat
    } else if doc.contains_key("EventID") && doc.contains_key("Channel") {
        Format::FlatJson
    } else {
        Format::Json
    }
}

/// JSON of no known shape: every field, flattened; time and host from the usual names.
fn generic(event: &mut Event, doc: Map<String, Json>) {
    convert::flatten_into(event, "", doc);
    event.time = ["@timestamp", "timestamp", "time", "TimeCreated", "Timestamp"]
        .iter()
        .find_map(|k| event.get_str(k).and_then(crate::windows::parse_time));
    event.host = ["host.name", "hostname", "Hostname", "Computer", "DeviceName", "host"]
        .iter()
        .find_map(|k| event.get_str(k))
        .map(str::to_owned);
}
