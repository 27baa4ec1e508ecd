//! A fault-injecting proxy between kiln and the emulator. At a given rate it faults
//! a request, at one of two moments (`When`):
//! - before it reaches the emulator: it answers with AWS throttling
//!   (`ThrottlingException` for the JSON services, `RequestLimitExceeded` for EC2,
//!   `Throttling` for the query services), HTTP 500 or 503, drops the connection,
//!   or forwards it slowly. Nothing changed; a retry is safe.
//! - after the emulator carried it out: the answer is lost, the connection dropped
//!   or the answer replaced by a 500 or 503. The change is made; a retry that writes
//!   again makes it twice (a second parameter version, a second instance).
//!
//! The same request (same target and body) is faulted at most twice in a row, so
//! its third attempt gets through: the test then checks kiln's handling, not the
//! odds of five faults in a row. Besides the random faults, the first answer to
//! each distinct request for the actions named in `lose_first` is always lost
//! after forwarding, so a test knows each of those writes met a lost answer.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// When a faulted request fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Before it reaches the emulator: nothing changed.
    Before,
    /// After the emulator carried it out: the answer is lost.
    After,
    /// Either, half and half.
    Both,
}

pub struct FaultProxy {
    pub endpoint: String,
    pub requests: Arc<AtomicU64>,
    pub faults: Arc<AtomicU64>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1 and forwards to `upstream` (`http://127.0.0.1:PORT`),
    /// faulting `percent` of requests at the moment `when` says.
    pub fn faulting(upstream: &str, percent: u64, when: When) -> Self {
        Self::losing(upstream, percent, when, &[])
    }

    /// As `faulting`, and the first answer to each distinct request for an action
    /// in `lose_first` (`PutParameter`, `CopyImage`, …) is lost after forwarding.
    pub fn losing(
        upstream: &str,
        percent: u64,
        when: When,
        lose_first: &'static [&'static str],
    ) -> Self {
        let settings = Settings {
            percent,
            when,
            lose_first,
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_string();
        let requests = Arc::new(AtomicU64::new(0));
        let faults = Arc::new(AtomicU64::new(0));
        let (r, f) = (requests.clone(), faults.clone());
        let streaks: Arc<Mutex<HashMap<Vec<u8>, Streak>>> = Arc::default();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, r, f, s) = (upstream.clone(), r.clone(), f.clone(), streaks.clone());
                std::thread::spawn(move || serve(client, &upstream, settings, &r, &f, &s));
            }
        });
        Self {
            endpoint,
            requests,
            faults,
        }
    }
}

/// A small deterministic generator shared by all connections.
fn roll(counter: &AtomicU64) -> u64 {
    let n = counter.fetch_add(1, Ordering::SeqCst);
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x % 100
}

/// How many times in a row the same request may be faulted.
const MOST_IN_A_ROW: u32 = 2;

#[derive(Debug, Clone, Copy)]
struct Settings {
    percent: u64,
    when: When,
    lose_first: &'static [&'static str],
}

/// One distinct request's faults: how many in a row, and whether its first
/// answer was lost for `lose_first`.
#[derive(Debug, Default)]
struct Streak {
    in_a_row: u32,
    first_lost: bool,
}

/// The action a request calls: `X-Amz-Target: AmazonSSM.PutParameter` for the
/// JSON services, `Action=CopyImage` in the body for the query services.
fn action(head: &[String], body: &[u8]) -> Option<String> {
    let target = head.iter().find_map(|h| {
        let (name, value) = h.split_once(':')?;
        name.eq_ignore_ascii_case("x-amz-target")
            .then(|| value.trim().rsplit('.').next().map(str::to_string))?
    });
    target.or_else(|| {
        String::from_utf8_lossy(body)
            .split('&')
            .find_map(|p| p.strip_prefix("Action=").map(str::to_string))
    })
}

