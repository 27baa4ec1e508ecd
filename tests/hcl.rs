//! The reference Terraform stack and Packer templates parse as HCL (hcl-rs), and
//! the launch template and group keep the contract kiln deploy relies on.

use crate::harness::root;

fn files(dir: &str, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    found
}

#[test]
fn every_terraform_and_packer_file_parses() {
    let all: Vec<_> = files("terraform", ".tf")
        .into_iter()
        .chain(files("packer", ".pkr.hcl"))
        .collect();
    assert!(all.len() >= 8, "{all:?}");
    for path in all {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(error) = hcl::parse(&text) {
            panic!("{} is not valid HCL: {error}", path.display());
        }
    }
}

#[test]
fn the_group_leaves_its_launch_template_version_and_capacity_to_kiln() {
    let text = std::fs::read_to_string(root().join("terraform/compute.tf")).unwrap();
    let body = hcl::parse(&text).unwrap();
    let group = body
        .blocks()
        .find(|b| {
            b.identifier() == "resource"
                && b.labels().first().map(|l| l.as_str()) == Some("aws_autoscaling_group")
        })
        .expect("an aws_autoscaling_group resource");
    let lifecycle = group
        .body()
        .blocks()
        .find(|b| b.identifier() == "lifecycle")
        .expect("a lifecycle block");
    let ignored = lifecycle
        .body()
        .attributes()
        .find(|a| a.key() == "ignore_changes")
        .expect("ignore_changes")
        .expr()
        .to_string();
    for managed in ["desired_capacity", "launch_template"] {
        assert!(ignored.contains(managed), "ignore_changes = {ignored}");
    }
}
