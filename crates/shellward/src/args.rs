//! Command-line arguments.

use clap::{Args as ClapArgs, Parser, Subcommand};
use std::path::PathBuf;

/// Find server software component persistence (MITRE ATT&CK T1505: web shells, IIS modules, SQL
/// Server xp_cmdshell, Exchange transport agents, Terminal Services DLLs, VIBs) in raw telemetry.
#[derive(Debug, Parser)]
#[command(name = "shellward", version = VERSION, about, max_term_width = 100, after_help = EXIT_STATUS)]
pub(crate) struct Args {
    /// Worker threads (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub(crate) threads: Option<usize>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The exit statuses, in `--help` (see `crate::status`).
const EXIT_STATUS: &str = "\
Exit status:
  0  the run completed: every input and rule was read (whatever was found)
  1  --fail-on: an alert at or above its level was found
  2  usage error: bad arguments, an input or --rules path that does not exist, no rules to run,
     or (with --strict) a rule that failed to load; nothing was run
  3  incomplete: some input could not be read, no event was read at all, a rule failed to load,
     or alerts spilled to a temporary file could not be read back; the rest was processed and
     reported
When several hold, the first of 2, 3, 1 wins (alerts are still written); the closing line on
standard error names every reason.";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run Sigma rules (the built-in T1505 pack and your own) over telemetry and report alerts.
    #[command(after_help = EXIT_STATUS)]
    Hunt(HuntArgs),
    /// List, show and check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Replay the five T1505 attack tests through the rules and show what fires.
    Selftest(SelftestArgs),
    /// Print the normalized events decoded from telemetry, as JSON lines: exactly what rules see.
    #[command(after_help = EXIT_STATUS)]
    Events(EventsArgs),
    /// Follow files, directories or standard input as agents write them and print each alert as
    /// soon as it is decided.
    Watch(WatchArgs),
    /// Scan web roots and server directories: YARA content rules (the built-in web shell set and
    /// your own) over script files, symbolic links out of the roots.
    #[command(after_help = EXIT_STATUS)]
    Scan(ScanArgs),
    /// Publish telemetry to a NATS JetStream stream, per host, for `watch --from` workers.
    Ship(ShipArgs),
}

/// Arguments of `shellward scan`.
#[derive(Debug, ClapArgs)]
pub(crate) struct ScanArgs {
    /// Directories (walked recursively, no symbolic link followed) or files to scan.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// A YARA rule file or a directory of them (`.yar`, `.yara`); repeat for several.
    #[arg(long = "yara", short = 'y', value_name = "PATH")]
    pub(crate) yara: Vec<PathBuf>,

    /// Do not load the built-in web shell rules (`rules/yara/`).
    #[arg(long)]
    pub(crate) no_builtin: bool,

    #[command(flatten)]
    pub(crate) out: AlertOutput,

    /// Only report findings at or above this level.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) min_level: Option<Level>,

    /// Exit with status 1 when a finding at or above this level is reported.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) fail_on: Option<Level>,

    /// Files larger than this many bytes are reported, not read.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub(crate) max_size: u64,

    /// The host named in findings (default: this machine's name).
    #[arg(long, value_name = "NAME")]
    pub(crate) host: Option<String>,

    /// Stop (exit 2) if a YARA file fails to compile, instead of running the others.
    #[arg(long)]
    pub(crate) strict: bool,

    /// Record every file (path, size, times, owner, SHA-256) and server component under the roots
    /// in this baseline file (a versioned JSON format).
    #[arg(long, value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,

    /// Compare the roots with this baseline: new, changed and removed scripts and components, new
    /// files in upload folders, scripts whose times were set back.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,

    /// No progress line on standard error.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
}

/// `--version`: the program's and the built-in pack's.
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("SHELLWARD_PACK"), ")");

/// Arguments of `shellward selftest`.
#[derive(Debug, ClapArgs)]
pub(crate) struct SelftestArgs {
    #[command(flatten)]
    pub(crate) selection: RuleSelection,
}

