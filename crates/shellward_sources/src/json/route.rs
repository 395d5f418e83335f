//! A Windows record's channel and event ID, read from its JSON text without building it, so that
//! the record can be skipped unread ([`crate::raw`]).
//!
//! One pass of serde_json over the text that keeps only what [`super::shape`] and
//! [`super::windows_key`] would read (the shape's members, the channel and the event ID) and
//! skips the rest without allocating. It is a full parse, so invalid JSON is never skipped: it
//! gets no route and goes on to be decoded and reported. Where the text's bytes are known to be
//! valid JSON (the evtx crate's own rendering), the pass may stop once `<System>` is read.
//!
//! A hunt reads JSON lines' routes with [`super::route_scan`], a scanner that gives the same
//! routes faster and is tested against this pass; this pass reads the evtx crate's renderings
//! ([`Read::SystemOnly`]).
//!
//! A repeated member counts with its last value, as in the decoded event. The route is `None`
//! whenever the decoder might read the record otherwise: another shape, a channel that is not a
//! string, an event ID that is not a number, or an object inside an array (which the decoder
//! re-serializes, so its text is not the record's).

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use shellward_event::Format;
use std::fmt;

/// Where a Windows record goes, as the decoder will read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// The shape it has (or was forced to have): [`Format::EvtxJson`], [`Format::Winlogbeat`]
    /// or [`Format::FlatJson`].
    pub(crate) rendering: Format,
    pub(crate) channel: String,
    pub(crate) event_id: i64,
}

/// How much of the text to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// All of it: it may be invalid. (Only the tests of [`super::route_scan`], which reads such
    /// text in a hunt, read it so.)
    #[cfg(any(test, feature = "fuzzing"))]
    Validate,
    /// Up to the end of `Event.System`: the text is valid JSON of the evtx_dump shape.
    SystemOnly,
}

/// The route of a record that has one of the Windows shapes (`forced`: the format the user
/// named), if `ask` says that records of that route may be skipped. `ask` is called as soon as the
/// route is known (often half-way through the text), so that a record whose route is always
/// decoded is not read to its end; otherwise the text is read to its end, to be sure it is valid
/// JSON and that its route stays the same (see the module documentation).
pub(crate) fn read(
    text: &str,
    forced: Option<Format>,
    read: Read,
    ask: &mut dyn FnMut(&Route) -> bool,
) -> Option<Route> {
    let mut seen = Seen {
        found: Found { forced, ..Found::default() },
        asking: Asking { ask, asked: None },
        stop_after_system: read == Read::SystemOnly,
        refused: false,
        arrays: memchr::memchr(b'[', text.as_bytes()).is_some(),
        object_in_array: false,
        stopped: false,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = TopSeed(&mut seen).deserialize(&mut de);
    if seen.refused {
        return None;
    }
    if seen.stopped {
        return seen.asking.asked.take();
    }
    if parsed.is_err() || de.end().is_err() || seen.object_in_array {
        return None;
    }
    seen.asking.finish(&seen.found)
}

/// What a pass over a record found of the members that decide its shape and route (the last of a
/// repeated member counts, as in the decoded event).
#[derive(Debug, Default)]
pub(super) struct Found {
    /// The format the user named, if any.
    pub(super) forced: Option<Format>,
    /// Whether the last `Event` member was an object (`None`: there was none).
    pub(super) event: Option<bool>,
    /// `Event.System` (of the last `Event`).
    pub(super) system: Keys,
    /// `winlog`.
    pub(super) winlog: Keys,
    /// Top-level `Channel` and `EventID`.
    pub(super) flat: Keys,
    /// Whether there was a top-level `EventID`.
    pub(super) has_event_id: bool,
}

impl Found {
    /// The route of what was read so far, as the decoder would read it.
    pub(super) fn route(&self) -> Option<Route> {
        let evtx = self.event == Some(true);
        let rendering = match self.forced {
            Some(format @ (Format::EvtxJson | Format::Winlogbeat | Format::FlatJson)) => format,
            Some(_) => return None,
            None if evtx && self.system.present => Format::EvtxJson,
            None if self.winlog.object => Format::Winlogbeat,
            None if self.flat.present && self.has_event_id => Format::FlatJson,
            None => return None,
        };
        let keys = match rendering {
            Format::EvtxJson if evtx => &self.system,
            Format::Winlogbeat => &self.winlog,
            Format::FlatJson => &self.flat,
            _ => return None,
        };
        let event_id = super::event_id_of(keys.event_id.as_ref()?)?;
        Some(Route { rendering, channel: keys.channel.clone()?, event_id })
    }
}

/// Asks whether records of a route may be skipped, once, as soon as the route is known.
pub(super) struct Asking<'a> {
    /// Whether records of a route may be skipped.
    pub(super) ask: &'a mut dyn FnMut(&Route) -> bool,
    /// The route `ask` said yes to.
    pub(super) asked: Option<Route>,
}

