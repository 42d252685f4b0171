//! The connections of every SDK client the library makes (EC2, STS for roles, SSO, the instance
//! metadata service): which certificates TLS trusts and which proxy a request goes through.
//!
//! Generic plumbing: nothing here knows DescribeStoreImageTasks. Settings are resolved once, at
//! client creation, as the AWS CLI resolves them:
//! - trusted certificates: the configured CA bundle, else `AWS_CA_BUNDLE`, else the selected
//!   profile's `ca_bundle`, else the system's roots;
//! - proxies: the configured proxy, else `https_proxy`/`HTTPS_PROXY` for `https://` requests and
//!   `http_proxy`/`HTTP_PROXY` for `http://` ones (`all_proxy`/`ALL_PROXY` for both when those are
//!   unset), with `no_proxy`/`NO_PROXY` bypass rules. The instance metadata service is always
//!   reached directly.
//!
//! Plain-HTTP requests and HTTPS requests go through two connectors; the TLS one is only made
//! when the first HTTPS request is sent, so that a client of a plain-HTTP endpoint never loads
//! the system's root certificates.

use std::path::{Path, PathBuf};

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, Connector};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

use crate::error::{Error, ErrorKind, Result};

/// Hosts never sent through a proxy: the instance metadata service's addresses.
const IMDS_HOSTS: &str = "169.254.169.254,fd00:ec2::254";

/// The proxy a client was configured with (`storetasks_config_set_proxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySetting {
    /// The proxy for every request; empty: no proxy at all, whatever the environment says.
    pub url: String,
    /// Bypass rules (`NO_PROXY` syntax); `None`: those of the environment.
    pub no_proxy: Option<String>,
}

/// A proxy URL, checked, and the text that names it in messages (`host:port`, no credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    url: String,
    pub label: String,
    /// The password in the URL's user info, kept out of every message and log line.
    pub password: Option<String>,
}

impl Proxy {
    /// Checks a proxy URL as the AWS CLI reads one: `http://` or `https://`, or no scheme (then
    /// `http://`), a host, an optional port and `user:password@`. `source` names where it came from.
    fn parse(raw: &str, source: &str) -> Result<Proxy> {
        let raw = raw.trim();
        let url = if raw.contains("://") { raw.to_owned() } else { format!("http://{raw}") };
        let (scheme, rest) = url.split_once("://").unwrap_or(("", &url));
        // The user info ends at the last `@`: a password may hold `@` or `/`.
        let (userinfo, after) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let host = after.split(['/', '?', '#']).next().unwrap_or("");
        let shown = |why: &str| {
            Error::new(ErrorKind::Config, format!("the proxy from {source} ({}) is not usable: {why}", redact_userinfo(&url)))
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(shown("its scheme must be http or https"));
        }
        if host.is_empty() || host.starts_with(':') {
            return Err(shown("it names no host"));
        }
        if ProxyConfig::all(url.as_str()).is_err() {
            return Err(shown("it is not a URL"));
        }
        let password = userinfo.and_then(|u| u.split_once(':')).map(|(_, p)| p.to_owned()).filter(|p| !p.is_empty());
        Ok(Proxy { label: host.to_owned(), password, url })
    }
}

/// `scheme://user:***@host...`: a URL as messages may show it. Everything up to the last `@` is
/// user info (a password may hold `@` or `/`); only the user name is kept.
fn redact_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((user, host)) => {
                let name = user.split([':', '/']).next().unwrap_or("");
                format!("{scheme}://{name}:***@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// `%XX` escapes decoded (others kept as they are).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where requests of each scheme go, and what never goes through a proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Proxies {
    pub http: Option<Proxy>,
    pub https: Option<Proxy>,
    no_proxy: String,
}

fn env(names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()).map(|v| (n.to_string(), v)))
}

