//! Which records a hunt skips unread ([`shellward_sources::Screen::skips_raw`]), per route, with
//! counts of what was tested and skipped and why the rest was decoded.
//!
//! A route's plan is made on first sight of the route and shared by the decoding threads (each
//! keeps its own map of the plans it has met, so the shared map is locked once per route and
//! thread, not per record). A search is built only once a route has had
//! [`RECORDS_BEFORE_SEARCH`] records. Where it keeps one in [`REMADE_IF_KEPT`] of the first
//! [`REMADE_AFTER`] records it tests or more, it is remade with the choices the texts of the
//! first [`SAMPLED_SEARCHES`] tell: which atoms are common in the route
//! ([`RouteFacts::samples`]; at most [`SAMPLED_BYTES`] a route and [`SAMPLED_BYTES_ALL`] in all).
//! The plan is one of:
//! - skip every record, because no rule reads events of the route;
//! - decode every record, because process lineage reads this log source whatever matches (process
//!   creations, inbound connections, and what rules on ancestor fields read);
//! - decode every record, because a rule of the route has nothing to search for in raw text (only
//!   negations, regular expressions, fields the decoder computes...): its title is kept;
//! - test each record's text for the route's atoms ([`shellward_engine::RawPlan`]).

use shellward_engine::{MAX_SAMPLES, RawMatcher, RawPlan, RouteFacts, RuleSet};
use shellward_event::{Format, LogSource, RawText};
use shellward_sources::RawRoute;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A route: rendering, channel, event ID.
type RouteKey = (Format, Box<str>, i64);

/// The plan of one route, with its counts.
#[derive(Debug)]
pub(crate) struct RoutePlan {
    /// The route: rendering, channel, event ID.
    route: RouteKey,
    /// The log sources its records may get.
    logsources: Vec<LogSource>,
    /// How its records are tested, and why all are skipped or all decoded when they are: set on
    /// first sight, or for a search once the route has had [`RECORDS_BEFORE_SEARCH`] records.
    test: OnceLock<(Test, Option<String>)>,
    /// Records seen (tested or not), searched, and skipped.
    seen: AtomicU64,
    tested: AtomicU64,
    skipped: AtomicU64,
    /// The search skipped too few records to pay for itself: the rest are decoded untested.
    given_up: AtomicBool,
    /// The texts of the first records the search tested.
    samples: Mutex<Samples>,
    /// The search remade from the samples ([`RoutePlan::remake`]).
    remade: OnceLock<RawMatcher>,
    /// The search made faster once it has tested [`FASTER_AFTER`] records.
    faster: OnceLock<RawMatcher>,
}

/// The records a search tests whose texts are kept for [`RoutePlan::remake`].
const SAMPLED_SEARCHES: u64 = 32;

/// The records a search tests before it may be remade ([`RoutePlan::remake`]): remaking costs
/// about a millisecond over SigmaHQ's rules, which the routes with fewer records do not repay.
const REMADE_AFTER: u64 = 256;

/// A search that keeps one in this many of its first [`REMADE_AFTER`] records or more is
/// remade ([`RoutePlan::remake`]).
const REMADE_IF_KEPT: u64 = 8;

/// After this many records searched, a route's search is made faster if it can be
/// ([`RawMatcher::faster`]): the route has shown it has records enough to pay for the build.
const FASTER_AFTER: u64 = 1024;

/// Texts of a route's first records ([`RoutePlan::samples`]).
#[derive(Debug, Default)]
struct Samples {
    texts: Vec<Vec<u8>>,
    bytes: usize,
}

/// The most bytes of text a route samples ([`RoutePlan::samples`]).
const SAMPLED_BYTES: usize = 256 << 10;

/// The most bytes of samples all the routes of a screen hold at once: a route whose search never
/// tests [`REMADE_AFTER`] records keeps its samples, and hostile input may have a new channel on
/// every line.
const SAMPLED_BYTES_ALL: usize = 32 << 20;

/// After this many records searched, a route's search that skipped fewer than one in
/// [`GIVE_UP_BELOW`] is given up (the records it keeps pay for the search and then the decoding).
const GIVE_UP_AFTER: u64 = 512;

/// See [`GIVE_UP_AFTER`].
const GIVE_UP_BELOW: u64 = 10;

/// The records a route has before its search is built (and which are decoded untested), unless
/// the screen says otherwise ([`crate::RuleScreen::with_raw_search_after`]): a
/// search over thousands of rules takes about a millisecond to build, the time it takes to
/// decode a few dozen records, and most routes of a collection have only a handful.
pub const RECORDS_BEFORE_SEARCH: u64 = 32;

