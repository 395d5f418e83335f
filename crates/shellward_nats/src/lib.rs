//! Past one machine: telemetry shipped to NATS JetStream, detection spread over workers.
//!
//! # Design
//!
//! ```text
//! ship (any format, following) ─► events.<partition>.<host>  (JetStream stream, file storage)
//!                                        │
//!          workers ◄─ leases (KV, expire) ┤  one worker holds a partition at a time
//!             │                           │
//!             ├─ per partition: Live hunt (lineage, first-seen, correlation windows)
//!             ├─ alerts ─► alerts.<level>.<host>  (Nats-Msg-Id = the alert's stable id)
//!             └─ checkpoint ─► KV state: p<k> = manifest (stream sequence), p<k>.<gen>.<i> = chunks
//! ```
//!
//! - **Partitions** ([`subject`]): the shipper puts each event on `events.<p>.<host>` where `p` is
//!   a hash of the host modulo the stream's partition count. Computed by the publisher rather than
//!   by a server subject mapping (`partition()`): the same effect (a host always lands in one
//!   partition, so its lineage and correlation state live in one worker), with no server
//!   configuration and on any server version.
//! - **Shipping** ([`ship`]): every event is published with a message id (its file, record and
//!   a hash of its content) and its acknowledgement awaited; a batch is acknowledged whole before
//!   the reader goes further (back-pressure) and before the caller saves its read positions, so a
//!   restarted shipper resumes from what the stream accepted, and what it sends again inside the
//!   stream's duplicate window is dropped by the server.
//! - **Workers** ([`worker`]): each partition is held through a lease, a key of a key-value bucket
//!   whose entries expire ([`LEASE_TTL`]): a worker creates the key to take the partition, renews
//!   it, and loses it if it stops renewing; another worker then creates it and takes over. A
//!   partition's worker loads its checkpoint (the last stream sequence it covers and the live
//!   hunt's state), reads the partition from the next sequence, publishes each alert with its
//!   stable id as message id, and checkpoints only after the alerts it decided are acknowledged:
//!   at-least-once in, exactly-once alerts out within the alert stream's duplicate window.
//! - **Checkpoints** ([`checkpoint`]): a partition's state is stored in chunks under a manifest
//!   written last, so a state larger than the server's `max_payload` is stored whole or not at
//!   all.
//! - **Connections** ([`connect()`]): user/password, token, nkey, credentials file and TLS; the
//!   first connection is retried with backoff, and a lost one is re-established by the client.

pub mod checkpoint;
pub mod connect;
pub mod metrics;
pub mod ship;
pub mod subject;
pub mod worker;

pub use connect::{Auth, ConnectError, Endpoint, connect};
pub use ship::{ShipError, Shipper, StreamSetup};
pub use subject::{alert_subject, event_subject, partition};
pub use worker::{Worker, WorkerError, WorkerOptions, WorkerReport};

/// How long a partition lease lives without renewal: a worker that dies loses its partitions
/// after at most this long.
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(6);

/// The JetStream context of a connection (call it inside the runtime: it starts a task).
pub fn jetstream(client: async_nats::Client) -> async_nats::jetstream::Context {
    async_nats::jetstream::new(client)
}
