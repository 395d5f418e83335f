//! `shellward.toml` in a hunt: found in the working directory or given with `--config`; what it
//! allowlists and suppresses is counted in the closing line and listed by
//! `--explain-suppressed`; a mistake stops the run at its line and column; the example file that
//! ships with the pack (the seeds' false positives) is valid with every entry enabled.

#![allow(clippy::unwrap_used)]

mod common;

use common::{repo, run_in, text};

fn attack() -> String {
    repo().join("rules/selftest/1_aspx_web_shell_iis.jsonl").display().to_string()
}

fn alerts(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_tuning_file_in_the_working_directory_allowlists_and_suppresses() {
    let dir = tempfile::tempdir().unwrap();
    let plain = run_in(dir.path(), &["hunt", "-f", "jsonl", &attack()]);
    assert_eq!(alerts(&text(&plain.stdout)).len(), 4);
    std::fs::write(
        dir.path().join("shellward.toml"),
        "[[allow]]\nrule = 'script_written_to_web_root'\npath = 'C:\\inetpub\\wwwroot\\argus_*'\nreason = 'the test shell'\n\
         [[suppress]]\nrule = 'Web Server Spawns A Command Shell'\nfields = ['CommandLine']\nwindow = '1h'\n",
    )
    .unwrap();
    let tuned = run_in(dir.path(), &["hunt", "-f", "jsonl", "--explain-suppressed", &attack()]);
    let stderr = text(&tuned.stderr);
    assert!(tuned.status.success(), "{stderr}");
    let found = alerts(&text(&tuned.stdout));
    let titles: Vec<&str> = found.iter().map(|a| a["rule"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Web Server Spawns A Command Shell", "Web Shell Deployed And Used"]);
    assert_eq!(found[0]["suppressed"]["count"], 2, "{}", found[0]);
    assert!(
        stderr.contains("2 alert(s), 1 allowlisted, 1 suppressed (shellward.toml)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("allowlisted by allow[1] (the test shell): 2026-11-02T09:14:03"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("suppressed into {}", found[0]["id"].as_str().unwrap())),
        "{stderr}"
    );
    // --no-config ignores it.
    let ignored = run_in(dir.path(), &["hunt", "-f", "jsonl", "--no-config", &attack()]);
    assert_eq!(alerts(&text(&ignored.stdout)).len(), 4);
}

#[test]
fn level_overrides_per_scope() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tune.toml");
    std::fs::write(
        &config,
        "[scopes]\nlab = ['WEB01*']\n[[level]]\nscope = 'lab'\ndetection_type = 'WebShell_ChildProcess'\nlevel = 'low'\n",
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &["hunt", "-f", "jsonl", "--config", config.to_str().unwrap(), &attack()],
    );
    let levels: Vec<String> = alerts(&text(&out.stdout))
        .iter()
        .filter(|a| a["rule"]["title"] == "Web Server Spawns A Command Shell")
        .map(|a| a["rule"]["level"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(levels, ["low", "low"]);
}

#[test]
fn a_broken_tuning_file_stops_the_run_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shellward.toml"), "[[level]]\nrule = 'x'\nlevel = 'severe'\n")
        .unwrap();
    let out = run_in(dir.path(), &["hunt", "-f", "jsonl", &attack()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("shellward.toml:3:9: \"severe\" is not a level"), "{stderr}");
    // A rule name nothing answers to is a warning, located.
    std::fs::write(
        dir.path().join("shellward.toml"),
        "[[allow]]\nrule = 'web_server_spawns_shel'\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["hunt", "-f", "jsonl", &attack()]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("shellward.toml:2:8: no rule has the id, name or title"),
        "{}",
        text(&out.stderr)
    );
}

/// The example shipped with the pack, every entry enabled: it loads, and every rule and detection
/// type it names exists.
#[test]
fn the_example_tuning_file_is_valid_with_every_entry_enabled() {
    let example = std::fs::read_to_string(repo().join("rules/shellward.example.toml")).unwrap();
    let enabled: String = example
        .lines()
        .map(|line| {
            let body = line.strip_prefix("# ").unwrap_or(line);
            let entry = body.starts_with('[')
                || body.split_once(" = ").is_some_and(|(key, _)| {
                    key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
            if entry && line.starts_with("# ") { body.to_owned() } else { line.to_owned() }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(enabled.matches("[[allow]]").count() >= 7, "{enabled}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shellward.toml"),
        enabled.replace("sigma = [\"filters/\"]", ""),
    )
    .unwrap();
    let out = run_in(dir.path(), &["hunt", "-f", "jsonl", &attack()]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("allowlisted"), "{stderr}");
}

/// `sigma = [...]` loads Sigma filter documents with the rules: here one that removes the shell
/// alerts whose command line is `whoami` (and so the correlation they complete).
#[test]
fn sigma_filters_named_by_the_tuning_file_apply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("filters")).unwrap();
    std::fs::write(
        dir.path().join("filters/whoami.yml"),
        "title: Not whoami\nlogsource:\n    product: windows\n    category: process_creation\nfilter:\n    rules:\n        - web_server_spawns_shell\n    selection:\n        CommandLine|endswith: 'whoami'\n    condition: not selection\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("shellward.toml"), "sigma = ['filters/']\n").unwrap();
    let out = run_in(dir.path(), &["hunt", "-f", "jsonl", &attack()]);
    let found = alerts(&text(&out.stdout));
    let titles: Vec<&str> = found.iter().map(|a| a["rule"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Server-Side Script Written To A Web Root"], "{}", text(&out.stderr));
}

/// A watch applies the same file to what it decides, batch after batch.
#[test]
fn a_watch_applies_the_tuning_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shellward.toml"),
        "[[suppress]]\nrule = 'Web Server Spawns A Command Shell'\nfields = ['CommandLine']\nwindow = '1h'\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shellward"))
        .current_dir(dir.path())
        .args(["watch", "-f", "jsonl", "-"])
        .stdin(std::fs::File::open(attack()).unwrap())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(alerts(&text(&out.stdout)).len(), 3, "{stderr}");
    assert!(stderr.contains("0 allowlisted, 1 suppressed (shellward.toml)"), "{stderr}");
}
