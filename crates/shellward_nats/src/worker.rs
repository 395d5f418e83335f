//! A worker: takes the partitions no live worker holds, runs a live hunt on each, publishes the
//! alerts once, and checkpoints what it covered.
//!
//! Threads: the caller's thread keeps the leases (creating the key of a free partition, renewing
//! those it holds every third of [`crate::LEASE_TTL`]); each partition held has a thread of its
//! own with its [`Live`] hunt, which calls the NATS client through the runtime's handle. A
//! partition thread stops when its lease is lost (another worker may hold it now: it writes no
//! checkpoint then) or when the worker is asked to stop (it checkpoints, then gives the lease
//! back so that another worker can take over at once).

use crate::checkpoint::{Checkpoints, Manifest};
use crate::ship::StreamSetup;
use async_nats::jetstream::{self, consumer, kv, stream};
use futures_util::stream::{FuturesOrdered, StreamExt};
use shellward_engine::{Correlator, Level, Lineage, RuleSet};
use shellward_event::StoredEvent;
use shellward_hunt::tuning::{Overrides, SuppressState, Tuning};
use shellward_hunt::{Finding, Hunt, Live, LiveState};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The event stream.
    pub stream: StreamSetup,
    /// This worker's name (in the leases).
    pub id: String,
    /// How often each partition's state is checkpointed.
    pub checkpoint_every: Duration,
    /// A partition with no new event for this long is quiet: its waiting alerts are decided.
    pub idle: Duration,
    /// How late (event time) an alert may come and still correlate.
    pub max_lateness: Duration,
    /// Only alerts at or above this level.
    pub min_level: Option<Level>,
    /// Track process lineage.
    pub lineage: bool,
}

/// What a worker did, shared with its caller (metrics) while it runs.
#[derive(Debug, Default)]
pub struct WorkerReport {
    /// Events read.
    pub events: AtomicU64,
    /// Events that could not be read (not a stored event).
    pub bad_events: AtomicU64,
    /// Alerts published (duplicates included).
    pub alerts: AtomicU64,
    /// Partitions taken (including takeovers).
    pub taken: AtomicU64,
    /// Partitions held now.
    pub held: AtomicU64,
    /// Checkpoints written.
    pub checkpoints: AtomicU64,
    /// Stream sequence of the last event read, any partition.
    pub last_sequence: AtomicU64,
    /// The stream's last sequence, as last asked (every lease renewal).
    pub stream_sequence: AtomicU64,
    /// Alerts published per level (informational, low, medium, high, critical).
    pub alerts_by_level: [AtomicU64; 5],
    /// When the last checkpoint was written (ms since the epoch; 0: none yet).
    pub last_checkpoint_ms: AtomicU64,
    /// The largest checkpoint written (bytes, any partition).
    pub checkpoint_bytes: AtomicU64,
    /// Checkpoints that could not be written, or read at a takeover (the partition is then read
    /// again from the stream's start: nothing is lost, and alerts repeated inside the alert
    /// stream's duplicate window are dropped).
    pub checkpoint_errors: AtomicU64,
    /// Alerts a tuning file's allowlist dropped.
    pub allowlisted: AtomicU64,
    /// Alerts a tuning file's suppression folded into an earlier one.
    pub suppressed: AtomicU64,
    /// Whether the last call to the server succeeded.
    pub connected: AtomicBool,
}

/// Why a worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A bucket or stream could not be created or read.
    #[error("{0}: {1}")]
    Setup(String, String),
}

/// See the module documentation.
pub struct Worker {
    context: jetstream::Context,
    set: Arc<RuleSet>,
    options: WorkerOptions,
    /// A tuning file, prepared for the rules.
    tuning: Option<(Tuning, Overrides)>,
    /// Counters, readable while the worker runs.
    pub report: Arc<WorkerReport>,
}

/// The buckets and streams a worker uses.
struct Resources {
    events: stream::Stream,
    leases: kv::Store,
    states: Checkpoints,
}

impl Worker {
    /// A worker over the stream `options` names, with `set`'s rules.
    pub fn new(context: jetstream::Context, set: Arc<RuleSet>, options: WorkerOptions) -> Self {
        Worker { context, set, options, tuning: None, report: Arc::default() }
    }

