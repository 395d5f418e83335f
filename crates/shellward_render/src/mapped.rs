//! The product field mappings the decoders apply (`shellward_sources::mappings`, from
//! `mappings/edr.toml`), turned into the sources of the EDR targets: Defender tables for KQL,
//! Falcon event families for LogScale. One table is read by both sides, so a field the decoder
//! maps is a field the query has, computed the same way.
//!
//! Each decoder field spec becomes a [`Column`]: a copied field is the source column; a folder and
//! file name is the folder column (Defender's streamed `FolderPath` holds the whole path); an NT
//! device path is a [`Column::DevicePath`]; the first of two fields is [`Column::Either`]; a
//! template, a value table or a registry path is computed in a stage before the condition. A
//! category's source joins its entries: their event names or action types, and their fields (a
//! field the entries compute differently is chosen by action type).
//!
//! What the decoders leave to the hunt's process table (Falcon's parent and actor, named by id) is
//! added per target ([`falcon_lineage`]): the query joins the process events itself.

use crate::source::{Column, Source};
use shellward_sources::mappings::{Entry, FieldSpec, Tables, TemplatePart};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A string kept for the life of the process (the sources are built once).
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn leak_source(
    base: String,
    label: String,
    fields: Vec<(&'static str, Column)>,
) -> &'static Source {
    Box::leak(Box::new(Source {
        base: leak(base),
        label: leak(label),
        fields: Box::leak(fields.into_boxed_slice()),
        open: false,
    }))
}

/// The fields of `entries` in first-seen order, each with the specs the entries give it.
fn fields_of<'e>(entries: &[&'e Entry]) -> Vec<(&'static str, Vec<(&'e Entry, &'e FieldSpec)>)> {
    let mut out: Vec<(&'static str, Vec<(&Entry, &FieldSpec)>)> = Vec::new();
    for entry in entries {
        for (name, spec) in &entry.fields {
            match out.iter_mut().find(|(n, _)| n == name) {
                Some((_, specs)) => specs.push((entry, spec)),
                None => out.push((name, vec![(entry, spec)])),
            }
        }
    }
    out
}

/// The entries of a Sigma category (`registry_event`: every registry category, as Sigma's
/// umbrella for them).
fn of_category<'e>(entries: &'e [Entry], category: &str) -> Vec<&'e Entry> {
    entries
        .iter()
        .filter(|e| match (category, e.category) {
            ("registry_event", Some(c)) => c.starts_with("registry_"),
            (want, Some(c)) => c == want,
            _ => false,
        })
        .collect()
}

/// A column the spec reads directly, if it is one.
fn direct(spec: &FieldSpec) -> Option<Column> {
    Some(match spec {
        FieldSpec::Copy(c) | FieldSpec::Int(c) => Column::Name(leak(c.clone())),
        FieldSpec::Path { folder, .. } => Column::Name(leak(folder.clone())),
        FieldSpec::NtPath(c) => Column::DevicePath(leak(c.clone())),
        FieldSpec::First(names) => match names.as_slice() {
            [one] => Column::Name(leak(one.clone())),
            [a, b] => Column::Either(leak(a.clone()), leak(b.clone())),
            _ => return None,
        },
        _ => return None,
    })
}

/// One value table from several with the same source field (their pairs joined).
fn merged_map<'e>(specs: &[(&'e Entry, &'e FieldSpec)]) -> Option<(String, Vec<(String, String)>)> {
    let mut field = None;
    let mut values: Vec<(String, String)> = Vec::new();
    for (_, spec) in specs {
        let FieldSpec::Map { from, values: more } = spec else { return None };
        if field.get_or_insert(from) != &from {
            return None;
        }
        for pair in more {
            if !values.contains(pair) {
                values.push(pair.clone());
            }
        }
    }
    Some((field?.clone(), values))
}

/// Source values grouped by the taxonomy value they give, in first-seen order.
fn by_value(values: &[(String, String)]) -> Vec<(&str, Vec<&str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for (from, to) in values {
        match out.iter_mut().find(|(v, _)| v == to) {
            Some((_, froms)) => froms.push(from),
            None => out.push((to, vec![from])),
        }
    }
    out
}

// --- KQL: Microsoft Defender for Endpoint -------------------------------------------------------

