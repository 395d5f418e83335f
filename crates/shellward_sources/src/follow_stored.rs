//! What a [`Follower`] has read, as a checkpoint stores it ([`FollowerState`]): for each followed
//! file its identity (device and inode), how far it was read, and the decoding state of its
//! unfinished lines, so a restarted watch reads on from there.
//!
//! A file is found again by its identity, under whatever followed path it now has (a file rotated
//! while the watch was down, and still under a followed directory, is read to its end first). A
//! file that is gone from every followed path cannot be read on: it is reported. Standard input
//! is not stored: it cannot be read again.

use super::{Followed, Follower, How, file_id};
use crate::problem::{DecodeError, Problem};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The state of a [`Follower`], to write with serde and read back with [`Follower::restore`].
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FollowerState {
    files: Vec<FileState>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileState {
    path: PathBuf,
    id: (u64, u64),
    offset: u64,
    how: How,
}

fn stored(path: &std::path::Path, followed: &Followed) -> FileState {
    let how = followed.how.clone();
    FileState { path: path.to_owned(), id: followed.id, offset: followed.offset, how }
}

impl Follower {
    /// What has been read, for a checkpoint. Take it between polls.
    pub fn state(&self) -> FollowerState {
        let files = self.files.iter().chain(self.gone.values().map(|(p, f)| (p, f)));
        FollowerState { files: files.map(|(path, followed)| stored(path, followed)).collect() }
    }

    /// Follows `paths` from where `state` left them; the files of `state` that cannot be found
    /// again are returned as problems.
    pub fn restore(paths: &[PathBuf], state: FollowerState) -> (Follower, Vec<Problem>) {
        let mut follower = Follower::new(paths);
        let mut problems = Vec::new();
        let now: Vec<(PathBuf, (u64, u64))> = follower
            .paths_now()
            .into_iter()
            .filter_map(|(path, _)| file_id(&path).map(|id| (path, id)))
            .collect();
        for file in state.files {
            let found = now.iter().find(|(_, id)| *id == file.id).map(|(p, _)| p.clone());
            let opened = found.as_ref().and_then(|p| std::fs::File::open(p).ok().map(|f| (p, f)));
            let Some((path, handle)) = opened else {
                let name = file.path.display().to_string();
                problems.push(Problem::warning(&name.into(), DecodeError::GoneSinceCheckpoint));
                continue;
            };
            let how = match file.how {
                How::Text(mut tail) => {
                    tail.name = file.path.display().to_string().into();
                    How::Text(tail)
                }
                whole => whole,
            };
            let followed = Followed { id: file.id, file: handle, offset: file.offset, how };
            follower.files.insert(path.clone(), followed);
        }
        (follower, problems)
    }
}
