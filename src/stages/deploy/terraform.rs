//! `kiln deploy --via terraform`: Terraform owns the launch template, kiln owns the
//! rollout. kiln runs `terraform apply -auto-approve -input=false -var VAR=AMI`
//! (VAR: `--terraform-var`, default `ami_id`; then each `--terraform-var-file`)
//! in the stack's directory (output streamed, signals forwarded like Packer's),
//! then takes the template's newest version, which must pin that AMI, and rolls
//! the group out to it exactly as for a plain deploy. The reference stack ignores
//! the group's template version, so the apply itself replaces nothing.
//!
//! With `--terraform-workspace NAME` the apply runs with `TF_WORKSPACE=NAME`
//! (the stack's own selection is left as it is), after `terraform workspace list`
//! has shown that NAME exists: Terraform would otherwise offer to create it, or
//! apply a fresh empty state that makes a second launch template.

use crate::aws::autoscaling::Group;
use crate::config::TerraformStack;
use crate::error::{Error, Result};
use crate::tools::ToolCommand;

use super::deployment::Deployment;
use super::template::Versions;

pub async fn apply(d: &Deployment<'_>, group: &Group, stack: &TerraformStack) -> Result<Versions> {
    let dir = stack.dir.as_path();
    let (ctx, image) = (d.ctx, d.image());
    let current = super::template::current(d, group).await?;
    let (template, previous) = (current.template, current.number);
    let ami = image.map_or_else(
        || "(the AMI the reference resolves to)".to_string(),
        |a| a.to_string(),
    );
    let mut env = vec![("TF_IN_AUTOMATION".into(), "1".into())];
    if let Some(workspace) = &stack.workspace {
        check_workspace(d, stack, workspace).await?;
        env.push(("TF_WORKSPACE".into(), workspace.clone()));
    }
    let mut args: Vec<String> = vec![
        "apply".into(),
        "-auto-approve".into(),
        "-input=false".into(),
        "-no-color".into(),
        "-var".into(),
        format!("{}={ami}", stack.var),
    ];
    for file in &stack.var_files {
        args.push(format!("-var-file={}", file.display()));
    }
    let command = ToolCommand {
        program: "terraform".into(),
        args,
        env,
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
                "the newest version of {template} ({}) does not pin {ami}: does the stack pass var.{} to the launch template's image_id?",
                other.map_or("none".to_string(), |v| format!(
                    "version {} with {}",
                    v.number,
                    v.image.map_or("no image".to_string(), |i| i.to_string())
                )),
                stack.var
            )],
        }),
    }
}

/// Refuses a workspace the stack does not have, naming the ones it has.
async fn check_workspace(
    d: &Deployment<'_>,
    stack: &TerraformStack,
    workspace: &str,
) -> Result<()> {
    let command = ToolCommand {
        program: "terraform".into(),
        args: vec!["workspace".into(), "list".into(), "-no-color".into()],
        env: vec![("TF_IN_AUTOMATION".into(), "1".into())],
        dir: Some(stack.dir.clone()),
        secrets: Vec::new(),
        private_files: Vec::new(),
    };
    let mut lines = Vec::new();
    let finished = d
        .ctx
        .effects
        .run_tool(command, |line| {
            lines.push(line.to_string());
            line.to_string()
        })
        .await?;
    let Some(finished) = finished else {
        return Ok(());
    };
    if let Some(signal) = finished.interrupted {
        return Err(Error::Interrupted {
            signal: signal.to_string(),
            what: "terraform was listing workspaces (the group was not changed)".into(),
        });
    }
    if finished.code != Some(0) {
        return Err(Error::ToolFailed {
            tool: "terraform".into(),
            code: finished.code,
            tail: finished.tail,
        });
    }
    let available = workspaces(&lines);
    if available.iter().any(|w| w == workspace) {
        return Ok(());
    }
    Err(Error::TerraformWorkspaceMissing {
        workspace: workspace.to_string(),
        dir: stack.dir.display().to_string(),
        available,
    })
}

/// The names `terraform workspace list` prints, one a line, the selected one
/// marked `* `, up to the first blank line (a TF_WORKSPACE override adds a note
/// after one).
fn workspaces(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.trim_start_matches('*').trim())
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn workspace_list_is_read_with_the_selected_one_marked() {
        let printed = [
            "  default",
            "* staging",
            "  production",
            "",
            "The active workspace is being overridden using the TF_WORKSPACE environment",
        ]
        .map(String::from);
        assert_eq!(
            super::workspaces(&printed),
            ["default", "staging", "production"]
        );
    }
}
