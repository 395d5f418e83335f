//! Prometheus metrics and a health check over plain HTTP (`GET /metrics`, `GET /healthz`), served
//! from a thread of its own: one request at a time is plenty for a scraper and a probe.

use crate::worker::WorkerReport;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The metrics text of a worker's report.
pub fn render(report: &WorkerReport) -> String {
    let get = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        out.push_str(&format!("# HELP shellward_{name} {help}\n# TYPE shellward_{name} {kind}\n"));
        for (labels, value) in samples {
            out.push_str(&format!("shellward_{name}{labels} {value}\n"));
        }
    };
    metric("events_total", "counter", "Events read from the stream.", &[("", get(&report.events))]);
    metric(
        "decode_errors_total",
        "counter",
        "Stream messages that were not events.",
        &[("", get(&report.bad_events))],
    );
    let levels = ["informational", "low", "medium", "high", "critical"];
    let by_level: Vec<(String, u64)> = levels
        .iter()
        .zip(&report.alerts_by_level)
        .map(|(level, count)| (format!("{{level=\"{level}\"}}"), get(count)))
        .collect();
    let by_level: Vec<(&str, u64)> = by_level.iter().map(|(l, c)| (l.as_str(), *c)).collect();
    metric("alerts_total", "counter", "Alerts published, by level.", &by_level);
    metric("partitions_held", "gauge", "Partitions this worker holds.", &[("", get(&report.held))]);
    metric(
        "partitions_taken_total",
        "counter",
        "Partitions taken (takeovers included).",
        &[("", get(&report.taken))],
    );
    metric(
        "checkpoints_total",
        "counter",
        "Checkpoints written.",
        &[("", get(&report.checkpoints))],
    );
    metric(
        "checkpoint_errors_total",
        "counter",
        "Checkpoints that could not be written, or read at a takeover.",
        &[("", get(&report.checkpoint_errors))],
    );
    metric(
        "checkpoint_bytes",
        "gauge",
        "The largest checkpoint written, in bytes.",
        &[("", get(&report.checkpoint_bytes))],
    );
    let lag = get(&report.stream_sequence).saturating_sub(get(&report.last_sequence));
    metric(
        "consumer_lag",
        "gauge",
        "Stream sequences between the stream's last message and the last one this worker read.",
        &[("", lag)],
    );
    let last = get(&report.last_checkpoint_ms);
    let age = if last == 0 { 0 } else { now_ms().saturating_sub(last) / 1000 };
    metric(
        "checkpoint_age_seconds",
        "gauge",
        "Seconds since the last checkpoint (0 before the first).",
        &[("", age)],
    );
    out
}

/// Serves `/metrics` and `/healthz` on `address` until `stop` is set.
pub fn serve(address: SocketAddr, report: &WorkerReport, stop: &AtomicBool) -> std::io::Result<()> {
    let listener = TcpListener::bind(address)?;
    listener.set_nonblocking(true)?;
    while !stop.load(Ordering::Relaxed) {
        let mut connection = match listener.accept() {
            Ok((connection, _)) => connection,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(_) => continue,
        };
        let _ = connection.set_nonblocking(false);
        let _ = connection.set_read_timeout(Some(Duration::from_secs(2)));
        let mut request = [0u8; 1024];
        let read = connection.read(&mut request).unwrap_or(0);
        let line = String::from_utf8_lossy(&request[..read]);
        let (status, body) = if line.starts_with("GET /metrics") {
            ("200 OK", render(report))
        } else if line.starts_with("GET /healthz") {
            if report.connected.load(Ordering::Relaxed) {
                ("200 OK", "ok\n".to_owned())
            } else {
                ("503 Service Unavailable", "not connected\n".to_owned())
            }
        } else {
            ("404 Not Found", "try /metrics or /healthz\n".to_owned())
        };
        let _ = write!(
            connection,
            "HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    }
    Ok(())
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
