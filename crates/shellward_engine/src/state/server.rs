//! Server identity: whether a process serves network clients (a web, application or SQL server),
//! which the pack's "server spawns a shell" rules ask of a parent instead of a list of names.
//!
//! A name list cannot tell `python.exe` running gunicorn from `python.exe` running an exploit on a
//! workstation, and misses `python3.11.exe` or a custom binary that listens. A process is a server
//! process when
//! - it runs a known server binary ([`known_server`]: w3wp, httpd, nginx, Tomcat's service,
//!   Exchange's UMWorkerProcess, sqlservr, php-fpm, ...); or
//! - it runs a language runtime ([`runtime`]: python, java, node, php, perl, ruby, dotnet) whose
//!   own command line starts a server ([`serving_command_line`]: gunicorn, uvicorn, uwsgi,
//!   `manage.py runserver`, `flask run`, Catalina, Jetty, JBoss/WildFly, WebLogic, WebSphere,
//!   `php -S`, a Node server entry point, pm2...), or whose parent is such a runtime process (a
//!   gunicorn worker, an application pm2 started); or
//! - it was seen accepting an inbound connection (Sysmon 3 with `Initiated=false`, Defender's
//!   `InboundConnectionAccepted`, Falcon's `ReceiveAcceptIP4/6`, auditd's `accept`/`accept4`).
//!
//! [`crate::Lineage`] keeps this per process and sets `ParentIsServer` (`"true"`) on a process
//! creation whose parent is one; without the parent's own creation it judges the parent from the
//! event's `ParentImage` and `ParentCommandLine` alone.

/// The field lineage sets (to `"true"`) on a process creation whose parent is a server process.
pub const PARENT_IS_SERVER: &str = "ParentIsServer";

// Every process creation asks these questions (twice: of the parent and of the new process), so
// they compare in place, ignoring ASCII case, and allocate nothing.

/// The file name of a path (either separator) without a trailing `.exe` (any case).
fn stem(image: &str) -> &str {
    let name = image.rsplit(['\\', '/']).next().unwrap_or(image);
    match name.len().checked_sub(4) {
        Some(at) if name.is_char_boundary(at) && name[at..].eq_ignore_ascii_case(".exe") => {
            &name[..at]
        }
        _ => name,
    }
}

/// `text` without `prefix` (any ASCII case).
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Server binaries (file names without `.exe`), Windows and Linux. IIS Express is left out: it
/// runs on developers' workstations, where it builds and debugs.
const SERVER_BINARIES: &[&str] = &[
    "w3wp",
    "httpd",
    "apache",
    "apache2",
    "nginx",
    "lighttpd",
    "caddy",
    "openresty",
    "php-cgi",
    "lsphp",
    "uwsgi",
    "gunicorn",
    "uvicorn",
    "hypercorn",
    "daphne",
    "waitress-serve",
    "httpd-worker",
    "httpd-prefork",
    "tomcat",
    "catalina",
    "ws_tomcatservice",
    "umworkerprocess",
    "beasvc",
    "jbosssvc",
    "sqlservr",
];

/// Whether `image` is a known server binary.
pub fn known_server(image: &str) -> bool {
    let stem = stem(image);
    SERVER_BINARIES.iter().any(|b| stem.eq_ignore_ascii_case(b))
        // tomcat6 ... tomcat11, php-fpm7.4, php-fpm8.2
        || strip_prefix_ignore_case(stem, "tomcat")
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        || strip_prefix_ignore_case(stem, "php-fpm").is_some()
}

/// Whether `image` is a language runtime that application servers run on.
pub fn runtime(image: &str) -> bool {
    let stem = stem(image);
    let versioned = |prefix: &str| {
        strip_prefix_ignore_case(stem, prefix)
            .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
    };
    versioned("python")
        || versioned("php")
        || versioned("ruby")
        || versioned("perl")
        || ["pythonw", "java", "javaw", "node", "nodejs", "dotnet", "bun", "deno"]
            .iter()
            .any(|r| stem.eq_ignore_ascii_case(r))
}

/// What in a runtime's command line says it serves (lower case).
const SERVING: &[&str] = &[
    "gunicorn",
    "uvicorn",
    "uwsgi",
    "waitress",
    "hypercorn",
    "daphne",
    "runserver",
    "flask run",
    "-m flask",
    "-m http.server",
    "tornado",
    "org.apache.catalina",
    "catalina.base",
    "catalina.home",
    "org.eclipse.jetty",
    "jetty",
    "jboss-modules",
    "jboss.home",
    "wildfly",
    "weblogic.server",
    "weblogic.home",
    "com.ibm.ws.runtime",
    "websphere",
    "spring-boot",
    "pm2",
    "next start",
    "nuxt start",
    "puma",
    "unicorn",
    "rackup",
    "rails server",
    "rails s ",
    "thin start",
    "plackup",
    "starman",
    "hypnotoad",
    "morbo",
];

