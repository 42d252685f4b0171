//! The client configuration builder.

use std::ffi::{CString, c_char};
use std::time::Duration;

use super::{free_box, into_raw, opt_string_arg, setter, store, storetasks_status, str_arg};
use crate::client::{ClientConfig, RetryMode, StaticCredentials};
use crate::error::Error;

/// A client configuration being built. Opaque; create with `storetasks_config_new`, free with
/// `storetasks_config_free`. Not safe to change from two threads at once.
pub struct storetasks_config {
    pub(crate) inner: ClientConfig,
    last_error: Option<CString>,
}

builder_handle!(storetasks_config, "config");

/// How failed attempts are retried.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum storetasks_retry_mode {
    /// What the environment or profile says, else the SDK's standard mode.
    Default = 0,
    /// Exponential backoff with jitter and a retry quota.
    Standard = 1,
    /// Standard, plus client-side rate limiting when throttled.
    Adaptive = 2,
}

/// A new configuration with the AWS defaults: region, credentials and settings come from the
/// environment, the shared config files and the other sources the SDK knows.
///
/// The caller owns the result and frees it with `storetasks_config_free`. Returns NULL only if
/// memory ran out. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_new() -> *mut storetasks_config {
    super::boundary_or(std::ptr::null_mut(), || into_raw(storetasks_config { inner: ClientConfig::default(), last_error: None }))
}

/// Frees a configuration. NULL is ignored. Clients built from it are not affected.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_free(config: *mut storetasks_config) {
    free_box(config);
}

fn set(config: *mut storetasks_config, f: impl FnOnce(&mut ClientConfig) -> Result<(), Error>) -> storetasks_status {
    setter(config, |c| f(&mut c.inner))
}

/// Why the most recent setter call on `config` (`storetasks_config_set_*`) did not return OK, as
/// one sentence; NULL when that call succeeded (each setter call sets or clears it), and for a
/// NULL config. Borrowed from the configuration until its next setter call or its free. Like the
/// setters, not to be called while another thread changes the same configuration.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_last_error(config: *const storetasks_config) -> *const c_char {
    super::last_error(config)
}

/// Sets the region (such as "eu-west-1"); NULL goes back to the default chain.
/// Returns INVALID_ARGUMENT for a NULL config or invalid UTF-8.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_region(config: *mut storetasks_config, region: *const c_char) -> storetasks_status {
    store(config, || opt_string_arg(region, "region"), |c| &mut c.inner.region)
}

/// Sets EC2's endpoint URL (an emulator, a VPC endpoint); NULL goes back to the default. It is
/// EC2's alone: the roles the library assumes go to STS's endpoint (see
/// `storetasks_config_set_sts_endpoint_url`).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_endpoint_url(config: *mut storetasks_config, url: *const c_char) -> storetasks_status {
    store(config, || opt_string_arg(url, "endpoint URL"), |c| &mut c.inner.endpoint_url)
}

/// Sets the profile of the shared config files to use; NULL goes back to the default profile.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_profile(config: *mut storetasks_config, profile: *const c_char) -> storetasks_status {
    store(config, || opt_string_arg(profile, "profile"), |c| &mut c.inner.profile)
}

/// Sets static credentials. `access_key_id` and `secret_access_key` are required, `session_token`
/// may be NULL. The strings are copied. Passing NULL for both keys goes back to the default chain.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_credentials(
    config: *mut storetasks_config,
    access_key_id: *const c_char,
    secret_access_key: *const c_char,
    session_token: *const c_char,
) -> storetasks_status {
    set(config, |c| {
        if access_key_id.is_null() && secret_access_key.is_null() {
            c.credentials = None;
            return Ok(());
        }
        c.credentials = Some(StaticCredentials {
            access_key_id: str_arg(access_key_id, "access key id")?.to_owned(),
            secret_access_key: str_arg(secret_access_key, "secret access key")?.to_owned(),
            session_token: opt_string_arg(session_token, "session token")?,
        });
        Ok(())
    })
}

/// Sets the retry mode (a `storetasks_retry_mode` value; others are INVALID_ARGUMENT) and the
/// maximum number of attempts (the first one included; 0 keeps the default, 1 disables retries,
/// above `STORETASKS_MAX_ATTEMPTS` is INVALID_ARGUMENT with the reason in
/// `storetasks_config_last_error`).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_retry(config: *mut storetasks_config, mode: i32, max_attempts: u32) -> storetasks_status {
    set(config, |c| {
        c.retry_mode = match mode {
            m if m == storetasks_retry_mode::Default as i32 => None,
            m if m == storetasks_retry_mode::Standard as i32 => Some(RetryMode::Standard),
            m if m == storetasks_retry_mode::Adaptive as i32 => Some(RetryMode::Adaptive),
            other => return Err(Error::invalid(format!("{other} is not a storetasks_retry_mode"))),
        };
        if max_attempts > 0 {
            crate::client::check_max_attempts(max_attempts)?;
        }
        c.max_attempts = (max_attempts > 0).then_some(max_attempts);
        Ok(())
    })
}

