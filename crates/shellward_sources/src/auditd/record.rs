//! One audit record: `type=SYSCALL msg=audit(1604996384.965:93777): key=value ...`.
//!
//! The same record in its four renderings: raw (`log_format=RAW`), enriched (translated names
//! appended in upper case after a `0x1D` separator, which exports often turn into a space),
//! interpreted by `ausearch -i` (local date text in the header, values translated and unquoted), and
//! AUOMS (`type=AUOMS_EXECVE audit(..): ..`, no `msg=`). A syslog header or `node=` before `type=`
//! is tolerated; `node=` names the host.
//!
//! Encoded values (`exe`, `comm`, `cwd`, `name`, `proctitle`, `key`, EXECVE `aN`, ...) are either
//! quoted text or bare upper-case hex when they hold a space, a quote, a control or non-ASCII
//! character; the hex is decoded (NULs become spaces: `proctitle` separates arguments with them;
//! `key` separates keys with `0x01`, which becomes `,`). Interpreted records are never hex.

/// A parsed record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    /// `SYSCALL`, `EXECVE`, `PATH`, ...
    pub(crate) kind: String,
    /// The header's `timestamp:serial`, which all records of one event share.
    pub(crate) key: String,
    /// Event time, epoch seconds (interpreted records: the printed local time read as UTC).
    pub(crate) seconds: i64,
    /// Milliseconds.
    pub(crate) millis: i64,
    /// The host named by `node=`, if any.
    pub(crate) node: Option<String>,
    /// The fields in order, values decoded.
    pub(crate) fields: Vec<(String, String)>,
}