impl Asking<'_> {
    /// Asks about the route of what was `found` so far, if it is known and was not asked about;
    /// `false`: `ask` said no (stop reading: the record is decoded).
    pub(super) fn checkpoint(&mut self, found: &Found) -> bool {
        if self.asked.is_some() {
            return true;
        }
        let Some(route) = found.route() else { return true };
        let yes = (self.ask)(&route);
        if yes {
            self.asked = Some(route);
        }
        yes
    }

    /// The route of a whole valid record: the one asked about if it stayed the same (asked about
    /// now if it was not known before the end).
    pub(super) fn finish(mut self, found: &Found) -> Option<Route> {
        let route = found.route()?;
        match self.asked.take() {
            Some(asked) => (asked == route).then_some(route),
            None => (self.ask)(&route).then_some(route),
        }
    }
}

/// What the pass kept.
struct Seen<'a> {
    found: Found,
    asking: Asking<'a>,
    stop_after_system: bool,
    /// `ask` said no: the pass stopped, the record is decoded.
    refused: bool,
    /// Whether the text has a `[` anywhere (else no value is an array, and values are skipped
    /// without looking inside).
    arrays: bool,
    object_in_array: bool,
    stopped: bool,
}

impl Seen<'_> {
    /// Asks about the route once it is known; `false`: stop reading (the record is decoded).
    fn checkpoint(&mut self) -> bool {
        let yes = self.asking.checkpoint(&self.found);
        self.refused |= !yes;
        yes
    }
}

/// A channel and an event ID read from one object.
#[derive(Debug, Default, Clone)]
pub(super) struct Keys {
    /// Whether the member holding them was present (`System`, `Channel`) ...
    pub(super) present: bool,
    /// ... and an object (`winlog`).
    pub(super) object: bool,
    /// The channel, if its last value is a string.
    pub(super) channel: Option<String>,
    /// The event ID's last value.
    pub(super) event_id: Option<Json>,
}

/// The error that stops a pass early (never reported: the pass's result says what happened).
const DECODE: &str = "route read";

/// The member names a [`KeysSeed`] reads: (channel, event ID).
type Names = (&'static str, &'static str);

struct TopSeed<'s, 'a>(&'s mut Seen<'a>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let seen = self.0;
        while let Some(name) = map.next_key_seed(super::KeySeed)? {
            match name.as_ref() {
                "Event" => {
                    seen.found.system = Keys::default();
                    let object = map.next_value_seed(EventSeed(seen));
                    let stopped = seen.stopped;
                    seen.found.event = Some(object.as_ref().map_or(stopped, |o| *o));
                    object?;
                    if !seen.checkpoint() {
                        return Err(de::Error::custom(DECODE));
                    }
                }
                "winlog" => {
                    seen.found.winlog = Keys::default();
                    let flag = &mut seen.object_in_array;
                    let seed = KeysSeed(
                        &mut seen.found.winlog,
                        ("channel", "event_id"),
                        flag,
                        seen.arrays,
                    );
                    map.next_value_seed(seed)?;
                }
                "Channel" => {
                    seen.found.flat.present = true;
                    seen.found.flat.channel = map.next_value::<Text>()?.0;
                }
                "EventID" => {
                    seen.found.has_event_id = true;
                    seen.found.flat.event_id = Some(map.next_value::<Json>()?);
                }
                _ => {
                    map.next_value_seed(Skip {
                        in_array: false,
                        arrays: seen.arrays,
                        flag: &mut seen.object_in_array,
                    })?;
                    continue;
                }
            }
            if !seen.checkpoint() {
                return Err(de::Error::custom(DECODE));
            }
        }
        Ok(())
    }
}

/// The value of `Event`: whether it is an object; its `System` is read into [`Seen::system`].
struct EventSeed<'s, 'a>(&'s mut Seen<'a>);

