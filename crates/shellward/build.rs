//! Embeds the built-in rule pack (`rules/**/*.yml` at the repository root) in the binary.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rules = manifest.join("../../rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    let mut files = Vec::new();
    collect(&rules, &mut files);
    files.sort();
    let mut code = String::from(
        "/// The built-in rules: (path inside `rules/`, YAML text).\npub(crate) static BUILTIN_RULES: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let name = file.strip_prefix(&rules).unwrap_or(file).to_string_lossy().replace('\\', "/");
        let _ = writeln!(code, "    ({name:?}, include_str!({:?})),", file.display().to_string());
    }
    code.push_str("];\n");
    println!("cargo:rustc-env=SHELLWARD_PACK={}", pack_version(&files));
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("builtin_rules.rs");
    if let Err(error) = std::fs::write(&out, code) {
        panic!("cannot write {}: {error}", out.display());
    }
}

/// `built-in pack <newest rule date>+<hash of the texts>: N rules, M correlations`.
fn pack_version(files: &[PathBuf]) -> String {
    let (mut rules, mut correlations, mut newest) = (0, 0, String::new());
    let mut hash: u32 = 0x811c_9dc5;
    for file in files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for byte in text.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        for document in text.split("\n---") {
            let starts = |key: &str| document.lines().any(|l| l.starts_with(key));
            if !starts("title:") || starts("filter:") {
                continue;
            }
            if starts("correlation:") {
                correlations += 1;
            } else {
                rules += 1;
            }
            for line in document.lines() {
                if let Some(date) =
                    line.strip_prefix("date:").or_else(|| line.strip_prefix("modified:"))
                {
                    let date = date.trim().trim_matches(['\'', '"']).replace('/', "-");
                    if date > newest {
                        newest = date;
                    }
                }
            }
        }
    }
    format!("built-in pack {newest}+{hash:08x}: {rules} rules, {correlations} correlations")
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            files.push(path);
        }
    }
}
