//! Baselines: what was under the scanned roots at a known-good time, and what has drifted since.
//!
//! # The format (version 1)
//!
//! One JSON document, written by `scan --write-baseline FILE`:
//!
//! ```json
//! {
//!   "format": "shellward-baseline",
//!   "version": 1,
//!   "created_ns": 1764967200000000000,
//!   "host": "web01",
//!   "roots": ["/var/www"],
//!   "files": [
//!     {"path": "/var/www/html/index.php", "size": 405, "mtime_ns": 1764967100000000000,
//!      "ctime_ns": 1764967100000000000, "sha256": "…", "owner": 33}
//!   ],
//!   "components": [
//!     {"kind": "apache_module", "name": "rewrite_module", "path": "/usr/lib/apache2/modules/mod_rewrite.so",
//!      "config": "/etc/apache2/mods-enabled/rewrite.load", "line": 1}
//!   ]
//! }
//! ```
//!
//! - `files`: every regular file under the roots (not only scripts: a shell may lie about its
//!   extension), sorted by path; times are nanoseconds since the epoch; `owner` is the user id.
//!   Paths that are not UTF-8 are written lossily (U+FFFD).
//! - `components`: every component the inventories list ([`crate::inventory`]), with the
//!   configuration file and line that names it.
//! - A reader refuses another `format`, and a `version` newer than its own; fields it does not know
//!   are ignored, so later versions may add some.
//!
//! # Drift
//!
//! Files are matched by path, components by kind, configuration file and name:
//!
//! | change | finding |
//! |---|---|
//! | a new script (or any new file in an upload, temp, cache or `aspnet_client` folder) | `new-script`, `new-upload-file` |
//! | a script whose SHA-256 changed | `changed-script` |
//! | a script gone | `removed-script` |
//! | a script new or changed whose mtime is older than the baseline, or did not move though its content changed, while its change time is newer | `timestomp` |
//! | a component new, loading another file, or gone | `new-component`, `changed-component`, `removed-component` |
//! | a WAR or exploded application new in `webapps` | `new-webapp` |

use crate::inventory::Component;
use crate::walk::{FileEntry, is_script};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `format` field of a baseline.
pub const FORMAT: &str = "shellward-baseline";
/// The version this build writes and the newest it reads.
pub const VERSION: u32 = 1;

/// A baseline (see the module documentation for its format).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Baseline {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format's version.
    pub version: u32,
    /// When it was taken, in nanoseconds since the epoch.
    pub created_ns: i64,
    /// The scanning host.
    #[serde(default)]
    pub host: Option<String>,
    /// The scanned roots.
    #[serde(default)]
    pub roots: Vec<String>,
    /// Every regular file under the roots, by path.
    #[serde(default)]
    pub files: Vec<FileRecord>,
    /// Every component the inventories list.
    #[serde(default)]
    pub components: Vec<ComponentRecord>,
}

/// A file in a baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileRecord {
    /// Its path.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time (ns since the epoch).
    #[serde(default)]
    pub mtime_ns: Option<i64>,
    /// Its status change time (ns since the epoch).
    #[serde(default)]
    pub ctime_ns: Option<i64>,
    /// The SHA-256 of its content (lower-case hex); empty when it could not be read.
    pub sha256: String,
    /// The owner's user id.
    #[serde(default)]
    pub owner: Option<u32>,
}

/// A component in a baseline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ComponentRecord {
    /// Its kind ([`Component::kind`]).
    pub kind: String,
    /// Its name.
    pub name: String,
    /// What it loads.
    pub path: String,
    /// The configuration file that names it (or the application's own path, for a web app).
    pub config: String,
    /// The line there.
    #[serde(default)]
    pub line: u64,
}

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a baseline's JSON.
    #[error("{path}: not a shellward baseline: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// It is another format or a newer version.
    #[error(
        "{path}: {found} is not a baseline this build reads ({FORMAT} version {VERSION} or older)"
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// What it says it is.
        found: String,
    },
}

impl FileRecord {
    /// The record of a file read (`sha256` empty when it could not be).
    pub fn new(file: &FileEntry, sha256: String) -> Self {
        FileRecord {
            path: file.path.to_string_lossy().into_owned(),
            size: file.size,
            mtime_ns: file.modified_ns,
            ctime_ns: file.changed_ns,
            sha256,
            owner: file.owner,
        }
    }

    /// The file as a walk entry (for a finding's event).
    pub fn entry(&self) -> FileEntry {
        FileEntry {
            path: PathBuf::from(&self.path),
            size: self.size,
            modified_ns: self.mtime_ns,
            changed_ns: self.ctime_ns,
            owner: self.owner,
            script: is_script(Path::new(&self.path)),
        }
    }
}

