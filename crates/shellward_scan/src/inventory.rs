//! Server component inventories: what a server loads, read from the files where it is configured,
//! and the checks the seeds ask for on it.
//!
//! | file | components | flagged |
//! |---|---|---|
//! | IIS `applicationHost.config`, `web.config` | native modules (`globalModules`), ISAPI filters, handlers (`scriptProcessor`), managed modules | a DLL outside the server's own directories (`inetsrv`, the .NET Framework, Program Files) |
//! | Exchange `agents.config` | transport agents | an assembly outside the Exchange installation (a temp, user, public or ProgramData folder, a web root) |
//! | `php.ini`, `.user.ini`, `.htaccess` | `auto_prepend_file`, `auto_append_file` | any prepended or appended file set in a web root (`.user.ini`, `.htaccess`), or one in a temp or upload folder |
//! | Apache `*.conf` (`LoadModule`), nginx `*.conf` (`load_module`) | modules | a module outside the distribution's module directories |
//! | Tomcat `server.xml`, `context.xml` | valves, listeners | a class outside Apache's own packages (`org.apache.catalina`, `org.apache.tomcat`, ...): a valve sees every request |
//! | Tomcat `webapps/` | deployed WARs and exploded applications | nothing by itself (a baseline reports new ones) |
//! | ESXi VIB descriptors (`/var/db/esximg/vibs/*.xml`), saved `esxcli software vib list` and `esxcli software acceptance get` output | VIBs with vendor, version and acceptance level; the host's acceptance level | a CommunitySupported (unsigned) VIB; a host that accepts them |
//!
//! Each component is a finding's event (`ComponentType`, `ComponentName`, `ComponentPath`, the
//! configuration file as `TargetFilename`), so a baseline can list them and a hunt can join them.

mod esxi;

use quick_xml::events::Event as Xml;
use std::path::Path;

/// One component a server loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// What it is: `iis_module`, `isapi_filter`, `iis_handler`, `iis_managed_module`,
    /// `exchange_agent`, `php_prepend`, `apache_module`, `nginx_module`, `tomcat_valve`,
    /// `tomcat_listener`, `tomcat_webapp`, `esxi_vib`, `esxi_acceptance`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The file (or class, for Java and .NET components) it loads; for a VIB, its vendor, version
    /// and acceptance level.
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
        "applicationhost.config"
            | "web.config"
            | "agents.config"
            | "php.ini"
            | ".user.ini"
            | ".htaccess"
            | "server.xml"
            | "context.xml"
    ) || (name.ends_with(".conf") && !name.starts_with('.'))
        || is_esxi_inventory(path, &name)
}

/// ESXi's VIB database entries and saved `esxcli software vib list` / `acceptance get` output.
fn is_esxi_inventory(path: &Path, name: &str) -> bool {
    let in_vib_database = path.parent().is_some_and(|p| p.ends_with("esximg/vibs"));
    (in_vib_database && name.ends_with(".xml"))
        || name == "descriptor.xml"
        || (name.contains("vib") && name.contains("list"))
        || (name.contains("acceptance") && !name.ends_with(".xml"))
}

/// The component a file is by being where it is: a WAR in a Tomcat `webapps` directory, or the
/// `WEB-INF/web.xml` of an application deployed there exploded.
pub fn deployed(path: &Path) -> Option<Component> {
    let in_webapps = |dir: &Path| dir.file_name().is_some_and(|n| n == "webapps");
    let parent = path.parent()?;
    let name = path.file_name()?.to_str()?;
    let app = if in_webapps(parent) && name.to_ascii_lowercase().ends_with(".war") {
        path
    } else if name == "web.xml" && parent.file_name()? == "WEB-INF" {
        parent.parent().filter(|app| app.parent().is_some_and(in_webapps))?
    } else {
        return None;
    };
    Some(Component {
        kind: "tomcat_webapp",
        name: app.file_name()?.to_string_lossy().into_owned(),
        path: app.display().to_string(),
        line: 0,
    })
}

/// The components configured in `text`, the content of `path`.
pub fn components(path: &Path, text: &str) -> Vec<Component> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    match name.as_str() {
        "applicationhost.config" | "web.config" => xml_components(text, iis),
        "agents.config" => xml_components(text, exchange),
        "php.ini" | ".user.ini" | ".htaccess" => php_prepends(text),
        "server.xml" | "context.xml" => xml_components(text, tomcat),
        _ if is_esxi_inventory(path, &name) => esxi::components(text),
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
        ("handlers", "add") => {
            let loads = attribute("scriptprocessor").filter(|p| !p.is_empty());
            Some(("iis_handler", attribute("name")?, loads.or_else(|| attribute("type"))?))
        }
        ("modules", "add") => Some(("iis_managed_module", attribute("name")?, attribute("type")?)),
        _ => None,
    }
}

