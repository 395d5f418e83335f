//! UTF-16 text files (PowerShell's `Out-File` and `Export-*` default on Windows PowerShell 5), read as
//! UTF-8, with bad code units counted instead of silently replaced.

use std::io::{self, BufRead, Read};

/// Transcodes UTF-16 (after its byte order mark) to UTF-8. Unpaired surrogates and a dangling odd
/// byte become U+FFFD and are counted in [`Utf16Reader::invalid`].
pub(crate) struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    out: Vec<u8>,
    out_pos: usize,
    /// A high surrogate held back because its partner may be in the next read.
    held: Option<u16>,
    odd_byte: Option<u8>,
    /// Byte offset of the next unit read from `inner` (after the BOM).
    offset: u64,
    invalid_units: u64,
    first_invalid: Option<u64>,
}

impl<R: BufRead> Utf16Reader<R> {
    /// Wraps a reader positioned just after the byte order mark.
    pub(crate) fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            out: Vec::new(),
            out_pos: 0,
            held: None,
            odd_byte: None,
            offset: 2,
            invalid_units: 0,
            first_invalid: None,
        }
    }

    /// How many code units were invalid, and the byte offset of the first.
    pub(crate) fn invalid(&self) -> Option<(u64, u64)> {
        self.first_invalid.map(|first| (self.invalid_units, first))
    }

    fn bad(&mut self, at: u64) {
        self.invalid_units += 1;
        self.first_invalid.get_or_insert(at);
        self.out.extend_from_slice("\u{FFFD}".as_bytes());
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    /// Decodes the next block of input into `out`; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_pos = 0;
        let bytes = self.inner.fill_buf()?.to_vec();
        self.inner.consume(bytes.len());
        if bytes.is_empty() {
            let at = self.offset;
            if let Some(_high) = self.held.take() {
                self.bad(at - 2);
            }
            if self.odd_byte.take().is_some() {
                self.bad(at);
            }
            return Ok(!self.out.is_empty());
        }
        let mut data = Vec::with_capacity(bytes.len() + 1);
        data.extend(self.odd_byte.take());
        data.extend_from_slice(&bytes);
        if data.len() % 2 == 1 {
            self.odd_byte = data.pop();
        }
        for pair in data.chunks_exact(2) {
            let unit = if self.big_endian {
                u16::from_be_bytes([pair[0], pair[1]])
            } else {
                u16::from_le_bytes([pair[0], pair[1]])
            };
            let at = self.offset;
            self.offset += 2;
            match (self.held.take(), unit) {
                (Some(high), 0xDC00..=0xDFFF) => {
                    let c =
                        0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                    self.push_char(char::from_u32(c).unwrap_or('\u{FFFD}'));
                }
                (held, _) => {
                    if held.is_some() {
                        self.bad(at - 2);
                    }
                    match unit {
                        0xD800..=0xDBFF => self.held = Some(unit),
                        0xDC00..=0xDFFF => self.bad(at),
                        _ => self.push_char(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}')),
                    }
                }
            }
        }
        Ok(true)
    }
}

impl<R: BufRead> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], big_endian: bool) -> (String, Option<(u64, u64)>) {
        let mut r = Utf16Reader::new(bytes, big_endian);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        (s, r.invalid())
    }

    #[test]
    fn valid_text_and_pairs() {
        let text = "{\"a\":\"é😀\"}\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&le, false), (text.to_owned(), None));
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&be, true), (text.to_owned(), None));
    }

    #[test]
    fn lone_surrogates_are_counted() {
        let units = [0x61u16, 0xD800, 0x62, 0xDC00];
        let le: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        let (text, invalid) = decode(&le, false);
        assert_eq!(text, "a\u{FFFD}b\u{FFFD}");
        // Offsets count the 2-byte BOM the caller already consumed.
        assert_eq!(invalid, Some((2, 4)));
    }

    #[test]
    fn odd_trailing_byte() {
        let (text, invalid) = decode(&[0x61, 0x00, 0x62], false);
        assert_eq!(text, "a\u{FFFD}");
        assert_eq!(invalid, Some((1, 4)));
    }
}