impl Proxies {
    /// The proxies of a client: the configured one, else the environment's.
    pub fn resolve(setting: Option<&ProxySetting>) -> Result<Proxies> {
        let no_proxy_env = || env(&["no_proxy", "NO_PROXY"]).map(|(_, v)| v).unwrap_or_default();
        let (http, https, no_proxy) = match setting {
            Some(s) if s.url.trim().is_empty() => (None, None, String::new()),
            Some(s) => {
                let p = Proxy::parse(&s.url, "the configuration")?;
                (Some(p.clone()), Some(p), s.no_proxy.clone().unwrap_or_else(no_proxy_env))
            }
            None => {
                let all = env(&["all_proxy", "ALL_PROXY"]);
                let pick = |names: &[&str]| -> Result<Option<Proxy>> {
                    match env(names).or_else(|| all.clone()) {
                        Some((name, v)) => Proxy::parse(&v, &name).map(Some),
                        None => Ok(None),
                    }
                };
                (pick(&["http_proxy", "HTTP_PROXY"])?, pick(&["https_proxy", "HTTPS_PROXY"])?, no_proxy_env())
            }
        };
        let mut rules = no_proxy;
        // The metadata service, and the endpoint it was moved to, are reached directly.
        let imds = std::env::var("AWS_EC2_METADATA_SERVICE_ENDPOINT").ok();
        for host in IMDS_HOSTS
            .split(',')
            .map(str::to_owned)
            .chain(imds.as_deref().map(|u| host_name(&crate::client::url_host(u)).to_owned()))
        {
            if !rules.is_empty() {
                rules.push(',');
            }
            rules.push_str(&host);
        }
        Ok(Proxies { http, https, no_proxy: rules })
    }

    /// The proxy a request to `url` goes through, if any.
    pub fn for_url(&self, url: &str) -> Option<&Proxy> {
        let https = url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        let proxy = if https { self.https.as_ref() } else { self.http.as_ref() }?;
        (!bypassed(&self.no_proxy, host_name(&crate::client::url_host(url)))).then_some(proxy)
    }

    /// The passwords of the proxies, as written and percent-decoded, to keep out of messages and
    /// logs.
    pub fn passwords(&self) -> impl Iterator<Item = String> + '_ {
        self.http.iter().chain(&self.https).filter_map(|p| p.password.as_deref()).flat_map(|p| [p.to_owned(), percent_decoded(p)])
    }

    fn config(&self, proxy: Option<&Proxy>, https: bool) -> ProxyConfig {
        match proxy {
            None => ProxyConfig::disabled(),
            Some(p) => {
                let c = if https { ProxyConfig::https(p.url.as_str()) } else { ProxyConfig::http(p.url.as_str()) };
                // Parsed already: a URL `Proxy::parse` accepted is one the proxy settings accept.
                c.map(|c| c.no_proxy(&self.no_proxy)).unwrap_or_else(|_| ProxyConfig::disabled())
            }
        }
    }
}

/// The host of a `host:port` authority (`[::1]:80` gives `::1`).
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((h, _)) if !h.contains(':') => h,
        _ => authority,
    }
}

/// `NO_PROXY` matching as curl and the AWS CLI do it: `*`, a host or a domain suffix (with or
/// without a leading dot), an IP address or a CIDR block.
fn bypassed(rules: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    rules.split(',').map(str::trim).filter(|r| !r.is_empty()).any(|rule| {
        if rule == "*" {
            return true;
        }
        let rule = rule.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if let (Some(ip), Some((net, bits))) = (ip, rule.split_once('/')) {
            return match (ip, net.parse::<std::net::IpAddr>(), bits.parse::<u32>()) {
                (std::net::IpAddr::V4(a), Ok(std::net::IpAddr::V4(n)), Ok(b)) if b <= 32 => {
                    let mask = if b == 0 { 0 } else { u32::MAX << (32 - b) };
                    u32::from(a) & mask == u32::from(n) & mask
                }
                (std::net::IpAddr::V6(a), Ok(std::net::IpAddr::V6(n)), Ok(b)) if b <= 128 => {
                    let mask = if b == 0 { 0 } else { u128::MAX << (128 - b) };
                    u128::from(a) & mask == u128::from(n) & mask
                }
                _ => false,
            };
        }
        if let (Some(ip), Ok(r)) = (ip, rule.parse::<std::net::IpAddr>()) {
            return ip == r;
        }
        let suffix = rule.trim_start_matches("*.").trim_start_matches('.');
        host == suffix || host.ends_with(&format!(".{suffix}"))
    })
}