fn serve(
    client: TcpStream,
    upstream: &str,
    settings: Settings,
    requests: &AtomicU64,
    faults: &AtomicU64,
    streaks: &Mutex<HashMap<Vec<u8>, Streak>>,
) {
    let Settings {
        percent,
        when,
        lose_first,
    } = settings;
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    loop {
        let Some(head) = read_head(&mut reader) else {
            return;
        };
        let Some(body) = read_body(&mut reader, &head) else {
            return;
        };
        let dice = roll(requests);
        let key: Vec<u8> = head
            .iter()
            .filter(|h| h.to_ascii_lowercase().starts_with("x-amz-target:"))
            .flat_map(|h| h.as_bytes().to_vec())
            .chain(body.iter().copied())
            .collect();
        let named = action(&head, &body).is_some_and(|a| lose_first.contains(&a.as_str()));
        let (fault, forced) = {
            let mut streaks = streaks.lock().unwrap();
            let streak = streaks.entry(key).or_default();
            let forced = named && !streak.first_lost;
            let fault = forced || (dice < percent && streak.in_a_row < MOST_IN_A_ROW);
            streak.first_lost |= forced;
            streak.in_a_row = if fault { streak.in_a_row + 1 } else { 0 };
            (fault, forced)
        };
        let after = forced
            || match when {
                When::Before => false,
                When::After => true,
                // The dice below 'percent' pick the fault; their parity, the moment.
                When::Both => dice % 2 == 1,
            };
        if fault && after {
            faults.fetch_add(1, Ordering::SeqCst);
            if !lose_answer(&mut client, upstream, &head, &body, dice % 3) {
                return;
            }
            continue;
        }
        if fault {
            faults.fetch_add(1, Ordering::SeqCst);
            match dice % 5 {
                0 => return, // the connection drops, no answer
                1 => respond(&mut client, 500, "text/plain", b"internal error"),
                2 => respond(&mut client, 503, "text/plain", b"service unavailable"),
                3 => throttle(&mut client, &head, &body),
                _ => {
                    std::thread::sleep(Duration::from_millis(1500));
                    if !forward(&mut client, upstream, &head, &body) {
                        return;
                    }
                }
            }
            continue;
        }
        if !forward(&mut client, upstream, &head, &body) {
            return;
        }
    }
}

/// An HTTP request's head, line by line up to and with the blank line; `None` when
/// the connection closed first. Shared with the forward proxy (`proxy.rs`).
pub(super) fn read_head(reader: &mut impl BufRead) -> Option<Vec<String>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let end = line == "\r\n";
        head.push(line);
        if end {
            return Some(head);
        }
    }
}

/// The body the head's content-length announces.
pub(super) fn read_body(reader: &mut impl Read, head: &[String]) -> Option<Vec<u8>> {
    let length: usize = head
        .iter()
        .find_map(|h| {
            let (name, value) = h.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn respond(client: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} Fault\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let _ = client.write_all(head.as_bytes());
    let _ = client.write_all(body);
}

fn throttle(client: &mut TcpStream, head: &[String], body: &[u8]) {
    let json = head
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("x-amz-target:"));
    let text = String::from_utf8_lossy(body);
    if json {
        respond(
            client,
            400,
            "application/x-amz-json-1.1",
            br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        );
    } else if text.contains("Version=2016-11-15") {
        respond(
            client,
            503,
            "text/xml",
            b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>kiln-fault</RequestID></Response>",
        );
    } else {
        respond(
            client,
            400,
            "text/xml",
            b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>kiln-fault</RequestId></ErrorResponse>",
        );
    }
}

/// Sends the request upstream, where it is carried out, and loses the answer:
/// `kind` 0 drops the connection (false: the client sees no answer), 1 and 2 answer
/// 500 and 503 instead, as a load balancer in front of a service can.
fn lose_answer(
    client: &mut TcpStream,
    upstream: &str,
    head: &[String],
    body: &[u8],
    kind: u64,
) -> bool {
    if exchange(upstream, head, body).is_none() {
        return false;
    }
    match kind {
        0 => false,
        1 => {
            respond(client, 500, "text/plain", b"internal error");
            true
        }
        _ => {
            respond(client, 503, "text/plain", b"service unavailable");
            true
        }
    }
}

/// Sends one request upstream (connection: close) and relays the answer.
fn forward(client: &mut TcpStream, upstream: &str, head: &[String], body: &[u8]) -> bool {
    match exchange(upstream, head, body) {
        // The answer may say `connection: close`; the client then opens a new one.
        Some(answer) => client.write_all(&answer).is_ok(),
        None => false,
    }
}

/// One request upstream (connection: close); its whole answer.
fn exchange(upstream: &str, head: &[String], body: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).ok()?;
    let mut request = String::new();
    for line in head {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            request.push_str("connection: close\r\n");
        }
        request.push_str(line);
    }
    server.write_all(request.as_bytes()).ok()?;
    server.write_all(body).ok()?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).ok()?;
    Some(answer)
}
