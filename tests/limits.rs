//! SSM's limits become errors that say what to do, and nothing is half-written.

use crate::harness::{emulator, kiln, kiln_ok, unique_app};

#[test]
fn a_full_history_with_a_labelled_oldest_version_refuses_a_publish() {
    let app = unique_app("full");
    let name = format!("/kiln/{app}/app");
    let ami = emulator().create_image("full", &[]);
    for _ in 0..100 {
        emulator().put_version(&name, &ami);
    }
    emulator().label(&name, 1, &["production"]);
    let before = emulator().history(&name);
    // A new image (publishing the newest one again would add nothing at all).
    let newer = emulator().create_image("full-newer", &[]);
    kiln().args(["--app", &app, "publish", "app", &newer]).run().fails(
        1,
        &format!(
            "error: {name} already has 100 versions and its oldest, version 1, carries the label(s) production: SSM cannot drop it to add a new version\n  help: move the label(s) production to a newer version with `kiln promote`, then publish again\n"
        ),
    );
    assert_eq!(emulator().history(&name), before);
}

#[test]
fn a_version_with_ten_labels_refuses_another() {
    let app = unique_app("labels");
    let name = format!("/kiln/{app}/app");
    let ami = emulator().create_image("labels", &[]);
    kiln_ok(["--app", &app, "publish", "app", &ami]);
    let others: Vec<String> = (0..10).map(|n| format!("other{n}")).collect();
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    emulator().label(&name, 1, &others);
    kiln().args(["--app", &app, "promote", "app:1", "--to", "production"]).run().fails(
        1,
        &format!(
            "error: version 1 of {name} already carries 10 labels, the most SSM allows\n  help: remove labels you no longer need from that version (aws ssm unlabel-parameter-version)\n"
        ),
    );
    assert_eq!(emulator().history(&name)[0].2.len(), 10);
}
