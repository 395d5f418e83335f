//! Walking scanned roots safely: no symbolic link is followed, a link pointing out of its root is
//! reported (a web shell reached through a link into the web root reads files the server should
//! not), files over the size limit are reported rather than read, and what cannot be read is a
//! problem that does not stop the walk.

use std::path::{Path, PathBuf};

/// Server-side script extensions: what the seeds and the Sigma pack watch in web roots.
pub const SCRIPT_EXTENSIONS: &[&str] = &[
    "php", "php3", "php4", "php5", "php7", "phtml", "phar", "inc", "asp", "aspx", "ashx", "asmx",
    "asax", "ascx", "cshtml", "vbhtml", "cer", "asa", "cdx", "soap", "jsp", "jspx", "jspf",
    "jhtml", "cfm", "cfml", "cfc", "shtml", "pl", "cgi", "py",
];

/// Whether a path has a server-side script extension.
pub fn is_script(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| SCRIPT_EXTENSIONS.iter().any(|s| s.eq_ignore_ascii_case(e)))
}

/// A regular file found under a root.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, in nanoseconds since the epoch.
    pub modified_ns: Option<i64>,
    /// Its status change time, in nanoseconds since the epoch (no call sets it back): a file
    /// changed since a baseline whose modification time is older than the baseline was touched
    /// back (timestomped), or copied or unpacked with its times kept.
    pub changed_ns: Option<i64>,
    /// The owner's user id.
    pub owner: Option<u32>,
    /// Whether it has a script extension.
    pub script: bool,
}

/// What a walk meets.
#[derive(Debug)]
pub enum Walked {
    /// A regular file.
    File(FileEntry),
    /// A symbolic link whose target is outside the root it was found in.
    Escape {
        /// The link.
        link: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
    /// A path that could not be read.
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The entry for `path` from its metadata (without following a link).
pub fn entry(path: &Path, meta: &std::fs::Metadata) -> FileEntry {
    use std::os::unix::fs::MetadataExt;
    FileEntry {
        path: path.to_owned(),
        size: meta.len(),
        modified_ns: Some(meta.mtime() * 1_000_000_000 + meta.mtime_nsec()),
        changed_ns: Some(meta.ctime() * 1_000_000_000 + meta.ctime_nsec()),
        owner: Some(meta.uid()),
        script: is_script(path),
    }
}

/// Walks `roots` in name order, calling `visit` for what it meets. A root that is a file is
/// visited as one.
pub fn walk(roots: &[PathBuf], mut visit: impl FnMut(Walked)) {
    for root in roots {
        let canonical = match std::fs::canonicalize(root) {
            Ok(path) => path,
            Err(e) => {
                visit(Walked::Unreadable { path: root.clone(), reason: e.to_string() });
                continue;
            }
        };
        for item in walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name() {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    let path = e.path().map(Path::to_owned).unwrap_or_else(|| root.clone());
                    visit(Walked::Unreadable { path, reason: e.to_string() });
                    continue;
                }
            };
            let path = item.path();
            if item.path_is_symlink() {
                // Never followed; one pointing out of the root is reported. A dangling link, or
                // one within the root (whose target is walked where it is), is left alone.
                if let Ok(target) = std::fs::canonicalize(path)
                    && !target.starts_with(&canonical)
                {
                    visit(Walked::Escape { link: path.to_owned(), target });
                }
                continue;
            }
            if !item.file_type().is_file() {
                continue;
            }
            match item.metadata() {
                Ok(meta) => visit(Walked::File(entry(path, &meta))),
                Err(e) => {
                    visit(Walked::Unreadable { path: path.to_owned(), reason: e.to_string() })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_out_of_the_root_are_reported_not_followed() -> std::io::Result<()> {
        let outside = tempfile::tempdir()?;
        std::fs::write(outside.path().join("secret.txt"), "x")?;
        let root = tempfile::tempdir()?;
        std::fs::write(root.path().join("a.php"), "<?php ?>")?;
        std::fs::create_dir(root.path().join("sub"))?;
        std::os::unix::fs::symlink(outside.path(), root.path().join("sub/out"))?;
        std::os::unix::fs::symlink(root.path().join("a.php"), root.path().join("b.php"))?;
        let mut files = Vec::new();
        let mut escapes = Vec::new();
        walk(&[root.path().to_owned()], |walked| match walked {
            Walked::File(entry) => files.push(entry.path),
            Walked::Escape { link, .. } => escapes.push(link),
            Walked::Unreadable { path, reason } => panic!("{}: {reason}", path.display()),
        });
        assert_eq!(files, [root.path().join("a.php")]);
        assert_eq!(escapes, [root.path().join("sub/out")]);
        Ok(())
    }

    #[test]
    fn script_extensions() {
        assert!(is_script(Path::new("x/Shell.ASPX")));
        assert!(is_script(Path::new("cmd.jsp")));
        assert!(!is_script(Path::new("logo.png")));
        assert!(!is_script(Path::new("README")));
    }
}