/// The CA bundle a client trusts besides the system's roots, from the first place that names
/// one: the configuration, `AWS_CA_BUNDLE`, the selected profile's `ca_bundle`.
pub(crate) fn resolve_ca_bundle(configured: Option<&Path>, profile: Option<&str>) -> Result<Option<(PathBuf, Vec<u8>)>> {
    let (path, source) = if let Some(p) = configured {
        (p.to_owned(), "the configuration".to_owned())
    } else if let Some((_, v)) = env(&["AWS_CA_BUNDLE"]) {
        (PathBuf::from(v), "AWS_CA_BUNDLE".to_owned())
    } else if let Some((p, name)) = profile_value(profile, "ca_bundle") {
        (PathBuf::from(p), format!("the profile {name}"))
    } else {
        return Ok(None);
    };
    let pem = std::fs::read(&path).map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("could not read the CA bundle {} (from {source}): {}", path.display(), io_phrase(&e)),
        )
    })?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(Error::new(
            ErrorKind::Config,
            format!("the CA bundle {} (from {source}) holds no PEM certificate", path.display()),
        ));
    }
    Ok(Some((path, pem)))
}

fn io_phrase(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => e.to_string(),
    }
}

/// A key of the selected profile in the shared config file (`AWS_CONFIG_FILE`, else
/// `~/.aws/config`), and the profile's name. The profile is the configured one, else
/// `AWS_PROFILE`, else `default`.
pub(crate) fn profile_value(profile: Option<&str>, key: &str) -> Option<(String, String)> {
    let name = profile.map(str::to_owned).or_else(|| env(&["AWS_PROFILE"]).map(|(_, v)| v)).unwrap_or_else(|| "default".into());
    let path = match std::env::var_os("AWS_CONFIG_FILE") {
        Some(p) => PathBuf::from(p),
        None => home_dir()?.join(".aws").join("config"),
    };
    let text = std::fs::read_to_string(path).ok()?;
    let wanted = if name == "default" {
        vec!["default".to_owned(), "profile default".to_owned()]
    } else {
        vec![format!("profile {name}")]
    };
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let section = section.split_whitespace().collect::<Vec<_>>().join(" ");
            inside = wanted.contains(&section);
            continue;
        }
        if inside
            && !line.starts_with(char::is_whitespace)
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            let v = v.trim();
            if !v.is_empty() {
                return Some((v.to_owned(), name));
            }
        }
    }
    None
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")).map(PathBuf::from)
}

/// The HTTP client of every SDK client the library makes.
pub(crate) fn http_client(ca_pem: Option<Vec<u8>>, proxies: &Proxies) -> Result<SharedHttpClient> {
    let tls_context = match ca_pem {
        Some(pem) => Some(
            TlsContext::builder()
                .with_trust_store(TrustStore::default().with_pem_certificate(pem))
                .build()
                .map_err(|e| Error::new(ErrorKind::Config, format!("the CA bundle could not be used: {e}")))?,
        ),
        None => None,
    };
    let https_config = proxies.config(proxies.https.as_ref(), true);
    let http_config = proxies.config(proxies.http.as_ref(), false);
    let tls_builder =
        move |settings: Option<&HttpConnectorSettings>, components: Option<&RuntimeComponents>, proxy: ProxyConfig| {
            let mut b =
                connector_builder(settings, components).proxy_config(proxy).tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
            if let Some(ctx) = &tls_context {
                b = b.tls_context(ctx.clone());
            }
            b.build()
        };
    let tls_for_http = tls_builder.clone();
    // An `https://` proxy for plain-HTTP requests needs TLS to reach the proxy itself.
    let http_needs_tls =
        proxies.http.as_ref().is_some_and(|p| p.url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")));
    let tls = Builder::new().build_with_connector_fn(move |s, c| tls_builder(s, c, https_config.clone()));
    let plain = Builder::new().build_with_connector_fn(move |s, c| {
        if http_needs_tls {
            tls_for_http(s, c, http_config.clone())
        } else {
            connector_builder(s, c).proxy_config(http_config.clone()).build_http()
        }
    });
    Ok(SharedHttpClient::new(BySchemeClient { plain, tls }))
}

fn connector_builder(
    settings: Option<&HttpConnectorSettings>,
    components: Option<&RuntimeComponents>,
) -> aws_smithy_http_client::ConnectorBuilder {
    let mut b = Connector::builder();
    b.set_connector_settings(settings.cloned());
    if let Some(c) = components {
        b.set_sleep_impl(c.sleep_impl());
    }
    b
}

/// Sends `https://` requests through one client and the others through the other.
#[derive(Debug, Clone)]
struct BySchemeClient {
    plain: SharedHttpClient,
    tls: SharedHttpClient,
}

impl HttpClient for BySchemeClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(BySchemeConnector {
            clients: self.clone(),
            settings: settings.clone(),
            components: components.clone(),
        })
    }
}

