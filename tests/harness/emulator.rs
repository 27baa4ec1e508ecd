//! The AWS emulator for the whole test run: one moto server on 127.0.0.1, started
//! through the fidelity launcher (tests/emulator/launcher.py) on first use, and
//! gone when the test binary exits (the launcher watches its parent).
//!
//! Tests never reset it (a reset is global); each test works on its own app name.
//! Fixtures and checks talk to it with the AWS SDK directly, not through kiln, so a
//! check does not trust the code it checks.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_ec2::types::{Filter, Tag};

pub const REGION: &str = "us-east-1";

pub struct Emulator {
    pub endpoint: String,
    /// The emulator's virtualenv python (with `cryptography`, for the TLS front).
    pub python: String,
    _process: Mutex<Child>,
    /// An instance every test may make images of.
    source_instance: OnceLock<String>,
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();
static APPS: AtomicUsize = AtomicUsize::new(0);

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator, started on first use.
pub fn emulator() -> &'static Emulator {
    EMULATOR.get_or_init(Emulator::start)
}

/// An app name no other test uses.
pub fn unique_app(purpose: &str) -> String {
    format!(
        "{purpose}-{}-{}",
        std::process::id(),
        APPS.fetch_add(1, Ordering::SeqCst)
    )
}

/// A TCP port nothing listens on (it was free a moment ago).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl Emulator {
    fn start() -> Self {
        let venv = Command::new(root().join("scripts/emulator-venv"))
            .stderr(Stdio::inherit())
            .output()
            .expect("scripts/emulator-venv runs");
        assert!(
            venv.status.success(),
            "installing the emulator failed; see the output above"
        );
        let python = String::from_utf8(venv.stdout).unwrap().trim().to_string();
        let port = free_port();
        let log = std::fs::File::create(std::env::temp_dir().join(format!("kiln-moto-{port}.log")))
            .expect("a log file for the emulator");
        let process = Command::new(&python)
            .arg(root().join("tests/emulator/launcher.py"))
            .args(["--port", &port.to_string()])
            .args(["--parent", &std::process::id().to_string()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the emulator starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen on {endpoint} within 60s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            endpoint,
            python,
            _process: Mutex::new(process),
            source_instance: OnceLock::new(),
        }
    }

    /// Runs SDK calls on a runtime of their own (tests are plain threads). The
    /// clients use kiln's own HTTP, retry and timeout settings, with test credentials.
    pub(super) fn block_on<T>(
        &self,
        work: impl AsyncFnOnce(aws_sdk_ec2::Client, aws_sdk_ssm::Client) -> T,
    ) -> T {
        self.with_config(async |config| {
            work(
                aws_sdk_ec2::Client::new(config),
                aws_sdk_ssm::Client::new(config),
            )
            .await
        })
    }

    /// Runs `work` on a runtime of its own with the emulator's SDK configuration.
    pub(super) fn with_config<T>(&self, work: impl AsyncFnOnce(&aws_config::SdkConfig) -> T) -> T {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let config = self.sdk_config().await;
            work(&config).await
        })
    }

    /// kiln's own HTTP, retry and timeout settings, with test credentials.
    pub(super) async fn sdk_config(&self) -> aws_config::SdkConfig {
        let settings = kiln::aws::AwsSettings {
            profile: None,
            region: Some(kiln::model::Region::from_aws(REGION)),
            endpoint_url: Some(self.endpoint.clone()),
            ..Default::default()
        };
        let credentials = Credentials::new("testing", "testing", None, None, "kiln-tests");
        kiln::aws::sdk_config(&settings)
            .await
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build()
    }

    /// Makes a real image in the emulator (CreateImage from a running instance), as a
    /// bake would, with the given tags.
    pub fn create_image(&self, name: &str, tags: &[(&str, &str)]) -> String {
        let instance = self.source_instance.get_or_init(|| {
            self.block_on(async |ec2, _| {
                let images = ec2
                    .describe_images()
                    .owners("amazon")
                    .filters(
                        Filter::builder()
                            .name("architecture")
                            .values("x86_64")
                            .build(),
                    )
                    .send()
                    .await
                    .unwrap();
                let source = images.images()[0].image_id().unwrap().to_string();
                let run = ec2
                    .run_instances()
                    .image_id(source)
                    .min_count(1)
                    .max_count(1)
                    .send()
                    .await
                    .unwrap();
                run.instances()[0].instance_id().unwrap().to_string()
            })
        });
        let unique = format!("{name}-{}", APPS.fetch_add(1, Ordering::SeqCst));
        self.block_on(async |ec2, _| {
            let image = ec2
                .create_image()
                .instance_id(instance)
                .name(unique)
                .send()
                .await
                .unwrap();
            let id = image.image_id().unwrap().to_string();
            if !tags.is_empty() {
                ec2.create_tags()
                    .resources(&id)
                    .set_tags(Some(
                        tags.iter()
                            .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                            .collect(),
                    ))
                    .send()
                    .await
                    .unwrap();
            }
            id
        })
    }

    pub fn image_tags(&self, ami: &str) -> BTreeMap<String, String> {
        self.block_on(async |ec2, _| {
            let out = ec2.describe_images().image_ids(ami).send().await.unwrap();
            out.images()[0]
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap().to_string(),
                        t.value().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
    }

    /// `(version, value, labels)` of every version of a parameter, oldest first;
    /// empty when it does not exist.
    pub fn history(&self, name: &str) -> Vec<(i64, String, Vec<String>)> {
        self.history_in(REGION, name)
    }

    /// As `history`, in another region.
    pub fn history_in(&self, region: &str, name: &str) -> Vec<(i64, String, Vec<String>)> {
        self.with_config(async |config| {
            let ssm = aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(config)
                    .region(aws_sdk_ssm::config::Region::new(region.to_string()))
                    .build(),
            );
            let mut versions = Vec::new();
            let mut pages = ssm
                .get_parameter_history()
                .name(name)
                .max_results(50)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let Ok(page) = page else { return Vec::new() };
                for p in page.parameters() {
                    versions.push((
                        p.version(),
                        p.value().unwrap_or("").to_string(),
                        p.labels().to_vec(),
                    ));
                }
            }
            versions
        })
    }

    pub fn tag_image(&self, ami: &str, key: &str, value: &str) {
        self.block_on(async |ec2, _| {
            ec2.create_tags()
                .resources(ami)
                .tags(Tag::builder().key(key).value(value).build())
                .send()
                .await
                .unwrap();
        })
    }

    /// Every image of an app (tag kiln:app), by id.
    pub fn app_images(&self, app: &str) -> Vec<String> {
        self.block_on(async |ec2, _| super::images::own_images(&ec2, "tag:kiln:app", app).await)
    }

    /// Instances started for an app's test bakes (tag kiln-test-app) that are not
    /// terminated.
    pub fn live_bake_instances(&self, app: &str) -> Vec<String> {
        self.block_on(async |ec2, _| {
            let out = ec2
                .describe_instances()
                .filters(
                    Filter::builder()
                        .name("tag:kiln-test-app")
                        .values(app)
                        .build(),
                )
                .filters(
                    Filter::builder()
                        .name("instance-state-name")
                        .values("pending")
                        .values("running")
                        .values("stopping")
                        .values("stopped")
                        .build(),
                )
                .send()
                .await
                .unwrap();
            out.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter_map(|i| i.instance_id().map(str::to_string))
                .collect()
        })
    }

    /// Adds a version without kiln (to build up history fast).
    /// A plain text parameter (not a registry version), e.g. a lock held elsewhere.
    pub fn put_text(&self, name: &str, value: &str) {
        self.block_on(async |_, ssm| {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        })
    }

    /// A parameter's value, or `None` when it does not exist.
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.block_on(async |_, ssm| {
            ssm.get_parameter()
                .name(name)
                .send()
                .await
                .ok()
                .and_then(|out| out.parameter().and_then(|p| p.value().map(str::to_string)))
        })
    }

    pub fn put_version(&self, name: &str, value: &str) -> i64 {
        self.block_on(async |_, ssm| {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .data_type("aws:ec2:image")
                .overwrite(true)
                .send()
                .await
                .unwrap()
                .version()
        })
    }

    pub fn label(&self, name: &str, version: i64, labels: &[&str]) {
        self.block_on(async |_, ssm| {
            ssm.label_parameter_version()
                .name(name)
                .parameter_version(version)
                .set_labels(Some(labels.iter().map(|l| l.to_string()).collect()))
                .send()
                .await
                .unwrap();
        })
    }

    /// Everything a kiln command could have changed for an app and some images:
    /// compare before and after to prove that nothing was written.
    pub fn snapshot(&self, app: &str, amis: &[&str]) -> String {
        let mut state = String::new();
        for role in ["base", "app"] {
            let name = format!("/kiln/{app}/{role}");
            state.push_str(&format!("{name}: {:?}\n", self.history(&name)));
        }
        for ami in amis {
            state.push_str(&format!("{ami}: {:?}\n", self.image_tags(ami)));
        }
        state
    }
}

/// A scratch directory for one test (working directory, HOME, GitHub files).
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("kiln-tests").join(format!(
        "{name}-{}-{}",
        std::process::id(),
        APPS.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn write(dir: &Path, file: &str, text: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}
