//! A directory holding every format at once, under names that say nothing (no extensions): each
//! file is sniffed on its own and decoded by the right decoder, and none is refused.

#![allow(clippy::unwrap_used)]

mod common;

use shellward_event::Format;
use shellward_sources::{ReadOptions, collect};

#[test]
fn every_format_in_one_directory_is_sniffed_file_by_file() {
    let Some(examples) = shellward_testdata::shared("reference/examples") else { return };
    let files = [
        (common::fixture("mssql_15457_xp_cmdshell_enabled.evtx"), Format::Evtx),
        (
            examples.join("sysmon_windows/eid11_file_create_system_smb.evtx_crate_0.15.1.json"),
            Format::EvtxJson,
        ),
        (examples.join("sysmon_windows/eid11_file_create_system_smb.xml"), Format::EvtxXml),
        (examples.join("winlogbeat_ecs/sysmon_eid1_processcreate.ecs.json"), Format::Winlogbeat),
        (
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../samples/iis_webshell_sysmon.jsonl"),
            Format::FlatJson,
        ),
        (examples.join("esxi/shell_log_via_syslog.splunk_security_content.log"), Format::EsxiLog),
        (examples.join("web_access_logs/iis_w3c_tunna_webshell_head40.log"), Format::W3cLog),
        (examples.join("web_access_logs/iis_w3c_no_header_lines.elastic_test.log"), Format::W3cLog),
        (examples.join("web_access_logs/nginx_combined.elastic_test.log"), Format::AccessLog),
        (
            examples.join("web_access_logs/tomcat_clf_jsp_webshell_upload_tail40.log"),
            Format::AccessLog,
        ),
        (
            examples.join("defender_endpoint/DeviceProcessEvents.streaming_record.json"),
            Format::Defender,
        ),
        (
            examples.join("defender_endpoint/eventhub_message_CONSTRUCTED_records_wrapper.json"),
            Format::Defender,
        ),
        (common::fixture("defender_advanced_hunting_export.csv"), Format::Defender),
        (examples.join("crowdstrike_fdr/ProcessRollup2_linux.json"), Format::FalconFdr),
        (examples.join("crowdstrike_fdr/NewScriptWritten_mac.json"), Format::FalconFdr),
        (examples.join("linux_auditd/execve_event_group_serial_93777.log"), Format::Auditd),
        (examples.join("linux_auditd/ausearch_interpreted_format.log"), Format::Auditd),
        (
            examples.join("linux_auditd/auoms_execve_tomcat_java_spawns_bash.sentinel_syslog.json"),
            Format::Auditd,
        ),
        (examples.join("sysmon_linux/eid1_syslog_line.log"), Format::EvtxXml),
    ];
    for format in shellward_sources::FORMATS {
        let covered = format == Format::Json || files.iter().any(|(_, f)| *f == format);
        assert!(covered, "no file of format {} in the mixed directory", format.name());
    }
    let dir = tempfile::tempdir().unwrap();
    for (i, (path, _)) in files.iter().enumerate() {
        std::fs::copy(path, dir.path().join(format!("input{i:02}"))).unwrap();
    }
    let got = collect(&[dir.path().to_owned()], &ReadOptions::default());
    assert!(got.problems.is_empty(), "{:?}", got.problem_texts());
    for (i, (path, format)) in files.iter().enumerate() {
        let name = format!("input{i:02}");
        let events: Vec<_> =
            got.events.iter().filter(|e| e.provenance.path.ends_with(&name)).collect();
        assert!(!events.is_empty(), "{}: no events", path.display());
        for event in events {
            assert_eq!(event.provenance.format, *format, "{}", path.display());
        }
    }
}
