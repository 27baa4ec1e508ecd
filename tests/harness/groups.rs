//! Auto Scaling groups in the emulator for deploy tests: a launch template, a
//! target group and a group of instances, made and read with the SDK directly.

use std::collections::BTreeMap;

use aws_sdk_autoscaling::types::LaunchTemplateSpecification;
use aws_sdk_ec2::types::RequestLaunchTemplateData;

use super::emulator::Emulator;

/// A group made for one test.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub group: String,
    pub template: String,
    pub target_group: String,
}

/// A group as the test sees it.
#[derive(Debug, Clone)]
pub struct SeenGroup {
    pub version: String,
    pub desired: i32,
    pub max: i32,
    /// (instance, launch template version, lifecycle state)
    pub instances: Vec<(String, String, String)>,
    pub target_groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl Emulator {
    fn fleet_clients<T>(
        &self,
        work: impl AsyncFnOnce(
            aws_sdk_autoscaling::Client,
            aws_sdk_elasticloadbalancingv2::Client,
            aws_sdk_ec2::Client,
        ) -> T,
    ) -> T {
        self.with_config(async |config| {
            work(
                aws_sdk_autoscaling::Client::new(config),
                aws_sdk_elasticloadbalancingv2::Client::new(config),
                aws_sdk_ec2::Client::new(config),
            )
            .await
        })
    }

    /// A launch template on `ami` (version 1, with settings a deploy must carry
    /// over), a target group, and a group of `size` instances attached to it.
    pub fn fleet(&self, name: &str, ami: &str, size: i32) -> Fleet {
        self.fleet_clients(async |asg, elb, ec2| {
            let vpc = ec2.describe_vpcs().send().await.unwrap().vpcs()[0]
                .vpc_id()
                .unwrap()
                .to_string();
            let subnets: Vec<String> = ec2
                .describe_subnets()
                .send()
                .await
                .unwrap()
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_id().map(str::to_string))
                .take(2)
                .collect();
            let template = ec2
                .create_launch_template()
                .launch_template_name(name)
                .launch_template_data(
                    RequestLaunchTemplateData::builder()
                        .image_id(ami)
                        .instance_type("t3.small".into())
                        .key_name("ops")
                        .user_data("IyEvYmluL3NoCmVjaG8gaGk=")
                        .build(),
                )
                .send()
                .await
                .unwrap()
                .launch_template()
                .unwrap()
                .launch_template_id()
                .unwrap()
                .to_string();
            let target_group = elb
                .create_target_group()
                .name(name.chars().take(32).collect::<String>())
                .protocol("HTTP".into())
                .port(80)
                .vpc_id(vpc)
                .send()
                .await
                .unwrap()
                .target_groups()[0]
                .target_group_arn()
                .unwrap()
                .to_string();
            asg.create_auto_scaling_group()
                .auto_scaling_group_name(name)
                .launch_template(
                    LaunchTemplateSpecification::builder()
                        .launch_template_id(&template)
                        .version("1")
                        .build(),
                )
                .min_size(size)
                .max_size(size * 2)
                .desired_capacity(size)
                .vpc_zone_identifier(subnets.join(","))
                .target_group_arns(&target_group)
                .health_check_type("ELB")
                .send()
                .await
                .unwrap();
            Fleet {
                group: name.to_string(),
                template,
                target_group,
            }
        })
    }

    /// Moves the fleet's group onto a mixed instances policy on its template's
    /// version 1, in the shape teams write them: instance-type overrides and an
    /// On-Demand/Spot distribution (all On-Demand here: moto launches Spot shares
    /// short).
    pub fn make_mixed(&self, fleet: &Fleet) {
        use aws_sdk_autoscaling::types::{
            InstancesDistribution, LaunchTemplate, LaunchTemplateOverrides, MixedInstancesPolicy,
        };
        self.fleet_clients(async |asg, _, _| {
            let policy = MixedInstancesPolicy::builder()
                .launch_template(
                    LaunchTemplate::builder()
                        .launch_template_specification(
                            LaunchTemplateSpecification::builder()
                                .launch_template_id(&fleet.template)
                                .version("1")
                                .build(),
                        )
                        .overrides(
                            LaunchTemplateOverrides::builder()
                                .instance_type("t3.small")
                                .build(),
                        )
                        .overrides(
                            LaunchTemplateOverrides::builder()
                                .instance_type("t3a.small")
                                .build(),
                        )
                        .overrides(
                            LaunchTemplateOverrides::builder()
                                .instance_type("m5.large")
                                .weighted_capacity("2")
                                .build(),
                        )
                        .build(),
                )
                .instances_distribution(
                    InstancesDistribution::builder()
                        .on_demand_base_capacity(0)
                        .on_demand_percentage_above_base_capacity(100)
                        .spot_allocation_strategy("price-capacity-optimized")
                        .build(),
                )
                .build();
            asg.update_auto_scaling_group()
                .auto_scaling_group_name(&fleet.group)
                .mixed_instances_policy(policy)
                .send()
                .await
                .unwrap();
        })
    }

