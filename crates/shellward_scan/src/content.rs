//! YARA content rules: the built-in web shell set and any the user adds, compiled once
//! ([`ContentRules`]) and run on each file's bytes.
//!
//! # Metadata
//!
//! A rule says what it is with `meta:` entries, all optional:
//!
//! | key | meaning |
//! |---|---|
//! | `title`, `description`, `author`, `reference` | shown in alerts and `rules` listings |
//! | `level` | `informational` … `critical`; else from signature-base's `score` (80 and up: high, 60 and up: medium, below: low); else `high` |
//! | `attack` | ATT&CK tags, comma separated (`attack.persistence, attack.t1505.003`) |
//! | `scope` | `script` (the default: files with a server-side script extension) or `any` (every file: content that lies about its extension) |
//! | `id` | a stable id for the rule (else `yara:NAMESPACE:IDENTIFIER`) |
//!
//! Rules that cannot be compiled are diagnostics naming their file, and the others still run; a
//! rule importing a module this build leaves out (`pe`, `elf`, ...) is skipped with a warning.

use shellward_engine::{Level, RuleInfo};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// YARA source text with where it came from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// The file (or `builtin:NAME`), for diagnostics and the rules' origin.
    pub origin: String,
    /// The rules.
    pub text: String,
}

/// The built-in web shell rules, embedded at build time (`rules/yara/`).
const BUILTIN: &[(&str, &str)] = &[
    ("php_request_eval.yar", include_str!("../../../rules/yara/php_request_eval.yar")),
    ("php_obfuscated_eval.yar", include_str!("../../../rules/yara/php_obfuscated_eval.yar")),
    ("php_command_exec.yar", include_str!("../../../rules/yara/php_command_exec.yar")),
    ("asp_request_execute.yar", include_str!("../../../rules/yara/asp_request_execute.yar")),
    ("asp_shell_objects.yar", include_str!("../../../rules/yara/asp_shell_objects.yar")),
    ("asp_dropper.yar", include_str!("../../../rules/yara/asp_dropper.yar")),
    ("asp_dynamic_execute.yar", include_str!("../../../rules/yara/asp_dynamic_execute.yar")),
    ("aspx_file_manager.yar", include_str!("../../../rules/yara/aspx_file_manager.yar")),
    ("aspx_process_start.yar", include_str!("../../../rules/yara/aspx_process_start.yar")),
    ("aspx_dynamic_code.yar", include_str!("../../../rules/yara/aspx_dynamic_code.yar")),
    ("jsp_runtime_exec.yar", include_str!("../../../rules/yara/jsp_runtime_exec.yar")),
    ("jsp_file_manager.yar", include_str!("../../../rules/yara/jsp_file_manager.yar")),
    ("jsp_class_loader.yar", include_str!("../../../rules/yara/jsp_class_loader.yar")),
    ("china_chopper.yar", include_str!("../../../rules/yara/china_chopper.yar")),
    ("web_tunnel.yar", include_str!("../../../rules/yara/web_tunnel.yar")),
    ("web_db_browser.yar", include_str!("../../../rules/yara/web_db_browser.yar")),
    ("cfm_shell.yar", include_str!("../../../rules/yara/cfm_shell.yar")),
    ("script_in_image.yar", include_str!("../../../rules/yara/script_in_image.yar")),
];

/// The built-in rules as sources.
pub fn builtin() -> Vec<RuleSource> {
    BUILTIN
        .iter()
        .map(|(name, text)| RuleSource { origin: format!("builtin:{name}"), text: (*text).into() })
        .collect()
}

/// The YARA files under `path` (a file, or a directory walked for `.yar` and `.yara`), read.
pub fn read_sources(path: &Path) -> Result<Vec<RuleSource>, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    if path.is_dir() {
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|e| e.to_string())?;
            let yara = entry.path().extension().is_some_and(|e| e == "yar" || e == "yara");
            if entry.file_type().is_file() && yara {
                files.push(entry.into_path());
            }
        }
    } else {
        files.push(path.to_owned());
    }
    files
        .into_iter()
        .map(|file| {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            Ok(RuleSource {
                origin: file.display().to_string(),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            })
        })
        .collect()
}

