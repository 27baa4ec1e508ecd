//! What the emulator holds of verify runs: instances by tag and the commands SSM
//! was asked to run on them. Read with the SDK, not through kiln.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use super::emulator::Emulator;

/// An instance as EC2 describes it.
#[derive(Debug, Clone)]
pub struct SeenInstance {
    pub id: String,
    pub state: String,
    pub image: String,
    pub instance_type: String,
    pub tags: BTreeMap<String, String>,
}

/// A Run Command request as SSM recorded it.
#[derive(Debug, Clone)]
pub struct SentCommand {
    pub document: String,
    pub instance_ids: Vec<String>,
    pub script: String,
}

impl Emulator {
    /// Every instance (in any state) tagged kiln:app=APP.
    pub fn app_instances(&self, app: &str) -> Vec<SeenInstance> {
        self.block_on(async |ec2, _| {
            let out = ec2
                .describe_instances()
                .filters(Filter::builder().name("tag:kiln:app").values(app).build())
                .send()
                .await
                .unwrap();
            out.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .map(|i| SeenInstance {
                    id: i.instance_id().unwrap_or_default().to_string(),
                    state: i
                        .state()
                        .and_then(|s| s.name())
                        .map(|n| n.as_str().to_string())
                        .unwrap_or_default(),
                    image: i.image_id().unwrap_or_default().to_string(),
                    instance_type: i
                        .instance_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    tags: i
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
                .collect()
        })
    }

    /// The commands SSM recorded for an instance.
    pub fn commands_for(&self, instance: &str) -> Vec<SentCommand> {
        self.block_on(async |_, ssm| {
            let out = ssm
                .list_commands()
                .instance_id(instance)
                .send()
                .await
                .unwrap();
            out.commands()
                .iter()
                .map(|c| SentCommand {
                    document: c.document_name().unwrap_or_default().to_string(),
                    instance_ids: c.instance_ids().to_vec(),
                    script: c
                        .parameters()
                        .and_then(|p| p.get("commands"))
                        .map(|lines| lines.join("\n"))
                        .unwrap_or_default(),
                })
                .collect()
        })
    }

    /// Launches an instance of `image` with `tags`, as a crashed run would leave it.
    pub fn launch_tagged(&self, image: &str, tags: &[(&str, &str)]) -> String {
        self.block_on(async |ec2, _| {
            let out = ec2
                .run_instances()
                .image_id(image)
                .min_count(1)
                .max_count(1)
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::Instance)
                        .set_tags(Some(
                            tags.iter()
                                .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                                .collect(),
                        ))
                        .build(),
                )
                .send()
                .await
                .unwrap();
            out.instances()[0].instance_id().unwrap().to_string()
        })
    }
}
