//! IPv4 and IPv6 networks for the `cidr` modifier.

use std::net::IpAddr;

/// A network: address bits and prefix length, IPv4 or IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    /// An IPv4 network.
    V4(u32, u8),
    /// An IPv6 network.
    V6(u128, u8),
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cidr::V4(bits, prefix) => write!(f, "{}/{prefix}", std::net::Ipv4Addr::from(*bits)),
            Cidr::V6(bits, prefix) => write!(f, "{}/{prefix}", std::net::Ipv6Addr::from(*bits)),
        }
    }
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a host network).
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (text.trim(), None),
        };
        match address.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => {
                let prefix = prefix.unwrap_or(32);
                (prefix <= 32).then(|| Cidr::V4(u32::from(v4) & mask32(prefix), prefix))
            }
            IpAddr::V6(v6) => {
                let prefix = prefix.unwrap_or(128);
                (prefix <= 128).then(|| Cidr::V6(u128::from(v6) & mask128(prefix), prefix))
            }
        }
    }

    /// Whether `text` is an address inside the network (IPv4-mapped IPv6 counts as IPv4).
    pub(crate) fn contains(&self, text: &str) -> bool {
        let Ok(address) = text.trim().parse::<IpAddr>() else { return false };
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self, address) {
            (Cidr::V4(net, prefix), IpAddr::V4(a)) => u32::from(a) & mask32(*prefix) == *net,
            (Cidr::V6(net, prefix), IpAddr::V6(a)) => u128::from(a) & mask128(*prefix) == *net,
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let private = Cidr::parse("10.0.0.0/8");
        assert!(private.is_some_and(|c| c.contains("10.1.2.3")));
        assert!(private.is_some_and(|c| !c.contains("11.0.0.1")));
        assert!(private.is_some_and(|c| c.contains("::ffff:10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").is_some_and(|c| c.contains("8.8.8.8")));
        assert!(Cidr::parse("fe80::/10").is_some_and(|c| c.contains("fe80::1")));
        assert!(Cidr::parse("fe80::/10").is_some_and(|c| !c.contains("10.0.0.1")));
        assert!(Cidr::parse("1.2.3.4").is_some_and(|c| c.contains("1.2.3.4")));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nonsense").is_none());
        assert!(private.is_some_and(|c| !c.contains("not an ip")));
    }
}
