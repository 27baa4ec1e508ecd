//! Where an image came from: git commit, build, parent image, inputs hash.
//!
//! The full record lives on the AMI as `kiln:*` tags; a short form goes into the
//! description of the registry version that publishes it, so `kiln history` can
//! show it without reading every image. This module owns both formats.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{AmiId, AppName, Role, Version};

/// The name of every tag kiln reads or writes, on images, verify instances and
/// Auto Scaling groups: the only place that spells them.
pub mod tag {
    /// What every kiln tag name starts with; other tags are the user's.
    pub const PREFIX: &str = "kiln:";

    /// The app an image, verify instance or blue-green group belongs to.
    pub const APP: &str = "kiln:app";
    pub const ROLE: &str = "kiln:role";
    pub const GIT_SHA: &str = "kiln:git-sha";
    pub const BUILD_URL: &str = "kiln:build-url";
    pub const BASE_AMI: &str = "kiln:base-ami";
    pub const BASE_VERSION: &str = "kiln:base-version";
    pub const INPUTS_HASH: &str = "kiln:inputs-hash";
    /// Why an image was revoked; with `REVOKED_AT`, when.
    pub const REVOKED: &str = "kiln:revoked";
    pub const REVOKED_AT: &str = "kiln:revoked-at";
    /// When the image last went to production (a successful deploy): the images
    /// `kiln rollback` may return to without passing the tested gate again.
    pub const DEPLOYED: &str = "kiln:deployed";
    /// On an Auto Scaling group while a deploy holds it: who, and until when.
    pub const DEPLOY_LOCK: &str = "kiln:deploy-lock";
    /// On an Auto Scaling group kiln pointed at a new launch template version: that
    /// version, and the one a failed rollout goes back to. A re-run after an
    /// interruption continues the rollout when the group still runs the former.
    pub const ROLLOUT_VERSION: &str = "kiln:rollout-version";
    pub const ROLLBACK_VERSION: &str = "kiln:rollback-version";

    /// On a verify instance: why it exists (`verify`), the run that launched it,
    /// when a crashed run's leftover may be terminated, and the image it tests.
    pub const PURPOSE: &str = "kiln:purpose";
    pub const RUN_ID: &str = "kiln:run-id";
    pub const EXPIRES: &str = "kiln:expires";
    pub const AMI: &str = "kiln:ami";

    /// On the groups of one blue-green service: the `--asg` name they share,
    /// whether the group serves (`true`/`false`), and when it stopped serving.
    pub const BLUE_GREEN: &str = "kiln:blue-green";
    pub const LIVE: &str = "kiln:live";
    pub const RETIRED: &str = "kiln:retired";

    /// Every tag name above.
    pub const ALL: &[&str] = &[
        APP,
        ROLE,
        GIT_SHA,
        BUILD_URL,
        BASE_AMI,
        BASE_VERSION,
        INPUTS_HASH,
        REVOKED,
        REVOKED_AT,
        DEPLOYED,
        DEPLOY_LOCK,
        ROLLOUT_VERSION,
        ROLLBACK_VERSION,
        PURPOSE,
        RUN_ID,
        EXPIRES,
        AMI,
        BLUE_GREEN,
        LIVE,
        RETIRED,
    ];
}

/// The longest tag value EC2 accepts.
const MAX_TAG_VALUE: usize = 256;

/// `text` cut to what EC2 accepts as a tag value (256 characters): a long build
/// URL or revocation reason must not fail the call.
pub fn tag_value(text: &str) -> String {
    text.chars().take(MAX_TAG_VALUE).collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub git_sha: Option<String>,
    pub build_url: Option<String>,
    pub base_ami: Option<AmiId>,
    pub base_version: Option<Version>,
    pub inputs_hash: Option<String>,
}

impl Provenance {
    pub fn from_tags(tags: &BTreeMap<String, String>) -> Self {
        let get = |key: &str| tags.get(key).filter(|v| !v.is_empty()).cloned();
        Self {
            git_sha: get(tag::GIT_SHA),
            build_url: get(tag::BUILD_URL),
            base_ami: get(tag::BASE_AMI).map(AmiId::from_aws),
            base_version: get(tag::BASE_VERSION)
                .and_then(|v| v.parse().ok())
                .map(Version),
            inputs_hash: get(tag::INPUTS_HASH),
        }
    }

