//! Skipping records before they are built ([`Screen::wants`]), or unread ([`Screen::skips_route`]:
//! EVTX records before they are rendered, EVTX chunks before they are parsed) never changes what a
//! screen passes:
//! reading with a screen that says which log sources it wants gives exactly the events of reading
//! with the same screen wanting everything, while building fewer events.

#![allow(clippy::unwrap_used)]

use shellward_event::{Event, LogSource};
use shellward_sources::{Marks, RawRoute, ReadOptions, Screen, Sink, collect};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Passes the events whose log source `want` accepts; says so up front when `early`.
struct BySource {
    want: fn(&LogSource) -> bool,
    early: bool,
    /// How many events were built and screened.
    screened: AtomicUsize,
}

impl Screen for BySource {
    fn screen(&self, event: &Event) -> Option<Marks> {
        self.screened.fetch_add(1, Ordering::Relaxed);
        (self.want)(&event.logsource).then(Marks::new)
    }

    fn wants(&self, logsource: &LogSource) -> bool {
        !self.early || (self.want)(logsource)
    }

    /// A route none of whose log sources is wanted: its records (an EVTX chunk of them whole)
    /// are skipped unread.
    fn skips_route(&self, route: &RawRoute<'_>) -> bool {
        self.early && !route.logsources().iter().any(self.want)
    }
}

/// The events passed (with every problem) and how many events were built.
#[derive(Default)]
struct Passed {
    events: Vec<Event>,
    problems: Vec<String>,
    dropped: u64,
}

impl Sink for Passed {
    fn event(&mut self, event: Event) -> ControlFlow<()> {
        self.events.push(event);
        ControlFlow::Continue(())
    }

    fn problem(&mut self, problem: shellward_sources::Problem) {
        self.problems.push(problem.to_string());
    }

    fn dropped(&mut self, count: u64) {
        self.dropped += count;
    }
}

fn read(paths: &[PathBuf], want: fn(&LogSource) -> bool, early: bool) -> (Passed, usize) {
    let screen = Arc::new(BySource { want, early, screened: AtomicUsize::new(0) });
    let options = ReadOptions { screen: Some(screen.clone()), ..ReadOptions::with_threads(2) };
    let (files, problems) = shellward_sources::expand(paths);
    assert!(problems.is_empty(), "{problems:?}");
    let mut passed = Passed::default();
    let _ = shellward_sources::read_all(&files, &options, &mut passed);
    (passed, screen.screened.load(Ordering::Relaxed))
}

/// A named log source predicate.
type Want = (&'static str, fn(&LogSource) -> bool);

const WANTS: [Want; 4] = [
    ("process_creation", |l| l.category == Some("process_creation")),
    ("security", |l| l.service == Some("security")),
    ("linux", |l| l.product == Some("linux")),
    ("nothing", |_| false),
];

/// Checks every predicate over `paths`; returns how many events early skipping saved building.
fn check(paths: &[PathBuf], wants: &[Want]) -> usize {
    let mut saved = 0;
    for &(name, want) in wants {
        let (late, built_late) = read(paths, want, false);
        let (early, built_early) = read(paths, want, true);
        assert_eq!(early.events, late.events, "{name} over {paths:?}");
        assert_eq!(early.problems, late.problems, "{name} over {paths:?}");
        assert_eq!(
            early.events.len() as u64 + early.dropped,
            late.events.len() as u64 + late.dropped,
            "{name}: every record is passed or counted as dropped"
        );
        assert!(
            built_early <= built_late,
            "{name}: {built_early} built, {built_late} without skipping"
        );
        saved += built_late - built_early;
    }
    saved
}

#[test]
fn skipping_is_invisible_on_the_bundled_samples() {
    let samples = shellward_testdata::repo_root().join("samples");
    let all = collect(std::slice::from_ref(&samples), &ReadOptions::default());
    assert!(all.events.len() > 10);
    assert!(check(&[samples], &WANTS) > 0, "nothing was skipped");
}

#[test]
fn skipping_is_invisible_on_every_shared_rendering() {
    let Some(examples) = shellward_testdata::shared("reference/examples") else { return };
    let Some(evtx) = shellward_testdata::shared("data/evtx-to-mitre") else { return };
    assert!(check(&[examples, evtx], &WANTS) > 1000, "too little was skipped");
}

#[test]
fn skipping_is_invisible_on_otrf_json() {
    let Some(otrf) = shellward_testdata::shared("data/otrf") else { return };
    assert!(check(&[otrf], &WANTS[..1]) > 10_000, "too little was skipped");
}

/// The events `screen`-ing `bytes` (an EVTX file) passes, skipping unread when `early`.
fn read_evtx(bytes: &[u8], want: fn(&LogSource) -> bool, early: bool) -> Vec<Event> {
    let screen = Arc::new(BySource { want, early, screened: AtomicUsize::new(0) });
    let options = ReadOptions { screen: Some(screen), ..ReadOptions::with_threads(2) };
    let mut passed = Passed::default();
    let _ = shellward_sources::read_bytes("mutated.evtx", bytes, &options, &mut passed);
    passed.events
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
    /// Bytes changed anywhere in the records of a real EVTX file never make skipping lose an event
    /// the screen passes: a record is skipped unread (alone, or with its whole chunk) only where
    /// the evtx crate would give it a route the screen does not want. (What a damaged record
    /// reports may differ: one in a chunk skipped whole is not parsed.)
    #[test]
    fn changed_bytes_never_hide_a_wanted_event(
        fixture in 0..2usize,
        changes in proptest::collection::vec(
            (proptest::prelude::any::<proptest::sample::Index>(), proptest::num::u8::ANY),
            1..8,
        )
    ) {
        let name = ["mssql_15457_xp_cmdshell_enabled.evtx", "exchange_6_install_transportagent_failed.evtx"];
        let path = shellward_testdata::repo_root()
            .join("crates/shellward_sources/tests/fixtures")
            .join(name[fixture]);
        let mut bytes = std::fs::read(path).unwrap();
        // Within the first chunk's header and records (up to its free space).
        let free = u32::from_le_bytes(bytes[4096 + 48..4096 + 52].try_into().unwrap()) as usize;
        let used = free.clamp(512, 65536);
        for (at, byte) in changes {
            bytes[4096 + at.index(used)] = byte;
        }
        let wants: [fn(&LogSource) -> bool; 3] = [
            |l| l.service == Some("application"),
            |l| l.service == Some("msexchange-management"),
            |l| l.service == Some("security"),
        ];
        for want in wants {
            proptest::prop_assert_eq!(read_evtx(&bytes, want, true), read_evtx(&bytes, want, false));
        }
    }
}