impl RoutePlan {
    /// The plan of a route, nothing counted yet; `test` is set if known on first sight.
    fn new(
        route: RouteKey,
        logsources: Vec<LogSource>,
        test: OnceLock<(Test, Option<String>)>,
    ) -> RoutePlan {
        RoutePlan {
            route,
            logsources,
            test,
            seen: AtomicU64::new(0),
            tested: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            given_up: AtomicBool::new(false),
            samples: Mutex::default(),
            remade: OnceLock::new(),
            faster: OnceLock::new(),
        }
    }

    /// The route, as the decoder gave it.
    fn raw_route(&self) -> RawRoute<'_> {
        let (rendering, channel, event_id) = &self.route;
        RawRoute { rendering: *rendering, channel, event_id: *event_id }
    }

    /// Keeps the text of a record the search tested, if there is room in the route and in `all`
    /// (which counts the bytes of the samples of every route of the screen).
    fn sample(&self, text: &[u8], all: &AtomicUsize) {
        let mut samples = self.samples.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let len = text.len();
        if samples.texts.len() >= MAX_SAMPLES || samples.bytes + len > SAMPLED_BYTES {
            return;
        }
        if all.fetch_add(len, Ordering::Relaxed) + len > SAMPLED_BYTES_ALL {
            all.fetch_sub(len, Ordering::Relaxed);
            return;
        }
        samples.bytes += len;
        samples.texts.push(text.to_vec());
    }

    /// The search, remade from the texts sampled if it kept one in [`REMADE_IF_KEPT`] of the
    /// `tested` records or more (their bytes are given back to `all` either way).
    fn remake(&self, rules: &RuleSet, tested: u64, all: &AtomicUsize) {
        let samples = std::mem::take(
            &mut *self.samples.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        all.fetch_sub(samples.bytes, Ordering::Relaxed);
        let kept = tested.saturating_sub(self.skipped.load(Ordering::Relaxed));
        if kept * REMADE_IF_KEPT < tested || samples.texts.is_empty() {
            return;
        }
        if let (Test::Search(remade), _) = self.search(rules, &samples.texts) {
            let _ = self.remade.set(remade);
        }
    }

    /// The search its records are tested with: remade, then made faster, or as built.
    fn current<'a>(&'a self, built: &'a RawMatcher) -> &'a RawMatcher {
        self.faster.get().or(self.remade.get()).unwrap_or(built)
    }

    /// The route's search, from the atoms of its rules (and texts of its records, if any).
    fn search(&self, rules: &RuleSet, samples: &[Vec<u8>]) -> (Test, Option<String>) {
        let route = self.raw_route();
        let facts = RouteFacts {
            form: route.form(),
            logsources: &self.logsources,
            computed: &|name| route.computes(name),
            known: &|name| route.known(name),
            whole_values: route.whole_values(),
            samples,
        };
        match rules.raw_plan(&facts) {
            RawPlan::Test(matcher) => (Test::Search(matcher), None),
            RawPlan::DecodeAll { because } => {
                (Test::DecodeAll, Some(format!("rule \"{because}\" has nothing to search for")))
            }
        }
    }
}

/// One route's figures, for the report ([`crate::RuleScreen::skip_report`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSkips {
    /// `Security/4688`, `Microsoft-Windows-Sysmon/Operational/1` (and the rendering if not EVTX),
    /// `webserver (w3c-log)` ([`RawRoute::name`]).
    pub route: String,
    /// Records of the route that reached the test.
    pub records: u64,
    /// Of those, skipped unread.
    pub skipped: u64,
    /// Why every record was skipped, or every record decoded (`None`: each was tested).
    pub because: Option<String>,
    /// How many atoms the test searched for.
    pub atoms: usize,
    /// Records the search tested (the others of a searched route came before its search was
    /// built, or after it was given up).
    pub searched: u64,
}

/// How the records of a route are tested.
#[derive(Debug)]
enum Test {
    /// No rule reads them: all skipped.
    SkipAll,
    /// All decoded.
    DecodeAll,
    /// Each record's text is searched.
    Search(RawMatcher),
}

/// What a screen wants, for the plans.
pub(crate) struct Wanted<'a> {
    /// Whether it wants events of a log source at all.
    pub(crate) wants: &'a dyn Fn(&LogSource) -> bool,
    /// Whether process lineage reads events of a log source whatever matches.
    pub(crate) lineage: &'a dyn Fn(&LogSource) -> bool,
}

