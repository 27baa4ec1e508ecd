//! `[verify]` in kiln.toml: where and how `kiln verify` launches its throwaway
//! instance. Flags of `kiln verify` override each key (see `stages::verify`).

use std::path::PathBuf;

use super::FileReader;
use crate::error::Result;
use crate::model::{InstanceProfile, InstanceType, SecurityGroupId, Span, SubnetId};

pub(super) const KEYS: &[&str] = &[
    "instance_type",
    "subnet",
    "security_groups",
    "instance_profile",
    "lifetime",
    "boot_timeout",
    "goss_dir",
];

/// The `[verify]` settings, with defaults for what the file leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyConfig {
    pub instance_type: InstanceType,
    /// `None`: the default VPC's default subnet.
    pub subnet: Option<SubnetId>,
    /// Empty: the VPC's default security group.
    pub security_groups: Vec<SecurityGroupId>,
    /// Needs AmazonSSMManagedInstanceCore, or the agent never comes online.
    pub instance_profile: Option<InstanceProfile>,
    /// After this the instance shuts itself down (and is terminated), and
    /// `kiln verify --cleanup` removes it if it is still there.
    pub lifetime: Span,
    /// How long the instance may take to run and register with SSM.
    pub boot_timeout: Span,
    /// Where `goss/<role>.yaml` specs are; relative to kiln.toml.
    pub goss_dir: PathBuf,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            instance_type: InstanceType::from_aws("t3.micro"),
            subnet: None,
            security_groups: Vec::new(),
            instance_profile: None,
            lifetime: Span::minutes(60),
            boot_timeout: Span::minutes(10),
            goss_dir: PathBuf::from("goss"),
        }
    }
}

pub(super) fn parse(file: &FileReader, value: &toml::Value) -> Result<VerifyConfig> {
    let table = value.as_table().ok_or_else(|| {
        file.wrong_type(
            "verify",
            value,
            "a table: [verify] with instance_type, subnet, security_groups, instance_profile, lifetime, boot_timeout, goss_dir",
        )
    })?;
    let mut verify = VerifyConfig::default();
    for (name, value) in table {
        let key = format!("verify.{name}");
        match name.as_str() {
            "instance_type" => {
                verify.instance_type = file.parse(&key, value, InstanceType::parse)?
            }
            "subnet" => verify.subnet = Some(file.parse(&key, value, SubnetId::parse)?),
            "instance_profile" => {
                verify.instance_profile = Some(file.parse(&key, value, InstanceProfile::parse)?)
            }
            "lifetime" => verify.lifetime = file.parse(&key, value, Span::parse)?,
            "boot_timeout" => verify.boot_timeout = file.parse(&key, value, Span::parse)?,
            "goss_dir" => verify.goss_dir = file.relative(file.string(&key, value)?),
            "security_groups" => {
                let items = value.as_array().ok_or_else(|| {
                    file.wrong_type(
                        &key,
                        value,
                        "a list of security group ids, e.g. [\"sg-0123456789abcdef0\"]",
                    )
                })?;
                verify.security_groups = items
                    .iter()
                    .map(|item| file.parse(&key, item, SecurityGroupId::parse))
                    .collect::<Result<_>>()?;
            }
            _ => return Err(file.unknown_key(&key, KEYS)),
        }
    }
    Ok(verify)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse_file;

    #[test]
    fn verify_settings_are_read_relative_to_the_file_and_checked() {
        let values = parse_file(
            Path::new("ci/kiln.toml"),
            "[verify]\ninstance_type = \"m7g.large\"\nsubnet = \"subnet-0123456789abcdef0\"\nsecurity_groups = [\"sg-0123456789abcdef0\"]\ninstance_profile = \"kiln-verify\"\nlifetime = \"2h\"\ngoss_dir = \"specs\"\n",
        )
        .unwrap();
        let verify = values.verify;
        assert_eq!(verify.instance_type.as_str(), "m7g.large");
        assert_eq!(verify.subnet.unwrap().as_str(), "subnet-0123456789abcdef0");
        assert_eq!(verify.security_groups.len(), 1);
        assert_eq!(verify.lifetime.to_string(), "2h");
        assert_eq!(verify.goss_dir, Path::new("ci/specs"));
        assert_eq!(verify.boot_timeout.to_string(), "10m", "the default");
    }

    #[test]
    fn bad_verify_settings_name_the_key() {
        let err = |text: &str| {
            parse_file(Path::new("kiln.toml"), text)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("[verify]\nsecurity_groups = \"sg-1\""),
            "kiln.toml: key `verify.security_groups` must be a list of security group ids, e.g. [\"sg-0123456789abcdef0\"], not the string \"sg-1\""
        );
        assert_eq!(
            err("[verify]\nsubnet = \"default\""),
            "invalid value `default` in kiln.toml: key `verify.subnet`: expected a subnet id: `subnet-` followed by 8 or 17 lowercase hex digits"
        );
        assert_eq!(
            err("[verify]\nsize = \"big\""),
            "kiln.toml: unknown key `verify.size`"
        );
    }
}