/// Which rules to load.
#[derive(Debug, Clone, ClapArgs)]
pub(crate) struct RuleSelection {
    /// A Sigma rule file or a directory of them (recursively); repeat for several.
    #[arg(long = "rules", short = 'r', value_name = "PATH")]
    pub(crate) rules: Vec<PathBuf>,

    /// Do not load the built-in rule pack.
    #[arg(long)]
    pub(crate) no_builtin: bool,

    /// Stop (exit 2) if any rule fails to load, instead of running the others.
    #[arg(long)]
    pub(crate) strict: bool,
}

/// The tuning file (`shellward.toml`).
#[derive(Debug, ClapArgs)]
pub(crate) struct TuningArgs {
    /// The tuning file: allowlists, host scopes with level overrides, suppression, extra Sigma
    /// filters. Default: `shellward.toml` in the working directory, if there is one.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub(crate) config: Option<PathBuf>,

    /// Read no tuning file, not even `./shellward.toml`.
    #[arg(long)]
    pub(crate) no_config: bool,

    /// List every alert the tuning file allowlisted or suppressed (on standard error), with the
    /// entry that did it.
    #[arg(long)]
    pub(crate) explain_suppressed: bool,
}

/// Where and how alerts are written.
#[derive(Debug, ClapArgs)]
pub(crate) struct AlertOutput {
    /// Output format: a table for reading, JSON lines (the alert contract), CSV, OCSF or an HTML
    /// report.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) format: OutputFormat,

    /// Write alerts to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

/// Arguments of `shellward hunt`.
#[derive(Debug, ClapArgs)]
pub(crate) struct HuntArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,

    #[command(flatten)]
    pub(crate) tuning: TuningArgs,

    #[command(flatten)]
    pub(crate) selection: RuleSelection,

    #[command(flatten)]
    pub(crate) out: AlertOutput,

    /// Only events at or after this time: a duration back from now (`90s`, `30m`, `24h`, `7d`), a
    /// UTC time as the table prints it (`2026-11-03 14:00:00`), a date, or an RFC 3339 time. Events
    /// without a time are kept.
    #[arg(long, value_name = "WHEN")]
    pub(crate) since: Option<String>,

    /// Only events before this time (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub(crate) until: Option<String>,

    /// Only run rules at or above this level.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) min_level: Option<Level>,

    /// The JSON lines of a `shellward scan` (`-f jsonl`): its findings join the telemetry as
    /// `file_scan` events, so a shell found on disk and the request that reached it, or the shell
    /// its server started, become one incident. Repeat for several (scan files given as inputs are
    /// read the same way).
    #[arg(long, value_name = "FILE")]
    pub(crate) scan: Vec<PathBuf>,

    /// Exit with status 1 if an alert at or above this level is found (for pipelines; an
    /// incomplete run's 3 outranks it).
    #[arg(long, value_name = "LEVEL")]
    pub(crate) fail_on: Option<Level>,

    /// Do not track process lineage (no ancestor fields, no parents filled in from earlier
    /// process events, no `process.ancestry` in alerts).
    #[arg(long)]
    pub(crate) no_lineage: bool,

    /// Decode every record. By default a Windows record (EVTX, or JSON of a Windows shape) is
    /// first searched, undecoded, for the texts the rules of its channel and event ID need, and
    /// skipped unread when it holds none of them (`--verbose` reports what was skipped and why the
    /// rest was not). The alerts are the same either way.
    #[arg(long)]
    pub(crate) decode_all: bool,

    /// Do not show the incident view after the alerts.
    #[arg(long)]
    pub(crate) no_incidents: bool,

    /// Findings on one host less than this far apart are one incident (`10m`, `2h`).
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub(crate) incident_gap: String,

    /// Also report what was read, on standard error: events per log source, per channel and
    /// event id, per host, the time range, and the log sources no rule reads, so that what was
    /// and was not covered is known.
    #[arg(long)]
    pub(crate) stats: bool,

    /// No progress bar (it is shown only when standard error is a terminal).
    #[arg(long, short)]
    pub(crate) quiet: bool,

