//! The client: its own tokio runtime, an EC2 client, and the configuration that builds them.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region};
use aws_credential_types::Credentials;

use crate::cancel::{CancelToken, Ended, race};
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
    /// Where the roles the library assumes itself (fleet calls, waits) are asked for; `None`:
    /// `AWS_ENDPOINT_URL_STS`, the profile, else STS's regional endpoint.
    pub sts_endpoint_url: Option<String>,
    /// The proxy of every request; `None`: the environment's (`HTTPS_PROXY`...).
    pub proxy: Option<crate::transport::ProxySetting>,
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
            sts_endpoint_url: None,
            proxy: None,
            app_name: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        }
    }
}

impl ClientConfig {
    /// Checks what can be checked before anything is made; the application name, checked.
    fn check(&self) -> Result<Option<AppName>> {
        check_not_blank("region", &self.region)?;
        check_not_blank("profile name", &self.profile)?;
        check_not_blank("app name", &self.app_name)?;
        for (what, url) in [("endpoint URL", &self.endpoint_url), ("STS endpoint URL", &self.sts_endpoint_url)] {
            if let Some(url) = url {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("http://") || lower.starts_with("https://")) || url.len() < 10 {
                    return Err(Error::invalid(format!("the {what} must start with http:// or https://, not {url:?}")));
                }
            }
        }
        if let Some(c) = &self.credentials
            && (c.access_key_id.is_empty() || c.secret_access_key.is_empty())
        {
            return Err(Error::invalid("the access key id and the secret access key must not be empty"));
        }
        if let Some(n) = self.max_attempts {
            check_max_attempts(n)?;
        }
        check_max_concurrency(self.max_concurrency)?;
        for (what, d) in [
            ("connect timeout", self.connect_timeout),
            ("attempt timeout", self.attempt_timeout),
            ("operation timeout", self.operation_timeout),
        ] {
            if d == Some(Duration::ZERO) {
                return Err(Error::invalid(format!("the {what} must be longer than zero")));
            }
        }
        Ok(match &self.app_name {
            Some(n) => Some(
                AppName::new(n.clone())
                    .map_err(|_| Error::invalid(format!("app name {n:?} may only hold letters, digits and !#$%&'*+-.^_`|~")))?,
            ),
            None => None,
        })
    }

    /// The SDK's configuration loader with every setting given.
    fn loader(
        &self,
        app_name: Option<AppName>,
        http_client: aws_smithy_runtime_api::client::http::SharedHttpClient,
    ) -> aws_config::ConfigLoader {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = &self.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(p) = &self.profile {
            loader = loader.profile_name(p.clone());
        }
        if let Some(c) = &self.credentials {
            loader = loader.credentials_provider(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.clone(),
                c.session_token.clone(),
                None,
                "storetasks-static",
            ));
        }
        if self.retry_mode.is_some() || self.max_attempts.is_some() {
            let mut retry = match self.retry_mode.unwrap_or_default() {
                RetryMode::Standard => RetryConfig::standard(),
                RetryMode::Adaptive => RetryConfig::adaptive(),
            };
            if let Some(n) = self.max_attempts {
                retry = retry.with_max_attempts(n);
            }
            loader = loader.retry_config(retry);
        }
        if self.connect_timeout.is_some() || self.attempt_timeout.is_some() || self.operation_timeout.is_some() {
            let mut t = TimeoutConfig::builder();
            if let Some(d) = self.connect_timeout {
                t = t.connect_timeout(d);
            }
            if let Some(d) = self.attempt_timeout {
                t = t.operation_attempt_timeout(d);
            }
            if let Some(d) = self.operation_timeout {
                t = t.operation_timeout(d);
            }
            loader = loader.timeout_config(t.build());
        }
        if let Some(b) = self.use_fips {
            loader = loader.use_fips(b);
        }
        if let Some(b) = self.use_dual_stack {
            loader = loader.use_dual_stack(b);
        }
        if let Some(a) = app_name {
            loader = loader.app_name(a);
        }
        loader.http_client(http_client)
    }

    /// Secrets to keep out of error messages and log lines: the static ones, those the default
    /// chain will read from the environment, and proxy passwords.
    fn secrets(&self, proxies: &crate::transport::Proxies) -> Vec<String> {
        let mut secrets: Vec<String> = self
            .credentials
            .iter()
            .flat_map(|c| std::iter::once(c.secret_access_key.clone()).chain(c.session_token.clone()))
            .collect();
        secrets.extend(["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"].iter().filter_map(|v| std::env::var(v).ok()));
        secrets.extend(proxies.passwords());
        secrets.retain(|s| s.len() >= 4);
        secrets
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
    /// The same, for the STS clients that assume roles (with the configured STS endpoint).
    pub(crate) sts_config: aws_config::SdkConfig,
    /// The endpoint URL given in the configuration, if any: EC2's alone.
    pub(crate) endpoint_url: Option<String>,
    /// The proxies requests go through, for messages.
    pub(crate) proxies: std::sync::Arc<crate::transport::Proxies>,
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
        let app_name = config.check()?;
        let proxies = crate::transport::Proxies::resolve(config.proxy.as_ref())?;
        let http_client = match given_http_client {
            Some(h) => h,
            None => {
                let ca = crate::transport::resolve_ca_bundle(config.ca_bundle.as_deref(), config.profile.as_deref())?;
                crate::transport::http_client(ca.map(|(_, pem)| pem), &proxies)?
            }
        };
        let runtime = OwnedRuntime::start()?;
        let handle = runtime.handle();
        let loader = config.loader(app_name, http_client);
        let secrets = config.secrets(&proxies);
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
        // The endpoint URL is EC2's: the STS client that assumes roles, made from the same
        // configuration, goes to STS's own endpoint.
        let mut ec2_config = aws_sdk_ec2::config::Builder::from(&sdk_config);
        if let Some(u) = &config.endpoint_url {
            ec2_config.set_endpoint_url(Some(u.clone()));
        }
        let ec2 = aws_sdk_ec2::Client::from_conf(ec2_config.build());
        // Messages name the endpoint EC2 requests go to: the setter's, else the environment's or
        // the profile's as the SDK resolves them, else the region's.
        let endpoint_url = config.endpoint_url.clone().or_else(|| configured_ec2_endpoint(&sdk_config));
        let endpoint = crate::places::endpoint_label(endpoint_url.as_deref(), sdk_config.region().map(|r| r.as_ref()), &proxies);
        let sts_config = match &config.sts_endpoint_url {
            Some(u) => sdk_config.to_builder().endpoint_url(u.clone()).build(),
            None => sdk_config.clone(),
        };
        Ok(Client {
            _runtime: runtime,
            handle,
            ec2,
            max_concurrency: config.max_concurrency,
            endpoint: endpoint.into(),
            sdk_config,
            sts_config,
            endpoint_url,
            proxies: std::sync::Arc::new(proxies),
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
        refuse_on_library_thread()?;
        spawn_and_wait(&self.handle, cancel, fut).map_err(|e| self.redact(e))
    }

    /// What removes the configured secrets from an error's text, for work that outlives a borrow
    /// of the client.
    pub(crate) fn redactor(&self) -> impl Fn(Error) -> Error + Send + 'static {
        let secrets = self.secrets.clone();
        move |mut e| {
            for s in &secrets {
                e = e.redact(s);
            }
            e
        }
    }

    /// Removes the configured secrets from an error's text.
    pub(crate) fn redact(&self, mut e: Error) -> Error {
        for s in &self.secrets {
            e = e.redact(s);
        }
        e
    }
}

