//! Proxies and private CAs: kiln's AWS requests go through HTTP_PROXY (not for
//! hosts in NO_PROXY) and trust the CAs of AWS_CA_BUNDLE or a profile's `ca_bundle`,
//! as the AWS CLI does. Everything stays on 127.0.0.1.

use crate::harness::proxy::{ForwardProxy, TlsFront};
use crate::harness::{
    app_with_three_versions, emulator, free_port, kiln, kiln_without_aws, scratch_dir, write,
};

#[test]
fn requests_go_through_http_proxy_but_not_for_no_proxy_hosts() {
    let (app, amis) = app_with_three_versions("proxy");
    let moto = emulator().endpoint.clone();
    let proxy = ForwardProxy::start();
    let resolve = |name: &str, value: &str| {
        kiln()
            .env(name, value)
            .args(["--app", &app, "--endpoint-url", &moto, "resolve", "app"])
    };

    let through = resolve("HTTP_PROXY", &proxy.url).run().ok();
    assert_eq!(through.stdout, format!("{}\n", amis[2]));
    let seen = proxy.requests();
    assert!(seen >= 1, "the proxy saw no request");

    // The lower-case form, as curl and the AWS CLI read it.
    resolve("http_proxy", &proxy.url).run().ok();
    assert!(proxy.requests() > seen, "http_proxy was ignored");
    let seen = proxy.requests();

    let direct = resolve("HTTP_PROXY", &proxy.url)
        .env("NO_PROXY", "127.0.0.1")
        .run()
        .ok();
    assert_eq!(direct.stdout, format!("{}\n", amis[2]));
    assert_eq!(
        proxy.requests(),
        seen,
        "NO_PROXY hosts went through the proxy"
    );
}

#[test]
fn an_unreachable_proxy_is_named_in_the_help() {
    let moto = emulator().endpoint.clone();
    let port = free_port();
    let run = kiln()
        .env("HTTP_PROXY", format!("http://127.0.0.1:{port}"))
        .args(["--app", "shop", "--endpoint-url", &moto, "resolve", "app"])
        .run();
    run.fails(
        5,
        &format!(
            "error: cannot reach AWS at {moto}: Connection refused (os error 111)\n  help: check --endpoint-url / AWS_ENDPOINT_URL, the region and the network; kiln connects through the proxy set by HTTP_PROXY=http://127.0.0.1:{port}: check that proxy, or add the endpoint's host to NO_PROXY to connect directly\n"
        ),
    );
}

#[test]
fn a_proxy_url_kiln_cannot_use_is_a_usage_error() {
    kiln()
        .env("HTTPS_PROXY", "proxy.example.com:3128")
        .args(["--app", "shop", "resolve", "app"])
        .run()
        .fails(
            2,
            "error: invalid value `proxy.example.com:3128` in environment variable HTTPS_PROXY: expected a proxy URL such as http://proxy.example.com:3128 (invalid proxy URL: proxy URL must include scheme (http:// or https://))\n",
        );
}

#[test]
fn a_private_ca_is_trusted_from_aws_ca_bundle() {
    let (app, amis) = app_with_three_versions("ca-bundle");
    let front = TlsFront::start(&scratch_dir("tls-front"));
    let resolve = || {
        kiln().args([
            "--app",
            &app,
            "--endpoint-url",
            &front.endpoint,
            "resolve",
            "app",
        ])
    };

    let trusted = resolve().env("AWS_CA_BUNDLE", &front.ca).run().ok();
    assert_eq!(trusted.stdout, format!("{}\n", amis[2]));

    // Without it, the system roots alone: rustls's unknown-issuer error, and help
    // that names the two ways to trust the CA.
    resolve().run().fails(
        5,
        &format!(
            "error: cannot reach AWS at {}: invalid peer certificate: UnknownIssuer\n  help: the endpoint's certificate is not signed by a CA this machine trusts: for a private CA (a TLS-inspecting proxy, a private endpoint), set AWS_CA_BUNDLE or `ca_bundle` in the AWS profile to its PEM file\n",
            front.endpoint
        ),
    );
}