fn tomcat(_parent: &str, element: &str, attribute: Attribute<'_>) -> Picked {
    let kind = match element {
        "valve" => "tomcat_valve",
        "listener" => "tomcat_listener",
        _ => return None,
    };
    let class = attribute("classname")?;
    let name = class.rsplit('.').next().unwrap_or(&class).to_owned();
    Some((kind, name, class))
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

/// IIS's own directories: a native module, filter or handler DLL elsewhere is suspicious.
const IIS_DIRECTORIES: &[&str] = &[
    "%windir%\\system32\\inetsrv\\",
    "%systemroot%\\system32\\inetsrv\\",
    "c:\\windows\\system32\\inetsrv\\",
    "%windir%\\syswow64\\inetsrv\\",
    "c:\\windows\\syswow64\\inetsrv\\",
    "\\microsoft.net\\framework",
    "%programfiles%\\",
    "c:\\program files\\",
    "c:\\program files (x86)\\",
];

/// Folders no server component should load from.
const ODD_WINDOWS_FOLDERS: &[&str] = &[
    "\\temp\\",
    "\\tmp\\",
    "\\users\\",
    "\\programdata\\",
    "\\public\\",
    "\\inetpub\\",
    "\\appdata\\",
    "\\perflogs\\",
    "\\windows\\tasks\\",
];

/// Web roots, temp and upload folders: no prepended PHP file should live there.
const ODD_PHP_FOLDERS: &[&str] = &[
    "/tmp/",
    "/var/tmp/",
    "/dev/shm/",
    "/upload",
    "/images/",
    "/var/www/",
    "/srv/www/",
    "/public_html/",
];

/// The distributions' Apache module directories.
const APACHE_MODULES: &[&str] = &[
    "/usr/lib/apache2/modules/",
    "/usr/lib64/httpd/modules/",
    "/usr/lib/httpd/modules/",
    "/etc/httpd/modules/",
    "/usr/local/apache2/modules/",
    "/opt/rh/",
];

/// The distributions' nginx module directories.
const NGINX_MODULES: &[&str] = &[
    "/usr/lib/nginx/modules/",
    "/usr/share/nginx/modules/",
    "/usr/lib64/nginx/modules/",
    "/etc/nginx/modules/",
    "/usr/local/nginx/modules/",
];

/// Java packages whose valves and listeners ship with Tomcat.
const TOMCAT_PACKAGES: &[&str] =
    &["org.apache.catalina.", "org.apache.tomcat.", "org.apache.coyote.", "org.apache.jasper."];

/// Why a component is suspicious, if it is (see the module documentation).
pub fn suspicious(component: &Component, config: &Path) -> Option<&'static str> {
    let windows = component.path.replace('/', "\\").to_ascii_lowercase();
    let posix = component.path.to_ascii_lowercase();
    let contains_any = |dirs: &[&str]| dirs.iter().any(|d| windows.contains(d));
    // A server module outside its directories (a relative path is the server's own `modules/`).
    let module_outside = |dirs: &[&str]| {
        !posix.starts_with("modules/") && !dirs.iter().any(|d| posix.starts_with(d))
    };
    let looks_like_file = windows.contains('\\') || windows.ends_with(".dll");
    match component.kind {
        "iis_module" | "isapi_filter" => (!contains_any(IIS_DIRECTORIES)).then_some(
            "a native module or ISAPI filter loaded from outside the server's directories",
        ),
        "iis_handler" => (looks_like_file && !contains_any(IIS_DIRECTORIES))
            .then_some("a handler whose script processor lies outside the server's directories"),
        "exchange_agent" => (contains_any(ODD_WINDOWS_FOLDERS) || !windows.contains("exchange"))
            .then_some("a transport agent assembly outside the Exchange installation"),
        "php_prepend" => {
            let file = config.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let in_web_root =
                file.eq_ignore_ascii_case(".user.ini") || file.eq_ignore_ascii_case(".htaccess");
            let odd = ODD_PHP_FOLDERS.iter().any(|d| posix.contains(d));
            (in_web_root || odd).then_some(
                "a PHP file run before or after every page, set in a web root or from an odd folder",
            )
        }
        "apache_module" => module_outside(APACHE_MODULES)
            .then_some("an Apache module loaded from outside the module directories"),
        "nginx_module" => module_outside(NGINX_MODULES)
            .then_some("an nginx module loaded from outside the module directories"),
        "tomcat_valve" | "tomcat_listener" => {
            (!TOMCAT_PACKAGES.iter().any(|p| component.path.starts_with(p)))
                .then_some("a Tomcat valve or listener from outside Tomcat's own packages")
        }
        "esxi_vib" => esxi::unsigned(esxi::acceptance_of(&component.path))
            .then_some("a CommunitySupported VIB: not signed by VMware or a partner"),
        "esxi_acceptance" => esxi::unsigned(&component.path)
            .then_some("the host accepts CommunitySupported (unsigned) VIBs"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(found: &[Component]) -> Vec<(&str, &str)> {
        found.iter().map(|c| (c.kind, c.name.as_str())).collect()
    }

    /// What `pick` gives of each suspicious component of `found`, read from `path`.
    fn flagged<'a>(
        found: &'a [Component],
        path: &Path,
        pick: impl Fn(&'a Component) -> &'a String,
    ) -> Vec<&'a str> {
        found.iter().filter(|c| suspicious(c, path).is_some()).map(|c| pick(c).as_str()).collect()
    }

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
        assert_eq!(flagged(&found, path, |c| &c.name), ["IIS-Backdoor", "Owa"]);
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
        assert_eq!(flagged(&found, path, |c| &c.name), ["Mail Monitor"]);
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

    #[test]
    fn iis_handlers_with_a_script_processor_outside_the_server_are_flagged() {
        let web_config = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.webServer>
    <handlers>
      <add name="PageHandlerFactory-Integrated" path="*.aspx" verb="GET,HEAD,POST" type="System.Web.UI.PageHandlerFactory" preCondition="integratedMode" />
      <add name="PHP_via_FastCGI" path="*.php" verb="*" modules="FastCgiModule" scriptProcessor="C:\Program Files\PHP8.2\php-cgi.exe" resourceType="Either" />
      <add name="AboMapperCustom-1" path="*.ico" verb="*" modules="IsapiModule" scriptProcessor="C:\Windows\Temp\img.dll" resourceType="Unspecified" />
    </handlers>
    <modules>
      <add name="SessionAuth" type="Contoso.Web.SessionAuthModule, Contoso.Web" />
    </modules>
  </system.webServer>
</configuration>"#;
        let path = Path::new("web.config");
        assert!(is_config(Path::new("/inetpub/wwwroot/Web.config")));
        let found = components(path, web_config);
        assert_eq!(
            kinds(&found),
            [
                ("iis_handler", "PageHandlerFactory-Integrated"),
                ("iis_handler", "PHP_via_FastCGI"),
                ("iis_handler", "AboMapperCustom-1"),
                ("iis_managed_module", "SessionAuth"),
            ]
        );
        assert_eq!(flagged(&found, path, |c| &c.name), ["AboMapperCustom-1"]);
    }

    #[test]
    fn tomcat_valves_and_listeners_outside_tomcat_are_flagged() {
        let server_xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.AprLifecycleListener" SSLEngine="on" />
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1" connectionTimeout="20000" redirectPort="8443" />
    <Engine name="Catalina" defaultHost="localhost">
      <Realm className="org.apache.catalina.realm.LockOutRealm" />
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="true">
        <Valve className="org.apache.catalina.valves.AccessLogValve" directory="logs"
               prefix="localhost_access_log" suffix=".txt" pattern="%h %l %u %t &quot;%r&quot; %s %b" />
        <Valve className="com.sun.jndi.ext.CacheValve" />
      </Host>
    </Engine>
  </Service>
</Server>"#;
        let path = Path::new("/opt/tomcat/conf/server.xml");
        let found = components(path, server_xml);
        assert_eq!(
            kinds(&found),
            [
                ("tomcat_listener", "VersionLoggerListener"),
                ("tomcat_listener", "AprLifecycleListener"),
                ("tomcat_valve", "AccessLogValve"),
                ("tomcat_valve", "CacheValve"),
            ]
        );
        assert_eq!(flagged(&found, path, |c| &c.path), ["com.sun.jndi.ext.CacheValve"]);
        assert_eq!(found[3].line, 12);
    }

    #[test]
    fn deployed_web_applications() {
        let war = deployed(Path::new("/var/lib/tomcat10/webapps/manager2.war")).unwrap();
        assert_eq!((war.kind, war.name.as_str()), ("tomcat_webapp", "manager2.war"));
        let exploded =
            deployed(Path::new("/var/lib/tomcat10/webapps/examples/WEB-INF/web.xml")).unwrap();
        assert_eq!(exploded.name, "examples");
        assert_eq!(exploded.path, "/var/lib/tomcat10/webapps/examples");
        assert!(deployed(Path::new("/srv/app/WEB-INF/web.xml")).is_none());
        assert!(deployed(Path::new("/srv/app/x.war")).is_none());
        assert!(suspicious(&war, Path::new("x")).is_none());
    }
}