/// Node entry points that are servers by convention.
const NODE_ENTRY_POINTS: &[&str] =
    &["server.js", "app.js", "server.mjs", "app.mjs", "bin/www", "server.ts"];

/// Whether a runtime's command line starts a server.
pub fn serving_command_line(line: &str) -> bool {
    static SERVING_WORDS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let serving = SERVING_WORDS.get_or_init(|| {
        aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(SERVING).ok()
    });
    if serving.as_ref().is_some_and(|words| words.is_match(line)) {
        return true;
    }
    line.split_whitespace().any(|word| {
        let word = word.trim_matches(['"', '\'']);
        NODE_ENTRY_POINTS.iter().any(|entry| {
            word.len() >= entry.len() && word.is_char_boundary(word.len() - entry.len()) && {
                let (head, tail) = word.split_at(word.len() - entry.len());
                // `bin/www` written with either separator.
                tail.chars()
                    .zip(entry.chars())
                    .all(|(t, e)| t.eq_ignore_ascii_case(&e) || (e == '/' && t == '\\'))
                    && (head.is_empty() || head.ends_with(['/', '\\']))
            }
        })
    })
}

/// Whether a process is a server from what its own creation says: a known server binary, or a
/// runtime serving by its command line.
pub fn serves(image: &str, command_line: Option<&str>) -> bool {
    let Some(line) = command_line else { return known_server(image) };
    // `php -S 0.0.0.0:8000`: PHP's built-in server (case matters: -s shows highlighted source).
    let php_server = || {
        strip_prefix_ignore_case(stem(image), "php").is_some()
            && line.split_whitespace().any(|w| w == "-S")
    };
    known_server(image) || (runtime(image) && (serving_command_line(line) || php_server()))
}

/// Whether an event reports a process accepting an inbound connection, by source.
pub fn accepts_inbound(event: &shellward_event::Event) -> bool {
    let text = |name: &str| event.get_str(name);
    if event.logsource.category == Some("network_connection") {
        if let Some(initiated) = text("Initiated") {
            return initiated.eq_ignore_ascii_case("false");
        }
        if text("ActionType") == Some("InboundConnectionAccepted") {
            return true;
        }
    }
    if let Some(name) = text("event_simpleName") {
        return name.starts_with("ReceiveAcceptIP");
    }
    if event.logsource.service == Some("auditd") && text("type") == Some("SYSCALL") {
        // x86_64 accept (43) and accept4 (288), or the name where the record was interpreted.
        return matches!(text("syscall"), Some("43" | "288" | "accept" | "accept4"))
            && text("success") != Some("no");
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_servers_by_name() {
        for image in [
            "C:\\Windows\\System32\\inetsrv\\w3wp.exe",
            "/usr/sbin/apache2",
            "/usr/sbin/nginx",
            "C:\\Program Files\\Apache\\bin\\tomcat9.exe",
            "/usr/sbin/php-fpm8.2",
            "C:\\Program Files\\Microsoft SQL Server\\MSSQL15\\Binn\\sqlservr.exe",
            "/usr/local/bin/gunicorn",
        ] {
            assert!(known_server(image), "{image}");
        }
        for image in ["C:\\Windows\\System32\\cmd.exe", "/usr/bin/python3", "tomcatx.exe"] {
            assert!(!known_server(image), "{image}");
        }
    }

    #[test]
    fn runtimes_serving_by_command_line() {
        let serving = [
            ("/usr/bin/python3.11", "/usr/bin/python3.11 /usr/local/bin/gunicorn app:app"),
            ("C:\\Python311\\python.exe", "python.exe -m uvicorn main:app --port 8000"),
            ("C:\\Python311\\python3.11.exe", "python3.11.exe manage.py runserver 0.0.0.0:80"),
            ("C:\\Program Files\\nodejs\\node.exe", "node.exe C:\\apps\\site\\server.js"),
            ("/usr/bin/node", "node /srv/app/bin/www"),
            (
                "/usr/lib/jvm/java-17/bin/java",
                "java -Dcatalina.base=/opt/tomcat org.apache.catalina.startup.Bootstrap start",
            ),
            ("/usr/bin/php", "php -S 0.0.0.0:8080 -t public"),
        ];
        for (image, line) in serving {
            assert!(serves(image, Some(line)), "{line}");
        }
        let not_serving = [
            ("C:\\Python27\\python.exe", "python.exe C:\\tools\\exploit.py"),
            ("C:\\Python27\\python.exe", "python.exe"),
            ("/usr/bin/node", "node build.js"),
            ("/usr/bin/php", "php -s index.php"),
            ("C:\\Windows\\System32\\cmd.exe", "cmd.exe /c gunicorn"),
            ("/usr/bin/python3", "python3 -S script.py"),
        ];
        for (image, line) in not_serving {
            assert!(!serves(image, Some(line)), "{line}");
        }
    }
}
