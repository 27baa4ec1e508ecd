//! The image registry: the only code that knows SSM paths, where AMI ids live
//! and where deploy locks live.
//!
//! One SSM parameter per app and role, `<prefix>/<app>/<role>`, in each region,
//! holding that region's AMI id with DataType `aws:ec2:image`. Every publish is a
//! new version (the history is the rollback list); channels are labels on versions.
//! A deploy holds a group with `<prefix>/<app>/deploy-lock/<group>`, one level
//! under the path prune scans for locks that still name an image. An environment's
//! deploy ledger is `<prefix>/<app>/ledger/<environment>` (see `ledger`).
//! Reads happen here; changes are returned as `Change` values for `effect` to carry
//! out, so dry-run sees exactly what a real run would do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::ec2::Image;
use crate::aws::ssm::IMAGE_DATA_TYPE;
use crate::effect::{Change, ImageChange, ParameterChange, Reader};
use crate::error::{Error, Result};
use crate::ledger::{self, DeployRecord};
use crate::model::{
    AmiId, AppName, Channel, GroupName, ImageRef, ParameterName, ParameterPrefix, Region, Role,
    Selector, Timestamp, Version,
};
use crate::provenance::{Provenance, tag};
use crate::ui::Ui;

/// A reference resolved to a concrete version.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub role: Role,
    pub version: Version,
    pub ami_id: AmiId,
    pub parameter: ParameterName,
    pub region: Region,
    /// The image's tags, when `resolve_usable` read the image (empty after `resolve`).
    #[serde(skip)]
    pub image_tags: std::collections::BTreeMap<String, String>,
}

/// One version of a role's parameter, with what its description says of its origin.
#[derive(Debug, Clone, Serialize)]
pub struct VersionRecord {
    pub version: Version,
    pub ami_id: AmiId,
    pub labels: Vec<String>,
    pub published: Option<Timestamp>,
    pub provenance: Provenance,
}

/// The registry of one app in one region.
#[derive(Debug, Clone)]
pub struct Registry {
    app: AppName,
    prefix: ParameterPrefix,
    region: Region,
    reader: Reader,
}

impl Registry {
    pub fn new(app: AppName, prefix: ParameterPrefix, region: Region, reader: Reader) -> Self {
        Self {
            app,
            prefix,
            region,
            reader,
        }
    }

    pub fn app(&self) -> &AppName {
        &self.app
    }

    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn parameter(&self, role: Role) -> ParameterName {
        ParameterName::new(format!("{}/{}/{}", self.prefix, self.app, role))
    }

    /// The path holding every deploy lock of this app, one level deep.
    pub fn locks_path(&self) -> String {
        format!("{}/{}/deploy-lock", self.prefix, self.app)
    }

    /// The parameter that is the deploy lock on `group`, directly under
    /// `locks_path`; a character SSM does not allow in a name becomes `_`.
    pub fn lock_parameter(&self, group: &GroupName) -> String {
        let safe: String = group
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{}/{safe}", self.locks_path())
    }

    /// The deploy ledger of one environment: `<prefix>/<app>/ledger/<environment>`,
    /// apart from the image parameters and the locks.
    pub fn ledger_parameter(&self, environment: &str) -> ParameterName {
        ParameterName::new(format!("{}/{}/ledger/{environment}", self.prefix, self.app))
    }

    /// The deploy records of an environment, one per deploy, newest first; empty
    /// when nothing was ever deployed there.
    pub async fn ledger(&self, environment: &str) -> Result<Vec<(Version, DeployRecord)>> {
        let name = self.ledger_parameter(environment);
        let what = format!("ssm:GetParameterHistory {name}");
        let history = self
            .reader
            .read(&self.region, what, |aws| async move {
                aws.ssm.history(&name).await
            })
            .await?
            .unwrap_or_default();
        let values: Vec<(Version, String)> =
            history.into_iter().map(|v| (v.version, v.value)).collect();
        Ok(ledger::records(&values))
    }

