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
use crate::source::{Column, Field, Source, Stages, no_source};
use crate::tree::{self, Dialect, joined};
use shellward_engine::{CompiledRule, RefPosition, RuleLogSource, ValueTest};

pub(crate) const TARGET: &str = "kql";

/// The KQL query selecting the rows `rule` matches.
pub fn render(rule: &CompiledRule) -> Result<String, RenderError> {
    let source = source(rule.logsource())?;
    let mut kql = Kql { source, stages: Stages::default() };
    let condition = tree::print(&mut kql, &rule.lower())?;
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
            ValueTest::Cidr(network) => {
                let function =
                    if network.contains(':') { "ipv6_is_in_range" } else { "ipv4_is_in_range" };
                format!("{function}({column}, {})", literal(network)?)
            }
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

/// The table (and action types) a rule's log source reads.
fn source(logsource: &RuleLogSource) -> Result<&'static Source, RenderError> {
    let product = logsource.product.as_deref();
    if logsource.service.is_some() || !matches!(product, None | Some("windows" | "linux" | "macos"))
    {
        return Err(no_source(TARGET, logsource));
    }
    Ok(match logsource.category.as_deref() {
        Some("process_creation") => &PROCESS,
        Some("file_event") => &FILE,
        Some("file_delete") => &FILE_DELETE,
        Some("registry_set") => &REGISTRY_SET,
        Some("registry_add") => &REGISTRY_ADD,
        Some("registry_delete") => &REGISTRY_DELETE,
        Some("registry_event") => &REGISTRY_EVENT,
        Some("network_connection") => &NETWORK,
        Some("image_load") => &IMAGE_LOAD,
        _ => return Err(no_source(TARGET, logsource)),
    })
}

const USER: &str = r#"extend User = strcat(AccountDomain, @"\", AccountName)"#;
const ACTOR_USER: &str =
    r#"extend User = strcat(InitiatingProcessAccountDomain, @"\", InitiatingProcessAccountName)"#;
const PARENT_USER: &str = r#"extend ParentUser = strcat(InitiatingProcessAccountDomain, @"\", InitiatingProcessAccountName)"#;
const HASHES: &str = r#"extend Hashes = strcat("SHA1=", SHA1, ",MD5=", MD5, ",SHA256=", SHA256)"#;
/// `RegistryKey` in Sysmon's short hive form, then `\` and the value name when there is one (a
/// renamed key is tested under its old name, as Sysmon's TargetObject is).
const TARGET_OBJECT: &str = r#"extend TargetObject = strcat(replace_regex(replace_regex(replace_regex(replace_regex(iff(ActionType == "RegistryKeyRenamed", PreviousRegistryKey, RegistryKey), @"(?i)^HKEY_LOCAL_MACHINE(\\|$)", @"HKLM\1"), @"(?i)^HKEY_USERS(\\|$)", @"HKU\1"), @"(?i)^HKEY_CURRENT_USER(\\|$)", @"HKCU\1"), @"(?i)^HKEY_CLASSES_ROOT(\\|$)", @"HKCR\1"), iff(isempty(iff(ActionType == "RegistryKeyRenamed", PreviousRegistryValueName, RegistryValueName)), "", strcat(@"\", iff(ActionType == "RegistryKeyRenamed", PreviousRegistryValueName, RegistryValueName))))"#;
const EVENT_TYPE: &str = r#"extend EventType = case(ActionType == "RegistryValueSet", "SetValue", ActionType == "RegistryKeyCreated", "CreateKey", ActionType == "RegistryKeyDeleted", "DeleteKey", ActionType == "RegistryValueDeleted", "DeleteValue", ActionType == "RegistryKeyRenamed", "RenameKey", "")"#;
const INITIATED: &str = r#"extend Initiated = case(ActionType in ("ConnectionSuccess", "ConnectionAttempt", "ConnectionFailed", "ConnectionRequest"), "true", ActionType == "InboundConnectionAccepted", "false", "")"#;

/// The acting process's fields, in every table but DeviceProcessEvents.
macro_rules! actor {
    () => {
        [
            ("Image", Column::Name("InitiatingProcessFolderPath")),
            ("CommandLine", Column::Name("InitiatingProcessCommandLine")),
            ("ProcessId", Column::Name("InitiatingProcessId")),
            ("User", Column::Computed(ACTOR_USER)),
            ("Computer", Column::Name("DeviceName")),
        ]
    };
}

const ACTOR: [(&str, Column); 5] = actor!();

