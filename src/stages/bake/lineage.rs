//! A bake's lineage: the image it starts from, found before deciding whether to
//! bake (so a base whose upstream image moved is baked again), and learned from
//! Packer after a bake (so an app records the base it really used, and only that).
//!
//! The filter is resolved the way Packer 1.6.6 resolves it: DescribeImages with the
//! owners and filters; `most_recent` takes the newest CreationDate; without it more
//! than one match is an error, as it is in Packer.

use crate::aws::ec2::Image;
use crate::context::Context;
use crate::effect::unknown_offline;
use crate::error::{Error, Result};
use crate::model::{AmiId, Region, Span, Timestamp, Version};
use crate::tools::packer::template::Template;

use super::source::{self, AmiFilter, Given, Wanted};

/// The image the template builds on, looked up now; `None` (with a note saying
/// why, unless a dry run cannot read AWS) when it cannot be told before baking.
/// Whether `--only NAME` selects the build `build` (`TYPE.NAME`, or with a named
/// build block `BUILD.TYPE.NAME`): the whole name or its trailing parts.
fn picked_by(only: &str, build: &str) -> bool {
    build == only || build.ends_with(&format!(".{only}"))
}

pub(super) async fn resolve(
    ctx: &Context,
    region: &Region,
    template: &Template,
    given: Given<'_>,
    only: Option<&str>,
) -> Result<Option<AmiId>> {
    let builds = match source::read(template, given) {
        // `--only` runs one build: only its source counts.
        Ok(builds) => builds
            .into_iter()
            .filter(|b| only.is_none_or(|only| picked_by(only, &b.build)))
            .collect::<Vec<_>>(),
        Err(reason) => {
            ctx.ui.note(format!(
                "cannot tell which image {} builds on before baking ({reason}); its source image is not part of the inputs hash",
                template.path.display()
            ));
            return Ok(None);
        }
    };
    let mut found: Vec<AmiId> = Vec::new();
    for build in &builds {
        let (ami, how) = match &build.wanted {
            Wanted::Ami(ami) => (ami.clone(), "its source_ami".to_string()),
            Wanted::Filter(filter) => {
                let what = format!(
                    "ec2:DescribeImages for the source_ami_filter of {}",
                    build.build
                );
                let images = unknown_offline(
                    ctx.reader()
                        .read(region, what, |aws| async move {
                            aws.ec2
                                .images_matching(&filter.owners, &filter.filters)
                                .await
                        })
                        .await,
                )?;
                let Some(images) = images else {
                    return Ok(None);
                };
                match pick(&build.build, filter, images)? {
                    Some(picked) => picked,
                    None => {
                        ctx.ui.note(format!(
                            "no image matches the source_ami_filter of {} (Packer will say so too); its source image is not part of the inputs hash",
                            build.build
                        ));
                        return Ok(None);
                    }
                }
            }
        };
        ctx.ui
            .note(format!("{} builds on {ami} ({how})", build.build));
        if !found.contains(&ami) {
            found.push(ami);
        }
    }
    match found.as_slice() {
        [one] => Ok(Some(one.clone())),
        [] => Ok(None),
        several => {
            ctx.ui.note(format!(
                "the template's builds start from several images ({}); their source images are not part of the inputs hash",
                several.iter().map(AmiId::to_string).collect::<Vec<_>>().join(", ")
            ));
            Ok(None)
        }
    }
}

/// The image a filter selects among its matches, and how it was chosen.
pub(super) fn pick(
    build: &str,
    filter: &AmiFilter,
    mut images: Vec<Image>,
) -> Result<Option<(AmiId, String)>> {
    images.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    let count = images.len();
    if count > 1 && !filter.most_recent {
        return Err(Error::AmbiguousSource {
            build: build.to_string(),
            images: images.iter().map(|i| i.id.to_string()).collect(),
        });
    }
    Ok(images.pop().map(|image| {
        let how = match count {
            1 => "the one image its source_ami_filter matches".to_string(),
            n => format!("the newest of {n} images its source_ami_filter matches"),
        };
        (image.id, how)
    }))
}

/// The source AMI in a line Packer's amazon builders print while preparing a
/// build: `amazon-ebs.app: Found Image ID: ami-…`.
pub(super) fn found_image(message: &str) -> Option<AmiId> {
    let (_, rest) = message.split_once("Found Image ID: ")?;
    let id = rest.split_whitespace().next()?;
    AmiId::parse(id, &crate::error::Source::Argument("source AMI")).ok()
}

/// How old an image is, when that is more than `max_age`.
pub(super) fn too_old(created: Option<Timestamp>, now: Timestamp, max_age: Span) -> Option<Span> {
    let age = now.0.checked_sub(created?.0)?;
    let age = u64::try_from(age).ok()?;
    (age > max_age.as_secs()).then_some(Span::secs(age))
}

