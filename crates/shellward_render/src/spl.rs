//! SPL for Splunk over Windows event logs collected as XML (`XmlWinEventLog`).
//!
//! The base search names the index, the sourcetype of the channel and, for Sysmon categories,
//! the EventCode, as the Splunk seed does (`index=wineventlog
//! sourcetype="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1`). Fields keep
//! their event data names; the add-on's renames are applied (`EventID` is `EventCode`, the
//! provider is `SourceName`, the channel `LogName`, the computer `ComputerName`).
//!
//! A rule prints as search terms (`Image="*\\cmd.exe"`, `IN (...)`, `NOT`, `F=*`) when every test
//! is one Splunk's search can state exactly: case-insensitive, `*` as the only wildcard. Otherwise
//! (`?`, a literal `*`, `|cased`, `|re`, `|fieldref`, keywords, `n of`) the condition is an `eval`
//! expression after `| where`, with regular expressions (PCRE) for the patterns; each value test
//! there first checks the field exists, so `NOT` of a test on an absent field holds, as in Sigma.
//! A search selecting several rules ([`crate::combine`], [`crate::correlation`]) ORs each rule's
//! search clause as a prefilter and tells the rules apart with their `eval` form in `case(...)`.

use crate::RenderError;
use crate::pattern::{self, Shape};
use crate::source::{Column, Field, Source, no_source, plain_name};
use crate::tree::{self, Dialect};
use shellward_engine::{CompiledRule, GlobUnit, Query, RefPosition, RuleLogSource, ValueTest};

pub(crate) const TARGET: &str = "spl";
/// The marker of a test search terms cannot state (the eval form is used instead).
const SEARCH: &str = "spl search terms";

/// The SPL search selecting the events `rule` matches.
pub fn render(rule: &CompiledRule) -> Result<String, RenderError> {
    let base = format!("{INDEX} {}", base(rule.logsource())?.terms());
    let query = crate::server::lowered(rule);
    Ok(match search_terms(&query)? {
        Some(terms) => format!("{base} {terms}"),
        None => {
            let condition = tree::print(&mut Eval, &query)?;
            format!("{base}{}\n| where {condition}", stages(&condition))
        }
    })
}

