//! How common each atom is in a route: which of the route's sampled records (its first few, in
//! their raw form) hold it, for the choice an AND offers ([`crate::prefilter::need::Judge::found`]).
//!
//! A text's length says little of how common it is in one route: `\\svchost.exe` is longer than
//! `"0x143a"`, and the target of most Sysmon process accesses. Counting in real records does.
//!
//! Every atom a route's rules could search for is found in every sample in one pass of one
//! automaton (overlapping matches), not one search per atom and sample: a route of a thousand
//! atoms and 64 KiB of samples would otherwise scan 64 MiB.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::need::Atom;
use crate::compile::pattern::Need;

/// The most sampled records read (one bit each in a `u64`).
pub const MAX_SAMPLES: usize = 64;

/// Per atom text (as the raw-text filter searches for it), which samples hold it.
#[derive(Debug, Default)]
pub(crate) struct Found {
    by_text: HashMap<String, u64>,
}

impl Found {
    /// Finds each of `texts` (atom texts in raw form, folded) in the `samples` (the first
    /// [`MAX_SAMPLES`] are read, in ASCII lower case). Empty when there are no samples.
    pub(crate) fn new(texts: Vec<String>, samples: &[Vec<u8>]) -> Found {
        if samples.is_empty() || texts.is_empty() {
            return Found::default();
        }
        // The filter searches for an atom's tail ([`super::tail`]): so is it counted.
        let searched: Vec<String> = texts.iter().map(|text| super::tail(text.clone())).collect();
        // Built for one pass over a few dozen kilobytes: the cheapest automaton to build.
        let Ok(automaton) = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::NoncontiguousNFA))
            .match_kind(MatchKind::Standard)
            .build(&searched)
        else {
            return Found::default();
        };
        let mut masks = vec![0u64; searched.len()];
        for (at, sample) in samples.iter().take(MAX_SAMPLES).enumerate() {
            let lowered = sample.to_ascii_lowercase();
            for found in automaton.find_overlapping_iter(lowered.as_slice()) {
                masks[found.pattern().as_usize()] |= 1 << at;
            }
        }
        Found { by_text: texts.into_iter().zip(masks).collect() }
    }

    /// Which samples hold `atom` (`0` for an atom not counted).
    pub(crate) fn of(&self, atom: &Atom) -> u64 {
        let (Need::Exact(text) | Need::Contains(text)) = &atom.need;
        self.by_text.get(text).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(text: &str) -> Atom {
        Atom { field: 0, need: Need::Contains(text.to_owned()) }
    }

    #[test]
    fn each_sample_that_holds_an_atom_has_its_bit() {
        let samples: Vec<Vec<u8>> = ["a SVCHOST.exe b", "svchost.exe 0x143a", "nothing"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let texts = vec!["svchost.exe".to_owned(), "0x143a".to_owned(), "host".to_owned()];
        let found = Found::new(texts, &samples);
        assert_eq!(found.of(&atom("svchost.exe")), 0b011);
        assert_eq!(found.of(&atom("0x143a")), 0b010);
        // Overlapping matches count: `host` is inside `svchost.exe`.
        assert_eq!(found.of(&atom("host")), 0b011);
        assert_eq!(found.of(&atom("other")), 0);
        assert_eq!(Found::new(vec!["svchost.exe".into()], &[]).of(&atom("svchost.exe")), 0);
    }

    #[test]
    fn a_long_atom_is_counted_by_the_tail_searched_for() {
        let long = "c:\\\\windows\\\\system32\\\\lsass.exe";
        let samples = vec![b"x:\\\\system32\\\\lsass.exe".to_vec()];
        let found = Found::new(vec![long.to_owned()], &samples);
        assert_eq!(found.of(&atom(long)), 1);
    }
}
