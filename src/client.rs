//! The client: its own tokio runtime, an EC2 client, and the configuration that builds them.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region};
use aws_credential_types::Credentials;

use crate::cancel::CancelToken;
use crate::error::{Error, ErrorKind, Result};

/// How the SDK retries failed attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryMode {
    #[default]
    Standard,
    Adaptive,
}

/// Static credentials given by the caller.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Default number of concurrent requests when a long image id list is split.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
/// The largest concurrency a client takes: far beyond what EC2 answers at once, and far below
/// what would overflow the runtime's semaphores (they panic above `usize::MAX >> 3`).
pub const MAX_CONCURRENCY: usize = 1024;
/// The most attempts a request may be given, the first one included: with the SDK's backoff
/// (at most 20 s between attempts) about half an hour of retrying. The SDK's retry strategy
/// does work in proportion to the number (billions of attempts panic inside it).
pub const MAX_ATTEMPTS: u32 = 100;

/// Refuses a concurrency outside 1..=MAX_CONCURRENCY, saying why.
pub fn check_max_concurrency(n: usize) -> Result<()> {
    if (1..=MAX_CONCURRENCY).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(format!("max concurrency must be from 1 to {MAX_CONCURRENCY}, not {n}")))
    }
}

/// Refuses a number of attempts outside 1..=MAX_ATTEMPTS, saying why.
pub fn check_max_attempts(n: u32) -> Result<()> {
    if (1..=MAX_ATTEMPTS).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(format!("max attempts must be from 1 to {MAX_ATTEMPTS}, not {n}")))
    }
}

/// Everything a client can be configured with. `None` means "what the AWS defaults say".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub credentials: Option<StaticCredentials>,
    pub retry_mode: Option<RetryMode>,
    pub max_attempts: Option<u32>,
    pub connect_timeout: Option<Duration>,
    pub attempt_timeout: Option<Duration>,
    pub operation_timeout: Option<Duration>,
    pub use_fips: Option<bool>,
    pub use_dual_stack: Option<bool>,
    pub ca_bundle: Option<PathBuf>,
    pub app_name: Option<String>,
    pub max_concurrency: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            region: None,
            endpoint_url: None,
            profile: None,
            credentials: None,
            retry_mode: None,
            max_attempts: None,
            connect_timeout: None,
            attempt_timeout: None,
            operation_timeout: None,
            use_fips: None,
            use_dual_stack: None,
            ca_bundle: None,
            app_name: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        }
    }
}

/// A client for DescribeStoreImageTasks. Safe to share between threads.
pub struct Client {
    // First, so that it is dropped first: its worker threads stop before the SDK client goes.
    _runtime: OwnedRuntime,
    handle: tokio::runtime::Handle,
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) max_concurrency: usize,
    /// Where requests go, for messages: `host:port` of the endpoint URL, or the region's endpoint.
    pub(crate) endpoint: std::sync::Arc<str>,
    /// The loaded configuration, from which the clients of other regions and accounts are made.
    pub(crate) sdk_config: aws_config::SdkConfig,
    /// The endpoint URL given in the configuration, if any.
    pub(crate) endpoint_url: Option<String>,
    secrets: Vec<String>,
    _log_mask: crate::log::SecretGuard,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("max_concurrency", &self.max_concurrency).finish_non_exhaustive()
    }
}

fn check_not_blank(what: &str, value: &Option<String>) -> Result<()> {
    match value {
        Some(v) if v.trim().is_empty() => Err(Error::invalid(format!("the {what} is empty"))),
        _ => Ok(()),
    }
}

impl Client {
    /// Builds a client. With an explicit region and credentials nothing is probed over the
    /// network: the instance metadata service is only asked when the default chain needs it.
    pub fn new(config: ClientConfig) -> Result<Client> {
        Self::build(config, None)
    }

    /// A client that sends every request through `http_client` instead of the network: for
    /// tests and fuzzing that hand the library arbitrary replies without a socket.
    #[doc(hidden)]
    pub fn with_http_client(
        config: ClientConfig,
        http_client: aws_smithy_runtime_api::client::http::SharedHttpClient,
    ) -> Result<Client> {
        Self::build(config, Some(http_client))
    }

