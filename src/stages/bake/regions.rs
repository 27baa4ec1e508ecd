//! Where a bake's image goes after Packer: published in the primary region, and
//! copied to (or found in) every extra region and published there once available.
//! Each region's registry gets only an image that exists there.

use std::time::Duration;

use serde::Serialize;

use std::collections::BTreeMap;

use super::ami_name;
use crate::aws::ec2::Image;
use crate::context::Context;
use crate::effect::{Applied, ImageChange, unknown_offline};
use crate::error::{Error, Result};
use crate::model::{AmiId, Region, Role, Version};
use crate::provenance::Provenance;
use crate::registry::Registry;
use crate::stages::publish::publish_image;

/// How long a copy to another region may take to become available.
const COPY_TIMEOUT: Duration = Duration::from_secs(45 * 60);

/// How an image came to be in a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum How {
    /// Packer built it here now.
    Baked,
    /// Copied here from the primary region.
    Copied,
    /// An earlier bake with the same inputs.
    Reused,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Baked => "baked",
            How::Copied => "copied",
            How::Reused => "reused",
        }
    }
}

/// One region's result.
#[derive(Debug, Clone, Serialize)]
pub struct RegionResult {
    pub region: Region,
    pub ami_id: Option<AmiId>,
    pub version: Option<Version>,
    pub how: How,
    /// Whether a new registry version was added (false: it already was the latest).
    pub published: bool,
}

/// An image to publish in a region, with the tags it carries already (none for an
/// image just baked or copied; its own for one reused from an earlier bake).
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: AmiId,
    pub tags: BTreeMap<String, String>,
}

impl Candidate {
    /// An image made by this run: no kiln tags yet.
    pub fn new(id: AmiId) -> Self {
        Self {
            id,
            tags: BTreeMap::new(),
        }
    }
}

impl From<Image> for Candidate {
    fn from(image: Image) -> Self {
        Self {
            id: image.id,
            tags: image.tags,
        }
    }
}

/// Publishes `image` unless it already is the role's latest version in that region.
pub(super) async fn publish_new(
    ctx: &Context,
    registry: &Registry,
    role: Role,
    image: Option<&Candidate>,
    provenance: &Provenance,
    wait: Duration,
    how: How,
) -> Result<RegionResult> {
    let latest = match image {
        Some(_) => registry.newest(role).await?,
        None => None,
    };
    let unchanged = match (image, &latest) {
        (Some(image), Some((ami, _))) => ami == &image.id,
        _ => false,
    };
    let version = if unchanged {
        let version = latest.map(|(_, v)| v);
        ctx.ui.note(format!(
            "{} is already version {} of {} in {}; nothing to publish",
            image.map_or(String::new(), |i| i.id.to_string()),
            version.unwrap_or_default(),
            registry.parameter(role),
            registry.region()
        ));
        version
    } else {
        let tags = image.map(|i| i.tags.clone()).unwrap_or_default();
        // A reused image keeps the provenance of the build that made it.
        let provenance = match how {
            How::Reused => Provenance::from_tags(&tags).or(provenance.clone()),
            How::Baked | How::Copied => provenance.clone(),
        };
        publish_image(
            ctx,
            registry,
            role,
            image.map(|i| &i.id),
            &tags,
            &provenance,
            wait,
        )
        .await?
    };
    Ok(RegionResult {
        region: registry.region().clone(),
        ami_id: image.map(|i| i.id.clone()),
        version,
        how,
        published: !unchanged,
    })
}

/// What every extra region gets from the primary one.
pub(super) struct Copies<'a> {
    pub(super) role: Role,
    pub(super) hash: &'a str,
    pub(super) source_region: &'a Region,
    /// `None` in a dry run.
    pub(super) source: Option<&'a AmiId>,
    pub(super) reuse_earlier: bool,
    pub(super) provenance: &'a Provenance,
    pub(super) wait: Duration,
}

impl Copies<'_> {
    /// Puts the image into another region: Packer's own copy (`ami_regions`), an
    /// earlier copy with the same inputs (when the primary image was reused), or a
    /// new copy; then publishes it there once it is available.
    pub(super) async fn spread(
        &self,
        ctx: &Context,
        target: &Region,
        from_packer: Option<&AmiId>,
    ) -> Result<RegionResult> {
        let Self {
            role,
            hash,
            source_region,
            source,
            reuse_earlier,
            provenance,
            wait,
        } = *self;
        let registry = ctx.registry(target)?;
        let existing = match from_packer {
            Some(ami) => Some((Candidate::new(ami.clone()), How::Baked)),
            None if !reuse_earlier => None,
            None => unknown_offline(registry.baked_with(role, hash).await)?
                .flatten()
                .map(|image| (Candidate::from(image), How::Reused)),
        };
        let (image, how) = match existing {
            Some((image, how)) => (Some(image), how),
            None => {
                let change = ImageChange::Copy {
                    region: target.clone(),
                    source_region: source_region.clone(),
                    source_ami: source.cloned(),
                    // Unique like the original's: a rerun or --force copies again.
                    name: ami_name(&registry, role, hash),
                };
                match ctx.effects.apply(change).await? {
                    Applied::Image(copy) => {
                        let available = ctx
                            .reader()
                            .read(
                                target,
                                format!("ec2:DescribeImages {copy} until it is available"),
                                |aws| {
                                    let copy = &copy;
                                    async move { aws.ec2.wait_available(copy, COPY_TIMEOUT).await }
                                },
                            )
                            .await?;
                        if !available {
                            return Err(Error::AmiNotAvailable {
                                ami: copy.to_string(),
                                state: "not available after copying".into(),
                            });
                        }
                        (Some(Candidate::new(copy)), How::Copied)
                    }
                    _ => (None, How::Copied),
                }
            }
        };
        // AMI ids are regional: an app copy records this region's base, so that
        // `kiln status` compares like with like.
        let mut provenance = provenance.clone();
        if provenance.base_ami.is_some()
            && let Some((base, version)) =
                unknown_offline(registry.newest(Role::Base).await)?.flatten()
        {
            provenance.base_ami = Some(base);
            provenance.base_version = Some(version);
        }
        publish_new(ctx, &registry, role, image.as_ref(), &provenance, wait, how).await
    }
}
