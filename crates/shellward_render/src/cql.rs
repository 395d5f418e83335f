//! CQL for CrowdStrike LogScale (Next-Gen SIEM) over Falcon events.
//!
//! Events and fields follow the Falcon mapping the decoder reads (`mappings/edr.toml` in
//! shellward_sources): ProcessRollup2 for process creation, the `*Written` events for files
//! (NewScriptWritten, NewExecutableWritten, PeFileWritten, WebScriptFileWritten...), the registry
//! value updates (RegGenericValueUpdate, AsepValueUpdate...), NetworkConnectIP4/6 and
//! NetworkReceiveAcceptIP4/6, DnsRequest. pySigma's Falcon pipeline maps none of file, registry or
//! network-by-direction-less rules; these do.
//!
//! Falcon names a process's parent by id and base name only. `ParentImage` is the base name after
//! a path separator (`\w3wp.exe`), as the decoder writes it for a parent it never saw, so
//! `ParentImage|endswith: '\w3wp.exe'` holds; `ParentCommandLine` is joined from the parent's
//! ProcessRollup2 (`join(..., mode=left)`). Paths are NT device paths: a rule's `C:\` becomes
//! `\Device\HarddiskVolume<n>\`, which is how the decoder reads every volume.
//!
//! Every text test is a regular expression (`Field=/.../i`; LogScale's `=` is case-sensitive),
//! with `/` escaped, so no value can end it early; a field's alternatives share one expression.

use crate::RenderError;
use crate::pattern::{self, Shape};
use crate::source::{Field, Source, Stages, no_source};
use crate::tree::{self, Dialect, joined};
use shellward_engine::{CompiledRule, RefPosition, RuleLogSource, ValueTest};

pub(crate) const TARGET: &str = "cql";

/// The LogScale query selecting the events `rule` matches.
pub fn render(rule: &CompiledRule) -> Result<String, RenderError> {
    let source = source(rule.logsource())?;
    let mut cql = Cql { source, stages: Stages::default() };
    let condition = tree::print(&mut cql, &crate::server::lowered(rule))?;
    Ok(cql.stages.pipeline(source.base, &condition))
}

/// A double-quoted string: `\` and `"` escaped; control characters refused.
pub(crate) fn literal(text: &str) -> Result<String, RenderError> {
    crate::quote::double_quoted(text, TARGET, &[])
}

