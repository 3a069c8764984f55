//! `--web.config.file` in the Prometheus exporter-toolkit format: TLS and basic auth.
//!
//! Every key is checked at start; an unknown or unsupported setting, a missing file or a
//! malformed bcrypt hash fails the start with a message naming it. Basic auth compares
//! bcrypt hashes; verified credentials are cached (as a SHA-256 digest) so a scrape does
//! not pay the bcrypt cost every time.

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
    pub auth: Option<Auth>,
}

/// Basic auth users and the cache of verified credentials.
pub struct Auth {
    users: BTreeMap<String, String>,
    verified: Mutex<HashSet<[u8; 32]>>,
}

const DUMMY_HASH: &str = "$2b$10$Wb0LSUCOQmPLvQBbFm9g5.3HGdENTcNq3QMB1P6gb2zbJq.ZKJV5e";

impl Auth {
    pub fn new(users: BTreeMap<String, String>) -> Auth {
        Auth {
            users,
            verified: Mutex::new(HashSet::new()),
        }
    }

    /// Checks an `Authorization` header value.
    pub fn check(&self, header: Option<&str>) -> bool {
        let Some((user, password)) = header.and_then(parse_basic) else {
            return false;
        };
        let key: [u8; 32] = Sha256::new()
            .chain_update(user.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        if self.verified.lock().expect("auth cache").contains(&key) {
            return true;
        }
        // Unknown users still pay one bcrypt so timing does not tell them apart.
        let (hash, known) = match self.users.get(&user) {
            Some(h) => (h.as_str(), true),
            None => (DUMMY_HASH, false),
        };
        let ok = bcrypt::verify(&password, hash).unwrap_or(false) && known;
        if ok {
            let mut cache = self.verified.lock().expect("auth cache");
            if cache.len() > 1024 {
                cache.clear();
            }
            cache.insert(key);
        }
        ok
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

impl WebConfig {
    /// Reads and checks a web config file.
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        let err = |message: String| WebConfigError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let docs =
            YamlLoader::load_from_str(&text).map_err(|e| err(format!("invalid YAML: {e}")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let doc = match docs.into_iter().next() {
            None | Some(Yaml::Null) => {
                return Ok(WebConfig {
                    tls: None,
                    auth: None,
                })
            }
            Some(d) => d,
        };
        let map = doc
            .as_hash()
            .ok_or_else(|| err("top level must be a mapping".into()))?;
        let mut tls = None;
        let mut auth = None;
        for (k, v) in map {
            let key = k.as_str().unwrap_or("");
            match key {
                "tls_server_config" => tls = Some(tls_config(v, base).map_err(err)?),
                "basic_auth_users" => auth = Some(users(v).map_err(err)?),
                "http_server_config" => http_server_config(v).map_err(err)?,
                other => {
                    return Err(err(format!(
                        "unknown key `{other}` (expected `tls_server_config`, `basic_auth_users` or `http_server_config`)"
                    )))
                }
            }
        }
        Ok(WebConfig { tls, auth })
    }
}

fn http_server_config(v: &Yaml) -> Result<(), String> {
    let Some(map) = v.as_hash() else {
        return Err("`http_server_config` must be a mapping".into());
    };
    match map.keys().next() {
        Some(k) => Err(format!(
            "`http_server_config.{}` is not supported",
            k.as_str().unwrap_or("")
        )),
        None => Ok(()),
    }
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
        users.insert(user.to_string(), hash.to_string());
    }
    if users.is_empty() {
        return Err("`basic_auth_users` is empty".into());
    }
    Ok(Auth::new(users))
}

fn tls_config(v: &Yaml, base: &Path) -> Result<Arc<ServerConfig>, String> {
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
            "cert_file" => cert = Some(resolve(base, &s()?)),
            "key_file" => key = Some(resolve(base, &s()?)),
            "client_ca_file" => ca = Some(resolve(base, &s()?)),
            "client_auth_type" => client_auth = s()?,
            "min_version" => min_version = s()?,
            "max_version" => max_version = s()?,
            other => return Err(format!("`tls_server_config.{other}` is not supported")),
        }
    }
    let cert = cert.ok_or("`tls_server_config.cert_file` is required")?;
    let key = key.ok_or("`tls_server_config.key_file` is required")?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("`tls_server_config.cert_file` `{}`: {e}", cert.display()))?;
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
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("`tls_server_config.client_ca_file` `{}`: {e}", ca.display()))?;
        for c in certs {
            store.add(c).map_err(|e| {
                format!("`tls_server_config.client_ca_file` `{}`: {e}", ca.display())
            })?;
        }
        Ok(Arc::new(store))
    };
    let builder = match client_auth.as_str() {
        "NoClientCert" => builder.with_no_client_auth(),
        "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert" => {
            let mut v = WebPkiClientVerifier::builder_with_provider(roots()?, provider);
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
    let mut config = builder
        .with_single_cert(certs, private)
        .map_err(|e| format!("`tls_server_config`: certificate and key do not match: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