/// A configuration for tests and fuzzing: a region, static keys and an endpoint where nothing
/// listens, so that building the client contacts nothing.
#[doc(hidden)]
pub fn offline_config() -> ClientConfig {
    ClientConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some("http://127.0.0.1:9".into()),
        credentials: Some(StaticCredentials {
            access_key_id: "AKIASTORETASKSLOCAL1".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        }),
        ..Default::default()
    }
}

thread_local! {
    /// Whether this thread is one of a client's own workers (where calls run and their callbacks
    /// are called).
    static ON_LIBRARY_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Refuses a blocking call on one of the library's own threads (a callback of a call that does not
/// block runs there): the call would wait for work that the blocked thread itself was to run.
pub(crate) fn refuse_on_library_thread() -> Result<()> {
    match ON_LIBRARY_THREAD.get() {
        true => Err(Error::invalid(
            "a blocking call was made on one of the library's threads (from a call's callback): start it instead",
        )),
        false => Ok(()),
    }
}

/// The client's runtime. Dropping a runtime from inside another runtime panics, and a blocking
/// shutdown there would stall the caller's: inside one, the runtime is handed off to shut down in
/// the background; elsewhere its threads get a few seconds to finish.
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl OwnedRuntime {
    /// The client's own runtime, two worker threads. Wrapped at once, so that every early return
    /// after it shuts it down safely, even when the caller is inside a tokio runtime of its own.
    fn start() -> Result<OwnedRuntime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("storetasks-worker")
            .on_thread_start(|| ON_LIBRARY_THREAD.set(true))
            .enable_all()
            .build()
            .map_err(|e| Error::new(ErrorKind::Config, format!("could not start the runtime: {e}")))?;
        Ok(OwnedRuntime(Some(rt)))
    }

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

/// EC2's endpoint URL from the environment or the profile (`AWS_ENDPOINT_URL_EC2`, the
/// `services` section, `AWS_ENDPOINT_URL`, `endpoint_url`), as the SDK resolves it.
fn configured_ec2_endpoint(sdk_config: &aws_config::SdkConfig) -> Option<String> {
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("EC2")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk_config.service_config().and_then(|c| c.load_config(key)).or_else(|| sdk_config.endpoint_url().map(str::to_owned))
}

/// The `host:port` of a URL (no scheme, credentials, path or query).
pub(crate) fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h).to_owned()
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
        let result = match race(fut, cancel.as_ref(), None).await {
            Ended::Done(r) => r,
            Ended::Cancelled | Ended::Stopped => Err(Error::cancelled()),
        };
        let _ = tx.send(result);
    });
    rx.recv()
        .unwrap_or_else(|_| Err(Error::new(ErrorKind::Panic, "the request ended without an answer (a panic inside the library)")))
}