    /// Also list skipped files and every rule problem.
    #[arg(long, short)]
    pub(crate) verbose: bool,
}

/// The values `--input-format` accepts: `auto` and the name of every format the decoders know.
fn input_formats() -> clap::builder::PossibleValuesParser {
    let names = shellward_sources::FORMATS.iter().map(|format| format.name());
    clap::builder::PossibleValuesParser::new(std::iter::once("auto").chain(names))
}

/// A rule level on the command line.
pub(crate) type Level = shellward_engine::Level;

/// How `hunt` prints alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// Aligned columns with a summary per rule and per host.
    Table,
    /// One JSON object per alert (the contract in ARCHITECTURE.md).
    Jsonl,
    /// One row per alert: the summary, ATT&CK, the key fields and the source.
    Csv,
    /// OCSF Detection Findings (class 2004, schema 1.2.0), one JSON object per line.
    Ocsf,
    /// One self-contained HTML page: timeline per host, counts, each alert's event, ancestry and
    /// the rule's investigation and response guide (needs --output or a redirect).
    Html,
}

/// `shellward rules ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// List rules with their level, log source and ATT&CK tags.
    List(RulesListArgs),
    /// Show one rule: where it is, what it needs, and its YAML.
    Show(RulesShowArgs),
    /// Check rule files: report every error and unsupported construct with its location.
    Check(RulesCheckArgs),
    /// Test rules against the scenario files beside them (`NAME.match.*`, `NAME.nomatch.*`), as
    /// the built-in pack is tested; exit 1 when one fails.
    Test(RulesTestArgs),
    /// Write rules as queries for a SIEM (KQL, SPL, LogScale), as normalized Sigma, or as SQLite.
    Export(RulesExportArgs),
}

/// Arguments of `rules export`.
#[derive(Debug, ClapArgs)]
pub(crate) struct RulesExportArgs {
    /// The query language.
    #[arg(long, short = 't', value_enum)]
    pub(crate) target: ExportTarget,

    /// Rules to export, by id, name or title (an unambiguous id prefix is enough).
    #[arg(value_name = "ID")]
    pub(crate) ids: Vec<String>,

    /// Export every loaded rule.
    #[arg(long, conflicts_with_all = ["ids", "tag"])]
    pub(crate) all: bool,

    /// Export the rules carrying this tag or a tag under it (`attack.t1505` takes
    /// `attack.t1505.003`); repeat for several.
    #[arg(long, value_name = "TAG")]
    pub(crate) tag: Vec<String>,

    /// One query for all of them, in the seeds' shape: a block per rule setting DetectionType
    /// and SeverityRating, joined and sorted (kql, spl, cql).
    #[arg(long)]
    pub(crate) combine: bool,

    /// With --combine: only events this recent (`24h`, `7d`), where the language can say so.
    #[arg(long, value_name = "DURATION", requires = "combine")]
    pub(crate) lookback: Option<String>,

    /// Exit 0 when some selected rules cannot be written for this target but others were: the
    /// refusals are still reported on standard error (and in a combined query's header). Without
    /// it, any refusal makes the exit status 1.
    #[arg(long)]
    pub(crate) allow_partial: bool,

    /// Write one file per rule (or `combined.<ext>`) in this directory instead of standard output.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) selection: RuleSelection,
}

/// The languages `rules export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportTarget {
    /// Microsoft Defender XDR / Sentinel advanced hunting (Device* tables).
    Kql,
    /// Splunk over Windows event logs in XML (Sysmon, Security, Application...).
    Spl,
    /// CrowdStrike LogScale over Falcon events.
    Cql,
    /// The rule as normalized Sigma YAML.
    Sigma,
    /// SQLite over shellward's table of normalized events.
    Sqlite,
}

impl ExportTarget {
    /// The renderer's target.
    pub(crate) fn target(self) -> shellward_render::Target {
        use shellward_render::Target;
        match self {
            ExportTarget::Kql => Target::Kql,
            ExportTarget::Spl => Target::Spl,
            ExportTarget::Cql => Target::Cql,
            ExportTarget::Sigma => Target::Sigma,
            ExportTarget::Sqlite => Target::Sqlite,
        }
    }
}

