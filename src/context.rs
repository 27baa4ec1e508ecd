//! What every stage gets: the validated configuration, the effect gate (every
//! change) with its reader (every read), the registry, the teardown and the UI.
//! No AWS client is handed out here: reads go through `reader()`.

use crate::aws::{self, Aws};
use crate::config::Config;
use crate::effect::{Effects, Reader};
use crate::error::{Error, Result};
use crate::model::Region;
use crate::registry::Registry;
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
        // A profile that does not exist, or an SSO profile never logged in, is
        // said as such before the SDK turns it into a vaguer error.
        let env = crate::config::Env::process();
        // A dry run works without credentials: only a missing login is let through
        // (it then reads nothing); a profile that does not exist is still a mistake.
        match aws::profile::check(&config.aws, &env) {
            Err(Error::AwsSsoLogin { .. }) if config.dry_run => {}
            other => other?,
        }
        let profile = aws::profile::named(&config.aws, &env).map(|(name, _)| name);
        let aws = Aws::new(aws::sdk_config(&config.aws).await).with_profile(profile);
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

    /// The reader: the only way to AWS's read calls (see `effect::read`).
    pub fn reader(&self) -> &Reader {
        self.effects.reader()
    }

    /// The app's registry in one region; fails when no app name was given.
    pub fn registry(&self, region: &Region) -> Result<Registry> {
        Ok(Registry::new(
            self.config.app()?.clone(),
            self.config.prefix.clone(),
            region.clone(),
            self.effects.reader().clone(),
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
