//! `--storage.path`: the last good effective configuration, kept across restarts.
//!
//! Stored as CBOR (the config model has structured map keys, which JSON cannot hold)
//! behind a header line with the SHA-256 of the CBOR, so a damaged snapshot is refused
//! instead of served. Written atomically (temp file in the same directory, fsync,
//! rename, fsync of the directory), so a crash leaves either the old or the new
//! snapshot, never a torn one; mode 0600, since it holds receiver URLs.

use std::io::Write as _;
use std::path::Path;

use dynalert_model::Config;
use sha2::Digest as _;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Errors of the storage snapshot.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("`{path}` is not a storage snapshot: {source}")]
    Parse {
        path: String,
        source: ciborium::de::Error<std::io::Error>,
    },
    #[error("`{path}` is damaged or not a storage snapshot: {reason}")]
    Checksum { path: String, reason: String },
}

/// First bytes of a snapshot: the format name, then the hex SHA-256 of the rest.
const MAGIC: &[u8] = b"threshold-exporter-snapshot v2 sha256=";

/// Writes `config` to `path` atomically.
pub fn write(path: &Path, config: &Config) -> Result<(), StorageError> {
    let err = |source| StorageError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut cbor = Vec::new();
    ciborium::into_writer(config, &mut cbor).map_err(|e| err(std::io::Error::other(e)))?;
    let sum = hex(&sha2::Sha256::digest(&cbor));
    dynalert_config::fsutil::write_atomic(path, |f| {
        let mut w = std::io::BufWriter::new(f);
        w.write_all(MAGIC)?;
        w.write_all(sum.as_bytes())?;
        w.write_all(b"\n")?;
        w.write_all(&cbor)?;
        w.flush()
    })
    .map_err(err)
}

/// Reads a snapshot; `Ok(None)` when the file does not exist yet.
pub fn read(path: &Path) -> Result<Option<Config>, StorageError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StorageError::Read {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let damaged = |reason: &str| StorageError::Checksum {
        path: path.display().to_string(),
        reason: reason.into(),
    };
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or_else(|| damaged("no snapshot header"))?;
    let nl = rest
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| damaged("truncated header"))?;
    let (sum, cbor) = (&rest[..nl], &rest[nl + 1..]);
    if sum != hex(&sha2::Sha256::digest(cbor)).as_bytes() {
        return Err(damaged("checksum mismatch"));
    }
    ciborium::from_reader(cbor)
        .map(Some)
        .map_err(|source| StorageError::Parse {
            path: path.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn config() -> Config {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("_defaults.yaml"),
            "defaults:\n  mysql_connections: 80\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("db-a.yaml"),
            "tenants:\n  db-a:\n    mysql_connections: 70\n",
        )
        .unwrap();
        let report = dynalert_config::load_dir(dir.path(), chrono::Utc::now()).unwrap();
        (*report.config).clone()
    }

    #[test]
    fn snapshot_round_trips_private_and_refuses_a_flipped_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("last-good");
        let c = config();
        write(&path, &c).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back = read(&path).unwrap().unwrap();
        assert_eq!(back.tenants.keys().collect::<Vec<_>>(), vec!["db-a"]);
        // Flip one bit of the body: the checksum catches it.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("checksum mismatch"), "{err}");
        // A file that is not a snapshot at all.
        std::fs::write(&path, b"garbage").unwrap();
        assert!(read(&path)
            .unwrap_err()
            .to_string()
            .contains("no snapshot header"));
    }
}