/// Arguments of `rules list`.
#[derive(Debug, ClapArgs)]
pub(crate) struct RulesListArgs {
    #[command(flatten)]
    pub(crate) selection: RuleSelection,

    /// Only rules carrying this tag or a tag under it (`attack.t1505` takes `attack.t1505.003`);
    /// repeat for several.
    #[arg(long, value_name = "TAG")]
    pub(crate) tag: Vec<String>,

    /// Only rules of this level; repeat for several.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) level: Vec<Level>,

    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Arguments of `rules show`.
#[derive(Debug, ClapArgs)]
pub(crate) struct RulesShowArgs {
    /// The rule's or correlation's id (as a hunt prints it), name or title; an unambiguous id
    /// prefix or part of the title is enough.
    #[arg(value_name = "ID")]
    pub(crate) id: String,

    #[command(flatten)]
    pub(crate) selection: RuleSelection,
}

/// Arguments of `rules check`.
#[derive(Debug, ClapArgs)]
pub(crate) struct RulesCheckArgs {
    /// Rule files or directories.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
}

/// Arguments of `rules test`.
#[derive(Debug, ClapArgs)]
pub(crate) struct RulesTestArgs {
    /// Rule files or directories; every rule in them is loaded, and each is tested with the
    /// scenarios beside its file.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// A rule without both a match and a nomatch scenario fails.
    #[arg(long)]
    pub(crate) strict: bool,

    /// Name every rule that passed too.
    #[arg(long, short = 'v')]
    pub(crate) verbose: bool,
}

/// The telemetry a command reads.
#[derive(Debug, ClapArgs)]
pub(crate) struct InputArgs {
    /// Files or directories to read (directories recursively; `-` for standard input). EVTX, JSON
    /// (evtx_dump, Winlogbeat, flattened exports) and XML event logs, and ESXi logs, plain, gzip
    /// or zip.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Read every input as this format instead of recognizing it from its content.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = input_formats())]
    pub(crate) input_format: String,
}

/// Arguments of `shellward watch`.
#[derive(Debug, ClapArgs)]
pub(crate) struct WatchArgs {
    /// Files or directories to follow (directories recursively, new files included), or `-` for
    /// standard input (the watch ends when it closes). Line-oriented text (JSON lines, audit, access,
    /// W3C, ESXi and syslog logs, XML events one per line, Defender CSV) is read line by line as it
    /// is appended; EVTX files are read again when they change, their new records only.
    #[arg(required_unless_present = "from", value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// Read events from a NATS JetStream stream (`nats://HOST:PORT`) that `shellward ship` fills,
    /// as one of the workers sharing its partitions, instead of from files; alerts are published
    /// to `alerts.<level>.<host>` and written as usual.
    #[arg(long, value_name = "URL", conflicts_with = "paths")]
    pub(crate) from: Option<String>,

    #[command(flatten)]
    pub(crate) tuning: TuningArgs,

    #[command(flatten)]
    pub(crate) nats: NatsArgs,

    /// This worker's name in the partition leases (default: host name and process id).
    #[arg(long, value_name = "NAME", requires = "from")]
    pub(crate) worker_id: Option<String>,

    /// With --from: stop after this long without a new event in any partition held (`30s`):
    /// for batch runs and tests; without it the worker runs until SIGINT/SIGTERM.
    #[arg(long, value_name = "DURATION", requires = "from")]
    pub(crate) exit_idle: Option<String>,

    /// With --from: serve Prometheus metrics (`/metrics`: events, decode errors, alerts by level,
    /// partitions, consumer lag, checkpoint age) and a health check (`/healthz`) on this address
    /// (`127.0.0.1:9464`).
    #[arg(long, value_name = "ADDRESS", requires = "from")]
    pub(crate) metrics: Option<std::net::SocketAddr>,

    #[command(flatten)]
    pub(crate) selection: RuleSelection,