#[derive(Debug)]
struct BySchemeConnector {
    clients: BySchemeClient,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for BySchemeConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let https = request.uri().get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        // Each client keeps the connector it made for these settings: this is a lookup.
        let client = if https { &self.clients.tls } else { &self.clients.plain };
        client.http_connector(&self.settings, &self.components).call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_rules_match_as_curl_does() {
        assert!(bypassed("*", "ec2.us-east-1.amazonaws.com"));
        assert!(bypassed("amazonaws.com", "ec2.us-east-1.amazonaws.com"));
        assert!(bypassed(".amazonaws.com", "ec2.us-east-1.amazonaws.com"));
        assert!(bypassed("*.amazonaws.com", "ec2.us-east-1.amazonaws.com"));
        assert!(!bypassed("zonaws.com", "ec2.us-east-1.amazonaws.com"));
        assert!(bypassed("localhost, 127.0.0.0/8", "127.0.0.1"));
        assert!(!bypassed("10.0.0.0/8", "127.0.0.1"));
        assert!(bypassed("::1", "[::1]"));
        assert!(bypassed("fd00::/8", "fd00:ec2::254"));
        assert!(!bypassed("", "localhost"));
    }

    #[test]
    fn proxy_urls_are_checked_and_never_shown_with_their_password() {
        let p = Proxy::parse("http://alice:s3cret@proxy.example:3128", "HTTPS_PROXY").unwrap();
        assert_eq!(p.label, "proxy.example:3128");
        assert_eq!(p.password.as_deref(), Some("s3cret"));
        assert_eq!(Proxy::parse("proxy.example:3128", "x").unwrap().url, "http://proxy.example:3128");
        let e = Proxy::parse("socks5://alice:s3cret@proxy.example:1080", "ALL_PROXY").unwrap_err();
        assert!(e.message.contains("ALL_PROXY") && e.message.contains("scheme"), "{}", e.message);
        assert!(!e.message.contains("s3cret"), "{}", e.message);
        assert!(Proxy::parse("http://", "x").is_err());
        // A password with `@` or `/` in it is never shown, not even in part.
        for url in ["socks5://u:top@secret@h:1", "socks5://u:pa/ss-secret@h:1", "http://u:pa/ss-secret@:1"] {
            let e = Proxy::parse(url, "HTTPS_PROXY").unwrap_err();
            assert!(!e.message.contains("secret") && !e.message.contains("pa/ss"), "{}", e.message);
        }
        let p = Proxy::parse("http://u:top%40secret@proxy.example:3128", "x").unwrap();
        assert_eq!((p.label.as_str(), p.password.as_deref()), ("proxy.example:3128", Some("top%40secret")));
        assert_eq!(percent_decoded("top%40secret%2F%zz"), "top@secret/%zz");
    }

    #[test]
    fn the_metadata_service_is_never_proxied() {
        let p = Proxy::parse("http://proxy.example:3128", "x").unwrap();
        let mut proxies = Proxies { http: Some(p.clone()), https: Some(p), no_proxy: String::new() };
        proxies.no_proxy = IMDS_HOSTS.to_owned();
        assert!(proxies.for_url("http://169.254.169.254/latest/api/token").is_none());
        assert!(proxies.for_url("http://[fd00:ec2::254]/latest/api/token").is_none());
        assert_eq!(proxies.for_url("https://ec2.us-east-1.amazonaws.com/").map(|p| p.label.as_str()), Some("proxy.example:3128"));
    }
}
