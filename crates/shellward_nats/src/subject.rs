//! Subjects: where events and alerts are published.

/// The partition of a host: FNV-1a of its name modulo `partitions` (stable across builds and
/// machines, unlike the standard hasher).
pub fn partition(host: &str, partitions: u32) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in host.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % partitions.max(1)
}

/// A subject token for a host name: NATS tokens cannot hold `.`, `*`, `>` or white space, and
/// cannot be empty.
fn token(text: &str) -> String {
    let token: String = text
        .chars()
        .map(|c| if c == '.' || c == '*' || c == '>' || c.is_whitespace() { '_' } else { c })
        .collect();
    if token.is_empty() { "_".into() } else { token }
}

/// `events.<partition>.<host>` (`_` for an event without a host).
pub fn event_subject(host: Option<&str>, partitions: u32) -> String {
    let host = host.unwrap_or("");
    format!("events.{}.{}", partition(host, partitions), token(host))
}

/// `alerts.<level>.<host>`.
pub fn alert_subject(level: &str, host: Option<&str>) -> String {
    format!("alerts.{}.{}", token(level), token(host.unwrap_or("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_valid_and_stable() {
        assert_eq!(event_subject(Some("web01.corp.example"), 16), "events.12.web01_corp_example");
        assert_eq!(event_subject(None, 16), format!("events.{}._", partition("", 16)));
        assert_eq!(alert_subject("critical", Some("WEB 01")), "alerts.critical.WEB_01");
        assert_eq!(partition("anything", 1), 0);
        assert!((0..200).all(|i| partition(&format!("host{i}"), 16) < 16));
    }
}
