//! `ship` and `watch --from` against a real NATS server (installed by `scripts/nats-server`, a
//! server per test on free loopback ports): the seeds' attack sequences mixed into generated
//! events from many hosts, shipped, detected by two workers, give the same alert ids as `hunt` on
//! the same events; a worker killed with SIGKILL mid-stream has its partitions taken over and no
//! alert is lost or stored twice in the alert stream.
//!
//! Runs where `scripts/nats-server` can install the server (CI sets SHELLWARD_REQUIRE_NATS=1 to
//! make its absence a failure); skips with a message elsewhere.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use common::{repo, text};
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A nats-server with JetStream, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    monitor: u16,
    _store: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The server binary, or `None` (with a SKIPPED line) where it cannot be installed.
fn server_binary() -> Option<PathBuf> {
    let out = Command::new(repo().join("scripts/nats-server")).output();
    match out {
        Ok(out) if out.status.success() => Some(PathBuf::from(text(&out.stdout).trim())),
        other => {
            let why = match other {
                Ok(out) => text(&out.stderr),
                Err(e) => e.to_string(),
            };
            assert!(
                std::env::var_os("SHELLWARD_REQUIRE_NATS").is_none(),
                "SHELLWARD_REQUIRE_NATS is set but no nats-server: {why}"
            );
            eprintln!("SKIPPED: no nats-server could be installed ({why})");
            None
        }
    }
}

fn spawn(binary: &Path, port: u16, monitor: u16, store: &Path, extra: &[&OsStr]) -> Child {
    let child = Command::new(binary)
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-m", &monitor.to_string()])
        .args(extra)
        .arg("-sd")
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn start(binary: &Path) -> Server {
    start_with(binary, &[])
}

/// A server with `extra` arguments (authentication, a configuration file).
fn start_with(binary: &Path, extra: &[&OsStr]) -> Server {
    let store = tempfile::tempdir().unwrap();
    let (port, monitor) = (free_port(), free_port());
    let child = spawn(binary, port, monitor, store.path(), extra);
    Server { child, port, monitor, _store: store }
}

impl Server {
    /// Stops the server (SIGKILL) and starts it again on the same ports and store.
    fn restart(&mut self, binary: &Path) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(300));
        self.child = spawn(binary, self.port, self.monitor, self._store.path(), &[]);
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Messages in a stream, from the monitoring endpoint.
    fn messages(&self, stream: &str) -> u64 {
        let mut connection = std::net::TcpStream::connect(("127.0.0.1", self.monitor)).unwrap();
        write!(connection, "GET /jsz?streams=true HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut response = String::new();
        connection.read_to_string(&mut response).unwrap();
        let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        let accounts = json["account_details"].as_array().cloned().unwrap_or_default();
        let found = accounts
            .iter()
            .flat_map(|a| a["stream_detail"].as_array().cloned().unwrap_or_default())
            .find(|s| s["name"] == stream);
        found.map_or(0, |s| s["state"]["messages"].as_u64().unwrap_or(0))
    }
}

/// The seeds' five attack tests (Sysmon) among `hosts` × `per_host` generated process creations
/// (services starting services, nothing a rule wants), in time order per host.
fn events(dir: &Path, hosts: usize, per_host: usize) -> PathBuf {
    let path = dir.join("events.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for name in std::fs::read_dir(repo().join("rules/selftest")).unwrap() {
        let path = name.unwrap().path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                writeln!(out, "{line}").unwrap();
            }
        }
    }
    for i in 0..per_host {
        for h in 0..hosts {
            let event = serde_json::json!({
                "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
                "Computer": format!("host{h:03}.corp.example"),
                "UtcTime": format!("2026-11-02 {:02}:{:02}:{:02}.000", 8 + i / 3600, i / 60 % 60, i % 60),
                "ProcessGuid": format!("{{00000000-0000-0000-{h:04}-{i:012}}}"),
                "ParentImage": "C:\\Windows\\System32\\services.exe",
                "Image": "C:\\Windows\\System32\\svchost.exe",
                "CommandLine": format!("svchost.exe -k netsvcs -p -s Svc{i}"),
            });
            writeln!(out, "{event}").unwrap();
        }
    }
    out.flush().unwrap();
    path
}

fn shellward(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shellward"));
    command.current_dir(dir);
    command
}

