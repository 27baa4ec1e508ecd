//! What the inputs hash covers, with the real Packer against the emulator: a
//! template file is itself, not the templates beside it, and what Packer writes
//! into a template directory (its manifest) does not make the next bake a rebake.

use std::path::{Path, PathBuf};

use crate::harness::{emulator, kiln, packer_template, root, scratch_dir, unique_app};

use super::{bake, latest};

/// tests/packer/NAME (a directory of fixture files) copied to a scratch directory.
fn fixture(name: &str) -> PathBuf {
    let dir = scratch_dir(&format!("packer-{name}"));
    copy(&root().join("tests/packer").join(name), &dir);
    dir
}

fn copy(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn not_baking(ami: &str, hash: &str) -> String {
    format!("inputs unchanged since {ami} was baked ({hash}); not baking (--force bakes anyway)")
}

#[test]
fn two_templates_in_one_directory_are_two_bakes() {
    let app = unique_app("bake-pair");
    bake(&app, "base", &packer_template("base")).ok();
    let pair = fixture("pair");

    bake(&app, "app", &pair.join("app.pkr.hcl")).ok();
    let (_, amd) = latest(&app, "app");
    let arm_run = bake(&app, "app", &pair.join("app-arm.pkr.hcl")).ok();
    assert!(
        !arm_run.stderr.contains("not baking"),
        "app-arm.pkr.hcl was reused from app.pkr.hcl:\n{}",
        arm_run.stderr
    );
    let (version, arm) = latest(&app, "app");
    assert_eq!(version, 2);
    assert_ne!(arm, amd);
    assert_eq!(emulator().image_tags(&arm)["architecture"], "arm64");
    assert_eq!(emulator().image_tags(&amd)["architecture"], "x86_64");

    // Each is baked once: app.pkr.hcl again finds its own image.
    let hash = emulator().image_tags(&amd)["kiln:inputs-hash"].clone();
    let images = emulator().app_images(&app);
    let again = bake(&app, "app", &pair.join("app.pkr.hcl")).ok();
    assert!(
        again.stderr.contains(&not_baking(&amd, &hash)),
        "{}",
        again.stderr
    );
    assert_eq!(emulator().app_images(&app), images);
}

#[test]
fn the_manifest_packer_writes_beside_the_template_is_not_an_input() {
    let app = unique_app("bake-manifest");
    let template = fixture("manifest");

    let first = bake(&app, "base", &template).ok();
    assert!(
        first.stderr.contains("baseline: cis-level-1"),
        "the provisioner script ran:\n{}",
        first.stderr
    );
    let (_, ami) = latest(&app, "base");
    let manifest = std::fs::read_to_string(template.join("manifest.json"))
        .expect("Packer's manifest post-processor wrote manifest.json beside the template");
    assert!(manifest.contains(&ami), "{manifest}");

    // Packer rewrote manifest.json; the inputs did not change.
    let hash = emulator().image_tags(&ami)["kiln:inputs-hash"].clone();
    let again = bake(&app, "base", &template).ok();
    assert!(
        again.stderr.contains(&not_baking(&ami, &hash)),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains("packer |"), "{}", again.stderr);

    // The script the template runs is an input.
    let script = template.join("scripts/record.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, text.replace("level-1", "level-2")).unwrap();
    let changed = kiln()
        .args(["--app", &app, "bake", "base", "--template"])
        .args([&template])
        .run()
        .ok();
    assert!(
        changed.stderr.contains("baseline: cis-level-2"),
        "{}",
        changed.stderr
    );
    assert_eq!(latest(&app, "base").0, 2);
    assert_ne!(latest(&app, "base").1, ami);
}
