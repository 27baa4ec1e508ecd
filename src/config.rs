//! Flags, `KILN_*` variables and kiln.toml merged into one validated `Config`.
//!
//! Precedence: flags > environment > file > defaults. This is the second step of
//! argument parsing: `cli` holds raw strings; here each value is checked once and
//! a bad one is reported with where it came from (flag, variable, or file and key)
//! and what is allowed. `load` reads kiln.toml and the CI variables (`ci`) once;
//! `settings` then turns one command's arguments into the typed value its stage
//! runs on, before any AWS call. Their only I/O is reading kiln.toml and the input
//! files a command names (a Goss spec, a template's existence).

mod bake;
mod ci;
mod cloudformation;
mod deploy;
mod environments;
mod fleet;
mod images;
mod network;
mod prune;
mod settings;
mod verify;

use std::path::{Path, PathBuf};

pub use bake::BakeSettings;
pub use ci::{CiEnv, Env};
pub use cloudformation::CloudFormationStack;
pub use deploy::{DeployConfig, DeploySettings, RollbackSettings, Rollout, TerraformStack};
pub use environments::Environment;
pub use fleet::Fleet;
pub use images::{
    DeploysSettings, HistorySettings, PromoteSettings, PublishSettings, ResolveSettings,
    RevokeSettings, RevokeTarget,
};
pub use prune::PruneSettings;
pub use settings::{Settings, settings};
pub use verify::{Goss, ImageVerify, InstanceSettings, VerifyConfig, VerifySettings};

use crate::aws::AwsSettings;
use crate::cli::GlobalArgs;
use crate::error::{Error, Result, Source};
use crate::model::{AppName, Channel, ParameterPrefix, Region, Span};

/// The file kiln reads from the working directory when no `--config` is given.
pub const DEFAULT_FILE: &str = "kiln.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

/// The registry's two channels, by role in the pipeline, with their configured labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    /// Set by `kiln verify` when an image passes its tests.
    pub tested: Channel,
    /// Set by `kiln deploy` when a rollout succeeds.
    pub production: Channel,
    /// The channels of `[environments]` besides these two: what each one runs.
    pub environments: Vec<Channel>,
}

impl Channels {
    pub fn all(&self) -> Vec<Channel> {
        let mut all = vec![self.tested.clone(), self.production.clone()];
        for channel in &self.environments {
            if !all.contains(channel) {
                all.push(channel.clone());
            }
        }
        all
    }
}

impl Default for Channels {
    fn default() -> Self {
        Self {
            tested: Channel::from_aws("tested"),
            production: Channel::from_aws("production"),
            environments: Vec::new(),
        }
    }
}

/// Where a bake's inputs are: `[bake]` in kiln.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BakeConfig {
    pub base_template: PathBuf,
    pub app_template: PathBuf,
    /// The Ansible tree the templates use; part of the inputs hash.
    pub ansible: PathBuf,
    /// `[bake.base] only` / `[bake.app] only`: the build of a multi-build template to run.
    pub base_only: Option<String>,
    pub app_only: Option<String>,
    /// `max_age`: bake again when the image with unchanged inputs is older.
    pub max_age: Option<Span>,
    /// `strict_lineage`: an app built on another image than the registry's base
    /// is an error, not a warning.
    pub strict_lineage: bool,
    /// `app_base`: what `bake app` builds on (`base`, `base:CHANNEL`, `none`), as
    /// written; checked by `kiln bake`.
    pub app_base: Option<String>,
}

