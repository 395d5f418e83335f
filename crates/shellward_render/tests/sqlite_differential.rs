//! The lowering proved: every rule rendered to SQLite, run with rusqlite over a table of the same
//! normalized events the engine sees, selects exactly the events the engine's reference evaluator
//! matches. Rules the target refuses (a `cidr` test) are counted, never compared.
//!
//! Rules and events: the built-in pack with its scenarios, the attack tests and the samples; and,
//! where `../shared` is present, SigmaHQ's Windows rules over its regression events.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use regex::Regex;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use shellward_engine::RuleSet;
use shellward_event::{Event, Value};
use shellward_render::sqlite;
use shellward_sources::{ReadOptions, collect};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(paths: &[PathBuf]) -> Vec<Event> {
    collect(paths, &ReadOptions::with_threads(2)).events
}

/// An in-memory database holding `events` (ids are their indexes), with REGEXP.
fn database(events: &[Event]) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(sqlite::SCHEMA).unwrap();
    db.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let regex: Arc<Regex> = ctx.get_or_create_aux(0, |pattern| {
                Regex::new(pattern.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))
            })?;
            let text = ctx.get_raw(1).as_str().unwrap_or("");
            Ok(regex.is_match(text))
        },
    )
    .unwrap();
    let tx = db.unchecked_transaction().unwrap();
    {
        let mut event_row = tx.prepare("INSERT INTO events VALUES (?1, ?2, ?3, ?4)").unwrap();
        let mut field_row = tx.prepare("INSERT INTO fields VALUES (?1, ?2, ?3, ?4)").unwrap();
        for (id, event) in events.iter().enumerate() {
            let ls = &event.logsource;
            event_row.execute((id as i64, ls.product, ls.category, ls.service)).unwrap();
            for (name, value) in event.fields() {
                let elements: Vec<&Value> = match value {
                    Value::List(items) if !items.is_empty() => items.iter().collect(),
                    other => vec![other],
                };
                for element in elements {
                    let text = match element {
                        Value::Null | Value::List(_) => None,
                        other => Some(other.as_text().into_owned()),
                    };
                    field_row.execute((id as i64, name, text, number(element))).unwrap();
                }
            }
        }
    }
    tx.commit().unwrap();
    db
}

/// A value as a number, as the engine's comparisons read it.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Renders and runs every rule; returns (compared, refused) and pushes each disagreement.
fn compare(set: &RuleSet, events: &[Event], failures: &mut Vec<String>) -> (usize, usize) {
    let db = database(events);
    let (mut compared, mut refused) = (0, 0);
    for rule in set.rules() {
        let sql = match sqlite::render(rule) {
            Ok(sql) => sql,
            Err(_) => {
                refused += 1;
                continue;
            }
        };
        let mut statement = match db.prepare(&sql) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{}: SQL does not prepare ({e}): {sql}", rule.info.title));
                continue;
            }
        };
        let got: BTreeSet<usize> = statement
            .query_map([], |row| row.get::<_, i64>(0))
            .unwrap()
            .map(|id| id.unwrap() as usize)
            .collect();
        let want: BTreeSet<usize> =
            events.iter().enumerate().filter(|(_, e)| rule.matches(e)).map(|(i, _)| i).collect();
        if got != want {
            let only_sql: Vec<_> = got.difference(&want).take(3).collect();
            let only_engine: Vec<_> = want.difference(&got).take(3).collect();
            failures.push(format!(
                "{} ({}): SQL only {only_sql:?}, engine only {only_engine:?}\n  {sql}",
                rule.info.title, rule.info.origin
            ));
        }
        compared += 1;
    }
    (compared, refused)
}

fn compile(paths: &[PathBuf]) -> RuleSet {
    let loaded = shellward_sigma::load_paths(paths);
    RuleSet::compile(&loaded).0
}

#[test]
fn the_pack_in_sqlite_matches_what_the_engine_matches() {
    let rules = repo().join("rules");
    let set = compile(std::slice::from_ref(&rules));
    let events = read(&[rules, repo().join("samples")]);
    assert!(events.len() > 100, "{} events", events.len());
    let mut failures = Vec::new();
    let (compared, refused) = compare(&set, &events, &mut failures);
    eprintln!("pack: {compared} rules compared over {} events, {refused} refused", events.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= set.len() - 2, "{compared} of {} rendered", set.len());
}

#[test]
fn sigmahq_windows_rules_in_sqlite_match_what_the_engine_matches() {
    let Some(sigmahq) = shellward_testdata::shared("data/sigmahq") else { return };
    let set = compile(&[sigmahq.join("rules/windows")]);
    let events = read(&[sigmahq.join("regression_data")]);
    assert!(events.len() > 100, "{} events", events.len());
    let mut failures = Vec::new();
    let (compared, refused) = compare(&set, &events, &mut failures);
    eprintln!("sigmahq: {compared} rules compared over {} events, {refused} refused", events.len());
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    assert!(compared > 2000, "{compared} rendered");
}