/// What an app bake records as its base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lineage {
    /// The registry's base (also when the source could not be learned, as before).
    Base(AmiId, Version),
    /// No registry base: a base role, or `--base none`.
    None,
    /// Built on another image than the registry's base: nothing is recorded.
    Other {
        built_on: AmiId,
        base: AmiId,
        version: Version,
    },
}

pub(super) fn lineage(base: Option<&(AmiId, Version)>, built_on: Option<&AmiId>) -> Lineage {
    match (base, built_on) {
        (None, _) => Lineage::None,
        (Some((base, version)), Some(on)) if on != base => Lineage::Other {
            built_on: on.clone(),
            base: base.clone(),
            version: *version,
        },
        (Some((base, version)), _) => Lineage::Base(base.clone(), *version),
    }
}

/// The warning for an app built on another image than the registry's base.
pub(super) fn warning(built_on: &AmiId, base: &AmiId, version: Version) -> String {
    format!(
        "the app was built on {built_on}, not on the registry's base {base} (base version {version}); no base is recorded on the image (set source_ami = var.kiln_source_ami in the template, or bake with --base none; --strict-lineage makes this an error)"
    )
}

pub(super) fn mismatch(
    built_on: &AmiId,
    base: &AmiId,
    version: Version,
    left: Option<&AmiId>,
) -> Error {
    Error::LineageMismatch {
        built_on: built_on.to_string(),
        base: base.to_string(),
        base_version: version.to_string(),
        left: left.map(AmiId::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, created: i64) -> Image {
        Image {
            id: AmiId::from_aws(id),
            name: None,
            state: "available".into(),
            created: Some(Timestamp(created)),
            tags: Default::default(),
            snapshots: vec![],
        }
    }

    #[test]
    fn most_recent_takes_the_newest_creation_date() {
        let filter = AmiFilter {
            most_recent: true,
            ..Default::default()
        };
        let images = vec![
            image("ami-00000002", 200),
            image("ami-00000003", 300),
            image("ami-00000001", 100),
        ];
        let (ami, how) = pick("amazon-ebs.base", &filter, images).unwrap().unwrap();
        assert_eq!(ami.as_str(), "ami-00000003");
        assert_eq!(how, "the newest of 3 images its source_ami_filter matches");
        assert_eq!(pick("b", &filter, vec![]).unwrap(), None);
    }

    #[test]
    fn several_matches_without_most_recent_are_packers_error() {
        let filter = AmiFilter::default();
        let one = pick("b", &filter, vec![image("ami-00000001", 1)])
            .unwrap()
            .unwrap();
        assert_eq!(one.1, "the one image its source_ami_filter matches");
        let err = pick(
            "amazon-ebs.base",
            &filter,
            vec![image("ami-00000002", 2), image("ami-00000001", 1)],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the source_ami_filter of amazon-ebs.base matches 2 images (ami-00000001, ami-00000002) and most_recent is not set; Packer would refuse it (\"Your query returned more than one result\")"
        );
    }

    #[test]
    fn the_source_packer_found_is_read_from_its_message() {
        assert_eq!(
            found_image("    amazon-ebs.app: Found Image ID: ami-0123456789abcdef0"),
            Some(AmiId::from_aws("ami-0123456789abcdef0"))
        );
        assert_eq!(found_image("==> amazon-ebs.app: Creating AMI"), None);
        assert_eq!(found_image("Found Image ID: not-an-ami"), None);
    }

    #[test]
    fn too_old_is_strictly_older_than_the_maximum() {
        let day = 86_400;
        let week = Span::secs(7 * day as u64);
        assert_eq!(
            too_old(Some(Timestamp(0)), Timestamp(8 * day), week),
            Some(Span::secs(8 * day as u64))
        );
        assert_eq!(too_old(Some(Timestamp(0)), Timestamp(7 * day), week), None);
        assert_eq!(too_old(None, Timestamp(8 * day), week), None);
    }

    #[test]
    fn only_the_registrys_base_is_recorded() {
        let base = (AmiId::from_aws("ami-0000000b"), Version(3));
        let other = AmiId::from_aws("ami-0000000c");
        assert_eq!(lineage(None, Some(&other)), Lineage::None);
        assert_eq!(
            lineage(Some(&base), Some(&base.0)),
            Lineage::Base(base.0.clone(), Version(3))
        );
        assert_eq!(
            lineage(Some(&base), None),
            Lineage::Base(base.0.clone(), Version(3))
        );
        assert_eq!(
            lineage(Some(&base), Some(&other)),
            Lineage::Other {
                built_on: other.clone(),
                base: base.0.clone(),
                version: Version(3)
            }
        );
    }
}