impl<'de> DeserializeSeed<'de> for EventSeed<'_, '_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventSeed<'_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let seen = self.0;
        while let Some(name) = map.next_key_seed(super::KeySeed)? {
            if name == "System" {
                seen.found.system = Keys { present: true, ..Keys::default() };
                let flag = &mut seen.object_in_array;
                let seed =
                    KeysSeed(&mut seen.found.system, ("Channel", "EventID"), flag, seen.arrays);
                map.next_value_seed(seed)?;
                if seen.stop_after_system {
                    seen.found.event = Some(true);
                    seen.checkpoint();
                    seen.stopped = true;
                    return Err(de::Error::custom(DECODE));
                }
            } else {
                map.next_value_seed(Skip {
                    in_array: false,
                    arrays: seen.arrays,
                    flag: &mut seen.object_in_array,
                })?;
            }
        }
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        Skip { in_array: false, arrays: true, flag: &mut self.0.object_in_array }
            .visit_seq(seq)
            .map(|()| false)
    }

    scalars!(false);
}

/// An object's channel and event ID members (by the given names) into a [`Keys`].
struct KeysSeed<'s>(&'s mut Keys, Names, &'s mut bool, bool);

impl<'de> DeserializeSeed<'de> for KeysSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeysSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let KeysSeed(keys, (channel, event_id), flag, arrays) = self;
        keys.object = true;
        while let Some(name) = map.next_key_seed(super::KeySeed)? {
            if name == channel {
                keys.channel = map.next_value::<Text>()?.0;
            } else if name == event_id {
                keys.event_id = Some(map.next_value::<Json>()?);
            } else {
                map.next_value_seed(Skip { in_array: false, arrays, flag: &mut *flag })?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Skip { in_array: false, arrays: true, flag: self.2 }.visit_seq(seq)
    }

    scalars!(());
}

/// A value that is kept only if it is a string.
struct Text(Option<String>);

impl<'de> de::Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Text, D::Error> {
        Ok(Text(match Json::deserialize(de)? {
            Json::String(text) => Some(text),
            _ => None,
        }))
    }
}

/// Any value, read and dropped; an object inside an array sets `flag`. Where the text has no
/// array at all (`arrays` false), values are skipped the quickest way, without unescaping.
struct Skip<'f> {
    in_array: bool,
    arrays: bool,
    flag: &'f mut bool,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        if self.arrays {
            de.deserialize_any(self)
        } else {
            de.deserialize_ignored_any(IgnoredAny).map(|_| ())
        }
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        *self.flag |= self.in_array;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Skip { in_array: false, arrays: true, flag: &mut *self.flag })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Skip { in_array: true, arrays: true, flag: &mut *self.flag })?
            .is_some()
        {}
        Ok(())
    }

    scalars!(());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(text: &str) -> Option<(Format, String, i64)> {
        read(text, None, Read::Validate, &mut |_| true)
            .map(|r| (r.rendering, r.channel, r.event_id))
    }

    #[test]
    fn each_windows_shape() {
        let evtx = r##"{"Event":{"#attributes":{"x":1},"System":{"Provider":{"#attributes":{"Name":"P"}},"EventID":{"#attributes":{"Qualifiers":0},"#text":4625},"Channel":"Security"},"EventData":{"A":[1,2]}}}"##;
        assert_eq!(route(evtx), Some((Format::EvtxJson, "Security".into(), 4625)));
        let stopped = read(evtx, None, Read::SystemOnly, &mut |_| true).unwrap();
        assert_eq!((stopped.channel.as_str(), stopped.event_id), ("Security", 4625));
        let beat = r#"{"@timestamp":"x","winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1"}}"#;
        assert_eq!(
            route(beat),
            Some((Format::Winlogbeat, "Microsoft-Windows-Sysmon/Operational".into(), 1))
        );
        let flat = r#"{"Channel":"Application","EventID":412,"Message":"a \"b\" C:\\x"}"#;
        assert_eq!(route(flat), Some((Format::FlatJson, "Application".into(), 412)));
    }

    #[test]
    fn asked_once_as_soon_as_the_route_is_known() {
        let text = r#"{"Channel":"A","EventID":1,"Message":"long"}"#;
        let mut asked = Vec::new();
        let no = read(text, None, Read::Validate, &mut |r| {
            asked.push(r.event_id);
            false
        });
        assert_eq!((no, asked), (None, vec![1]));
        // Said yes, and read to the end: a later member that changes the route undoes it.
        let mut calls = 0;
        let changed = r#"{"Channel":"A","EventID":1,"EventID":2}"#;
        assert_eq!(
            read(changed, None, Read::Validate, &mut |_| {
                calls += 1;
                true
            }),
            None
        );
        assert_eq!(calls, 1);
        // And invalid JSON after the route is never a candidate.
        let broken = r#"{"Channel":"A","EventID":1,"Message":tru}"#;
        assert_eq!(read(broken, None, Read::Validate, &mut |_| true), None);
    }
}