impl Default for BakeConfig {
    fn default() -> Self {
        Self {
            base_template: PathBuf::from("packer/base.pkr.hcl"),
            app_template: PathBuf::from("packer/app.pkr.hcl"),
            ansible: PathBuf::from("ansible"),
            base_only: None,
            app_only: None,
            max_age: None,
            strict_lineage: false,
            app_base: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub app: Option<AppName>,
    pub aws: AwsSettings,
    /// Regions besides the primary one that hold copies of every image.
    pub extra_regions: Vec<Region>,
    pub prefix: ParameterPrefix,
    pub channels: Channels,
    pub bake: BakeConfig,
    pub verify: VerifyConfig,
    pub deploy: DeployConfig,
    /// `[environments]`, in the file's order of names.
    pub environments: Vec<Environment>,
    pub dry_run: bool,
    pub output: OutputFormat,
    pub verbosity: u8,
    /// The kiln.toml that was read, if any.
    pub file: Option<PathBuf>,
    /// GitHub Actions' and Jenkins' variables, read once here.
    pub ci: CiEnv,
}

impl Config {
    /// The app name, or the error that says how to give one.
    pub fn app(&self) -> Result<&AppName> {
        self.app.as_ref().ok_or(Error::NoApp)
    }
}

/// What kiln.toml may hold. Every key is optional.
#[derive(Debug, Default)]
struct FileValues {
    app: Option<AppName>,
    region: Option<Region>,
    regions: Option<Vec<Region>>,
    parameter_prefix: Option<ParameterPrefix>,
    profile: Option<String>,
    tested: Option<Channel>,
    production: Option<Channel>,
    bake: BakeConfig,
    verify: VerifyConfig,
    deploy: DeployConfig,
    environments: Vec<Environment>,
}

const TOP_KEYS: &[&str] = &[
    "app",
    "region",
    "regions",
    "parameter_prefix",
    "profile",
    "channels",
    "bake",
    "verify",
    "deploy",
    "environments",
];
const CHANNEL_KEYS: &[&str] = &["tested", "production"];
const BAKE_KEYS: &[&str] = &[
    "base_template",
    "app_template",
    "ansible",
    "base",
    "app",
    "max_age",
    "strict_lineage",
    "app_base",
];

/// Builds the configuration. `env` holds the variables (the process environment in
/// production, a map in tests); an empty variable counts as unset, as CI systems
/// often pass empty strings for inputs that were not given.
pub fn load(flags: &GlobalArgs, env: &Env) -> Result<Config> {
    let var = |name: &str| env.var(name);

    let file_path = match (&flags.config, var("KILN_CONFIG")) {
        (Some(path), _) => Some(require_file(path)?),
        (None, Some(path)) => Some(require_file(Path::new(&path))?),
        (None, None) => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
    };
    let file = match &file_path {
        Some(path) => read_file(path)?,
        None => FileValues::default(),
    };

    let app = pick(
        flags.app.as_deref(),
        "--app",
        var("KILN_APP"),
        "KILN_APP",
        AppName::parse,
    )?
    .or(file.app);
    let region = pick(
        flags.region.as_deref(),
        "--region",
        var("KILN_REGION"),
        "KILN_REGION",
        Region::parse,
    )?
    .or(file.region);
    let extra_regions = match var("KILN_REGIONS") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| Region::parse(r, &Source::Env("KILN_REGIONS")))
            .collect::<Result<Vec<_>>>()?,
        None => file.regions.unwrap_or_default(),
    };
    let prefix = pick(
        None,
        "",
        var("KILN_PARAMETER_PREFIX"),
        "KILN_PARAMETER_PREFIX",
        ParameterPrefix::parse,
    )?
    .or(file.parameter_prefix)
    .unwrap_or_default();
    let defaults = Channels::default();
    let channels = Channels {
        tested: pick(
            None,
            "",
            var("KILN_CHANNEL_TESTED"),
            "KILN_CHANNEL_TESTED",
            Channel::parse,
        )?
        .or(file.tested)
        .unwrap_or(defaults.tested),
        production: pick(
            None,
            "",
            var("KILN_CHANNEL_PRODUCTION"),
            "KILN_CHANNEL_PRODUCTION",
            Channel::parse,
        )?
        .or(file.production)
        .unwrap_or(defaults.production),
        environments: file
            .environments
            .iter()
            .map(|e| e.channel.clone())
            .collect(),
    };
    if let Some(clash) = std::iter::once(&channels.production)
        .chain(&channels.environments)
        .find(|c| **c == channels.tested)
    {
        return Err(Error::ChannelClash {
            name: clash.to_string(),
        });
    }
    let endpoint_url = match flags.endpoint_url.as_deref() {
        Some(url) => Some(parse_endpoint(url, Source::Flag("--endpoint-url"))?),
        None => None,
    };
    let dry_run = flags.dry_run || parse_bool(var("KILN_DRY_RUN"), "KILN_DRY_RUN")?;
    let output = match (flags.output.as_deref(), var("KILN_OUTPUT")) {
        (Some(value), _) => parse_output(value, Source::Flag("--output"))?,
        (None, Some(value)) => parse_output(&value, Source::Env("KILN_OUTPUT"))?,
        (None, None) => OutputFormat::Text,
    };

    let profile_source = match (&flags.profile, &file.profile, &file_path) {
        (Some(_), _, _) => Some("--profile".to_string()),
        (None, Some(_), Some(path)) => Some(format!("{}: key `profile`", path.display())),
        _ => None,
    };
    let profile = flags.profile.clone().or(file.profile);
    Ok(Config {
        app,
        aws: AwsSettings {
            ca_bundle: network::ca_bundle(env, profile.as_deref())?,
            proxies: network::proxies(env)?,
            profile_source,
            profile,
            region,
            endpoint_url,
        },
        extra_regions,
        prefix,
        channels,
        bake: file.bake,
        verify: file.verify,
        deploy: file.deploy,
        environments: file.environments,
        dry_run,
        output,
        verbosity: flags.verbose,
        file: file_path,
        ci: CiEnv::read(env),
    })
}

