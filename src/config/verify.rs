//! `[verify]` in kiln.toml: where and how `kiln verify` launches its throwaway
//! instance; and `kiln verify`'s settings: the image, where its Goss results come
//! from (a file, or an instance run with the file's keys and the flags on top),
//! the JUnit report. The spec, vars and results files are read here, so a missing
//! one is reported before anything is launched.

use std::path::{Path, PathBuf};

use super::{Config, FileReader, flag_or};
use crate::cli::VerifyArgs;
use crate::error::{Error, Result, Source};
use crate::model::{
    ImageRef, InstanceProfile, InstanceType, Role, SecurityGroupId, Span, SubnetId,
};

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

/// `kiln verify`.
#[derive(Debug, Clone)]
pub enum VerifySettings {
    /// `--cleanup`: terminate what crashed runs left, nothing else.
    Cleanup,
    Image(ImageVerify),
}

/// A verify of one image.
#[derive(Debug, Clone)]
pub struct ImageVerify {
    /// REF, by default `app` (the newest).
    pub reference: ImageRef,
    pub goss: Goss,
    /// `--junit`: where to write the results as JUnit XML too.
    pub junit: Option<PathBuf>,
    /// `--no-promote`: a pass moves no channel.
    pub no_promote: bool,
}

/// Where the Goss results come from.
#[derive(Debug, Clone)]
pub enum Goss {
    /// `--results FILE`: its content, produced elsewhere.
    Results(String),
    /// A throwaway instance launched from the image.
    Instance(Box<InstanceSettings>),
}

/// How a live verify runs: `[verify]` in kiln.toml with the flags on top.
#[derive(Debug, Clone)]
pub struct InstanceSettings {
    pub spec_path: PathBuf,
    pub spec: Vec<u8>,
    pub vars: Option<Vec<u8>>,
    pub retry_timeout: Span,
    pub sleep: Span,
    pub boot_timeout: Span,
    pub command_timeout: Span,
    pub lifetime: Span,
    pub instance_type: InstanceType,
    pub subnet: Option<SubnetId>,
    pub security_groups: Vec<SecurityGroupId>,
    pub instance_profile: Option<InstanceProfile>,
    pub keep_on_failure: bool,
}

/// Extra time the instance lives beyond the boot and command timeouts.
const LIFETIME_MARGIN: Span = Span::minutes(10);
/// How long the command may run when `--timeout` is not given, besides Goss's retries.
const COMMAND_TIMEOUT: Span = Span::minutes(10);

/// `kiln verify`'s settings: REF, then the instance's, then the results file.
pub(super) fn verify(args: &VerifyArgs, config: &Config) -> Result<VerifySettings> {
    if args.cleanup {
        return Ok(VerifySettings::Cleanup);
    }
    let reference = ImageRef::parse(
        args.reference.as_deref().unwrap_or("app"),
        &Source::Argument("REF"),
        &config.channels.all(),
    )?;
    let goss = match &args.results {
        Some(path) => Goss::Results(read_results(path)?),
        None => Goss::Instance(Box::new(instance(args, &config.verify, reference.role)?)),
    };
    Ok(VerifySettings::Image(ImageVerify {
        reference,
        goss,
        junit: args.junit.clone(),
        no_promote: args.no_promote,
    }))
}

fn instance(args: &VerifyArgs, file: &VerifyConfig, role: Role) -> Result<InstanceSettings> {
    let retry_timeout = flag_or(
        args.retry_timeout.as_deref(),
        "--retry-timeout",
        Span::parse,
        Span::secs(0),
    )?;
    let sleep = flag_or(args.sleep.as_deref(), "--sleep", Span::parse, Span::secs(1))?;
    let boot_timeout = flag_or(
        args.boot_timeout.as_deref(),
        "--boot-timeout",
        Span::parse,
        file.boot_timeout,
    )?;
    let command_timeout = flag_or(
        args.timeout.as_deref(),
        "--timeout",
        Span::parse,
        Span::secs(COMMAND_TIMEOUT.as_secs() + retry_timeout.as_secs()),
    )?;
    // The instance must outlive every wait, or it would shut itself down mid-test.
    let needed = boot_timeout.as_secs() + command_timeout.as_secs() + LIFETIME_MARGIN.as_secs();
    let lifetime = Span::secs(file.lifetime.as_secs().max(needed));
    let spec_path = args
        .goss
        .clone()
        .unwrap_or_else(|| file.goss_dir.join(format!("{role}.yaml")));
    let spec = read_input(&spec_path, "Goss spec", "--goss")?;
    let vars = match &args.goss_vars {
        Some(path) => Some(read_input(path, "Goss vars file", "--goss-vars")?),
        None => None,
    };
    Ok(InstanceSettings {
        spec_path,
        spec,
        vars,
        retry_timeout,
        sleep,
        boot_timeout,
        command_timeout,
        lifetime,
        instance_type: flag_or(
            args.instance_type.as_deref(),
            "--instance-type",
            InstanceType::parse,
            file.instance_type.clone(),
        )?,
        subnet: flag_or(
            args.subnet.as_deref(),
            "--subnet",
            |v, s| SubnetId::parse(v, s).map(Some),
            file.subnet.clone(),
        )?,
        security_groups: if args.security_groups.is_empty() {
            file.security_groups.clone()
        } else {
            args.security_groups
                .iter()
                .map(|g| SecurityGroupId::parse(g, &Source::Flag("--security-group")))
                .collect::<Result<_>>()?
        },
        instance_profile: flag_or(
            args.instance_profile.as_deref(),
            "--instance-profile",
            |v, s| InstanceProfile::parse(v, s).map(Some),
            file.instance_profile.clone(),
        )?,
        keep_on_failure: args.keep_on_failure,
    })
}

fn read_input(path: &Path, what: &'static str, flag: &'static str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::InputMissing {
            path: path.to_path_buf(),
            what,
            flag,
        },
        _ => Error::Io {
            path: path.to_path_buf(),
            message: format!("cannot read the {what}: {e}"),
        },
    })
}

/// The results file as text, whatever its encoding (see `goss::text`): what is
/// not a Goss report is judged by the gate (exit 7), not refused here.
fn read_results(path: &Path) -> Result<String> {
    read_input(path, "Goss results file", "--results").map(|bytes| crate::goss::text(&bytes))
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
