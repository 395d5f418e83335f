//! `scan --write-baseline` then `scan --baseline`: every kind of drift the baseline exists for,
//! made on a real tree (add, modify, delete, timestomp, symlink escape, a new IIS module, a new
//! web application) and nothing reported on a tree that did not change.

#![allow(clippy::unwrap_used)]

mod common;

use common::{run_in, text};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The (rule id, path) of each finding of a JSON lines scan.
fn findings(stdout: &[u8]) -> Vec<(String, String)> {
    text(stdout)
        .lines()
        .map(|l| {
            let alert: serde_json::Value = serde_json::from_str(l).unwrap();
            let rule = alert["rule"]["id"].as_str().unwrap().to_owned();
            let path = alert["file"]["path"].as_str().unwrap();
            let name = alert["event"]["ComponentName"].as_str();
            (rule, name.map_or_else(|| path.rsplit('/').next().unwrap().to_owned(), str::to_owned))
        })
        .collect()
}

const APPLICATION_HOST: &str = "<configuration><system.webServer><globalModules>\n\
    <add name=\"StaticFileModule\" image=\"%windir%\\System32\\inetsrv\\static.dll\" />\n\
    </globalModules></system.webServer></configuration>\n";

fn tree(root: &Path) {
    for dir in ["www/uploads", "inetsrv/config", "tomcat/webapps/ROOT/WEB-INF"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::write(root.join("www/index.php"), "<?php echo 'home'; ?>").unwrap();
    std::fs::write(root.join("www/about.php"), "<?php echo 'about'; ?>").unwrap();
    std::fs::write(root.join("www/contact.php"), "<?php echo 'contact'; ?>").unwrap();
    std::fs::write(root.join("www/uploads/logo.png"), b"\x89PNG\r\n").unwrap();
    std::fs::write(root.join("inetsrv/config/applicationHost.config"), APPLICATION_HOST).unwrap();
    std::fs::write(root.join("tomcat/webapps/ROOT/WEB-INF/web.xml"), "<web-app/>").unwrap();
}

#[test]
fn drift_since_the_baseline_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    tree(&root);
    let baseline = dir.path().join("baseline.json");
    let write = run_in(dir.path(), &["scan", "root", "--write-baseline", "baseline.json"]);
    assert_eq!(write.status.code(), Some(0), "{}", text(&write.stderr));
    assert!(text(&write.stderr).contains("baseline of 6 file(s) and 2 component(s)"));
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&baseline).unwrap()).unwrap();
    assert_eq!(recorded["format"], "shellward-baseline");
    assert_eq!(recorded["version"], 1);
    assert_eq!(recorded["files"][0]["sha256"].as_str().unwrap().len(), 64);

    // Nothing changed: nothing reported.
    let same = run_in(dir.path(), &["scan", "root", "--baseline", "baseline.json", "-f", "jsonl"]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert_eq!(findings(&same.stdout), []);

    // ctime has a clock tick's resolution: let the changes fall after the baseline.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(root.join("www/new.php"), "<?php echo 'new'; ?>").unwrap();
    std::fs::write(root.join("www/uploads/x.php"), "<?php echo 1; ?>").unwrap();
    std::fs::write(root.join("www/uploads/photo.jpg"), b"\xff\xd8\xff").unwrap();
    std::fs::write(root.join("www/about.php"), "<?php echo 'about us'; ?>").unwrap();
    std::fs::remove_file(root.join("www/contact.php")).unwrap();
    // Changed, then its time set back a day (as `touch -d` would).
    std::fs::write(root.join("www/index.php"), "<?php echo 'home'; include 'x'; ?>").unwrap();
    let day_ago = SystemTime::now() - Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(root.join("www/index.php"))
        .unwrap()
        .set_modified(day_ago)
        .unwrap();
    std::os::unix::fs::symlink("/etc", root.join("www/etc")).unwrap();
    let config = APPLICATION_HOST.replace(
        "</globalModules>",
        "<add name=\"Telemetry\" image=\"C:\\Windows\\System32\\inetsrv\\tele.dll\" />\n</globalModules>",
    );
    std::fs::write(root.join("inetsrv/config/applicationHost.config"), config).unwrap();
    std::fs::write(root.join("tomcat/webapps/cmd.war"), b"PK\x03\x04").unwrap();

    let drift = run_in(
        dir.path(),
        &["scan", "root", "--baseline", "baseline.json", "-f", "jsonl", "--fail-on", "high"],
    );
    assert_eq!(drift.status.code(), Some(1), "{}", text(&drift.stderr));
    let mut found = findings(&drift.stdout);
    found.sort();
    let expected = [
        ("shellward-baseline-changed-script", "about.php"),
        ("shellward-baseline-changed-script", "index.php"),
        ("shellward-baseline-new-component", "Telemetry"),
        ("shellward-baseline-new-script", "new.php"),
        ("shellward-baseline-new-upload-file", "x.php"),
        ("shellward-baseline-new-upload-file-other", "photo.jpg"),
        ("shellward-baseline-new-webapp", "cmd.war"),
        ("shellward-baseline-removed-script", "contact.php"),
        ("shellward-baseline-timestomp", "index.php"),
        ("shellward-scan-symlink-escape", "etc"),
    ];
    let expected: Vec<(String, String)> =
        expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    assert_eq!(found, expected);
}

#[test]
fn a_baseline_of_another_format_or_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.php"), "<?php ?>").unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        r#"{"format":"shellward-baseline","version":99,"created_ns":0}"#,
    )
    .unwrap();
    let out = run_in(dir.path(), &["scan", "a.php", "--baseline", "b.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("version 99"), "{}", text(&out.stderr));
}
