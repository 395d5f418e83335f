//! Command-line arguments.

use clap::{Args as ClapArgs, Parser, Subcommand};
use std::path::PathBuf;

/// Find server software component persistence (MITRE ATT&CK T1505: web shells, IIS modules, SQL
/// Server xp_cmdshell, Exchange transport agents, Terminal Services DLLs, VIBs) in raw telemetry.
#[derive(Debug, Parser)]
#[command(name = "shellward", version, about, max_term_width = 100)]
pub(crate) struct Args {
    /// Worker threads (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub(crate) threads: Option<usize>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the normalized events decoded from telemetry, as JSON lines: exactly what rules see.
    Events(EventsArgs),
}

/// Arguments of `shellward events`.
#[derive(Debug, ClapArgs)]
pub(crate) struct EventsArgs {
    /// Files or directories to read (directories recursively; `-` for standard input). EVTX, JSON
    /// (evtx_dump, Winlogbeat, flattened exports) and XML event logs, plain, gzip or zip.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Keep only events of this log source: `product=windows`, `category=process_creation`,
    /// `service=sysmon`, or a bare name matching any of the three. Repeat to require several.
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) logsource: Vec<String>,

    /// Stop after N events.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u64>,

    /// Read every input as this format instead of recognizing it from its content.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = [
        "auto", "evtx", "evtx-json", "evtx-xml", "winlogbeat", "flat-json", "json"
    ])]
    pub(crate) input_format: String,

    /// Also list files that were skipped because no decoder recognizes them.
    #[arg(long, short)]
    pub(crate) verbose: bool,
}
