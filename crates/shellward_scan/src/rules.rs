//! The scan's own rules: what the walk, the inventories and a baseline comparison find (content
//! rules are YARA's). Each is a [`RuleInfo`] like a Sigma rule's, so findings carry an id, a level
//! and ATT&CK tags in the alert contract.

use shellward_engine::{Level, RuleInfo, RuleLogSource};
use std::sync::Arc;

/// A built-in rule of the scan.
fn rule(id: &str, title: &str, level: Level, technique: &str, description: &str) -> Arc<RuleInfo> {
    Arc::new(RuleInfo {
        id: Some(id.into()),
        name: Some(id.into()),
        title: title.into(),
        level,
        status: None,
        tags: vec!["attack.persistence".into(), format!("attack.{technique}")],
        detection_type: Some("WebRoot_Integrity".into()),
        first_seen: None,
        description: Some(description.into()),
        author: Some("shellward".into()),
        references: Vec::new(),
        falsepositives: Vec::new(),
        investigation: Vec::new(),
        response: Vec::new(),
        fields: Vec::new(),
        logsource: RuleLogSource {
            product: None,
            category: Some("file_scan".into()),
            service: None,
        },
        origin: "builtin:scan".into(),
        line: 0,
    })
}

/// Every rule of the scan that is not YARA's.
pub(crate) struct ScanRules {
    pub(crate) escape: Arc<RuleInfo>,
    pub(crate) too_large: Arc<RuleInfo>,
    iis: Arc<RuleInfo>,
    exchange: Arc<RuleInfo>,
    php: Arc<RuleInfo>,
    module: Arc<RuleInfo>,
    tomcat: Arc<RuleInfo>,
    vib: Arc<RuleInfo>,
    acceptance: Arc<RuleInfo>,
    pub(crate) drift: DriftRules,
}

/// The rules of a comparison with a baseline.
pub(crate) struct DriftRules {
    pub(crate) new_script: Arc<RuleInfo>,
    pub(crate) new_in_upload: Arc<RuleInfo>,
    pub(crate) new_upload_file: Arc<RuleInfo>,
    pub(crate) changed_script: Arc<RuleInfo>,
    pub(crate) removed_script: Arc<RuleInfo>,
    pub(crate) timestomp: Arc<RuleInfo>,
    pub(crate) new_component: Arc<RuleInfo>,
    pub(crate) changed_component: Arc<RuleInfo>,
    pub(crate) removed_component: Arc<RuleInfo>,
    pub(crate) new_webapp: Arc<RuleInfo>,
}