/// A stage's flag parsed (its messages name the flag), else `otherwise`: the value
/// from kiln.toml or the default. Flags of `verify`, `deploy` and `rollback` that
/// override a key of the file go through here.
pub fn flag_or<T>(
    value: Option<&str>,
    flag: &'static str,
    parse: impl Fn(&str, &Source) -> Result<T>,
    otherwise: T,
) -> Result<T> {
    match value {
        Some(text) => parse(text, &Source::Flag(flag)),
        None => Ok(otherwise),
    }
}

/// A whole number given as a flag.
fn parse_count(value: &str, name: &'static str, expected: &str) -> Result<u64> {
    value.parse::<u64>().map_err(|_| Error::InvalidValue {
        source: Source::Flag(name),
        value: value.to_string(),
        expected: expected.to_string(),
    })
}

/// A flag if given, else a variable; each parsed with its own source for messages.
fn pick<T>(
    flag: Option<&str>,
    flag_name: &'static str,
    env_value: Option<String>,
    env_name: &'static str,
    parse: fn(&str, &Source) -> Result<T>,
) -> Result<Option<T>> {
    match (flag, env_value) {
        (Some(value), _) => parse(value, &Source::Flag(flag_name)).map(Some),
        (None, Some(value)) => parse(&value, &Source::Env(env_name)).map(Some),
        (None, None) => Ok(None),
    }
}

fn require_file(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(Error::ConfigFile {
            path: path.to_path_buf(),
            problem: "configuration file not found".into(),
            help: "check the path given to --config or KILN_CONFIG".into(),
        })
    }
}

fn parse_endpoint(url: &str, source: Source) -> Result<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(url.to_string()),
        _ => Err(Error::InvalidValue {
            source,
            value: url.to_string(),
            expected: "a URL such as http://127.0.0.1:5000 or https://ssm.eu-west-1.amazonaws.com"
                .into(),
        }),
    }
}

fn parse_bool(value: Option<String>, name: &'static str) -> Result<bool> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(_) => Err(Error::InvalidValue {
            source: Source::Env(name),
            value: value.unwrap_or_default(),
            expected: "1, true or yes to turn it on; 0, false or no to turn it off".into(),
        }),
    }
}

/// The output format asked for, even when the configuration does not load: a
/// failed command still answers in it (`report::fail`). Text when unreadable.
pub fn requested_output(flags: &GlobalArgs, env: &Env) -> OutputFormat {
    let value = flags.output.clone().or_else(|| env.var("KILN_OUTPUT"));
    match value.as_deref() {
        Some("json") => OutputFormat::Json,
        _ => OutputFormat::Text,
    }
}

fn parse_output(value: &str, source: Source) -> Result<OutputFormat> {
    match value {
        "text" => Ok(OutputFormat::Text),
        "json" => Ok(OutputFormat::Json),
        _ => Err(Error::InvalidValue {
            source,
            value: value.to_string(),
            expected: "`text` or `json`".into(),
        }),
    }
}

fn read_file(path: &Path) -> Result<FileValues> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        message: format!("cannot read configuration file: {e}"),
    })?;
    parse_file(path, &text)
}

