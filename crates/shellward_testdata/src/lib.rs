//! Test support: where the shared corpora are.
//!
//! Tests and benchmarks may read `../shared` (real public telemetry and rules; CI has it). In a
//! user's clone it is absent, and such tests skip with a visible message; with
//! `SHELLWARD_REQUIRE_SHARED=1` (set by `.ci/run`) a missing directory fails the test instead, so CI
//! can never pass by skipping.

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `../shared/<relative>` (or `$SHELLWARD_SHARED/<relative>`), if it exists. When it does not, prints
/// why the calling test skips, or panics if `SHELLWARD_REQUIRE_SHARED=1`.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let base = std::env::var_os("SHELLWARD_SHARED")
        .map_or_else(|| repo_root().join("../shared"), PathBuf::from);
    let path = base.join(relative);
    if path.exists() {
        return Some(path);
    }
    let required = std::env::var("SHELLWARD_REQUIRE_SHARED").is_ok_and(|v| v == "1");
    assert!(!required, "SHELLWARD_REQUIRE_SHARED=1 but {} is missing", path.display());
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "SKIPPED: {} is not present (shared corpora are optional outside CI)",
            path.display()
        );
    }
    None
}

/// The shared corpora the whole-pipeline tests run over, each a [`shared`] path.
#[derive(Debug, Clone)]
pub struct Corpora {
    /// SigmaHQ's repository (rules and `regression_data`).
    pub sigmahq: PathBuf,
    /// The reference examples of every format.
    pub examples: PathBuf,
    /// evtx-to-mitre (EVTX).
    pub mitre: PathBuf,
    /// evtx-samples (EVTX).
    pub samples: PathBuf,
    /// The OTRF dataset (zipped JSON lines).
    pub otrf: PathBuf,
}

/// Every corpus of [`Corpora`], or `None` (with [`shared`]'s message) if one is missing.
pub fn corpora() -> Option<Corpora> {
    Some(Corpora {
        sigmahq: shared("data/sigmahq")?,
        examples: shared("reference/examples")?,
        mitre: shared("data/evtx-to-mitre")?,
        samples: shared("data/evtx-samples")?,
        otrf: shared("data/otrf")?,
    })
}

/// Every file under `dir` (recursively) whose extension is `extension` (ASCII case ignored), in
/// name order.
pub fn files_with_extension(dir: &std::path::Path, extension: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case(extension)) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// For each EVTX corpus (evtx-to-mitre, evtx-samples), `check` summed over its files: the
/// corpus, and the sums of the two counts `check` gives per file (such as records, and records a
/// fast path took). `None` (with [`shared`]'s message) if a corpus is missing.
pub fn over_evtx_corpora(
    mut check: impl FnMut(&std::path::Path) -> (u64, u64),
) -> Option<Vec<(PathBuf, u64, u64)>> {
    let corpora = corpora()?;
    let sums = [corpora.mitre, corpora.samples].map(|dir| {
        let (mut all, mut some) = (0, 0);
        for file in files_with_extension(&dir, "evtx") {
            let (a, s) = check(&file);
            all += a;
            some += s;
        }
        (dir, all, some)
    });
    Some(sums.into())
}
