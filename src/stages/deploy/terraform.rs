//! `kiln deploy --via terraform`: Terraform owns the launch template, kiln owns the
//! rollout. kiln runs `terraform apply -auto-approve -input=false -var ami_id=AMI`
//! in the stack's directory (output streamed, signals forwarded like Packer's),
//! then takes the template's newest version, which must pin that AMI, and rolls
//! the group out to it exactly as for a plain deploy. The reference stack ignores
//! the group's template version, so the apply itself replaces nothing.

use std::path::Path;

use crate::aws::autoscaling::Group;
use crate::error::{Error, Result};
use crate::tools::ToolCommand;

use super::deployment::Deployment;
use super::template::Versions;

pub async fn apply(d: &Deployment<'_>, group: &Group, dir: &Path) -> Result<Versions> {
    let (ctx, image) = (d.ctx, d.image());
    let current = super::template::current(d, group).await?;
    let (template, previous) = (current.template, current.number);
    let ami = image.map_or_else(
        || "(the AMI the reference resolves to)".to_string(),
        |a| a.to_string(),
    );
    let command = ToolCommand {
        program: "terraform".into(),
        args: vec![
            "apply".into(),
            "-auto-approve".into(),
            "-input=false".into(),
            "-no-color".into(),
            "-var".into(),
            format!("ami_id={ami}"),
        ],
        env: vec![("TF_IN_AUTOMATION".into(), "1".into())],
        dir: Some(dir.to_path_buf()),
        secrets: Vec::new(),
        private_files: Vec::new(),
    };
    let stream = ctx.ui.stream(
        "terraform",
        &format!("terraform apply in {}", dir.display()),
    );
    let finished = ctx
        .effects
        .run_tool(command, |line| {
            stream.line(line);
            line.to_string()
        })
        .await?;
    drop(stream);
    let Some(finished) = finished else {
        // A dry run: the plan shows the apply; the version it would make is unknown.
        return Ok(Versions {
            template,
            new: None,
            previous,
            created: true,
            mixed: group.mixed.clone(),
        });
    };
    if let Some(signal) = finished.interrupted {
        return Err(Error::Interrupted {
            signal: signal.to_string(),
            what: "terraform was applying (it was stopped; the group was not changed)".into(),
        });
    }
    if finished.code != Some(0) {
        return Err(Error::ToolFailed {
            tool: "terraform".into(),
            code: finished.code,
            tail: finished.tail,
        });
    }
    let what = format!("ec2:DescribeLaunchTemplateVersions {template} version $Latest");
    let latest = d
        .read(what, |aws| {
            let template = &template;
            async move { aws.ec2.template_version(template, "$Latest").await }
        })
        .await?;
    match latest {
        Some(version) if version.image.as_ref() == image => Ok(Versions {
            template,
            new: Some(version.number),
            previous,
            created: true,
            mixed: group.mixed.clone(),
        }),
        other => Err(Error::ToolFailed {
            tool: "terraform".into(),
            code: Some(0),
            tail: vec![format!(
                "the newest version of {template} ({}) does not pin {ami}: does the stack pass var.ami_id to the launch template's image_id?",
                other.map_or("none".to_string(), |v| format!(
                    "version {} with {}",
                    v.number,
                    v.image.map_or("no image".to_string(), |i| i.to_string())
                ))
            )],
        }),
    }
}
