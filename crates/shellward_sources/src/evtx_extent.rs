//! The part of an EVTX file the evtx crate is given: its header, and the chunks it must parse.
//!
//! Each chunk is read once before the crate sees the file (on the pool's threads, a few chunks at a
//! time), and left out if it is:
//! - **blank** (all zeros). Windows preallocates logs (a 20 MB `Security.evtx` may hold 3 MB of
//!   records; 375 of the 809 chunks of evtx-to-mitre are blank), and the crate would read and check
//!   each one byte by byte to pass over it in silence. A chunk with any byte that is not zero is
//!   kept, so a damaged one is still reported.
//! - **skipped**, under a screen: every record of it is of a route no rule reads
//!   ([`crate::raw::skips_chunk`], from the records' binary XML). The crate then never copies the
//!   chunk, indexes its strings or builds its records: with the built-in pack, 266 of the 434 live
//!   chunks of evtx-to-mitre, holding 7,253 of its 8,401 skipped records. A chunk any of whose
//!   records is wanted, has a route that cannot be read there, or has a damaged header is kept:
//!   the crate parses it, and its records are skipped or read one by one.
//!
//! The crate is given a [`View`] of the file: the file header, then the chosen chunks one after
//! another. The numbers of chunks in its errors are the view's; [`Chunks::in_file`] maps them
//! back. A file whose header puts its chunks elsewhere than after 4,096 bytes is given whole.
//!
//! What a skipped chunk is not checked for: a damaged string table, or a record damaged past its
//! route, in a chunk no rule reads is not reported (`--decode-all`, or `shellward events`, reads
//! and reports everything).

use crate::Screen;
use rayon::prelude::*;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// The EVTX file header, before the first chunk.
pub(crate) const FILE_HEADER: u64 = 4096;
/// An EVTX chunk.
pub(crate) const CHUNK: u64 = 65536;

/// Where the file header says how long it is (its block size).
const HEADER_BLOCK_SIZE_AT: u64 = 40;

/// The chunks of a file given to the crate, and the records left out with the chunks skipped.
#[derive(Debug)]
pub(crate) struct Choice {
    /// The chunks given.
    pub(crate) chunks: Chunks,
    /// Records of skipped chunks (counted by the screen as skipped).
    pub(crate) skipped_records: u64,
}

/// The chunks given to the crate, by number in the file (`None`: the whole file, as it is).
#[derive(Debug, Clone)]
pub(crate) struct Chunks(Option<Arc<[u64]>>);

impl Choice {
    /// The whole file, as it is.
    fn whole() -> Self {
        Choice { chunks: Chunks(None), skipped_records: 0 }
    }
}

impl Chunks {
    /// The number in the file of the view's chunk `number`.
    pub(crate) fn in_file(&self, number: u64) -> u64 {
        let chunks = self.0.as_deref();
        chunks
            .and_then(|chunks| chunks.get(usize::try_from(number).ok()?).copied())
            .unwrap_or(number)
    }
}

/// A source read at offsets, from several threads at once.
pub(crate) trait ReadAt: Sync {
    /// Fills `buf` from `offset`.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl ReadAt for std::fs::File {
    #[cfg(unix)]
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(self, buf, offset)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => (buf, offset) = (&mut buf[n..], offset + n as u64),
            }
        }
        Ok(())
    }
}

impl ReadAt for io::Cursor<Vec<u8>> {
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let bytes = start.checked_add(buf.len()).and_then(|end| self.get_ref().get(start..end));
        buf.copy_from_slice(bytes.ok_or(io::ErrorKind::UnexpectedEof)?);
        Ok(())
    }
}

/// What a chunk is, for [`choose`].
enum Chunk {
    /// Given to the crate (a chunk that cannot be read too: the crate meets the error and reports
    /// it).
    Kept,
    Blank,
    /// Skipped, with this many records (counted by the screen).
    Skipped(u64),
}

/// Reads every whole chunk of `source` (`len` bytes long), on the pool's threads, and chooses
/// those the crate is given.
pub(crate) fn choose<R: ReadAt>(source: &R, len: u64, screen: Option<&dyn Screen>) -> Choice {
    let mut block_size = [0u8; 2];
    if source.read_exact_at(&mut block_size, HEADER_BLOCK_SIZE_AT).is_err()
        || u64::from(u16::from_le_bytes(block_size)) != FILE_HEADER
    {
        return Choice::whole();
    }
    let Ok(count) = usize::try_from(len.saturating_sub(FILE_HEADER) / CHUNK) else {
        return Choice::whole();
    };
    let kinds: Vec<Chunk> = (0..count)
        .into_par_iter()
        .with_min_len(CHUNKS_PER_TASK)
        .map_init(
            || vec![0u8; CHUNK as usize],
            |chunk, number| {
                if source.read_exact_at(chunk, FILE_HEADER + number as u64 * CHUNK).is_err() {
                    return Chunk::Kept;
                }
                if blank(chunk) {
                    return Chunk::Blank;
                }
                match screen.and_then(|screen| crate::raw::skips_chunk(screen, chunk)) {
                    Some(records) => Chunk::Skipped(records),
                    None => Chunk::Kept,
                }
            },
        )
        .collect();
    let (mut chunks, mut skipped_records) = (Vec::new(), 0);
    for (number, kind) in (0u64..).zip(kinds) {
        match kind {
            Chunk::Kept => chunks.push(number),
            Chunk::Blank => {}
            Chunk::Skipped(records) => skipped_records += records,
        }
    }
    Choice { chunks: Chunks(Some(chunks.into())), skipped_records }
}

