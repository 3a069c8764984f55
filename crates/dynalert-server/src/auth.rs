//! `--web.config.file` in the Prometheus exporter-toolkit format: TLS and basic auth.
//!
//! Every key is checked at start; an unknown or unsupported setting, a missing file or a
//! malformed bcrypt hash fails the start with a message naming it. Basic auth compares
//! bcrypt hashes; recent outcomes (successes and failures, keyed by a SHA-256 digest of
//! the credentials) are cached so a scrape does not pay the bcrypt cost every time, and at
//! most [`BCRYPT_SLOTS`] bcrypt checks run at once and at most [`BCRYPT_PER_SECOND`] start
//! per second, so a flood of wrong passwords is answered 503 at once instead of taking the
//! cores from authorised scrapers (whose cached credentials never wait). Hash costs above
//! [`MAX_BCRYPT_COST`] are refused at start. The certificate is served through a
//! [`ReloadableCert`], so a changed certificate and key take effect without a restart.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use yaml_rust2::{Yaml, YamlLoader};

/// A problem with the web config file.
#[derive(Debug, thiserror::Error)]
#[error("web config `{path}`: {message}")]
pub struct WebConfigError {
    pub path: String,
    pub message: String,
}

/// Parsed web configuration.
pub struct WebConfig {
    pub tls: Option<Arc<ServerConfig>>,
    /// The certificate behind `tls`, swappable when the files change.
    pub cert: Option<Arc<ReloadableCert>>,
    pub auth: Option<Auth>,
    /// Every file the configuration was read from (itself, certificate, key, CA), to
    /// notice changes.
    pub files: Vec<PathBuf>,
}

/// Highest bcrypt cost accepted: each step doubles the CPU of a check (cost 14 is about
/// one second of one core), and a wrong password always pays it.
pub const MAX_BCRYPT_COST: u32 = 14;
/// bcrypt checks allowed at once; the other cores stay free for authorised requests.
pub const BCRYPT_SLOTS: usize = 1;
/// Requests allowed to wait for a bcrypt slot; further ones get 503 at once.
pub const BCRYPT_QUEUE: usize = 256;
/// bcrypt checks started per second at most (uncached credentials only); above it a
/// request gets 503 at once. Bounds the CPU a flood of wrong passwords can take to a
/// fraction of one core, whatever its size.
pub const BCRYPT_PER_SECOND: u32 = 8;
/// Cached outcomes kept per kind before the cache is cleared.
const CACHE_MAX: usize = 4096;

/// Basic auth users and the caches of recent outcomes.
pub struct Auth {
    users: BTreeMap<String, String>,
    verified: Mutex<HashSet<[u8; 32]>>,
    refused: Mutex<HashSet<[u8; 32]>>,
    slots: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    /// Start of the current one-second window and the bcrypt checks started in it.
    budget: Mutex<(std::time::Instant, u32)>,
}

/// Parsed `Authorization: Basic` credentials and their cache key.
pub struct Credentials {
    user: String,
    password: String,
    key: [u8; 32],
}

impl Credentials {
    pub fn parse(header: Option<&str>) -> Option<Credentials> {
        let (user, password) = header.and_then(parse_basic)?;
        let key: [u8; 32] = Sha256::new()
            .chain_update(user.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        Some(Credentials {
            user,
            password,
            key,
        })
    }
}

/// Outcome of an authentication attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Denied,
    /// Too many checks waiting: try again later.
    Busy,
}

impl From<bool> for Verdict {
    fn from(ok: bool) -> Verdict {
        if ok {
            Verdict::Allowed
        } else {
            Verdict::Denied
        }
    }
}

/// A server certificate that can be replaced while connections are being accepted.
#[derive(Debug)]
pub struct ReloadableCert {
    current: arc_swap::ArcSwap<rustls::sign::CertifiedKey>,
}

impl ReloadableCert {
    /// Serves `other`'s certificate from now on.
    pub fn replace_with(&self, other: &ReloadableCert) {
        self.current.store(other.current.load_full());
    }
}

impl rustls::server::ResolvesServerCert for ReloadableCert {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.current.load_full())
    }
}

const DUMMY_HASH: &str = "$2b$10$Wb0LSUCOQmPLvQBbFm9g5.3HGdENTcNq3QMB1P6gb2zbJq.ZKJV5e";