    fn build(
        config: ClientConfig,
        given_http_client: Option<aws_smithy_runtime_api::client::http::SharedHttpClient>,
    ) -> Result<Client> {
        check_not_blank("region", &config.region)?;
        check_not_blank("profile name", &config.profile)?;
        check_not_blank("app name", &config.app_name)?;
        if let Some(url) = &config.endpoint_url {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://")) || url.len() < 10 {
                return Err(Error::invalid(format!("the endpoint URL must start with http:// or https://, not {url:?}")));
            }
        }
        if let Some(c) = &config.credentials
            && (c.access_key_id.is_empty() || c.secret_access_key.is_empty())
        {
            return Err(Error::invalid("the access key id and the secret access key must not be empty"));
        }
        if let Some(n) = config.max_attempts {
            check_max_attempts(n)?;
        }
        check_max_concurrency(config.max_concurrency)?;
        for (what, d) in [
            ("connect timeout", config.connect_timeout),
            ("attempt timeout", config.attempt_timeout),
            ("operation timeout", config.operation_timeout),
        ] {
            if d == Some(Duration::ZERO) {
                return Err(Error::invalid(format!("the {what} must be longer than zero")));
            }
        }
        let app_name = match &config.app_name {
            Some(n) => Some(
                AppName::new(n.clone())
                    .map_err(|_| Error::invalid(format!("app name {n:?} may only hold letters, digits and !#$%&'*+-.^_`|~")))?,
            ),
            None => None,
        };
        let plain_http = config.endpoint_url.as_deref().is_some_and(|u| u.to_ascii_lowercase().starts_with("http://"));
        let http_client = match (&config.ca_bundle, given_http_client) {
            (_, Some(h)) => Some(h),
            (Some(path), None) => Some(https_client_with_ca(path)?),
            // A plain-HTTP endpoint (an emulator, a local proxy) needs no TLS: skipping it spares
            // loading the system's root certificates, most of a client's creation time.
            (None, None) if plain_http => Some(aws_smithy_http_client::Builder::new().build_http()),
            (None, None) => Some(https_client(None)?),
        };

        // Wrapped at once, so that every early return below shuts it down safely, even when the
        // caller is inside a tokio runtime of its own.
        let runtime = OwnedRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("storetasks-worker")
                .enable_all()
                .build()
                .map_err(|e| Error::new(ErrorKind::Config, format!("could not start the runtime: {e}")))?,
        ));
        let handle = runtime.handle();

        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = &config.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(u) = &config.endpoint_url {
            loader = loader.endpoint_url(u.clone());
        }
        if let Some(p) = &config.profile {
            loader = loader.profile_name(p.clone());
        }
        if let Some(c) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                c.session_token.clone(),
                None,
                "storetasks-static",
            ));
        }
        if config.retry_mode.is_some() || config.max_attempts.is_some() {
            let mut retry = match config.retry_mode.unwrap_or_default() {
                RetryMode::Standard => RetryConfig::standard(),
                RetryMode::Adaptive => RetryConfig::adaptive(),
            };
            if let Some(n) = config.max_attempts {
                retry = retry.with_max_attempts(n);
            }
            loader = loader.retry_config(retry);
        }
        if config.connect_timeout.is_some() || config.attempt_timeout.is_some() || config.operation_timeout.is_some() {
            let mut t = TimeoutConfig::builder();
            if let Some(d) = config.connect_timeout {
                t = t.connect_timeout(d);
            }
            if let Some(d) = config.attempt_timeout {
                t = t.operation_attempt_timeout(d);
            }
            if let Some(d) = config.operation_timeout {
                t = t.operation_timeout(d);
            }
            loader = loader.timeout_config(t.build());
        }
        if let Some(b) = config.use_fips {
            loader = loader.use_fips(b);
        }
        if let Some(b) = config.use_dual_stack {
            loader = loader.use_dual_stack(b);
        }
        if let Some(a) = app_name {
            loader = loader.app_name(a);
        }
        if let Some(h) = http_client {
            loader = loader.http_client(h);
        }

        // Secrets to keep out of error messages and log lines: the static ones, and those the
        // default chain will read from the environment.
        let mut secrets: Vec<String> = config
            .credentials
            .iter()
            .flat_map(|c| std::iter::once(c.secret_access_key.clone()).chain(c.session_token.clone()))
            .collect();
        secrets.extend(["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"].iter().filter_map(|v| std::env::var(v).ok()));
        secrets.retain(|s| s.len() >= 4);
        crate::log::init();
        let log_mask = crate::log::register_secrets(&secrets);
        tracing::debug!(
            region = config.region.as_deref().unwrap_or("(default chain)"),
            endpoint = config.endpoint_url.as_deref().unwrap_or("(default)"),
            profile = config.profile.as_deref().unwrap_or("(default)"),
            static_credentials = config.credentials.is_some(),
            "creating a client"
        );
        let sdk_config = spawn_and_wait(&handle, None, async move { Ok(loader.load().await) })?;
        if sdk_config.region().is_none() {
            return Err(Error::new(ErrorKind::Config, "no region: set one, or AWS_REGION, or a region in the profile"));
        }
        let ec2_config = aws_sdk_ec2::config::Builder::from(&sdk_config).build();
        let ec2 = aws_sdk_ec2::Client::from_conf(ec2_config);
        let endpoint = endpoint_label(config.endpoint_url.as_deref(), sdk_config.region().map(|r| r.as_ref()));
        Ok(Client {
            _runtime: runtime,
            handle,
            ec2,
            max_concurrency: config.max_concurrency,
            endpoint: endpoint.into(),
            sdk_config,
            endpoint_url: config.endpoint_url.clone(),
            secrets,
            _log_mask: log_mask,
        })
    }

    /// The runtime the client's requests run on.
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }

    /// Runs `fut` on the client's runtime and blocks the calling thread until it ends or `cancel`
    /// fires. Works from any thread, including one that is inside another tokio runtime.
    pub(crate) fn run<T, F>(&self, cancel: Option<&CancelToken>, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        spawn_and_wait(&self.handle, cancel, fut).map_err(|e| self.redact(e))
    }

    /// Removes the configured secrets from an error's text.
    pub(crate) fn redact(&self, mut e: Error) -> Error {
        for s in &self.secrets {
            e = e.redact(s);
        }
        e
    }
}