    #[command(flatten)]
    pub(crate) out: AlertOutput,

    /// Only run rules at or above this level.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) min_level: Option<Level>,

    /// How far (in event time) an alert may come after a later one and still correlate
    /// (`90s`, `5m`, `1h`). Alerts wait this long behind the newest event before they enter the
    /// correlation windows, unless the inputs go quiet first; a later alert is reported alone and
    /// counted as late.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub(crate) max_lateness: String,

    /// How often the inputs are checked for new data, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 250)]
    pub(crate) poll_ms: u64,

    /// Keep the watch's state in FILE: how far each file was read, the process table, first-seen
    /// values and open correlation windows, written atomically every --checkpoint-every and on
    /// SIGINT/SIGTERM. A watch started with the same FILE goes on where the last one stopped (even
    /// after kill -9), reporting no alert twice (`FILE.reported` lists those since the checkpoint).
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,

    /// How often --state is written (`10s`, `1m`).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub(crate) checkpoint_every: String,

    /// Do not track process lineage.
    #[arg(long)]
    pub(crate) no_lineage: bool,

    /// Also list every rule problem.
    #[arg(long, short)]
    pub(crate) verbose: bool,
}

/// Where the NATS server is and how to authenticate (`ship`, `watch --from`).
#[derive(Debug, ClapArgs)]
pub(crate) struct NatsArgs {
    /// The JetStream stream of events.
    #[arg(long, value_name = "NAME", default_value = "SHELLWARD")]
    pub(crate) stream: String,

    /// Partitions hosts are spread over (fixed when the stream is created; workers and shippers
    /// must agree).
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub(crate) partitions: u32,

    /// Stream replicas (3 on a cluster).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) replicas: usize,

    /// User name (with --password).
    #[arg(long, value_name = "USER", requires = "password")]
    pub(crate) user: Option<String>,

    /// Password (with --user).
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    pub(crate) password: Option<String>,

    /// Authentication token.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) token: Option<String>,

    /// An nkey seed file.
    #[arg(long, value_name = "FILE")]
    pub(crate) nkey: Option<PathBuf>,

    /// A credentials file (JWT and seed).
    #[arg(long, value_name = "FILE")]
    pub(crate) creds: Option<PathBuf>,

    /// Require TLS.
    #[arg(long)]
    pub(crate) tls: bool,

    /// A CA certificate (PEM) to trust.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_ca: Option<PathBuf>,

    /// A client certificate (PEM), with --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// The client certificate's key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
}

/// Arguments of `shellward ship`.
#[derive(Debug, ClapArgs)]
pub(crate) struct ShipArgs {
    /// Files or directories to follow, or `-` for standard input (any format `hunt` reads).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,

    /// The NATS server (`nats://HOST:PORT`, several separated by commas).
    #[arg(long, value_name = "URL")]
    pub(crate) to: String,

    #[command(flatten)]
    pub(crate) nats: NatsArgs,

    /// Keep the read positions in FILE, written after each batch JetStream has acknowledged: a
    /// restarted ship resumes there.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,

    /// Stop when the inputs have nothing new (instead of following them until SIGINT/SIGTERM).
    #[arg(long)]
    pub(crate) once: bool,

    /// How often the inputs are checked for new data, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 250)]
    pub(crate) poll_ms: u64,

    /// The host of events that name none (web server access logs, most text logs): they are
    /// published under it, so they land in the same partition, and the same worker, as that
    /// host's other telemetry.
    #[arg(long, value_name = "NAME")]
    pub(crate) host: Option<String>,
}

/// Arguments of `shellward events`.
#[derive(Debug, ClapArgs)]
pub(crate) struct EventsArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,

    /// Keep only events of this log source: `product=windows`, `category=process_creation`,
    /// `service=sysmon`, or a bare name matching any of the three. Repeat to require several.
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) logsource: Vec<String>,

    /// Stop after N events.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<u64>,

    /// Also list files that were skipped because no decoder recognizes them.
    #[arg(long, short)]
    pub(crate) verbose: bool,
}
