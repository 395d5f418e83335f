//! An EVTX record's values as the text the raw search reads ([`crate::raw`]), made from its binary
//! XML before the record is rendered, so that a record the search skips costs a walk of its
//! values instead of a rendering, a parse of the rendering and an event.
//!
//! The raw search was made for a record's JSON rendering: it finds an atom where the rendering
//! holds it, backslashes doubled. The text made here holds every text the rendering can hold, each
//! as the body of a JSON string followed by `","`: the names and values written in the record's
//! template ([`crate::evtx_route`]), then each substitution value, and the same again for each
//! nested fragment (a substitution of type BinXML: most records' `EventData`). Strings are written
//! from their UTF-16 with `\` and `"` escaped, other characters as they are (an atom holds no
//! control character or `"`, so none can hide one, and the separator holds `"`, so an atom is
//! found only within one value). Numbers, hex numbers, GUIDs, SIDs, binary and FILETIMEs are
//! written as the evtx crate renders them; a test holds each to the crate's own renderer.
//!
//! That suffices only where each value of the rendering is one text or one substitution: a template
//! in which an element or attribute joins several has no own text here, and its records are
//! rendered. So is a record that is not one template instance, or with a value of a type not
//! written here (a system time, a handle, an array other than of strings) or of the wrong size. A
//! test holds every value of the rendering of every record of the shared EVTX corpora (8,723 of
//! the 10,015 records of evtx-to-mitre and 6,292 of the 6,296 of evtx-samples get a text) to the
//! text made here.
//!
//! A record skipped here is not rendered, so one whose rendering would have failed is not reported
//! (as a record of a skipped chunk is not: [`crate::evtx_extent`]); `--decode-all` reports it.

use crate::evtx_route::{RecordRoute, Values};
use std::fmt::Write;

/// What follows each value in the text: the end of a JSON string, a comma, the start of the next.
pub(crate) const SEPARATOR: &str = "\",\"";

/// Writes a UTF-16LE text as the body of a JSON string, as the raw search reads it: `\` and `"`
/// escaped, invalid UTF-16 replaced with U+FFFD (as the evtx crate renders it).
pub(crate) fn push_utf16(out: &mut String, utf16le: &[u8]) {
    let units = utf16le.chunks_exact(2).map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    for c in char::decode_utf16(units) {
        push_char(out, c.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '"' => out.push_str("\\\""),
        c => out.push(c),
    }
}

/// The text of the values of a record for the raw search, into `out` (cleared first): its
/// template's own text and its values, as its route was read with them
/// ([`crate::evtx_route::read_record`]); its binary XML ends at `chunk[end]`. `None` where the
/// record is not one template instance whose every value has a text here (see the module
/// documentation).
pub(crate) fn search_text(
    chunk: &[u8],
    end: usize,
    record: &RecordRoute<'_>,
    out: &mut String,
) -> Option<()> {
    out.clear();
    let (own, values) = record.instance.as_ref()?;
    push_instance(out, chunk, own.as_deref()?, values.clone(), end, 0)
}

/// [`search_text`] of the record whose binary XML is `chunk[offset..offset + len]`, its route
/// read first.
#[cfg(test)]
pub(crate) fn record_text(chunk: &[u8], offset: usize, len: usize, out: &mut String) -> Option<()> {
    let record = crate::evtx_route::read_record(chunk, offset, len)?;
    search_text(chunk, offset + len, &record, out)
}

/// The deepest nesting of BinXML fragments in substitution values that is searched.
const MAX_NESTING: u8 = 8;

/// Writes a fragment (a record's binary XML, or a substitution value of type BinXML) at
/// `chunk[offset..offset + len]` that is one template instance and nothing else: its template's
/// own text and its values. `None` for another shape, or a value without a text here.
fn push_fragment(
    out: &mut String,
    chunk: &[u8],
    offset: usize,
    len: usize,
    depth: u8,
) -> Option<()> {
    if depth > MAX_NESTING {
        return None;
    }
    let (own, values) = crate::evtx_route::fragment_instance(chunk, offset, len)?;
    push_instance(out, chunk, &own, values, offset + len, depth)
}

/// Writes a template instance: its template's `own` text, then its `values`, which must be all
/// the fragment holds before `end` (but for its end-of-stream token).
fn push_instance(
    out: &mut String,
    chunk: &[u8],
    own: &str,
    mut values: Values<'_>,
    end: usize,
    depth: u8,
) -> Option<()> {
    out.push_str(own);
    for value in values.by_ref() {
        let (kind, at, bytes) = value?;
        push_value(out, chunk, kind, at, bytes, depth)?;
        out.push_str(SEPARATOR);
    }
    // Nothing after the values: the fragment's end, or its end-of-stream token.
    match chunk.get(values.end()..end)? {
        [] | [0, ..] => Some(()),
        _ => None,
    }
}

/// Writes a FILETIME (100 ns intervals since 1601-01-01) as the evtx crate renders it:
/// `YYYY-MM-DDTHH:MM:SS.fffffffZ`, the year taken modulo 10,000.
fn push_filetime(out: &mut String, ticks: u64) -> std::fmt::Result {
    const TICKS_PER_SECOND: u64 = 10_000_000;
    const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SECOND;
    let (days, ticks) = (ticks / TICKS_PER_DAY, ticks % TICKS_PER_DAY);
    // The proleptic Gregorian date (Howard Hinnant's days-to-civil), counted from 0000-03-01,
    // 584,694 days before 1601-01-01, in 400-year eras of 146,097 days.
    let z = days + 584_694;
    let (era, day_of_era) = (z / 146_097, z % 146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    let seconds = ticks / TICKS_PER_SECOND;
    write!(
        out,
        "{:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:07}Z",
        year % 10_000,
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60,
        ticks % TICKS_PER_SECOND
    )
}

/// A little-endian unsigned number (of at most 8 bytes, where it is used).
fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |n, &b| n << 8 | u64::from(b))
}

