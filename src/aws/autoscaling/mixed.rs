//! Mixed instances policies: a group that launches through one names its launch
//! template inside the policy, beside instance-type overrides and the
//! On-Demand/Spot distribution. Setting a version (UpdateAutoScalingGroup, or an
//! instance refresh's desired configuration) sends the whole policy back with
//! only the version changed: a bare `LaunchTemplate` would replace the policy.

use aws_sdk_autoscaling::types::{LaunchTemplate, MixedInstancesPolicy};

use super::template_spec;
use crate::model::LaunchTemplateId;

/// `policy` with its launch template pinned to `version` of `template`; the
/// overrides and the instances distribution stay as they are.
pub(super) fn with_version(
    policy: MixedInstancesPolicy,
    template: &LaunchTemplateId,
    version: i64,
) -> MixedInstancesPolicy {
    let overrides = policy.launch_template.and_then(|t| t.overrides);
    let launch = LaunchTemplate::builder()
        .launch_template_specification(template_spec(template, version))
        .set_overrides(overrides)
        .build();
    MixedInstancesPolicy::builder()
        .launch_template(launch)
        .set_instances_distribution(policy.instances_distribution)
        .build()
}

#[cfg(test)]
mod tests {
    use aws_sdk_autoscaling::types::{
        InstancesDistribution, LaunchTemplate, LaunchTemplateOverrides,
        LaunchTemplateSpecification, MixedInstancesPolicy,
    };

    use crate::model::LaunchTemplateId;

    #[test]
    fn only_the_version_changes() {
        let policy = MixedInstancesPolicy::builder()
            .launch_template(
                LaunchTemplate::builder()
                    .launch_template_specification(
                        LaunchTemplateSpecification::builder()
                            .launch_template_id("lt-0abc")
                            .launch_template_name("web")
                            .version("4")
                            .build(),
                    )
                    .overrides(
                        LaunchTemplateOverrides::builder()
                            .instance_type("c6i.large")
                            .build(),
                    )
                    .build(),
            )
            .instances_distribution(
                InstancesDistribution::builder()
                    .on_demand_base_capacity(2)
                    .build(),
            )
            .build();
        let pinned = super::with_version(policy, &LaunchTemplateId::from_aws("lt-0abc"), 5);
        let launch = pinned.launch_template().unwrap();
        let spec = launch.launch_template_specification().unwrap();
        assert_eq!(
            (
                spec.launch_template_id(),
                spec.launch_template_name(),
                spec.version()
            ),
            (Some("lt-0abc"), None, Some("5")),
            "named by id only: AWS refuses both"
        );
        assert_eq!(launch.overrides()[0].instance_type(), Some("c6i.large"));
        assert_eq!(
            pinned
                .instances_distribution()
                .unwrap()
                .on_demand_base_capacity(),
            Some(2)
        );
    }
}
