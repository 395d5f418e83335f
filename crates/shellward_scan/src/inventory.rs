//! Server component inventories: what a server loads, read from the files where it is configured,
//! and the checks the seeds ask for on it.
//!
//! | file | components | flagged |
//! |---|---|---|
//! | IIS `applicationHost.config` (and `web.config`) | native modules (`globalModules`), ISAPI filters | a DLL outside the server's own directories (`inetsrv`, the .NET Framework, Program Files) |
//! | Exchange `agents.config` | transport agents | an assembly outside the Exchange installation (a temp, user, public or ProgramData folder, a web root) |
//! | `php.ini`, `.user.ini`, `.htaccess` | `auto_prepend_file`, `auto_append_file` | any prepended or appended file set in a web root (`.user.ini`, `.htaccess`), or one in a temp or upload folder |
//! | Apache `*.conf` (`LoadModule`), nginx `*.conf` (`load_module`) | modules | a module outside the distribution's module directories |
//!
//! Each component is a finding's event (`ComponentType`, `ComponentName`, `ComponentPath`, the
//! configuration file as `TargetFilename`), so a baseline can list them and a hunt can join them.

use quick_xml::events::Event as Xml;
use std::path::Path;

/// One component a server loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// What it is: `iis_module`, `isapi_filter`, `exchange_agent`, `php_prepend`, `apache_module`,
    /// `nginx_module`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The file it loads.
    pub path: String,
    /// The line of the configuration that names it (1-based).
    pub line: u64,
}

/// Whether a file is one the inventories read (by name).
pub fn is_config(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "applicationhost.config" | "agents.config" | "php.ini" | ".user.ini" | ".htaccess"
    ) || (name.ends_with(".conf") && !name.starts_with('.'))
}

/// The components configured in `text`, the content of `path`.
pub fn components(path: &Path, text: &str) -> Vec<Component> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    match name.as_str() {
        "applicationhost.config" => xml_components(text, iis),
        "agents.config" => xml_components(text, exchange),
        "php.ini" | ".user.ini" | ".htaccess" => php_prepends(text),
        _ => module_lines(text),
    }
}

/// What an element names, if it is a component: its kind, name and path.
type Picked = Option<(&'static str, String, String)>;

/// Reads one attribute of the element at hand.
type Attribute<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Walks the XML's elements with their parent's name, collecting what `pick` makes of each.
fn xml_components(text: &str, pick: fn(&str, &str, Attribute<'_>) -> Picked) -> Vec<Component> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        let position = reader.buffer_position();
        let (element, empty) = match reader.read_event() {
            Ok(Xml::Start(e)) => (e, false),
            Ok(Xml::Empty(e)) => (e, true),
            Ok(Xml::End(_)) => {
                stack.pop();
                continue;
            }
            Ok(Xml::Eof) | Err(_) => break,
            Ok(_) => continue,
        };
        let name = element.local_name().as_ref().to_ascii_lowercase();
        let parent = stack.last().cloned().unwrap_or_default();
        let attribute = |wanted: &str| {
            element.attributes().flatten().find_map(|a| {
                let key = a.key.local_name().as_ref().to_ascii_lowercase();
                (key == wanted).then(|| {
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map(|v| v.into_owned())
                        .unwrap_or_default()
                })
            })
        };
        if let Some((kind, name, path)) = pick(&parent, &name, &attribute) {
            let line = 1 + text.as_bytes()[..(position as usize).min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            out.push(Component { kind, name, path, line });
        }
        if !empty {
            stack.push(name);
        }
    }
    out
}

fn iis(parent: &str, element: &str, attribute: Attribute<'_>) -> Picked {
    match (parent, element) {
        ("globalmodules", "add") => Some(("iis_module", attribute("name")?, attribute("image")?)),
        ("isapifilters", "filter") => {
            Some(("isapi_filter", attribute("name")?, attribute("path")?))
        }
        _ => None,
    }
}

fn exchange(parent: &str, element: &str, attribute: Attribute<'_>) -> Picked {
    match (parent, element) {
        ("agents", "agent") => {
            Some(("exchange_agent", attribute("name")?, attribute("assemblypath")?))
        }
        _ => None,
    }
}

/// `auto_prepend_file = x` (php.ini, .user.ini) and `php_value auto_prepend_file x` (.htaccess).
fn php_prepends(text: &str) -> Vec<Component> {
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        let rest = lower.strip_prefix("php_value").map(str::trim_start).unwrap_or(&lower);
        for key in ["auto_prepend_file", "auto_append_file"] {
            if let Some(value) = rest.strip_prefix(key) {
                let offset = line.len() - value.len();
                let value = line[offset..].trim_start_matches([' ', '\t', '=']).trim();
                let value = value.trim_matches(['"', '\'']);
                if !value.is_empty() && !value.eq_ignore_ascii_case("none") {
                    out.push(Component {
                        kind: "php_prepend",
                        name: key.into(),
                        path: value.into(),
                        line: number as u64 + 1,
                    });
                }
            }
        }
    }
    out
}

/// Apache `LoadModule name path` and nginx `load_module path;` lines.
fn module_lines(text: &str) -> Vec<Component> {
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let line = number as u64 + 1;
        match words.as_slice() {
            [directive, name, path, ..] if directive.eq_ignore_ascii_case("LoadModule") => {
                out.push(Component {
                    kind: "apache_module",
                    name: (*name).into(),
                    path: path.trim_matches('"').into(),
                    line,
                });
            }
            [directive, path, ..] if *directive == "load_module" => {
                let path = path.trim_end_matches(';').trim_matches('"');
                let name = path.rsplit('/').next().unwrap_or(path);
                out.push(Component {
                    kind: "nginx_module",
                    name: name.into(),
                    path: path.into(),
                    line,
                });
            }
            _ => {}
        }
    }
    out
}