    /// The group's mixed instances policy: (template version, override instance
    /// types, On-Demand share above base); `None` without one.
    pub fn mixed_policy(&self, group: &str) -> Option<(String, Vec<String>, i32)> {
        self.fleet_clients(async |asg, _, _| {
            let out = asg
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(group)
                .send()
                .await
                .unwrap();
            let policy = out.auto_scaling_groups()[0].mixed_instances_policy()?;
            let launch = policy.launch_template()?;
            Some((
                launch
                    .launch_template_specification()
                    .and_then(|s| s.version())
                    .unwrap_or_default()
                    .to_string(),
                launch
                    .overrides()
                    .iter()
                    .filter_map(|o| o.instance_type().map(str::to_string))
                    .collect(),
                policy
                    .instances_distribution()
                    .and_then(|d| d.on_demand_percentage_above_base_capacity())
                    .unwrap_or_default(),
            ))
        })
    }

    /// A group of `size` instances on launch configuration `name` (image `ami`),
    /// the older shape kiln refuses.
    pub fn configuration_group(&self, name: &str, ami: &str, size: i32) {
        self.fleet_clients(async |asg, _, ec2| {
            let subnet = ec2.describe_subnets().send().await.unwrap().subnets()[0]
                .subnet_id()
                .unwrap()
                .to_string();
            asg.create_launch_configuration()
                .launch_configuration_name(format!("{name}-lc"))
                .image_id(ami)
                .instance_type("t3.small")
                .send()
                .await
                .unwrap();
            asg.create_auto_scaling_group()
                .auto_scaling_group_name(name)
                .launch_configuration_name(format!("{name}-lc"))
                .min_size(size)
                .max_size(size)
                .desired_capacity(size)
                .vpc_zone_identifier(subnet)
                .send()
                .await
                .unwrap();
        })
    }

    /// A group of `size` instances on version 1 of an existing `template` (one
    /// Terraform made).
    pub fn group_on_template(&self, name: &str, template: &str, size: i32) {
        self.fleet_clients(async |asg, _, ec2| {
            let subnet = ec2.describe_subnets().send().await.unwrap().subnets()[0]
                .subnet_id()
                .unwrap()
                .to_string();
            asg.create_auto_scaling_group()
                .auto_scaling_group_name(name)
                .launch_template(
                    LaunchTemplateSpecification::builder()
                        .launch_template_id(template)
                        .version("1")
                        .build(),
                )
                .min_size(size)
                .max_size(size * 2)
                .desired_capacity(size)
                .vpc_zone_identifier(subnet)
                .send()
                .await
                .unwrap();
        })
    }

