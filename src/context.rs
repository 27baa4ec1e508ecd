//! What every stage gets: the validated configuration, the AWS connection, the
//! registry, the effect gate and the UI.

use crate::aws::{self, Aws};
use crate::config::Config;
use crate::effect::Effects;
use crate::error::{Error, Result};
use crate::model::ImageRef;
use crate::model::Region;
use crate::registry::{Entry, Registry};
use crate::teardown::Teardown;
use crate::ui::Ui;

pub struct Context {
    pub config: Config,
    pub ui: Ui,
    pub effects: Effects,
    /// What this run created and must remove before kiln exits.
    pub teardown: Teardown,
    aws: Aws,
}

impl Context {
    /// Connects to AWS. Without a region or credentials this fails, except in a dry
    /// run, where reads become "would read" entries of the plan instead.
    pub async fn new(config: Config, ui: Ui) -> Result<Self> {
        let aws = Aws::new(aws::sdk_config(&config.aws).await);
        Self::with_aws(config, ui, aws).await
    }

    /// As `new`, with a given connection (SDK-level tests hand in mocked clients).
    pub async fn with_aws(config: Config, ui: Ui, aws: Aws) -> Result<Self> {
        let offline = match aws.check().await {
            Ok(()) => None,
            Err(error) if config.dry_run => {
                tracing::info!("dry run without AWS access: {error}");
                Some(match error {
                    Error::NoRegion => "no AWS region configured".to_string(),
                    Error::AwsCredentials { .. } => "no AWS credentials".to_string(),
                    other => other.to_string(),
                })
            }
            Err(error) => return Err(error),
        };
        Ok(Self {
            effects: Effects::new(aws.clone(), config.dry_run, offline),
            config,
            ui,
            teardown: Teardown::default(),
            aws,
        })
    }

    /// The primary region; a placeholder only in a dry run with no region at all.
    pub fn region(&self) -> Region {
        self.aws
            .primary_region()
            .cloned()
            .unwrap_or_else(|| Region::from_aws("(no region configured)"))
    }

    /// The primary region followed by the configured extra regions, without repeats.
    pub fn regions(&self) -> Vec<Region> {
        let mut regions = vec![self.region()];
        for region in &self.config.extra_regions {
            if !regions.contains(region) {
                regions.push(region.clone());
            }
        }
        regions
    }

    /// The endpoint every AWS call goes to, when it is overridden (an emulator).
    pub fn endpoint(&self) -> Option<&str> {
        self.aws.endpoint()
    }

    /// EC2 in one region, for waits the registry does not cover.
    pub fn aws_ec2(&self, region: &Region) -> crate::aws::ec2::Ec2 {
        self.aws.ec2(region)
    }

    /// Auto Scaling in one region, for rollouts.
    pub fn aws_autoscaling(&self, region: &Region) -> crate::aws::autoscaling::AutoScaling {
        self.aws.autoscaling(region)
    }

    /// ELBv2 in one region, for target health.
    pub fn aws_elb(&self, region: &Region) -> crate::aws::elb::Elb {
        self.aws.elb(region)
    }

    /// SSM in one region, for Run Command and the agent's registration.
    pub fn aws_ssm(&self, region: &Region) -> crate::aws::ssm::Ssm {
        self.aws.ssm(region)
    }

    /// Resolves a reference to an image that may still be used (exists, not revoked);
    /// `None` only in a dry run that cannot read AWS (the read goes in the plan).
    pub async fn resolve_usable(
        &self,
        registry: &Registry,
        reference: &ImageRef,
    ) -> Result<Option<Entry>> {
        let what = format!(
            "ssm:GetParameter {reference} of {}",
            registry.parameter(reference.role)
        );
        self.effects
            .read(what, registry.resolve_usable(reference))
            .await
    }

    /// The app's registry in one region; fails when no app name was given.
    pub fn registry(&self, region: &Region) -> Result<Registry> {
        Ok(Registry::new(
            self.config.app()?.clone(),
            self.config.prefix.clone(),
            region.clone(),
            self.aws.clone(),
        ))
    }
}

#[cfg(test)]
impl Context {
    /// A context for app `shop` in eu-west-1 whose AWS calls go to `aws` (mocked
    /// clients, see `aws::mocked`).
    pub async fn mocked(aws: Aws) -> Self {
        let flags = crate::cli::GlobalArgs {
            config: None,
            app: Some("shop".into()),
            region: Some("eu-west-1".into()),
            profile: None,
            endpoint_url: None,
            dry_run: false,
            output: None,
            verbose: 0,
        };
        let config = crate::config::load(&flags, &crate::config::Env::default())
            .expect("a valid configuration");
        Self::with_aws(config, Ui::detect(), aws)
            .await
            .expect("mocked credentials")
    }
}
