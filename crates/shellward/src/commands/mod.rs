//! One module per subcommand.

pub(crate) mod events;
mod export;
pub(crate) mod fleet;
pub(crate) mod hunt;
pub(crate) mod ruleload;
pub(crate) mod rules;
mod ruletest;
pub(crate) mod scan;
pub(crate) mod selftest;
pub(crate) mod ship;
mod stats;
pub(crate) mod tune;
pub(crate) mod watch;

use crate::args::InputArgs;
use anyhow::Context;
use shellward_sources::{ReadOptions, format_by_name};

/// The decoder options `--input-format` and `--threads` ask for.
fn read_options(input: &InputArgs, threads: Option<usize>) -> anyhow::Result<ReadOptions> {
    let format = match input.input_format.as_str() {
        "auto" => None,
        name => Some(format_by_name(name).with_context(|| format!("unknown input format {name}"))?),
    };
    let mut options = ReadOptions { format, ..ReadOptions::default() };
    if let Some(threads) = threads {
        options.threads = threads.max(1);
    }
    Ok(options)
}

/// Fails with a usage error naming every path that does not exist (`-`, standard input, aside):
/// a typo must not pass for an empty input, as grep treats it.
fn require_paths(paths: &[std::path::PathBuf], what: &str) -> anyhow::Result<()> {
    let missing: Vec<String> = paths
        .iter()
        .filter(|path| path.as_os_str() != "-")
        .filter(|path| {
            std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        })
        .map(|path| crate::report::escape(&path.display().to_string()))
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => anyhow::bail!("{what} {one}: no such file or directory"),
        many => anyhow::bail!("{what}: no such files or directories: {}", many.join(", ")),
    }
}

/// This machine's name, as the kernel knows it.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_owned()).filter(|n| !n.is_empty())
}

/// This machine's name, or `worker` when the kernel does not say (names NATS clients and
/// workers).
fn machine_name() -> String {
    host_name().unwrap_or_else(|| "worker".into())
}
