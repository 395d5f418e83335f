//! The scan itself: files walked in order, read, hashed and matched on every core, findings
//! handed on as they are made (in walk order per batch, so output is deterministic).

use crate::baseline::{
    Baseline, ComponentRecord, Drift, FileRecord, drift, in_upload_folder, timestomped,
};
use crate::content::{ContentMatch, ContentRules, Scanner};
use crate::finding::{Finding, file_event};
use crate::inventory::{self, Component};
use crate::rules::ScanRules;
use crate::walk::{FileEntry, Walked, walk};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use shellward_engine::RuleInfo;
use shellward_event::{Event, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Files larger than this are not matched (a script is reported at `low`); a baseline still
    /// hashes them, streaming.
    pub max_size: u64,
    /// The host named in findings.
    pub host: Option<String>,
    /// Hash every file and record it for a baseline (otherwise only scripts, and files a rule
    /// reads whatever their extension, are read).
    pub record: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { max_size: 16 << 20, host: None, record: false }
    }
}

/// What a scan went through.
#[derive(Debug, Default, Clone)]
pub struct ScanReport {
    /// Files looked at (their entries).
    pub files: u64,
    /// Files read.
    pub read: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Paths that could not be read, with why.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Every file read, when recording (`ScanOptions::record`).
    pub recorded: Vec<FileRecord>,
    /// Every component the inventories listed.
    pub components: Vec<ComponentRecord>,
}

/// A file read: its SHA-256, its size and the rules that matched, or why it could not be read.
type Matched = Result<(String, u64, Vec<ContentMatch>), String>;

/// Files matched per batch (a batch is read in parallel, its findings handed on in walk order).
const BATCH: usize = 512;

/// Scans `roots` with `rules`, handing each finding to `found` (in walk order) and the report so
/// far to `progress` after each batch.
pub fn scan(
    roots: &[PathBuf],
    rules: &ContentRules,
    options: &ScanOptions,
    mut found: impl FnMut(Finding),
    mut progress: impl FnMut(&ScanReport),
) -> ScanReport {
    let scan_rules = ScanRules::new();
    let mut report = ScanReport::default();
    let mut batch: Vec<FileEntry> = Vec::with_capacity(BATCH);
    let host = options.host.as_deref();
    let finding = |event: Event, rule: &Arc<RuleInfo>| Finding {
        event: Arc::new(event),
        rule: Arc::clone(rule),
    };
    let flush = |batch: &mut Vec<FileEntry>,
                 report: &mut ScanReport,
                 found: &mut dyn FnMut(Finding)| {
        let results: Vec<(FileEntry, Matched)> = batch
            .par_drain(..)
            .map_init(
                || rules.scanner(),
                |scanner, file| {
                    let result = read_and_match(scanner, &file, rules, options.max_size);
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
                        found(finding(event, &hit.info));
                    }
                    if options.record {
                        report.recorded.push(FileRecord::new(&file, sha));
                    }
                }
                Err(reason) => {
                    if options.record {
                        report.recorded.push(FileRecord::new(&file, String::new()));
                    }
                    report.unreadable.push((file.path, reason));
                }
            }
        }
    };
    walk(roots, |walked| match walked {
        Walked::File(file) => {
            report.files += 1;
            if let Some(app) = inventory::deployed(&file.path) {
                report.components.push(ComponentRecord::new(&app, &file.path));
            }
            if inventory::is_config(&file.path) && file.size <= options.max_size {
                match std::fs::read(&file.path) {
                    Ok(bytes) => {
                        let text = String::from_utf8_lossy(&bytes);
                        for component in inventory::components(&file.path, &text) {
                            report.components.push(ComponentRecord::new(&component, &file.path));
                            if let Some(why) = inventory::suspicious(&component, &file.path) {
                                let event = component_event(&file, host, &component, why);
                                found(finding(event, &scan_rules.component(component.kind)));
                            }
                        }
                    }
                    Err(e) => report.unreadable.push((file.path.clone(), e.to_string())),
                }
            }
            let matched = file.script || rules.reads_any_file();
            if file.script && file.size > options.max_size {
                found(finding(file_event(&file, host, None), &scan_rules.too_large));
            }
            if !(matched || options.record) {
                return;
            }
            batch.push(file);
            if batch.len() >= BATCH {
                flush(&mut batch, &mut report, &mut found);
                progress(&report);
            }
        }
        Walked::Escape { link, target } => {
            let entry = FileEntry {
                path: link,
                size: 0,
                modified_ns: None,
                changed_ns: None,
                owner: None,
                script: false,
            };
            let mut event = file_event(&entry, host, None);
            event.insert("LinkTarget", Value::Str(target.display().to_string()));
            found(finding(event, &scan_rules.escape));
        }
        Walked::Unreadable { path, reason } => report.unreadable.push((path, reason)),
    });
    flush(&mut batch, &mut report, &mut found);
    progress(&report);
    report
}