/// The plans of one screen.
#[derive(Debug)]
pub(crate) struct RawSkips {
    plans: Mutex<HashMap<RouteKey, Arc<RoutePlan>>>,
    /// The records a route has before its search is built ([`RECORDS_BEFORE_SEARCH`]).
    pub(crate) search_after: u64,
    /// Tells apart the screens a thread's cache may have served.
    id: u64,
    /// The bytes of the samples the routes hold ([`SAMPLED_BYTES_ALL`]).
    sampled: AtomicUsize,
}

/// A decoding thread's plans: (screen id, per event ID the routes met).
type ThreadPlans = (u64, HashMap<i64, Vec<Arc<RoutePlan>>>);

thread_local! {
    static PLANS: RefCell<ThreadPlans> = RefCell::default();
}

impl RawSkips {
    pub(crate) fn new() -> RawSkips {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        RawSkips {
            plans: Mutex::default(),
            search_after: RECORDS_BEFORE_SEARCH,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            sampled: AtomicUsize::new(0),
        }
    }

    /// Whether records of `route` may be skipped (counted as a record of the route); `screen`
    /// tells the log sources the screen wants at all, and those lineage reads whatever matches.
    pub(crate) fn may_skip(
        &self,
        rules: &RuleSet,
        route: &RawRoute<'_>,
        screen: &Wanted<'_>,
    ) -> bool {
        self.with_plan(route, screen, |plan| {
            let seen = plan.seen.fetch_add(1, Ordering::Relaxed) + 1;
            let test = match plan.test.get() {
                Some(test) => test,
                None if seen >= self.search_after => {
                    plan.test.get_or_init(|| plan.search(rules, &[]))
                }
                None => return false,
            };
            match test.0 {
                Test::SkipAll => true,
                Test::DecodeAll => false,
                Test::Search(_) => !plan.given_up.load(Ordering::Relaxed),
            }
        })
    }

    /// Whether records of `route` are skipped whatever their text (no rule reads the route).
    pub(crate) fn skips_route(&self, route: &RawRoute<'_>, screen: &Wanted<'_>) -> bool {
        self.with_plan(route, screen, |plan| matches!(plan.test.get(), Some((Test::SkipAll, _))))
    }

    /// Counts `records` records of `route` that [`RawSkips::skips_route`] let be skipped, as
    /// records of the route and as skipped.
    pub(crate) fn skipped_route(&self, route: &RawRoute<'_>, records: u64, screen: &Wanted<'_>) {
        self.with_plan(route, screen, |plan| {
            plan.seen.fetch_add(records, Ordering::Relaxed);
            plan.skipped.fetch_add(records, Ordering::Relaxed);
        })
    }

    /// Whether a record of `route` (which [`RawSkips::may_skip`] allowed) with `text` is skipped.
    pub(crate) fn skips(
        &self,
        rules: &RuleSet,
        route: &RawRoute<'_>,
        text: &RawText<'_>,
        screen: &Wanted<'_>,
    ) -> bool {
        self.with_plan(route, screen, |plan| {
            let skip = match plan.test.get().map(|test| &test.0) {
                Some(Test::SkipAll) => true,
                Some(Test::Search(built)) => {
                    let tested = plan.tested.fetch_add(1, Ordering::Relaxed) + 1;
                    if tested == FASTER_AFTER
                        && let Some(faster) = plan.current(built).faster()
                    {
                        let _ = plan.faster.set(faster);
                    }
                    let skip = !plan.current(built).may_match(text);
                    if tested <= SAMPLED_SEARCHES {
                        plan.sample(text.bytes, &self.sampled);
                    }
                    if tested == REMADE_AFTER {
                        plan.remake(rules, tested, &self.sampled);
                    }
                    if tested == GIVE_UP_AFTER
                        && plan.skipped.load(Ordering::Relaxed) * GIVE_UP_BELOW < tested
                    {
                        plan.given_up.store(true, Ordering::Relaxed);
                    }
                    skip
                }
                Some(Test::DecodeAll) | None => false,
            };
            if skip {
                plan.skipped.fetch_add(1, Ordering::Relaxed);
            }
            skip
        })
    }

