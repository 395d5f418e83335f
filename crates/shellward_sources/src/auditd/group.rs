//! Groups audit records into events: all records with the same `audit(timestamp:serial)` header
//! belong to one event (SYSCALL, EXECVE, CWD, PATH..., PROCTITLE, then EOE).
//!
//! The kernel writes an event's records together, but other events' records (user-space messages,
//! another CPU's syscall) may fall between them. So up to [`OPEN_MAX`] events are kept open at once;
//! the oldest is handed on when its `EOE` arrives, when no record has joined it for
//! [`STALE_LINES`] lines, when too many are open, or when it holds [`GROUP_MAX`] records. Events
//! leave in the order they started, so output does not depend on timing. Memory is bounded by
//! those limits and the line framer's.

use super::record::header_key;
use crate::lines::{LineFrame, LineFramer};
use std::collections::VecDeque;
use std::io::Read;

/// Events kept open at once.
const OPEN_MAX: usize = 16;
/// Lines after which an event no record has joined is complete.
const STALE_LINES: u64 = 64;
/// Records after which an event is handed on regardless.
const GROUP_MAX: usize = 1024;

/// An event being gathered.
struct Open {
    key: String,
    first_line: u64,
    last_line: u64,
    bytes: Vec<u8>,
    records: usize,
    ended: bool,
}

/// See the module documentation. Frames are one event's record lines joined by `\n`, numbered by
/// the line of their first record; a line that is not an audit record is a frame of its own (and
/// will be reported by the decoder).
pub(crate) struct Grouper<R> {
    lines: LineFramer<R>,
    open: VecDeque<Open>,
    ready: VecDeque<LineFrame>,
    done: bool,
}

impl<R: Read> Grouper<R> {
    pub(crate) fn new(reader: R) -> Self {
        Grouper {
            lines: LineFramer::new(reader),
            open: VecDeque::new(),
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// The next event's records, or a problem; `None` at the end of input.
    pub(crate) fn next_frame(&mut self) -> Option<LineFrame> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Some(frame);
            }
            if self.done {
                return None;
            }
            match self.lines.next_frame() {
                None => {
                    self.done = true;
                    while let Some(open) = self.open.pop_front() {
                        self.ready.push_back(Ok((open.first_line, open.bytes)));
                    }
                }
                Some(Err(problem)) => self.ready.push_back(Err(problem)),
                Some(Ok((number, bytes))) => {
                    self.add(number, bytes);
                    self.flush(number);
                }
            }
        }
    }

    fn add(&mut self, number: u64, bytes: Vec<u8>) {
        let text = String::from_utf8_lossy(&bytes);
        let Some(key) = header_key(&text) else {
            self.ready.push_back(Ok((number, bytes)));
            return;
        };
        let end_of_event = text.contains("type=EOE ");
        match self.open.iter_mut().rev().find(|o| o.key == key) {
            Some(open) => {
                open.last_line = number;
                open.ended |= end_of_event;
                if !end_of_event {
                    open.bytes.push(b'\n');
                    open.bytes.extend_from_slice(&bytes);
                    open.records += 1;
                }
            }
            None if end_of_event => {}
            None => {
                let key = key.to_owned();
                drop(text);
                self.open.push_back(Open {
                    key,
                    first_line: number,
                    last_line: number,
                    bytes,
                    records: 1,
                    ended: false,
                });
            }
        }
    }

    /// Hands on the oldest events while they are complete.
    fn flush(&mut self, number: u64) {
        while let Some(front) = self.open.front() {
            let complete = front.ended
                || front.last_line + STALE_LINES < number
                || front.records >= GROUP_MAX
                || self.open.len() > OPEN_MAX;
            if !complete {
                break;
            }
            if let Some(open) = self.open.pop_front() {
                self.ready.push_back(Ok((open.first_line, open.bytes)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(text: &str) -> Vec<(u64, String)> {
        let mut grouper = Grouper::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(frame) = grouper.next_frame() {
            let (line, bytes) = frame.unwrap();
            out.push((line, String::from_utf8(bytes).unwrap()));
        }
        out
    }

    #[test]
    fn records_of_one_event_are_grouped_even_when_interleaved() {
        let text = "type=SYSCALL msg=audit(1.0:1): a=1\n\
                    type=USER_LOGIN msg=audit(1.1:2): b=2\n\
                    type=EXECVE msg=audit(1.0:1): argc=1 a0=\"x\"\n\
                    type=EOE msg=audit(1.0:1): \n\
                    junk line\n";
        let got = frames(text);
        assert_eq!(got.len(), 3);
        // The first event ends with its EOE; the junk line is handed on at once; the login event
        // stays open until the input ends.
        assert_eq!(got[0].0, 1);
        assert!(
            got[0].1.contains("SYSCALL")
                && got[0].1.contains("EXECVE")
                && !got[0].1.contains("EOE")
        );
        assert_eq!(got[1], (5, "junk line".to_owned()));
        assert_eq!(got[2], (2, "type=USER_LOGIN msg=audit(1.1:2): b=2".to_owned()));
    }

    #[test]
    fn open_events_stay_bounded() {
        let text: String = (0..1000).map(|i| format!("type=X msg=audit(1.0:{i}): a=1\n")).collect();
        let mut grouper = Grouper::new(text.as_bytes());
        let mut count = 0;
        while let Some(frame) = grouper.next_frame() {
            assert!(frame.is_ok());
            assert!(grouper.open.len() <= OPEN_MAX + 1);
            count += 1;
        }
        assert_eq!(count, 1000);
    }
}
