//! Partition checkpoints in the state bucket, in chunks.
//!
//! A key-value entry is one message, so it cannot be larger than the server's `max_payload`
//! (1 MiB by default), while a partition's live state (the lineage of its hosts, the correlation
//! windows still open) can outgrow it. A checkpoint is therefore stored as
//!
//! - chunks `p<k>.<generation>.<i>`, each at most the chunk size, then
//! - the manifest `p<k>`: the stream sequence covered, the generation, the chunk count, the length
//!   and a hash of the whole. Written last, it is the commit point: a worker that dies while
//!   writing chunks leaves the previous manifest, whose chunks are still there.
//!
//! Once a manifest is stored, the previous generation's chunks are purged; chunks left by a worker
//! that died mid-write are purged when the partition is next taken ([`Checkpoints::load`]).

use async_nats::jetstream::kv;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// The manifest of a stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The last stream sequence whose event the state covers.
    pub sequence: u64,
    /// Which chunks: `p<k>.<generation>.<i>`.
    pub generation: u64,
    /// How many chunks.
    pub chunks: u32,
    /// The state's length in bytes.
    pub bytes: u64,
    /// FNV-1a (64 bits) of the state.
    pub hash: u64,
}

/// Why a checkpoint could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The bucket refused or failed a request.
    #[error("state bucket, key {key}: {reason}")]
    Store {
        /// The key.
        key: String,
        /// What the server or client said.
        reason: String,
    },
    /// The manifest is not one this version writes.
    #[error("state bucket, key {key}: not a checkpoint manifest ({reason})")]
    Manifest {
        /// The key.
        key: String,
        /// What did not parse.
        reason: String,
    },
    /// A chunk the manifest names is gone, or the chunks do not add up to what it says.
    #[error("state bucket, key {key}: {reason}")]
    Damaged {
        /// The manifest's key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// The checkpoints of a stream's partitions, in its state bucket.
pub struct Checkpoints {
    store: kv::Store,
    chunk: usize,
}

fn fnv64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn manifest_key(partition: u32) -> String {
    format!("p{partition}")
}

fn chunk_key(partition: u32, generation: u64, index: u32) -> String {
    format!("p{partition}.{generation}.{index}")
}

/// The chunk size for a server's `max_payload`: half of it (a message carries headers and the
/// bucket's subject too), at most 512 KiB and at least 4 KiB.
pub fn chunk_size(max_payload: usize) -> usize {
    (max_payload / 2).clamp(4 << 10, 512 << 10)
}

impl Checkpoints {
    /// Checkpoints in `store`, written in chunks of at most `chunk` bytes.
    pub fn new(store: kv::Store, chunk: usize) -> Self {
        Checkpoints { store, chunk: chunk.max(1) }
    }

    fn store_error(key: &str, e: impl std::fmt::Display) -> CheckpointError {
        CheckpointError::Store { key: key.to_owned(), reason: e.to_string() }
    }

    /// The partition's checkpoint (its manifest and state), if one is stored. Chunks of other
    /// generations (left by a worker that died while writing) are purged.
    pub async fn load(
        &self,
        partition: u32,
    ) -> Result<Option<(Manifest, Vec<u8>)>, CheckpointError> {
        let key = manifest_key(partition);
        let Some(bytes) =
            self.store.get(key.as_str()).await.map_err(|e| Self::store_error(&key, e))?
        else {
            self.purge_chunks(partition, None).await?;
            return Ok(None);
        };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| CheckpointError::Manifest { key: key.clone(), reason: e.to_string() })?;
        let mut state = Vec::with_capacity(usize::try_from(manifest.bytes).unwrap_or(0));
        for index in 0..manifest.chunks {
            let chunk = chunk_key(partition, manifest.generation, index);
            match self.store.get(chunk.as_str()).await.map_err(|e| Self::store_error(&chunk, e))? {
                Some(bytes) => state.extend_from_slice(&bytes),
                None => {
                    return Err(CheckpointError::Damaged {
                        key,
                        reason: format!("chunk {chunk} is missing"),
                    });
                }
            }
        }
        if state.len() as u64 != manifest.bytes || fnv64(&state) != manifest.hash {
            return Err(CheckpointError::Damaged {
                key,
                reason: format!(
                    "its chunks hold {} byte(s) that do not match the manifest ({} bytes)",
                    state.len(),
                    manifest.bytes
                ),
            });
        }
        self.purge_chunks(partition, Some(manifest.generation)).await?;
        Ok(Some((manifest, state)))
    }

    /// Stores `state` as the partition's checkpoint covering `sequence`, after `previous` (the
    /// manifest loaded or last saved, whose chunks are purged once the new one is stored).
    pub async fn save(
        &self,
        partition: u32,
        previous: Option<&Manifest>,
        sequence: u64,
        state: &[u8],
    ) -> Result<Manifest, CheckpointError> {
        let generation = previous.map_or(1, |m| m.generation + 1);
        let mut chunks = 0u32;
        for piece in state.chunks(self.chunk) {
            let key = chunk_key(partition, generation, chunks);
            self.store
                .put(key.as_str(), bytes::Bytes::copy_from_slice(piece))
                .await
                .map_err(|e| Self::store_error(&key, e))?;
            chunks += 1;
        }
        let manifest = Manifest {
            sequence,
            generation,
            chunks,
            bytes: state.len() as u64,
            hash: fnv64(state),
        };
        let key = manifest_key(partition);
        let json = serde_json::to_vec(&manifest)
            .map_err(|e| CheckpointError::Manifest { key: key.clone(), reason: e.to_string() })?;
        self.store.put(key.as_str(), json.into()).await.map_err(|e| Self::store_error(&key, e))?;
        if let Some(previous) = previous {
            for index in 0..previous.chunks {
                let chunk = chunk_key(partition, previous.generation, index);
                // A chunk not purged now is purged at the next takeover.
                let _ = self.store.purge(chunk.as_str()).await;
            }
        }
        Ok(manifest)
    }

    /// Purges the partition's chunks of every generation but `keep`.
    async fn purge_chunks(&self, partition: u32, keep: Option<u64>) -> Result<(), CheckpointError> {
        let prefix = format!("p{partition}.");
        let keep = keep.map(|g| format!("p{partition}.{g}."));
        let mut keys = self.store.keys().await.map_err(|e| Self::store_error(&prefix, e))?;
        let mut stale = Vec::new();
        while let Some(key) = keys.next().await {
            let key = key.map_err(|e| Self::store_error(&prefix, e))?;
            if key.starts_with(&prefix) && keep.as_ref().is_none_or(|k| !key.starts_with(k)) {
                stale.push(key);
            }
        }
        for key in stale {
            let _ = self.store.purge(key.as_str()).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_fit_the_payload() {
        assert_eq!(chunk_size(1 << 20), 512 << 10);
        assert_eq!(chunk_size(64 << 20), 512 << 10);
        assert_eq!(chunk_size(100 << 10), 50 << 10);
        assert_eq!(chunk_size(1000), 4 << 10);
    }

    #[test]
    fn keys_are_valid_bucket_keys() {
        let valid = |k: &str| k.chars().all(|c| c.is_ascii_alphanumeric() || "-/_=.".contains(c));
        assert!(valid(&manifest_key(15)) && valid(&chunk_key(15, 7, 3)));
        assert_eq!(chunk_key(15, 7, 3), "p15.7.3");
        // A chunk of partition 1 is not mistaken for one of partition 15.
        assert!(!chunk_key(15, 7, 3).starts_with("p1."));
    }

    #[test]
    fn the_hash_sees_every_byte() {
        assert_ne!(fnv64(b"abc"), fnv64(b"abd"));
        assert_ne!(fnv64(b""), fnv64(b"\0"));
    }
}
