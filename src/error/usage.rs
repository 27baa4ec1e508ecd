//! Usage and configuration errors: a flag, kiln.toml, an argument or an input file
//! is wrong or missing. Exit code 2, fixed by changing how kiln is called.

use super::{Described, Error, exit, misrouted};

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        InvalidValue {
            source,
            value,
            expected,
        } => Described::without_help(
            exit::USAGE,
            format!("invalid value `{value}` in {source}: expected {expected}"),
        ),
        ConfigFile {
            path,
            problem,
            help,
        } => Described::new(
            exit::USAGE,
            format!("{}: {problem}", path.display()),
            help.clone(),
        ),
        NoApp => Described::new(
            exit::USAGE,
            "no app name given",
            "pass --app NAME, set KILN_APP, or add `app = \"NAME\"` to kiln.toml",
        ),
        NoRegion => Described::new(
            exit::USAGE,
            "no AWS region configured",
            "pass --region, set AWS_REGION, or add `region = \"...\"` to kiln.toml",
        ),
        OutputUnwritable { path, what, detail } => Described::new(
            exit::USAGE,
            format!("cannot write {what} at {}: {detail}", path.display()),
            "nothing was changed: kiln checks every file it will write before it changes anything; fix the path or its permissions",
        ),
        // A misspelt profile never works on a retry: the call is wrong, not AWS.
        AwsProfileNotFound {
            profile,
            source,
            config_file,
            credentials_file,
        } => Described::new(
            exit::USAGE,
            format!(
                "AWS profile `{profile}` (from {source}) is in neither {} nor {}",
                config_file.display(),
                credentials_file.display()
            ),
            "check the name (`aws configure list-profiles` lists the profiles), or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE at the files that define it",
        ),
        ChannelClash { name } => Described::new(
            exit::USAGE,
            format!("the tested and production channels are both named `{name}`"),
            "give them different names ([channels] in kiln.toml, KILN_CHANNEL_TESTED, KILN_CHANNEL_PRODUCTION)",
        ),
        UnknownChannel { channel, known } => Described::new(
            exit::USAGE,
            format!(
                "unknown channel `{channel}`: the channels are {}",
                known.join(", ")
            ),
            "channel names are set in kiln.toml under [channels]",
        ),
        InputMissing { path, what, flag } => Described::new(
            exit::USAGE,
            format!("{}: {what} not found", path.display()),
            format!("check the path given to {flag}"),
        ),
        TemplateNotFound { path, role } => Described::new(
            exit::USAGE,
            format!("no Packer template for {role} at {}", path.display()),
            format!(
                "pass --template PATH, or set {role}_template under [bake] in kiln.toml; the kiln repository's packer/ directory has reference templates"
            ),
        ),
        other => misrouted("usage", other),
    }
}
