//! Which network addresses a webhook may be delivered to. An endpoint URL
//! is chosen by an organization admin, so by default Authgate refuses to
//! be pointed at its own host, its private network or a cloud metadata
//! service (server-side request forgery).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused; `None` from [`refusal`] means public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forbidden {
    Loopback,
    Private,
    LinkLocal,
    Metadata,
    Unspecified,
    Multicast,
    Reserved,
}

impl Forbidden {
    pub fn describe(self) -> &'static str {
        match self {
            Forbidden::Loopback => "a loopback address",
            Forbidden::Private => "a private network address",
            Forbidden::LinkLocal => "a link-local address",
            Forbidden::Metadata => "a cloud metadata address",
            Forbidden::Unspecified => "an unspecified address",
            Forbidden::Multicast => "a multicast or broadcast address",
            Forbidden::Reserved => "a reserved address",
        }
    }
}

/// Why `ip` must not be a webhook destination, if it must not.
pub fn refusal(ip: IpAddr) -> Option<Forbidden> {
    match ip {
        IpAddr::V4(v4) => refusal_v4(v4),
        IpAddr::V6(v6) => refusal_v6(v6),
    }
}

fn refusal_v4(ip: Ipv4Addr) -> Option<Forbidden> {
    let [a, b, c, _] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) {
        Some(Forbidden::Metadata)
    } else if ip.is_unspecified() || a == 0 {
        Some(Forbidden::Unspecified)
    } else if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if ip.is_private() || (a == 100 && (64..=127).contains(&b)) {
        // RFC 1918 and carrier-grade NAT (RFC 6598).
        Some(Forbidden::Private)
    } else if ip.is_link_local() {
        Some(Forbidden::LinkLocal)
    } else if ip.is_multicast() || ip.is_broadcast() {
        Some(Forbidden::Multicast)
    } else if a >= 240 || (a == 192 && b == 0 && c == 0) || (a == 198 && (18..=19).contains(&b)) {
        Some(Forbidden::Reserved)
    } else {
        None
    }
}

fn refusal_v6(ip: Ipv6Addr) -> Option<Forbidden> {
    // An IPv4 address in IPv6 clothing is judged as IPv4.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refusal_v4(v4);
    }
    let seg = ip.segments();
    if seg[0] == 0x64 && seg[1] == 0xff9b {
        // NAT64 (RFC 6052): the last 32 bits are an IPv4 address.
        let [.., a, b] = seg;
        let v4 = Ipv4Addr::from((u32::from(a) << 16) | u32::from(b));
        return refusal_v4(v4);
    }
    if ip.is_unspecified() {
        Some(Forbidden::Unspecified)
    } else if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some(Forbidden::Metadata)
    } else if (seg[0] & 0xfe00) == 0xfc00 {
        Some(Forbidden::Private)
    } else if (seg[0] & 0xffc0) == 0xfe80 {
        Some(Forbidden::LinkLocal)
    } else if ip.is_multicast() {
        Some(Forbidden::Multicast)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(s: &str) -> Option<Forbidden> {
        refusal(s.parse().unwrap())
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ok in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "8.8.8.8"] {
            assert_eq!(why(ok), None, "{ok}");
        }
    }

    #[test]
    fn own_host_private_networks_and_metadata_are_refused() {
        assert_eq!(why("127.0.0.1"), Some(Forbidden::Loopback));
        assert_eq!(why("::1"), Some(Forbidden::Loopback));
        assert_eq!(why("10.1.2.3"), Some(Forbidden::Private));
        assert_eq!(why("172.16.0.1"), Some(Forbidden::Private));
        assert_eq!(why("192.168.1.1"), Some(Forbidden::Private));
        assert_eq!(why("100.64.0.1"), Some(Forbidden::Private));
        assert_eq!(why("fd12::1"), Some(Forbidden::Private));
        assert_eq!(why("169.254.169.254"), Some(Forbidden::Metadata));
        assert_eq!(why("fd00:ec2::254"), Some(Forbidden::Metadata));
        assert_eq!(why("169.254.1.1"), Some(Forbidden::LinkLocal));
        assert_eq!(why("fe80::1"), Some(Forbidden::LinkLocal));
        assert_eq!(why("0.0.0.0"), Some(Forbidden::Unspecified));
        assert_eq!(why("::"), Some(Forbidden::Unspecified));
        assert_eq!(why("224.0.0.1"), Some(Forbidden::Multicast));
        assert_eq!(why("255.255.255.255"), Some(Forbidden::Multicast));
        assert_eq!(why("240.0.0.1"), Some(Forbidden::Reserved));
    }

    #[test]
    fn ipv4_hidden_in_ipv6_is_judged_as_ipv4() {
        assert_eq!(why("::ffff:127.0.0.1"), Some(Forbidden::Loopback));
        assert_eq!(why("::ffff:169.254.169.254"), Some(Forbidden::Metadata));
        assert_eq!(why("64:ff9b::a00:1"), Some(Forbidden::Private));
        assert_eq!(why("::ffff:8.8.8.8"), None);
    }
}