impl Auth {
    pub fn new(users: BTreeMap<String, String>) -> Auth {
        Auth {
            users,
            verified: Mutex::new(HashSet::new()),
            refused: Mutex::new(HashSet::new()),
            slots: tokio::sync::Semaphore::new(BCRYPT_SLOTS),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            budget: Mutex::new((std::time::Instant::now(), 0)),
        }
    }

    /// Takes one bcrypt check from this second's budget; false when it is spent.
    fn take_budget(&self) -> bool {
        let mut b = self.budget.lock().expect("auth budget");
        let now = std::time::Instant::now();
        if now.duration_since(b.0) >= std::time::Duration::from_secs(1) {
            *b = (now, 0);
        }
        if b.1 >= BCRYPT_PER_SECOND {
            return false;
        }
        b.1 += 1;
        true
    }

    /// The cached outcome for these credentials, if any.
    pub fn cached(&self, c: &Credentials) -> Option<bool> {
        if self.verified.lock().expect("auth cache").contains(&c.key) {
            return Some(true);
        }
        if self.refused.lock().expect("auth cache").contains(&c.key) {
            return Some(false);
        }
        None
    }

    /// Runs bcrypt for credentials that are not cached, and caches the outcome.
    pub fn verify(&self, c: &Credentials) -> bool {
        // Unknown users still pay one bcrypt so timing does not tell them apart.
        let (hash, known) = match self.users.get(&c.user) {
            Some(h) => (h.as_str(), true),
            None => (DUMMY_HASH, false),
        };
        let ok = bcrypt::verify(&c.password, hash).unwrap_or(false) && known;
        let cache = if ok { &self.verified } else { &self.refused };
        let mut cache = cache.lock().expect("auth cache");
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(c.key);
        ok
    }

    /// Checks an `Authorization` header value (blocking; for callers outside a runtime).
    pub fn check(&self, header: Option<&str>) -> bool {
        let Some(c) = Credentials::parse(header) else {
            return false;
        };
        self.cached(&c).unwrap_or_else(|| self.verify(&c))
    }

    /// Checks an `Authorization` header value: cached outcomes at once, bcrypt on a
    /// blocking thread behind the concurrency limit.
    pub async fn check_async(self: Arc<Self>, header: Option<String>) -> Verdict {
        use std::sync::atomic::Ordering;
        let Some(c) = Credentials::parse(header.as_deref()) else {
            return Verdict::Denied;
        };
        if let Some(ok) = self.cached(&c) {
            return ok.into();
        }
        if !self.take_budget() {
            return Verdict::Busy;
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= BCRYPT_QUEUE {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Verdict::Busy;
        }
        let permit = self.slots.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let Ok(_permit) = permit else {
            return Verdict::Busy;
        };
        // The same credentials may have been checked while this request waited.
        if let Some(ok) = self.cached(&c) {
            return ok.into();
        }
        let me = self.clone();
        let ok = tokio::task::spawn_blocking(move || me.verify(&c)).await;
        ok.unwrap_or(false).into()
    }
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Size, mtime and inode of each file: changes when any of them is rewritten or replaced.
pub fn fingerprint(files: &[PathBuf]) -> Vec<Option<(u64, Option<std::time::SystemTime>, u64)>> {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f).ok().map(|m| {
                (
                    m.len(),
                    m.modified().ok(),
                    std::os::unix::fs::MetadataExt::ino(&m),
                )
            })
        })
        .collect()
}

/// Re-reads the web config whenever one of its files changes: a valid new version
/// replaces the users and the certificate; an invalid one is logged and the running
/// version kept. Switching TLS on or off needs a restart (the listener is fixed).
pub async fn watch(
    path: PathBuf,
    state: crate::state::AppState,
    cert: Option<Arc<ReloadableCert>>,
    mut files: Vec<PathBuf>,
    every: std::time::Duration,
) {
    let mut seen = fingerprint(&files);
    loop {
        tokio::time::sleep(every).await;
        let now = fingerprint(&files);
        if now == seen {
            continue;
        }
        seen = now;
        let p = path.clone();
        let loaded = tokio::task::spawn_blocking(move || WebConfig::load(&p)).await;
        match loaded {
            Ok(Ok(w)) => {
                match (&cert, &w.cert) {
                    (Some(old), Some(new)) => old.replace_with(new),
                    (None, None) => {}
                    _ => tracing::warn!(
                        path = %path.display(),
                        "web config turns TLS on or off: restart the exporter to apply that part"
                    ),
                }
                state.auth.store(w.auth.map(Arc::new));
                files = w.files;
                seen = fingerprint(&files);
                tracing::info!(path = %path.display(), "web config reloaded");
            }
            Ok(Err(e)) => tracing::error!("{e}; keeping the running web config"),
            Err(e) => tracing::error!(error = %e, "web config reload failed"),
        }
    }
}

