//! GitHub Deployments for `kiln deploy` and `kiln rollback`.
//!
//! A team that ships from GitHub looks at the repository's environments page to see
//! what runs where. So when kiln rolls an image out it records a GitHub Deployment
//! (the commit, the environment, and in the payload the AMI id and registry version)
//! and moves its status from `in_progress` to `success` or `failure`.
//!
//! GitHub only watches: a deploy never fails because of it. Every call here returns
//! a [`GithubError`] meant for a warning line, bounded in time (connect 5 s, request
//! 15 s, one retry on a 5xx answer), and nothing here prints the token.

use std::fmt;
use std::time::Duration;

use octocrab::Octocrab;
use octocrab::models::repos::DeploymentStatusState;
use serde::Serialize;

use crate::error::{Error, Source};
use crate::model::{AmiId, AppName, ParameterName, Region, Version};

/// Where GitHub's REST API is when neither `--github-api-url` nor `GITHUB_API_URL` says.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// How long opening a connection to GitHub may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request to GitHub may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The pause before the one retry of a request GitHub answered with a 5xx.
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// The longest description GitHub accepts on a deployment status.
const MAX_STATUS_DESCRIPTION: usize = 140;
/// The REST API version kiln's requests are written for.
const API_VERSION: &str = "2022-11-28";

/// A token kept out of every `Debug` and `Display`.
#[derive(Clone)]
struct Secret(String);

impl Secret {
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The repository whose deployments kiln records, and how to reach its API.
pub struct GithubTarget {
    /// The REST API root, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    pub owner: String,
    pub repo: String,
    token: Secret,
}

impl fmt::Debug for GithubTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubTarget")
            .field("api_url", &self.api_url)
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("token", &self.token)
            .finish()
    }
}

impl GithubTarget {
    /// The target from the environment, or `None` when deployments are not to be
    /// recorded.
    ///
    /// Recording is on when `GITHUB_TOKEN` and `GITHUB_REPOSITORY` (`owner/repo`) are
    /// both set, or when `--github` (`enabled_flag`) asks for it; then a missing one is
    /// a usage error. The API is `--github-api-url` (`api_url_flag`), else
    /// `GITHUB_API_URL` (set by Actions on GitHub Enterprise), else api.github.com.
    /// `ci` holds those variables; blank counts as unset.
    pub fn from_env(
        enabled_flag: bool,
        api_url_flag: Option<&str>,
        ci: &crate::config::CiEnv,
    ) -> Result<Option<GithubTarget>, Error> {
        fn set(value: Option<&str>) -> Option<&str> {
            value.filter(|v| !v.trim().is_empty())
        }
        let (token, repository) =
            match (set(ci.github_token()), set(ci.github_repository.as_deref())) {
                (Some(token), Some(repository)) => (token, repository),
                _ if enabled_flag => {
                    return Err(Error::InvalidValue {
                        source: Source::Flag("--github"),
                        value: "".into(),
                        expected: "GITHUB_TOKEN and GITHUB_REPOSITORY in the environment".into(),
                    });
                }
                _ => return Ok(None),
            };
        let (owner, repo) = parse_repository(repository)?;
        let token = parse_token(token)?;
        let api_url = match api_url_flag {
            Some(flag) => parse_api_url(flag, Source::Flag("--github-api-url"))?,
            None => match set(ci.github_api_url.as_deref()) {
                Some(url) => parse_api_url(url, Source::Env("GITHUB_API_URL"))?,
                None => DEFAULT_API_URL.to_string(),
            },
        };
        Ok(Some(GithubTarget {
            api_url,
            owner,
            repo,
            token,
        }))
    }
}

/// `owner/repo`, as `GITHUB_REPOSITORY` holds it.
fn parse_repository(value: &str) -> Result<(String, String), Error> {
    let name_ok = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match value.trim().split_once('/') {
        Some((owner, repo)) if name_ok(owner) && name_ok(repo) => {
            Ok((owner.to_string(), repo.to_string()))
        }
        _ => Err(Error::InvalidValue {
            source: Source::Env("GITHUB_REPOSITORY"),
            value: value.to_string(),
            expected: "OWNER/REPO, such as octo-org/shop".into(),
        }),
    }
}