/// Reads a file, hashes it and runs the content rules on it when it is one they read and not over
/// the size limit (a larger file is hashed streaming, not matched).
fn read_and_match(
    scanner: &mut Scanner<'_>,
    file: &FileEntry,
    rules: &ContentRules,
    max_size: u64,
) -> Matched {
    let error = |e: std::io::Error| e.to_string();
    if file.size > max_size {
        let mut hasher = Sha256::new();
        let mut reader = std::fs::File::open(&file.path).map_err(error)?;
        let mut buffer = vec![0; 1 << 16];
        let mut total = 0;
        loop {
            let n = reader.read(&mut buffer).map_err(error)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            total += n as u64;
        }
        return Ok((hex(&hasher.finalize()), total, Vec::new()));
    }
    let data = std::fs::read(&file.path).map_err(error)?;
    let sha = hex(&Sha256::digest(&data));
    let matches = if file.script || rules.reads_any_file() {
        scanner.scan(&file.path, &data, file.script)?
    } else {
        Vec::new()
    };
    Ok((sha, data.len() as u64, matches))
}

/// The event of a component a configuration file names.
fn component_event(
    config: &FileEntry,
    host: Option<&str>,
    component: &Component,
    why: &str,
) -> Event {
    let mut event = file_event(config, host, None);
    event.provenance.record = component.line;
    event.insert("ComponentType", Value::Str(component.kind.into()));
    event.insert("ComponentName", Value::Str(component.name.clone()));
    event.insert("ComponentPath", Value::Str(component.path.clone()));
    event.insert("Reason", Value::Str(why.into()));
    event
}

/// The findings of what drifted from `before` to `now` (see [`crate::baseline`]).
pub fn drift_findings(before: &Baseline, now: &Baseline) -> Vec<Finding> {
    let rules = ScanRules::new().drift;
    let host = now.host.as_deref();
    let file = |record: &FileRecord, rule: &Arc<RuleInfo>, was: Option<&FileRecord>| {
        let sha = (!record.sha256.is_empty()).then_some(record.sha256.as_str());
        let mut event = file_event(&record.entry(), host, sha);
        if let Some(was) = was {
            event.insert("BaselineSha256", Value::Str(was.sha256.clone()));
            event.insert("BaselineSize", Value::Int(i64::try_from(was.size).unwrap_or(i64::MAX)));
        }
        Finding { event: Arc::new(event), rule: Arc::clone(rule) }
    };
    let component = |record: &ComponentRecord, rule: &Arc<RuleInfo>, was: Option<&str>| {
        let config = FileRecord {
            path: record.config.clone(),
            size: 0,
            mtime_ns: None,
            ctime_ns: None,
            sha256: String::new(),
            owner: None,
        };
        let mut event = file_event(&config.entry(), host, None);
        event.provenance.record = record.line;
        event.insert("ComponentType", Value::Str(record.kind.clone()));
        event.insert("ComponentName", Value::Str(record.name.clone()));
        event.insert("ComponentPath", Value::Str(record.path.clone()));
        if let Some(was) = was {
            event.insert("BaselineComponentPath", Value::Str(was.into()));
        }
        Finding { event: Arc::new(event), rule: Arc::clone(rule) }
    };
    let script = |path: &str| crate::walk::is_script(Path::new(path));
    let mut out = Vec::new();
    for change in drift(before, now) {
        match &change {
            Drift::NewFile(now_file) if script(&now_file.path) => {
                let rule = if in_upload_folder(&now_file.path) {
                    &rules.new_in_upload
                } else {
                    &rules.new_script
                };
                out.push(file(now_file, rule, None));
                if timestomped(None, now_file, before.created_ns) {
                    out.push(file(now_file, &rules.timestomp, None));
                }
            }
            Drift::ChangedFile { before: was, now: now_file } if script(&now_file.path) => {
                out.push(file(now_file, &rules.changed_script, Some(was)));
                if timestomped(Some(was), now_file, before.created_ns) {
                    out.push(file(now_file, &rules.timestomp, Some(was)));
                }
            }
            Drift::RemovedFile(was) if script(&was.path) => {
                out.push(file(was, &rules.removed_script, None));
            }
            Drift::NewComponent(c) => {
                let rule = if c.kind == "tomcat_webapp" {
                    &rules.new_webapp
                } else {
                    &rules.new_component
                };
                out.push(component(c, rule, None));
            }
            Drift::ChangedComponent { before: was, now: c } => {
                out.push(component(c, &rules.changed_component, Some(&was.path)));
            }
            Drift::RemovedComponent(c) => out.push(component(c, &rules.removed_component, None)),
            Drift::NewFile(now_file) if in_upload_folder(&now_file.path) => {
                out.push(file(now_file, &rules.new_upload_file, None));
            }
            Drift::NewFile(_) | Drift::ChangedFile { .. } | Drift::RemovedFile(_) => {}
        }
    }
    out
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