/// One compiled rule's description.
#[derive(Debug)]
struct Described {
    info: Arc<RuleInfo>,
    any_file: bool,
}

/// The compiled rules and what each says of itself.
pub struct ContentRules {
    rules: yara_x::Rules,
    described: HashMap<(String, String), Described>,
    /// Whether some rule reads every file, not only scripts.
    any_file: bool,
}

impl std::fmt::Debug for ContentRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentRules").field("rules", &self.described.len()).finish()
    }
}

/// A rule that matched a file.
#[derive(Debug, Clone)]
pub struct ContentMatch {
    /// The rule.
    pub info: Arc<RuleInfo>,
    /// The identifiers of the patterns that matched, each with the first matching text (cut).
    pub patterns: Vec<(String, String)>,
}

/// External variables every rule may read: set for each file scanned.
const GLOBALS: [&str; 5] = ["filename", "filepath", "extension", "filetype", "owner"];

/// The most bytes of a matching pattern's text kept for the alert.
const EXCERPT: usize = 120;

impl ContentRules {
    /// Compiles `sources`, each in a namespace of its own (so two files may use one rule name);
    /// returns the rules and a diagnostic per file that could not be compiled (or warned).
    pub fn compile(sources: &[RuleSource]) -> (ContentRules, Vec<String>) {
        let mut compiler = yara_x::Compiler::new();
        for module in ["pe", "elf", "dotnet", "macho", "dex", "lnk", "cuckoo", "magic", "vt"] {
            compiler.ignore_module(module);
        }
        compiler.relaxed_re_syntax(true);
        // What THOR- and signature-base-style rules read of the file besides its bytes.
        for name in GLOBALS {
            let _ = compiler.define_global(name, "");
        }
        let mut diagnostics = Vec::new();
        let mut origins: HashMap<String, String> = HashMap::new();
        for (n, source) in sources.iter().enumerate() {
            let namespace = format!("r{n}");
            compiler.new_namespace(&namespace);
            let code = yara_x::SourceCode::from(source.text.as_str()).with_origin(&source.origin);
            if let Err(error) = compiler.add_source(code) {
                diagnostics.push(format!("{}: {error}", source.origin));
            }
            origins.insert(namespace, source.origin.clone());
        }
        for warning in compiler.warnings() {
            let text = warning.to_string();
            if text.contains("ignored") || text.contains("module") {
                diagnostics.push(first_line(&text));
            }
        }
        let rules = compiler.build();
        let mut described = HashMap::new();
        let mut any_file = false;
        for rule in rules.iter() {
            let origin = origins.get(rule.namespace()).cloned().unwrap_or_default();
            let (info, any) = describe(&rule, origin);
            any_file |= any;
            described.insert(
                (rule.namespace().to_owned(), rule.identifier().to_owned()),
                Described { info: Arc::new(info), any_file: any },
            );
        }
        (ContentRules { rules, described, any_file }, diagnostics)
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.described.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.described.is_empty()
    }

    /// Whether some rule reads files that are not scripts.
    pub fn reads_any_file(&self) -> bool {
        self.any_file
    }

    /// Every rule's description, in no particular order.
    pub fn infos(&self) -> impl Iterator<Item = &Arc<RuleInfo>> {
        self.described.values().map(|d| &d.info)
    }

    /// A scanner for one worker.
    pub fn scanner(&self) -> Scanner<'_> {
        let mut scanner = yara_x::Scanner::new(&self.rules);
        scanner.set_timeout(std::time::Duration::from_secs(10));
        Scanner { rules: self, scanner }
    }
}

/// A worker's scanner (YARA scanners are reused: creating one costs more than most scans).
pub struct Scanner<'r> {
    rules: &'r ContentRules,
    scanner: yara_x::Scanner<'r>,
}

