//! CloudFormation stacks in the emulator for `deploy --via cloudformation`: the
//! reference stack (cloudformation/kiln-stack.json) created with the SDK directly,
//! and read back (status, parameters, events).

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::Parameter;

use super::emulator::Emulator;
use super::groups::Fleet;

/// A stack as the test sees it.
#[derive(Debug, Clone)]
pub struct SeenStack {
    pub status: String,
    pub parameters: BTreeMap<String, String>,
}

impl Emulator {
    /// The reference stack named `name` on `ami`, its group `name` with `size`
    /// instances; `InstanceType` set away from its default (an update must keep it).
    pub fn reference_stack(&self, name: &str, ami: &str, size: i32) -> Fleet {
        let body =
            std::fs::read_to_string(super::root().join("cloudformation/kiln-stack.json")).unwrap();
        self.with_config(async |config| {
            let ec2 = aws_sdk_ec2::Client::new(config);
            let cfn = aws_sdk_cloudformation::Client::new(config);
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
                .filter(|s| s.vpc_id() == Some(vpc.as_str()))
                .filter_map(|s| s.subnet_id().map(str::to_string))
                .take(2)
                .collect();
            let parameter = |key: &str, value: &str| {
                Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build()
            };
            let size = size.to_string();
            cfn.create_stack()
                .stack_name(name)
                .template_body(body)
                .parameters(parameter("AmiId", ami))
                .parameters(parameter("InstanceType", "t3.small"))
                .parameters(parameter("VpcId", &vpc))
                .parameters(parameter("SubnetIds", &subnets.join(",")))
                .parameters(parameter("GroupName", name))
                .parameters(parameter("MinSize", &size))
                .send()
                .await
                .unwrap();
            let outputs: BTreeMap<String, String> = cfn
                .describe_stacks()
                .stack_name(name)
                .send()
                .await
                .unwrap()
                .stacks()[0]
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
                .collect();
            Fleet {
                group: outputs["GroupName"].clone(),
                template: outputs["LaunchTemplateId"].clone(),
                target_group: outputs["TargetGroupArn"].clone(),
            }
        })
    }

    pub fn stack(&self, name: &str) -> SeenStack {
        self.with_config(async |config| {
            let cfn = aws_sdk_cloudformation::Client::new(config);
            let out = cfn.describe_stacks().stack_name(name).send().await.unwrap();
            let stack = &out.stacks()[0];
            SeenStack {
                status: stack.stack_status().unwrap().as_str().to_string(),
                parameters: stack
                    .parameters()
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.parameter_key()?.to_string(),
                            p.parameter_value()?.to_string(),
                        ))
                    })
                    .collect(),
            }
        })
    }
}
