//! The checkpoint file of a live hunt (`watch --state FILE`): what was read and the hunt's state
//! ([`Checkpoint`]), written atomically, and beside it a journal of the ids of the alerts reported
//! since (`FILE.reported`).
//!
//! # Why a journal
//! A checkpoint is written every few seconds, not after every alert: it holds the whole process
//! table. A watch killed between two checkpoints restarts from the older one and reads again what
//! came after it, which decides the same alerts again, with the same ids. The journal lists the
//! ids reported since the checkpoint (each batch appended after it is written and flushed), and a
//! restarted watch drops those alerts instead of reporting them twice. The journal is emptied
//! after each checkpoint, so it stays as short as the interval.
//!
//! What a kill can still do: an alert written in the instant between its output and its journal
//! line is reported twice (never lost); a consumer drops it by its id.

use crate::checkpoint::LiveState;
use serde::{Deserialize, Serialize};
use shellward_sources::FollowerState;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The version of the checkpoint layout; a file of another version is not read.
const VERSION: u32 = 1;

/// What a checkpoint holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    version: u32,
    /// What was read of each followed file.
    pub follower: FollowerState,
    /// The live hunt's state.
    pub live: LiveState,
}

impl Checkpoint {
    /// A checkpoint of these states.
    pub fn new(follower: FollowerState, live: LiveState) -> Self {
        Checkpoint { version: VERSION, follower, live }
    }
}

/// Why a checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a checkpoint this version reads.
    #[error("{path}: not a shellward checkpoint of version {VERSION}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// How an I/O error on `path` is reported.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + use<> {
    let path = path.to_owned();
    move |source| StoreError::Io { path, source }
}

/// A checkpoint file and its journal.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    journal: Option<File>,
}

impl Store {
    /// The store at `path` (nothing is read or written yet).
    pub fn new(path: &Path) -> Self {
        Store { path: path.to_owned(), journal: None }
    }

    fn journal_path(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".reported");
        PathBuf::from(name)
    }

    /// The checkpoint, if the file exists, and the ids reported since it was written.
    pub fn load(&self) -> Result<Option<(Checkpoint, HashSet<String>)>, StoreError> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&self.path)(e)),
        };
        let checkpoint: Checkpoint = serde_json::from_reader(BufReader::new(file))
            .map_err(|e| StoreError::Invalid { path: self.path.clone(), reason: e.to_string() })?;
        if checkpoint.version != VERSION {
            return Err(StoreError::Invalid {
                path: self.path.clone(),
                reason: format!("it is of version {}", checkpoint.version),
            });
        }
        let mut reported = HashSet::new();
        let journal = self.journal_path();
        match File::open(&journal) {
            Ok(file) => {
                for line in BufReader::new(file).lines() {
                    let line = line.map_err(io(&journal))?;
                    // A line cut by the kill is not an id: it is ignored.
                    if line.len() == 16 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
                        reported.insert(line);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&journal)(e)),
        }
        Ok(Some((checkpoint, reported)))
    }

    /// Writes `checkpoint` atomically (a temporary file beside it, synced, renamed over it), then
    /// empties the journal.
    pub fn save(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let mut temporary = self.path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let file = File::create(&temporary).map_err(io(&temporary))?;
        let mut out = BufWriter::new(file);
        serde_json::to_writer(&mut out, checkpoint)
            .map_err(|e| io(&temporary)(std::io::Error::other(e)))?;
        let file = out.into_inner().map_err(|e| io(&temporary)(e.into_error()))?;
        file.sync_all().map_err(io(&temporary))?;
        std::fs::rename(&temporary, &self.path).map_err(io(&self.path))?;
        let journal = self.journal_path();
        let file = File::create(&journal).map_err(io(&journal))?;
        self.journal = Some(file);
        Ok(())
    }

    /// Appends the ids of alerts just written (and flushed) to the journal.
    pub fn reported<'a>(
        &mut self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), StoreError> {
        let journal = self.journal_path();
        if self.journal.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&journal)
                .map_err(io(&journal))?;
            self.journal = Some(file);
        }
        let mut text = String::new();
        for id in ids {
            text.push_str(id);
            text.push('\n');
        }
        if text.is_empty() {
            return Ok(());
        }
        let io = io(&journal);
        match &mut self.journal {
            Some(file) => file.write_all(text.as_bytes()).map_err(io),
            None => Ok(()),
        }
    }
}