    /// Fills what this record lacks from `other` (e.g. CI variables under image tags).
    pub fn or(self, other: Provenance) -> Self {
        Self {
            git_sha: self.git_sha.or(other.git_sha),
            build_url: self.build_url.or(other.build_url),
            base_ami: self.base_ami.or(other.base_ami),
            base_version: self.base_version.or(other.base_version),
            inputs_hash: self.inputs_hash.or(other.inputs_hash),
        }
    }

    /// The provenance of a build running in CI, from the variables GitHub Actions and
    /// Jenkins set (read once, see `config::CiEnv`, which keeps the result).
    pub fn from_ci(ci: &crate::config::CiEnv) -> Self {
        let github_run = match (
            &ci.github_server_url,
            &ci.github_repository,
            &ci.github_run_id,
        ) {
            (Some(server), Some(repo), Some(run)) => {
                Some(format!("{server}/{repo}/actions/runs/{run}"))
            }
            _ => None,
        };
        Self {
            git_sha: ci.github_sha.clone().or_else(|| ci.git_commit.clone()),
            build_url: github_run
                .or_else(|| ci.build_url.clone())
                .map(|url| without_credentials(&url)),
            ..Self::default()
        }
    }

    /// The tags that record this provenance plus the image's app and role.
    pub fn tags(&self, app: &AppName, role: Role) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::from([
            (tag::APP.to_string(), app.to_string()),
            (tag::ROLE.to_string(), role.to_string()),
        ]);
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                tags.insert(key.to_string(), value);
            }
        };
        put(tag::GIT_SHA, self.git_sha.clone());
        put(tag::BUILD_URL, self.build_url.clone());
        put(tag::BASE_AMI, self.base_ami.as_ref().map(|a| a.to_string()));
        put(tag::BASE_VERSION, self.base_version.map(|v| v.to_string()));
        put(tag::INPUTS_HASH, self.inputs_hash.clone());
        for value in tags.values_mut() {
            *value = tag_value(value);
        }
        tags
    }

    /// The one-line summary stored as a registry version's description, e.g.
    /// `kiln git=3f2a9c1 base=ami-0abc…@v4 inputs=sha256:… build=https://…`.
    pub fn description(&self) -> String {
        let mut parts = vec!["kiln".to_string()];
        if let Some(sha) = &self.git_sha {
            parts.push(format!("git={}", token(sha)));
        }
        if let Some(base) = &self.base_ami {
            match self.base_version {
                Some(v) => parts.push(format!("base={base}@v{v}")),
                None => parts.push(format!("base={base}")),
            }
        }
        if let Some(hash) = &self.inputs_hash {
            parts.push(format!("inputs={}", token(hash)));
        }
        if let Some(url) = &self.build_url {
            parts.push(format!("build={}", token(url)));
        }
        let mut text = parts.join(" ");
        if text.len() > crate::aws::ssm::MAX_DESCRIPTION {
            let mut cut = crate::aws::ssm::MAX_DESCRIPTION;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        text
    }

    /// Reads a description written by `description`; other text yields nothing.
    pub fn parse_description(text: &str) -> Self {
        let mut record = Self::default();
        let mut words = text.split_whitespace();
        if words.next() != Some("kiln") {
            return record;
        }
        for word in words {
            let Some((key, value)) = word.split_once('=') else {
                continue;
            };
            match key {
                "git" => record.git_sha = Some(value.to_string()),
                "inputs" => record.inputs_hash = Some(value.to_string()),
                "build" => record.build_url = Some(value.to_string()),
                "base" => {
                    let (ami, version) = match value.split_once("@v") {
                        Some((ami, v)) => (ami, v.parse().ok().map(Version)),
                        None => (value, None),
                    };
                    record.base_ami = Some(AmiId::from_aws(ami));
                    record.base_version = version;
                }
                _ => {}
            }
        }
        record
    }
}

