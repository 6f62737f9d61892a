//! Where webhooks may go: a URL an organization admin chose is parsed,
//! its host resolved, and every address it resolves to judged (no
//! loopback, private, link-local or metadata address unless
//! `AUTHGATE_WEBHOOK_ALLOW_PRIVATE=true`). The dispatcher then connects to
//! the address that was vetted, not to a second lookup's answer, so a DNS
//! answer that changes between check and use cannot redirect a delivery.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use auth_core::netguard;

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;

#[derive(Clone, Copy, Debug)]
pub struct EgressPolicy {
    /// Allow loopback and private destinations (tests, development).
    pub allow_private: bool,
    /// Refuse `http://` (production).
    pub require_https: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EgressError {
    #[error("url must be an absolute http(s) URL of at most {MAX_URL_LEN} characters")]
    NotAUrl,
    #[error("url must use https")]
    NotHttps,
    #[error("url must not contain credentials")]
    Credentials,
    #[error("the host of url cannot be resolved")]
    Unresolvable,
    #[error("url resolves to {0}, which webhooks may not reach")]
    Forbidden(&'static str),
}

/// Parses an endpoint URL (syntax and scheme only, no lookup).
pub fn parse(raw: &str, policy: EgressPolicy) -> Result<url::Url, EgressError> {
    if raw.len() > MAX_URL_LEN {
        return Err(EgressError::NotAUrl);
    }
    let url = url::Url::parse(raw).map_err(|_| EgressError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if !policy.require_https => {}
        "http" => return Err(EgressError::NotHttps),
        _ => return Err(EgressError::NotAUrl),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EgressError::NotAUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EgressError::Credentials);
    }
    Ok(url)
}

/// The first resolved address, if every one of them may be reached.
fn judge(
    addrs: impl IntoIterator<Item = SocketAddr>,
    policy: EgressPolicy,
) -> Result<SocketAddr, EgressError> {
    let addrs: Vec<SocketAddr> = addrs.into_iter().collect();
    let first = *addrs.first().ok_or(EgressError::Unresolvable)?;
    if !policy.allow_private {
        for a in &addrs {
            if let Some(why) = netguard::refusal(a.ip()) {
                return Err(EgressError::Forbidden(why.describe()));
            }
        }
    }
    Ok(first)
}

fn host_and_port(url: &url::Url) -> Result<(String, u16), EgressError> {
    let port = url.port_or_known_default().ok_or(EgressError::NotAUrl)?;
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Domain(d)) => d.to_owned(),
        None => return Err(EgressError::NotAUrl),
    };
    Ok((host, port))
}

/// Resolves and judges, blocking (the use cases run on the blocking pool).
pub fn vet_blocking(url: &url::Url, policy: EgressPolicy) -> Result<SocketAddr, EgressError> {
    let (host, port) = host_and_port(url)?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return judge([SocketAddr::new(ip, port)], policy);
    }
    let addrs = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|_| EgressError::Unresolvable)?;
    judge(addrs, policy)
}

/// Resolves and judges, for the dispatcher.
pub async fn vet(url: &url::Url, policy: EgressPolicy) -> Result<SocketAddr, EgressError> {
    let (host, port) = host_and_port(url)?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return judge([SocketAddr::new(ip, port)], policy);
    }
    let addrs = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| EgressError::Unresolvable)?;
    judge(addrs, policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: EgressPolicy = EgressPolicy {
        allow_private: false,
        require_https: true,
    };
    const DEV: EgressPolicy = EgressPolicy {
        allow_private: true,
        require_https: false,
    };

    #[test]
    fn only_http_urls_without_credentials_parse() {
        assert!(parse("https://hooks.example.com/x", STRICT).is_ok());
        assert_eq!(
            parse("http://hooks.example.com/x", STRICT),
            Err(EgressError::NotHttps)
        );
        assert!(parse("http://hooks.example.com/x", DEV).is_ok());
        assert_eq!(parse("ftp://x/y", DEV), Err(EgressError::NotAUrl));
        assert_eq!(parse("not a url", DEV), Err(EgressError::NotAUrl));
        assert_eq!(
            parse("https://u:p@x.example/", DEV),
            Err(EgressError::Credentials)
        );
        let long = format!("https://x.example/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(parse(&long, DEV), Err(EgressError::NotAUrl));
    }

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        for raw in [
            "https://127.0.0.1/",
            "https://[::1]:8443/",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/",
            "https://localhost/",
        ] {
            let url = parse(raw, STRICT).unwrap();
            assert!(
                matches!(vet_blocking(&url, STRICT), Err(EgressError::Forbidden(_))),
                "{raw}"
            );
            assert!(vet_blocking(&url, DEV).is_ok(), "{raw}");
        }
    }

    #[test]
    fn the_vetted_address_carries_the_port() {
        let url = parse("https://93.184.216.34:8443/h", STRICT).unwrap();
        assert_eq!(
            vet_blocking(&url, STRICT).unwrap(),
            "93.184.216.34:8443".parse().unwrap()
        );
    }
}