impl ComponentRecord {
    /// The record of a component named in `config`.
    pub fn new(component: &Component, config: &Path) -> Self {
        ComponentRecord {
            kind: component.kind.into(),
            name: component.name.clone(),
            path: component.path.clone(),
            config: config.to_string_lossy().into_owned(),
            line: component.line,
        }
    }

    fn key(&self) -> (&str, &str, &str) {
        (&self.kind, &self.config, &self.name)
    }
}

impl Baseline {
    /// A baseline of what a scan recorded (sorted, so equal trees give equal files).
    pub fn new(
        created_ns: i64,
        host: Option<String>,
        roots: &[PathBuf],
        mut files: Vec<FileRecord>,
        mut components: Vec<ComponentRecord>,
    ) -> Self {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        components.sort_by(|a, b| a.key().cmp(&b.key()).then(a.line.cmp(&b.line)));
        Baseline {
            format: FORMAT.into(),
            version: VERSION,
            created_ns,
            host,
            roots: roots.iter().map(|r| r.to_string_lossy().into_owned()).collect(),
            files,
            components,
        }
    }

    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read(path)
            .map_err(|source| BaselineError::Io { path: path.to_owned(), source })?;
        let baseline: Baseline = serde_json::from_slice(&text)
            .map_err(|source| BaselineError::Json { path: path.to_owned(), source })?;
        if baseline.format != FORMAT || baseline.version > VERSION {
            return Err(BaselineError::Version {
                path: path.to_owned(),
                found: format!("{} version {}", baseline.format, baseline.version),
            });
        }
        Ok(baseline)
    }

    /// Writes the baseline (atomically: a temporary file renamed over `path`).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        {
            let file = std::fs::File::create(&temporary)?;
            let mut out = std::io::BufWriter::new(file);
            serde_json::to_writer(&mut out, self)?;
            use std::io::Write;
            out.write_all(b"\n")?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&temporary, path)
    }
}

/// What changed between a baseline and now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// A file the baseline did not have.
    NewFile(FileRecord),
    /// A file whose content changed.
    ChangedFile {
        /// As the baseline had it.
        before: FileRecord,
        /// Now.
        now: FileRecord,
    },
    /// A file gone.
    RemovedFile(FileRecord),
    /// A component the baseline did not list.
    NewComponent(ComponentRecord),
    /// A component loading something else.
    ChangedComponent {
        /// As the baseline had it.
        before: ComponentRecord,
        /// Now.
        now: ComponentRecord,
    },
    /// A component gone.
    RemovedComponent(ComponentRecord),
}

/// What changed from `before` to `now`, files in path order, then components.
pub fn drift(before: &Baseline, now: &Baseline) -> Vec<Drift> {
    let mut out = Vec::new();
    let old: BTreeMap<&str, &FileRecord> =
        before.files.iter().map(|f| (f.path.as_str(), f)).collect();
    let new: BTreeMap<&str, &FileRecord> = now.files.iter().map(|f| (f.path.as_str(), f)).collect();
    for (path, file) in &new {
        match old.get(path) {
            None => out.push(Drift::NewFile((*file).clone())),
            Some(was) if was.sha256 != file.sha256 => {
                out.push(Drift::ChangedFile { before: (*was).clone(), now: (*file).clone() })
            }
            Some(_) => {}
        }
    }
    for (path, file) in &old {
        if !new.contains_key(path) {
            out.push(Drift::RemovedFile((*file).clone()));
        }
    }
    let old: BTreeMap<_, &ComponentRecord> =
        before.components.iter().map(|c| (c.key(), c)).collect();
    let new: BTreeMap<_, &ComponentRecord> = now.components.iter().map(|c| (c.key(), c)).collect();
    for (key, component) in &new {
        match old.get(key) {
            None => out.push(Drift::NewComponent((*component).clone())),
            Some(was) if was.path != component.path => out.push(Drift::ChangedComponent {
                before: (*was).clone(),
                now: (*component).clone(),
            }),
            Some(_) => {}
        }
    }
    for (key, component) in &old {
        if !new.contains_key(key) {
            out.push(Drift::RemovedComponent((*component).clone()));
        }
    }
    out
}

/// Folders where uploads, caches and temporary files land: a new script there is how a web
/// shell arrives through an upload flaw.
const UPLOAD_FOLDERS: &[&str] = &[
    "upload",
    "uploads",
    "userfiles",
    "user_uploads",
    "attachments",
    "files",
    "media",
    "images",
    "tmp",
    "temp",
    "cache",
    "aspnet_client",
];

