//! KQL for Microsoft Defender XDR and Sentinel advanced hunting.
//!
//! Tables and columns follow the mapping the Defender decoder reads (`mappings/edr.toml` in
//! shellward_sources), so a rendered query selects the rows whose decoded events the engine would
//! match. Where Sigma's field is built from several columns the query builds it the same way
//! first (`extend`): `TargetObject` is the key in Sysmon's short hive form plus the value name
//! (pySigma tests only `RegistryKey`, so it misses every rule naming a value, and mangles keys
//! ending in `\` before a wildcard), `User` is `domain\name`, `Initiated` comes from `ActionType`.
//!
//! Values: `=~`/`in~`, `contains`, `startswith`, `endswith` (their `_cs` and `==` forms for
//! `|cased`) for the common shapes, `matches regex` (RE2) for the rest; every literal is a
//! double-quoted string with `\` and `"` escaped, so no value can end it.

use crate::RenderError;
use crate::pattern::{self, Shape};
use crate::source::{Field, Source, Stages, no_source};
use crate::tree::{self, Dialect, joined};
use shellward_engine::{CompiledRule, RefPosition, RuleLogSource, ValueTest};

pub(crate) const TARGET: &str = "kql";

/// The KQL query selecting the rows `rule` matches.
pub fn render(rule: &CompiledRule) -> Result<String, RenderError> {
    let source = source(rule.logsource())?;
    let mut kql = Kql { source, stages: Stages::default() };
    let condition = tree::print(&mut kql, &crate::server::lowered(rule))?;
    Ok(kql.stages.pipeline(source.base, &format!("where {condition}")))
}

/// A string literal; an error for a control character KQL strings cannot hold.
pub(crate) fn literal(text: &str) -> Result<String, RenderError> {
    crate::quote::double_quoted(text, TARGET, &[('\n', "\\n"), ('\r', "\\r"), ('\t', "\\t")])
}

/// Columns holding numbers: a whole-number value is compared as one, anything else as text.
const NUMERIC: &[&str] =
    &["ProcessId", "InitiatingProcessId", "InitiatingProcessParentId", "RemotePort", "LocalPort"];

struct Kql {
    source: &'static Source,
    stages: Stages,
}

impl Kql {
    /// The columns a field's tests apply to (two for a field split over IPv4 and IPv6 columns).
    fn columns(&mut self, field: &str) -> Result<Vec<String>, RenderError> {
        Ok(match self.source.field(TARGET, field)? {
            Field::Name(name) => vec![name],
            Field::Computed { name, stage } => {
                self.stages.add(stage);
                vec![name.to_owned()]
            }
            Field::DevicePath(name) => vec![name.to_owned()],
            Field::Either(a, b) => vec![a.to_owned(), b.to_owned()],
            Field::ComputedEither { stage, columns: (a, b) } => {
                self.stages.add(stage);
                vec![a.to_owned(), b.to_owned()]
            }
        })
    }

    fn test(&mut self, column: &str, test: &ValueTest) -> Result<String, RenderError> {
        let numeric = NUMERIC.contains(&column);
        Ok(match test {
            ValueTest::Glob { units, cased } => {
                let (eq, op_suffix, flags) =
                    if *cased { ("==", "_cs", "") } else { ("=~", "", "(?i)") };
                let text = |c: &str| if numeric { format!("tostring({c})") } else { c.to_owned() };
                match pattern::shape(units) {
                    Shape::Exact(v) if numeric && v.parse::<i64>().is_ok() => {
                        format!("{column} == {v}")
                    }
                    Shape::Exact(v) => format!("{} {eq} {}", text(column), literal(&v)?),
                    Shape::Contains(v) => {
                        format!("{} contains{op_suffix} {}", text(column), literal(&v)?)
                    }
                    Shape::StartsWith(v) => {
                        format!("{} startswith{op_suffix} {}", text(column), literal(&v)?)
                    }
                    Shape::EndsWith(v) => {
                        format!("{} endswith{op_suffix} {}", text(column), literal(&v)?)
                    }
                    Shape::Anything => format!("isnotempty({column})"),
                    Shape::Other => {
                        let regex = format!("{flags}{}", pattern::regex(units, &[]));
                        format!("{} matches regex {}", text(column), literal(&regex)?)
                    }
                }
            }
            ValueTest::Regex(regex) => {
                let col = if numeric { format!("tostring({column})") } else { column.to_owned() };
                format!("{col} matches regex {}", literal(regex)?)
            }
            // Defender writes many IPv4 peers as IPv4-mapped IPv6 (`::ffff:203.0.113.7`), for
            // which ipv4_is_in_range returns null, and `not(null)` drops the row: the mapped
            // form is read as IPv4, and an address of the other family is outside (false), as
            // the hunt decides.
            ValueTest::Cidr(network) if network.contains(':') => {
                format!("coalesce(ipv6_is_in_range({column}, {}), false)", literal(network)?)
            }
            ValueTest::Cidr(network) => format!(
                "coalesce(ipv4_is_in_range(iff({column} startswith \"::ffff:\", substring({column}, 7), {column}), {}), false)",
                literal(network)?
            ),
            ValueTest::Compare { ordering, or_equal, value } => {
                format!(
                    "todouble({column}) {} {}",
                    tree::comparison(*ordering, *or_equal, "=="),
                    tree::number(*value, TARGET)?
                )
            }
            ValueTest::FieldRef { other, position, cased } => {
                let other = match self.columns(other)?.as_slice() {
                    [one] => one.clone(),
                    _ => {
                        return Err(RenderError::unsupported(
                            TARGET,
                            "a fieldref to a split field",
                        ));
                    }
                };
                let (a, b) = if *cased {
                    (column.to_owned(), other)
                } else {
                    (format!("tolower({column})"), format!("tolower({other})"))
                };
                match position {
                    RefPosition::Whole => format!("{a} == {b}"),
                    RefPosition::Contains => format!("indexof({a}, {b}) >= 0"),
                    RefPosition::Start => format!("indexof({a}, {b}) == 0"),
                    RefPosition::End => format!(
                        "(strlen({b}) == 0 or (strlen({a}) >= strlen({b}) and substring({a}, strlen({a}) - strlen({b})) == {b}))"
                    ),
                }
            }
        })
    }
}