impl Record {
    /// The value of a field.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Where the audit header of a line is: the `type=` that starts the record, if the line has one.
pub(crate) fn header_key(line: &str) -> Option<&str> {
    let start = line.find("audit(")? + "audit(".len();
    let end = start + line[start..].find(')')?;
    line.contains("type=").then(|| &line[start..end])
}

/// Parses one record line; `None` when it is not an audit record.
pub(crate) fn parse(line: &str) -> Option<Record> {
    let type_at = find_type(line)?;
    let before = &line[..type_at];
    let node =
        before.split_ascii_whitespace().find_map(|t| t.strip_prefix("node=")).map(str::to_owned);
    let rest = &line[type_at + "type=".len()..];
    let kind_end = rest.find(|c: char| c.is_ascii_whitespace())?;
    let kind = rest[..kind_end].to_owned();
    let rest = &rest[kind_end..];
    let open = rest.find("audit(")? + "audit(".len();
    let close = open + rest[open..].find(')')?;
    let key = rest[open..close].to_owned();
    let (time, _serial) = key.rsplit_once(':')?;
    let interpreted = time.contains('/');
    let (seconds, millis) = if interpreted { local_time(time)? } else { epoch(time)? };
    let body = rest[close + 1..].trim_start_matches([' ', ':']);
    let mut fields = Vec::new();
    pairs(body, interpreted, &mut fields);
    Some(Record { kind, key, seconds, millis, node, fields })
}

/// The byte offset of `type=` starting a token.
fn find_type(line: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find("type=") {
        let at = from + i;
        if at == 0 || line.as_bytes()[at - 1].is_ascii_whitespace() {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `1604996384.965` to seconds and milliseconds.
fn epoch(text: &str) -> Option<(i64, i64)> {
    let (s, ms) = text.split_once('.').unwrap_or((text, "0"));
    Some((s.parse().ok()?, ms.get(..ms.len().min(3))?.parse().ok()?))
}

/// `11/18/2022 14:33:22.286` (ausearch -i; local time, read as UTC).
fn local_time(text: &str) -> Option<(i64, i64)> {
    let parsed = jiff::fmt::strtime::parse("%m/%d/%Y %H:%M:%S%.f", text).ok()?;
    let datetime = parsed.to_datetime().ok()?;
    let stamp = datetime.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some((stamp.as_second(), i64::from(stamp.subsec_millisecond())))
}

/// Fields whose raw value may be hex-encoded.
fn encoded(name: &str) -> bool {
    matches!(
        name,
        "comm"
            | "exe"
            | "cwd"
            | "name"
            | "proctitle"
            | "cmd"
            | "key"
            | "acct"
            | "path"
            | "data"
            | "old-chardev"
            | "new-chardev"
            | "root_dir"
            | "sauid"
            | "ocomm"
            | "watch"
    ) || is_argument(name)
}

/// EXECVE argument names: `a0`, `a12`, `a1[3]`.
pub(crate) fn is_argument(name: &str) -> bool {
    let digits = name.strip_prefix('a').unwrap_or("");
    let digits =
        digits.split_once('[').map_or(digits, |(d, rest)| if rest.ends_with(']') { d } else { "" });
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Splits `k=v k="v w" k=HEX` into fields. A user-space record's `msg='op=... res=success'` is
/// opened and its pairs added. `proctitle` in interpreted records runs to the end of the line.
fn pairs(body: &str, interpreted: bool, out: &mut Vec<(String, String)>) {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == 0x1D) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            continue;
        }
        let name = &body[start..i];
        i += 1;
        let (value, quoted) = if interpreted && name == "proctitle" {
            let value = body[i..].trim_end();
            i = bytes.len();
            (value, true)
        } else if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
            let quote = bytes[i];
            let from = i + 1;
            // A closing quote is one followed by whitespace or the end (AUOMS leaves inner quotes
            // unescaped: cmdline="bash -c "x"").
            let mut end = from;
            loop {
                match body[end..].find(quote as char) {
                    Some(j) => {
                        let at = end + j;
                        let next = bytes.get(at + 1);
                        if next.is_none_or(|b| b.is_ascii_whitespace() || *b == 0x1D) {
                            end = at;
                            break;
                        }
                        end = at + 1;
                    }
                    None => {
                        end = bytes.len();
                        break;
                    }
                }
            }
            i = (end + 1).min(bytes.len());
            (&body[from..end], true)
        } else {
            let from = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != 0x1D {
                i += 1;
            }
            (&body[from..i], false)
        };
        if name == "msg" && quoted && value.contains('=') {
            pairs(value, interpreted, out);
            continue;
        }
        let value = if !quoted && !interpreted && encoded(name) {
            decode_hex(value, name).unwrap_or_else(|| value.to_owned())
        } else {
            value.to_owned()
        };
        if value != "(null)" && value != "?" {
            out.push((name.to_owned(), value));
        }
    }
}

/// Bare upper-case hex to text; `None` when `value` is not hex.
fn decode_hex(value: &str, name: &str) -> Option<String> {
    if value.is_empty()
        || !value.len().is_multiple_of(2)
        || !value.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    {
        return None;
    }
    let mut bytes: Vec<u8> = (0..value.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&value[i..i + 2], 16).ok())
        .collect();
    let separator = if name == "key" { b',' } else { b' ' };
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    for b in &mut bytes {
        if *b == 0 || (name == "key" && *b == 1) {
            *b = separator;
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_records() {
        let r = parse(r#"type=SYSCALL msg=audit(1604996384.965:93777): arch=c000003e syscall=59 success=yes ppid=29002 pid=2168 comm="dd" exe="/bin/dd" key=(null)"#).unwrap();
        assert_eq!(r.kind, "SYSCALL");
        assert_eq!(r.key, "1604996384.965:93777");
        assert_eq!((r.seconds, r.millis), (1604996384, 965));
        assert_eq!(r.get("exe"), Some("/bin/dd"));
        assert_eq!(r.get("syscall"), Some("59"));
        assert_eq!(r.get("key"), None);
        let p = parse("type=PROCTITLE msg=audit(1604996384.965:93777): proctitle=64640069663D2F6465762F7A65726F0062733D3100636F756E743D31").unwrap();
        assert_eq!(p.get("proctitle"), Some("dd if=/dev/zero bs=1 count=1"));
        let e = parse(
            r#"type=EXECVE msg=audit(1.0:1): argc=3 a0="sh" a1="-c" a2=6563686F2068656C6C6F"#,
        )
        .unwrap();
        assert_eq!(e.get("a2"), Some("echo hello"));
        assert_eq!(e.get("argc"), Some("3"));
    }

    #[test]
    fn enriched_syslog_and_node() {
        let r = parse("Nov 18 14:33:22 web02 audispd: node=web02 type=SYSCALL msg=audit(1723035666.627:3663): syscall=59 uid=0 exe=\"/usr/bin/kmod\"\x1dSYSCALL=execve UID=\"root\"").unwrap();
        assert_eq!(r.node.as_deref(), Some("web02"));
        assert_eq!(r.get("SYSCALL"), Some("execve"));
        assert_eq!(r.get("UID"), Some("root"));
        assert_eq!(r.get("exe"), Some("/usr/bin/kmod"));
    }

    #[test]
    fn interpreted_records() {
        let r = parse("type=PROCTITLE msg=audit(11/18/2022 14:33:22.286:2759) : proctitle=useradd test-auditd-user ").unwrap();
        assert_eq!(r.get("proctitle"), Some("useradd test-auditd-user"));
        assert_eq!(r.key, "11/18/2022 14:33:22.286:2759");
        assert_eq!(r.millis, 286);
        let s = parse("type=SYSCALL msg=audit(11/18/2022 14:33:22.286:2759) : arch=x86_64 syscall=sendto a0=0x3 auid=hello-splunk exe=/usr/sbin/useradd").unwrap();
        assert_eq!(s.get("exe"), Some("/usr/sbin/useradd"));
        assert_eq!(s.get("auid"), Some("hello-splunk"));
    }

    #[test]
    fn auoms_and_user_space_messages() {
        let r = parse(r#"type=AUOMS_EXECVE audit(1652292621.990:84143): ppid=1340 pid=17790 exe="/bin/bash" key_r=61756F6D730164656C657465 cmdline="bash -c "{echo,YmFz}|{base64,-d}|{bash,-i}"" redactors= containerid="#).unwrap();
        assert_eq!(r.kind, "AUOMS_EXECVE");
        assert_eq!(r.get("cmdline"), Some(r#"bash -c "{echo,YmFz}|{base64,-d}|{bash,-i}""#));
        assert_eq!(r.get("pid"), Some("17790"));
        let u = parse(r#"type=USER_CMD msg=audit(1.5:9): pid=1 uid=0 msg='cwd="/root" cmd=6964 terminal=pts/0 res=success'"#).unwrap();
        assert_eq!(u.get("cmd"), Some("id"));
        assert_eq!(u.get("res"), Some("success"));
        assert_eq!(hex_key(), Some("auoms,delete".to_owned()));
    }

    fn hex_key() -> Option<String> {
        decode_hex("61756F6D730164656C657465", "key")
    }

    #[test]
    fn not_records() {
        assert!(parse("hello world").is_none());
        assert!(parse("xtype=SYSCALL msg=audit(1.0:1): a=b").is_none());
        assert!(
            is_argument("a0") && is_argument("a12[3]") && !is_argument("arch") && !is_argument("a")
        );
    }
}
