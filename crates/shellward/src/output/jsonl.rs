//! JSON lines: one alert object per line, exactly the contract.

use super::{AlertWriter, Out, Summary};
use shellward_hunt::Finding;
use std::io::{self, Write};

/// Writes alerts as JSON lines.
pub(crate) struct JsonlWriter {
    out: Out,
}

impl JsonlWriter {
    pub(crate) fn new(out: Out) -> Self {
        JsonlWriter { out }
    }
}

/// Writes a finding's alert object and a newline to `out`.
fn write_line(finding: &Finding<'_>, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &finding.view().suppressed(finding.repeats.as_ref()))?;
    out.write_all(b"\n")
}

/// How many findings [`JsonlWriter::findings`] renders at once: the lines in memory at a time.
const BLOCK: usize = 1024;

impl AlertWriter for JsonlWriter {
    fn finding(&mut self, finding: &Finding<'_>) -> io::Result<()> {
        write_line(finding, &mut self.out)
    }

    /// Renders blocks of findings on every core (building and printing each alert object was a
    /// tenth of a hunt of every SigmaHQ Windows rule over evtx-to-mitre, 1,709 alerts), and
    /// writes each block in order.
    fn findings(&mut self, findings: &[Finding<'_>]) -> io::Result<()> {
        in_blocks(findings, BLOCK, |finding, line| write_line(finding, line), &mut self.out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}

/// Renders `items` with `render` on every core, `block` at a time, and writes them to `out` in
/// their order.
fn in_blocks<T: Sync>(
    items: &[T],
    block: usize,
    render: impl Fn(&T, &mut Vec<u8>) -> io::Result<()> + Sync,
    out: &mut impl Write,
) -> io::Result<()> {
    use rayon::prelude::*;
    for block in items.chunks(block.max(1)) {
        let lines = block
            .par_iter()
            .map(|item| {
                let mut line = Vec::with_capacity(1024);
                render(item, &mut line).map(|()| line)
            })
            .collect::<io::Result<Vec<_>>>()?;
        lines.iter().try_for_each(|line| out.write_all(line))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_written_in_order_and_an_error_stops_the_writing() {
        let items: Vec<u32> = (0..1000).collect();
        let render = |n: &u32, out: &mut Vec<u8>| writeln!(out, "{n}");
        let mut parallel = Vec::new();
        in_blocks(&items, 7, render, &mut parallel).unwrap();
        let mut serial = Vec::new();
        items.iter().try_for_each(|n| render(n, &mut serial)).unwrap();
        assert_eq!(parallel, serial);
        let failing = |n: &u32, out: &mut Vec<u8>| {
            if *n == 20 { Err(io::Error::other("no")) } else { render(n, out) }
        };
        let mut partial = Vec::new();
        assert!(in_blocks(&items, 7, failing, &mut partial).is_err());
        assert_eq!(String::from_utf8(partial).unwrap().lines().count(), 14, "two whole blocks");
    }
}
