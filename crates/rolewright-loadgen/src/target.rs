//! The server under load: parsing `--url` and refusing anything that is not on this machine.

use std::net::{IpAddr, SocketAddr};

/// Where requests go: the socket to connect to and the `Host` header to send (and sign).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The loopback socket address that connections are opened to.
    pub addr: SocketAddr,
    /// The authority from the URL (`127.0.0.1:8080`), sent and signed as the `Host` header.
    pub host_header: String,
}

/// Why a `--url` was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// Only plain `http://` is spoken.
    #[error("unsupported scheme in `{0}`: only `http://` is supported (loopback, no TLS)")]
    Scheme(String),
    /// The URL has a path, query or fragment that would be ignored.
    #[error("`{0}` has a path: give only `http://HOST:PORT`, requests always go to `/`")]
    Path(String),
    /// The port is missing or not a number.
    #[error("`{0}` needs an explicit numeric port, for example `http://127.0.0.1:8080`")]
    Port(String),
    /// The host is not (or not only) a loopback address.
    #[error(
        "refusing to send load to `{host}`: it is not a loopback address; \
         rolewright-loadgen only targets 127.0.0.0/8, ::1 or localhost"
    )]
    NotLoopback {
        /// The host as written.
        host: String,
    },
}

impl Target {
    /// Parses `http://HOST:PORT` (an optional trailing `/` is allowed); the host must be a
    /// loopback IP address or `localhost`.
    pub fn parse(url: &str) -> Result<Self, TargetError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| TargetError::Scheme(url.to_owned()))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(TargetError::Path(url.to_owned()));
        }
        let authority = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        let (host, port) =
            split_host_port(authority).ok_or_else(|| TargetError::Port(url.to_owned()))?;
        let port: u16 = port
            .parse()
            .map_err(|_| TargetError::Port(url.to_owned()))?;
        // Names other than `localhost` are refused without asking a resolver: what a name
        // resolves to can change between this check and the connection.
        let ip = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::from([127, 0, 0, 1])
        } else {
            host.parse::<IpAddr>()
                .ok()
                .filter(IpAddr::is_loopback)
                .ok_or_else(|| TargetError::NotLoopback {
                    host: host.to_owned(),
                })?
        };
        let addr = SocketAddr::new(ip, port);
        Ok(Self {
            addr,
            host_header: authority.to_owned(),
        })
    }
}

/// Splits `host:port` or `[v6]:port`, returning the host without brackets.
fn split_host_port(authority: &str) -> Option<(&str, &str)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        Some((host, after.strip_prefix(':')?))
    } else {
        let (host, port) = authority.rsplit_once(':')?;
        (!host.is_empty() && !host.contains(':')).then_some((host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_forms() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.host_header, "127.0.0.1:8080");
        let t = Target::parse("http://[::1]:9/").unwrap();
        assert_eq!(t.addr, "[::1]:9".parse().unwrap());
        assert_eq!(t.host_header, "[::1]:9");
        let t = Target::parse("http://127.1.2.3:1").unwrap();
        assert_eq!(t.addr.ip().to_string(), "127.1.2.3");
        assert!(
            Target::parse("http://localhost:80")
                .unwrap()
                .addr
                .ip()
                .is_loopback()
        );
    }

    #[test]
    fn refuses_remote_hosts() {
        assert_eq!(
            Target::parse("http://10.0.0.1:80").unwrap_err().to_string(),
            "refusing to send load to `10.0.0.1`: it is not a loopback address; \
             rolewright-loadgen only targets 127.0.0.0/8, ::1 or localhost"
        );
        assert_eq!(
            Target::parse("http://example.com:80").unwrap_err(),
            TargetError::NotLoopback {
                host: "example.com".into()
            }
        );
        assert!(matches!(
            Target::parse("http://0.0.0.0:80"),
            Err(TargetError::NotLoopback { .. })
        ));
    }

    #[test]
    fn refuses_malformed_urls() {
        assert_eq!(
            Target::parse("https://127.0.0.1:443")
                .unwrap_err()
                .to_string(),
            "unsupported scheme in `https://127.0.0.1:443`: only `http://` is supported (loopback, no TLS)"
        );
        assert!(matches!(
            Target::parse("http://127.0.0.1"),
            Err(TargetError::Port(_))
        ));
        assert!(matches!(
            Target::parse("http://127.0.0.1:80/iam"),
            Err(TargetError::Path(_))
        ));
        assert!(matches!(
            Target::parse("http://127.0.0.1:x"),
            Err(TargetError::Port(_))
        ));
    }
}