    /// The change that adds `record` to its environment's ledger, or the error
    /// that says it is too large for a parameter.
    pub fn record(&self, record: &DeployRecord) -> Result<Change> {
        let name = self.ledger_parameter(&record.environment);
        let value = record.to_value();
        if value.len() > ledger::MAX_RECORD_BYTES {
            return Err(Error::LedgerRecordTooLarge {
                parameter: name.to_string(),
                bytes: value.len(),
                groups: record.groups.len(),
            });
        }
        Ok(Change::Parameter(ParameterChange::Record {
            region: self.region.clone(),
            name,
            event: record.outcome.as_str().to_string(),
            value,
        }))
    }

    /// Every deploy lock of this app in this region, by parameter name, with the
    /// holder text it stores.
    pub async fn deploy_locks(&self) -> Result<Vec<(String, String)>> {
        let path = self.locks_path();
        let what = format!("ssm:GetParametersByPath {path}");
        self.reader
            .read(&self.region, what, |aws| async move {
                aws.ssm.values_under(&path).await
            })
            .await
    }

    /// The version and AMI a reference points at, or an error that says which part
    /// is missing (parameter, version or channel) and what to do.
    pub async fn resolve(&self, reference: &ImageRef) -> Result<Entry> {
        let parameter = self.parameter(reference.role);
        let what = format!("ssm:GetParameter {reference} of {parameter}");
        self.reader
            .read(&self.region, what, |aws| async move {
                self.resolve_with(&aws.ssm, reference, parameter).await
            })
            .await
    }

    async fn resolve_with(
        &self,
        ssm: &crate::aws::ssm::Ssm,
        reference: &ImageRef,
        parameter: ParameterName,
    ) -> Result<Entry> {
        let selected = match &reference.selector {
            Selector::Latest => parameter.to_string(),
            Selector::Channel(channel) => format!("{parameter}:{channel}"),
            Selector::Version(version) => format!("{parameter}:{version}"),
        };
        if let Some(found) = ssm.get(&selected).await? {
            return Ok(Entry {
                role: reference.role,
                version: found.version,
                ami_id: AmiId::from_aws(found.value),
                parameter,
                region: self.region.clone(),
                image_tags: Default::default(),
            });
        }
        // Only on the error path: find out whether the parameter exists at all.
        let latest = match &reference.selector {
            Selector::Latest => None,
            _ => ssm.get(parameter.as_str()).await?,
        };
        let role = reference.role.to_string();
        Err(match (&reference.selector, latest) {
            (Selector::Version(version), Some(latest)) => Error::VersionNotFound {
                parameter: parameter.to_string(),
                version: version.0,
                latest: latest.version.0,
                role,
            },
            (Selector::Channel(channel), Some(_)) => Error::ChannelEmpty {
                parameter: parameter.to_string(),
                channel: channel.to_string(),
                role,
            },
            _ => Error::ParameterNotFound {
                parameter: parameter.to_string(),
                region: self.region.to_string(),
                role,
            },
        })
    }

