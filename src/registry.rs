//! The image registry: the only code that knows where AMI ids live.
//!
//! One SSM parameter per app and role, `<prefix>/<app>/<role>`, in each region,
//! holding that region's AMI id with DataType `aws:ec2:image`. Every publish is a
//! new version (the history is the rollback list); channels are labels on versions.
//! Reads happen here; changes are returned as `Change` values for `effect` to carry
//! out, so dry-run sees exactly what a real run would do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aws::Aws;
use crate::aws::ec2::Image;
use crate::aws::ssm::IMAGE_DATA_TYPE;
use crate::effect::Change;
use crate::error::{Error, Result};
use crate::model::{
    AmiId, AppName, Channel, ImageRef, ParameterName, ParameterPrefix, Region, Role, Selector,
    Timestamp, Version,
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
    aws: Aws,
}

impl Registry {
    pub fn new(app: AppName, prefix: ParameterPrefix, region: Region, aws: Aws) -> Self {
        Self {
            app,
            prefix,
            region,
            aws,
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

    /// The version and AMI a reference points at, or an error that says which part
    /// is missing (parameter, version or channel) and what to do.
    pub async fn resolve(&self, reference: &ImageRef) -> Result<Entry> {
        let parameter = self.parameter(reference.role);
        let selected = match &reference.selector {
            Selector::Latest => parameter.to_string(),
            Selector::Channel(channel) => format!("{parameter}:{channel}"),
            Selector::Version(version) => format!("{parameter}:{version}"),
        };
        let ssm = self.aws.ssm(&self.region);
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
        Ok(self
            .aws
            .ssm(&self.region)
            .get(&selected)
            .await?
            .map(|p| p.version))
    }

    /// Every version SSM keeps, newest first; `None` when the role was never published.
    pub async fn history(&self, role: Role) -> Result<Option<Vec<VersionRecord>>> {
        let parameter = self.parameter(role);
        let Some(versions) = self.aws.ssm(&self.region).history(&parameter).await? else {
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
        let mut images = self.aws.ec2(&self.region).images_tagged(&tags).await?;
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
        let images = self.aws.ec2(&self.region).images(&unique).await?;
        Ok(images.into_iter().map(|i| (i.id.clone(), i)).collect())
    }

    pub async fn image(&self, id: &AmiId) -> Result<Option<Image>> {
        self.aws.ec2(&self.region).image(id).await
    }

    /// The change that publishes `ami` as the newest version of `role`.
    pub fn publish(&self, role: Role, ami: Option<&AmiId>, provenance: &Provenance) -> Change {
        Change::PutParameter {
            region: self.region.clone(),
            name: self.parameter(role),
            value: ami.cloned(),
            data_type: IMAGE_DATA_TYPE,
            description: provenance.description(),
        }
    }

    /// The change that moves `channel` to `version` (`None`: not known in a dry run).
    pub fn promote(&self, role: Role, version: Option<Version>, channel: &Channel) -> Change {
        Change::LabelVersion {
            region: self.region.clone(),
            name: self.parameter(role),
            version,
            labels: vec![channel.clone()],
        }
    }

    /// The change that records provenance on an image.
    pub fn tag_image(
        &self,
        ami: Option<&AmiId>,
        tags: std::collections::BTreeMap<String, String>,
    ) -> Change {
        Change::TagImage {
            region: self.region.clone(),
            ami_id: ami.cloned(),
            tags,
        }
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
        let readable = self
            .aws
            .ssm(&self.region)
            .wait_readable(&selected, timeout, Duration::from_secs(1), || {
                progress
                    .get_or_insert_with(|| {
                        ui.progress(format!("waiting for SSM to validate {selected}"))
                    })
                    .tick()
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
