//! ESXi's installed VIBs and the host's acceptance level, from the VIB database's descriptors
//! (`/var/db/esximg/vibs/*.xml`, the same XML as a VIB's `descriptor.xml`) and from saved
//! `esxcli software vib list` and `esxcli software acceptance get` output.
//!
//! A VIB component's `path` is `vendor=V version=X acceptance=A`: what a baseline compares and a
//! finding shows. VMware's four acceptance levels, from most to least trusted, are VMwareCertified,
//! VMwareAccepted, PartnerSupported and CommunitySupported; the descriptors spell them `certified`,
//! `accepted`, `partner` and `community`. CommunitySupported VIBs are not signed by VMware or a
//! partner: how VirtualPita-style backdoors were installed (T1505.006).

use super::Component;

/// The acceptance levels, in the spelling `esxcli` prints, with the descriptors' spelling.
const LEVELS: [(&str, &str); 4] = [
    ("VMwareCertified", "certified"),
    ("VMwareAccepted", "accepted"),
    ("PartnerSupported", "partner"),
    ("CommunitySupported", "community"),
];

/// `esxcli`'s spelling of an acceptance level written either way.
fn level(text: &str) -> Option<&'static str> {
    let text = text.trim();
    LEVELS
        .iter()
        .find(|(long, short)| long.eq_ignore_ascii_case(text) || short.eq_ignore_ascii_case(text))
        .map(|(long, _)| *long)
}

/// Whether an acceptance level (as `esxcli` prints it) lets unsigned code in.
pub(super) fn unsigned(level: &str) -> bool {
    level.eq_ignore_ascii_case("CommunitySupported")
}

/// The VIB's `path`: vendor, version and acceptance level.
fn describe(vendor: &str, version: &str, acceptance: &str) -> String {
    format!("vendor={vendor} version={version} acceptance={acceptance}")
}

/// The acceptance level in a VIB component's `path`.
pub(super) fn acceptance_of(path: &str) -> &str {
    path.rsplit_once("acceptance=").map_or("", |(_, level)| level)
}

/// The components of an ESXi inventory file, whichever of the three shapes it has.
pub(super) fn components(text: &str) -> Vec<Component> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        return descriptor(text).into_iter().collect();
    }
    let table = vib_list(text);
    if !table.is_empty() {
        return table;
    }
    // `esxcli software acceptance get`: the level alone.
    trimmed
        .lines()
        .next()
        .and_then(level)
        .map(|level| Component {
            kind: "esxi_acceptance",
            name: "host".into(),
            path: level.into(),
            line: 1,
        })
        .into_iter()
        .collect()
}

/// A VIB descriptor: `<vib><name>`, `<vendor>`, `<version>`, `<acceptance-level>`.
fn descriptor(text: &str) -> Option<Component> {
    let element = |tag: &str| {
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = start + text[start..].find('<')?;
        Some(text[start..end].trim().to_owned())
    };
    if !text.contains("<vib") {
        return None;
    }
    let name = element("name")?;
    let acceptance = element("acceptance-level").and_then(|l| level(&l)).unwrap_or("unknown");
    let path = describe(
        &element("vendor").unwrap_or_default(),
        &element("version").unwrap_or_default(),
        acceptance,
    );
    Some(Component { kind: "esxi_vib", name, path, line: 1 })
}

/// `esxcli software vib list`: a header, a line of dashes giving the columns' widths, a row per VIB.
fn vib_list(text: &str) -> Vec<Component> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(rule) = lines.iter().position(|l| l.trim_start().starts_with("---")) else {
        return Vec::new();
    };
    let Some(header) = rule.checked_sub(1).map(|h| lines[h]) else { return Vec::new() };
    // Column spans from the dashes.
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in lines[rule].char_indices().chain([(lines[rule].len(), ' ')]) {
        match (c == '-', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    let cell = |line: &str, (s, e): (usize, usize), last: bool| -> String {
        let end = if last { line.len() } else { e.min(line.len()) };
        line.get(s.min(line.len())..end).unwrap_or("").trim().to_owned()
    };
    let column = |name: &str| {
        spans.iter().position(|&span| cell(header, span, false).eq_ignore_ascii_case(name))
    };
    let (Some(n), Some(v), Some(vendor), Some(a)) =
        (column("Name"), column("Version"), column("Vendor"), column("Acceptance Level"))
    else {
        return Vec::new();
    };
    let last = spans.len() - 1;
    lines
        .iter()
        .enumerate()
        .skip(rule + 1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(number, line)| {
            let get = |i: usize| cell(line, spans[i], i == last);
            let acceptance = get(a);
            let acceptance = level(&acceptance).map_or(acceptance, str::to_owned);
            Component {
                kind: "esxi_vib",
                name: get(n),
                path: describe(&get(vendor), &get(v), &acceptance),
                line: number as u64 + 1,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout `esxcli software vib list` prints (columns as wide as their dashes).
    const VIB_LIST: &str = "\
Name                           Version                              Vendor  Acceptance Level    Install Date
-----------------------------  -----------------------------------  ------  ------------------  ------------
ata-libata-92                  3.00.9.2-16vmw.670.0.0.8169922       VMW     VMwareCertified     2020-02-20
esx-base                       6.7.0-3.139.18828794                 VMware  VMwareCertified     2021-10-14
vmware-esx-perfmon             1.0.0-1                              VMW     CommunitySupported  2022-09-01
";

    #[test]
    fn a_vib_list_gives_each_vib_with_its_acceptance_level() {
        let found = components(VIB_LIST);
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["ata-libata-92", "esx-base", "vmware-esx-perfmon"]);
        assert_eq!(found[2].path, "vendor=VMW version=1.0.0-1 acceptance=CommunitySupported");
        assert_eq!(found[2].line, 5);
        assert!(unsigned(acceptance_of(&found[2].path)));
        assert!(!unsigned(acceptance_of(&found[0].path)));
    }

    #[test]
    fn a_descriptor_gives_its_vib() {
        let xml = include_str!("../../tests/fixtures/vib_descriptor_community.xml");
        let found = components(xml);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "virtuallyghetto");
        assert_eq!(acceptance_of(&found[0].path), "CommunitySupported");
    }

    #[test]
    fn the_host_acceptance_level() {
        let found = components("CommunitySupported\n");
        assert_eq!(
            (found[0].kind, found[0].path.as_str()),
            ("esxi_acceptance", "CommunitySupported")
        );
        assert_eq!(components("PartnerSupported")[0].path, "PartnerSupported");
        assert!(components("nothing of the kind\n").is_empty());
    }
}
