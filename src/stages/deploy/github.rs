//! The GitHub Deployment that mirrors a deploy or rollback: created (in_progress)
//! when the rollout starts, success or failure when it ends. GitHub being down or
//! refusing is a warning (see `Effects::github`), never a failed deploy.

use crate::effect::GithubCall;
use crate::github::{DeployedImage, DeploymentId, DeploymentState, NewDeployment};

use super::deployment::Deployment;

pub struct Record {
    id: Option<DeploymentId>,
}

/// Starts the record, when GitHub deployments are on and the commit is known.
pub async fn start(d: &Deployment<'_>) -> Record {
    let (ctx, rollout, command) = (d.ctx, d.rollout, d.command.as_str());
    let none = Record { id: None };
    let (Some(target), Some(entry)) = (&rollout.github, &d.entry) else {
        return none;
    };
    let commit = entry
        .image_tags
        .get(crate::provenance::tag::GIT_SHA)
        .cloned()
        .or_else(|| ctx.config.ci.github_sha.clone());
    let Some(commit) = commit else {
        crate::ui::warn(format!(
            "no GitHub deployment recorded: the image has no {} tag and GITHUB_SHA is not set",
            crate::provenance::tag::GIT_SHA
        ));
        return none;
    };
    let Ok(app) = ctx.config.app() else {
        return none;
    };
    let request = NewDeployment {
        commit,
        environment: rollout.environment.clone(),
        description: format!(
            "kiln {command} {} ({}:{})",
            entry.ami_id, entry.role, entry.version
        ),
        transient_environment: false,
        production_environment: rollout.environment == "production",
        image: DeployedImage {
            ami_id: entry.ami_id.clone(),
            parameter: entry.parameter.clone(),
            version: entry.version,
            region: d.region().clone(),
            app: app.clone(),
            strategy: rollout.strategy.to_string(),
        },
    };
    let id = ctx
        .effects
        .github(target, GithubCall::Create(&request))
        .await;
    let record = Record { id };
    record
        .set(
            d,
            DeploymentState::InProgress,
            &format!("{} of {} started", command, rollout.group),
        )
        .await;
    record
}

impl Record {
    pub async fn set(&self, d: &Deployment<'_>, state: DeploymentState, description: &str) {
        let (Some(id), Some(target)) = (self.id, &d.rollout.github) else {
            return;
        };
        // This CI run's page, to link from the deployment.
        let log_url = d.ctx.config.ci.provenance.build_url.clone();
        d.ctx
            .effects
            .github(
                target,
                GithubCall::Status {
                    id,
                    state,
                    description,
                    log_url: log_url.as_deref(),
                },
            )
            .await;
    }
}
