//! A record's top-level JSON object as a list of members in document order.
//!
//! serde_json builds every object as a hash map (an `IndexMap` keyed with SipHash, since the evtx
//! crate turns on `preserve_order`): hashing the few dozen member names of every record was 5% of
//! the instructions of a hunt over flat JSON lines, for a handful of lookups per record. A list
//! read by comparing names costs less at this size; nested objects stay serde_json maps.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};
use std::fmt;

/// The members of a top-level object, in document order, each name once (a repeated name keeps
/// its first place and its last value, as serde_json's map does).
#[derive(Debug, Default)]
pub(crate) struct Doc(Vec<(String, Json)>);

/// Read access to the members of a JSON object, whichever way it is held.
pub(crate) trait Members {
    /// The value of member `name`.
    fn member(&self, name: &str) -> Option<&Json>;

    /// Whether the object has member `name`.
    fn has(&self, name: &str) -> bool {
        self.member(name).is_some()
    }
}

impl Members for Map<String, Json> {
    fn member(&self, name: &str) -> Option<&Json> {
        self.get(name)
    }
}

impl Members for Doc {
    fn member(&self, name: &str) -> Option<&Json> {
        self.0.iter().find(|(member, _)| member == name).map(|(_, value)| value)
    }
}

impl Doc {
    /// Takes member `name` out.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Json> {
        let at = self.0.iter().position(|(member, _)| member == name)?;
        Some(self.0.remove(at).1)
    }

    /// The members as a serde_json map (for the builders that read many of them by name).
    pub(crate) fn into_map(self) -> Map<String, Json> {
        self.0.into_iter().collect()
    }
}

impl From<Map<String, Json>> for Doc {
    fn from(map: Map<String, Json>) -> Doc {
        Doc(map.into_iter().collect())
    }
}

impl IntoIterator for Doc {
    type Item = (String, Json);
    type IntoIter = std::vec::IntoIter<(String, Json)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A parsed top-level JSON value: an object's members, or the mere fact that it was something
/// else (which is skipped over, not built).
#[derive(Debug)]
pub(crate) enum TopLevel {
    Object(Doc),
    NotObject,
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopLevel, D::Error> {
        deserializer.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<TopLevel, A::Error> {
        let mut members: Vec<(String, Json)> = Vec::with_capacity(access.size_hint().unwrap_or(0));
        // Which (length, first byte) pairs were seen: a name can only repeat where its pair did.
        let mut seen = 0u64;
        while let Some((name, value)) = access.next_entry::<String, Json>()? {
            let bit = 1u64
                << ((name.len() as u64 * 31 + u64::from(name.bytes().next().unwrap_or(0))) % 64);
            if seen & bit != 0
                && let Some(slot) = members.iter_mut().find(|(member, _)| *member == name)
            {
                slot.1 = value;
                continue;
            }
            seen |= bit;
            members.push((name, value));
        }
        Ok(TopLevel::Object(Doc(members)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<TopLevel, A::Error> {
        while access.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TopLevel::NotObject)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }

    fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> TopLevel {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn members_keep_document_order_and_a_repeated_name_its_first_place_and_last_value() {
        let TopLevel::Object(doc) = parse(r#"{"b": 1, "a": {"x": 2}, "b": 3, "c": null}"#) else {
            panic!("an object")
        };
        assert_eq!(doc.member("b"), Some(&Json::from(3)));
        assert!(doc.has("c") && !doc.has("x"));
        let map = doc.into_map();
        assert_eq!(map.keys().collect::<Vec<_>>(), ["b", "a", "c"]);
        let expected: Map<String, Json> =
            serde_json::from_str(r#"{"b": 1, "a": {"x": 2}, "b": 3, "c": null}"#).unwrap();
        assert_eq!(map, expected);
    }

    #[test]
    fn other_values_are_told_apart_and_errors_kept() {
        for text in ["[1, {\"a\": 2}]", "\"text\"", "12", "-1.5", "true", "null"] {
            assert!(matches!(parse(text), TopLevel::NotObject), "{text}");
        }
        assert!(serde_json::from_str::<TopLevel>("{\"a\": }").is_err());
    }
}
