//! One module per subcommand.

pub(crate) mod events;
mod export;
pub(crate) mod findings;
mod first_seen;
pub(crate) mod hunt;
pub(crate) mod matcher;
pub(crate) mod ruleload;
pub(crate) mod rules;
pub(crate) mod selftest;

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
