use super::*;
use crate::ledger::Launch;

fn set(version: &str, ami: &str, n: usize) -> InstanceSet {
    InstanceSet {
        version: Some(version.into()),
        ami_id: Some(AmiId::from_aws(ami)),
        revoked: false,
        instances: (0..n)
            .map(|i| InstanceId::from_aws(format!("i-{version}{i}")))
            .collect(),
    }
}

fn ran(launch: Option<(i64, &str)>, state: &str) -> RanAt {
    RanAt {
        region: Region::from_aws("eu-west-1"),
        group: GroupName::from_aws("shop-web"),
        launch: launch.map(|(version, ami)| Launch {
            template: LaunchTemplateId::from_aws("lt-0abc"),
            version,
            ami_id: Some(AmiId::from_aws(ami)),
        }),
        state: state.into(),
        record: "run-7".into(),
        who: "alice".into(),
    }
}

/// A group on launch template lt-0abc version `launches`, with `instances`.
fn group(launches: i64, instances: Vec<InstanceSet>, ledger: Option<RanAt>) -> GroupStatus {
    GroupStatus {
        region: Region::from_aws("eu-west-1"),
        group: GroupName::from_aws("shop-web"),
        missing: false,
        template: Some(LaunchTemplateId::from_aws("lt-0abc")),
        version: Some(launches.to_string()),
        launches: Some(launches),
        ami_id: Some(AmiId::from_aws("ami-2")),
        instances,
        ledger,
        mixed: false,
        revoked: false,
        changed_outside_kiln: false,
        notes: Vec::new(),
    }
}

#[test]
fn a_group_as_the_ledger_left_it_has_no_notes() {
    let mut g = group(
        5,
        vec![set("5", "ami-2", 3)],
        Some(ran(Some((5, "ami-2")), "deployed")),
    );
    notes(&mut g, None);
    assert_eq!(g.notes, Vec::<String>::new());
    assert!(!g.mixed && !g.revoked && !g.changed_outside_kiln);
}

#[test]
fn a_group_set_to_another_version_than_the_ledger_says_was_changed_outside_kiln() {
    let mut g = group(
        6,
        vec![set("6", "ami-2", 2)],
        Some(ran(Some((5, "ami-2")), "deployed")),
    );
    notes(&mut g, None);
    assert!(g.changed_outside_kiln);
    assert_eq!(
        g.notes,
        [
            "changed outside kiln: the ledger has launch template version 5 (deployed by alice), the group launches 6"
        ]
    );
}

#[test]
fn another_template_than_the_ledgers_is_a_change_outside_kiln_too() {
    let mut g = group(
        5,
        vec![set("5", "ami-2", 1)],
        Some(ran(Some((5, "ami-2")), "deployed")),
    );
    g.template = Some(LaunchTemplateId::from_aws("lt-0def"));
    notes(&mut g, None);
    assert!(g.changed_outside_kiln);
}

#[test]
fn instances_on_several_versions_are_a_mixed_fleet() {
    let mut g = group(
        5,
        vec![set("4", "ami-1", 2), set("5", "ami-2", 1)],
        Some(ran(Some((5, "ami-2")), "deployed")),
    );
    notes(&mut g, None);
    assert!(g.mixed);
    assert_eq!(g.notes, ["mixed fleet: 2 on version 4, 1 on version 5"]);
}

#[test]
fn instances_all_on_an_older_version_than_the_group_launches_are_called_out() {
    let mut g = group(
        5,
        vec![set("4", "ami-1", 3)],
        Some(ran(Some((5, "ami-2")), "deployed")),
    );
    notes(&mut g, None);
    assert!(!g.mixed);
    assert_eq!(
        g.notes,
        ["3 instances still on version 4; the group launches 5"]
    );
}

#[test]
fn a_revoked_image_is_named_for_the_group_and_for_its_instances() {
    let mut revoked = set("5", "ami-2", 1);
    revoked.revoked = true;
    let mut g = group(5, vec![revoked], Some(ran(Some((5, "ami-2")), "deployed")));
    notes(&mut g, Some("CVE-2026-1234".into()));
    assert!(g.revoked);
    assert_eq!(
        g.notes,
        [
            "launches revoked image ami-2: CVE-2026-1234",
            "1 instance on revoked image ami-2"
        ]
    );
}

#[test]
fn a_deploy_that_never_ended_is_said_so_and_is_no_change_outside_kiln() {
    let mut g = group(
        5,
        vec![set("5", "ami-2", 1)],
        Some(ran(
            None,
            "deploy was in progress (from launch template version 4)",
        )),
    );
    notes(&mut g, None);
    assert!(!g.changed_outside_kiln);
    assert_eq!(
        g.notes,
        [
            "deploy run-7 by alice did not finish (running, interrupted or failed): deploy was in progress (from launch template version 4)"
        ]
    );
}

#[test]
fn a_group_no_deploy_touched_was_changed_outside_kiln() {
    let mut g = group(1, vec![set("1", "ami-1", 2)], None);
    notes(&mut g, None);
    assert!(g.changed_outside_kiln);
    assert_eq!(
        g.notes,
        ["changed outside kiln: no deploy in the ledger touched it"]
    );
}