/// Whether a path lies in an upload, temp or cache folder.
pub fn in_upload_folder(path: &str) -> bool {
    path.split(['/', '\\'])
        .rev()
        .skip(1)
        .any(|part| UPLOAD_FOLDERS.iter().any(|u| u.eq_ignore_ascii_case(part)))
}

/// Whether a file new or changed since a baseline taken at `baseline_ns` had its modification
/// time set back: older than the baseline (or, for a changed file, not moved though its content
/// did), while its change time is after the baseline.
pub fn timestomped(before: Option<&FileRecord>, now: &FileRecord, baseline_ns: i64) -> bool {
    let (Some(mtime), Some(ctime)) = (now.mtime_ns, now.ctime_ns) else { return false };
    if ctime <= baseline_ns {
        return false;
    }
    mtime < baseline_ns || before.and_then(|b| b.mtime_ns).is_some_and(|was| mtime <= was)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, sha: &str, mtime: i64, ctime: i64) -> FileRecord {
        FileRecord {
            path: path.into(),
            size: 1,
            mtime_ns: Some(mtime),
            ctime_ns: Some(ctime),
            sha256: sha.into(),
            owner: Some(33),
        }
    }

    #[test]
    fn drift_lists_new_changed_and_removed_files_and_components() {
        let component = |name: &str, path: &str| ComponentRecord {
            kind: "iis_module".into(),
            name: name.into(),
            path: path.into(),
            config: "applicationHost.config".into(),
            line: 3,
        };
        let before = Baseline::new(
            10,
            None,
            &[],
            vec![file("/w/a.php", "1", 1, 1), file("/w/b.php", "2", 1, 1)],
            vec![component("A", "x.dll"), component("B", "y.dll")],
        );
        let now = Baseline::new(
            20,
            None,
            &[],
            vec![file("/w/b.php", "3", 15, 15), file("/w/c.php", "4", 15, 15)],
            vec![component("B", "z.dll"), component("C", "c.dll")],
        );
        let found = drift(&before, &now);
        assert!(matches!(&found[0], Drift::ChangedFile { now, .. } if now.path == "/w/b.php"));
        assert!(matches!(&found[1], Drift::NewFile(f) if f.path == "/w/c.php"));
        assert!(matches!(&found[2], Drift::RemovedFile(f) if f.path == "/w/a.php"));
        assert!(matches!(&found[3], Drift::ChangedComponent { now, .. } if now.path == "z.dll"));
        assert!(matches!(&found[4], Drift::NewComponent(c) if c.name == "C"));
        assert!(matches!(&found[5], Drift::RemovedComponent(c) if c.name == "A"));
        assert_eq!(found.len(), 6);
    }

    #[test]
    fn timestomping_is_an_old_mtime_on_a_recent_change() {
        let before = file("/w/a.php", "1", 5, 5);
        // Written after the baseline (t=10): mtime and ctime both new.
        assert!(!timestomped(Some(&before), &file("/w/a.php", "2", 12, 12), 10));
        // Changed, then touched back to before the baseline.
        assert!(timestomped(Some(&before), &file("/w/a.php", "2", 3, 12), 10));
        // Changed with the mtime put back where it was.
        assert!(timestomped(Some(&before), &file("/w/a.php", "2", 5, 12), 10));
        // New, with an old mtime.
        assert!(timestomped(None, &file("/w/b.php", "2", 3, 12), 10));
        // Old change time: nothing happened since the baseline.
        assert!(!timestomped(None, &file("/w/b.php", "2", 3, 8), 10));
    }

    #[test]
    fn upload_folders() {
        assert!(in_upload_folder("/var/www/html/wp-content/uploads/2024/x.php"));
        assert!(in_upload_folder("C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\x.aspx"));
        assert!(!in_upload_folder("/var/www/html/uploads.php"));
        assert!(!in_upload_folder("/var/www/html/index.php"));
    }

    #[test]
    fn versions_newer_than_this_build_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("b.json");
        let baseline = Baseline::new(1, Some("h".into()), &[], vec![file("/a", "1", 1, 1)], vec![]);
        baseline.write(&path)?;
        assert_eq!(Baseline::read(&path)?, baseline);
        std::fs::write(&path, r#"{"format":"shellward-baseline","version":2,"created_ns":1}"#)?;
        assert!(matches!(Baseline::read(&path), Err(BaselineError::Version { .. })));
        std::fs::write(&path, "{")?;
        assert!(matches!(Baseline::read(&path), Err(BaselineError::Json { .. })));
        Ok(())
    }
}
