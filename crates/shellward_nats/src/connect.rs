//! Connecting to NATS: the server's address, authentication and TLS, and a first connection
//! retried with backoff (a lost connection is re-established by the client, which reports it).

use std::path::PathBuf;
use std::time::Duration;

/// How to authenticate.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// None.
    #[default]
    None,
    /// User and password.
    UserPassword(String, String),
    /// A token.
    Token(String),
    /// An nkey seed (`SU...`).
    Nkey(String),
    /// A credentials file (JWT and nkey seed, as `nsc` writes it).
    Credentials(PathBuf),
}

/// Where and how to connect.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    /// `nats://host:port` (or `tls://...`), several separated by commas.
    pub url: String,
    /// Authentication.
    pub auth: Auth,
    /// Require TLS.
    pub tls: bool,
    /// A CA certificate file (PEM) to trust.
    pub ca: Option<PathBuf>,
    /// A client certificate and key (PEM), for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// The connection's name, as the server shows it.
    pub name: String,
}

/// Why no connection could be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The credentials file could not be read.
    #[error("credentials file {0}: {1}")]
    Credentials(PathBuf, std::io::Error),
    /// Every attempt failed.
    #[error("cannot connect to {url} after {attempts} attempt(s): {last}")]
    Unreachable {
        /// The address.
        url: String,
        /// How many times it was tried.
        attempts: u32,
        /// The last error.
        last: String,
    },
}

/// Connects, retrying the first connection with exponential backoff (100 ms doubling up to 5 s)
/// for at most `patience`; each failure is handed to `report`. Refused credentials, a TLS failure
/// or an address that does not parse end it at once.
pub async fn connect(
    endpoint: &Endpoint,
    patience: Duration,
    mut report: impl FnMut(&str),
) -> Result<async_nats::Client, ConnectError> {
    let servers: Vec<async_nats::ServerAddr> = endpoint
        .url
        .split(',')
        .map(|url| url.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<_, _>>()
        .map_err(|e| ConnectError::Unreachable {
            url: endpoint.url.clone(),
            attempts: 0,
            last: e.to_string(),
        })?;
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let options = options(endpoint).await?;
        match options.connect(servers.as_slice()).await {
            Ok(client) => return Ok(client),
            Err(error) => {
                let last = error.to_string();
                use async_nats::ConnectErrorKind as Kind;
                // Wrong credentials, TLS set up wrong or a bad address do not heal by waiting.
                let hopeless = matches!(
                    error.kind(),
                    Kind::Authentication
                        | Kind::AuthorizationViolation
                        | Kind::Tls
                        | Kind::ServerParse
                ) || tls_refused(&last);
                if hopeless || started.elapsed() >= patience {
                    return Err(ConnectError::Unreachable {
                        url: endpoint.url.clone(),
                        attempts,
                        last,
                    });
                }
                report(&format!("{}: {last}; retrying in {delay:?}", endpoint.url));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Whether an error is a TLS handshake the other side refused, or a certificate this side
/// refused: the client reports them as I/O errors (`received fatal alert: CertificateRequired`,
/// `invalid peer certificate: UnknownIssuer`), and they do not heal by waiting either.
fn tls_refused(error: &str) -> bool {
    error.contains("fatal alert") || error.contains("invalid peer certificate")
}

/// The client's options for an endpoint.
async fn options(endpoint: &Endpoint) -> Result<async_nats::ConnectOptions, ConnectError> {
    let mut options = match &endpoint.auth {
        Auth::None => async_nats::ConnectOptions::new(),
        Auth::UserPassword(user, password) => {
            async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
        }
        Auth::Token(token) => async_nats::ConnectOptions::with_token(token.clone()),
        Auth::Nkey(seed) => async_nats::ConnectOptions::with_nkey(seed.clone()),
        Auth::Credentials(path) => async_nats::ConnectOptions::with_credentials_file(path.clone())
            .await
            .map_err(|e| ConnectError::Credentials(path.clone(), e))?,
    };
    options = options
        .name(endpoint.name.clone())
        .connection_timeout(Duration::from_secs(5))
        .require_tls(endpoint.tls);
    if let Some(ca) = &endpoint.ca {
        options = options.add_root_certificates(ca.clone());
    }
    if let Some((cert, key)) = &endpoint.client_cert {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tls_refusals_are_recognized() {
        assert!(super::tls_refused("IO error: received fatal alert: CertificateRequired"));
        assert!(super::tls_refused("IO error: invalid peer certificate: UnknownIssuer"));
        assert!(!super::tls_refused("IO error: Connection refused (os error 111)"));
    }
}