/// A table's own fields followed by the actor's.
const fn with_actor<const N: usize, const M: usize>(
    own: [(&'static str, Column); N],
) -> [(&'static str, Column); M] {
    let mut out = [("", Column::Name("")); M];
    let mut i = 0;
    while i < N {
        out[i] = own[i];
        i += 1;
    }
    let mut j = 0;
    while j < ACTOR.len() {
        out[N + j] = ACTOR[j];
        j += 1;
    }
    out
}

static PROCESS: Source = Source {
    base: "DeviceProcessEvents\n| where ActionType == \"ProcessCreated\"",
    label: "DeviceProcessEvents",
    fields: &[
        ("Image", Column::Name("FolderPath")),
        ("CommandLine", Column::Name("ProcessCommandLine")),
        ("OriginalFileName", Column::Name("ProcessVersionInfoOriginalFileName")),
        ("Company", Column::Name("ProcessVersionInfoCompanyName")),
        ("Description", Column::Name("ProcessVersionInfoFileDescription")),
        ("Product", Column::Name("ProcessVersionInfoProductName")),
        ("FileVersion", Column::Name("ProcessVersionInfoProductVersion")),
        ("IntegrityLevel", Column::Name("ProcessIntegrityLevel")),
        ("ProcessId", Column::Name("ProcessId")),
        ("LogonId", Column::Name("LogonId")),
        ("User", Column::Computed(USER)),
        ("ParentImage", Column::Name("InitiatingProcessFolderPath")),
        ("ParentCommandLine", Column::Name("InitiatingProcessCommandLine")),
        ("ParentProcessId", Column::Name("InitiatingProcessId")),
        ("ParentUser", Column::Computed(PARENT_USER)),
        ("GrandparentImage", Column::Name("InitiatingProcessParentFileName")),
        ("md5", Column::Name("MD5")),
        ("sha1", Column::Name("SHA1")),
        ("sha256", Column::Name("SHA256")),
        ("Hashes", Column::Computed(HASHES)),
        ("Computer", Column::Name("DeviceName")),
    ],
    open: false,
};

static FILE_FIELDS: [(&str, Column); 9] = with_actor([
    ("TargetFilename", Column::Name("FolderPath")),
    ("md5", Column::Name("MD5")),
    ("sha1", Column::Name("SHA1")),
    ("sha256", Column::Name("SHA256")),
]);

static FILE: Source = Source {
    base: "DeviceFileEvents\n| where ActionType in (\"FileCreated\", \"FileModified\", \"FileRenamed\")",
    label: "DeviceFileEvents",
    fields: &FILE_FIELDS,
    open: false,
};

static FILE_DELETE: Source = Source {
    base: "DeviceFileEvents\n| where ActionType == \"FileDeleted\"",
    label: "DeviceFileEvents",
    fields: &FILE_FIELDS,
    open: false,
};

static REGISTRY_FIELDS: [(&str, Column); 9] = with_actor([
    ("TargetObject", Column::Computed(TARGET_OBJECT)),
    ("Details", Column::Name("RegistryValueData")),
    ("EventType", Column::Computed(EVENT_TYPE)),
    ("NewName", Column::Computed(NEW_NAME)),
]);

const NEW_NAME: &str = r#"extend NewName = strcat(replace_regex(replace_regex(RegistryKey, @"(?i)^HKEY_LOCAL_MACHINE(\\|$)", @"HKLM\1"), @"(?i)^HKEY_USERS(\\|$)", @"HKU\1"), iff(isempty(RegistryValueName), "", strcat(@"\", RegistryValueName)))"#;

static REGISTRY_SET: Source = Source {
    base: "DeviceRegistryEvents\n| where ActionType == \"RegistryValueSet\"",
    label: "DeviceRegistryEvents",
    fields: &REGISTRY_FIELDS,
    open: false,
};

static REGISTRY_ADD: Source = Source {
    base: "DeviceRegistryEvents\n| where ActionType == \"RegistryKeyCreated\"",
    label: "DeviceRegistryEvents",
    fields: &REGISTRY_FIELDS,
    open: false,
};

static REGISTRY_DELETE: Source = Source {
    base: "DeviceRegistryEvents\n| where ActionType in (\"RegistryKeyDeleted\", \"RegistryValueDeleted\")",
    label: "DeviceRegistryEvents",
    fields: &REGISTRY_FIELDS,
    open: false,
};

static REGISTRY_EVENT: Source = Source {
    base: "DeviceRegistryEvents\n| where ActionType in (\"RegistryValueSet\", \"RegistryKeyCreated\", \"RegistryKeyDeleted\", \"RegistryValueDeleted\", \"RegistryKeyRenamed\")",
    label: "DeviceRegistryEvents",
    fields: &REGISTRY_FIELDS,
    open: false,
};

static NETWORK_FIELDS: [(&str, Column); 11] = with_actor([
    ("Initiated", Column::Computed(INITIATED)),
    ("DestinationIp", Column::Name("RemoteIP")),
    ("DestinationPort", Column::Name("RemotePort")),
    ("DestinationHostname", Column::Name("RemoteUrl")),
    ("SourceIp", Column::Name("LocalIP")),
    ("SourcePort", Column::Name("LocalPort")),
]);

static NETWORK: Source = Source {
    base: "DeviceNetworkEvents\n| where ActionType in (\"ConnectionSuccess\", \"ConnectionAttempt\", \"ConnectionFailed\", \"ConnectionRequest\", \"ConnectionAcknowledged\", \"InboundConnectionAccepted\")",
    label: "DeviceNetworkEvents",
    fields: &NETWORK_FIELDS,
    open: false,
};

static IMAGE_LOAD_FIELDS: [(&str, Column); 9] = with_actor([
    ("ImageLoaded", Column::Name("FolderPath")),
    ("md5", Column::Name("MD5")),
    ("sha1", Column::Name("SHA1")),
    ("sha256", Column::Name("SHA256")),
]);

static IMAGE_LOAD: Source = Source {
    base: "DeviceImageLoadEvents\n| where ActionType == \"ImageLoaded\"",
    label: "DeviceImageLoadEvents",
    fields: &IMAGE_LOAD_FIELDS,
    open: false,
};

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