/// Sets timeouts in milliseconds; 0 keeps a timeout's default. `connect_ms` bounds each TCP/TLS
/// connect, `attempt_ms` each attempt, `operation_ms` a whole call with its retries (for a
/// listing: each page).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_timeouts(
    config: *mut storetasks_config,
    connect_ms: u64,
    attempt_ms: u64,
    operation_ms: u64,
) -> storetasks_status {
    set(config, |c| {
        let ms = |v: u64| (v > 0).then(|| Duration::from_millis(v));
        c.connect_timeout = ms(connect_ms);
        c.attempt_timeout = ms(attempt_ms);
        c.operation_timeout = ms(operation_ms);
        Ok(())
    })
}

/// Uses FIPS endpoints (true) or not (false).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_use_fips(config: *mut storetasks_config, use_fips: bool) -> storetasks_status {
    store(config, || Ok(Some(use_fips)), |c| &mut c.inner.use_fips)
}

/// Uses dual-stack (IPv4 and IPv6) endpoints (true) or not (false).
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_use_dual_stack(
    config: *mut storetasks_config,
    use_dual_stack: bool,
) -> storetasks_status {
    store(config, || Ok(Some(use_dual_stack)), |c| &mut c.inner.use_dual_stack)
}

/// Trusts the PEM certificates in this file in addition to the system's roots (for TLS-inspecting
/// proxies). The file is read when the client is created. NULL goes back to the system roots only.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_ca_bundle(config: *mut storetasks_config, pem_path: *const c_char) -> storetasks_status {
    store(config, || Ok(opt_string_arg(pem_path, "CA bundle path")?.map(Into::into)), |c| &mut c.inner.ca_bundle)
}

/// Sends the AssumeRole requests of the roles the library assumes itself (fleet calls, waits
/// across targets) to this URL (`http://` or `https://`, checked when the client is created).
/// Without it they go to `AWS_ENDPOINT_URL_STS`, the profile's, else STS's regional endpoint:
/// never to the EC2 endpoint URL. Roles of the profile (`role_arn`) follow the environment and
/// the profile, as the AWS CLI does. NULL removes it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_sts_endpoint_url(
    config: *mut storetasks_config,
    sts_endpoint_url: *const c_char,
) -> storetasks_status {
    store(config, || opt_string_arg(sts_endpoint_url, "STS endpoint URL"), |c| &mut c.inner.sts_endpoint_url)
}

/// Sends every request (EC2, STS for roles, SSO) through the proxy `proxy_url`
/// (`http://[user:password@]host:port`, or `https://...` for a proxy reached over TLS; without a
/// scheme, `http://`), except requests to hosts that match `no_proxy` (comma-separated: `*`, a
/// host, a domain suffix, an IP address or a CIDR block; NULL: the `NO_PROXY` environment
/// variable's rules). An empty `proxy_url` sends every request directly, whatever the environment
/// says; NULL (with a NULL `no_proxy`) goes back to the environment's `HTTPS_PROXY`, `HTTP_PROXY`
/// and `NO_PROXY`. The instance metadata service is never reached through a proxy. The password
/// never appears in a message or log line.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_proxy(
    config: *mut storetasks_config,
    proxy_url: *const c_char,
    no_proxy: *const c_char,
) -> storetasks_status {
    set(config, |c| {
        let url = opt_string_arg(proxy_url, "proxy URL")?;
        let no_proxy = opt_string_arg(no_proxy, "no-proxy rules")?;
        c.proxy = match (url, no_proxy) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(Error::invalid("no-proxy rules need a proxy URL (NULL goes back to the environment's)"));
            }
            (Some(url), no_proxy) => {
                let setting = crate::transport::ProxySetting { url, no_proxy };
                crate::transport::Proxies::resolve(Some(&setting)).map_err(|e| Error::invalid(e.message))?;
                Some(setting)
            }
        };
        Ok(())
    })
}

/// Adds an application name to the user agent (letters, digits and !#$%&'*+-.^_`|~ only; checked
/// when the client is created). NULL removes it.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_app_name(config: *mut storetasks_config, app_name: *const c_char) -> storetasks_status {
    store(config, || opt_string_arg(app_name, "app name"), |c| &mut c.inner.app_name)
}

/// How much runs at once (default 8): the requests of 20 image ids that a longer id list is
/// split into (in each place), the places a fleet call lists, and the pages a fleet call queues
/// for its caller. From 1 to `STORETASKS_MAX_CONCURRENCY`; other values are INVALID_ARGUMENT with
/// the reason in `storetasks_config_last_error`.
#[unsafe(no_mangle)]
pub extern "C" fn storetasks_config_set_max_concurrency(
    config: *mut storetasks_config,
    max_concurrency: usize,
) -> storetasks_status {
    store(
        config,
        || crate::client::check_max_concurrency(max_concurrency).map(|()| max_concurrency),
        |c| &mut c.inner.max_concurrency,
    )
}
