//! The CI environment kiln uses, read once when the configuration loads.
//!
//! GitHub Actions and Jenkins tell a build about itself through variables: the
//! commit, the run's page, the repository and a token for its API. Stages used to
//! read them wherever they needed one; now `config::load` reads them here, once, and
//! stages get a `CiEnv` (with the provenance it implies) from `Config`. Only this
//! file and the `KILN_*` reading in `config` look variables up, besides `ui`'s
//! terminal detection, `report`'s GitHub step files and the SDK's `AWS_*` (which
//! `aws::profile` reads too, through an `Env`, to check the profile before the SDK).

use std::collections::BTreeMap;
use std::fmt;

use crate::provenance::Provenance;

/// The process environment as kiln reads it: a map, so unit tests pass their own.
#[derive(Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// This process's variables (those that are not valid UTF-8 count as unset, as
    /// `std::env::var` reports them).
    pub fn process() -> Self {
        Self(
            std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        )
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        )
    }

    /// A variable's value; empty counts as unset, as CI systems often pass empty
    /// strings for inputs that were not given.
    pub fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|value| !value.is_empty()).cloned()
    }

    /// The variables whose names start with `prefix`, the prefix cut off, by name.
    fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .iter()
            .filter_map(move |(name, value)| Some((name.strip_prefix(prefix)?, value.as_str())))
    }
}

/// What kiln uses of GitHub Actions' and Jenkins' variables. Empty counts as unset.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CiEnv {
    /// `GITHUB_ACTIONS=true`: running as a GitHub Actions step.
    pub github_actions: bool,
    /// `GITHUB_SHA`: the commit the workflow runs for.
    pub github_sha: Option<String>,
    /// `GITHUB_SERVER_URL`: where the repository is, e.g. https://github.com.
    pub github_server_url: Option<String>,
    /// `GITHUB_REPOSITORY`: `owner/repo`.
    pub github_repository: Option<String>,
    /// `GITHUB_RUN_ID`: the workflow run.
    pub github_run_id: Option<String>,
    /// `GITHUB_API_URL`: the REST API, set by Actions on GitHub Enterprise too.
    pub github_api_url: Option<String>,
    /// `GITHUB_TOKEN`: never shown (see the `Debug` below); read it with `github_token`.
    github_token: Option<String>,
    /// `GIT_COMMIT`: the commit Jenkins checked out.
    pub git_commit: Option<String>,
    /// `BUILD_URL`: the Jenkins build's page, perhaps with credentials in it.
    pub build_url: Option<String>,
    /// `USER`: who runs kiln outside CI, to name a deploy lock's holder.
    pub user: Option<String>,
    /// Inherited `PKR_VAR_NAME=value` as (NAME, value), by name, without kiln's own
    /// `PKR_VAR_kiln_*`: they change a bake, so they are part of its inputs hash.
    pub packer_vars: Vec<(String, String)>,
    /// The commit and build page these variables give (GitHub's run page, else
    /// Jenkins' `BUILD_URL` without credentials; `GITHUB_SHA`, else `GIT_COMMIT`).
    pub provenance: Provenance,
}

impl CiEnv {
    pub fn read(env: &Env) -> Self {
        let mut ci = Self {
            github_actions: env.var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            github_sha: env.var("GITHUB_SHA"),
            github_server_url: env.var("GITHUB_SERVER_URL"),
            github_repository: env.var("GITHUB_REPOSITORY"),
            github_run_id: env.var("GITHUB_RUN_ID"),
            github_api_url: env.var("GITHUB_API_URL"),
            github_token: env.var("GITHUB_TOKEN"),
            git_commit: env.var("GIT_COMMIT"),
            build_url: env.var("BUILD_URL"),
            user: env.var("USER"),
            packer_vars: env
                .with_prefix("PKR_VAR_")
                .filter(|(name, _)| !name.starts_with("kiln_"))
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            provenance: Provenance::default(),
        };
        ci.provenance = Provenance::from_ci(&ci);
        ci
    }