    /// The role's newest AMI and version, or `None` when it was never published.
    pub async fn newest(&self, role: Role) -> Result<Option<(AmiId, Version)>> {
        let reference = ImageRef {
            role,
            selector: Selector::Latest,
        };
        match self.resolve(&reference).await {
            Ok(entry) => Ok(Some((entry.ami_id, entry.version))),
            Err(Error::ParameterNotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Resolves a reference whose image must still be usable: it exists and is not
    /// revoked (promote, verify and deploy refuse anything else).
    pub async fn resolve_usable(&self, reference: &ImageRef) -> Result<Entry> {
        let entry = self.resolve(reference).await?;
        let image = self.image(&entry.ami_id).await?;
        self.usable(entry, image)
    }

    /// The entry with its image's tags, if the image exists and is not revoked.
    pub fn usable(&self, entry: Entry, image: Option<Image>) -> Result<Entry> {
        match image {
            None => Err(Error::AmiNotFound {
                ami: entry.ami_id.to_string(),
                region: self.region.to_string(),
                from_registry: true,
            }),
            Some(image) => match image.tags.get(tag::REVOKED) {
                Some(reason) => Err(Error::Revoked {
                    ami: entry.ami_id.to_string(),
                    reason: reason.clone(),
                }),
                None => Ok(Entry {
                    image_tags: image.tags,
                    ..entry
                }),
            },
        }
    }

    /// The version a channel is on now, if any.
    pub async fn channel_version(&self, role: Role, channel: &Channel) -> Result<Option<Version>> {
        let selected = format!("{}:{channel}", self.parameter(role));
        let what = format!("ssm:GetParameter {selected}");
        let found = self
            .reader
            .read(&self.region, what, |aws| async move {
                aws.ssm.get(&selected).await
            })
            .await?;
        Ok(found.map(|p| p.version))
    }

    /// Every version SSM keeps, newest first; `None` when the role was never published.
    pub async fn history(&self, role: Role) -> Result<Option<Vec<VersionRecord>>> {
        let parameter = self.parameter(role);
        let what = format!("ssm:GetParameterHistory {parameter}");
        let versions = self
            .reader
            .read(&self.region, what, |aws| async move {
                aws.ssm.history(&parameter).await
            })
            .await?;
        let Some(versions) = versions else {
            return Ok(None);
        };
        let mut records: Vec<VersionRecord> = versions
            .into_iter()
            .map(|v| VersionRecord {
                version: v.version,
                ami_id: AmiId::from_aws(v.value),
                labels: v.labels,
                published: v.modified,
                provenance: v
                    .description
                    .as_deref()
                    .map(Provenance::parse_description)
                    .unwrap_or_default(),
            })
            .collect();
        records.reverse();
        Ok(Some(records))
    }

    /// An available, unrevoked image of this app and role whose inputs hash is
    /// `hash`: a bake with the same inputs, done before. The newest if there are several.
    pub async fn baked_with(&self, role: Role, hash: &str) -> Result<Option<Image>> {
        let tags = [
            (tag::APP, self.app.as_str()),
            (tag::ROLE, role.as_str()),
            (tag::INPUTS_HASH, hash),
        ];
        let what = format!(
            "ec2:DescribeImages tagged {}={hash} in {}",
            tag::INPUTS_HASH,
            self.region
        );
        let mut images = self
            .reader
            .read(&self.region, what, |aws| async move {
                aws.ec2.images_tagged(&tags).await
            })
            .await?;
        // A revoked image is never brought back, not even by an identical bake.
        images.retain(|i| !i.tags.contains_key(tag::REVOKED));
        images.sort_by_key(|i| i.created);
        Ok(images.pop())
    }

    /// The images among `ids` that exist, by id, in one batched call.
    pub async fn images(&self, ids: &[AmiId]) -> Result<HashMap<AmiId, Image>> {
        let mut unique: Vec<AmiId> = ids.to_vec();
        unique.sort();
        unique.dedup();
        if unique.is_empty() {
            return Ok(HashMap::new());
        }
        let what = format!("ec2:DescribeImages of {} images", unique.len());
        let images = self
            .reader
            .read(&self.region, what, |aws| async move {
                aws.ec2.images(&unique).await
            })
            .await?;
        Ok(images.into_iter().map(|i| (i.id.clone(), i)).collect())
    }

    pub async fn image(&self, id: &AmiId) -> Result<Option<Image>> {
        let what = format!("ec2:DescribeImages {id} in {}", self.region);
        self.reader
            .read(
                &self.region,
                what,
                |aws| async move { aws.ec2.image(id).await },
            )
            .await
    }

    /// The change that publishes `ami` as the newest version of `role`.
    pub fn publish(&self, role: Role, ami: Option<&AmiId>, provenance: &Provenance) -> Change {
        Change::Parameter(ParameterChange::Publish {
            region: self.region.clone(),
            name: self.parameter(role),
            value: ami.cloned(),
            data_type: IMAGE_DATA_TYPE,
            description: provenance.description(),
        })
    }

    /// The change that moves `channel` to `version` (`None`: not known in a dry run).
    pub fn promote(&self, role: Role, version: Option<Version>, channel: &Channel) -> Change {
        Change::Parameter(ParameterChange::Label {
            region: self.region.clone(),
            name: self.parameter(role),
            version,
            labels: vec![channel.clone()],
        })
    }

    /// The change that records provenance on an image.
    pub fn tag_image(
        &self,
        ami: Option<&AmiId>,
        tags: std::collections::BTreeMap<String, String>,
    ) -> Change {
        Change::Image(ImageChange::Tag {
            region: self.region.clone(),
            ami_id: ami.cloned(),
            tags,
        })
    }

    /// Waits until a published version can be read. SSM accepts an `aws:ec2:image`
    /// value first and validates it afterwards; until then the version is invisible,
    /// and if validation fails it never appears.
    pub async fn wait_readable(
        &self,
        role: Role,
        version: Version,
        timeout: Duration,
        ui: &Ui,
    ) -> Result<()> {
        let parameter = self.parameter(role);
        let selected = format!("{parameter}:{version}");
        let started = Instant::now();
        let mut progress = None;
        let what = format!("ssm:GetParameter {selected} until SSM has validated it");
        let readable = self
            .reader
            .read(&self.region, what, |aws| async move {
                aws.ssm
                    .wait_readable(&selected, timeout, Duration::from_secs(1), || {
                        progress
                            .get_or_insert_with(|| {
                                ui.progress(format!("waiting for SSM to validate {selected}"))
                            })
                            .tick()
                    })
                    .await
            })
            .await?;
        if readable {
            Ok(())
        } else {
            Err(Error::NotVisible {
                parameter: parameter.to_string(),
                version: version.0,
                waited_secs: started.elapsed().as_secs(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Source;

    fn registry() -> Registry {
        let source = Source::Argument("test");
        Registry::new(
            AppName::parse("shop", &source).unwrap(),
            ParameterPrefix::parse("/teams/web", &source).unwrap(),
            Region::parse("eu-west-1", &source).unwrap(),
            crate::effect::Effects::new(
                crate::aws::Aws::new(aws_config::SdkConfig::builder().build()),
                false,
                None,
            )
            .reader()
            .clone(),
        )
    }

    #[test]
    fn a_groups_lock_sits_one_level_under_the_path_prune_scans() {
        let registry = registry();
        assert_eq!(registry.locks_path(), "/teams/web/shop/deploy-lock");
        for (group, lock) in [
            ("web-prod", "/teams/web/shop/deploy-lock/web-prod"),
            ("web prod/2", "/teams/web/shop/deploy-lock/web_prod_2"),
        ] {
            let group = GroupName::parse(group, &Source::Argument("--asg")).unwrap();
            let name = registry.lock_parameter(&group);
            assert_eq!(name, lock);
            // GetParametersByPath without recursion lists exactly one level.
            assert_eq!(name.rsplit_once('/').unwrap().0, registry.locks_path());
        }
    }

    #[test]
    fn locks_are_apart_from_the_image_parameters() {
        let registry = registry();
        for role in Role::ALL {
            let parameter = registry.parameter(role).to_string();
            assert!(!registry.locks_path().starts_with(&parameter));
            assert!(!parameter.starts_with(&registry.locks_path()));
        }
    }

    #[test]
    fn an_environments_ledger_is_apart_from_images_and_locks() {
        let registry = registry();
        let ledger = registry.ledger_parameter("production").to_string();
        assert_eq!(ledger, "/teams/web/shop/ledger/production");
        // Prune lists the lock path one level deep: a ledger is never taken for a lock.
        assert_ne!(ledger.rsplit_once('/').unwrap().0, registry.locks_path());
        for role in Role::ALL {
            assert!(!ledger.starts_with(&registry.parameter(role).to_string()));
        }
    }
}