/// The token goes into an HTTP header: printable ASCII only (the header would not
/// build otherwise). The error never shows the value.
fn parse_token(value: &str) -> Result<Secret, Error> {
    let token = value.trim();
    if token.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(Secret(token.to_string()))
    } else {
        Err(Error::InvalidValue {
            source: Source::Env("GITHUB_TOKEN"),
            value: "(hidden)".into(),
            expected: "a GitHub token: printable ASCII characters without spaces".into(),
        })
    }
}

/// An http(s) URL with a host and no credentials, without its trailing slash.
fn parse_api_url(value: &str, source: Source) -> Result<String, Error> {
    let url = value.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let authority = rest.map(|rest| rest.split('/').next().unwrap_or(""));
    match authority {
        Some(host)
            if !host.is_empty()
                && !host.contains('@')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(url.to_string())
        }
        _ => Err(Error::InvalidValue {
            source,
            value: marked_credentials(value.trim()),
            expected:
                "an http(s) URL without credentials, such as https://github.example.com/api/v3"
                    .into(),
        }),
    }
}

/// A URL as it may be shown in an error: its credentials (dropped by
/// `provenance::without_credentials`, the one scrubber) marked `[credentials]@`, so
/// the message still says why the URL was refused.
fn marked_credentials(url: &str) -> String {
    let scrubbed = crate::provenance::without_credentials(url);
    if scrubbed == url {
        scrubbed
    } else {
        scrubbed.replacen("://", "://[credentials]@", 1)
    }
}

/// The state of a deployment status, as GitHub spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    InProgress,
    Success,
    Failure,
    Error,
    Inactive,
}

impl DeploymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::InProgress => "in_progress",
            DeploymentState::Success => "success",
            DeploymentState::Failure => "failure",
            DeploymentState::Error => "error",
            DeploymentState::Inactive => "inactive",
        }
    }

    fn to_octocrab(self) -> DeploymentStatusState {
        match self {
            DeploymentState::InProgress => DeploymentStatusState::InProgress,
            DeploymentState::Success => DeploymentStatusState::Success,
            DeploymentState::Failure => DeploymentStatusState::Failure,
            DeploymentState::Error => DeploymentStatusState::Error,
            DeploymentState::Inactive => DeploymentStatusState::Inactive,
        }
    }
}

impl fmt::Display for DeploymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// GitHub's id of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeploymentId(pub u64);

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A deployment to record: what is rolled out, from which commit, where.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    /// The commit the image was built from (the deployment's `ref`).
    pub commit: String,
    /// The GitHub environment, e.g. `production`.
    pub environment: String,
    pub description: String,
    /// The environment goes away after the deployment (e.g. a preview stack).
    pub transient_environment: bool,
    /// The environment serves users.
    pub production_environment: bool,
    pub image: DeployedImage,
}

/// What is deployed: the deployment's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedImage {
    pub ami_id: AmiId,
    /// The registry parameter the version belongs to.
    pub parameter: ParameterName,
    /// The registry version that holds the AMI id.
    pub version: Version,
    pub region: Region,
    pub app: AppName,
    /// How it is rolled out: `rolling`, `instance-refresh`, `blue-green` or `none`.
    pub strategy: String,
}

impl DeployedImage {
    fn payload(&self) -> serde_json::Value {
        serde_json::json!({
            "ami_id": self.ami_id.as_str(),
            "parameter": self.parameter.as_str(),
            "version": self.version.0,
            "region": self.region.as_str(),
            "app": self.app.as_str(),
            "strategy": self.strategy,
        })
    }
}

/// Why a GitHub call did not do what was asked. One line, never the token; for a
/// warning, since GitHub never fails a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubError {
    /// The HTTP status GitHub answered with; `None` when no usable answer came.
    pub status: Option<u16>,
    message: String,
}

impl fmt::Display for GithubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GithubError {}

