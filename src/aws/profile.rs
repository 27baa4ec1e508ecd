//! The AWS profile kiln was asked to use, checked in the AWS files before any call.
//!
//! The SDK turns a profile that does not exist into "no AWS region configured" or
//! an instance-metadata timeout, and an SSO profile that was never logged in into
//! "No such file or directory (os error 2)" without the file. Reading the two
//! files the way the AWS CLI does (`[profile NAME]` and `[default]` in the config
//! file, `[NAME]` in the credentials file) says what is really wrong, and names
//! the profile, the files and the `aws sso login` that fixes it.

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use super::AwsSettings;
use crate::config::Env;
use crate::error::{Error, Result};

/// The two AWS files, where the AWS CLI looks for them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Files {
    config: PathBuf,
    credentials: PathBuf,
    /// `~/.aws`: where the SSO token cache is.
    home_aws: PathBuf,
}

impl Files {
    fn locate(env: &Env) -> Self {
        let home = PathBuf::from(env.var("HOME").unwrap_or_else(|| "~".into()));
        let home_aws = home.join(".aws");
        let file = |var: &str, default: &str| match env.var(var) {
            Some(path) => expand_home(&path, &home),
            None => home_aws.join(default),
        };
        Self {
            config: file("AWS_CONFIG_FILE", "config"),
            credentials: file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            home_aws: home_aws.clone(),
        }
    }
}

/// The AWS config file (`AWS_CONFIG_FILE`, default `~/.aws/config`).
pub fn config_file(env: &Env) -> PathBuf {
    Files::locate(env).config
}

/// `~/x` as the AWS CLI expands it.
pub fn expand(path: &str, env: &Env) -> PathBuf {
    expand_home(
        path,
        &PathBuf::from(env.var("HOME").unwrap_or_else(|| "~".into())),
    )
}

/// A key's value in one profile of an AWS config file's text: `[default]` or
/// `[profile NAME]` (`[NAME]` too, as the CLI accepts it).
pub fn config_value(text: &str, profile: &str, key: &str) -> Option<String> {
    let wanted = format!("profile {profile}");
    sections(text)
        .into_iter()
        .filter(|(header, _)| *header == wanted || header == profile)
        .flat_map(|(_, keys)| keys)
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .next_back()
        .filter(|v| !v.is_empty())
}

fn expand_home(path: &str, home: &Path) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(path),
    }
}

/// The profile asked for and where: `--profile` or kiln.toml, else AWS_PROFILE.
pub fn named(settings: &AwsSettings, env: &Env) -> Option<(String, String)> {
    match (&settings.profile, env.var("AWS_PROFILE")) {
        (Some(name), _) => Some((
            name.clone(),
            settings
                .profile_source
                .clone()
                .unwrap_or_else(|| "--profile".into()),
        )),
        (None, Some(name)) => Some((name, "environment variable AWS_PROFILE".to_string())),
        (None, None) => None,
    }
}