    pub fn group(&self, name: &str) -> Option<SeenGroup> {
        self.fleet_clients(async |asg, _, _| {
            let out = asg
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(name)
                .send()
                .await
                .unwrap();
            out.auto_scaling_groups().first().map(|g| SeenGroup {
                version: g
                    .launch_template()
                    .and_then(|t| t.version())
                    .unwrap_or_default()
                    .to_string(),
                desired: g.desired_capacity().unwrap_or_default(),
                max: g.max_size().unwrap_or_default(),
                instances: g
                    .instances()
                    .iter()
                    .map(|i| {
                        (
                            i.instance_id().unwrap_or_default().to_string(),
                            i.launch_template()
                                .and_then(|t| t.version())
                                .unwrap_or_default()
                                .to_string(),
                            i.lifecycle_state()
                                .map(|s| s.as_str().to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect(),
                target_groups: g.target_group_arns().to_vec(),
                tags: g
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            t.value().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
            })
        })
    }

    /// Starts an instance refresh of the group, as another tool or a person would:
    /// the emulator keeps it InProgress until it is cancelled. Returns its id.
    pub fn start_instance_refresh(&self, group: &str) -> String {
        self.fleet_clients(async |asg, _, _| {
            asg.start_instance_refresh()
                .auto_scaling_group_name(group)
                .send()
                .await
                .unwrap()
                .instance_refresh_id()
                .unwrap()
                .to_string()
        })
    }

    /// Cancels the group's active instance refresh.
    pub fn cancel_instance_refresh(&self, group: &str) {
        self.fleet_clients(async |asg, _, _| {
            asg.cancel_instance_refresh()
                .auto_scaling_group_name(group)
                .send()
                .await
                .unwrap();
        })
    }

    /// `(id, status)` of the group's instance refreshes, newest first.
    pub fn instance_refreshes(&self, group: &str) -> Vec<(String, String)> {
        self.fleet_clients(async |asg, _, _| {
            let out = asg
                .describe_instance_refreshes()
                .auto_scaling_group_name(group)
                .send()
                .await
                .unwrap();
            out.instance_refreshes()
                .iter()
                .map(|r| {
                    (
                        r.instance_refresh_id().unwrap_or_default().to_string(),
                        r.status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
    }

    /// The number of the template's newest version.
    pub fn latest_template_version(&self, template: &str) -> i64 {
        self.fleet_clients(async |_, _, ec2| {
            let out = ec2
                .describe_launch_templates()
                .launch_template_ids(template)
                .send()
                .await
                .unwrap();
            out.launch_templates()[0]
                .latest_version_number()
                .unwrap_or_default()
        })
    }

    /// Adds a launch template version on `ami` and points the group at it, as a
    /// person or another tool would (no instance is replaced). Returns the version.
    pub fn set_group_image(&self, fleet: &Fleet, ami: &str) -> i64 {
        self.fleet_clients(async |asg, _, ec2| {
            let version = ec2
                .create_launch_template_version()
                .launch_template_id(&fleet.template)
                .launch_template_data(
                    RequestLaunchTemplateData::builder()
                        .image_id(ami)
                        .instance_type("t3.small".into())
                        .build(),
                )
                .send()
                .await
                .unwrap()
                .launch_template_version()
                .unwrap()
                .version_number()
                .unwrap();
            asg.update_auto_scaling_group()
                .auto_scaling_group_name(&fleet.group)
                .launch_template(
                    LaunchTemplateSpecification::builder()
                        .launch_template_id(&fleet.template)
                        .version(version.to_string())
                        .build(),
                )
                .send()
                .await
                .unwrap();
            version
        })
    }

    /// Sets the group's desired capacity: new instances come from its current version.
    pub fn set_desired(&self, group: &str, desired: i32) {
        self.fleet_clients(async |asg, _, _| {
            asg.set_desired_capacity()
                .auto_scaling_group_name(group)
                .desired_capacity(desired)
                .send()
                .await
                .unwrap();
        })
    }

    /// Names of the groups tagged kiln:blue-green=SERVICE.
    pub fn blue_green_family(&self, service: &str) -> Vec<String> {
        self.fleet_clients(async |asg, _, _| {
            let out = asg.describe_auto_scaling_groups().send().await.unwrap();
            out.auto_scaling_groups()
                .iter()
                .filter(|g| {
                    g.tags()
                        .iter()
                        .any(|t| t.key() == Some("kiln:blue-green") && t.value() == Some(service))
                })
                .filter_map(|g| g.auto_scaling_group_name().map(str::to_string))
                .collect()
        })
    }

    /// The image and a few settings of one launch template version.
    pub fn template_version(&self, template: &str, version: &str) -> (String, String, String) {
        self.fleet_clients(async |_, _, ec2| {
            let out = ec2
                .describe_launch_template_versions()
                .launch_template_id(template)
                .versions(version)
                .send()
                .await
                .unwrap();
            let data = out.launch_template_versions()[0]
                .launch_template_data()
                .unwrap();
            (
                data.image_id().unwrap_or_default().to_string(),
                data.instance_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                data.key_name().unwrap_or_default().to_string(),
            )
        })
    }

    /// The image each instance of the group runs (EC2's view, not the group's).
    pub fn images_in_group(&self, name: &str) -> Vec<String> {
        let ids: Vec<String> = self
            .group(name)
            .map(|g| g.instances.into_iter().map(|(id, _, _)| id).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            return Vec::new();
        }
        self.fleet_clients(async |_, _, ec2| {
            let out = ec2
                .describe_instances()
                .set_instance_ids(Some(ids))
                .send()
                .await
                .unwrap();
            let mut images: Vec<String> = out
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter_map(|i| i.image_id().map(str::to_string))
                .collect();
            images.sort();
            images
        })
    }

    /// Target states in the fleet's target group: (instance, state).
    pub fn target_states(&self, target_group: &str) -> Vec<(String, String)> {
        self.fleet_clients(async |_, elb, _| {
            let out = elb
                .describe_target_health()
                .target_group_arn(target_group)
                .send()
                .await
                .unwrap();
            out.target_health_descriptions()
                .iter()
                .map(|d| {
                    (
                        d.target()
                            .and_then(|t| t.id())
                            .unwrap_or_default()
                            .to_string(),
                        d.target_health()
                            .and_then(|h| h.state())
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
    }
}

/// An app whose image `new` (published as app:1, promoted to tested, with
/// `new_tags`) is ready to deploy to a group of `size` instances still on `old`.
pub struct TestedFleet {
    pub app: String,
    pub new: String,
    pub fleet: Fleet,
}

pub fn tested_fleet(purpose: &str, size: i32, new_tags: &[(&str, &str)]) -> TestedFleet {
    let app = super::unique_app(purpose);
    let emulator = super::emulator();
    let old = emulator.create_image(&format!("{app}-old"), &[]);
    let new = emulator.create_image(&format!("{app}-new"), new_tags);
    super::kiln_ok(["--app", &app, "publish", "app", &new]);
    super::kiln_ok(["--app", &app, "promote", "app:1", "--to", "tested"]);
    let fleet = emulator.fleet(&app, &old, size);
    TestedFleet { app, new, fleet }
}