    /// Runs `f` with the plan of `route`, found in the thread's map or made.
    fn with_plan<T>(
        &self,
        route: &RawRoute<'_>,
        screen: &Wanted<'_>,
        f: impl FnOnce(&RoutePlan) -> T,
    ) -> T {
        PLANS.with_borrow_mut(|(owner, plans)| {
            if *owner != self.id {
                *owner = self.id;
                plans.clear();
            }
            let met = plans.entry(route.event_id).or_default();
            let at = met
                .iter()
                .position(|p| p.route.0 == route.rendering && *p.route.1 == *route.channel);
            let plan = match at {
                Some(at) => &met[at],
                None => {
                    met.push(self.plan(route, screen));
                    &met[met.len() - 1]
                }
            };
            f(plan)
        })
    }

    /// The shared plan of a route, made on first sight: what it needs, but not yet its search.
    fn plan(&self, route: &RawRoute<'_>, screen: &Wanted<'_>) -> Arc<RoutePlan> {
        let key = (route.rendering, Box::from(route.channel), route.event_id);
        let mut plans = self.plans.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let plan = plans.entry(key.clone()).or_insert_with(|| {
            let logsources = route.logsources();
            let test = OnceLock::new();
            if !logsources.iter().any(screen.wants) {
                let _ = test.set((Test::SkipAll, Some("no rule reads these events".to_owned())));
            } else if logsources.iter().any(screen.lineage) {
                let because = "process lineage reads these events".to_owned();
                let _ = test.set((Test::DecodeAll, Some(because)));
            }
            Arc::new(RoutePlan::new(key, logsources, test))
        });
        Arc::clone(plan)
    }

    /// Every route met so far, most records first.
    pub(crate) fn report(&self) -> Vec<RouteSkips> {
        let search_after = self.search_after;
        let plans = self.plans.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out: Vec<RouteSkips> = plans
            .values()
            .map(|plan| RouteSkips {
                route: plan.raw_route().name(),
                records: plan.seen.load(Ordering::Relaxed),
                skipped: plan.skipped.load(Ordering::Relaxed),
                because: match plan.test.get() {
                    Some(_) if plan.given_up.load(Ordering::Relaxed) => Some(format!(
                        "the search skipped fewer than 1 in {GIVE_UP_BELOW} of the first \
                         {GIVE_UP_AFTER}"
                    )),
                    Some((_, because)) => because.clone(),
                    None => Some(format!("fewer than {search_after} records: not worth a search")),
                },
                atoms: match plan.test.get() {
                    Some((Test::Search(built), _)) => plan.current(built).atoms(),
                    _ => 0,
                },
                searched: plan.tested.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by(|a, b| b.records.cmp(&a.records).then_with(|| a.route.cmp(&b.route)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(channel: &str) -> RoutePlan {
        RoutePlan::new((Format::EvtxJson, channel.into(), 1), Vec::new(), OnceLock::new())
    }

    #[test]
    fn samples_are_bounded_per_route_and_for_all_routes() {
        let all = AtomicUsize::new(0);
        let one = plan("a");
        for _ in 0..2 * MAX_SAMPLES {
            one.sample(b"short", &all);
        }
        assert_eq!(one.samples.lock().unwrap().texts.len(), MAX_SAMPLES);
        let big = vec![b'x'; SAMPLED_BYTES / 2];
        let routes: Vec<RoutePlan> = (0..SAMPLED_BYTES_ALL / SAMPLED_BYTES * 2)
            .map(|i| {
                let route = plan(&i.to_string());
                for _ in 0..4 {
                    route.sample(&big, &all);
                }
                route
            })
            .collect();
        // Each route holds at most its share; together, no more than the bound.
        assert!(routes.iter().all(|r| r.samples.lock().unwrap().bytes <= SAMPLED_BYTES));
        let held: usize = routes.iter().map(|r| r.samples.lock().unwrap().bytes).sum();
        assert_eq!(all.load(Ordering::Relaxed), held + 5 * MAX_SAMPLES);
        assert!(held <= SAMPLED_BYTES_ALL && held > SAMPLED_BYTES_ALL / 2);
        let new = plan("new");
        new.sample(&big, &all);
        assert!(new.samples.lock().unwrap().texts.is_empty());
        // A route whose search is remade (or not: this one skipped every record) gives its bytes
        // back.
        let rules = RuleSet::compile(&shellward_sigma::Loaded::default()).0;
        routes[0].skipped.store(REMADE_AFTER, Ordering::Relaxed);
        routes[0].remake(&rules, REMADE_AFTER, &all);
        assert!(routes[0].samples.lock().unwrap().texts.is_empty());
        assert!(routes[0].remade.get().is_none());
        assert_eq!(all.load(Ordering::Relaxed), held + 5 * MAX_SAMPLES - SAMPLED_BYTES);
    }
}