/// A value safe to put in a space-separated description.
fn token(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join("_")
}

/// Drops `user:password@` from a URL: build URLs are stored in tags and parameter
/// descriptions, which must never hold credentials.
pub fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Provenance {
        Provenance {
            git_sha: Some("3f2a9c1".into()),
            build_url: Some("https://ci.example/job/7".into()),
            base_ami: Some(AmiId::from_aws("ami-0123456789abcdef0")),
            base_version: Some(Version(4)),
            inputs_hash: Some("sha256:abcd".into()),
        }
    }

    #[test]
    fn description_round_trips() {
        let text = full().description();
        assert_eq!(
            text,
            "kiln git=3f2a9c1 base=ami-0123456789abcdef0@v4 inputs=sha256:abcd build=https://ci.example/job/7"
        );
        assert_eq!(Provenance::parse_description(&text), full());
        assert_eq!(
            Provenance::parse_description("set by hand"),
            Provenance::default()
        );
    }

    #[test]
    fn tags_round_trip_and_name_app_and_role() {
        let app = AppName::parse("shop", &crate::error::Source::Argument("APP")).unwrap();
        let tags = full().tags(&app, Role::App);
        assert_eq!(tags[tag::APP], "shop");
        assert_eq!(tags[tag::ROLE], "app");
        assert_eq!(tags[tag::BASE_VERSION], "4");
        assert_eq!(Provenance::from_tags(&tags), full());
    }

    #[test]
    fn credentials_are_dropped_from_the_authority_only() {
        for (url, scrubbed) in [
            (
                "https://bob:s3cret@jenkins.local/job/7/",
                "https://jenkins.local/job/7/",
            ),
            ("https://tok@host", "https://host"),
            ("https://a:b@c@host/x", "https://host/x"),
            (
                "https://host/user@example.com/",
                "https://host/user@example.com/",
            ),
            ("jenkins.local/job/7", "jenkins.local/job/7"),
        ] {
            assert_eq!(without_credentials(url), scrubbed, "{url}");
        }
    }

    #[test]
    fn ci_variables_give_commit_and_build_without_credentials() {
        use crate::config::{CiEnv, Env};
        let github = CiEnv::read(&Env::from_pairs(&[
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_RUN_ID", "99"),
        ]));
        let record = Provenance::from_ci(&github);
        assert_eq!(record.git_sha.as_deref(), Some("abc123"));
        assert_eq!(
            record.build_url.as_deref(),
            Some("https://github.com/acme/shop/actions/runs/99")
        );
        let jenkins = CiEnv::read(&Env::from_pairs(&[
            ("GIT_COMMIT", "def456"),
            ("BUILD_URL", "https://bob:s3cret@jenkins.local/job/shop/12/"),
        ]));
        let record = Provenance::from_ci(&jenkins);
        assert_eq!(
            record.build_url.as_deref(),
            Some("https://jenkins.local/job/shop/12/")
        );
    }

    /// The longest tag key EC2 and Auto Scaling accept.
    const MAX_TAG_KEY: usize = 128;

    #[test]
    fn tag_names_are_distinct_kiln_names_aws_accepts() {
        let mut seen = std::collections::BTreeSet::new();
        for name in tag::ALL {
            assert!(seen.insert(*name), "{name} is listed twice");
            assert!(name.starts_with(tag::PREFIX), "{name} is not a kiln: tag");
            assert!(name.len() > tag::PREFIX.len(), "{name} has no name");
            assert!(name.chars().count() <= MAX_TAG_KEY, "{name} is too long");
            // AWS reserves `aws:`; EC2 keys may not hold these.
            assert!(!name.to_ascii_lowercase().starts_with("aws:"));
        }
        assert_eq!(tag::ALL.len(), 20);
    }

    #[test]
    fn long_descriptions_fit_ssm() {
        let record = Provenance {
            build_url: Some(format!("https://ci/{}", "x".repeat(2000))),
            ..Provenance::default()
        };
        assert_eq!(record.description().len(), 1024);
    }
}
