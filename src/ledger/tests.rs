use super::*;

fn launch(version: i64, ami: &str) -> Launch {
    Launch {
        template: LaunchTemplateId::from_aws("lt-0abc"),
        version,
        ami_id: Some(AmiId::from_aws(ami)),
    }
}

fn record(id: &str, outcome: Outcome, started: i64, ended: Option<i64>) -> DeployRecord {
    DeployRecord {
        id: id.into(),
        environment: "production".into(),
        command: "deploy".into(),
        outcome,
        reference: "app:tested".into(),
        role: Role::App,
        version: Some(Version(2)),
        ami_id: Some(AmiId::from_aws("ami-2")),
        strategy: Strategy::Rolling,
        groups: vec![GroupRecord {
            region: Region::from_aws("eu-west-1"),
            group: GroupName::from_aws("shop-web"),
            before: launch(4, "ami-1"),
            after: ended.map(|_| launch(5, "ami-2")),
        }],
        channels: Vec::new(),
        undoes: None,
        who: "ci".into(),
        started: Timestamp(started),
        ended: ended.map(Timestamp),
        commit: None,
        build_url: None,
        detail: None,
    }
}

#[test]
fn the_end_record_of_a_deploy_replaces_its_start_record() {
    let start = record("run-1", Outcome::InProgress, 100, None);
    let end = record("run-1", Outcome::Deployed, 100, Some(200));
    let other = record("run-0", Outcome::Deployed, 10, Some(20));
    let values = vec![
        (Version(1), other.to_value()),
        (Version(2), start.to_value()),
        (Version(3), "not a record".to_string()),
        (Version(4), end.to_value()),
    ];
    let records = records(&values);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0], (Version(4), end));
    assert_eq!(records[1].1.id, "run-0");
}

#[test]
fn what_ran_at_a_time_is_after_before_or_unknown_by_the_records_state_then() {
    let records = vec![
        (
            Version(4),
            record("run-2", Outcome::FailedRolledBack, 300, Some(400)),
        ),
        (
            Version(2),
            record("run-1", Outcome::Deployed, 100, Some(200)),
        ),
    ];
    // Before any record: nothing known.
    assert!(ran_at(&records, Timestamp(50)).is_empty());
    // During run-1: a mix.
    let during = ran_at(&records, Timestamp(150));
    assert_eq!(during[0].launch, None);
    assert!(
        during[0].state.contains("in progress"),
        "{}",
        during[0].state
    );
    // After run-1: its after.
    assert_eq!(
        ran_at(&records, Timestamp(250))[0].launch,
        Some(launch(5, "ami-2"))
    );
    // After run-2, which failed and went back: its before.
    let back = ran_at(&records, Timestamp(500));
    assert_eq!(back[0].launch, Some(launch(4, "ami-1")));
    assert_eq!(back[0].record, "run-2");
}

#[test]
fn a_record_reads_back_as_written() {
    let written = record("run-1", Outcome::Deployed, 100, Some(200));
    assert_eq!(DeployRecord::from_value(&written.to_value()), Some(written));
}
