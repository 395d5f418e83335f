//! Shipping events: each published to its host's subject with a message id, acknowledged by
//! JetStream before the next batch is read.

use async_nats::jetstream::{self, context::PublishAckFuture, stream};
use futures_util::stream::{FuturesOrdered, StreamExt};
use shellward_event::{Event, StoredEvent};
use std::time::Duration;

/// The event stream and how it is partitioned.
#[derive(Debug, Clone)]
pub struct StreamSetup {
    /// The stream's name.
    pub name: String,
    /// How many partitions hosts are spread over (fixed for the stream's life).
    pub partitions: u32,
    /// Replicas (1, or 3 on a cluster).
    pub replicas: usize,
    /// The window within which a message id seen before is dropped.
    pub duplicate_window: Duration,
}

impl StreamSetup {
    /// A stream named `name` with 16 partitions, one replica and a ten-minute duplicate window.
    pub fn new(name: &str) -> Self {
        StreamSetup {
            name: name.into(),
            partitions: 16,
            replicas: 1,
            duplicate_window: Duration::from_secs(600),
        }
    }

    /// The stream (`events.>`, file storage), created if it does not exist.
    pub async fn ensure(&self, context: &jetstream::Context) -> Result<stream::Stream, ShipError> {
        context
            .get_or_create_stream(stream::Config {
                name: self.name.clone(),
                subjects: vec!["events.>".into()],
                storage: stream::StorageType::File,
                num_replicas: self.replicas,
                duplicate_window: self.duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|e| ShipError::Stream(self.name.clone(), e.to_string()))
    }
}

/// Why shipping failed.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    /// The stream could not be created or read.
    #[error("stream {0}: {1}")]
    Stream(String, String),
    /// A publication was refused or not acknowledged.
    #[error("publishing to {subject}: {reason}")]
    Publish {
        /// Where.
        subject: String,
        /// Why.
        reason: String,
    },
}

/// Publishes events, at most [`Shipper::in_flight`] unacknowledged at a time.
pub struct Shipper {
    context: jetstream::Context,
    partitions: u32,
    /// The most publications awaiting their acknowledgement.
    pub in_flight: usize,
    /// Events acknowledged as new, and as duplicates (sent again after a restart).
    pub shipped: (u64, u64),
}

impl Shipper {
    /// A shipper to the stream `setup` describes (which must exist: [`StreamSetup::ensure`]).
    pub fn new(context: jetstream::Context, setup: &StreamSetup) -> Self {
        Shipper { context, partitions: setup.partitions, in_flight: 1024, shipped: (0, 0) }
    }

    /// Publishes `events` and returns once JetStream has acknowledged every one.
    pub async fn ship(&mut self, events: &[Event]) -> Result<(), ShipError> {
        let mut pending: FuturesOrdered<_> = FuturesOrdered::new();
        for event in events {
            let subject = crate::subject::event_subject(event.host.as_deref(), self.partitions);
            let stored = StoredEvent::from(event);
            let payload = serde_json::to_vec(&stored).unwrap_or_default();
            let publish = jetstream::message::PublishMessage::build()
                .payload(payload.into())
                .message_id(message_id(event, &stored));
            let ack: PublishAckFuture =
                self.context.send_publish(subject.clone(), publish).await.map_err(|e| {
                    ShipError::Publish { subject: subject.clone(), reason: e.to_string() }
                })?;
            pending.push_back(async move { (subject, ack.await) });
            while pending.len() >= self.in_flight {
                self.settle(pending.next().await)?;
            }
        }
        while let Some(done) = pending.next().await {
            self.settle(Some(done))?;
        }
        Ok(())
    }

    fn settle(
        &mut self,
        done: Option<(
            String,
            Result<jetstream::publish::PublishAck, jetstream::context::PublishError>,
        )>,
    ) -> Result<(), ShipError> {
        match done {
            Some((_, Ok(ack))) if ack.duplicate => self.shipped.1 += 1,
            Some((_, Ok(_))) => self.shipped.0 += 1,
            Some((subject, Err(e))) => {
                return Err(ShipError::Publish { subject, reason: e.to_string() });
            }
            None => {}
        }
        Ok(())
    }
}

/// An event's message id: its file and record (line), with a hash of its content for records that
/// share a line (an envelope's rows).
fn message_id(event: &Event, stored: &StoredEvent) -> String {
    let text = serde_json::to_string(stored).unwrap_or_default();
    shellward_hunt::stable_id([
        &*event.provenance.path,
        &event.provenance.record.to_string(),
        text.as_str(),
    ])
}