impl Dialect for Kql {
    const AND: &'static str = " and ";
    const OR: &'static str = " or ";
    const NOT: &'static str = "not";

    /// `not` is a function in KQL: `not(...)` whatever the part.
    fn not(&self, inner: String) -> String {
        format!("not({inner})")
    }

    fn constant(&mut self, value: bool) -> Result<String, RenderError> {
        Ok(value.to_string())
    }

    fn at_least(&mut self, n: usize, parts: Vec<String>) -> Result<String, RenderError> {
        let counted: Vec<String> = parts.into_iter().map(|p| format!("iff({p}, 1, 0)")).collect();
        Ok(format!("({}) >= {n}", counted.join(" + ")))
    }

    fn exists(&mut self, field: &str, present: bool) -> Result<String, RenderError> {
        let function = if present { "isnotempty" } else { "isempty" };
        let tests: Vec<String> =
            self.columns(field)?.iter().map(|c| format!("{function}({c})")).collect();
        Ok(if present { joined(tests, " or ") } else { joined(tests, " and ") })
    }

    fn values(
        &mut self,
        field: Option<&str>,
        tests: &[&ValueTest],
    ) -> Result<Vec<String>, RenderError> {
        let Some(field) = field else {
            return Err(RenderError::unsupported(
                TARGET,
                "a keyword search (KQL's `has` matches terms, not the substrings Sigma keywords mean)",
            ));
        };
        let mut out = Vec::new();
        for column in self.columns(field)? {
            // Whole-value tests of one column print as one `in~ (...)` (`in` when cased).
            let mut lists: [Vec<String>; 2] = [Vec::new(), Vec::new()];
            for test in tests {
                match test {
                    ValueTest::Glob { units, cased } if !NUMERIC.contains(&column.as_str()) => {
                        if let Shape::Exact(v) = pattern::shape(units) {
                            lists[usize::from(*cased)].push(literal(&v)?);
                            continue;
                        }
                        out.push(self.test(&column, test)?);
                    }
                    _ => out.push(self.test(&column, test)?),
                }
            }
            for (cased, list) in lists.into_iter().enumerate() {
                let (one, many) = if cased == 1 { ("==", "in") } else { ("=~", "in~") };
                match list.len() {
                    0 => {}
                    1 => out.push(format!("{column} {one} {}", list[0])),
                    _ => out.push(format!("{column} {many} ({})", list.join(", "))),
                }
            }
        }
        Ok(out)
    }
}

/// The table (and action types) a rule's log source reads: built from the product field mappings
/// the decoders apply ([`crate::mapped`]).
pub(crate) fn source(logsource: &RuleLogSource) -> Result<&'static Source, RenderError> {
    let product = logsource.product.as_deref();
    if logsource.service.is_some() || !matches!(product, None | Some("windows" | "linux" | "macos"))
    {
        return Err(no_source(TARGET, logsource));
    }
    logsource
        .category
        .as_deref()
        .and_then(crate::mapped::defender)
        .ok_or_else(|| no_source(TARGET, logsource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_cannot_end_early() {
        assert_eq!(literal(r#"a"b\c|d"#).unwrap(), r#""a\"b\\c|d""#);
        assert_eq!(literal("x\ny").unwrap(), r#""x\ny""#);
        assert!(literal("x\u{1}y").is_err());
    }
}
