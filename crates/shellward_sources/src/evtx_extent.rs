//! The part of an EVTX file the evtx crate is given: up to the end of its last chunk that is not
//! blank (all zeros).
//!
//! Windows preallocates logs (a 20 MB `Security.evtx` may hold 3 MB of records; 375 of the 809
//! chunks of evtx-to-mitre are blank), and the evtx crate reads every chunk to the end of the file
//! to find that the rest are blank, checking them byte by byte. Here the trailing blank chunks are
//! found from the end of the file (a chunk whose first bytes are a chunk signature is not blank, so
//! a live last chunk costs one small read), and the crate is given a view of the file that ends
//! before them. It reads what it would have read, less chunks it would have passed over in silence:
//! a chunk with any byte that is not zero is kept, so a damaged one is still reported.

use std::io::{self, Read, Seek, SeekFrom};

/// The EVTX file header, before the first chunk.
pub(crate) const FILE_HEADER: u64 = 4096;
/// An EVTX chunk.
pub(crate) const CHUNK: u64 = 65536;

/// A reader that ends `len` bytes into its source.
pub(crate) struct Bounded<R> {
    source: R,
    len: u64,
    pos: u64,
}

impl<R> Bounded<R> {
    /// `source` (at its start) as if it ended `len` bytes in.
    pub(crate) fn new(source: R, len: u64) -> Self {
        Bounded { source, len, pos: 0 }
    }
}

/// How much of `source` (`len` bytes long) the crate is given: up to the end of its last chunk
/// that is not blank, or all of it if its last whole chunk is not blank (or cannot be read: the
/// crate then meets the error and reports it). Leaves `source` anywhere.
pub(crate) fn live_len<R: Read + Seek>(source: &mut R, len: u64) -> u64 {
    let chunks = len.saturating_sub(FILE_HEADER) / CHUNK;
    let mut live = chunks;
    let mut chunk = Vec::new();
    while live > 0 && blank_chunk(source, live - 1, &mut chunk).unwrap_or(false) {
        live -= 1;
    }
    if live == chunks { len } else { FILE_HEADER + live * CHUNK }
}

/// Whether chunk `index` of `source` is blank (`buffer` holds what is read of it).
fn blank_chunk<R: Read + Seek>(
    source: &mut R,
    index: u64,
    buffer: &mut Vec<u8>,
) -> io::Result<bool> {
    source.seek(SeekFrom::Start(FILE_HEADER + index * CHUNK))?;
    let mut signature = [0u8; 8];
    source.read_exact(&mut signature)?;
    if signature != [0; 8] {
        return Ok(false);
    }
    buffer.resize(CHUNK as usize - signature.len(), 0);
    source.read_exact(buffer)?;
    Ok(blank(buffer))
}

/// Whether every byte is zero (checked a block at a time, so that the check is vectorized).
fn blank(bytes: &[u8]) -> bool {
    bytes.chunks(256).all(|block| block.iter().fold(0u8, |any, &b| any | b) == 0)
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let n = buf.len().min(room);
        if n == 0 {
            return Ok(0);
        }
        let read = self.source.read(&mut buf[..n])?;
        self.pos += read as u64;
        Ok(read)
    }
}

impl<R: Seek> Seek for Bounded<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let Some(target) = target else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"));
        };
        self.pos = self.source.seek(SeekFrom::Start(target))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A file of `chunks` (each: blank, live, or damaged: zero signature, one byte set) and a tail.
    fn file(chunks: &[u8], tail: usize) -> Vec<u8> {
        let mut bytes = vec![1u8; FILE_HEADER as usize];
        for &kind in chunks {
            let mut chunk = vec![0u8; CHUNK as usize];
            match kind {
                b'L' => chunk[..8].copy_from_slice(b"ElfChnk\0"),
                b'D' => chunk[40_000] = 9,
                _ => {}
            }
            bytes.extend(chunk);
        }
        bytes.extend(vec![0u8; tail]);
        bytes
    }

    fn live(bytes: Vec<u8>) -> Bounded<Cursor<Vec<u8>>> {
        let len = bytes.len() as u64;
        let mut source = Cursor::new(bytes);
        let len = live_len(&mut source, len);
        source.rewind().unwrap();
        Bounded::new(source, len)
    }

    fn live_end(chunks: &[u8], tail: usize) -> u64 {
        let mut bounded = live(file(chunks, tail));
        let end = bounded.seek(SeekFrom::End(0)).unwrap();
        bounded.rewind().unwrap();
        let mut all = Vec::new();
        bounded.read_to_end(&mut all).unwrap();
        assert_eq!(all.len() as u64, end);
        end
    }

    #[test]
    fn trailing_blank_chunks_are_left_out() {
        let at = |chunks: u64| FILE_HEADER + chunks * CHUNK;
        assert_eq!(live_end(b"LLBB", 0), at(2));
        assert_eq!(live_end(b"LBLB", 0), at(3));
        assert_eq!(live_end(b"BBBB", 0), at(0));
        assert_eq!(live_end(b"", 0), FILE_HEADER);
        // A damaged chunk (no signature, but not blank) is kept, to be reported.
        assert_eq!(live_end(b"LDB", 0), at(2));
        // Nothing is left out: the file is given whole, partial tail included.
        assert_eq!(live_end(b"LL", 100), at(2) + 100);
        assert_eq!(live_end(b"LB", 100), at(1));
    }

    #[test]
    fn seeks_and_reads_stop_at_the_bound() {
        let mut bounded = live(file(b"LB", 0));
        assert_eq!(bounded.seek(SeekFrom::End(-4)).unwrap(), FILE_HEADER + CHUNK - 4);
        let mut buf = [7u8; 16];
        assert_eq!(bounded.read(&mut buf).unwrap(), 4);
        assert_eq!(bounded.read(&mut buf).unwrap(), 0);
        assert!(bounded.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