/// The corporate case: AWS over https through HTTPS_PROXY (a CONNECT tunnel),
/// the endpoint's certificate from a private CA.
#[test]
fn https_endpoints_go_through_https_proxy_with_a_private_ca() {
    let (app, amis) = app_with_three_versions("https-proxy");
    let front = TlsFront::start(&scratch_dir("tls-front"));
    let proxy = ForwardProxy::start();
    let resolve = || {
        kiln()
            .env("https_proxy", &proxy.url)
            .env("AWS_CA_BUNDLE", &front.ca)
            .args([
                "--app",
                &app,
                "--endpoint-url",
                &front.endpoint,
                "resolve",
                "app",
            ])
    };
    let through = resolve().run().ok();
    assert_eq!(through.stdout, format!("{}\n", amis[2]));
    let seen = proxy.requests();
    assert!(seen >= 1, "the proxy saw no CONNECT");

    // HTTP_PROXY alone is for http:// endpoints only, as in the AWS CLI.
    kiln()
        .env("HTTP_PROXY", &proxy.url)
        .env("AWS_CA_BUNDLE", &front.ca)
        .args([
            "--app",
            &app,
            "--endpoint-url",
            &front.endpoint,
            "resolve",
            "app",
        ])
        .run()
        .ok();
    assert_eq!(proxy.requests(), seen, "HTTP_PROXY was used for https://");

    resolve()
        .env("no_proxy", "localhost,127.0.0.0/8")
        .run()
        .ok();
    assert_eq!(
        proxy.requests(),
        seen,
        "a NO_PROXY range went through the proxy"
    );
}

#[test]
fn a_private_ca_is_trusted_from_ca_bundle_in_the_selected_profile() {
    let (app, amis) = app_with_three_versions("ca-profile");
    let front = TlsFront::start(&scratch_dir("tls-front"));
    let run = kiln();
    let config = write(
        run.dir(),
        "aws-config",
        &format!(
            "[default]\nregion = us-east-1\n\n[profile corp]\nregion = us-east-1\nca_bundle = {}\n",
            front.ca.display()
        ),
    );
    let trusted = run
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "--profile",
            "corp",
            "--app",
            &app,
            "--endpoint-url",
            &front.endpoint,
        ])
        .args(["resolve", "app"])
        .run()
        .ok();
    assert_eq!(trusted.stdout, format!("{}\n", amis[2]));

    // AWS_PROFILE selects it too; the default profile has no bundle.
    let run = kiln()
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "corp")
        .args([
            "--app",
            &app,
            "--endpoint-url",
            &front.endpoint,
            "resolve",
            "app",
        ])
        .run()
        .ok();
    assert_eq!(run.stdout, format!("{}\n", amis[2]));
    let untrusted = kiln()
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "--app",
            &app,
            "--endpoint-url",
            &front.endpoint,
            "resolve",
            "app",
        ])
        .run();
    assert_eq!(untrusted.code, 5, "{}", untrusted.stderr);
}

#[test]
fn a_ca_bundle_kiln_cannot_use_is_named_with_where_it_came_from() {
    kiln_without_aws()
        .env("AWS_CA_BUNDLE", "/nonexistent/corp-ca.pem")
        .args(["--app", "shop", "resolve", "app"])
        .run()
        .fails(
            2,
            "error: cannot use the CA bundle /nonexistent/corp-ca.pem (from environment variable AWS_CA_BUNDLE): No such file or directory (os error 2)\n  help: point environment variable AWS_CA_BUNDLE at a readable file of PEM certificates (-----BEGIN CERTIFICATE-----), or unset it to trust only the system roots\n",
        );

    let run = kiln_without_aws();
    let not_pem = write(run.dir(), "ca.pem", "this is not a certificate\n");
    let config = write(
        run.dir(),
        "aws-config",
        &format!("[profile corp]\nca_bundle = {}\n", not_pem.display()),
    );
    run.env("AWS_CONFIG_FILE", &config)
        .args(["--profile", "corp", "--app", "shop", "resolve", "app"])
        .run()
        .fails(
            2,
            &format!(
                "error: cannot use the CA bundle {pem} (from `ca_bundle` in profile corp of {file}): it holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n  help: point `ca_bundle` in profile corp of {file} at a readable file of PEM certificates (-----BEGIN CERTIFICATE-----), or unset it to trust only the system roots\n",
                pem = not_pem.display(),
                file = config.display()
            ),
        );
}