/// Why a component is suspicious, if it is (see the module documentation).
pub fn suspicious(component: &Component, config: &Path) -> Option<&'static str> {
    let path = component.path.replace('/', "\\").to_ascii_lowercase();
    let posix = component.path.to_ascii_lowercase();
    let in_any = |dirs: &[&str]| dirs.iter().any(|d| path.contains(d));
    match component.kind {
        "iis_module" | "isapi_filter" => (!in_any(&[
            "%windir%\\system32\\inetsrv\\",
            "%systemroot%\\system32\\inetsrv\\",
            "c:\\windows\\system32\\inetsrv\\",
            "%windir%\\syswow64\\inetsrv\\",
            "c:\\windows\\syswow64\\inetsrv\\",
            "\\microsoft.net\\framework",
            "%programfiles%\\",
            "c:\\program files\\",
            "c:\\program files (x86)\\",
        ]))
        .then_some("a native module or ISAPI filter loaded from outside the server's directories"),
        "exchange_agent" => {
            let odd = in_any(&[
                "\\temp\\",
                "\\tmp\\",
                "\\users\\",
                "\\programdata\\",
                "\\public\\",
                "\\inetpub\\",
                "\\appdata\\",
                "\\perflogs\\",
                "\\windows\\tasks\\",
            ]) || !path.contains("exchange");
            odd.then_some("a transport agent assembly outside the Exchange installation")
        }
        "php_prepend" => {
            let file = config.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let in_web_root =
                file.eq_ignore_ascii_case(".user.ini") || file.eq_ignore_ascii_case(".htaccess");
            let odd = [
                "/tmp/",
                "/var/tmp/",
                "/dev/shm/",
                "/upload",
                "/images/",
                "/var/www/",
                "/srv/www/",
                "/public_html/",
            ]
            .iter()
            .any(|d| posix.contains(d));
            (in_web_root || odd).then_some("a PHP file run before or after every page, set in a web root or from an odd folder")
        }
        "apache_module" => {
            let standard = posix.starts_with("modules/")
                || [
                    "/usr/lib/apache2/modules/",
                    "/usr/lib64/httpd/modules/",
                    "/usr/lib/httpd/modules/",
                    "/etc/httpd/modules/",
                    "/usr/local/apache2/modules/",
                    "/opt/rh/",
                ]
                .iter()
                .any(|d| posix.starts_with(d));
            (!standard).then_some("an Apache module loaded from outside the module directories")
        }
        "nginx_module" => {
            let standard = posix.starts_with("modules/")
                || [
                    "/usr/lib/nginx/modules/",
                    "/usr/share/nginx/modules/",
                    "/usr/lib64/nginx/modules/",
                    "/etc/nginx/modules/",
                    "/usr/local/nginx/modules/",
                ]
                .iter()
                .any(|d| posix.starts_with(d));
            (!standard).then_some("an nginx module loaded from outside the module directories")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPLICATION_HOST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.webServer>
    <globalModules>
      <add name="UriCacheModule" image="%windir%\System32\inetsrv\cachuri.dll" />
      <add name="ProtocolSupportModule" image="%windir%\System32\inetsrv\protsup.dll" />
      <add name="IIS-Backdoor" image="C:\Windows\Temp\iisx.dll" />
    </globalModules>
    <isapiFilters>
      <filter name="ASP.Net_4.0_64bit" path="C:\Windows\Microsoft.NET\Framework64\v4.0.30319\aspnet_filter.dll" enableCache="true" />
      <filter name="Owa" path="C:\ProgramData\owa.dll" />
    </isapiFilters>
    <modules>
      <add name="IIS-Backdoor" />
    </modules>
  </system.webServer>
</configuration>"#;

    #[test]
    fn iis_modules_and_filters_outside_inetsrv_are_flagged() {
        let path = Path::new("applicationHost.config");
        let found = components(path, APPLICATION_HOST);
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["UriCacheModule", "ProtocolSupportModule", "IIS-Backdoor", "ASP.Net_4.0_64bit", "Owa"]
        );
        let flagged: Vec<&str> = found
            .iter()
            .filter(|c| suspicious(c, path).is_some())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(flagged, ["IIS-Backdoor", "Owa"]);
        assert_eq!(found[2].line, 7);
    }

    #[test]
    fn exchange_agents_outside_the_installation_are_flagged() {
        let config = r#"<?xml version="1.0" encoding="utf-8"?>
<mexconfig>
  <agents>
    <agent name="Transport Rule Agent" baseType="Microsoft.Exchange.Data.Transport.Routing.RoutingAgentFactory" classFactory="Microsoft.Exchange.MessagingPolicies.TransportRuleAgent.TransportRuleAgentFactory" assemblyPath="C:\Program Files\Microsoft\Exchange Server\V15\TransportRoles\agents\Rule\Microsoft.Exchange.MessagingPolicies.TransportRuleAgent.dll" enabled="true" />
    <agent name="Mail Monitor" baseType="Microsoft.Exchange.Data.Transport.Smtp.SmtpReceiveAgentFactory" classFactory="X.Factory" assemblyPath="C:\Users\Public\mon.dll" enabled="true" />
  </agents>
</mexconfig>"#;
        let path = Path::new("agents.config");
        let found = components(path, config);
        assert_eq!(found.len(), 2);
        let flagged: Vec<&str> = found
            .iter()
            .filter(|c| suspicious(c, path).is_some())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(flagged, ["Mail Monitor"]);
    }

    #[test]
    fn php_prepends_in_web_roots_are_flagged() {
        let ini = "; auto_prepend_file = /tmp/commented.php\nauto_prepend_file =\nauto_append_file = none\n";
        assert!(components(Path::new("php.ini"), ini).is_empty());
        let ini = "auto_prepend_file = \"/usr/share/php/prepend.php\"\n";
        let found = components(Path::new("/etc/php/8.2/apache2/php.ini"), ini);
        assert_eq!(found[0].path, "/usr/share/php/prepend.php");
        assert!(suspicious(&found[0], Path::new("/etc/php/8.2/apache2/php.ini")).is_none());
        let user = components(Path::new(".user.ini"), "auto_prepend_file=x.jpg\n");
        assert!(suspicious(&user[0], Path::new("/var/www/html/.user.ini")).is_some());
        let htaccess = components(
            Path::new(".htaccess"),
            "php_value auto_append_file /var/www/html/up/a.png\n",
        );
        assert_eq!(htaccess[0].name, "auto_append_file");
        assert!(suspicious(&htaccess[0], Path::new("/var/www/html/.htaccess")).is_some());
    }

    #[test]
    fn apache_and_nginx_modules_outside_module_directories_are_flagged() {
        let conf = "LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so\nLoadModule backdoor_module /tmp/mod_bd.so\n# LoadModule x y\n";
        let found = components(Path::new("apache2.conf"), conf);
        assert_eq!(found.len(), 2);
        let path = Path::new("apache2.conf");
        assert!(suspicious(&found[0], path).is_none());
        assert!(suspicious(&found[1], path).is_some());
        let nginx = components(
            Path::new("nginx.conf"),
            "load_module modules/ngx_http_geoip_module.so;\nload_module /var/tmp/ngx_x.so;\n",
        );
        assert!(suspicious(&nginx[0], Path::new("nginx.conf")).is_none());
        assert!(suspicious(&nginx[1], Path::new("nginx.conf")).is_some());
    }
}
