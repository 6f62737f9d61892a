//! Who is calling: the client address behind trusted proxies, and the
//! group of addresses the limits count together.
//!
//! A proxy appends the address it received the request from to
//! `X-Forwarded-For` (or `Forwarded: for=…`); everything to the left of
//! that was written by the client and may be anything. So the client is the
//! **right-most** hop that is not one of our own proxies, and only when the
//! peer itself is one of them. A hop that is not an IP address (junk,
//! `unknown`, an obfuscated name) is never taken: the peer stands instead,
//! so what we store is always a valid IP address.
//!
//! IPv6 hands a whole /64 to one subscriber, so limits count an IPv6 client
//! by its /64: a fresh address per request does not get a fresh allowance.

use std::{
    fmt,
    net::{IpAddr, Ipv6Addr},
    str::FromStr,
};

/// An address block such as `10.0.0.0/8` or `fd00::/8` (a bare address is
/// a block of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an address block (like 10.0.0.0/8, 192.0.2.7 or fd00::/8)")]
pub struct CidrError(pub String);

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CidrError(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let network = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The proxies in front of Authgate (`AUTHGATE_TRUSTED_PROXIES`). Empty:
/// forwarding headers are ignored and the peer is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// A comma-separated list of blocks; empty means none.
    pub fn parse_list(list: &str) -> Result<Self, CidrError> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client address of a request from `peer` carrying the forwarding
    /// `hops` (left to right, as the headers list them).
    pub fn client_address<S: AsRef<str>>(&self, peer: IpAddr, hops: &[S]) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop.as_ref()) {
                Some(ip) if self.trusts(ip) => nearest = ip,
                Some(ip) => return ip,
                // Our proxy wrote something that is not an address: the
                // last address we can vouch for stands in.
                None => return nearest,
            }
        }
        nearest
    }
}

/// The hops of `Forwarded` header values (RFC 7239 `for=` parameters), in
/// order. An element without `for=` yields an empty hop, which never parses.
pub fn forwarded_for_hops(values: &[&str]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// The hops of `X-Forwarded-For` header values, in order.
pub fn x_forwarded_for_hops(values: &[&str]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_owned())
        .collect()
}

/// One hop as an IP address: `192.0.2.7`, `192.0.2.7:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`, optionally quoted (RFC 7239). Anything else: none.
pub fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if hop.len() > 64 {
        return None;
    }
    let hop = hop
        .strip_prefix('"')
        .and_then(|h| h.strip_suffix('"'))
        .unwrap_or(hop);
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let port_ok = after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok());
        return port_ok
            .then(|| addr.parse::<Ipv6Addr>().ok())
            .flatten()
            .map(|ip| IpAddr::V6(ip).to_canonical());
    }
    let (addr, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    addr.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// What limits count a client address as: an IPv4 address itself, an IPv6
/// address by its /64 (`2001:db8:1:2::/64`).
pub fn address_group(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{net}/64")
        }
    }
}

/// How many password checks one address group may have in flight at once,
/// so that one client cannot occupy the whole hashing pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcurrencyCap {
    pub per_address: usize,
}

impl ConcurrencyCap {
    /// Whether another check may start while `in_flight` are running.
    pub fn admits(&self, in_flight: usize) -> bool {
        in_flight < self.per_address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse_list(list).unwrap()
    }

    #[test]
    fn blocks_contain_what_their_prefix_says() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains(ip("10.1.255.3")));
        assert!(!c.contains(ip("10.2.0.1")));
        assert!(
            c.contains(ip("::ffff:10.1.0.9")),
            "IPv4-mapped counts as IPv4"
        );
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.1")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("2001:db8::1")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "example.com",
            "10.0.0/8",
            "/8",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert!(TrustedProxies::parse_list("10.0.0.0/8, nonsense").is_err());
        assert!(TrustedProxies::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let p = proxies("10.0.0.0/8");
        assert_eq!(
            p.client_address(ip("203.0.113.9"), &["198.51.100.7"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_address(ip("127.0.0.1"), &["198.51.100.7"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_client_is_the_right_most_hop_that_is_not_our_proxy() {
        let p = proxies("10.0.0.0/8");
        // The client claimed 1.1.1.1; our edge proxy saw 203.0.113.9 and an
        // inner proxy 10.0.0.2 forwarded it.
        let hops = ["1.1.1.1", "203.0.113.9", "10.0.0.2"];
        assert_eq!(p.client_address(ip("10.0.0.3"), &hops), ip("203.0.113.9"));
    }

    #[test]
    fn a_hop_that_is_not_an_address_is_never_taken() {
        let p = proxies("10.0.0.0/8");
        for junk in ["<script>", "unknown", "_hidden", "", &"9".repeat(5000)] {
            assert_eq!(
                p.client_address(ip("10.0.0.3"), &["198.51.100.7", junk]),
                ip("10.0.0.3"),
                "{junk}"
            );
        }
        assert_eq!(
            p.client_address::<&str>(ip("10.0.0.3"), &[]),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn hops_may_carry_ports_brackets_and_quotes() {
        assert_eq!(parse_hop("192.0.2.7:4711"), Some(ip("192.0.2.7")));
        assert_eq!(parse_hop("\"[2001:db8::1]:4711\""), Some(ip("2001:db8::1")));
        assert_eq!(parse_hop("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(parse_hop("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_hop("::ffff:192.0.2.7"), Some(ip("192.0.2.7")));
        assert_eq!(parse_hop("[2001:db8::1]:99999"), None);
        assert_eq!(parse_hop("host:80"), None);
    }

    #[test]
    fn forwarded_headers_yield_their_for_parameters_in_order() {
        assert_eq!(
            forwarded_for_hops(&[
                "for=192.0.2.60;proto=http;by=203.0.113.43",
                "For=\"[2001:db8:cafe::17]:4711\", proto=https"
            ]),
            ["192.0.2.60", "\"[2001:db8:cafe::17]:4711\"", ""]
        );
        assert_eq!(
            x_forwarded_for_hops(&["1.1.1.1, 203.0.113.9", "10.0.0.2"]),
            ["1.1.1.1", "203.0.113.9", "10.0.0.2"]
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        assert_eq!(
            address_group(ip("2001:db8:1:2:aaaa::1")),
            address_group(ip("2001:db8:1:2:ffff::9"))
        );
        assert_eq!(
            address_group(ip("2001:db8:1:2:aaaa::1")),
            "2001:db8:1:2::/64"
        );
        assert_ne!(
            address_group(ip("2001:db8:1:2::1")),
            address_group(ip("2001:db8:1:3::1"))
        );
        assert_eq!(address_group(ip("192.0.2.7")), "192.0.2.7");
        assert_eq!(address_group(ip("::ffff:192.0.2.7")), "192.0.2.7");
    }

    #[test]
    fn the_concurrency_cap_admits_up_to_its_limit() {
        let cap = ConcurrencyCap { per_address: 2 };
        assert!(cap.admits(0) && cap.admits(1));
        assert!(!cap.admits(2));
    }
}
