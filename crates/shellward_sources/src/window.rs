//! A read window over a byte stream, shared by the text framers (JSON and XML): bytes already
//! consumed are dropped when more are read, so memory stays at the largest record plus one read.
//!
//! A refill reads until it has [`READ_SIZE`] bytes or the input ends, however little each read
//! gives: a pipe gives 64 KiB at a time and a decompressor less, and the framers hand the window's
//! whole buffer on ([`Window::take`]), so a buffer sized for a megabyte but holding 64 KiB would
//! cost sixteen times the memory its text accounts for (a hunt over a pipe grew to 480 MB).
//!
//! A buffer handed on is given back once its records are decoded ([`recycle`]), as is a window's
//! own when the input ends, and a later window or [`Window::take`] starts its next buffer in it: a
//! fresh megabyte is pages the kernel must fault in and clear. A SigmaHQ hunt over OTRF's 106 MB
//! of JSON lines took 27,900 page faults, and 19,600 with buffers reused (5% less CPU); what is
//! left is mostly the rules' own memory and the buffers of the batches in flight. At most
//! [`SPARE_BUFFERS`] wait, about what the batches in flight hold (16 MiB, [`crate::text`]).

use std::io::Read;
use std::sync::Mutex;

/// How much one refill reads.
const READ_SIZE: usize = 1 << 20;
/// The room a buffer is given for the part of a line carried over from the last one, beyond
/// [`READ_SIZE`]: the same for every buffer, so that a given-back buffer fits any later refill
/// that carries less.
const CARRY: usize = 64 << 10;
/// The most buffers waiting to be used again.
const SPARE_BUFFERS: usize = 16;