fn ids(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn hunt_ids(dir: &Path, events: &Path) -> BTreeSet<String> {
    let out = shellward(dir).args(["hunt", "-f", "jsonl"]).arg(events).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    ids(&text(&out.stdout)).into_iter().collect()
}

fn ship(dir: &Path, server: &Server, events: &Path) {
    let out = shellward(dir)
        .args(["ship", "--once", "--to", &server.url(), "--state", "ship.state"])
        .arg(events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn worker(dir: &Path, server: &Server, name: &str, idle: &str) -> Child {
    shellward(dir)
        .args(["watch", "--from", &server.url(), "--worker-id", name, "--exit-idle", idle])
        .args(["-f", "jsonl", "--poll-ms", "200", "--checkpoint-every", "1s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> Vec<String> {
    let out = child.wait_with_output().unwrap();
    ids(&text(&out.stdout))
}

#[test]
fn two_workers_find_what_a_hunt_finds() {
    let Some(binary) = server_binary() else { return };
    let server = start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let events = events(dir.path(), 40, 100);
    let expected = hunt_ids(dir.path(), &events);
    assert_eq!(expected.len(), 14, "{expected:?}");
    ship(dir.path(), &server, &events);
    // Shipping again (a restart without its state) adds nothing: the stream drops duplicates.
    let again = shellward(dir.path())
        .args(["ship", "--once", "--to", &server.url()])
        .arg(&events)
        .output()
        .unwrap();
    assert!(text(&again.stderr).contains("already there"), "{}", text(&again.stderr));
    assert_eq!(server.messages("SHELLWARD"), 4014);
    two_workers_agree_with_hunt(dir.path(), &server, &expected);
}

/// Two workers read the whole stream: together they write `expected`, each alert once, and the
/// alert stream holds each once.
fn two_workers_agree_with_hunt(dir: &Path, server: &Server, expected: &BTreeSet<String>) {
    let (a, b) = (worker(dir, server, "a", "4s"), worker(dir, server, "b", "4s"));
    let (a, b) = (finish(a), finish(b));
    let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
    all.sort();
    let unique: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), unique.len(), "an alert written twice");
    assert_eq!(&unique, expected);
    assert_eq!(server.messages("SHELLWARD_ALERTS"), expected.len() as u64);
}

/// The issue's scale: the attack tests among 1,000,000 events from 200 hosts, shipped, detected
/// by two workers (their checkpoints, chunked, hold the lineage of 5,000 processes per host).
#[test]
fn a_million_events_from_200_hosts() {
    let Some(binary) = server_binary() else { return };
    let server = start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let events = events(dir.path(), 200, 5000);
    let expected = hunt_ids(dir.path(), &events);
    assert_eq!(expected.len(), 14, "{expected:?}");
    ship(dir.path(), &server, &events);
    assert_eq!(server.messages("SHELLWARD"), 1_000_014);
    two_workers_agree_with_hunt(dir.path(), &server, &expected);
}

#[test]
fn a_worker_killed_mid_stream_loses_nothing() {
    let Some(binary) = server_binary() else { return };
    let server = start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let events = events(dir.path(), 40, 250);
    let expected = hunt_ids(dir.path(), &events);
    let mut victim = worker(dir.path(), &server, "victim", "30s");
    // The victim takes every partition, and is killed while the events arrive.
    std::thread::sleep(Duration::from_millis(1500));
    let shipping = shellward(dir.path())
        .args(["ship", "--once", "--to", &server.url()])
        .arg(&events)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    victim.kill().unwrap();
    let _ = victim.wait();
    assert!(shipping.wait_with_output().unwrap().status.success());
    // The survivor takes the partitions over once their leases expire.
    let survivor = finish(worker(dir.path(), &server, "survivor", "10s"));
    let survivor: BTreeSet<String> = survivor.into_iter().collect();
    // Every alert is in the alert stream once: what the victim published before dying, and what
    // the survivor decided after its last checkpoint (a repeat the stream dropped).
    assert_eq!(server.messages("SHELLWARD_ALERTS"), expected.len() as u64);
    assert!(survivor.is_subset(&expected));
}

/// A server that wants a token: the wrong one is refused at once with the server's reason, the
/// right one ships; a worker serves its metrics and health while it runs.
#[test]
fn token_authentication_and_metrics() {
    let Some(binary) = server_binary() else { return };
    let server = start_with(&binary, &["--auth".as_ref(), "s3cret".as_ref()]);
    let dir = tempfile::tempdir().unwrap();
    let events = events(dir.path(), 2, 10);
    let started = Instant::now();
    let wrong = shellward(dir.path())
        .args(["ship", "--once", "--to", &server.url(), "--token", "nope"])
        .arg(&events)
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong.stderr));
    assert!(text(&wrong.stderr).contains("authorization violation"), "{}", text(&wrong.stderr));
    assert!(started.elapsed() < Duration::from_secs(10));
    let right = shellward(dir.path())
        .args(["ship", "--once", "--to", &server.url(), "--token", "s3cret"])
        .arg(&events)
        .output()
        .unwrap();
    assert!(right.status.success(), "{}", text(&right.stderr));
    let metrics = free_port();
    let worker = shellward(dir.path())
        .args(["watch", "--from", &server.url(), "--token", "s3cret", "--exit-idle", "3s"])
        .args(["-f", "jsonl", "--metrics", &format!("127.0.0.1:{metrics}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let get = |path: &str| -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut connection) = std::net::TcpStream::connect(("127.0.0.1", metrics)) {
                write!(connection, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
                let mut response = String::new();
                let _ = connection.read_to_string(&mut response);
                if response.contains("shellward_events_total 34") || path != "/metrics" {
                    return response;
                }
            }
            assert!(Instant::now() < deadline, "no metrics");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let body = get("/metrics");
    assert!(body.contains("shellward_alerts_total{level=\"critical\"}"), "{body}");
    assert!(body.contains("shellward_consumer_lag"), "{body}");
    assert!(get("/healthz").starts_with("HTTP/1.0 200"));
    assert_eq!(finish(worker).len(), 14);
}

/// The server killed and restarted (file storage) while a worker runs and events arrive: the
/// worker reconnects, takes its partitions again from their checkpoints, and every alert is in
/// the alert stream once.
#[test]
fn the_server_restarted_mid_stream_loses_nothing() {
    let Some(binary) = server_binary() else { return };
    let mut server = start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let first = events(dir.path(), 20, 100);
    let expected_first = hunt_ids(dir.path(), &first);
    std::fs::rename(&first, dir.path().join("first.jsonl")).unwrap();
    ship(dir.path(), &server, &dir.path().join("first.jsonl"));
    let worker = worker(dir.path(), &server, "w", "20s");
    std::thread::sleep(Duration::from_millis(1500));
    server.restart(&binary);
    // More events after the restart, on other hosts: the stream kept the first ones.
    let mut second = Vec::new();
    for h in 0..10 {
        second.push(
            serde_json::json!({
                "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
                "Computer": format!("late{h}.corp.example"),
                "UtcTime": "2026-11-03 10:00:00.000",
                "ProcessGuid": format!("{{10000000-0000-0000-0000-{h:012}}}"),
                "ParentImage": "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
                "Image": "C:\\Windows\\System32\\cmd.exe",
                "CommandLine": "cmd.exe /c whoami",
            })
            .to_string(),
        );
    }
    let second_path = dir.path().join("second.jsonl");
    std::fs::write(&second_path, second.join("\n") + "\n").unwrap();
    let expected_second = hunt_ids(dir.path(), &second_path);
    assert_eq!(expected_second.len(), 10);
    ship(dir.path(), &server, &second_path);
    let _ = finish(worker);
    assert_eq!(server.messages("SHELLWARD"), 2014 + 10);
    assert_eq!(
        server.messages("SHELLWARD_ALERTS"),
        (expected_first.len() + expected_second.len()) as u64
    );
}

/// Three JetStream servers clustered on loopback, the stream and buckets replicated three times:
/// one server killed mid-stream (the one the shipper and worker connected to first), nothing lost.
#[test]
fn a_three_server_cluster_loses_nothing_when_one_dies() {
    let Some(binary) = server_binary() else { return };
    let ports: Vec<(u16, u16, u16)> =
        (0..3).map(|_| (free_port(), free_port(), free_port())).collect();
    let routes: Vec<String> =
        ports.iter().map(|(_, _, cluster)| format!("nats://127.0.0.1:{cluster}")).collect();
    let stores: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut servers: Vec<Child> = ports
        .iter()
        .zip(&stores)
        .enumerate()
        .map(|(i, ((port, monitor, cluster), store))| {
            Command::new(&binary)
                .args([
                    "-js",
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-m",
                    &monitor.to_string(),
                ])
                .args(["--server_name", &format!("n{i}"), "--cluster_name", "shellward"])
                .args([
                    "--cluster",
                    &format!("nats://127.0.0.1:{cluster}"),
                    "--routes",
                    &routes.join(","),
                ])
                .arg("-sd")
                .arg(store.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let urls: Vec<String> = ports.iter().map(|(p, _, _)| format!("nats://127.0.0.1:{p}")).collect();
    let url = urls.join(",");
    for (port, _, _) in &ports {
        while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let events = events(dir.path(), 20, 100);
    let expected = hunt_ids(dir.path(), &events);
    // The cluster elects its meta leader before it takes streams: retry the first ship a while.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = shellward(dir.path())
            .args(["ship", "--once", "--replicas", "3", "--to", &url, "--state", "ship.state"])
            .arg(&events)
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "{}", text(&out.stderr));
        std::thread::sleep(Duration::from_millis(500));
    }
    let worker = shellward(dir.path())
        .args([
            "watch",
            "--from",
            &url,
            "--replicas",
            "3",
            "--worker-id",
            "w",
            "--exit-idle",
            "15s",
        ])
        .args(["-f", "jsonl", "--poll-ms", "200", "--checkpoint-every", "1s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = servers[0].kill();
    let _ = servers[0].wait();
    let out = worker.wait_with_output().unwrap();
    let found: BTreeSet<String> = ids(&text(&out.stdout)).into_iter().collect();
    assert!(found.is_subset(&expected));
    let survivor = Server {
        child: servers.remove(1),
        port: ports[1].0,
        monitor: ports[1].1,
        _store: tempfile::tempdir().unwrap(),
    };
    assert_eq!(survivor.messages("SHELLWARD"), 2014, "{}", text(&out.stderr));
    assert_eq!(
        survivor.messages("SHELLWARD_ALERTS"),
        expected.len() as u64,
        "{}",
        text(&out.stderr)
    );
    for mut server in servers {
        let _ = server.kill();
        let _ = server.wait();
    }
}

/// The stderr closing note's "largest N bytes" of a worker.
fn largest_checkpoint(stderr: &str) -> u64 {
    let Some(at) = stderr.find("(largest ") else { panic!("no closing note: {stderr}") };
    let at = at + "(largest ".len();
    stderr[at..].split(' ').next().unwrap().parse().unwrap()
}

/// A partition's state larger than the server's largest message (`max_payload`, 64 KiB here:
/// the lineage of 4,000 processes) is stored in chunks: a second worker resumes from it, so it
/// reads nothing again and repeats no alert. (Stored whole, the checkpoint is refused, and the
/// second worker reads the partition from the start and writes every alert again.)
#[test]
fn a_checkpoint_larger_than_a_message_is_stored_in_chunks() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.conf");
    std::fs::write(&config, "max_payload: 65536\n").unwrap();
    let server = start_with(&binary, &["-c".as_ref(), config.as_os_str()]);
    let events = events(dir.path(), 40, 100);
    let expected = hunt_ids(dir.path(), &events);
    let out = shellward(dir.path())
        .args(["ship", "--once", "--partitions", "1", "--to", &server.url()])
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = |name: &str| {
        shellward(dir.path())
            .args(["watch", "--from", &server.url(), "--partitions", "1", "--worker-id", name])
            .args(["--exit-idle", "3s", "-f", "jsonl", "--poll-ms", "200"])
            .output()
            .unwrap()
    };
    let first = run("first");
    let stderr = text(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert_eq!(ids(&text(&first.stdout)).into_iter().collect::<BTreeSet<_>>(), expected);
    assert!(largest_checkpoint(&stderr) > 65536, "{stderr}");
    assert!(!stderr.contains("could not be written"), "{stderr}");
    let second = run("second");
    let stderr = text(&second.stderr);
    assert!(ids(&text(&second.stdout)).is_empty(), "{stderr}");
    assert!(stderr.contains("worker second: 0 event(s)"), "{stderr}");
}

/// Mutual TLS (a CA, server and client certificates made with `openssl`) and nkey
/// authentication: no client certificate or a wrong nkey are refused at once; the right ones
/// ship and detect.
#[test]
fn tls_with_client_certificates_and_nkeys() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(d).output();
        match out {
            Ok(out) if out.status.success() => true,
            Ok(out) => panic!("openssl {args:?}: {}", text(&out.stderr)),
            Err(e) => {
                eprintln!("SKIPPED: no openssl to make certificates ({e})");
                false
            }
        }
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    if !openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=shellward test CA",
                "-days",
                "2",
            ],
        ]
        .concat(),
    ) {
        return;
    }
    for (name, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
        std::fs::write(
            d.join(format!("{name}.ext")),
            format!("subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n"),
        )
        .unwrap();
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        openssl(
            &[&["req"][..], &ec, &["-keyout", &key, "-out", &csr, "-subj", "/CN=127.0.0.1"]]
                .concat(),
        );
        openssl(&[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            &pem,
            "-extfile",
            &format!("{name}.ext"),
        ]);
    }
    let user = nkeys::KeyPair::new_user();
    std::fs::write(d.join("user.nk"), user.seed().unwrap()).unwrap();
    std::fs::write(d.join("stranger.nk"), nkeys::KeyPair::new_user().seed().unwrap()).unwrap();
    let config = d.join("server.conf");
    std::fs::write(
        &config,
        format!(
            "tls {{ cert_file: \"{0}/server.pem\", key_file: \"{0}/server.key\", ca_file: \"{0}/ca.pem\", verify: true }}\n\
             authorization {{ users = [ {{ nkey: \"{1}\" }} ] }}\n",
            d.display(),
            user.public_key()
        ),
    )
    .unwrap();
    let server = start_with(&binary, &["-c".as_ref(), config.as_os_str()]);
    let events = events(d, 2, 10);
    let tls = ["--tls", "--tls-ca", "ca.pem"];
    let client_cert = ["--tls-cert", "client.pem", "--tls-key", "client.key"];
    let ship = |extra: &[&str]| {
        let started = Instant::now();
        let out = shellward(d)
            .args(["ship", "--once", "--to", &server.url()])
            .args(extra)
            .arg(&events)
            .output()
            .unwrap();
        (out, started.elapsed())
    };
    let (no_cert, took) = ship(&[&tls[..], &["--nkey", "user.nk"]].concat());
    assert_eq!(no_cert.status.code(), Some(2), "{}", text(&no_cert.stderr));
    assert!(took < Duration::from_secs(20), "{took:?} {}", text(&no_cert.stderr));
    let (stranger, took) = ship(&[&tls[..], &client_cert, &["--nkey", "stranger.nk"]].concat());
    assert_eq!(stranger.status.code(), Some(2), "{}", text(&stranger.stderr));
    assert!(
        text(&stranger.stderr).contains("authorization violation"),
        "{}",
        text(&stranger.stderr)
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    let (right, _) = ship(&[&tls[..], &client_cert, &["--nkey", "user.nk"]].concat());
    assert!(right.status.success(), "{}", text(&right.stderr));
    let worker = shellward(d)
        .args(["watch", "--from", &server.url(), "--nkey", "user.nk", "--exit-idle", "3s"])
        .args(tls)
        .args(client_cert)
        .args(["-f", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(ids(&text(&worker.stdout)).len(), 14, "{}", text(&worker.stderr));
}

/// `ship --host` names the host of events that name none, so they land in that host's partition
/// and their alerts carry it; a worker says which correlations do not group by host.
#[test]
fn ship_names_the_host_of_hostless_events() {
    let Some(binary) = server_binary() else { return };
    let server = start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let event = serde_json::json!({
        "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
        "UtcTime": "2026-11-03 10:00:00.000",
        "ProcessGuid": "{30000000-0000-0000-0000-000000000001}",
        "ParentImage": "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "CommandLine": "cmd.exe /c whoami",
    });
    let path = dir.path().join("hostless.jsonl");
    std::fs::write(&path, format!("{event}\n")).unwrap();
    let out = shellward(dir.path())
        .args(["ship", "--once", "--host", "web07.corp.example", "--to", &server.url()])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = shellward(dir.path())
        .args(["watch", "--from", &server.url(), "--exit-idle", "3s", "-f", "jsonl"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(!stdout.is_empty(), "{stderr}");
    for line in stdout.lines() {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(alert["host"], "web07.corp.example", "{line}");
    }
    assert!(stderr.contains("does not group by host"), "{stderr}");
}

/// A server with a user and password: a wrong password is refused at once, the right one ships.
#[test]
fn user_and_password_authentication() {
    let Some(binary) = server_binary() else { return };
    let server = start_with(
        &binary,
        &["--user".as_ref(), "shell".as_ref(), "--pass".as_ref(), "w4rd".as_ref()],
    );
    let dir = tempfile::tempdir().unwrap();
    let events = events(dir.path(), 1, 2);
    let ship = |password: &str| {
        let started = Instant::now();
        let out = shellward(dir.path())
            .args([
                "ship",
                "--once",
                "--to",
                &server.url(),
                "--user",
                "shell",
                "--password",
                password,
            ])
            .arg(&events)
            .output()
            .unwrap();
        (out, started.elapsed())
    };
    let (wrong, took) = ship("nope");
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong.stderr));
    assert!(text(&wrong.stderr).contains("authorization violation"), "{}", text(&wrong.stderr));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let (right, _) = ship("w4rd");
    assert!(right.status.success(), "{}", text(&right.stderr));
    assert_eq!(server.messages("SHELLWARD"), 16);
}

/// Base64 URL-safe without padding, as NATS JWTs are written.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// A NATS JWT: `claims` (with `iss`, `sub`, `iat` and `jti` added) signed by `issuer`.
fn jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    let header = base64url(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let claims = serde_json::json!({
        "jti": format!("{name}{}", subject.len()), "iat": 1_790_000_000, "iss": issuer.public_key(),
        "name": name, "sub": subject, "nats": nats,
    });
    let body = base64url(claims.to_string().as_bytes());
    let signature = issuer.sign(format!("{header}.{body}").as_bytes()).unwrap();
    format!("{header}.{body}.{}", base64url(&signature))
}

/// A credentials file (`nsc`'s format: a user JWT and its nkey seed) against a server in operator
/// mode, whose account JWT enables JetStream: ship and detect work; a user signed by another
/// account is refused at once.
#[test]
fn credentials_file_authentication() {
    let Some(binary) = server_binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let operator = nkeys::KeyPair::new_operator();
    let account = nkeys::KeyPair::new_account();
    let user = nkeys::KeyPair::new_user();
    let operator_jwt = jwt(
        &operator,
        &operator.public_key(),
        "op",
        serde_json::json!({"type": "operator", "version": 2}),
    );
    let limits = serde_json::json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": true,
        "conn": -1, "leaf": -1, "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1,
    });
    let account_jwt = jwt(
        &operator,
        &account.public_key(),
        "shellward",
        serde_json::json!({"limits": limits, "type": "account", "version": 2}),
    );
    // JetStream needs a system account.
    let system = nkeys::KeyPair::new_account();
    let system_jwt = jwt(
        &operator,
        &system.public_key(),
        "SYS",
        serde_json::json!({"type": "account", "version": 2}),
    );
    let user_nats = serde_json::json!({"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1, "type": "user", "version": 2});
    let creds = |issuer: &nkeys::KeyPair, path: &str| {
        let user_jwt = jwt(issuer, &user.public_key(), "worker", user_nats.clone());
        std::fs::write(
            d.join(path),
            format!(
                "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
                 -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
                user.seed().unwrap()
            ),
        )
        .unwrap();
    };
    creds(&account, "user.creds");
    creds(&nkeys::KeyPair::new_account(), "stranger.creds");
    let config = d.join("server.conf");
    std::fs::write(
        &config,
        format!(
            "operator: {operator_jwt}\nsystem_account: {1}\nresolver: MEMORY\nresolver_preload: {{\n  {0}: {account_jwt}\n  {1}: {system_jwt}\n}}\n",
            account.public_key(),
            system.public_key()
        ),
    )
    .unwrap();
    let server = start_with(&binary, &["-c".as_ref(), config.as_os_str()]);
    let events = events(d, 2, 10);
    let ship = |creds: &str| {
        let started = Instant::now();
        let out = shellward(d)
            .args(["ship", "--once", "--to", &server.url(), "--creds", creds])
            .arg(&events)
            .output()
            .unwrap();
        (out, started.elapsed())
    };
    let (stranger, took) = ship("stranger.creds");
    assert_eq!(stranger.status.code(), Some(2), "{}", text(&stranger.stderr));
    assert!(took < Duration::from_secs(10), "{took:?}: {}", text(&stranger.stderr));
    let (right, _) = ship("user.creds");
    assert!(right.status.success(), "{}", text(&right.stderr));
    let worker = shellward(d)
        .args(["watch", "--from", &server.url(), "--creds", "user.creds", "--exit-idle", "3s"])
        .args(["-f", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(ids(&text(&worker.stdout)).len(), 14, "{}", text(&worker.stderr));
}
