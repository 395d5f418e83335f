//! A read window over a byte stream, shared by the text framers (JSON and XML): bytes already
//! consumed are dropped when more are read, so memory stays at the largest record plus one read.

use std::io::Read;

/// How much one refill reads.
const READ_SIZE: usize = 1 << 20;

/// Bytes read from `reader` and not yet consumed start at `pos` in `bytes`.
pub(crate) struct Window<R> {
    reader: R,
    /// The window's bytes.
    pub(crate) bytes: Vec<u8>,
    /// Where the unconsumed bytes start.
    pub(crate) pos: usize,
    eof: bool,
}

impl Window<std::io::Empty> {
    /// A window holding `bytes` and nothing more to read.
    pub(crate) fn holding(bytes: Vec<u8>) -> Self {
        Window { reader: std::io::empty(), bytes, pos: 0, eof: true }
    }
}

impl<R: Read> Window<R> {
    pub(crate) fn new(reader: R) -> Self {
        Window { reader, bytes: Vec::new(), pos: 0, eof: false }
    }

    /// Drops the consumed bytes and reads more; false at the end of input (and after an error,
    /// which is returned once).
    pub(crate) fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.bytes.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.bytes.len();
        self.bytes.resize(start + READ_SIZE, 0);
        let n = loop {
            match self.reader.read(&mut self.bytes[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.bytes.truncate(start);
                    self.eof = true;
                    return Err(e);
                }
            }
        };
        self.bytes.truncate(start + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Consumes the next `len` unconsumed bytes and gives them without copying them: the window's
    /// buffer, and where in it they start (they end where the buffer ends). The window keeps a copy
    /// of the bytes after them.
    pub(crate) fn take(&mut self, len: usize) -> (Vec<u8>, usize) {
        let (from, to) = (self.pos, self.pos + len);
        let after = self.bytes[to..].to_vec();
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
