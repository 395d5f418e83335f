//! A generated stream of process creation events, for measuring that lineage stays bounded.
//!
//! `process_stream json N` prints N Sysmon process creations as JSON lines (100 hosts, each a
//! forest of process trees up to seven deep, one process in every 100,000 a w3wp child), to pipe into
//! `shellward hunt -`; `process_stream lineage N` feeds N such events to [`Lineage`] directly and
//! prints what the table holds. Run under `/usr/bin/time -f '%e s %M KB'` for the peak RSS
//! (`scripts/bench`, ONLY=lineage).

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use shellward_engine::Lineage;
use shellward_event::{Event, Format, LogSource, Provenance, Timestamp, Value};
use std::io::Write;

const HOSTS: u64 = 100;
const IMAGES: [&str; 8] = [
    r"C:\Windows\System32\svchost.exe",
    r"C:\Windows\System32\conhost.exe",
    r"C:\Program Files\App\worker.exe",
    r"C:\Windows\System32\taskhostw.exe",
    r"C:\Windows\System32\backgroundTaskHost.exe",
    r"C:\Windows\System32\RuntimeBroker.exe",
    r"C:\Windows\System32\dllhost.exe",
    r"C:\Windows\System32\WmiPrvSE.exe",
];

/// The `n`th process: (host, guid, parent guid, image, command line, milliseconds).
fn process(n: u64) -> (String, String, String, &'static str, String, i64) {
    let host = format!("HOST{:03}", n % HOSTS);
    let per_host = n / HOSTS;
    // The host's first 64 processes are long-lived services with no known parent; after them,
    // every sixth process is a service's child and the others the child of the one before, so
    // chains are up to seven deep and the services are used again and again.
    let parent = match per_host {
        0..64 => u64::MAX,
        _ if per_host.is_multiple_of(6) => (per_host / 6 % 64) * HOSTS + n % HOSTS,
        _ => (per_host - 1) * HOSTS + n % HOSTS,
    };
    let guid = |i: u64| format!("{{{:08x}-0000-4000-8000-{:012x}}}", i % HOSTS, i);
    let image = if n % 100_000 == 99_999 {
        r"C:\Windows\System32\cmd.exe"
    } else if n % 100_000 == 99_999 - HOSTS {
        r"C:\Windows\System32\inetsrv\w3wp.exe"
    } else {
        IMAGES[(n % 8) as usize]
    };
    let line = format!("{image} -k netsvcs -p -s Schedule /id {n} /session 0 /flags 0x{:x}", n * 7);
    (host, guid(n), guid(parent), image, line, i64::try_from(n).unwrap())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "lineage".into());
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000_000);
    let start = 1_793_000_000_000i64;
    if mode == "json" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
        for n in 0..count {
            let (host, guid, parent, image, line, ms) = process(n);
            let time = Timestamp::from_millisecond(start + ms).unwrap();
            let record = serde_json::json!({
                "Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
                "Computer": host, "UtcTime": time.strftime("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                "ProcessGuid": guid, "ParentProcessGuid": parent, "Image": image,
                "CommandLine": line, "User": "NT AUTHORITY\\SYSTEM",
            });
            if writeln!(out, "{record}").is_err() {
                return;
            }
        }
        return;
    }
    let mut lineage = Lineage::default();
    let mut deepest = 0;
    let started = std::time::Instant::now();
    for n in 0..count {
        let (host, guid, parent, image, line, ms) = process(n);
        let provenance = Provenance { path: "stream".into(), record: n, format: Format::Json };
        let mut event = Event::new(provenance);
        event.logsource = LogSource {
            product: Some("windows"),
            category: Some("process_creation"),
            service: Some("sysmon"),
        };
        event.host = Some(host);
        event.time = Timestamp::from_millisecond(start + ms).ok();
        event.insert("ProcessGuid", Value::Str(guid));
        event.insert("ParentProcessGuid", Value::Str(parent));
        event.insert("Image", Value::Str(image.into()));
        event.insert("CommandLine", Value::Str(line));
        lineage.observe(&mut event);
        if let Some(Value::List(chain)) = event.get("AncestorImage") {
            deepest = deepest.max(chain.len());
        }
    }
    println!(
        "{count} events in {:.2} s: {} processes remembered, {} bytes of text, deepest chain {deepest}",
        started.elapsed().as_secs_f64(),
        lineage.len(),
        lineage.bytes()
    );
}
