//! EC2 instances: the throwaway instance `kiln verify` launches, watches and
//! terminates, the search for leftovers of crashed runs, and (for `kiln prune`)
//! every instance that still exists, by the image it runs.
//!
//! Instances are what kiln must never leak: everything here is about launching
//! one, knowing its state, finding it again, and removing it.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{
    Filter, HttpTokensState, IamInstanceProfileSpecification, InstanceMetadataOptionsRequest,
    ResourceType, ShutdownBehavior, Tag, TagSpecification,
};

use super::{Ec2, Reference, tag_filters, tags_from};
use crate::aws::{classify, error_code};
use crate::error::Result;
use crate::model::{
    AmiId, InstanceId, InstanceProfile, InstanceType, RunId, SecurityGroupId, SubnetId,
};

/// What to launch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LaunchSpec {
    pub ami_id: AmiId,
    pub instance_type: InstanceType,
    pub subnet: Option<SubnetId>,
    pub security_groups: Vec<SecurityGroupId>,
    pub instance_profile: Option<InstanceProfile>,
    /// Tags for the instance and its volumes.
    pub tags: BTreeMap<String, String>,
    /// Run at first boot (cloud-init); kiln's is a shutdown timer.
    pub user_data: String,
    /// Makes the launch idempotent: a retried call returns the same instance.
    pub client_token: RunId,
}

/// An instance's state as EC2 reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceState {
    /// `pending`, `running`, `shutting-down`, `terminated`, `stopping`, `stopped`.
    pub name: String,
    /// Why it changed state, when EC2 says (e.g. a capacity or AMI problem).
    pub reason: Option<String>,
}

/// An instance found by its tags.
#[derive(Debug, Clone)]
pub struct TaggedInstance {
    pub id: InstanceId,
    pub state: String,
    pub tags: BTreeMap<String, String>,
}

/// The states in which an instance still exists and costs money.
pub const LIVE_STATES: [&str; 4] = ["pending", "running", "stopping", "stopped"];

impl Ec2 {
    pub async fn run_instance(&self, spec: &LaunchSpec) -> Result<InstanceId> {
        let tags: Vec<Tag> = spec
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let tagged = |kind: ResourceType| {
            TagSpecification::builder()
                .resource_type(kind)
                .set_tags(Some(tags.clone()))
                .build()
        };
        let profile = spec.instance_profile.as_ref().map(|p| {
            let builder = IamInstanceProfileSpecification::builder();
            if p.is_arn() {
                builder.arn(p.as_str()).build()
            } else {
                builder.name(p.as_str()).build()
            }
        });
        let output = self
            .client
            .run_instances()
            .image_id(spec.ami_id.as_str())
            .instance_type(spec.instance_type.as_str().into())
            .min_count(1)
            .max_count(1)
            .set_subnet_id(spec.subnet.as_ref().map(|s| s.to_string()))
            .set_security_group_ids(
                Some(spec.security_groups.iter().map(|g| g.to_string()).collect())
                    .filter(|groups: &Vec<String>| !groups.is_empty()),
            )
            .set_iam_instance_profile(profile)
            .instance_initiated_shutdown_behavior(ShutdownBehavior::Terminate)
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .build(),
            )
            .user_data(aws_smithy_types::base64::encode(&spec.user_data))
            .tag_specifications(tagged(ResourceType::Instance))
            .tag_specifications(tagged(ResourceType::Volume))
            .client_token(spec.client_token.as_str())
            .send()
            .await
            .map_err(|e| classify("ec2:RunInstances", &self.endpoint, e))?;
        let id = output
            .instances
            .unwrap_or_default()
            .into_iter()
            .find_map(|i| i.instance_id)
            .unwrap_or_default();
        Ok(InstanceId::from_aws(id))
    }

    /// The instance's state; `None` when EC2 no longer knows it.
    pub async fn instance_state(&self, id: &InstanceId) -> Result<Option<InstanceState>> {
        let output = self
            .client
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-id")
                    .values(id.as_str())
                    .build(),
            )
            .send()
            .await
            .map_err(|e| classify("ec2:DescribeInstances", &self.endpoint, e))?;
        let instance = output
            .reservations
            .unwrap_or_default()
            .into_iter()
            .flat_map(|r| r.instances.unwrap_or_default())
            .find(|i| i.instance_id.as_deref() == Some(id.as_str()));
        Ok(instance.map(|i| InstanceState {
            name: i
                .state
                .and_then(|s| s.name)
                .map(|n| n.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            reason: i.state_reason.and_then(|r| r.message),
        }))
    }

    /// Instances that still exist and carry all of `tags`, in one paginated call.
    pub async fn live_instances_tagged(
        &self,
        tags: &[(&str, &str)],
    ) -> Result<Vec<TaggedInstance>> {
        let mut filters = tag_filters(tags);
        filters.push(
            Filter::builder()
                .name("instance-state-name")
                .set_values(Some(LIVE_STATES.iter().map(|s| s.to_string()).collect()))
                .build(),
        );
        let mut pages = self
            .client
            .describe_instances()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeInstances", &self.endpoint, e))?;
            for instance in page
                .reservations
                .unwrap_or_default()
                .into_iter()
                .flat_map(|r| r.instances.unwrap_or_default())
            {
                found.push(TaggedInstance {
                    id: InstanceId::from_aws(instance.instance_id.unwrap_or_default()),
                    state: instance
                        .state
                        .and_then(|s| s.name)
                        .map(|n| n.as_str().to_string())
                        .unwrap_or_else(|| "unknown".into()),
                    tags: tags_from(instance.tags),
                });
            }
        }
        Ok(found)
    }

    /// Terminates instances; an instance that is already gone is not an error.
    pub async fn terminate(&self, ids: &[InstanceId]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        match self
            .client
            .terminate_instances()
            .set_instance_ids(Some(ids.iter().map(|i| i.to_string()).collect()))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if error_code(&err) == Some("InvalidInstanceID.NotFound") => Ok(()),
            Err(err) => Err(classify("ec2:TerminateInstances", &self.endpoint, err)),
        }
    }

    /// Every instance that still exists (not terminated), by its image.
    pub async fn instance_references(
        &self,
        into: &mut BTreeMap<AmiId, BTreeSet<Reference>>,
    ) -> Result<()> {
        let mut pages = self
            .client
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .set_values(Some(LIVE_STATES.iter().map(|s| s.to_string()).collect()))
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeInstances", &self.endpoint, e))?;
            for instance in page
                .reservations
                .unwrap_or_default()
                .into_iter()
                .flat_map(|r| r.instances.unwrap_or_default())
            {
                if let (Some(image), Some(id)) = (instance.image_id, instance.instance_id) {
                    let state = instance
                        .state
                        .and_then(|s| s.name)
                        .map(|n| n.as_str().to_string())
                        .unwrap_or_default();
                    into.entry(AmiId::from_aws(image))
                        .or_default()
                        .insert(Reference::Instance {
                            id: InstanceId::from_aws(id),
                            state,
                        });
                }
            }
        }
        Ok(())
    }
}