/// The fewest chunks a thread reads at a time (1 MiB: a small log is read on one thread).
const CHUNKS_PER_TASK: usize = 16;

/// Whether every byte is zero (checked a block at a time, so that the check is vectorized).
fn blank(bytes: &[u8]) -> bool {
    bytes.chunks(256).all(|block| block.iter().fold(0u8, |any, &b| any | b) == 0)
}

/// A file as the crate is given it: its header, then the chosen chunks one after another.
pub(crate) struct View<R> {
    source: R,
    chunks: Chunks,
    /// The view's length.
    len: u64,
    /// Where the view is read next.
    pos: u64,
    /// Where `source` is, when known (so that reading on needs no seek).
    source_at: Option<u64>,
}

impl<R> View<R> {
    /// The view of `source` (`len` bytes long) that gives the crate `chunks`.
    pub(crate) fn new(source: R, len: u64, chunks: Chunks) -> Self {
        let len = match &chunks.0 {
            Some(chunks) => FILE_HEADER + chunks.len() as u64 * CHUNK,
            None => len,
        };
        View { source, chunks, len, pos: 0, source_at: None }
    }
}

impl<R: Read + Seek> Read for View<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Where the view's position is in the file, and how much can be read there in one piece.
        let (at, room) = match &self.chunks.0 {
            None => (self.pos, self.len.saturating_sub(self.pos)),
            Some(_) if self.pos >= self.len => return Ok(0),
            Some(_) if self.pos < FILE_HEADER => (self.pos, FILE_HEADER - self.pos),
            Some(chunks) => {
                let (number, within) =
                    ((self.pos - FILE_HEADER) / CHUNK, (self.pos - FILE_HEADER) % CHUNK);
                let number = chunks.get(number as usize).copied().unwrap_or_default();
                (FILE_HEADER + number * CHUNK + within, CHUNK - within)
            }
        };
        let n = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(0);
        }
        if self.source_at != Some(at) {
            self.source_at = None;
            self.source.seek(SeekFrom::Start(at))?;
        }
        let read = self.source.read(&mut buf[..n])?;
        self.pos += read as u64;
        self.source_at = Some(at + read as u64);
        Ok(read)
    }
}