    /// Applies a tuning file (allowlists, levels, suppression per partition) before publishing.
    pub fn with_tuning(mut self, tuning: Tuning) -> Self {
        let overrides = tuning.overrides(&self.set);
        self.tuning = Some((tuning, overrides));
        self
    }

    async fn resources(&self) -> Result<Resources, WorkerError> {
        let name = &self.options.stream.name;
        let setup = |what: &str, e: String| WorkerError::Setup(format!("{what} of {name}"), e);
        let events = self
            .options
            .stream
            .ensure(&self.context)
            .await
            .map_err(|e| setup("stream", e.to_string()))?;
        self.context
            .get_or_create_stream(stream::Config {
                name: format!("{name}_ALERTS"),
                subjects: vec!["alerts.>".into()],
                storage: stream::StorageType::File,
                num_replicas: self.options.stream.replicas,
                duplicate_window: self.options.stream.duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|e| setup("alert stream", e.to_string()))?;
        let bucket = |bucket: String, max_age: Duration| kv::Config {
            bucket,
            history: 1,
            max_age,
            storage: stream::StorageType::File,
            num_replicas: self.options.stream.replicas,
            ..Default::default()
        };
        let leases = self
            .context
            .create_key_value(bucket(format!("{name}_leases"), crate::LEASE_TTL))
            .await
            .map_err(|e| setup("lease bucket", e.to_string()))?;
        let states = self
            .context
            .create_key_value(bucket(format!("{name}_state"), Duration::ZERO))
            .await
            .map_err(|e| setup("state bucket", e.to_string()))?;
        let chunk = crate::checkpoint::chunk_size(self.context.client().server_info().max_payload);
        Ok(Resources { events, leases, states: Checkpoints::new(states, chunk) })
    }

    /// Runs until `stop` is set: takes and keeps partitions, runs each, and hands every alert it
    /// published (once acknowledged) to `on_alert` as well.
    pub fn run(
        &self,
        runtime: &Handle,
        stop: &AtomicBool,
        on_alert: &(dyn Fn(&Finding<'_>) + Sync),
    ) -> Result<(), WorkerError> {
        let resources = runtime.block_on(self.resources())?;
        let partitions = self.options.stream.partitions;
        let held: Vec<Arc<AtomicBool>> =
            (0..partitions).map(|_| Arc::new(AtomicBool::new(false))).collect();
        let mut revisions: Vec<Option<u64>> = vec![None; partitions as usize];
        std::thread::scope(|scope| {
            let mut threads: Vec<Option<std::thread::ScopedJoinHandle<'_, ()>>> =
                (0..partitions).map(|_| None).collect();
            while !stop.load(Ordering::Relaxed) {
                for p in 0..partitions as usize {
                    let key = format!("p{p}");
                    let value = bytes::Bytes::from(self.options.id.clone());
                    match revisions[p] {
                        Some(revision) if !held[p].load(Ordering::Relaxed) => {
                            // Its thread gave up (an alert not acknowledged): let another try.
                            let _ = runtime.block_on(
                                resources.leases.delete_expect_revision(&key, Some(revision)),
                            );
                            revisions[p] = None;
                        }
                        Some(revision) => {
                            match runtime.block_on(resources.leases.update(&key, value, revision)) {
                                Ok(next) => revisions[p] = Some(next),
                                Err(_) => {
                                    // Lost: another worker holds it now (or the server is away).
                                    held[p].store(false, Ordering::Relaxed);
                                    revisions[p] = None;
                                }
                            }
                        }
                        None => {
                            if threads[p].as_ref().is_some_and(|t| !t.is_finished()) {
                                continue; // still winding down after a loss
                            }
                            if let Ok(revision) =
                                runtime.block_on(resources.leases.create(&key, value))
                            {
                                revisions[p] = Some(revision);
                                held[p].store(true, Ordering::Relaxed);
                                self.report.taken.fetch_add(1, Ordering::Relaxed);
                                let flag = Arc::clone(&held[p]);
                                let resources = &resources;
                                threads[p] = Some(scope.spawn(move || {
                                    self.partition(
                                        runtime, resources, p as u32, &flag, stop, on_alert,
                                    )
                                }));
                            }
                        }
                    }
                }
                let mut events = resources.events.clone();
                match runtime.block_on(events.info()) {
                    Ok(info) => {
                        self.report
                            .stream_sequence
                            .store(info.state.last_sequence, Ordering::Relaxed);
                        self.report.connected.store(true, Ordering::Relaxed);
                    }
                    Err(_) => self.report.connected.store(false, Ordering::Relaxed),
                }
                let count = held.iter().filter(|h| h.load(Ordering::Relaxed)).count();
                self.report.held.store(count as u64, Ordering::Relaxed);
                let renew = crate::LEASE_TTL / 3;
                let until = Instant::now() + renew;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            for thread in threads.iter_mut().filter_map(Option::take) {
                let _ = thread.join();
            }
            // Give the leases back: another worker takes over without waiting for them to expire.
            for (p, revision) in revisions.iter().enumerate() {
                if let Some(revision) = revision {
                    let _ = runtime.block_on(
                        resources.leases.delete_expect_revision(format!("p{p}"), Some(*revision)),
                    );
                }
            }
        });
        Ok(())
    }

    /// Runs one partition while its lease is held and the worker is not stopped.
    fn partition(
        &self,
        runtime: &Handle,
        resources: &Resources,
        partition: u32,
        held: &AtomicBool,
        stop: &AtomicBool,
        on_alert: &(dyn Fn(&Finding<'_>) + Sync),
    ) {
        let set = &self.set;
        let correlator = Correlator::new(set);
        let options = &self.options;
        let fresh = || {
            let hunt = Hunt::new(Arc::clone(set), options.lineage.then(Lineage::default));
            Live::new(set, &correlator, hunt, options.min_level, options.max_lateness)
        };
        let stored = match runtime.block_on(resources.states.load(partition)) {
            Ok(stored) => stored,
            Err(_) => {
                self.report.checkpoint_errors.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        let mut manifest: Option<Manifest> = None;
        let (mut sequence, mut live) = match stored {
            Some((stored, bytes)) => {
                let restored = serde_json::from_slice::<LiveState>(&bytes).ok().and_then(|state| {
                    Live::restore(
                        set,
                        &correlator,
                        options.lineage,
                        options.min_level,
                        options.max_lateness,
                        state,
                    )
                    .ok()
                });
                let sequence = stored.sequence;
                manifest = Some(stored);
                match restored {
                    Some(live) => (sequence, live),
                    None => {
                        // Written by another version, or damaged: read the partition again.
                        self.report.checkpoint_errors.fetch_add(1, Ordering::Relaxed);
                        (0, fresh())
                    }
                }
            }
            None => (0, fresh()),
        };
        let config = consumer::pull::Config {
            filter_subject: format!("events.{partition}.>"),
            deliver_policy: match sequence {
                0 => consumer::DeliverPolicy::All,
                last => consumer::DeliverPolicy::ByStartSequence { start_sequence: last + 1 },
            },
            ack_policy: consumer::AckPolicy::None,
            inactive_threshold: Duration::from_secs(60),
            ..Default::default()
        };
        let Ok(consumer) = runtime.block_on(resources.events.create_consumer(config)) else {
            held.store(false, Ordering::Relaxed);
            return;
        };
        let mut paths = HashSet::new();
        let mut last_checkpoint = Instant::now();
        let mut cost = Duration::ZERO;
        let mut checkpointed = sequence;
        let mut quiet = false;
        let mut suppress = SuppressState::default();
        while held.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
            let batch = runtime.block_on(async {
                let mut out = Vec::new();
                let fetched = consumer
                    .fetch()
                    .max_messages(512)
                    .expires(options.idle.max(Duration::from_millis(100)))
                    .messages()
                    .await;
                if let Ok(mut messages) = fetched {
                    while let Some(Ok(message)) = messages.next().await {
                        let seq = message.info().map(|i| i.stream_sequence).unwrap_or(0);
                        out.push((seq, message.payload.clone()));
                    }
                }
                out
            });
            let was_quiet = quiet;
            quiet = batch.is_empty();
            for (seq, payload) in batch {
                sequence = sequence.max(seq);
                self.report.events.fetch_add(1, Ordering::Relaxed);
                self.report.last_sequence.fetch_max(seq, Ordering::Relaxed);
                match serde_json::from_slice::<StoredEvent>(&payload) {
                    Ok(stored) => live.push_unscreened(stored.into_event(&mut paths)),
                    Err(_) => {
                        self.report.bad_events.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            let mut findings = live.decide(quiet);
            if let Some((tuning, overrides)) = &self.tuning {
                let tuned = tuning.apply(findings, overrides, &mut suppress);
                self.report
                    .allowlisted
                    .fetch_add(tuned.allowlisted.len() as u64, Ordering::Relaxed);
                self.report.suppressed.fetch_add(tuned.suppressed.len() as u64, Ordering::Relaxed);
                findings = tuned.findings;
            }
            if !findings.is_empty() && !self.publish(runtime, &findings, on_alert) {
                // Not acknowledged: read again from the last checkpoint on the next takeover.
                held.store(false, Ordering::Relaxed);
                return;
            }
            // A large state (the lineage of many processes) takes a while to store: a partition
            // spends at most about a tenth of its time checkpointing while events flow.
            let due = last_checkpoint.elapsed() >= options.checkpoint_every.max(cost * 10);
            if (sequence != checkpointed || (quiet && !was_quiet)) && (due || quiet) {
                let started = Instant::now();
                self.checkpoint(runtime, resources, partition, &mut manifest, sequence, &live);
                cost = started.elapsed();
                checkpointed = sequence;
                last_checkpoint = Instant::now();
            }
        }
        if held.load(Ordering::Relaxed) {
            // Stopping: what is covered is checkpointed; what waits goes on in the next holder.
            self.checkpoint(runtime, resources, partition, &mut manifest, sequence, &live);
        }
    }

    /// Publishes findings with their ids as message ids; true when every one is acknowledged.
    fn publish(
        &self,
        runtime: &Handle,
        findings: &[Finding<'_>],
        on_alert: &(dyn Fn(&Finding<'_>) + Sync),
    ) -> bool {
        let alerts: Vec<(String, String, bytes::Bytes)> = findings
            .iter()
            .map(|finding| {
                let json = serde_json::to_vec(&finding.view()).unwrap_or_default().into();
                let subject = crate::subject::alert_subject(
                    finding.rule.level.name(),
                    finding.event.host.as_deref(),
                );
                (finding.id(), subject, json)
            })
            .collect();
        let acknowledged = runtime.block_on(async {
            let mut pending = FuturesOrdered::new();
            for (id, subject, json) in &alerts {
                let publish = jetstream::message::PublishMessage::build()
                    .payload(json.clone())
                    .message_id(id);
                match self.context.send_publish(subject.clone(), publish).await {
                    Ok(ack) => pending.push_back(ack.into_future()),
                    Err(_) => return false,
                }
            }
            while let Some(ack) = pending.next().await {
                if ack.is_err() {
                    return false;
                }
            }
            true
        });
        if acknowledged {
            for finding in findings {
                self.report.alerts.fetch_add(1, Ordering::Relaxed);
                self.report.alerts_by_level[finding.rule.level as usize]
                    .fetch_add(1, Ordering::Relaxed);
                on_alert(finding);
            }
        }
        acknowledged
    }

    /// Stores the partition's state; `manifest` is the checkpoint it replaces, and becomes the
    /// new one.
    fn checkpoint(
        &self,
        runtime: &Handle,
        resources: &Resources,
        partition: u32,
        manifest: &mut Option<Manifest>,
        sequence: u64,
        live: &Live<'_, '_>,
    ) {
        let saved = serde_json::to_vec(&live.state()).map_err(|_| ()).and_then(|bytes| {
            runtime
                .block_on(resources.states.save(partition, manifest.as_ref(), sequence, &bytes))
                .map_err(|_| ())
        });
        match saved {
            Ok(saved) => {
                self.report.checkpoints.fetch_add(1, Ordering::Relaxed);
                self.report.checkpoint_bytes.fetch_max(saved.bytes, Ordering::Relaxed);
                self.report.last_checkpoint_ms.store(crate::metrics::now_ms(), Ordering::Relaxed);
                *manifest = Some(saved);
            }
            Err(()) => {
                self.report.checkpoint_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