/// `AncestorImage`, which shellward's process lineage fills with every ancestor, as the two
/// ancestors Sysmon's process creations name: the acting (or created) process's own creation
/// event gives its parent's image and id, the parent's creation event its grandparent's image.
/// Both are joined by subsearch (Splunk's subsearch limits apply), and the field is the
/// multivalue of the two, tested with `mvfind` (any value).
pub const ANCESTRY_STAGE: &str = "| join type=left max=1 ProcessGuid [search index=wineventlog sourcetype=\"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational\" EventCode=1 | rename ParentImage AS shellward_ancestor1, ParentProcessGuid AS shellward_parent_guid | fields ProcessGuid, shellward_ancestor1, shellward_parent_guid]
| join type=left max=1 shellward_parent_guid [search index=wineventlog sourcetype=\"XmlWinEventLog:Microsoft-Windows-Sysmon/Operational\" EventCode=1 | rename ProcessGuid AS shellward_parent_guid, ParentImage AS shellward_ancestor2 | fields shellward_parent_guid, shellward_ancestor2]
| eval AncestorImage=mvappend(shellward_ancestor1, shellward_ancestor2)";

/// The field [`ANCESTRY_STAGE`] computes.
const ANCESTORS: &str = "AncestorImage";

/// The stages an `eval` condition needs before it: [`ANCESTRY_STAGE`] (on a line of its own,
/// after a newline) when it tests the ancestors.
pub(crate) fn stages(condition: &str) -> String {
    if condition.contains(ANCESTORS) { format!("\n{ANCESTRY_STAGE}") } else { String::new() }
}

/// A rule's events as a search clause (`(sourcetype=... EventCode=... terms)`; the terms left out
/// when search cannot state the condition) and as an `eval` expression stating it exactly: what
/// a search selecting several rules' events ORs and what its `case(...)` tells apart.
pub(crate) fn selection(rule: &CompiledRule) -> Result<(String, String), RenderError> {
    let base = base(rule.logsource())?;
    let query = crate::server::lowered(rule);
    let condition = tree::print(&mut Eval, &query)?;
    let search = match search_terms(&query)? {
        Some(terms) => format!("({} {terms})", base.terms()),
        None => format!("({})", base.terms()),
    };
    Ok((search, format!("({} AND {condition})", base.eval())))
}

/// The condition as search terms; `None` when search cannot state it exactly.
fn search_terms(query: &Query) -> Result<Option<String>, RenderError> {
    match tree::print(&mut Search, query) {
        Ok(terms) => Ok(Some(terms)),
        Err(RenderError::Unsupported { target: SEARCH, .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A double-quoted string: `\` and `"` escaped; control characters other than tab refused.
pub(crate) fn literal(text: &str) -> Result<String, RenderError> {
    crate::quote::double_quoted(text, TARGET, &[('\t', "\t")])
}

/// A Sigma field's name in the events (the add-on's renames applied), if SPL can print it bare.
pub(crate) fn field_name(field: &str) -> Result<String, RenderError> {
    if field == ANCESTORS {
        return Ok(field.to_owned());
    }
    if shellward_engine::lineage::ANCESTOR_FIELDS.contains(&field) {
        let what =
            format!("the field {field} (shellward's process lineage, not in Splunk's events)");
        return Err(RenderError::unsupported(TARGET, what));
    }
    let name = match FIELDS.field(TARGET, field)? {
        Field::Name(name) => name,
        _ => return Err(RenderError::unsupported(TARGET, format!("the field {field}"))),
    };
    if !plain_name(&name) {
        return Err(RenderError::unsupported(TARGET, format!("the field name {name:?}")));
    }
    Ok(name)
}

/// A field search terms can test: not the ancestors, which are joined after the search.
fn search_field(field: &str) -> Result<String, RenderError> {
    if field == ANCESTORS {
        return Err(not_search("the ancestors (joined after the search)"));
    }
    field_name(field)
}

fn not_search(what: &str) -> RenderError {
    RenderError::unsupported(SEARCH, what)
}

/// Search terms.
struct Search;

impl Search {
    /// A wildcard value as search states it: `*` wildcards, text escaped. A `?` or a literal `*`,
    /// which search cannot state, is the [`SEARCH`] error (the eval form is used instead).
    fn value(units: &[GlobUnit]) -> Result<String, RenderError> {
        let mut text = String::new();
        for unit in units {
            match unit {
                GlobUnit::AnyChars => text.push('*'),
                GlobUnit::OneChar => return Err(not_search("`?`")),
                GlobUnit::Text(t) if t.contains('*') => return Err(not_search("a literal `*`")),
                GlobUnit::Text(t) => text.push_str(t),
            }
        }
        // A quoted search value also reads `\*` as a literal `*`; `\` before anything else stays.
        let quoted = literal(&text).map_err(|_| not_search("a control character"))?;
        Ok(quoted)
    }
}

impl Dialect for Search {
    const AND: &'static str = " AND ";
    const OR: &'static str = " OR ";
    const NOT: &'static str = "NOT ";

    fn constant(&mut self, _: bool) -> Result<String, RenderError> {
        Err(not_search("a constant"))
    }

    fn at_least(&mut self, _: usize, _: Vec<String>) -> Result<String, RenderError> {
        Err(not_search("n of"))
    }

    fn exists(&mut self, field: &str, present: bool) -> Result<String, RenderError> {
        let name = search_field(field)?;
        Ok(if present { format!("{name}=*") } else { format!("NOT {name}=*") })
    }

    fn values(
        &mut self,
        field: Option<&str>,
        tests: &[&ValueTest],
    ) -> Result<Vec<String>, RenderError> {
        let field = field.ok_or_else(|| not_search("a keyword"))?;
        let name = search_field(field)?;
        let mut exact = Vec::new();
        let mut out = Vec::new();
        for test in tests {
            match test {
                ValueTest::Glob { units, cased: false } => {
                    let value = Search::value(units)?;
                    if matches!(pattern::shape(units), Shape::Exact(_)) {
                        exact.push(value);
                    } else {
                        out.push(format!("{name}={value}"));
                    }
                }
                ValueTest::Cidr(network) => out.push(format!("{name}={}", literal(network)?)),
                ValueTest::Compare { ordering, or_equal, value } => out.push(format!(
                    "{name}{}{}",
                    tree::comparison(*ordering, *or_equal, "="),
                    tree::number(*value, TARGET).map_err(|_| not_search("a number"))?
                )),
                _ => return Err(not_search("a cased, regex or fieldref test")),
            }
        }
        match exact.len() {
            0 => {}
            1 => out.insert(0, format!("{name}={}", exact[0])),
            _ => out.insert(0, format!("{name} IN ({})", exact.join(", "))),
        }
        Ok(out)
    }
}

/// `eval` expressions.
struct Eval;

impl Dialect for Eval {
    const AND: &'static str = " AND ";
    const OR: &'static str = " OR ";
    const NOT: &'static str = "NOT ";

    fn constant(&mut self, value: bool) -> Result<String, RenderError> {
        Ok(if value { "true()" } else { "false()" }.to_owned())
    }

    fn at_least(&mut self, n: usize, parts: Vec<String>) -> Result<String, RenderError> {
        let counted: Vec<String> = parts.into_iter().map(|p| format!("if({p}, 1, 0)")).collect();
        Ok(format!("({}) >= {n}", counted.join(" + ")))
    }

    fn exists(&mut self, field: &str, present: bool) -> Result<String, RenderError> {
        let name = field_name(field)?;
        Ok(if present { format!("isnotnull({name})") } else { format!("isnull({name})") })
    }

    fn values(
        &mut self,
        field: Option<&str>,
        tests: &[&ValueTest],
    ) -> Result<Vec<String>, RenderError> {
        let name = match field {
            Some(field) => field_name(field)?,
            None => "_raw".to_owned(),
        };
        // Wildcard patterns of one field share one regular expression (one per case mode).
        let mut alternatives: [Vec<String>; 2] = [Vec::new(), Vec::new()];
        let mut out = Vec::new();
        for test in tests {
            match test {
                ValueTest::Glob { units, cased } => {
                    let regex = match (field, pattern::shape(units)) {
                        (None, Shape::Contains(text)) => pattern::escape(&text, &[]),
                        (None, _) => {
                            return Err(RenderError::unsupported(
                                TARGET,
                                "a keyword that is not a substring",
                            ));
                        }
                        (Some(_), _) => pattern::regex(units, &[]),
                    };
                    alternatives[usize::from(*cased)].push(regex);
                }
                ValueTest::Regex(regex) => out.push(matches(&name, &literal(regex)?)),
                ValueTest::Cidr(network) => {
                    out.push(format!("cidrmatch({}, {name})", literal(network)?))
                }
                ValueTest::Compare { ordering, or_equal, value } => out.push(format!(
                    "tonumber({name}) {} {}",
                    tree::comparison(*ordering, *or_equal, "=="),
                    tree::number(*value, TARGET)?
                )),
                ValueTest::FieldRef { other, position, cased } => {
                    let other = field_name(other)?;
                    let (a, b) = if *cased {
                        (name.clone(), other.clone())
                    } else {
                        (format!("lower({name})"), format!("lower({other})"))
                    };
                    let test = match position {
                        RefPosition::Whole => format!("{a}=={b}"),
                        RefPosition::Start => format!("substr({a}, 1, len({b}))=={b}"),
                        RefPosition::End => {
                            format!(
                                "(len({b})==0 OR (len({a})>=len({b}) AND substr({a}, len({a})-len({b})+1)=={b}))"
                            )
                        }
                        RefPosition::Contains => {
                            format!("(len({b})==0 OR mvcount(split({a}, {b}))>1)")
                        }
                    };
                    out.push(format!("(isnotnull({other}) AND {test})"));
                }
            }
        }
        for (cased, list) in alternatives.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let flags = if cased == 1 { "" } else { "(?i)" };
            let regex = format!("{flags}{}", pattern::alternation(&list));
            out.insert(0, matches(&name, &literal(&regex)?));
        }
        // A test of an absent field is false (not null), so that NOT of it holds.
        Ok(out.into_iter().map(|t| format!("(isnotnull({name}) AND {t})")).collect())
    }
}

/// A regular expression test of a field: `match`, or for the ancestors (a multivalue field)
/// `mvfind`, which holds when any value matches.
fn matches(name: &str, regex: &str) -> String {
    if name == ANCESTORS {
        format!("isnotnull(mvfind({name}, {regex}))")
    } else {
        format!("match({name}, {regex})")
    }
}

/// The event data fields, with the renames the Splunk Add-on for Windows applies to XML events;
/// any other field keeps its name.
static FIELDS: Source = Source {
    base: "",
    label: "XmlWinEventLog",
    fields: &[
        ("EventID", Column::Name("EventCode")),
        ("Provider_Name", Column::Name("SourceName")),
        ("Channel", Column::Name("LogName")),
        ("Computer", Column::Name("ComputerName")),
    ],
    open: true,
};

/// The events of one log source: a channel's sourcetype and, for Sysmon categories, EventCodes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Base {
    /// `XmlWinEventLog:<channel>`.
    pub(crate) sourcetype: &'static str,
    /// The EventCodes (any when empty).
    pub(crate) codes: &'static [u16],
}

impl Base {
    /// As search terms (without the index).
    pub(crate) fn terms(&self) -> String {
        let mut out = format!("sourcetype=\"{}\"", self.sourcetype);
        match self.codes {
            [] => {}
            [one] => out.push_str(&format!(" EventCode={one}")),
            many => {
                let list: Vec<String> = many.iter().map(u16::to_string).collect();
                out.push_str(&format!(" EventCode IN ({})", list.join(", ")));
            }
        }
        out
    }

    /// As an `eval` expression.
    pub(crate) fn eval(&self) -> String {
        let mut out = format!("sourcetype==\"{}\"", self.sourcetype);
        match self.codes {
            [] => {}
            [one] => out.push_str(&format!(" AND EventCode==\"{one}\"")),
            many => {
                let list: Vec<String> = many.iter().map(|c| format!("\"{c}\"")).collect();
                out.push_str(&format!(" AND in(EventCode, {})", list.join(", ")));
            }
        }
        out
    }
}

/// The index every base search reads (the seed's).
pub const INDEX: &str = "index=wineventlog";

const SYSMON: &str = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational";

/// The events a rule's log source reads.
fn base(logsource: &RuleLogSource) -> Result<Base, RenderError> {
    if !matches!(logsource.product.as_deref(), None | Some("windows")) {
        return Err(no_source(TARGET, logsource));
    }
    let sysmon = |codes: &'static [u16]| Base { sourcetype: SYSMON, codes };
    let channel = |name: &'static str, codes: &'static [u16]| Base { sourcetype: name, codes };
    let by_category = match logsource.category.as_deref() {
        None => None,
        Some(category) => Some(match category {
            "process_creation" => sysmon(&[1]),
            "network_connection" => sysmon(&[3]),
            "process_termination" => sysmon(&[5]),
            "driver_load" => sysmon(&[6]),
            "image_load" => sysmon(&[7]),
            "create_remote_thread" => sysmon(&[8]),
            "process_access" => sysmon(&[10]),
            "file_event" => sysmon(&[11]),
            "registry_add" | "registry_delete" => sysmon(&[12]),
            "registry_set" => sysmon(&[13]),
            "registry_rename" => sysmon(&[14]),
            "registry_event" => sysmon(&[12, 13, 14]),
            "create_stream_hash" => sysmon(&[15]),
            "pipe_created" => sysmon(&[17, 18]),
            "wmi_event" => sysmon(&[19, 20, 21]),
            "dns_query" => sysmon(&[22]),
            "file_delete" => sysmon(&[23, 26]),
            "process_tampering" => sysmon(&[25]),
            "ps_script" => {
                channel("XmlWinEventLog:Microsoft-Windows-PowerShell/Operational", &[4104])
            }
            "ps_module" => {
                channel("XmlWinEventLog:Microsoft-Windows-PowerShell/Operational", &[4103])
            }
            _ => return Err(no_source(TARGET, logsource)),
        }),
    };
    let by_service = match logsource.service.as_deref() {
        None => None,
        Some(service) => Some(match service {
            "sysmon" => sysmon(&[]),
            "security" => channel("XmlWinEventLog:Security", &[]),
            "application" => channel("XmlWinEventLog:Application", &[]),
            "system" => channel("XmlWinEventLog:System", &[]),
            "powershell" => channel("XmlWinEventLog:Microsoft-Windows-PowerShell/Operational", &[]),
            "powershell-classic" => channel("XmlWinEventLog:Windows PowerShell", &[]),
            "msexchange-management" => channel("XmlWinEventLog:MSExchange Management", &[]),
            "iis-configuration" => {
                channel("XmlWinEventLog:Microsoft-IIS-Configuration/Operational", &[])
            }
            _ => return Err(no_source(TARGET, logsource)),
        }),
    };
    match (by_category, by_service) {
        (Some(base), None) => Ok(base),
        (Some(base), Some(service)) if service.sourcetype == SYSMON => Ok(base),
        (None, Some(base)) => Ok(base),
        _ => Err(no_source(TARGET, logsource)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_cannot_end_early() {
        assert_eq!(literal(r#"a"b\c|d"#).unwrap(), r#""a\"b\\c|d""#);
        assert!(literal("x\ny").is_err());
    }
}