/// Writes a substitution value (of type `kind`, at `chunk[at..]`: `bytes`) as the evtx crate
/// renders it: decimal integers, `0x` and lower-case hex, GUIDs in braces, SIDs, upper-case hex
/// bytes, times to the 100 ns; list items each followed by the separator. `None` for a type not
/// read here or bytes not of its size.
fn push_value(
    out: &mut String,
    chunk: &[u8],
    kind: u8,
    at: usize,
    bytes: &[u8],
    depth: u8,
) -> Option<()> {
    let written = match (kind, bytes.len()) {
        (0x00, _) => Ok(()),
        (0x01, n) if n % 2 == 0 => {
            push_utf16(out, bytes);
            Ok(())
        }
        (0x03, 1) => write!(out, "{}", bytes[0] as i8),
        (0x04, 1) => write!(out, "{}", bytes[0]),
        (0x05, 2) => write!(out, "{}", le(bytes) as u16 as i16),
        (0x06, 2) => write!(out, "{}", le(bytes)),
        (0x07, 4) => write!(out, "{}", le(bytes) as u32 as i32),
        (0x08, 4) => write!(out, "{}", le(bytes)),
        (0x09, 8) => write!(out, "{}", le(bytes) as i64),
        (0x0a, 8) => write!(out, "{}", le(bytes)),
        (0x0d, 4) => match le(bytes) as u32 as i32 {
            0 => write!(out, "false"),
            1 => write!(out, "true"),
            raw => write!(out, "{raw}"),
        },
        (0x0e, _) => bytes.iter().try_for_each(|b| write!(out, "{b:02X}")),
        (0x0f, 16) => {
            let d1 = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let d2 = u16::from_le_bytes([bytes[4], bytes[5]]);
            let d3 = u16::from_le_bytes([bytes[6], bytes[7]]);
            let tail = &bytes[8..];
            write!(out, "{{{d1:08x}-{d2:04x}-{d3:04x}-{:02x}{:02x}-", tail[0], tail[1])
                .and_then(|()| tail[2..].iter().try_for_each(|b| write!(out, "{b:02x}")))
                .and_then(|()| write!(out, "}}"))
        }
        (0x10 | 0x14, 4) | (0x10 | 0x15, 8) => write!(out, "0x{:x}", le(bytes)),
        (0x13, n) if n >= 8 && n == 8 + 4 * usize::from(bytes[1]) => {
            let authority = bytes[2..8].iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
            write!(out, "S-{}-{authority}", bytes[0]).and_then(|()| {
                bytes[8..].chunks_exact(4).try_for_each(|sub| {
                    write!(out, "-{}", u32::from_le_bytes([sub[0], sub[1], sub[2], sub[3]]))
                })
            })
        }
        (0x11, 8) if le(bytes) <= i64::MAX as u64 => push_filetime(out, le(bytes)),
        (0x21, n) => return push_fragment(out, chunk, at, n, depth + 1),
        // UTF-16 strings, each ended by a NUL.
        (0x81, n) if n % 2 == 0 => {
            let mut start = 0;
            for (at, unit) in bytes.chunks_exact(2).enumerate() {
                if unit == [0, 0] {
                    push_utf16(out, &bytes[start..at * 2]);
                    out.push_str(SEPARATOR);
                    start = at * 2 + 2;
                }
            }
            push_utf16(out, &bytes[start..]);
            Ok(())
        }
        _ => return None,
    };
    written.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use evtx::binxml::value_variant::{BinXmlValue, FileTime};
    use evtx::{EvtxParser, ParserSettings};
    use serde_json::Value as Json;

    /// The text a search text stands for: its escapes undone.
    fn unescaped(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        out
    }

    /// Every string, number and boolean of a rendered record.
    fn leaves(json: &Json, out: &mut Vec<String>) {
        match json {
            Json::String(text) => out.push(text.clone()),
            Json::Number(number) => out.push(number.to_string()),
            Json::Bool(b) => out.push(b.to_string()),
            Json::Array(items) => items.iter().for_each(|item| leaves(item, out)),
            Json::Object(members) => members.values().for_each(|value| leaves(value, out)),
            Json::Null => {}
        }
    }

    /// (records, records with a search text); panics where a value of a record's rendering is not
    /// in its search text.
    fn check(path: &std::path::Path) -> (u64, u64) {
        let Ok(mut parser) = EvtxParser::from_path(path) else { return (0, 0) };
        let (mut records, mut searched) = (0, 0);
        let settings = std::sync::Arc::new(ParserSettings::default().num_threads(1));
        let mut chunks = parser.chunks();
        let mut text = String::new();
        while let Some(Ok(mut chunk)) = chunks.next() {
            let Ok(mut chunk) = chunk.parse(std::sync::Arc::clone(&settings)) else { continue };
            for record in chunk.iter().flatten() {
                records += 1;
                let offset = usize::try_from(record.binxml_offset).expect("offset");
                let found =
                    record_text(record.chunk.data, offset, record.binxml_size as usize, &mut text);
                if found.is_none() {
                    continue;
                }
                searched += 1;
                let id = record.event_record_id;
                let Ok(json) = record.into_json_value() else { continue };
                let (mut values, plain) = (Vec::new(), unescaped(&text));
                leaves(&json.data, &mut values);
                for value in values {
                    assert!(
                        plain.contains(&value),
                        "{} record {id}: {value:?} is not in {plain:?}",
                        path.display()
                    );
                }
            }
        }
        (records, searched)
    }

    #[test]
    fn every_value_of_a_rendered_record_is_in_its_search_text() {
        let Some(sums) = shellward_testdata::over_evtx_corpora(check) else { return };
        for (dir, records, searched) in sums {
            eprintln!("{}: {searched} of {records} records searched unrendered", dir.display());
            assert!(searched * 100 > records * 80, "{searched} of {records}");
        }
    }

    /// What [`push_value`] writes of one value.
    fn written(kind: u8, bytes: &[u8]) -> Option<String> {
        let mut out = String::new();
        push_value(&mut out, bytes, kind, 0, bytes, 0).map(|()| out)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Each value type read here is written as the evtx crate's own renderer writes it.
        #[test]
        fn values_are_written_as_the_crate_renders_them(
            word in proptest::num::u64::ANY,
            guid in proptest::array::uniform16(proptest::num::u8::ANY),
            subs in proptest::collection::vec(proptest::num::u32::ANY, 0..6),
            authority in proptest::array::uniform6(proptest::num::u8::ANY),
        ) {
            let b = word.to_le_bytes();
            let cases: Vec<(u8, Vec<u8>, BinXmlValue<'_>)> = vec![
                (0x03, b[..1].to_vec(), BinXmlValue::Int8Type(b[0] as i8)),
                (0x04, b[..1].to_vec(), BinXmlValue::UInt8Type(b[0])),
                (0x05, b[..2].to_vec(), BinXmlValue::Int16Type(word as u16 as i16)),
                (0x06, b[..2].to_vec(), BinXmlValue::UInt16Type(word as u16)),
                (0x07, b[..4].to_vec(), BinXmlValue::Int32Type(word as u32 as i32)),
                (0x08, b[..4].to_vec(), BinXmlValue::UInt32Type(word as u32)),
                (0x09, b.to_vec(), BinXmlValue::Int64Type(word as i64)),
                (0x0a, b.to_vec(), BinXmlValue::UInt64Type(word)),
                (0x0e, b.to_vec(), BinXmlValue::BinaryType(&b)),
                (0x0f, guid.to_vec(), BinXmlValue::GuidType(guid)),
                (0x10, b[..4].to_vec(), BinXmlValue::HexInt32Type(word as u32)),
                (0x10, b.to_vec(), BinXmlValue::HexInt64Type(word)),
                (0x14, b[..4].to_vec(), BinXmlValue::HexInt32Type(word as u32)),
                (0x15, b.to_vec(), BinXmlValue::HexInt64Type(word)),
                (0x11, (word >> 1).to_le_bytes().to_vec(), BinXmlValue::FileTimeType(FileTime(word >> 1))),
            ];
            for (kind, bytes, value) in cases {
                proptest::prop_assert_eq!(written(kind, &bytes), Some(value.to_string()), "type {:#x}", kind);
            }
            // Booleans: 0 and 1, and any other number as the crate keeps it.
            let raw = (word as u32 as i32) % 3;
            let bool_text = match raw { 0 => "false".to_owned(), 1 => "true".to_owned(), n => n.to_string() };
            proptest::prop_assert_eq!(written(0x0d, &raw.to_le_bytes()), Some(bool_text));
            // SIDs: revision, count, big-endian authority, little-endian sub-authorities.
            let mut sid = vec![1, subs.len() as u8];
            sid.extend_from_slice(&authority);
            subs.iter().for_each(|sub| sid.extend_from_slice(&sub.to_le_bytes()));
            let authority = authority.iter().fold(0u64, |a, &b| a << 8 | u64::from(b));
            let mut expected = format!("S-1-{authority}");
            subs.iter().for_each(|sub| expected.push_str(&format!("-{sub}")));
            proptest::prop_assert_eq!(written(0x13, &sid), Some(expected));
        }

        /// Any bytes, of any type, in any fragment: a text or none, never a panic.
        #[test]
        fn any_bytes_never_panic(
            kind in proptest::num::u8::ANY,
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            offset in 0usize..80,
            len in 0usize..80,
        ) {
            let _ = written(kind, &bytes);
            let mut out = String::new();
            let _ = record_text(&bytes, offset, len, &mut out);
            let _ = push_value(&mut out, &bytes, 0x21, offset, bytes.get(offset..).unwrap_or(&[]), 0);
        }
    }

    #[test]
    fn sizes_other_than_the_types_are_not_written() {
        assert_eq!(written(0x08, &[1, 2, 3]), None);
        assert_eq!(written(0x0f, &[0; 15]), None);
        assert_eq!(written(0x13, &[1, 2, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0]), None);
        assert_eq!(written(0x01, b"a"), None);
        // A FILETIME past the crate's range; a type not read here.
        assert_eq!(written(0x11, &u64::MAX.to_le_bytes()), None);
        assert_eq!(written(0x12, &[0; 16]), None);
        assert_eq!(written(0x20, &[]), None);
    }

    #[test]
    fn string_lists_are_each_item_then_the_separator() {
        let utf16 =
            |text: &str| text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let list = utf16("a\\b\0c\0");
        assert_eq!(written(0x81, &list), Some(format!("a\\\\b{SEPARATOR}c{SEPARATOR}")));
        assert_eq!(written(0x81, &list[1..]), None);
    }

    #[test]
    fn strings_are_json_string_bodies() {
        let utf16 =
            |text: &str| text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
        let mut out = String::new();
        push_utf16(&mut out, &utf16("C:\\a \"b\"\tü"));
        assert_eq!(out, "C:\\\\a \\\"b\\\"\tü");
        // An unpaired surrogate is replaced, as the crate renders it.
        out.clear();
        push_utf16(&mut out, &[0x00, 0xd8, b'x', 0]);
        assert_eq!(out, "\u{FFFD}x");
    }
}
