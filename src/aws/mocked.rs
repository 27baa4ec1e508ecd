//! Clients mocked with aws-smithy-mocks, for SDK-level tests of what the emulator
//! cannot do (Run Command output, instance refresh). Each answers only the rules
//! given (matched in any order); any other call fails the test.

use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode};

use super::{Aws, Clients};
use crate::model::Region;

macro_rules! mocked_client {
    ($name:ident, $sdk:ident) => {
        pub fn $name(rules: &[&Rule]) -> $sdk::Client {
            let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
            for rule in rules {
                interceptor = interceptor.with_rule(rule);
            }
            $sdk::Client::from_conf(
                $sdk::Config::builder()
                    .behavior_version($sdk::config::BehaviorVersion::latest())
                    .region($sdk::config::Region::new("eu-west-1"))
                    .credentials_provider(aws_credential_types::Credentials::new(
                        "mocked", "mocked", None, None, "mocked",
                    ))
                    .http_client(aws_smithy_mocks::create_mock_http_client())
                    .interceptor(interceptor)
                    .build(),
            )
        }
    };
}

mocked_client!(ec2, aws_sdk_ec2);
mocked_client!(ssm, aws_sdk_ssm);
mocked_client!(autoscaling, aws_sdk_autoscaling);
mocked_client!(elb, aws_sdk_elasticloadbalancingv2);
mocked_client!(cloudformation, aws_sdk_cloudformation);

/// A connection whose every service answers from the rules given.
pub fn aws(
    ec2_rules: &[&Rule],
    ssm_rules: &[&Rule],
    autoscaling_rules: &[&Rule],
    elb_rules: &[&Rule],
) -> Aws {
    Aws::with_clients(
        Region::from_aws("eu-west-1"),
        Clients {
            ec2: ec2(ec2_rules),
            ssm: ssm(ssm_rules),
            autoscaling: autoscaling(autoscaling_rules),
            elb: elb(elb_rules),
            cloudformation: cloudformation(&[]),
        },
    )
}

/// As `aws`, with CloudFormation answering from its own rules too.
pub fn with_cloudformation(
    cloudformation_rules: &[&Rule],
    ec2_rules: &[&Rule],
    autoscaling_rules: &[&Rule],
) -> Aws {
    Aws::with_clients(
        Region::from_aws("eu-west-1"),
        Clients {
            ec2: ec2(ec2_rules),
            ssm: ssm(&[]),
            autoscaling: autoscaling(autoscaling_rules),
            elb: elb(&[]),
            cloudformation: cloudformation(cloudformation_rules),
        },
    )
}