    /// `GITHUB_TOKEN`, for the one request header that needs it.
    pub fn github_token(&self) -> Option<&str> {
        self.github_token.as_deref()
    }
}

/// Names what is set without showing a secret: the token and the Packer variables'
/// values (they often hold passwords) are hidden, the build URL loses credentials.
impl fmt::Debug for CiEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let packer_vars: Vec<&str> = self.packer_vars.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("CiEnv")
            .field("github_actions", &self.github_actions)
            .field("github_sha", &self.github_sha)
            .field("github_server_url", &self.github_server_url)
            .field("github_repository", &self.github_repository)
            .field("github_run_id", &self.github_run_id)
            .field("github_api_url", &self.github_api_url)
            .field(
                "github_token",
                &self.github_token.as_ref().map(|_| "[redacted]"),
            )
            .field("git_commit", &self.git_commit)
            .field(
                "build_url",
                &self
                    .build_url
                    .as_deref()
                    .map(crate::provenance::without_credentials),
            )
            .field("user", &self.user)
            .field("packer_vars", &packer_vars)
            .field("provenance", &self.provenance)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_actions_variables_give_the_run_and_its_repository() {
        let ci = CiEnv::read(&Env::from_pairs(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_RUN_ID", "99"),
            ("GITHUB_TOKEN", "ghs_s3cr3t"),
            ("GIT_COMMIT", "not-this-one"),
        ]));
        assert!(ci.github_actions);
        assert_eq!(ci.github_repository.as_deref(), Some("acme/shop"));
        assert_eq!(ci.github_token(), Some("ghs_s3cr3t"));
        assert_eq!(ci.provenance.git_sha.as_deref(), Some("abc123"));
        assert_eq!(
            ci.provenance.build_url.as_deref(),
            Some("https://github.com/acme/shop/actions/runs/99")
        );
        let shown = format!("{ci:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(
            shown.contains("github_token: Some(\"[redacted]\")"),
            "{shown}"
        );
    }

    #[test]
    fn jenkins_variables_give_the_build_without_credentials() {
        let ci = CiEnv::read(&Env::from_pairs(&[
            ("JENKINS_URL", "https://jenkins.local/"),
            ("GIT_COMMIT", "def456"),
            ("BUILD_URL", "https://bob:s3cret@jenkins.local/job/shop/12/"),
            ("GITHUB_ACTIONS", ""),
            ("GITHUB_SHA", ""),
        ]));
        assert!(!ci.github_actions);
        assert_eq!(ci.github_sha, None, "empty counts as unset");
        assert_eq!(ci.provenance.git_sha.as_deref(), Some("def456"));
        assert_eq!(
            ci.provenance.build_url.as_deref(),
            Some("https://jenkins.local/job/shop/12/")
        );
        assert!(!format!("{ci:?}").contains("s3cret"));
    }

    #[test]
    fn inherited_packer_variables_leave_out_kilns_own_and_hide_their_values() {
        let ci = CiEnv::read(&Env::from_pairs(&[
            ("PKR_VAR_size", "large"),
            ("PKR_VAR_db_password", "hunter2"),
            ("PKR_VAR_kiln_app", "shop"),
            ("PKR_VARIANT", "x"),
        ]));
        assert_eq!(
            ci.packer_vars,
            vec![
                ("db_password".to_string(), "hunter2".to_string()),
                ("size".to_string(), "large".to_string()),
            ]
        );
        assert!(!format!("{ci:?}").contains("hunter2"));
    }

    #[test]
    fn outside_ci_nothing_is_set_but_the_user() {
        let ci = CiEnv::read(&Env::from_pairs(&[("USER", "ada")]));
        assert_eq!(ci.user.as_deref(), Some("ada"));
        assert_eq!(ci.provenance, Provenance::default());
        assert!(!ci.github_actions && ci.github_token().is_none());
    }
}
