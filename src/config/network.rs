//! The proxy variables and the CA bundle, read as the AWS CLI reads them, checked
//! before any AWS call.
//!
//! Proxies: `https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY`,
//! `all_proxy`/`ALL_PROXY`, `no_proxy`/`NO_PROXY`, the lower-case form first (as
//! Python's `urllib`, which the AWS CLI uses). CA bundle: `AWS_CA_BUNDLE`, else
//! `ca_bundle` in the selected profile of the AWS config file (`AWS_CONFIG_FILE`,
//! default `~/.aws/config`). A bundle kiln cannot read, or one that holds no usable
//! certificate, is an error naming the file and where its name came from.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::Env;
use crate::aws::network::{CaBundle, Proxies, check_proxy_url};
use crate::aws::profile::{config_file, config_value, expand};
use crate::error::{Error, Result, Source};

/// Reads the proxy variables; a URL the HTTP client cannot use is refused here.
pub fn proxies(env: &Env) -> Result<Proxies> {
    let pick = |lower: &'static str, upper: &'static str, url: bool| -> Result<_> {
        for name in [lower, upper] {
            if let Some(value) = env.var(name) {
                if url {
                    check_proxy_url(&value).map_err(|detail| Error::InvalidValue {
                        source: Source::Env(name),
                        value: value.clone(),
                        expected: format!(
                            "a proxy URL such as http://proxy.example.com:3128 ({detail})"
                        ),
                    })?;
                }
                return Ok(Some((name.to_string(), value)));
            }
        }
        Ok(None)
    };
    Ok(Proxies {
        https: pick("https_proxy", "HTTPS_PROXY", true)?,
        http: pick("http_proxy", "HTTP_PROXY", true)?,
        all: pick("all_proxy", "ALL_PROXY", true)?,
        no_proxy: pick("no_proxy", "NO_PROXY", false)?,
    })
}

/// The CA bundle to trust besides the system roots, if one is configured.
/// `profile` is the profile kiln selected (`--profile` or kiln.toml), if any.
pub fn ca_bundle(env: &Env, profile: Option<&str>) -> Result<Option<CaBundle>> {
    if let Some(path) = env.var("AWS_CA_BUNDLE") {
        return load(&expand(&path, env), "environment variable AWS_CA_BUNDLE").map(Some);
    }
    let profile = profile
        .map(str::to_string)
        .or_else(|| env.var("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_string());
    let file = config_file(env);
    // A missing or unreadable config file is the SDK's to report (or not).
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(None);
    };
    match config_value(&text, &profile, "ca_bundle") {
        Some(path) => load(
            &expand(&path, env),
            &format!("`ca_bundle` in profile {profile} of {}", file.display()),
        )
        .map(Some),
        None => Ok(None),
    }
}

/// Reads and checks a bundle: every certificate must parse, and there must be one.
fn load(path: &Path, origin: &str) -> Result<CaBundle> {
    let fail = |detail: String| Error::CaBundle {
        path: path.to_path_buf(),
        origin: origin.to_string(),
        detail,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not a PEM file: {e}")))?;
    if certs.is_empty() {
        return Err(fail(
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| fail(format!("a certificate in it cannot be used: {e}")))?;
    }
    Ok(CaBundle {
        path: path.to_path_buf(),
        pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_proxy_wins_as_in_the_cli() {
        let env = Env::from_pairs(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("NO_PROXY", "127.0.0.1"),
        ]);
        let p = proxies(&env).unwrap();
        assert_eq!(
            p.https,
            Some(("https_proxy".into(), "http://lower:2".into()))
        );
        assert_eq!(p.no_proxy, Some(("NO_PROXY".into(), "127.0.0.1".into())));
        assert_eq!(
            p.describe().unwrap(),
            "https_proxy=http://lower:2, NO_PROXY=127.0.0.1"
        );
    }

    #[test]
    fn a_proxy_url_without_scheme_is_refused_naming_the_variable() {
        let env = Env::from_pairs(&[("HTTP_PROXY", "proxy:3128")]);
        let err = proxies(&env).unwrap_err();
        assert!(
            err.to_string().contains("environment variable HTTP_PROXY"),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_bundle_names_the_file_and_its_origin() {
        let env = Env::from_pairs(&[("AWS_CA_BUNDLE", "/nonexistent/ca.pem")]);
        let err = ca_bundle(&env, None).unwrap_err();
        assert!(matches!(
            &err,
            Error::CaBundle { path, origin, .. }
                if path == Path::new("/nonexistent/ca.pem") && origin == "environment variable AWS_CA_BUNDLE"
        ));
    }
}
