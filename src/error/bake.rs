//! The programs kiln runs (Packer for a bake, Terraform for `deploy --via
//! terraform`) and a bake's publishing to several regions. Exit code 1, and 2
//! for a template kiln refuses before building (several builds, a Packer too old).

use super::{Described, Error, exit, misrouted};

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        ToolMissing { tool, detail } => Described::new(
            exit::FAILED,
            format!("cannot run {tool}: {detail}"),
            match tool.as_str() {
                "packer" => "install Packer (Debian/Ubuntu: `apt-get install packer`; or HashiCorp's release from developer.hashicorp.com/packer/install) and make sure it is on PATH".to_string(),
                "terraform" => "install Terraform (developer.hashicorp.com/terraform/install) and make sure it is on PATH, or deploy without --via terraform".to_string(),
                _ => format!("install {tool} and make sure it is on PATH"),
            },
        ),
        ToolFailed { tool, code, tail } => Described::new(
            exit::FAILED,
            match code {
                Some(code) => format!("{tool} failed with exit code {code}"),
                None => format!("{tool} was killed by a signal"),
            } + &last_lines(tool, tail),
            if tool == "terraform" {
                "the group was not changed; fix the stack (`terraform plan` shows what apply tried) and run kiln deploy again"
            } else {
                "nothing was published; fix the template or the build and run kiln again"
            },
        ),
        NoArtifact { tail } => Described::new(
            exit::FAILED,
            "packer finished without reporting an AMI".to_string() + &last_lines("packer", tail),
            "nothing was published; fix the template or the build and run kiln again",
        ),
        BadArtifact { problem } => Described::new(
            exit::FAILED,
            format!("cannot use what packer reported: {problem}"),
            "nothing was published; fix the template or the build and run kiln again",
        ),
        BuiltElsewhere {
            primary,
            role,
            built,
        } => {
            let regions: Vec<&str> = built.iter().map(|(r, _)| r.as_str()).collect();
            let left: Vec<String> = built.iter().map(|(r, a)| format!("{a} ({r})")).collect();
            let adopt: Vec<String> = built
                .iter()
                .map(|(r, a)| format!("`kiln --region {r} publish {role} {a}`"))
                .collect();
            let other = regions.first().copied().unwrap_or("REGION");
            Described::new(
                exit::FAILED,
                format!(
                    "Packer built in {} but not in the primary region {primary}; it left {} untracked (not tagged, not published)",
                    regions.join(", "),
                    left.join(", ")
                ),
                format!(
                    "kiln bakes in its primary region: build in it (`region = var.kiln_region` in the template), or make {other} kiln's region (--region {other}, or region = \"{other}\" in kiln.toml); to adopt what was built: {}",
                    adopt.join(" or ")
                ),
            )
        }
        AmiNameTaken {
            name,
            existing,
            tail,
        } => Described::new(
            exit::FAILED,
            format!(
                "the AMI name {}is already taken{}: the template gives every bake the same ami_name",
                name.as_ref().map_or(String::new(), |n| format!("`{n}` ")),
                existing.as_ref().map_or(String::new(), |a| format!(" by {a}"))
            ) + &last_lines("packer", tail),
            "use var.kiln_ami_name, the unique name kiln passes each bake: declare variable \"kiln_ami_name\" and set ami_name = var.kiln_ami_name (legacy JSON: \"ami_name\": \"{{user `kiln_ami_name`}}\"); nothing was published",
        ),
        SeveralBuilds {
            template,
            role,
            builds,
        } => Described::new(
            exit::USAGE,
            format!(
                "the template {} makes {} builds ({}); kiln bakes one image per role, so nothing was built",
                template.display(),
                builds.len(),
                builds.join(", ")
            ),
            format!(
                "pick one with --only NAME (Packer's -only), e.g. --only {first}, or set only = \"{first}\" under [bake.{role}] in kiln.toml",
                first = builds.first().map_or("NAME", String::as_str)
            ),
        ),
        PackerTooOld { installed } => Described::new(
            exit::USAGE,
            format!(
                "this template needs Packer ≥ 1.7 (required_plugins); installed: {installed}"
            ),
            "install Packer 1.7 or newer from HashiCorp (developer.hashicorp.com/packer/install; Debian's package is older) and run kiln again: kiln runs `packer init` for the template's plugins; or drop the packer { required_plugins } block to bake with this Packer",
        ),
        LineageMismatch {
            built_on,
            base,
            base_version,
            left,
        } => Described::new(
            exit::FAILED,
            format!(
                "the app was built on {built_on}, not on the registry's base {base} (base version {base_version})"
            ) + &match left {
                Some(ami) => format!("; nothing was published (Packer made {ami}, which is not in the registry)"),
                None => "; nothing was baked or published".to_string(),
            },
            "build on the base kiln hands the template (declare variable \"kiln_source_ami\" and set source_ami = var.kiln_source_ami), or bake with --base none for an image without a registry base; without --strict-lineage kiln warns and records no base",
        ),
        AmbiguousSource { build, images } => Described::new(
            exit::FAILED,
            format!(
                "the source_ami_filter of {build} matches {} images ({}) and most_recent is not set; Packer would refuse it (\"Your query returned more than one result\")",
                images.len(),
                images.join(", ")
            ),
            "set most_recent = true in the source_ami_filter, or narrow its filters to one image; nothing was baked",
        ),
        Regions { published, failed } => {
            let failed: Vec<String> = failed.iter().map(|(r, e)| format!("{r} ({e})")).collect();
            let published = if published.is_empty() {
                "no region".to_string()
            } else {
                published.join(", ")
            };
            Described::new(
                exit::FAILED,
                format!("published in {published}; failed in {}", failed.join(", ")),
                "run the command again: regions already published keep their version, the others are retried",
            )
        }
        other => misrouted("bake", other),
    }
}

/// A tool's last lines, indented under the message (nothing if there are none).
fn last_lines(tool: &str, tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let mut text = "; its last lines:".to_string();
    for line in tail.iter().flat_map(|entry| entry.lines()) {
        text.push_str(&format!("\n  {tool} | {line}"));
    }
    text
}
