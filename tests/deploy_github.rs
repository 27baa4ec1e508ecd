//! GitHub Deployments around a real `kiln deploy` against the emulator, with a
//! local fake of GitHub's API (wiremock on 127.0.0.1, reached through
//! `--github-api-url`): the requests in order, and an unreachable GitHub that is
//! only a warning.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::groups::tested_fleet;
use crate::harness::{free_port, kiln};

const SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

/// An app with a tested image (built from SHA) on a group of 2: (app, AMI, group).
fn tested_service(purpose: &str) -> (String, String, String) {
    let tested = tested_fleet(purpose, 2, &[("kiln:git-sha", SHA)]);
    (tested.app, tested.new, tested.fleet.group)
}

/// What the fake GitHub received: (method, path, JSON body), in order.
type Received = std::thread::JoinHandle<Vec<(String, String, serde_json::Value)>>;

/// A fake GitHub on its own thread; returns its URL and a handle that gives back
/// the requests it received (method, path, JSON body) once `stop` is sent.
fn fake_github() -> (String, std::sync::mpsc::Sender<()>, Received) {
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let server = MockServer::start().await;
            let repo = format!("{}/repos/acme/shop", server.uri());
            Mock::given(method("POST"))
                .and(path("/repos/acme/shop/deployments"))
                .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                    "url": format!("{repo}/deployments/77"), "id": 77, "node_id": "D", "sha": SHA,
                    "ref": SHA, "task": "deploy", "payload": {}, "environment": "production",
                    "description": "", "creator": null, "created_at": "2026-11-23T10:00:00Z",
                    "updated_at": "2026-11-23T10:00:00Z", "statuses_url": format!("{repo}/deployments/77/statuses"),
                    "repository_url": repo
                })))
                .mount(&server)
                .await;
            Mock::given(method("POST"))
                .and(path("/repos/acme/shop/deployments/77/statuses"))
                .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                    "url": format!("{repo}/deployments/77/statuses/1"), "id": 1, "node_id": "S",
                    "state": "success", "creator": null, "description": "", "environment": "production",
                    "target_url": "", "log_url": "", "created_at": "2026-11-23T10:00:00Z",
                    "updated_at": "2026-11-23T10:00:00Z", "deployment_url": format!("{repo}/deployments/77"),
                    "repository_url": repo
                })))
                .mount(&server)
                .await;
            url_tx.send(server.uri()).unwrap();
            // Serve until the test is done.
            loop {
                if stop_rx.try_recv().is_ok() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            server
                .received_requests()
                .await
                .unwrap()
                .into_iter()
                .map(|r| {
                    (
                        r.method.to_string(),
                        r.url.path().to_string(),
                        serde_json::from_slice(&r.body).unwrap_or(json!(null)),
                    )
                })
                .collect()
        })
    });
    (url_rx.recv().unwrap(), stop_tx, handle)
}

#[test]
fn a_deploy_records_a_github_deployment_in_progress_then_success() {
    let (app, ami, group) = tested_service("deploy-github");
    let (url, stop, requests) = fake_github();
    kiln()
        .env("GITHUB_TOKEN", "ghs_faketoken")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &group,
            "--github-api-url",
            &url,
            "--min-healthy",
            "50%",
        ])
        .run()
        .ok();
    stop.send(()).unwrap();
    let requests = requests.join().unwrap();
    let summary: Vec<(String, String, Option<String>)> = requests
        .iter()
        .map(|(m, p, body)| {
            (
                m.clone(),
                p.clone(),
                body["state"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("POST".into(), "/repos/acme/shop/deployments".into(), None),
            (
                "POST".into(),
                "/repos/acme/shop/deployments/77/statuses".into(),
                Some("in_progress".into())
            ),
            (
                "POST".into(),
                "/repos/acme/shop/deployments/77/statuses".into(),
                Some("success".into())
            ),
        ]
    );
    let create = &requests[0].2;
    assert_eq!(create["ref"], SHA);
    assert_eq!(create["environment"], "production");
    assert_eq!(create["payload"]["ami_id"], ami.as_str());
    assert_eq!(create["payload"]["version"], 1);
    assert_eq!(create["payload"]["strategy"], "rolling");
    // A status names no environment: GitHub keeps the deployment's (production).
    assert_eq!(
        requests[1].2,
        json!({"state": "in_progress", "description": format!("deploy of {group} started")})
    );
}

#[test]
fn an_unreachable_github_is_a_warning_not_a_failed_deploy() {
    let (app, _, group) = tested_service("deploy-github-down");
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let done = kiln()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_TOKEN", "ghs_faketoken")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .args([
            "--app",
            &app,
            "deploy",
            "--asg",
            &group,
            "--github-api-url",
            &nowhere,
            "--min-healthy",
            "50%",
        ])
        .run()
        .ok();
    assert!(
        done.stderr.contains(&format!(
            "warning: GitHub deployment of acme/shop not updated: cannot reach GitHub at {nowhere}"
        )),
        "{}",
        done.stderr
    );
    // In GitHub Actions the warning shows on the run's page too.
    assert!(
        done.stderr.contains(&format!(
            "\n::warning title=kiln::GitHub deployment of acme/shop not updated: cannot reach GitHub at {nowhere}"
        )),
        "{}",
        done.stderr
    );
    assert!(
        !done.stderr.contains("ghs_faketoken"),
        "the token never shows"
    );
}