/// Buffers given back ([`recycle`]), for [`Window::take`].
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Gives back a buffer [`Window::take`] handed on, once its bytes are no longer needed (a window
/// gives back its own when dropped); one of the size refills make is kept for a later window (of
/// any input), others are freed.
pub(crate) fn recycle(buffer: Vec<u8>) {
    if buffer.capacity() != READ_SIZE + CARRY {
        return;
    }
    if let Ok(mut spare) = SPARE.lock()
        && spare.len() < SPARE_BUFFERS
    {
        spare.push(buffer);
    }
}

/// An empty buffer: a given-back one if any waits.
fn spare() -> Vec<u8> {
    let buffer = SPARE.lock().ok().and_then(|mut spare| spare.pop());
    let mut buffer = buffer.unwrap_or_default();
    buffer.clear();
    buffer
}

/// Bytes read from `reader` and not yet consumed start at `pos` in `bytes`.
pub(crate) struct Window<R> {
    reader: R,
    /// The window's bytes.
    pub(crate) bytes: Vec<u8>,
    /// Where the unconsumed bytes start.
    pub(crate) pos: usize,
    eof: bool,
    /// An error met after some bytes of a refill were read: returned by the next refill.
    failed: Option<std::io::Error>,
}

impl Window<std::io::Empty> {
    /// A window holding `bytes` and nothing more to read.
    pub(crate) fn holding(bytes: Vec<u8>) -> Self {
        Window { reader: std::io::empty(), bytes, pos: 0, eof: true, failed: None }
    }
}

impl<R: Read> Window<R> {
    pub(crate) fn new(reader: R) -> Self {
        Window { reader, bytes: spare(), pos: 0, eof: false, failed: None }
    }

    /// Drops the consumed bytes and reads more, until [`READ_SIZE`] more are held or the input
    /// ends; false at the end of input. An error is returned once, after the bytes read before it.
    pub(crate) fn fill(&mut self) -> std::io::Result<bool> {
        if let Some(error) = self.failed.take() {
            return Err(error);
        }
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.bytes.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.bytes.len();
        if self.bytes.capacity() < start + READ_SIZE {
            let room = READ_SIZE + start.max(CARRY);
            self.bytes.reserve_exact(room - start);
        }
        // Read into the spare capacity: `read_to_end` does not clear it first where the reader
        // reads into uninitialized memory (a file does), as a resize to READ_SIZE did (10% of
        // the CPU time of a pack hunt over OTRF, on the reading thread).
        let read = (&mut self.reader).take(READ_SIZE as u64).read_to_end(&mut self.bytes);
        let end = self.bytes.len();
        match read {
            Ok(_) => self.eof = end < start + READ_SIZE,
            Err(e) => {
                self.eof = true;
                if end == start {
                    return Err(e);
                }
                self.failed = Some(e);
            }
        }
        Ok(end > start)
    }

    /// Consumes the next `len` unconsumed bytes and gives them without copying them: the window's
    /// buffer, and where in it they start (they end where the buffer ends). The window keeps a copy
    /// of the bytes after them.
    pub(crate) fn take(&mut self, len: usize) -> (Vec<u8>, usize) {
        let (from, to) = (self.pos, self.pos + len);
        let mut after = spare();
        after.extend_from_slice(&self.bytes[to..]);
        let mut taken = std::mem::replace(&mut self.bytes, after);
        taken.truncate(to);
        self.pos = 0;
        (taken, from)
    }

    /// The unconsumed bytes.
    pub(crate) fn rest(&self) -> &[u8] {
        &self.bytes[self.pos..]
    }
}

impl<R> Drop for Window<R> {
    fn drop(&mut self) {
        recycle(std::mem::take(&mut self.bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives at most `step` bytes of `text` per read, then (if `fails`) an error instead of the end.
    struct Trickle {
        text: Vec<u8>,
        at: usize,
        step: usize,
        fails: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.at == self.text.len() && self.fails {
                return Err(std::io::Error::other("device gone"));
            }
            let n = self.step.min(buf.len()).min(self.text.len() - self.at);
            buf[..n].copy_from_slice(&self.text[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn trickle(len: usize, fails: bool) -> Window<Trickle> {
        let text = (0..len).map(|i| (i % 251) as u8).collect();
        Window::new(Trickle { text, at: 0, step: 64 << 10, fails })
    }

    #[test]
    fn a_refill_holds_a_full_read_however_little_each_read_gives() {
        let mut window = trickle(READ_SIZE * 2 + 10, false);
        assert!(window.fill().unwrap());
        assert_eq!(window.rest().len(), READ_SIZE);
        // What is taken is about as large as the memory it holds.
        let (taken, from) = window.take(READ_SIZE);
        assert_eq!((taken.len(), from), (READ_SIZE, 0));
        assert!(taken.capacity() < READ_SIZE + READ_SIZE / 8);
        assert!(window.fill().unwrap());
        assert!(window.fill().unwrap());
        assert_eq!(window.rest().len(), READ_SIZE + 10);
        assert!(!window.fill().unwrap());
    }

    #[test]
    fn buffers_are_of_the_size_kept_for_reuse_and_come_back_empty() {
        let mut window = trickle(READ_SIZE * 3, false);
        assert!(window.fill().unwrap());
        // A block taken short of a line's end: the rest is carried into the next buffer.
        let (taken, _) = window.take(READ_SIZE - 100);
        assert_eq!(taken.capacity(), READ_SIZE + CARRY);
        assert_eq!(window.rest().len(), 100);
        recycle(taken);
        assert!(window.fill().unwrap());
        assert_eq!(window.bytes.capacity(), READ_SIZE + CARRY);
        assert_eq!(window.rest().len(), READ_SIZE + 100);
        // Whatever buffer is given out (other tests share the spares) holds nothing.
        assert!(spare().is_empty());
        // A buffer of another size is not kept, and a carried part past CARRY gets its own room.
        recycle(Vec::with_capacity(READ_SIZE));
        let (_, _) = window.take(READ_SIZE - CARRY);
        assert_eq!(window.rest().len(), CARRY + 100);
        assert!(window.fill().unwrap());
        assert_eq!(window.bytes.capacity(), READ_SIZE + CARRY + 100);
    }

    #[test]
    fn an_error_comes_once_after_the_bytes_read_before_it() {
        let mut window = trickle(1000, true);
        assert!(window.fill().unwrap());
        assert_eq!(window.rest().len(), 1000);
        assert_eq!(window.fill().unwrap_err().to_string(), "device gone");
        assert!(!window.fill().unwrap());
        assert_eq!(window.rest().len(), 1000);
    }
}
