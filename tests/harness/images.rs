//! Images, snapshots and launch configurations in the emulator for prune tests,
//! read and made with the SDK directly.

use aws_sdk_ec2::types::Filter;

use super::emulator::Emulator;

impl Emulator {
    /// This account's images in `region` whose name holds `text`, by id: copies
    /// included, whether kiln tagged them or not (CopyImage copies no tags).
    pub fn images_named_in(&self, region: &str, text: &str) -> Vec<String> {
        self.with_config(async |config| {
            let ec2 = aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(config)
                    .region(aws_sdk_ec2::config::Region::new(region.to_string()))
                    .build(),
            );
            named(&ec2, &format!("*{text}*")).await
        })
    }

    /// The snapshots behind an image.
    pub fn snapshots_of(&self, ami: &str) -> Vec<String> {
        self.block_on(async |ec2, _| {
            let out = ec2.describe_images().image_ids(ami).send().await.unwrap();
            out.images()
                .iter()
                .flat_map(|i| i.block_device_mappings())
                .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_string))
                .collect()
        })
    }

    /// This account's images whose name starts with `prefix` (Packer's, tagged by
    /// kiln or not), by id.
    pub fn images_named(&self, prefix: &str) -> Vec<String> {
        self.block_on(async |ec2, _| named(&ec2, &format!("{prefix}*")).await)
    }

    /// Whether an image is still registered.
    pub fn image_exists(&self, ami: &str) -> bool {
        self.block_on(async |ec2, _| {
            let out = ec2
                .describe_images()
                .filters(Filter::builder().name("image-id").values(ami).build())
                .send()
                .await
                .unwrap();
            !out.images().is_empty()
        })
    }

    pub fn snapshot_exists(&self, snapshot: &str) -> bool {
        self.block_on(async |ec2, _| {
            let out = ec2
                .describe_snapshots()
                .filters(
                    Filter::builder()
                        .name("snapshot-id")
                        .values(snapshot)
                        .build(),
                )
                .send()
                .await
                .unwrap();
            !out.snapshots().is_empty()
        })
    }

    /// A launch template whose version 1 names `first` and version 2 (the default
    /// from then on) names `second`.
    pub fn template_with_versions(&self, name: &str, first: &str, second: &str) {
        self.block_on(async |ec2, _| {
            let data = |image: &str| {
                aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                    .image_id(image)
                    .build()
            };
            let id = ec2
                .create_launch_template()
                .launch_template_name(name)
                .launch_template_data(data(first))
                .send()
                .await
                .unwrap()
                .launch_template()
                .unwrap()
                .launch_template_id()
                .unwrap()
                .to_string();
            ec2.create_launch_template_version()
                .launch_template_id(&id)
                .launch_template_data(data(second))
                .send()
                .await
                .unwrap();
            ec2.modify_launch_template()
                .launch_template_id(&id)
                .default_version("2")
                .send()
                .await
                .unwrap();
        })
    }

    pub fn launch_configuration(&self, name: &str, ami: &str) {
        self.with_config(async |config| {
            aws_sdk_autoscaling::Client::new(config)
                .create_launch_configuration()
                .launch_configuration_name(name)
                .image_id(ami)
                .instance_type("t3.micro")
                .send()
                .await
                .unwrap();
        })
    }
}

/// This account's images whose name matches `pattern` (EC2's wildcards), by id.
async fn named(ec2: &aws_sdk_ec2::Client, pattern: &str) -> Vec<String> {
    own_images(ec2, "name", pattern).await
}

/// This account's images that `filter` (an EC2 filter name) matches with `value`, by id.
pub(super) async fn own_images(
    ec2: &aws_sdk_ec2::Client,
    filter: &str,
    value: &str,
) -> Vec<String> {
    let out = ec2
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name(filter).values(value).build())
        .send()
        .await
        .unwrap();
    let mut ids: Vec<String> = out
        .images()
        .iter()
        .filter_map(|i| i.image_id().map(str::to_string))
        .collect();
    ids.sort();
    ids
}