fn parse_file(path: &Path, text: &str) -> Result<FileValues> {
    let table: toml::Table = toml::from_str(text).map_err(|e| Error::ConfigFile {
        path: path.to_path_buf(),
        problem: format!("not valid TOML: {}", e.to_string().trim_end()),
        help: "fix the syntax; see the README's configuration reference".into(),
    })?;
    let mut values = FileValues::default();
    let file = FileReader { path };
    for (key, value) in &table {
        match key.as_str() {
            "app" => values.app = Some(file.parse(key, value, AppName::parse)?),
            "region" => values.region = Some(file.parse(key, value, Region::parse)?),
            "parameter_prefix" => {
                values.parameter_prefix = Some(file.parse(key, value, ParameterPrefix::parse)?)
            }
            "profile" => values.profile = Some(file.string(key, value)?.to_string()),
            "regions" => {
                let items = value.as_array().ok_or_else(|| {
                    file.wrong_type(key, value, "a list of region names, e.g. [\"us-east-1\"]")
                })?;
                let regions = items
                    .iter()
                    .map(|item| file.parse(key, item, Region::parse))
                    .collect::<Result<Vec<_>>>()?;
                values.regions = Some(regions);
            }
            "channels" => {
                let channels = value.as_table().ok_or_else(|| {
                    file.wrong_type(key, value, "a table: [channels] with tested and production")
                })?;
                for (name, label) in channels {
                    let full = format!("channels.{name}");
                    match name.as_str() {
                        "tested" => {
                            values.tested = Some(file.parse(&full, label, Channel::parse)?)
                        }
                        "production" => {
                            values.production = Some(file.parse(&full, label, Channel::parse)?)
                        }
                        _ => return Err(file.unknown_key(&full, CHANNEL_KEYS)),
                    }
                }
            }
            "bake" => {
                let bake = value.as_table().ok_or_else(|| {
                    file.wrong_type(
                        key,
                        value,
                        "a table: [bake] with base_template, app_template, ansible",
                    )
                })?;
                for (name, value) in bake {
                    let full = format!("bake.{name}");
                    // [bake.base] and [bake.app]: settings of one role's bake.
                    match name.as_str() {
                        "base" => {
                            values.bake.base_only = bake::role_table(&file, &full, value)?;
                            continue;
                        }
                        "app" => {
                            values.bake.app_only = bake::role_table(&file, &full, value)?;
                            continue;
                        }
                        _ => {}
                    }
                    // Paths in the file are relative to the file's directory.
                    let path = || file.string(&full, value).map(|p| file.relative(p));
                    match name.as_str() {
                        "base_template" => values.bake.base_template = path()?,
                        "app_template" => values.bake.app_template = path()?,
                        "ansible" => values.bake.ansible = path()?,
                        "max_age" => {
                            values.bake.max_age = Some(file.parse(&full, value, Span::parse)?)
                        }
                        "strict_lineage" => {
                            values.bake.strict_lineage = value
                                .as_bool()
                                .ok_or_else(|| file.wrong_type(&full, value, "true or false"))?
                        }
                        "app_base" => {
                            values.bake.app_base = Some(file.string(&full, value)?.to_string())
                        }
                        _ => return Err(file.unknown_key(&full, BAKE_KEYS)),
                    }
                }
            }
            "verify" => values.verify = verify::parse(&file, value)?,
            "deploy" => values.deploy = deploy::parse(&file, value)?,
            // After the loop: an environment's keys override [deploy]'s.
            "environments" => {}
            _ => return Err(file.unknown_key(key, TOP_KEYS)),
        }
    }
    if let Some(value) = table.get("environments") {
        values.environments = environments::parse(&file, value, &values.deploy)?;
    }
    Ok(values)
}

/// Turns TOML values into kiln types, with messages naming the file and key.
struct FileReader<'a> {
    path: &'a Path,
}

impl FileReader<'_> {
    fn relative(&self, path: &str) -> PathBuf {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(path),
            _ => PathBuf::from(path),
        }
    }

    fn string<'v>(&self, key: &str, value: &'v toml::Value) -> Result<&'v str> {
        value
            .as_str()
            .ok_or_else(|| self.wrong_type(key, value, "a string"))
    }

    fn parse<T>(
        &self,
        key: &str,
        value: &toml::Value,
        parse: fn(&str, &Source) -> Result<T>,
    ) -> Result<T> {
        let text = self.string(key, value)?;
        parse(
            text,
            &Source::File {
                path: self.path.to_path_buf(),
                key: key.to_string(),
            },
        )
    }

    /// A problem with the file as a whole (not one value), and what to do.
    fn problem(&self, problem: String, help: String) -> Error {
        Error::ConfigFile {
            path: self.path.to_path_buf(),
            problem,
            help,
        }
    }

    fn wrong_type(&self, key: &str, value: &toml::Value, expected: &str) -> Error {
        Error::ConfigFile {
            path: self.path.to_path_buf(),
            problem: format!("key `{key}` must be {expected}, not {}", describe(value)),
            help: "see the README's configuration reference".into(),
        }
    }

    fn unknown_key(&self, key: &str, allowed: &[&str]) -> Error {
        Error::ConfigFile {
            path: self.path.to_path_buf(),
            problem: format!("unknown key `{key}`"),
            help: format!("the keys allowed here are: {}", allowed.join(", ")),
        }
    }
}

/// A TOML value as a message shows it: `the integer 5`, `a table`.
fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("the string \"{s}\""),
        toml::Value::Integer(i) => format!("the integer {i}"),
        toml::Value::Float(x) => format!("the float {x}"),
        toml::Value::Boolean(b) => format!("the boolean {b}"),
        toml::Value::Datetime(d) => format!("the date {d}"),
        toml::Value::Array(_) => "a list".into(),
        toml::Value::Table(_) => "a table".into(),
    }
}

#[cfg(test)]
mod tests;
