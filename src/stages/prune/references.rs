//! Everything that keeps an image, read for one region: registry versions with a
//! label or within the rollback window, launch template versions, launch
//! configurations, live instances, deploy locks. Each source is read once, paged.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;

use super::plan::References;
use crate::aws::ec2::Reference;
use crate::context::Context;
use crate::error::Result;
use crate::model::{AmiId, Region, Role};
use crate::registry::Registry;

/// The rollback window and what it protects.
pub async fn read(
    ctx: &Context,
    registry: &Registry,
    region: &Region,
    keep_versions: usize,
) -> Result<References> {
    let mut references: References = BTreeMap::new();
    for role in [Role::Base, Role::App] {
        let parameter = registry.parameter(role);
        let Some(history) = registry.history(role).await? else {
            continue;
        };
        // Newest first.
        for (rank, version) in history.iter().enumerate() {
            let mut why = Vec::new();
            for label in &version.labels {
                why.push(format!("{label} label on {parameter} v{}", version.version));
            }
            if rank < keep_versions {
                why.push(format!(
                    "{parameter} v{} is in the rollback window (last {keep_versions} versions)",
                    version.version
                ));
            }
            references
                .entry(version.ami_id.clone())
                .or_default()
                .extend(why);
        }
    }
    let mut external: BTreeMap<AmiId, BTreeSet<Reference>> = BTreeMap::new();
    let what = format!(
        "ec2:DescribeLaunchTemplateVersions, autoscaling:DescribeLaunchConfigurations and ec2:DescribeInstances in {region}"
    );
    ctx.reader()
        .read(region, what, |aws| {
            let external = &mut external;
            async move {
                aws.ec2.template_references(external).await?;
                aws.autoscaling.configuration_references(external).await?;
                aws.ec2.instance_references(external).await
            }
        })
        .await?;
    for (ami, found) in external {
        references
            .entry(ami)
            .or_default()
            .extend(found.iter().map(|r| r.to_string()));
    }
    let ami = Regex::new(r"ami-[0-9a-f]{8,17}").expect("a valid pattern");
    for (name, holder) in registry.deploy_locks().await? {
        for found in ami.find_iter(&holder) {
            references
                .entry(AmiId::from_aws(found.as_str()))
                .or_default()
                .push(format!("deploy lock {name}"));
        }
    }
    Ok(references)
}
