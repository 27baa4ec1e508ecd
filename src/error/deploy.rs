//! Deploys and rollbacks: the group, the tested gate, the deploy lock, a rollout
//! that did not converge, nothing to roll back to.

use super::{Described, Error, RollbackOutcome, exit, misrouted};

pub(super) fn describe(error: &Error) -> Described {
    use Error::*;
    match error {
        NoGroup => Described::new(
            exit::USAGE,
            "no Auto Scaling group given",
            "pass --env NAME (an environment of kiln.toml) or --asg NAME, or set asg under [deploy] in kiln.toml",
        ),
        UnknownEnvironment {
            source,
            name,
            known,
        } => Described::new(
            exit::USAGE,
            format!("unknown environment `{name}` in {source}"),
            if known.is_empty() {
                "kiln.toml has no [environments]: add one, e.g. [environments.production] with groups = [\"my-asg\"], or deploy with --asg NAME".to_string()
            } else {
                format!("the environments in kiln.toml are: {}", known.join(", "))
            },
        ),
        NotInEnvironment {
            group,
            environment,
            groups,
        } => Described::new(
            exit::USAGE,
            format!("Auto Scaling group {group} is not in environment {environment}"),
            format!(
                "its groups are: {} (leave out --asg to deploy all of them)",
                groups.join(", ")
            ),
        ),
        NotAfter {
            subject,
            environment,
            after,
            channel,
            role,
        } => Described::new(
            exit::FAILED,
            format!("{subject} never ran in {after}, which {environment} deploys after"),
            format!(
                "deploy it to {after} first (`kiln deploy {role}:VERSION --env {after}`), deploy what {after} runs (`kiln deploy {role}:{channel} --env {environment}`), or pass --force to deploy it anyway"
            ),
        ),
        LedgerRecordTooLarge {
            parameter,
            bytes,
            groups,
        } => Described::new(
            exit::USAGE,
            format!(
                "the deploy record of {groups} groups is {bytes} bytes, more than the 8192 an SSM parameter ({parameter}) holds"
            ),
            "split the environment into smaller ones in kiln.toml (about 30 groups each), or deploy a part of it with --asg",
        ),
        RollbackIncomplete {
            group,
            region,
            detail,
        } => Described::new(
            exit::FAILED,
            format!("rollback incomplete: {group} in {region} {detail}"),
            format!(
                "look at the group (`aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names {group} --region {region}`); run `kiln rollback` again to retry, or `kiln status` to see what each group runs"
            ),
        ),
        GroupNotFound { group, region } => Described::new(
            exit::NOT_FOUND,
            format!("no Auto Scaling group {group} in {region}"),
            "check the name and the region (--region)",
        ),
        GroupWithoutTemplate { group } => Described::new(
            exit::FAILED,
            format!("Auto Scaling group {group} does not use a launch template"),
            "kiln deploys groups that launch from a launch template, directly or through a mixed instances policy; set one on the group first",
        ),
        GroupOnLaunchConfiguration {
            group,
            configuration,
            region,
        } => Described::new(
            exit::FAILED,
            format!(
                "Auto Scaling group {group} launches from launch configuration {configuration}; kiln deploys through launch template versions and changed nothing"
            ),
            format!(
                "move the group to a launch template first: copy the launch configuration to one (EC2 console, Launch configurations, {configuration}, Actions, Copy to launch template), then `aws autoscaling update-auto-scaling-group --auto-scaling-group-name {group} --launch-template LaunchTemplateName=NAME,Version=1 --region {region}`, and deploy again"
            ),
        ),
        BlueGreenMixedGroup { group } => Described::new(
            exit::USAGE,
            format!(
                "Auto Scaling group {group} launches through a mixed instances policy, which a blue-green deploy would not carry to the new group"
            ),
            "deploy it with --strategy rolling or instance-refresh (both keep its overrides and On-Demand/Spot mix)",
        ),
        DeployInterrupted {
            signal,
            command,
            group,
            launches,
            running,
        } => Described::new(
            exit::INTERRUPTED,
            format!(
                "interrupted by {signal} during kiln {command}: {group} now launches {launches}; its instances: {}",
                running.join(", ")
            ),
            if command == "rollback" {
                "run the same `kiln rollback` again to finish it (instances already on the version it returns to stay)".to_string()
            } else {
                format!(
                    "the channel was not moved; run the same `kiln deploy` again to resume (instances already on the new version stay), or `kiln rollback` (with the same --env or --asg) to return {group} to what it ran before"
                )
            },
        ),
        NoStack => Described::new(
            exit::USAGE,
            "no CloudFormation stack given for --via cloudformation",
            "pass --stack NAME, or set cloudformation_stack under [deploy] (or the environment) in kiln.toml",
        ),
        StackMissing { stack, region } => Described::new(
            exit::NOT_FOUND,
            format!("CloudFormation has no stack {stack} in {region}"),
            "check the name (`aws cloudformation describe-stacks`) and the region, then pass it in --stack or [deploy] cloudformation_stack",
        ),
        StackParameterMissing {
            stack,
            parameter,
            available,
        } => Described::new(
            exit::USAGE,
            format!(
                "stack {stack} has no parameter {parameter} (it has: {})",
                if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                }
            ),
            "name the parameter its launch template's ImageId refers to in --stack-parameter or [deploy] cloudformation_parameter",
        ),
        StackBusy {
            stack,
            status,
            waited,
        } => Described::new(
            exit::FAILED,
            match waited {
                Some(waited) => format!("stack {stack} is still {status} after {waited}"),
                None => format!("stack {stack} is {status}: CloudFormation is still working on it"),
            },
            "the group was not changed; run the deploy again once the stack is UPDATE_COMPLETE (`aws cloudformation describe-stacks --stack-name STACK`)",
        ),
        StackUpdateFailed {
            stack,
            status,
            failures,
        } => Described::new(
            exit::FAILED,
            format!(
                "the update of stack {stack} failed ({status}): {}",
                if failures.is_empty() {
                    "CloudFormation named no failed resource".to_string()
                } else {
                    failures.join("; ")
                }
            ),
            "CloudFormation rolled the stack back and the group was not changed; fix the cause in the stack and deploy again",
        ),
        StackDidNotPin {
            stack,
            parameter,
            template,
            ami,
            newest,
        } => Described::new(
            exit::FAILED,
            format!(
                "stack {stack} updated, but the newest version of {template} ({newest}) does not pin {ami}"
            ),
            format!(
                "does the group's launch template take its ImageId from the parameter ({{\"Ref\": \"{parameter}\"}})? See cloudformation/ for a reference template"
            ),
        ),
        TerraformWorkspaceMissing {
            workspace,
            dir,
            available,
        } => Described::new(
            exit::USAGE,
            format!(
                "the Terraform stack in {dir} has no workspace {workspace} (it has: {})",
                available.join(", ")
            ),
            format!(
                "create it (`terraform -chdir={dir} workspace new {workspace}`, then apply it once), or name one it has in --terraform-workspace or [deploy] terraform_workspace"
            ),
        ),
        NotTested {
            subject,
            channel,
            role,
            rollback,
        } => Described::new(
            exit::FAILED,
            format!("{subject} is not on the {channel} channel"),
            if *rollback {
                format!(
                    "verify it first (`kiln verify {role}:VERSION` promotes it to {channel}), or deploy it anyway with `kiln deploy {role}:VERSION --force`"
                )
            } else {
                format!(
                    "verify it first (`kiln verify {role}:VERSION` promotes it to {channel}), or pass --force to deploy it anyway"
                )
            },
        ),
        DeployLocked {
            group,
            holder,
            lock,
            region,
            by_refresh,
        } => Described::new(
            exit::FAILED,
            format!("another deploy holds Auto Scaling group {group}: {holder}"),
            if *by_refresh {
                format!(
                    "wait for the instance refresh to finish, or cancel it: aws autoscaling cancel-instance-refresh --auto-scaling-group-name {group} --region {region}"
                )
            } else {
                format!(
                    "wait for it to finish; if its run is gone (a crashed job), the lock expires by itself, or remove it: aws ssm delete-parameter --name {lock} --region {region}"
                )
            },
        ),
        DeployFailed {
            group,
            detail,
            rollback,
        } => {
            let failed = format!("deploy to {group} failed: {detail}");
            match rollback {
                RollbackOutcome::Done(version) => Described::new(
                    exit::FAILED,
                    format!("{failed}; rolled back to launch template version {version}"),
                    "production was not moved; look at the new instances' health (target group health checks, the app's logs) and deploy a fixed image",
                ),
                RollbackOutcome::NotAsked => Described::new(
                    exit::FAILED,
                    format!("{failed}; not rolled back (--no-rollback)"),
                    "the group was left on the new version (--no-rollback); production was not moved: `kiln rollback` returns to the production image",
                ),
                // The group is between versions: as for a failed cleanup, it needs a person.
                RollbackOutcome::Failed(why) => Described::new(
                    exit::CLEANUP,
                    format!("{failed}; the rollback failed too: {why}"),
                    "the group is between versions: check it in the console, then run `kiln rollback`",
                ),
            }
        }
        NothingToRollBack { detail } => Described::new(
            exit::NOT_FOUND,
            format!("nothing to roll back to: {detail}"),
            "name the image to return to: `kiln rollback --to app:VERSION` (`kiln history app` lists them)",
        ),
        other => misrouted("deploy", other),
    }
}
