//! Reading what templates build on, in the shapes real repositories write them.

use super::*;

fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-source-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

fn given<'a>(vars: &'a [(String, String)], context: &'a [(&'a str, String)]) -> Given<'a> {
    Given {
        context,
        environment: &[],
        var_files: &[],
        vars,
    }
}

fn filter(owners: &[&str], filters: &[(&str, &str)], most_recent: bool) -> Wanted {
    Wanted::Filter(AmiFilter {
        owners: owners.iter().map(|s| s.to_string()).collect(),
        filters: filters
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        most_recent,
    })
}

const VARIABLES: &str = r#"
variable "region" {
  type    = string
  default = "us-east-1"
}

variable "base_ami_name" {
  type    = string
  default = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
}

variable "base_ami_owner" {
  type    = string
  default = "099720109477"
}

variable "most_recent" {
  type    = bool
  default = true
}
"#;

const SOURCES: &str = r#"
locals {
  name_filter = "${var.base_ami_name}"
}

source "amazon-ebs" "ubuntu" {
  region        = var.region
  instance_type = "t3.micro"
  ami_name      = "golden-{{timestamp}}"
  source_ami_filter {
    filters = {
      name                = local.name_filter
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["${var.base_ami_owner}"]
    most_recent = var.most_recent
  }
  ssh_username = "ubuntu"
}
"#;

const BUILD: &str = r#"
build {
  name = "golden"
  source "source.amazon-ebs.ubuntu" {
    name = "base"
  }
  provisioner "shell" {
    inline = ["echo hi"]
  }
}
"#;

#[test]
fn a_split_directory_with_a_filter_over_variables_and_locals() {
    let dir = scratch(
        "split",
        &[
            ("variables.pkr.hcl", VARIABLES),
            ("sources.pkr.hcl", SOURCES),
            ("build.pkr.hcl", BUILD),
        ],
    );
    let template = Template::load(&dir).unwrap();
    let builds = read(&template, given(&[], &[])).unwrap();
    assert_eq!(
        builds,
        vec![BuildSource {
            build: "amazon-ebs.base".into(),
            wanted: filter(
                &["099720109477"],
                &[
                    (
                        "name",
                        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
                    ),
                    ("root-device-type", "ebs"),
                    ("virtualization-type", "hvm"),
                ],
                true
            ),
        }]
    );
    // --var beats the default, and a var file beats the default too.
    let vars = [("base_ami_name".to_string(), "debian-12-*".to_string())];
    let builds = read(&template, given(&vars, &[])).unwrap();
    let Wanted::Filter(f) = &builds[0].wanted else {
        panic!()
    };
    assert_eq!(f.filters["name"], "debian-12-*");
    std::fs::write(dir.join("ci.pkrvars.hcl"), "most_recent = false\n").unwrap();
    let files = [dir.join("ci.pkrvars.hcl")];
    let builds = read(
        &template,
        Given {
            var_files: &files,
            ..given(&[], &[])
        },
    )
    .unwrap();
    assert!(matches!(&builds[0].wanted, Wanted::Filter(f) if !f.most_recent));
    std::fs::remove_dir_all(&dir).unwrap();
}

const APP: &str = r#"
variable "base_ami" {
  type        = string
  description = "The AMI to build the app on."
}

variable "kiln_source_ami" {
  type    = string
  default = ""
}

source "amazon-ebs" "app" {
  region        = "us-east-1"
  instance_type = "t3.micro"
  ami_name      = "app-{{timestamp}}"
  source_ami    = var.base_ami
}

source "amazon-ebs" "kiln" {
  region     = "us-east-1"
  source_ami = var.kiln_source_ami
}

build {
  sources = ["source.amazon-ebs.app"]
}
"#;

#[test]
fn an_app_with_its_own_base_ami_variable_and_an_unused_source() {
    let dir = scratch("app", &[("app.pkr.hcl", APP)]);
    let template = Template::load(&dir.join("app.pkr.hcl")).unwrap();
    let context = [("kiln_source_ami", "ami-0000000000000000b".to_string())];
    let vars = [("base_ami".to_string(), "ami-0123456789abcdef0".to_string())];
    let builds = read(&template, given(&vars, &context)).unwrap();
    assert_eq!(
        builds,
        vec![BuildSource {
            build: "amazon-ebs.app".into(),
            wanted: Wanted::Ami(AmiId::from_aws("ami-0123456789abcdef0")),
        }]
    );
    // Without a value for base_ami, kiln cannot tell, and says what is missing.
    let reason = read(&template, given(&[], &context)).unwrap_err();
    assert!(
        reason.starts_with("amazon-ebs.app: cannot resolve source_ami: "),
        "{reason}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn kilns_context_reaches_only_declared_variables() {
    let text = APP.replace("var.base_ami\n", "var.kiln_source_ami\n");
    let dir = scratch("context", &[("app.pkr.hcl", &text)]);
    let template = Template::load(&dir.join("app.pkr.hcl")).unwrap();
    let context = [
        ("kiln_source_ami", "ami-0000000000000000b".to_string()),
        ("kiln_undeclared", "x".to_string()),
    ];
    let builds = read(&template, given(&[], &context)).unwrap();
    assert_eq!(
        builds[0].wanted,
        Wanted::Ami(AmiId::from_aws("ami-0000000000000000b"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

const LEGACY: &str = r#"{
  "variables": {
    "aws_region": "us-east-1",
    "source_ami_owner": "137112412989",
    "source_ami_name": "amzn2-ami-hvm-*-x86_64-gp2"
  },
  "builders": [
    {
      "type": "amazon-ebs",
      "region": "{{user `aws_region`}}",
      "instance_type": "t3.micro",
      "ssh_username": "ec2-user",
      "ami_name": "web-{{timestamp}}",
      "source_ami_filter": {
        "filters": {
          "name": "{{user `source_ami_name`}}",
          "virtualization-type": "hvm"
        },
        "owners": ["{{user `source_ami_owner`}}"],
        "most_recent": true
      }
    },
    {
      "type": "docker",
      "image": "amazonlinux:2"
    }
  ],
  "provisioners": [
    {"type": "ansible-local", "playbook_file": "site.yml"}
  ]
}"#;

#[test]
fn a_legacy_json_template_with_user_variables() {
    let dir = scratch("legacy", &[("web.json", LEGACY)]);
    let template = Template::load(&dir.join("web.json")).unwrap();
    let builds = read(&template, given(&[], &[])).unwrap();
    assert_eq!(
        builds,
        vec![BuildSource {
            build: "amazon-ebs.amazon-ebs".into(),
            wanted: filter(
                &["137112412989"],
                &[
                    ("name", "amzn2-ami-hvm-*-x86_64-gp2"),
                    ("virtualization-type", "hvm")
                ],
                true
            ),
        }]
    );
    let env = LEGACY.replace("{{user `source_ami_name`}}", "{{env `AMI_NAME`}}");
    std::fs::write(dir.join("web.json"), env).unwrap();
    let reason = read(&template, given(&[], &[])).unwrap_err();
    assert_eq!(
        reason,
        "amazon-ebs.amazon-ebs: `{{env `AMI_NAME`}}` uses a template function kiln does not evaluate"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_function_call_is_a_reason_not_a_guess() {
    let text = SOURCES.replace("local.name_filter", "format(\"%s*\", var.base_ami_name)");
    let dir = scratch(
        "func",
        &[
            ("variables.pkr.hcl", VARIABLES),
            ("sources.pkr.hcl", &text),
            ("build.pkr.hcl", BUILD),
        ],
    );
    let reason = read(&Template::load(&dir).unwrap(), given(&[], &[])).unwrap_err();
    assert!(
        reason.starts_with("amazon-ebs.base: cannot resolve source_ami_filter.filters: "),
        "{reason}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
