//! What the emulator holds of verify runs: instances by tag and the commands SSM
//! was asked to run on them, and the instance profile their SSM agent needs. Read
//! and made with the SDK (or IAM's plain query API), not through kiln.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::OnceLock;

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

    /// An instance profile holding a role, made once per test run: the emulator's
    /// SSM agent, like AWS's, comes online only on an instance launched with one.
    pub fn instance_profile(&self) -> &'static str {
        static PROFILE: OnceLock<String> = OnceLock::new();
        PROFILE.get_or_init(|| {
            let name = format!("kiln-tests-verify-{}", std::process::id());
            let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
            self.iam(&[
                ("Action", "CreateRole"),
                ("RoleName", &name),
                ("AssumeRolePolicyDocument", trust),
            ]);
            self.iam(&[("Action", "CreateInstanceProfile"), ("InstanceProfileName", &name)]);
            self.iam(&[
                ("Action", "AddRoleToInstanceProfile"),
                ("InstanceProfileName", &name),
                ("RoleName", &name),
            ]);
            name
        })
    }

    /// One call to IAM's query API (the tests have no IAM SDK): moto reads the
    /// service from the credential scope and checks no signature.
    fn iam(&self, params: &[(&str, &str)]) {
        let encode = |text: &str| -> String {
            text.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        let body: Vec<String> = params
            .iter()
            .chain(&[("Version", "2010-05-08")])
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let body = body.join("&");
        let host = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.split(' ').nth(1) == Some("200"),
            "IAM {params:?} failed:\n{answer}"
        );
    }
}
