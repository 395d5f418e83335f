//! The scan itself: files walked in order, read and matched on every core, findings handed on
//! as they are made (in walk order per batch, so output is deterministic).

use crate::content::{ContentMatch, ContentRules};
use crate::finding::{Finding, file_event};
use crate::inventory;
use crate::walk::{FileEntry, Walked, walk};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use shellward_engine::{Level, RuleInfo};
use shellward_event::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files larger than this are reported (a finding at `low`) and not read.
    pub max_size: u64,
    /// The host named in findings.
    pub host: Option<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { max_size: 16 << 20, host: None }
    }
}

/// What a scan went through.
#[derive(Debug, Default, Clone)]
pub struct ScanReport {
    /// Files looked at (their entries).
    pub files: u64,
    /// Files read and matched.
    pub read: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Paths that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// A file read and matched: its SHA-256, its size and the rules that matched, or why it could not
/// be read.
type Matched = Result<(String, u64, Vec<ContentMatch>), String>;

/// Files matched per batch (a batch is read in parallel, its findings handed on in walk order).
const BATCH: usize = 512;

/// The rules of what the walk itself finds (not content).
fn walk_rule(
    id: &str,
    title: &str,
    level: Level,
    description: &str,
    technique: &str,
) -> Arc<RuleInfo> {
    Arc::new(RuleInfo {
        id: Some(id.into()),
        name: Some(id.into()),
        title: title.into(),
        level,
        status: None,
        tags: vec!["attack.persistence".into(), format!("attack.{technique}")],
        detection_type: Some("WebRoot_Integrity".into()),
        first_seen: None,
        description: Some(description.into()),
        author: Some("shellward".into()),
        references: Vec::new(),
        falsepositives: Vec::new(),
        logsource: shellward_engine::RuleLogSource {
            product: None,
            category: Some("file_scan".into()),
            service: None,
        },
        origin: "builtin:scan".into(),
        line: 0,
    })
}

/// Scans `roots` with `rules`, handing each finding to `found` (in walk order).
pub fn scan(
    roots: &[PathBuf],
    rules: &ContentRules,
    options: &ScanOptions,
    mut found: impl FnMut(Finding),
) -> ScanReport {
    let escape = walk_rule(
        "shellward-scan-symlink-escape",
        "Symbolic Link Out Of A Scanned Root",
        Level::Medium,
        "A link under a web root pointing outside it: a page served through it reads (or runs) files the server should not expose.",
        "t1505.003",
    );
    let too_large = walk_rule(
        "shellward-scan-too-large",
        "Script File Too Large To Scan",
        Level::Low,
        "A script file over the size limit was not read (raise --max-size to scan it).",
        "t1505.003",
    );
    let component_rules = ComponentRules::new();
    let mut report = ScanReport::default();
    let mut batch: Vec<FileEntry> = Vec::with_capacity(BATCH);
    let host = options.host.as_deref();
    let flush = |batch: &mut Vec<FileEntry>,
                 report: &mut ScanReport,
                 found: &mut dyn FnMut(Finding)| {
        let results: Vec<(FileEntry, Matched)> = batch
            .par_drain(..)
            .map_init(
                || rules.scanner(),
                |scanner, file| {
                    let result =
                        std::fs::read(&file.path).map_err(|e| e.to_string()).and_then(|data| {
                            let sha = hex(&Sha256::digest(&data));
                            let matches = scanner.scan(&file.path, &data, file.script)?;
                            Ok((sha, data.len() as u64, matches))
                        });
                    (file, result)
                },
            )
            .collect();
        for (file, result) in results {
            match result {
                Ok((sha, bytes, matches)) => {
                    report.read += 1;
                    report.bytes += bytes;
                    for hit in matches {
                        let mut event = file_event(&file, host, Some(&sha));
                        let names: Vec<Value> =
                            hit.patterns.iter().map(|(id, _)| Value::Str(id.clone())).collect();
                        let texts: Vec<Value> =
                            hit.patterns.iter().map(|(_, text)| Value::Str(text.clone())).collect();
                        event.insert(
                            "YaraRule",
                            Value::Str(hit.info.name.clone().unwrap_or_default()),
                        );
                        event.insert("YaraPatterns", Value::List(names));
                        event.insert("YaraMatches", Value::List(texts));
                        found(Finding { event: Arc::new(event), rule: Arc::clone(&hit.info) });
                    }
                }
                Err(reason) => report.unreadable.push((file.path, reason)),
            }
        }
    };
    walk(roots, |walked| match walked {
        Walked::File(file) => {
            report.files += 1;
            if inventory::is_config(&file.path) && file.size <= options.max_size {
                match std::fs::read(&file.path) {
                    Ok(bytes) => {
                        let text = String::from_utf8_lossy(&bytes);
                        for component in inventory::components(&file.path, &text) {
                            if let Some(why) = inventory::suspicious(&component, &file.path) {
                                let mut event = file_event(&file, host, None);
                                event.provenance.record = component.line;
                                event.insert("ComponentType", Value::Str(component.kind.into()));
                                event.insert("ComponentName", Value::Str(component.name.clone()));
                                event.insert("ComponentPath", Value::Str(component.path.clone()));
                                event.insert("Reason", Value::Str(why.into()));
                                let rule = component_rules.get(component.kind);
                                found(Finding { event: Arc::new(event), rule });
                            }
                        }
                    }
                    Err(e) => report.unreadable.push((file.path.clone(), e.to_string())),
                }
            }
            if !file.script && !rules.reads_any_file() {
                return;
            }
            if file.size > options.max_size {
                if file.script {
                    found(Finding {
                        event: Arc::new(file_event(&file, host, None)),
                        rule: Arc::clone(&too_large),
                    });
                }
                return;
            }
            batch.push(file);
            if batch.len() >= BATCH {
                flush(&mut batch, &mut report, &mut found);
            }
        }
        Walked::Escape { link, target } => {
            let mut event = file_event(
                &FileEntry {
                    path: link,
                    size: 0,
                    modified: None,
                    changed: None,
                    owner: None,
                    script: false,
                },
                host,
                None,
            );
            event.insert("LinkTarget", Value::Str(target.display().to_string()));
            found(Finding { event: Arc::new(event), rule: Arc::clone(&escape) });
        }
        Walked::Unreadable { path, reason } => report.unreadable.push((path, reason)),
    });
    flush(&mut batch, &mut report, &mut found);
    report
}

/// The rules of the inventories' checks, one per kind of component.
struct ComponentRules {
    iis: Arc<RuleInfo>,
    exchange: Arc<RuleInfo>,
    php: Arc<RuleInfo>,
    module: Arc<RuleInfo>,
}

impl ComponentRules {
    fn new() -> Self {
        ComponentRules {
            iis: walk_rule(
                "shellward-scan-iis-module-location",
                "IIS Native Module Or ISAPI Filter Outside The Server's Directories",
                Level::High,
                "applicationHost.config loads a native module or ISAPI filter from outside inetsrv, the .NET Framework and Program Files: how IIS backdoors (T1505.004) persist in every worker process.",
                "t1505.004",
            ),
            exchange: walk_rule(
                "shellward-scan-exchange-agent-location",
                "Exchange Transport Agent Outside The Exchange Installation",
                Level::High,
                "agents.config registers a transport agent whose assembly lies outside the Exchange installation (a temp, user, public or ProgramData folder): a mail-flow backdoor (T1505.002).",
                "t1505.002",
            ),
            php: walk_rule(
                "shellward-scan-php-prepend",
                "PHP File Prepended Or Appended To Every Page",
                Level::High,
                "auto_prepend_file or auto_append_file set in a web root (.user.ini, .htaccess) or to a file in a temp or upload folder: code run before or after every page, a web shell no request names.",
                "t1505.003",
            ),
            module: walk_rule(
                "shellward-scan-web-server-module-location",
                "Web Server Module Loaded From Outside Its Module Directories",
                Level::High,
                "LoadModule (Apache) or load_module (nginx) names a module outside the distribution's module directories: a malicious server module (T1505.004) sees every request.",
                "t1505.004",
            ),
        }
    }

    fn get(&self, kind: &str) -> Arc<RuleInfo> {
        Arc::clone(match kind {
            "iis_module" | "isapi_filter" => &self.iis,
            "exchange_agent" => &self.exchange,
            "php_prepend" => &self.php,
            _ => &self.module,
        })
    }
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