impl WebConfig {
    /// Reads and checks a web config file.
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        let err = |message: String| WebConfigError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        if text.len() > 1 << 20 {
            return Err(err("file is larger than 1 MiB".into()));
        }
        let docs =
            YamlLoader::load_from_str(&text).map_err(|e| err(format!("invalid YAML: {e}")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let doc = match docs.into_iter().next() {
            // An empty file would silently mean "no TLS, no auth": refuse it.
            None | Some(Yaml::Null) => {
                return Err(err(
                    "file is empty; it would turn TLS and basic auth off (remove `--web.config.file` to run without them)".into(),
                ))
            }
            Some(d) => d,
        };
        let map = doc
            .as_hash()
            .ok_or_else(|| err("top level must be a mapping".into()))?;
        let mut tls = None;
        let mut cert = None;
        let mut auth = None;
        for (k, v) in map {
            let key = k.as_str().unwrap_or("");
            match key {
                "tls_server_config" => {
                    let (config, c) = tls_config(v, base).map_err(err)?;
                    tls = Some(config);
                    cert = Some(c);
                }
                "basic_auth_users" => auth = Some(users(v).map_err(err)?),
                "http_server_config" => http_server_config(v).map_err(err)?,
                other => {
                    return Err(err(format!(
                        "unknown key `{other}` (expected `tls_server_config`, `basic_auth_users` or `http_server_config`)"
                    )))
                }
            }
        }
        let mut files = vec![path.to_path_buf()];
        if let Some(Yaml::Hash(t)) = map.get(&Yaml::String("tls_server_config".into())) {
            for key in ["cert_file", "key_file", "client_ca_file"] {
                if let Some(p) = t.get(&Yaml::String(key.into())).and_then(Yaml::as_str) {
                    files.push(base.join(p));
                }
            }
        }
        Ok(WebConfig {
            tls,
            cert,
            auth,
            files,
        })
    }
}

fn http_server_config(v: &Yaml) -> Result<(), String> {
    let map = v
        .as_hash()
        .ok_or("`http_server_config` must be a mapping")?;
    map.keys().next().map_or(Ok(()), |k| {
        Err(format!(
            "`http_server_config.{}` is not supported",
            k.as_str().unwrap_or("")
        ))
    })
}

fn users(v: &Yaml) -> Result<Auth, String> {
    let map = v
        .as_hash()
        .ok_or("`basic_auth_users` must be a mapping of user to bcrypt hash")?;
    let mut users = BTreeMap::new();
    for (k, v) in map {
        let user = k
            .as_str()
            .ok_or("`basic_auth_users`: user names must be strings")?;
        let hash = v
            .as_str()
            .ok_or_else(|| format!("`basic_auth_users.{user}` must be a bcrypt hash string"))?;
        let well_formed = hash.len() == 60
            && ["$2a$", "$2b$", "$2y$", "$2x$"]
                .iter()
                .any(|p| hash.starts_with(p))
            && hash[4..6]
                .parse::<u32>()
                .is_ok_and(|c| (4..=31).contains(&c));
        if !well_formed {
            return Err(format!("`basic_auth_users.{user}` is not a bcrypt hash"));
        }
        let cost: u32 = hash[4..6].parse().unwrap_or(u32::MAX);
        if cost > MAX_BCRYPT_COST {
            return Err(format!(
                "`basic_auth_users.{user}` has bcrypt cost {cost}, above the maximum of {MAX_BCRYPT_COST} (every wrong password would cost {}x a cost-10 check); hash it again with a lower cost",
                1u64 << (cost - 10)
            ));
        }
        users.insert(user.to_string(), hash.to_string());
    }
    if users.is_empty() {
        return Err("`basic_auth_users` is empty".into());
    }
    Ok(Auth::new(users))
}

fn tls_config(v: &Yaml, base: &Path) -> Result<(Arc<ServerConfig>, Arc<ReloadableCert>), String> {
    let map = v.as_hash().ok_or("`tls_server_config` must be a mapping")?;
    let mut cert = None;
    let mut key = None;
    let mut ca = None;
    let mut client_auth = "NoClientCert".to_string();
    let mut min_version = "TLS12".to_string();
    let mut max_version = "TLS13".to_string();
    for (k, v) in map {
        let name = k.as_str().unwrap_or("");
        let s = || {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("`tls_server_config.{name}` must be a string"))
        };
        match name {
            "cert_file" => cert = Some(base.join(s()?)),
            "key_file" => key = Some(base.join(s()?)),
            "client_ca_file" => ca = Some(base.join(s()?)),
            "client_auth_type" => client_auth = s()?,
            "min_version" => min_version = s()?,
            "max_version" => max_version = s()?,
            other => return Err(format!("`tls_server_config.{other}` is not supported")),
        }
    }
    let cert = cert.ok_or("`tls_server_config.cert_file` is required")?;
    let key = key.ok_or("`tls_server_config.key_file` is required")?;
    // The certificates of a PEM file, errors naming the setting `key` and the file.
    let pem = |path: &Path, key: &str| {
        CertificateDer::pem_file_iter(path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("`tls_server_config.{key}` `{}`: {e}", path.display()))
    };
    let certs = pem(&cert, "cert_file")?;
    if certs.is_empty() {
        return Err(format!(
            "`tls_server_config.cert_file` `{}`: no certificate found",
            cert.display()
        ));
    }
    let private = PrivateKeyDer::from_pem_file(&key)
        .map_err(|e| format!("`tls_server_config.key_file` `{}`: {e}", key.display()))?;
    let version = |v: &str, flag: &str| match v {
        "TLS12" => Ok(&rustls::version::TLS12),
        "TLS13" => Ok(&rustls::version::TLS13),
        other => Err(format!(
            "`tls_server_config.{flag}` `{other}` is not supported (use `TLS12` or `TLS13`)"
        )),
    };
    let min = version(&min_version, "min_version")?;
    let max = version(&max_version, "max_version")?;
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        [&rustls::version::TLS12, &rustls::version::TLS13]
            .into_iter()
            .filter(|v| {
                let rank = |x: &rustls::SupportedProtocolVersion| u16::from(x.version);
                rank(v) >= rank(min) && rank(v) <= rank(max)
            })
            .collect();
    if versions.is_empty() {
        return Err("`tls_server_config.min_version` is above `max_version`".into());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("`tls_server_config`: {e}"))?;
    let roots = || -> Result<Arc<rustls::RootCertStore>, String> {
        let ca = ca.as_ref().ok_or_else(|| {
            format!("`tls_server_config.client_auth_type` `{client_auth}` needs `client_ca_file`")
        })?;
        let mut store = rustls::RootCertStore::empty();
        for c in pem(ca, "client_ca_file")? {
            store.add(c).map_err(|e| {
                format!("`tls_server_config.client_ca_file` `{}`: {e}", ca.display())
            })?;
        }
        Ok(Arc::new(store))
    };
    let builder = match client_auth.as_str() {
        "NoClientCert" => builder.with_no_client_auth(),
        "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert" => {
            let mut v = WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone());
            if client_auth == "VerifyClientCertIfGiven" {
                v = v.allow_unauthenticated();
            }
            builder.with_client_cert_verifier(v.build().map_err(|e| format!("`tls_server_config.client_ca_file`: {e}"))?)
        }
        other => {
            return Err(format!(
                "`tls_server_config.client_auth_type` `{other}` is not supported (use `NoClientCert`, `VerifyClientCertIfGiven` or `RequireAndVerifyClientCert`)"
            ))
        }
    };
    let key = rustls::sign::CertifiedKey::from_der(certs, private, &provider)
        .map_err(|e| format!("`tls_server_config`: certificate and key do not match: {e}"))?;
    let cert = Arc::new(ReloadableCert {
        current: arc_swap::ArcSwap::from_pointee(key),
    });
    let mut config = builder.with_cert_resolver(cert.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), cert))
}