impl GithubError {
    fn unreachable(api_url: &str, detail: &str) -> Self {
        Self {
            status: None,
            message: format!("cannot reach GitHub at {api_url}: {detail}"),
        }
    }

    fn is_server_error(&self) -> bool {
        self.status.is_some_and(|status| status >= 500)
    }
}

/// The longest GitHub message kept in a warning line.
const MAX_MESSAGE: usize = 300;

/// Records deployments and their statuses in one repository.
pub struct Deployments {
    client: Octocrab,
    api_url: String,
    owner: String,
    repo: String,
    /// Kept to scrub it out of anything GitHub sends back.
    token: Secret,
    request_timeout: Duration,
}

impl fmt::Debug for Deployments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deployments")
            .field("api_url", &self.api_url)
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

impl Deployments {
    /// A client for `target`. Call it inside the Tokio runtime: octocrab starts its
    /// request queue there.
    pub fn new(target: &GithubTarget) -> Result<Self, GithubError> {
        if !target.token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            return Err(GithubError::unreachable(
                &target.api_url,
                "the token holds characters an HTTP header cannot carry",
            ));
        }
        let unusable_url =
            |_| GithubError::unreachable(&target.api_url, "not a URL kiln can use as the API root");
        // Proxies (HTTPS_PROXY/NO_PROXY) are NOT honoured here yet, unlike the AWS
        // client (aws::network). octocrab 0.54 has two ways: `build_with_reqwest`
        // (reqwest reads the variables), but octocrab's `rustls` feature then turns on
        // reqwest's aws-lc-rs, the C crypto library kiln avoids; or `with_service` with
        // a hand-built hyper client (a CONNECT-tunnelling connector from hyper-util's
        // `Tunnel` and `Matcher::from_env`), which means rebuilding octocrab's own
        // middleware stack (base URI, auth header, extra headers, timeouts) outside
        // octocrab. Left for a change of its own, with a test through a proxy.
        let client = Octocrab::builder()
            .base_uri(target.api_url.as_str())
            .map_err(unusable_url)?
            .personal_token(target.token.expose().to_string())
            .add_header(
                "x-github-api-version".parse().expect("a valid header name"),
                API_VERSION.to_string(),
            )
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .set_write_timeout(Some(REQUEST_TIMEOUT))
            .build()
            .map_err(|e| GithubError::unreachable(&target.api_url, &one_line(&e.to_string())))?;
        Ok(Self {
            client,
            api_url: target.api_url.clone(),
            owner: target.owner.clone(),
            repo: target.repo.clone(),
            token: target.token.clone(),
            request_timeout: REQUEST_TIMEOUT,
        })
    }

    /// Creates a deployment of `request.commit` to `request.environment`.
    ///
    /// `auto_merge` is off and `required_contexts` empty: kiln deploys an image that
    /// was already built and tested, so neither a merge of the default branch nor
    /// the commit's status checks may stand in the way.
    pub async fn create(&self, request: &NewDeployment) -> Result<DeploymentId, GithubError> {
        let what = format!("POST /repos/{}/{}/deployments", self.owner, self.repo);
        let payload = request.image.payload();
        let deployment = self
            .send(&what, async || {
                self.client
                    .repos(&self.owner, &self.repo)
                    .deployments()
                    .create(&request.commit)
                    .environment(&request.environment)
                    .description(&request.description)
                    .auto_merge(false)
                    .required_contexts(Vec::<String>::new())
                    .transient_environment(request.transient_environment)
                    .production_environment(request.production_environment)
                    .payload(payload.clone())
                    .send()
                    .await
            })
            .await?;
        Ok(DeploymentId(deployment.id.into_inner()))
    }

    /// Adds a status to deployment `id`. `description` is cut to GitHub's 140
    /// characters; `log_url` links the run. A success marks the environment's
    /// earlier deployments inactive.
    ///
    /// The status names no environment: GitHub then keeps the deployment's own,
    /// which is what kiln wants (a status never moves a deployment elsewhere), and
    /// the call needs nothing but the id (each call may come from a new client).
    pub async fn set_status(
        &self,
        id: DeploymentId,
        state: DeploymentState,
        description: &str,
        log_url: Option<&str>,
    ) -> Result<(), GithubError> {
        let what = format!(
            "POST /repos/{}/{}/deployments/{id}/statuses",
            self.owner, self.repo
        );
        let description = shortened(description, MAX_STATUS_DESCRIPTION);
        self.send(&what, async || {
            let repo = self.client.repos(&self.owner, &self.repo);
            let deployments = repo.deployments();
            let statuses = deployments.statuses(id.0);
            let mut status = statuses
                .create(state.to_octocrab())
                .description(&description);
            if let Some(url) = log_url {
                status = status.log_url(url);
            }
            if state == DeploymentState::Success {
                status = status.auto_inactive(true);
            }
            status.send().await
        })
        .await?;
        Ok(())
    }

    /// Runs one request within the request timeout, and once more if GitHub answered
    /// it with a 5xx.
    async fn send<T>(
        &self,
        what: &str,
        mut request: impl AsyncFnMut() -> octocrab::Result<T>,
    ) -> Result<T, GithubError> {
        let mut retried = false;
        loop {
            let result = match tokio::time::timeout(self.request_timeout, request()).await {
                Ok(result) => result.map_err(|e| self.error(what, e)),
                Err(_) => Err(GithubError::unreachable(
                    &self.api_url,
                    &format!(
                        "no answer to {what} within {}s",
                        self.request_timeout.as_secs_f32()
                    ),
                )),
            };
            match result {
                Err(e) if e.is_server_error() && !retried => {
                    tracing::debug!("GitHub answered {what} with a server error, retrying: {e}");
                    retried = true;
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                other => return other,
            }
        }
    }

    /// The one-line, token-free form of what octocrab reported.
    fn error(&self, what: &str, error: octocrab::Error) -> GithubError {
        let error = match error {
            octocrab::Error::GitHub { source, .. } => {
                let mut message = source.message.clone();
                let details: Vec<String> = source
                    .errors
                    .iter()
                    .flatten()
                    .filter_map(|detail| {
                        detail
                            .get("message")
                            .or_else(|| detail.get("code"))
                            .and_then(|text| text.as_str())
                            .map(str::to_string)
                    })
                    .collect();
                if !details.is_empty() {
                    message = format!("{message} ({})", details.join("; "));
                }
                let status = source.status_code;
                GithubError {
                    status: Some(status.as_u16()),
                    message: format!(
                        "GitHub answered {} to {what}: {}",
                        status,
                        shortened(&one_line(&message), MAX_MESSAGE)
                    ),
                }
            }
            octocrab::Error::Json { .. } | octocrab::Error::Serde { .. } => GithubError {
                status: None,
                message: format!(
                    "GitHub at {} gave an answer to {what} kiln cannot read: {}",
                    self.api_url,
                    shortened(&one_line(&error.to_string()), MAX_MESSAGE)
                ),
            },
            other => GithubError::unreachable(&self.api_url, &cause(&other)),
        };
        GithubError {
            message: error.message.replace(self.token.expose(), "[redacted]"),
            ..error
        }
    }
}