/// A KQL string literal (verbatim when it holds a backslash, as paths do).
fn kql_text(text: &str) -> String {
    if text.contains('\\') && !text.contains('"') {
        format!("@\"{text}\"")
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `column == "a"` or `column in ("a", "b")`.
fn kql_among(column: &str, values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| kql_text(v)).collect();
    match quoted.as_slice() {
        [one] => format!("{column} == {one}"),
        _ => format!("{column} in ({})", quoted.join(", ")),
    }
}

/// A registry key with its hive in Sysmon's short form, and `\value` when there is a value name.
fn kql_registry(key: &str, value: &str) -> String {
    let mut key = key.to_owned();
    for (long, short) in [
        ("HKEY_LOCAL_MACHINE", "HKLM"),
        ("HKEY_USERS", "HKU"),
        ("HKEY_CURRENT_USER", "HKCU"),
        ("HKEY_CLASSES_ROOT", "HKCR"),
    ] {
        key = format!(r#"replace_regex({key}, @"(?i)^{long}(\\|$)", @"{short}\1")"#);
    }
    format!(r#"strcat({key}, iff(isempty({value}), "", strcat(@"\", {value})))"#)
}

/// The KQL expression of a spec.
fn kql_expression(spec: &FieldSpec) -> Option<String> {
    Some(match spec {
        FieldSpec::Copy(c) | FieldSpec::Int(c) | FieldSpec::Path { folder: c, .. } => c.clone(),
        FieldSpec::First(names) => match names.as_slice() {
            [one] => one.clone(),
            [a, b] => format!("iff(isnotempty({a}), {a}, {b})"),
            _ => return None,
        },
        FieldSpec::Template(parts) => {
            let parts: Vec<String> = parts
                .iter()
                .map(|part| match part {
                    TemplatePart::Text(text) => kql_text(text),
                    TemplatePart::Field(field) => field.clone(),
                })
                .collect();
            format!("strcat({})", parts.join(", "))
        }
        FieldSpec::Registry { key, value } => kql_registry(key, value),
        FieldSpec::Map { from, values } => kql_case(from, values),
        FieldSpec::NtPath(_) | FieldSpec::Data(_) | FieldSpec::Integrity(_) => return None,
    })
}

fn kql_case(from: &str, values: &[(String, String)]) -> String {
    let mut arms: Vec<String> = by_value(values)
        .into_iter()
        .map(|(to, froms)| format!("{}, {}", kql_among(from, &froms), kql_text(to)))
        .collect();
    arms.push("\"\"".into());
    format!("case({})", arms.join(", "))
}

/// How a Defender source provides one field its entries map.
fn kql_column(field: &'static str, specs: &[(&Entry, &FieldSpec)]) -> Option<Column> {
    let (_, first) = specs[0];
    let same = specs.iter().all(|(_, spec)| *spec == first);
    if same && let Some(column) = direct(first).filter(|c| !matches!(c, Column::DevicePath(_))) {
        return Some(column);
    }
    let expression = if same {
        kql_expression(first)?
    } else if let Some((from, values)) = merged_map(specs) {
        kql_case(&from, &values)
    } else {
        // Computed per action type: the entries giving the same expression together.
        let mut arms: Vec<(String, Vec<&str>)> = Vec::new();
        for (entry, spec) in specs {
            let expression = kql_expression(spec)?;
            let actions = entry.actions.iter().map(String::as_str);
            match arms.iter_mut().find(|(e, _)| *e == expression) {
                Some((_, all)) => all.extend(actions),
                None => arms.push((expression, actions.collect())),
            }
        }
        let mut parts: Vec<String> = arms
            .iter()
            .map(|(expression, actions)| {
                format!("{}, {expression}", kql_among("ActionType", actions))
            })
            .collect();
        parts.push("\"\"".into());
        format!("case({})", parts.join(", "))
    };
    Some(Column::Computed(leak(format!("extend {field} = {expression}"))))
}

/// The Defender table a rule of `category` reads, built from the mapping entries of that category
/// (`registry_event`: every registry entry).
fn defender_source(tables: &Tables, category: &str) -> Option<&'static Source> {
    let entries = of_category(&tables.defender, category);
    let table = entries.first()?.names.first()?.clone();
    if entries.iter().any(|e| e.names.first() != Some(&table)) {
        return None;
    }
    let mut actions: Vec<&str> = Vec::new();
    for entry in &entries {
        for action in &entry.actions {
            if !actions.contains(&action.as_str()) {
                actions.push(action);
            }
        }
    }
    let base = match actions.as_slice() {
        [] => table.clone(),
        _ => format!("{table}\n| where {}", kql_among("ActionType", &actions)),
    };
    let mut fields = Vec::new();
    for (field, specs) in fields_of(&entries) {
        fields.push((field, kql_column(field, &specs)?));
    }
    fields.push(("AncestorImage", defender_ancestors(category)));
    Some(leak_source(base, table, fields))
}

/// What the KQL of a Defender table computes for `AncestorImage`, which shellward's process
/// lineage fills with every ancestor: Defender's rows name two of them. A created process's are
/// its parent (`InitiatingProcessFolderPath`) and grandparent (`InitiatingProcessParentFileName`,
/// a name only, written after a separator so that `endswith "\\w3wp.exe"` holds); another
/// event's acting process has its parent's name in the row and its grandparent's path in the
/// parent's own `ProcessCreated` row, joined by device, process id and creation time.
fn defender_ancestors(category: &str) -> Column {
    const PARENT_NAME: &str = r#"strcat(iff(InitiatingProcessFolderPath startswith "/", "/", "\\"), InitiatingProcessParentFileName)"#;
    static PROCESS: OnceLock<&'static str> = OnceLock::new();
    static OTHER: OnceLock<&'static str> = OnceLock::new();
    if category == "process_creation" {
        let stage =
            PROCESS.get_or_init(|| leak(format!("extend shellward_ancestor2 = {PARENT_NAME}")));
        return Column::ComputedEither(stage, "InitiatingProcessFolderPath", "shellward_ancestor2");
    }
    let stage = OTHER.get_or_init(|| {
        leak(format!(
            "join kind=leftouter (DeviceProcessEvents\n    | where ActionType == \"ProcessCreated\"\n    \
             | project DeviceId, InitiatingProcessParentId = ProcessId, InitiatingProcessParentCreationTime = ProcessCreationTime, shellward_ancestor2 = InitiatingProcessFolderPath)\n    \
             on DeviceId, InitiatingProcessParentId, InitiatingProcessParentCreationTime\n\
             | extend shellward_ancestor1 = {PARENT_NAME}"
        ))
    });
    Column::ComputedEither(stage, "shellward_ancestor1", "shellward_ancestor2")
}

/// The Defender source of each Sigma category the mapping gives one to.
pub(crate) fn defender(category: &str) -> Option<&'static Source> {
    static SOURCES: OnceLock<BTreeMap<&'static str, &'static Source>> = OnceLock::new();
    let sources = SOURCES.get_or_init(|| {
        let tables = Tables::get();
        let mut categories: Vec<&'static str> =
            tables.defender.iter().filter_map(|e| e.category).collect();
        categories.push("registry_event");
        categories.into_iter().filter_map(|c| defender_source(tables, c).map(|s| (c, s))).collect()
    });
    sources.get(category).copied()
}

// --- LogScale: CrowdStrike Falcon ---------------------------------------------------------------

/// The tag every Falcon event carries its name in.
const EVENT_NAME: &str = "event_simpleName";

/// A LogScale field as a query names it (the event name is a tag).
fn cql_field(name: &str) -> String {
    if name == EVENT_NAME { format!("#{name}") } else { name.to_owned() }
}

/// A LogScale string literal.
fn cql_text(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The filter selecting events named by `names` (`*Suffix` by suffix).
fn cql_names(names: &[&str]) -> String {
    match names {
        [one] if one.starts_with('*') => format!("#{EVENT_NAME}=/{}$/", &one[1..]),
        [one] => format!("#{EVENT_NAME}={one}"),
        _ => {
            let names: Vec<String> = names
                .iter()
                .map(|n| match n.strip_prefix('*') {
                    Some(suffix) => format!(".*{suffix}"),
                    None => (*n).to_owned(),
                })
                .collect();
            format!("#{EVENT_NAME}=/^(?:{})$/", names.join("|"))
        }
    }
}

/// The LogScale stage computing `field` from `spec`.
fn cql_stage(field: &str, spec: &FieldSpec) -> Option<String> {
    Some(match spec {
        FieldSpec::Template(parts) => {
            let mut format = String::new();
            let mut fields = Vec::new();
            for part in parts {
                match part {
                    TemplatePart::Text(text) => format.push_str(
                        &text.replace('\\', "\\\\").replace('"', "\\\"").replace('%', "%%"),
                    ),
                    TemplatePart::Field(name) => {
                        format.push_str("%s");
                        fields.push(cql_field(name));
                    }
                }
            }
            format!("format(\"{format}\", field=[{}], as={field})", fields.join(", "))
        }
        FieldSpec::Registry { key, value } => format!(
            r#"{field} := {key}
| replace(regex="(?i)^\\\\REGISTRY\\\\MACHINE\\\\", with="HKLM\\", field={field})
| replace(regex="(?i)^\\\\REGISTRY\\\\USER\\\\", with="HKU\\", field={field})
| case {{ {value}=/./ | format("%s\\%s", field=[{field}, {value}], as={field}); * }}"#
        ),
        FieldSpec::Map { from, values } => {
            let groups = by_value(values);
            if let [(to, _)] = groups.as_slice()
                && from == EVENT_NAME
            {
                // Every event of the source gives the same value.
                return Some(format!("{field} := {}", cql_text(to)));
            }
            let mut arms: Vec<String> = groups
                .into_iter()
                .map(|(to, froms)| {
                    let test = match froms.as_slice() {
                        [one] => format!("{}={}", cql_field(from), cql_text(one)),
                        _ => format!("{}=/^(?:{})$/", cql_field(from), froms.join("|")),
                    };
                    format!("{test} | {field} := {}", cql_text(to))
                })
                .collect();
            arms.push("*".into());
            format!("case {{ {} }}", arms.join("; "))
        }
        _ => return None,
    })
}

/// How a Falcon source provides one field its entries map.
fn cql_column(field: &'static str, specs: &[(&Entry, &FieldSpec)]) -> Option<Column> {
    let (_, first) = specs[0];
    if specs.iter().all(|(_, spec)| *spec == first) {
        if let Some(column) = direct(first) {
            return Some(column);
        }
        return Some(Column::Computed(leak(cql_stage(field, first)?)));
    }
    let (from, values) = merged_map(specs)?;
    Some(Column::Computed(leak(cql_stage(field, &FieldSpec::Map { from, values })?)))
}

/// What a LogScale query joins itself where the decoders leave Falcon's processes to the hunt's
/// process table: the parent of a process (its file name as `ParentImage`, as the decoder writes it
/// before the table names it in full; its command line from its own ProcessRollup2), and the
/// acting process of other events (`Image`, from its ProcessRollup2).
fn falcon_lineage(category: &str, separator: char) -> Vec<(&'static str, Column)> {
    const PARENT_COMMAND_LINE: &str = "join({#event_simpleName=ProcessRollup2 | rename(field=CommandLine, as=ParentCommandLine)}, field=[aid, ParentProcessId], key=[aid, TargetProcessId], include=[ParentCommandLine], mode=left)";
    const ACTOR_IMAGE: &str = r#"join({#event_simpleName=ProcessRollup2 | rename(field=ImageFileName, as=Image)}, field=[aid, ContextProcessId], key=[aid, TargetProcessId], include=[Image], mode=left)
| replace(regex="(?i)^\\\\Device\\\\HarddiskVolume[0-9]+\\\\", with="C:\\", field=Image)"#;
    const PARENT_IMAGE_WIN: &str = r#"format("\\%s", field=[ParentBaseFileName], as=ParentImage)"#;
    const PARENT_IMAGE_POSIX: &str = r#"format("/%s", field=[ParentBaseFileName], as=ParentImage)"#;
    if category == "process_creation" {
        let (parent, ancestors) = if separator == '\\' {
            (PARENT_IMAGE_WIN, ANCESTORS_PROCESS_WIN)
        } else {
            (PARENT_IMAGE_POSIX, ANCESTORS_PROCESS_POSIX)
        };
        vec![
            ("ParentImage", Column::Computed(parent)),
            ("ParentCommandLine", Column::Computed(PARENT_COMMAND_LINE)),
            (
                "AncestorImage",
                Column::ComputedEither(ancestors, "ParentImage", "shellward_ancestor2"),
            ),
        ]
    } else {
        let ancestors = if separator == '\\' { ANCESTORS_ACTOR_WIN } else { ANCESTORS_ACTOR_POSIX };
        vec![
            ("Image", Column::Computed(ACTOR_IMAGE)),
            (
                "AncestorImage",
                Column::ComputedEither(ancestors, "shellward_ancestor1", "shellward_ancestor2"),
            ),
        ]
    }
}

/// `AncestorImage` of a created process: its parent and grandparent (the base names
/// ProcessRollup2 carries; `GrandParentBaseFileName` in newer sensors' events).
const ANCESTORS_PROCESS_WIN: &str = r#"format("\\%s", field=[ParentBaseFileName], as=ParentImage)
| format("\\%s", field=[GrandParentBaseFileName], as=shellward_ancestor2)"#;
const ANCESTORS_PROCESS_POSIX: &str = r#"format("/%s", field=[ParentBaseFileName], as=ParentImage)
| format("/%s", field=[GrandParentBaseFileName], as=shellward_ancestor2)"#;
/// `AncestorImage` of an acting process: the parent and grandparent its own ProcessRollup2 names.
const ANCESTORS_ACTOR_WIN: &str = r#"join({#event_simpleName=ProcessRollup2 | rename(field=ParentBaseFileName, as=shellward_parent) | rename(field=GrandParentBaseFileName, as=shellward_grandparent)}, field=[aid, ContextProcessId], key=[aid, TargetProcessId], include=[shellward_parent, shellward_grandparent], mode=left)
| format("\\%s", field=[shellward_parent], as=shellward_ancestor1)
| format("\\%s", field=[shellward_grandparent], as=shellward_ancestor2)"#;
const ANCESTORS_ACTOR_POSIX: &str = r#"join({#event_simpleName=ProcessRollup2 | rename(field=ParentBaseFileName, as=shellward_parent) | rename(field=GrandParentBaseFileName, as=shellward_grandparent)}, field=[aid, ContextProcessId], key=[aid, TargetProcessId], include=[shellward_parent, shellward_grandparent], mode=left)
| format("/%s", field=[shellward_parent], as=shellward_ancestor1)
| format("/%s", field=[shellward_grandparent], as=shellward_ancestor2)"#;

/// The Falcon events a rule of `category` on `product` (a Sigma product, or any) reads.
fn falcon_source(
    tables: &Tables,
    category: &str,
    product: Option<&str>,
) -> Option<&'static Source> {
    let entries = of_category(&tables.falcon, category);
    if entries.is_empty() {
        return None;
    }
    let names: Vec<&str> =
        entries.iter().flat_map(|e| e.names.iter().map(String::as_str)).collect();
    let mut base = cql_names(&names);
    if let Some(product) = product {
        let (platform, _) = tables.platforms.iter().find(|(_, p)| *p == product)?;
        base.push_str(&format!(" event_platform={platform}"));
    }
    let mut fields = Vec::new();
    for (field, specs) in fields_of(&entries) {
        fields.push((field, cql_column(field, &specs)?));
    }
    let separator = if product.is_none_or(|p| p == "windows") { '\\' } else { '/' };
    for (field, column) in falcon_lineage(category, separator) {
        if !fields.iter().any(|(f, _)| *f == field) {
            fields.push((field, column));
        }
    }
    Some(leak_source(base, format!("{} events", names.join("/")), fields))
}

/// The Falcon source of a Sigma category, for one product (`None`: any).
pub(crate) fn falcon(category: &str, product: Option<&str>) -> Option<&'static Source> {
    type Key = (String, Option<String>);
    static SOURCES: OnceLock<std::sync::Mutex<BTreeMap<Key, Option<&'static Source>>>> =
        OnceLock::new();
    let sources = SOURCES.get_or_init(Default::default);
    let mut sources = sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = (category.to_owned(), product.map(str::to_owned));
    *sources.entry(key).or_insert_with(|| falcon_source(Tables::get(), category, product))
}
