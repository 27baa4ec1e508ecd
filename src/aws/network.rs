//! How kiln's HTTP connections reach AWS: through the proxies named by
//! `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (and `NO_PROXY`), trusting the system
//! roots plus the private CAs of `AWS_CA_BUNDLE` or `ca_bundle`, as the AWS CLI does.
//!
//! `config` reads the variables and the bundle file (and reports a bad one with where
//! it came from); this module only turns the result into the SDK's HTTP client, and
//! remembers the proxies so that an unreachable endpoint's help can name them.

use std::path::PathBuf;
use std::sync::OnceLock;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, Connector};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// The proxy variables in effect, each as `(variable name, value)`: lower-case forms
/// win over upper-case ones, as in the AWS CLI (Python's `urllib`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    pub http: Option<(String, String)>,
    pub https: Option<(String, String)>,
    pub all: Option<(String, String)>,
    pub no_proxy: Option<(String, String)>,
}

impl Proxies {
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none() && self.all.is_none()
    }

    /// `HTTPS_PROXY=http://proxy:3128, NO_PROXY=...`: what was set, for messages.
    pub fn describe(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let set: Vec<String> = [&self.https, &self.http, &self.all, &self.no_proxy]
            .into_iter()
            .flatten()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        Some(set.join(", "))
    }

    /// The SDK's proxy configuration. `ProxyConfig` holds one proxy URL, so when
    /// HTTP and HTTPS go to different proxies the SDK (hyper-util) reads the
    /// variables itself; there alone the upper-case form wins when both are set.
    fn config(&self) -> ProxyConfig {
        let value = |p: &Option<(String, String)>| p.as_ref().map(|(_, v)| v.clone());
        let (http, https) = match (value(&self.http), value(&self.https), value(&self.all)) {
            (http, https, Some(all)) => (http.or(Some(all.clone())), https.or(Some(all))),
            (http, https, None) => (http, https),
        };
        let chosen = match (http, https) {
            (None, None) => return ProxyConfig::disabled(),
            (Some(h), Some(s)) if h == s => ProxyConfig::all(h),
            (Some(h), None) => ProxyConfig::http(h),
            (None, Some(s)) => ProxyConfig::https(s),
            (Some(_), Some(_)) => return ProxyConfig::from_env(),
        };
        // The URLs were checked in config; a refusal here cannot happen.
        let chosen = chosen.unwrap_or_else(|_| ProxyConfig::from_env());
        match &self.no_proxy {
            Some((_, rules)) => chosen.no_proxy(rules),
            None => chosen,
        }
    }
}

/// A file of PEM certificates to trust besides the system roots, already read and
/// checked by `config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundle {
    pub path: PathBuf,
    pub pem: Vec<u8>,
}

/// Checks that a proxy URL is one the SDK can use (`http://` or `https://`, a host).
pub fn check_proxy_url(url: &str) -> Result<(), String> {
    ProxyConfig::all(url).map(|_| ()).map_err(|e| e.to_string())
}

/// The proxies of the last client built, for the unreachable-endpoint help.
static IN_EFFECT: OnceLock<Option<String>> = OnceLock::new();

/// The proxy variables in effect, as `NAME=value, …`, if any was set.
pub fn proxies_in_effect() -> Option<String> {
    IN_EFFECT.get().cloned().flatten()
}

/// The HTTP client every AWS call goes through: rustls on ring, the system roots
/// plus `ca_bundle`, through `proxies`.
pub fn http_client(proxies: &Proxies, ca_bundle: Option<&CaBundle>) -> SharedHttpClient {
    let _ = IN_EFFECT.set(proxies.describe());
    let mut trust = TrustStore::default();
    if let Some(bundle) = ca_bundle {
        trust.add_pem_certificate(bundle.pem.clone());
    }
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a TLS context with a trust store always builds");
    let proxy = proxies.config();
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = Connector::builder();
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder
            .proxy_config(proxy.clone())
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .tls_context(context.clone())
            .build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, value: &str) -> Option<(String, String)> {
        Some((name.to_string(), value.to_string()))
    }

    #[test]
    fn no_proxy_variable_means_a_direct_connection() {
        let proxies = Proxies {
            no_proxy: set("NO_PROXY", "127.0.0.1"),
            ..Proxies::default()
        };
        assert!(proxies.config().is_disabled());
        assert_eq!(proxies.describe(), None);
    }

    #[test]
    fn one_proxy_is_configured_explicitly_two_different_ones_from_the_environment() {
        let one = Proxies {
            all: set("ALL_PROXY", "http://proxy:3128"),
            ..Proxies::default()
        };
        let config = one.config();
        assert!(!config.is_disabled() && !config.is_from_env());
        let two = Proxies {
            http: set("HTTP_PROXY", "http://a:1"),
            https: set("HTTPS_PROXY", "http://b:2"),
            ..Proxies::default()
        };
        assert!(two.config().is_from_env());
    }
}