/// The client's runtime. Dropping a runtime from inside another runtime panics, and a blocking
/// shutdown there would stall the caller's: inside one, the runtime is handed off to shut down in
/// the background; elsewhere its threads get a few seconds to finish.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl OwnedRuntime {
    fn handle(&self) -> tokio::runtime::Handle {
        self.0.as_ref().expect("the runtime is there until dropped").handle().clone()
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background();
            } else {
                rt.shutdown_timeout(Duration::from_secs(5));
            }
        }
    }
}

/// How messages name where requests go: the endpoint URL's `host:port` (no credentials, path or
/// query), or "the EC2 endpoint of REGION".
pub(crate) fn endpoint_label(url: Option<&str>, region: Option<&str>) -> String {
    match url {
        Some(u) => {
            let rest = u.split_once("://").map_or(u, |(_, r)| r);
            let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if host.is_empty() { u.to_owned() } else { host.to_owned() }
        }
        None => format!("the EC2 endpoint of {}", region.unwrap_or("the configured region")),
    }
}

fn spawn_and_wait<T, F>(handle: &tokio::runtime::Handle, cancel: Option<&CancelToken>, fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let cancel = cancel.cloned();
    if cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
        return Err(Error::cancelled());
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        let result = match cancel {
            Some(c) => tokio::select! {
                biased;
                _ = c.cancelled() => Err(Error::cancelled()),
                r = fut => r,
            },
            None => fut.await,
        };
        let _ = tx.send(result);
    });
    rx.recv()
        .unwrap_or_else(|_| Err(Error::new(ErrorKind::Panic, "the request ended without an answer (a panic inside the library)")))
}

fn https_client_with_ca(path: &std::path::Path) -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::new(ErrorKind::Config, format!("could not read the CA bundle {}: {e}", path.display())))?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(Error::new(ErrorKind::Config, format!("the CA bundle {} holds no PEM certificate", path.display())));
    }
    https_client(Some(pem))
}

/// The HTTPS client of every SDK client the library makes (EC2, STS for roles, SSO, IMDS):
/// rustls with ring as its crypto provider, trusting the system's root certificates or, given
/// `ca_pem`, those certificates instead. The SDK's default client is compiled out (Cargo.toml).
fn https_client(ca_pem: Option<Vec<u8>>) -> Result<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let mut builder = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
    if let Some(pem) = ca_pem {
        let ctx = TlsContext::builder()
            .with_trust_store(TrustStore::default().with_pem_certificate(pem))
            .build()
            .map_err(|e| Error::new(ErrorKind::Config, format!("the CA bundle could not be used: {e}")))?;
        builder = builder.tls_context(ctx);
    }
    Ok(builder.build_https())
}