/// The messages of an error's chain below octocrab's own wrapper ("Service Error"),
/// outermost first, without repeats: hyper's "client error (Connect)" says little
/// until its source says "Connection refused".
fn cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error.source().unwrap_or(error));
    while let Some(error) = next {
        let text = one_line(&error.to_string());
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = error.source();
    }
    shortened(&parts.join(": "), MAX_MESSAGE)
}

/// `text` on one line, runs of whitespace made one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max` characters, an ellipsis marking the cut.
fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "ghs_fakeTokenForTests0123456789";

    fn target(api_url: &str) -> GithubTarget {
        GithubTarget {
            api_url: api_url.to_string(),
            owner: "octo-org".into(),
            repo: "shop".into(),
            token: Secret(TOKEN.into()),
        }
    }

    fn request() -> NewDeployment {
        NewDeployment {
            commit: "6dcb09b5b57875f334f61aebed695e2e4193db5e".into(),
            environment: "production".into(),
            description: "kiln deploy shop:42 (ami-0123456789abcdef0)".into(),
            transient_environment: false,
            production_environment: true,
            image: DeployedImage {
                ami_id: AmiId::from_aws("ami-0123456789abcdef0"),
                parameter: ParameterName::from_aws("/kiln/shop/app"),
                version: Version(42),
                region: Region::from_aws("eu-west-1"),
                app: AppName::from_aws("shop"),
                strategy: "rolling".into(),
            },
        }
    }

    /// A deployment as GitHub answers a create (trimmed to what octocrab reads).
    fn deployment_answer(server: &MockServer, id: u64) -> serde_json::Value {
        let repo = format!("{}/repos/octo-org/shop", server.uri());
        json!({
            "url": format!("{repo}/deployments/{id}"),
            "id": id,
            "node_id": "MDEwOkRlcGxveW1lbnQx",
            "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "ref": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "task": "deploy",
            "payload": {},
            "original_environment": "production",
            "environment": "production",
            "description": "kiln deploy",
            "creator": null,
            "created_at": "2026-01-10T14:03:00Z",
            "updated_at": "2026-01-10T14:03:00Z",
            "statuses_url": format!("{repo}/deployments/{id}/statuses"),
            "repository_url": repo,
            "transient_environment": false,
            "production_environment": true
        })
    }

    /// A deployment status as GitHub answers a create.
    fn status_answer(
        server: &MockServer,
        id: u64,
        status_id: u64,
        state: &str,
    ) -> serde_json::Value {
        let repo = format!("{}/repos/octo-org/shop", server.uri());
        json!({
            "url": format!("{repo}/deployments/{id}/statuses/{status_id}"),
            "id": status_id,
            "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXMx",
            "state": state,
            "creator": null,
            "description": "",
            "environment": "production",
            "target_url": "",
            "log_url": "",
            "created_at": "2026-01-10T14:03:00Z",
            "updated_at": "2026-01-10T14:03:00Z",
            "deployment_url": format!("{repo}/deployments/{id}"),
            "repository_url": repo
        })
    }

    fn expected_create_body() -> serde_json::Value {
        json!({
            "ref": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
            "environment": "production",
            "description": "kiln deploy shop:42 (ami-0123456789abcdef0)",
            "auto_merge": false,
            "required_contexts": [],
            "transient_environment": false,
            "production_environment": true,
            "payload": {
                "ami_id": "ami-0123456789abcdef0",
                "parameter": "/kiln/shop/app",
                "version": 42,
                "region": "eu-west-1",
                "app": "shop",
                "strategy": "rolling"
            }
        })
    }

    const LOG_URL: &str = "https://github.com/octo-org/shop/actions/runs/7";

    /// A status names no environment (GitHub keeps the deployment's).
    fn expected_status_body(state: &str, description: &str) -> serde_json::Value {
        let mut body = json!({
            "state": state,
            "description": description,
            "log_url": LOG_URL,
        });
        if state == "success" {
            body["auto_inactive"] = json!(true);
        }
        body
    }

    fn bearer() -> String {
        format!("Bearer {TOKEN}")
    }

    #[tokio::test]
    async fn a_deploy_creates_a_deployment_then_reports_in_progress_then_success() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/repos/octo-org/shop/deployments"))
            .and(header("authorization", bearer().as_str()))
            .and(body_json(expected_create_body()))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(deployment_answer(&server, 1207)),
            )
            .expect(1)
            .mount(&server)
            .await;
        for (state, description, status_id) in [
            ("in_progress", "rolling out ami-0123456789abcdef0", 1),
            ("success", "4 of 4 instances on ami-0123456789abcdef0", 2),
        ] {
            Mock::given(method("POST"))
                .and(path("/repos/octo-org/shop/deployments/1207/statuses"))
                .and(header("authorization", bearer().as_str()))
                .and(body_json(expected_status_body(state, description)))
                .respond_with(
                    ResponseTemplate::new(201)
                        .set_body_json(status_answer(&server, 1207, status_id, state)),
                )
                .expect(1)
                .mount(&server)
                .await;
        }

        // A new client for every call, as `Effects::github` makes them in a run.
        let client = || Deployments::new(&target(&server.uri())).unwrap();
        let id = client().create(&request()).await.unwrap();
        assert_eq!(id, DeploymentId(1207));
        client()
            .set_status(
                id,
                DeploymentState::InProgress,
                "rolling out ami-0123456789abcdef0",
                Some(LOG_URL),
            )
            .await
            .unwrap();
        client()
            .set_status(
                id,
                DeploymentState::Success,
                "4 of 4 instances on ami-0123456789abcdef0",
                Some(LOG_URL),
            )
            .await
            .unwrap();

        let received = server.received_requests().await.unwrap();
        let seen: Vec<(String, String, serde_json::Value)> = received
            .iter()
            .map(|request| {
                let authorization = request.headers.get("authorization").unwrap();
                assert_eq!(authorization.to_str().unwrap(), bearer());
                let version = request.headers.get("x-github-api-version").unwrap();
                assert_eq!(version.to_str().unwrap(), API_VERSION);
                (
                    request.method.to_string(),
                    request.url.path().to_string(),
                    serde_json::from_slice(&request.body).unwrap(),
                )
            })
            .collect();
        let statuses = "/repos/octo-org/shop/deployments/1207/statuses".to_string();
        assert_eq!(
            seen,
            vec![
                (
                    "POST".to_string(),
                    "/repos/octo-org/shop/deployments".to_string(),
                    expected_create_body()
                ),
                (
                    "POST".to_string(),
                    statuses.clone(),
                    expected_status_body("in_progress", "rolling out ami-0123456789abcdef0")
                ),
                (
                    "POST".to_string(),
                    statuses,
                    expected_status_body("success", "4 of 4 instances on ami-0123456789abcdef0")
                ),
            ]
        );
        // `expect(1)` on each mock is checked when the server drops.
    }

    #[tokio::test]
    async fn an_enterprise_api_root_keeps_its_path_and_descriptions_are_cut_to_140() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/v3/repos/octo-org/shop/deployments/9/statuses"))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(status_answer(&server, 9, 1, "failure")),
            )
            .expect(1)
            .mount(&server)
            .await;
        let deployments = Deployments::new(&target(&format!("{}/api/v3", server.uri()))).unwrap();
        let long = "x".repeat(200);
        deployments
            .set_status(DeploymentId(9), DeploymentState::Failure, &long, None)
            .await
            .unwrap();
        let received = server.received_requests().await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&received[0].body).unwrap();
        let description = body["description"].as_str().unwrap();
        assert_eq!(description.chars().count(), 140);
        assert!(description.ends_with('…'));
        assert_eq!(body["state"], "failure");
        // No environment on a status, and no auto_inactive but on success.
        assert!(body.get("environment").is_none());
        assert!(body.get("auto_inactive").is_none());
        assert!(body.get("log_url").is_none());
    }

    #[tokio::test]
    async fn a_refusal_names_the_status_and_githubs_message_but_not_the_token() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/repos/octo-org/shop/deployments"))
            .respond_with(ResponseTemplate::new(422).set_body_json(json!({
                "message": "Validation Failed",
                "errors": [{"resource": "Deployment", "code": "custom",
                            "message": format!("No ref found for: 6dcb09b (token {TOKEN})")}],
                "documentation_url": "https://docs.github.com/rest/deployments/deployments#create-a-deployment",
                "status": "422"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let deployments = Deployments::new(&target(&server.uri())).unwrap();
        let error = deployments.create(&request()).await.unwrap_err();
        assert_eq!(error.status, Some(422));
        assert_eq!(
            error.to_string(),
            "GitHub answered 422 Unprocessable Entity to POST /repos/octo-org/shop/deployments: \
             Validation Failed (No ref found for: 6dcb09b (token [redacted]))"
        );
        assert!(!error.to_string().contains(TOKEN));
        assert!(!format!("{error:?}").contains(TOKEN));
    }

    #[tokio::test]
    async fn a_server_error_is_retried_once_then_reported() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/repos/octo-org/shop/deployments/5/statuses"))
            .respond_with(
                ResponseTemplate::new(500).set_body_json(json!({"message": "Server Error"})),
            )
            .expect(2)
            .mount(&server)
            .await;
        let deployments = Deployments::new(&target(&server.uri())).unwrap();
        let error = deployments
            .set_status(DeploymentId(5), DeploymentState::Success, "done", None)
            .await
            .unwrap_err();
        assert_eq!(error.status, Some(500));
        assert_eq!(
            error.to_string(),
            "GitHub answered 500 Internal Server Error to POST /repos/octo-org/shop/deployments/5/statuses: Server Error"
        );
        assert!(!error.to_string().contains(TOKEN));
    }

    #[tokio::test]
    async fn a_server_error_then_an_answer_succeeds() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/repos/octo-org/shop/deployments"))
            .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/octo-org/shop/deployments"))
            .respond_with(ResponseTemplate::new(201).set_body_json(deployment_answer(&server, 3)))
            .expect(1)
            .mount(&server)
            .await;
        let deployments = Deployments::new(&target(&server.uri())).unwrap();
        assert_eq!(
            deployments.create(&request()).await.unwrap(),
            DeploymentId(3)
        );
    }

    #[tokio::test]
    async fn an_unreachable_github_is_an_error_not_a_hang() {
        // A port nothing listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let api_url = format!("http://127.0.0.1:{port}");
        let deployments = Deployments::new(&target(&api_url)).unwrap();
        let error = deployments.create(&request()).await.unwrap_err();
        assert_eq!(error.status, None);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("cannot reach GitHub at {api_url}: ")),
            "{message}"
        );
        assert!(message.contains("Connection refused"), "{message}");
        assert!(!message.contains("Service Error"), "{message}");
        assert!(!message.contains(TOKEN));
        assert!(!message.contains('\n'));
    }

    #[tokio::test]
    async fn a_github_that_does_not_answer_times_out() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(30)))
            .mount(&server)
            .await;
        let mut deployments = Deployments::new(&target(&server.uri())).unwrap();
        deployments.request_timeout = Duration::from_millis(200);
        let error = deployments
            .set_status(DeploymentId(1), DeploymentState::InProgress, "", None)
            .await
            .unwrap_err();
        assert_eq!(error.status, None);
        assert_eq!(
            error.to_string(),
            format!(
                "cannot reach GitHub at {}: no answer to POST /repos/octo-org/shop/deployments/1/statuses within 0.2s",
                server.uri()
            )
        );
    }

    #[tokio::test]
    async fn an_unreadable_success_answer_is_an_error() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_string("not json"))
            .mount(&server)
            .await;
        let deployments = Deployments::new(&target(&server.uri())).unwrap();
        let error = deployments.create(&request()).await.unwrap_err();
        assert_eq!(error.status, None);
        assert!(
            error.to_string().starts_with(&format!(
                "GitHub at {} gave an answer to POST /repos/octo-org/shop/deployments kiln cannot read: ",
                server.uri()
            )),
            "{error}"
        );
    }

    #[test]
    fn states_serialise_as_github_spells_them() {
        for (state, text) in [
            (DeploymentState::InProgress, "in_progress"),
            (DeploymentState::Success, "success"),
            (DeploymentState::Failure, "failure"),
            (DeploymentState::Error, "error"),
            (DeploymentState::Inactive, "inactive"),
        ] {
            assert_eq!(serde_json::to_value(state).unwrap(), json!(text));
            assert_eq!(state.to_string(), text);
            assert_eq!(
                serde_json::to_value(state.to_octocrab()).unwrap(),
                json!(text)
            );
        }
    }

    fn env_of(vars: &[(&str, &str)]) -> crate::config::CiEnv {
        crate::config::CiEnv::read(&crate::config::Env::from_pairs(vars))
    }

    #[test]
    fn both_variables_enable_deployments() {
        let env = env_of(&[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_REPOSITORY", "octo-org/shop"),
        ]);
        let target = GithubTarget::from_env(false, None, &env).unwrap().unwrap();
        assert_eq!(target.api_url, "https://api.github.com");
        assert_eq!(target.owner, "octo-org");
        assert_eq!(target.repo, "shop");
        assert_eq!(target.token.expose(), TOKEN);
    }

    #[test]
    fn without_the_variables_or_the_flag_deployments_are_off() {
        assert!(
            GithubTarget::from_env(false, None, &env_of(&[]))
                .unwrap()
                .is_none()
        );
        // Actions always sets GITHUB_REPOSITORY; only a passed token turns recording on.
        let env = env_of(&[("GITHUB_REPOSITORY", "octo-org/shop"), ("GITHUB_TOKEN", "")]);
        assert!(GithubTarget::from_env(false, None, &env).unwrap().is_none());
    }

    #[test]
    fn the_flag_without_a_token_is_a_usage_error() {
        let env = env_of(&[("GITHUB_REPOSITORY", "octo-org/shop")]);
        let error = GithubTarget::from_env(true, None, &env).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid value `` in --github: expected GITHUB_TOKEN and GITHUB_REPOSITORY in the environment"
        );
        assert_eq!(error.exit_code(), crate::error::exit::USAGE);
        let error =
            GithubTarget::from_env(true, None, &env_of(&[("GITHUB_TOKEN", TOKEN)])).unwrap_err();
        assert!(!error.to_string().contains(TOKEN));
    }

    #[test]
    fn a_malformed_repository_is_a_usage_error() {
        for repository in [
            "shop",
            "octo-org/",
            "/shop",
            "octo-org/shop/extra",
            "octo org/shop",
        ] {
            let env = env_of(&[("GITHUB_TOKEN", TOKEN), ("GITHUB_REPOSITORY", repository)]);
            let error = GithubTarget::from_env(false, None, &env).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "invalid value `{repository}` in environment variable GITHUB_REPOSITORY: expected OWNER/REPO, such as octo-org/shop"
                )
            );
        }
    }

    #[test]
    fn a_token_a_header_cannot_carry_is_refused_without_showing_it() {
        let env = env_of(&[
            ("GITHUB_TOKEN", "ghs_abc\ndef"),
            ("GITHUB_REPOSITORY", "octo-org/shop"),
        ]);
        let error = GithubTarget::from_env(false, None, &env).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid value `(hidden)` in environment variable GITHUB_TOKEN: expected a GitHub token: printable ASCII characters without spaces"
        );
    }

    #[test]
    fn the_api_url_comes_from_the_flag_then_github_api_url() {
        let env = env_of(&[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_REPOSITORY", "octo-org/shop"),
            ("GITHUB_API_URL", "https://ghe.example.com/api/v3/"),
        ]);
        let from_env = GithubTarget::from_env(false, None, &env).unwrap().unwrap();
        assert_eq!(from_env.api_url, "https://ghe.example.com/api/v3");
        let from_flag = GithubTarget::from_env(false, Some("http://127.0.0.1:8080"), &env)
            .unwrap()
            .unwrap();
        assert_eq!(from_flag.api_url, "http://127.0.0.1:8080");

        let error = GithubTarget::from_env(false, Some("https://user:pw@ghe.example.com"), &env)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid value `https://[credentials]@ghe.example.com` in --github-api-url: expected an http(s) URL without credentials, such as https://github.example.com/api/v3"
        );
        let env = env_of(&[
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_REPOSITORY", "octo-org/shop"),
            ("GITHUB_API_URL", "ghe.example.com"),
        ]);
        let error = GithubTarget::from_env(false, None, &env).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid value `ghe.example.com` in environment variable GITHUB_API_URL: expected an http(s) URL without credentials, such as https://github.example.com/api/v3"
        );
    }

    #[test]
    fn debug_output_redacts_the_token() {
        let target = target("https://api.github.com");
        let shown = format!("{target:?}");
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(shown.contains("token: [redacted]"), "{shown}");
        assert!(shown.contains("owner: \"octo-org\""), "{shown}");
    }

    #[tokio::test]
    async fn the_client_debug_output_has_no_token() {
        let deployments = Deployments::new(&target("https://api.github.com")).unwrap();
        assert!(!format!("{deployments:?}").contains(TOKEN));
    }
}