impl<R: Seek> Seek for View<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let Some(target) = target else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"));
        };
        self.pos = target;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Marks;
    use crate::raw::RawRoute;
    use shellward_event::Event;
    use std::io::Cursor;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A file header, then `chunks` (each: `B` blank, `L` a chunk signature and nothing else, `D`
    /// damaged: no signature, one byte set), then `tail` bytes.
    fn file(chunks: &[u8], tail: usize) -> Vec<u8> {
        let mut bytes = vec![1u8; FILE_HEADER as usize];
        bytes[40..42].copy_from_slice(&4096u16.to_le_bytes());
        for (number, &kind) in chunks.iter().enumerate() {
            let mut chunk = vec![0u8; CHUNK as usize];
            match kind {
                b'L' => {
                    chunk[..8].copy_from_slice(b"ElfChnk\0");
                    chunk[8] = number as u8;
                }
                b'D' => chunk[40_000] = 9,
                _ => {}
            }
            bytes.extend(chunk);
        }
        bytes.extend(vec![0u8; tail]);
        bytes
    }

    /// The chunks chosen (`None`: the whole file) and the records skipped.
    fn chosen(bytes: &[u8], screen: Option<&dyn Screen>) -> (Option<Vec<u64>>, u64) {
        let choice = choose(&Cursor::new(bytes.to_vec()), bytes.len() as u64, screen);
        (choice.chunks.0.map(|chunks| chunks.to_vec()), choice.skipped_records)
    }

    #[test]
    fn blank_chunks_are_left_out_wherever_they_are() {
        assert_eq!(chosen(&file(b"LBLB", 0), None), (Some(vec![0, 2]), 0));
        assert_eq!(chosen(&file(b"BBBB", 0), None), (Some(vec![]), 0));
        assert_eq!(chosen(&file(b"", 0), None), (Some(vec![]), 0));
        // A damaged chunk (no signature, but not blank) is kept, to be reported.
        assert_eq!(chosen(&file(b"LDB", 0), None), (Some(vec![0, 1]), 0));
        // A partial tail is not a chunk (the crate does not read it either).
        assert_eq!(chosen(&file(b"LL", 100), None), (Some(vec![0, 1]), 0));
        // Many chunks, read on several threads: chosen in order.
        let many: Vec<u8> = b"LBD".iter().copied().cycle().take(100).collect();
        let live = (0..100).filter(|n| n % 3 != 1).collect();
        assert_eq!(chosen(&file(&many, 0), None), (Some(live), 0));
        // A header that puts its chunks elsewhere: the whole file.
        let mut odd = file(b"LB", 0);
        odd[40..42].copy_from_slice(&512u16.to_le_bytes());
        assert_eq!(chosen(&odd, None), (None, 0));
    }

    #[test]
    fn the_view_is_the_header_then_the_chosen_chunks() {
        let bytes = file(b"LBLDB", 123);
        let choice = choose(&Cursor::new(bytes.clone()), bytes.len() as u64, None);
        let chunks = choice.chunks.clone();
        assert_eq!((chunks.in_file(0), chunks.in_file(1), chunks.in_file(2)), (0, 2, 3));
        let at = |number: u64| (FILE_HEADER + number * CHUNK) as usize;
        let mut expected = bytes[..at(0)].to_vec();
        for number in [0, 2, 3] {
            expected.extend_from_slice(&bytes[at(number)..at(number + 1)]);
        }
        let mut view = View::new(Cursor::new(&bytes), bytes.len() as u64, choice.chunks);
        assert_eq!(view.seek(SeekFrom::End(0)).unwrap(), expected.len() as u64);
        view.rewind().unwrap();
        // Read in pieces that straddle the chunks' edges.
        let (mut all, mut piece) = (Vec::new(), vec![0u8; 999]);
        loop {
            let n = view.read(&mut piece).unwrap();
            if n == 0 {
                break;
            }
            all.extend_from_slice(&piece[..n]);
        }
        assert!(all == expected, "the view's bytes differ");
        // Seeks land where they say, and reads from there follow the view.
        let mut word = [0u8; 8];
        view.seek(SeekFrom::Start(at(1) as u64)).unwrap();
        view.read_exact(&mut word).unwrap();
        assert_eq!(&word, b"ElfChnk\0");
        view.seek(SeekFrom::End(-4)).unwrap();
        assert_eq!(view.read(&mut word).unwrap(), 4);
        assert_eq!(view.read(&mut word).unwrap(), 0);
        assert!(view.seek(SeekFrom::Current(-1_000_000)).is_err());
    }

    /// Skips every route but one event ID's, and counts what it is told was skipped.
    struct SkipAllBut {
        event_id: Option<i64>,
        counted: AtomicU64,
    }

    impl Screen for SkipAllBut {
        fn screen(&self, _: &Event) -> Option<Marks> {
            None
        }
        fn skips_route(&self, route: &RawRoute<'_>) -> bool {
            self.event_id != Some(route.event_id)
        }
        fn skipped_route(&self, _: &RawRoute<'_>, records: u64) {
            self.counted.fetch_add(records, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_chunk_whose_every_record_is_skipped_is_left_out_and_counted() {
        let path = shellward_testdata::repo_root()
            .join("crates/shellward_sources/tests/fixtures/mssql_15457_xp_cmdshell_enabled.evtx");
        let bytes = std::fs::read(path).unwrap();
        let mut routes = Vec::new();
        let chunk = &bytes[FILE_HEADER as usize..(FILE_HEADER + CHUNK) as usize];
        let records = crate::evtx_route::chunk_routes(chunk, |_, event_id| {
            routes.push(event_id);
            true
        });
        assert_eq!(records, Some(routes.len() as u64));
        assert!(!routes.is_empty());
        let screen = |event_id| SkipAllBut { event_id, counted: AtomicU64::new(0) };
        // Every record skipped: the chunk is left out, and its records counted.
        let all = screen(None);
        assert_eq!(chosen(&bytes, Some(&all)), (Some(vec![]), routes.len() as u64));
        assert_eq!(all.counted.load(Ordering::Relaxed), routes.len() as u64);
        // One record wanted: the chunk is kept, and nothing counted (its records are counted
        // one by one as the crate gives them).
        let one = screen(Some(routes[routes.len() / 2]));
        assert_eq!(chosen(&bytes, Some(&one)), (Some(vec![0]), 0));
        assert_eq!(one.counted.load(Ordering::Relaxed), 0);
    }
}