impl ScanRules {
    pub(crate) fn new() -> Self {
        use Level::{High, Informational, Low, Medium};
        ScanRules {
            escape: rule(
                "shellward-scan-symlink-escape",
                "Symbolic Link Out Of A Scanned Root",
                Medium,
                "t1505.003",
                "A link under a web root pointing outside it: a page served through it reads (or runs) files the server should not expose.",
            ),
            too_large: rule(
                "shellward-scan-too-large",
                "Script File Too Large To Scan",
                Low,
                "t1505.003",
                "A script file over the size limit was not read (raise --max-size to scan it).",
            ),
            iis: rule(
                "shellward-scan-iis-module-location",
                "IIS Native Module, ISAPI Filter Or Handler Outside The Server's Directories",
                High,
                "t1505.004",
                "applicationHost.config or web.config loads a native module, ISAPI filter or handler script processor from outside inetsrv, the .NET Framework and Program Files: how IIS backdoors (T1505.004) persist in every worker process.",
            ),
            exchange: rule(
                "shellward-scan-exchange-agent-location",
                "Exchange Transport Agent Outside The Exchange Installation",
                High,
                "t1505.002",
                "agents.config registers a transport agent whose assembly lies outside the Exchange installation (a temp, user, public or ProgramData folder): a mail-flow backdoor (T1505.002).",
            ),
            php: rule(
                "shellward-scan-php-prepend",
                "PHP File Prepended Or Appended To Every Page",
                High,
                "t1505.003",
                "auto_prepend_file or auto_append_file set in a web root (.user.ini, .htaccess) or to a file in a temp or upload folder: code run before or after every page, a web shell no request names.",
            ),
            module: rule(
                "shellward-scan-web-server-module-location",
                "Web Server Module Loaded From Outside Its Module Directories",
                High,
                "t1505.004",
                "LoadModule (Apache) or load_module (nginx) names a module outside the distribution's module directories: a malicious server module (T1505.004) sees every request.",
            ),
            tomcat: rule(
                "shellward-scan-tomcat-valve",
                "Tomcat Valve Or Listener From Outside Tomcat",
                Medium,
                "t1505",
                "server.xml or context.xml adds a valve or listener whose class is not Tomcat's own: a valve sees every request (a known Java web server backdoor); single sign-on and logging products add legitimate ones.",
            ),
            vib: rule(
                "shellward-scan-esxi-community-vib",
                "ESXi VIB At CommunitySupported Acceptance Level",
                High,
                "t1505.006",
                "An installed vSphere Installation Bundle at CommunitySupported level: signed by neither VMware nor a partner, how VIB backdoors (VirtualPita, VirtualPie) were installed (T1505.006).",
            ),
            acceptance: rule(
                "shellward-scan-esxi-acceptance-level",
                "ESXi Host Accepts Unsigned VIBs",
                Medium,
                "t1505.006",
                "The host's acceptance level is CommunitySupported: unsigned VIBs install without --force.",
            ),
            drift: DriftRules {
                new_script: rule(
                    "shellward-baseline-new-script",
                    "New Script File Since The Baseline",
                    Medium,
                    "t1505.003",
                    "A server-side script under a scanned root that the baseline did not have: a deployment, or a web shell written there.",
                ),
                new_in_upload: rule(
                    "shellward-baseline-new-upload-file",
                    "New Script In An Upload Directory Since The Baseline",
                    High,
                    "t1505.003",
                    "A script (or, by its content, a file lying about its extension) new in an upload, temp, cache or aspnet_client folder: where web shells are dropped through upload flaws.",
                ),
                new_upload_file: rule(
                    "shellward-baseline-new-upload-file-other",
                    "New File In An Upload Directory Since The Baseline",
                    Informational,
                    "t1505.003",
                    "A file that is not a script, new in an upload, temp or cache folder: listed so a responder sees what arrived there (the content rules read it if it lies about its extension).",
                ),
                changed_script: rule(
                    "shellward-baseline-changed-script",
                    "Script File Changed Since The Baseline",
                    Medium,
                    "t1505.003",
                    "A server-side script whose content (SHA-256) differs from the baseline's: an update, or code injected into a page.",
                ),
                removed_script: rule(
                    "shellward-baseline-removed-script",
                    "Script File Removed Since The Baseline",
                    Low,
                    "t1505.003",
                    "A server-side script the baseline had is gone.",
                ),
                timestomp: rule(
                    "shellward-baseline-timestomp",
                    "Script Changed Since The Baseline With An Older Modification Time",
                    High,
                    "t1070.006",
                    "A script new or changed since the baseline whose modification time is older than the baseline (while its status change time, which no call sets back, is newer): its time was set back to hide it. Files unpacked or copied with their times kept look the same.",
                ),
                new_component: rule(
                    "shellward-baseline-new-component",
                    "New Server Component Since The Baseline",
                    High,
                    "t1505",
                    "A module, ISAPI filter, handler, transport agent, prepended PHP file, valve or VIB that the baseline's inventories did not list.",
                ),
                changed_component: rule(
                    "shellward-baseline-changed-component",
                    "Server Component Changed Since The Baseline",
                    High,
                    "t1505",
                    "A server component loads another file (or, for a VIB, has another vendor, version or acceptance level) than in the baseline.",
                ),
                removed_component: rule(
                    "shellward-baseline-removed-component",
                    "Server Component Removed Since The Baseline",
                    Low,
                    "t1505",
                    "A server component the baseline listed is no longer configured.",
                ),
                new_webapp: rule(
                    "shellward-baseline-new-webapp",
                    "New Java Web Application Since The Baseline",
                    Medium,
                    "t1505.003",
                    "A WAR or exploded application in Tomcat's webapps that the baseline did not have: a deployment, or a web shell deployed through the manager.",
                ),
            },
        }
    }

    /// The rule of a suspicious component of `kind`.
    pub(crate) fn component(&self, kind: &str) -> Arc<RuleInfo> {
        Arc::clone(match kind {
            "iis_module" | "isapi_filter" | "iis_handler" => &self.iis,
            "exchange_agent" => &self.exchange,
            "php_prepend" => &self.php,
            "tomcat_valve" | "tomcat_listener" => &self.tomcat,
            "esxi_vib" => &self.vib,
            "esxi_acceptance" => &self.acceptance,
            _ => &self.module,
        })
    }
}