/// A regular expression between slashes: unescaped `/` escaped, control characters written as
/// `\x{..}`, so the expression cannot end early.
pub(crate) fn slashed(regex: &str) -> String {
    let mut out = String::with_capacity(regex.len() + 2);
    out.push('/');
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                match chars.next() {
                    Some(next) if next.is_control() => {
                        out.pop();
                        out.push_str(&format!("\\x{{{:x}}}", next as u32));
                    }
                    Some(next) => out.push(next),
                    None => out.push('\\'),
                }
            }
            '/' => out.push_str("\\/"),
            c if c.is_control() => out.push_str(&format!("\\x{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('/');
    out
}

/// The regex prefix a Sigma `C:` stands for in a device path column.
const VOLUME: &str = r"\\Device\\HarddiskVolume[0-9]+";

struct Cql {
    source: &'static Source,
    stages: Stages,
}

impl Cql {
    fn columns(&mut self, field: &str) -> Result<Vec<(String, bool)>, RenderError> {
        Ok(match self.source.field(TARGET, field)? {
            Field::Name(name) => vec![(name, false)],
            Field::Computed { name, stage } => {
                self.stages.add(stage);
                vec![(name.to_owned(), false)]
            }
            Field::DevicePath(name) => vec![(name.to_owned(), true)],
            Field::Either(a, b) => vec![(a.to_owned(), false), (b.to_owned(), false)],
            Field::ComputedEither { stage, columns: (a, b) } => {
                self.stages.add(stage);
                vec![(a.to_owned(), false), (b.to_owned(), false)]
            }
        })
    }
}

/// A wildcard pattern as a regex for a column; in a device path column a leading `C:` stands for
/// any volume.
fn glob_regex(units: &[shellward_engine::GlobUnit], device: bool) -> String {
    use shellward_engine::GlobUnit;
    let units = pattern::normalized(units);
    if let (true, Some(GlobUnit::Text(first))) = (device, units.first())
        && first.get(..2).is_some_and(|d| d.eq_ignore_ascii_case("c:"))
    {
        let mut rest = units.clone();
        rest[0] = GlobUnit::Text(first[2..].to_owned());
        let regex = pattern::regex(&rest, &['/']);
        let (flags, body) = match regex.strip_prefix("(?s)") {
            Some(body) => ("(?s)", body),
            None => ("", regex.as_str()),
        };
        let body = body.strip_prefix('^').unwrap_or(body);
        return format!("{flags}^{VOLUME}{body}");
    }
    pattern::regex(&units, &['/'])
}

impl Dialect for Cql {
    const AND: &'static str = " and ";
    const OR: &'static str = " or ";
    const NOT: &'static str = "not ";

    fn constant(&mut self, value: bool) -> Result<String, RenderError> {
        Ok(if value { "test(true)" } else { "test(false)" }.to_owned())
    }

    fn at_least(&mut self, _: usize, _: Vec<String>) -> Result<String, RenderError> {
        Err(RenderError::unsupported(TARGET, "`n of` a selection (other than 1 or all)"))
    }

    fn exists(&mut self, field: &str, present: bool) -> Result<String, RenderError> {
        let columns = self.columns(field)?;
        Ok(if present {
            joined(columns.iter().map(|(c, _)| format!("{c}=*")).collect(), " or ")
        } else {
            joined(columns.iter().map(|(c, _)| format!("{c}!=*")).collect(), " and ")
        })
    }

    fn values(
        &mut self,
        field: Option<&str>,
        tests: &[&ValueTest],
    ) -> Result<Vec<String>, RenderError> {
        let columns = match field {
            Some(field) => self.columns(field)?,
            // A bare regular expression searches the raw event.
            None => vec![(String::new(), false)],
        };
        let mut out = Vec::new();
        for (column, device) in columns {
            let prefix = if column.is_empty() { String::new() } else { format!("{column}=") };
            let mut alternatives: [Vec<String>; 2] = [Vec::new(), Vec::new()];
            for test in tests {
                match test {
                    ValueTest::Glob { units, cased } => {
                        let regex = match (column.is_empty(), pattern::shape(units)) {
                            (true, Shape::Contains(text)) => pattern::escape(&text, &['/']),
                            (true, _) => {
                                return Err(RenderError::unsupported(
                                    TARGET,
                                    "a keyword that is not a substring",
                                ));
                            }
                            (false, _) => glob_regex(units, device),
                        };
                        alternatives[usize::from(*cased)].push(regex);
                    }
                    ValueTest::Regex(_) if device => {
                        return Err(RenderError::unsupported(
                            TARGET,
                            format!(
                                "a regular expression on {column}, which holds NT device paths"
                            ),
                        ));
                    }
                    ValueTest::Regex(regex) => out.push(format!("{prefix}{}", slashed(regex))),
                    ValueTest::Cidr(network) if !column.is_empty() => {
                        out.push(format!("cidr({column}, subnet={})", literal(network)?))
                    }
                    ValueTest::Compare { ordering, or_equal, value } if !column.is_empty() => out
                        .push(format!(
                            "{column}{}{}",
                            tree::comparison(*ordering, *or_equal, "="),
                            tree::number(*value, TARGET)?
                        )),
                    ValueTest::FieldRef { other, position: RefPosition::Whole, cased }
                        if !column.is_empty() =>
                    {
                        let other = match self.columns(other)?.as_slice() {
                            [(one, false)] => one.clone(),
                            _ => {
                                return Err(RenderError::unsupported(
                                    TARGET,
                                    "a fieldref to a split or device path field",
                                ));
                            }
                        };
                        out.push(if *cased {
                            format!("test({column} == {other})")
                        } else {
                            format!("test(lower({column}) == lower({other}))")
                        });
                    }
                    ValueTest::FieldRef { .. } => {
                        return Err(RenderError::unsupported(
                            TARGET,
                            "fieldref other than equality (test() has no substring functions)",
                        ));
                    }
                    _ => {
                        return Err(RenderError::unsupported(
                            TARGET,
                            "a network or number test in a keyword search",
                        ));
                    }
                }
            }
            for (cased, list) in alternatives.into_iter().enumerate() {
                if list.is_empty() {
                    continue;
                }
                let regex = pattern::alternation(&list);
                let flags = if cased == 1 { "" } else { "i" };
                out.insert(0, format!("{prefix}{}{flags}", slashed(&regex)));
            }
        }
        Ok(out)
    }
}

/// The Falcon events a rule's log source reads: built from the product field mappings the
/// decoders apply ([`crate::mapped`]). A process creation rule for one platform reads that
/// platform's events; the other categories are Windows' (or any platform's).
pub(crate) fn source(logsource: &RuleLogSource) -> Result<&'static Source, RenderError> {
    if logsource.service.is_some() {
        return Err(no_source(TARGET, logsource));
    }
    let product = logsource.product.as_deref();
    let found = match (product, logsource.category.as_deref()) {
        (product, Some("process_creation")) => crate::mapped::falcon("process_creation", product),
        (None | Some("windows"), Some(category)) => crate::mapped::falcon(category, None),
        _ => None,
    };
    found.ok_or_else(|| no_source(TARGET, logsource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_cannot_end_a_regex() {
        assert_eq!(slashed("a/b"), r"/a\/b/");
        assert_eq!(slashed(r"a\/b"), r"/a\/b/");
        assert_eq!(slashed("a\nb"), r"/a\x{a}b/");
        assert_eq!(slashed("a\\"), r"/a\\/");
    }

    #[test]
    fn c_drive_is_any_volume() {
        use shellward_engine::GlobUnit::{AnyChars, Text};
        let units = [Text("C:\\inetpub\\".into()), AnyChars];
        assert_eq!(glob_regex(&units, true), r"^\\Device\\HarddiskVolume[0-9]+\\inetpub\\");
        assert_eq!(glob_regex(&units, false), r"^C:\\inetpub\\");
    }
}
