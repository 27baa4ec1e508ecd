//! The registry and its images: an SSM version, channel or AMI that is not there
//! (exit code 4), an image kiln may not use, SSM's limits, and prune's deletions.

use super::{Described, Error, exit, misrouted};
use crate::provenance::tag;

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        ParameterNotFound {
            parameter,
            region,
            role,
        } => Described::new(
            exit::NOT_FOUND,
            format!("no parameter {parameter} in {region}"),
            format!("run `kiln bake {role}` first, or `kiln publish {role} AMI_ID`"),
        ),
        VersionNotFound {
            parameter,
            version,
            latest,
            role,
        } => Described::new(
            exit::NOT_FOUND,
            format!("{parameter} has no version {version} (the latest is {latest})"),
            format!("list the versions with `kiln history {role}`"),
        ),
        ChannelEmpty {
            parameter,
            channel,
            role,
        } => Described::new(
            exit::NOT_FOUND,
            format!("channel `{channel}` of {parameter} is empty"),
            format!("promote a version first: `kiln promote {role}:VERSION --to {channel}`"),
        ),
        AmiNotFound {
            ami,
            region,
            from_registry,
        } => Described::new(
            exit::NOT_FOUND,
            format!("AMI {ami} does not exist in {region}"),
            if *from_registry {
                "the registry points at an image that no longer exists: publish or promote another image"
            } else {
                "check the id and the region (--region); AMIs are regional"
            },
        ),
        AmiNotAvailable { ami, state } => Described::new(
            exit::FAILED,
            format!("AMI {ami} is {state}, not available"),
            "wait until the image is available, or publish another image",
        ),
        AmiBelongsElsewhere {
            ami,
            tag: key,
            found,
            wanted,
        } => Described::new(
            exit::USAGE,
            format!("AMI {ami} is tagged {key}={found}, not {wanted}"),
            // Publish checks the app and the role, revoke only the app.
            if key == tag::APP {
                format!("pass --app {found} if you meant that app's image, or fix its {key} tag")
            } else {
                format!(
                    "publish it as {found} (`kiln publish {found} {ami}`), or fix its {key} tag"
                )
            },
        ),
        Revoked { ami, reason } => Described::new(
            exit::FAILED,
            format!("AMI {ami} is revoked: {reason}"),
            format!(
                "publish or promote another image; if the revocation was a mistake, `kiln revoke --undo {ami}` lifts it"
            ),
        ),
        VersionLimit {
            parameter,
            oldest,
            labels,
        } => Described::new(
            exit::FAILED,
            format!(
                "{parameter} already has 100 versions and its oldest, version {oldest}, carries the label(s) {}: SSM cannot drop it to add a new version",
                labels.join(", ")
            ),
            format!(
                "move the label(s) {} to a newer version with `kiln promote`, then publish again",
                labels.join(", ")
            ),
        ),
        LabelLimit { parameter, version } => Described::new(
            exit::FAILED,
            format!(
                "version {version} of {parameter} already carries 10 labels, the most SSM allows"
            ),
            "remove labels you no longer need from that version (aws ssm unlabel-parameter-version)",
        ),
        NotVisible {
            parameter,
            version,
            waited_secs,
        } => Described::new(
            exit::FAILED,
            format!(
                "version {version} of {parameter} was accepted but is still not readable after {waited_secs}s"
            ),
            "SSM validates aws:ec2:image values after accepting them: check the AMI exists in this region and that the caller may call ec2:DescribeImages",
        ),
        PruneIncomplete { failed } => {
            let failed: Vec<String> = failed
                .iter()
                .map(|(what, why)| format!("{what} ({why})"))
                .collect();
            Described::new(
                exit::FAILED,
                format!("{} deletions failed: {}", failed.len(), failed.join("; ")),
                "run kiln prune --apply again: what was deleted stays deleted, the rest is retried",
            )
        }
        other => misrouted("registry", other),
    }
}
