//! ATT&CK in a rule's tags, as every output names it.

/// The ATT&CK techniques (`T1505.003`) and tactics (`persistence`, `command-and-control`) a
/// rule's tags name; groups, software and other tags are left out.
pub fn attack_tags(tags: &[String]) -> (Vec<String>, Vec<String>) {
    let mut techniques = Vec::new();
    let mut tactics = Vec::new();
    for tag in tags {
        let Some(name) = tag.strip_prefix("attack.") else { continue };
        let bytes = name.as_bytes();
        if bytes.len() > 1 && bytes[0].eq_ignore_ascii_case(&b't') && bytes[1].is_ascii_digit() {
            techniques.push(name.to_ascii_uppercase());
        } else if name.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_') {
            tactics.push(name.replace('_', "-"));
        }
    }
    (techniques, tactics)
}

#[cfg(test)]
mod tests {
    #[test]
    fn techniques_and_tactics() {
        let tags: Vec<String> = [
            "attack.persistence",
            "attack.t1505.003",
            "attack.g0096",
            "attack.command_and_control",
            "cve.2021-26855",
        ]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
        let (techniques, tactics) = super::attack_tags(&tags);
        assert_eq!(techniques, ["T1505.003"]);
        assert_eq!(tactics, ["persistence", "command-and-control"]);
    }
}