impl Scanner<'_> {
    /// The rules matching `data`, the content of `path`; `script` says whether the file is a
    /// script (else only rules of scope `any` count).
    pub fn scan(
        &mut self,
        path: &Path,
        data: &[u8],
        script: bool,
    ) -> Result<Vec<ContentMatch>, String> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let extension =
            path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        for (global, value) in [
            ("filename", name.as_str()),
            ("filepath", &*path.to_string_lossy()),
            ("extension", extension.as_str()),
        ] {
            let _ = self.scanner.set_global(global, value);
        }
        let results = self.scanner.scan(data).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for rule in results.matching_rules() {
            let key = (rule.namespace().to_owned(), rule.identifier().to_owned());
            let Some(described) = self.rules.described.get(&key) else { continue };
            if !script && !described.any_file {
                continue;
            }
            let mut patterns = Vec::new();
            for pattern in rule.patterns() {
                if let Some(first) = pattern.matches().next() {
                    let bytes = first.data();
                    let cut = &bytes[..bytes.len().min(EXCERPT)];
                    patterns.push((
                        pattern.identifier().to_owned(),
                        String::from_utf8_lossy(cut).into_owned(),
                    ));
                }
            }
            out.push(ContentMatch { info: Arc::clone(&described.info), patterns });
        }
        Ok(out)
    }
}

fn first_line(text: &str) -> String {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_owned()
}

/// A rule's [`RuleInfo`] from its metadata, and whether it reads every file.
fn describe(rule: &yara_x::Rule<'_, '_>, origin: String) -> (RuleInfo, bool) {
    let mut meta: HashMap<String, String> = HashMap::new();
    let mut score = None;
    for (key, value) in rule.metadata() {
        let text = match value {
            yara_x::MetaValue::String(s) => s.to_owned(),
            yara_x::MetaValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            yara_x::MetaValue::Integer(i) => {
                if key == "score" {
                    score = Some(i);
                }
                i.to_string()
            }
            yara_x::MetaValue::Float(f) => f.to_string(),
            yara_x::MetaValue::Bool(b) => b.to_string(),
        };
        meta.entry(key.to_owned()).or_insert(text);
    }
    let level = match meta.get("level").and_then(|l| l.parse::<Level>().ok()) {
        Some(level) => level,
        None => match score.or_else(|| meta.get("score").and_then(|s| s.parse().ok())) {
            Some(s) if s >= 80 => Level::High,
            Some(s) if s >= 60 => Level::Medium,
            Some(_) => Level::Low,
            None => Level::High,
        },
    };
    let mut tags: Vec<String> = meta
        .get("attack")
        .map(|a| a.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect())
        .unwrap_or_default();
    if tags.is_empty() {
        tags = vec!["attack.persistence".into(), "attack.t1505.003".into()];
    }
    let identifier = rule.identifier().to_owned();
    let id = meta
        .get("id")
        .cloned()
        .unwrap_or_else(|| format!("yara:{}:{identifier}", origin_name(&origin)));
    let any_file = meta.get("scope").is_some_and(|s| s.eq_ignore_ascii_case("any"));
    let info = RuleInfo {
        id: Some(id),
        name: Some(identifier.clone()),
        title: meta.get("title").cloned().unwrap_or(identifier),
        level,
        status: None,
        tags,
        detection_type: Some("WebShell_File".into()),
        first_seen: None,
        description: meta.get("description").cloned(),
        author: meta.get("author").cloned(),
        references: meta.get("reference").into_iter().cloned().collect(),
        falsepositives: meta.get("falsepositives").into_iter().cloned().collect(),
        investigation: Vec::new(),
        response: Vec::new(),
        fields: Vec::new(),
        logsource: shellward_engine::RuleLogSource {
            product: None,
            category: Some("file_scan".into()),
            service: None,
        },
        origin,
        line: 0,
    };
    (info, any_file)
}

/// The file name of an origin (`builtin:x.yar`, `/path/to/x.yar`), for rule ids.
fn origin_name(origin: &str) -> &str {
    let name = origin.rsplit(['/', '\\', ':']).next().unwrap_or(origin);
    name.strip_suffix(".yara").or_else(|| name.strip_suffix(".yar")).unwrap_or(name)
}