/// Checks the profile asked for (`--profile`, kiln.toml, AWS_PROFILE): it must be
/// in one of the files, and if it uses SSO its token cache must exist. Without a
/// profile named anywhere there is nothing to check (the default chain decides).
pub fn check(settings: &AwsSettings, env: &Env) -> Result<()> {
    let Some((profile, source)) = named(settings, env) else {
        return Ok(());
    };
    let files = Files::locate(env);
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let config = sections(&read(&files.config));
    let credentials = sections(&read(&files.credentials));
    let config_header = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    let in_config = config.iter().find(|(header, _)| {
        *header == config_header || (profile == "default" && header == "profile default")
    });
    let in_credentials = credentials.iter().any(|(header, _)| *header == profile);
    let Some((_, keys)) = in_config else {
        if in_credentials {
            return Ok(());
        }
        return Err(Error::AwsProfileNotFound {
            profile,
            source,
            config_file: files.config,
            credentials_file: files.credentials,
        });
    };
    // Keys from the credentials file come first in the SDK: static keys win over SSO.
    if in_credentials {
        return Ok(());
    }
    let key = |name: &str| {
        keys.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let cache_key = match (key("sso_session"), key("sso_start_url")) {
        (Some(session), _) => session,
        (None, Some(start_url)) => start_url,
        (None, None) => return Ok(()),
    };
    let cache = files
        .home_aws
        .join("sso/cache")
        .join(format!("{}.json", sha1_hex(cache_key)));
    if cache.exists() {
        return Ok(());
    }
    Err(Error::AwsSsoLogin { profile, cache })
}

/// The SSO token cache's file name: the SHA-1 of the session name (or, for a
/// legacy profile, of the start URL), as the AWS CLI and SDKs write it.
fn sha1_hex(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An INI file's sections: (header without brackets, trimmed; its key = value pairs).
/// Indented lines are a key's nested sub-settings (`s3 =` then `  max_concurrent…`)
/// and are skipped.
fn sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push((header, Vec::new()));
        } else if let (Some((key, value)), Some((_, keys))) = (line.split_once('='), out.last_mut())
        {
            keys.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_read_from_the_named_profile_only() {
        let text = "[default]\nregion = eu-west-1\n\n[profile corp]\ns3 =\n  ca_bundle = nested\nca_bundle = /etc/corp.pem\n[other]\nca_bundle = /x\n";
        assert_eq!(
            config_value(text, "corp", "ca_bundle").as_deref(),
            Some("/etc/corp.pem")
        );
        assert_eq!(config_value(text, "default", "ca_bundle"), None);
        assert_eq!(
            config_value(text, "other", "ca_bundle").as_deref(),
            Some("/x")
        );
    }

    fn home(name: &str, config: &str, credentials: Option<&str>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-profile-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".aws")).unwrap();
        std::fs::write(dir.join(".aws/config"), config).unwrap();
        if let Some(text) = credentials {
            std::fs::write(dir.join(".aws/credentials"), text).unwrap();
        }
        dir
    }

    fn check_in(dir: &Path, profile: &str) -> Result<()> {
        let env = Env::from_pairs(&[("HOME", dir.to_str().unwrap()), ("AWS_PROFILE", profile)]);
        check(&AwsSettings::default(), &env)
    }

    #[test]
    fn profiles_in_either_file_pass() {
        let dir = home(
            "either",
            "[default]\nregion = eu-west-1\n\n[profile  ci ]\nregion = eu-west-1\n",
            Some("[static]\naws_access_key_id = x\n"),
        );
        for profile in ["default", "ci", "static"] {
            check_in(&dir, profile).unwrap();
        }
    }

    #[test]
    fn a_missing_profile_names_both_files_and_where_the_name_came_from() {
        let dir = home("missing", "[profile ci]\n", None);
        let error = check_in(&dir, "nope").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "AWS profile `nope` (from environment variable AWS_PROFILE) is in neither {0}/.aws/config nor {0}/.aws/credentials",
                dir.display()
            )
        );
        // `[nope]` in the config file is not a profile there: only `[profile nope]`.
        let dir = home("bare", "[nope]\n", None);
        assert!(check_in(&dir, "nope").is_err());
    }

    #[test]
    fn an_sso_profile_without_its_token_cache_names_the_cache_file() {
        let dir = home(
            "sso",
            "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n",
            None,
        );
        let Err(Error::AwsSsoLogin { profile, cache }) = check_in(&dir, "dev") else {
            panic!("an SSO login error");
        };
        assert_eq!(profile, "dev");
        // sha1("corp"), the name the AWS CLI gives the session's cache.
        assert_eq!(
            cache,
            dir.join(".aws/sso/cache")
                .join(format!("{}.json", sha1_hex("corp")))
        );
        std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
        std::fs::write(&cache, "{}").unwrap();
        check_in(&dir, "dev").unwrap();
    }

    #[test]
    fn cache_names_are_the_sha1_of_the_key() {
        assert_eq!(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
