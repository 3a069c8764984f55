//! `--storage.path`: the last good effective configuration, kept across restarts.
//!
//! Stored as CBOR (the config model has structured map keys, which JSON cannot hold).
//! Written atomically (temp file in the same directory, fsync, rename, fsync of the
//! directory), so a crash leaves either the old or the new snapshot, never a torn one.

use std::io::Write as _;
use std::path::Path;

use dynalert_model::Config;

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
}

/// Writes `config` to `path` atomically.
pub fn write(path: &Path, config: &Config) -> Result<(), StorageError> {
    let err = |source| StorageError::Write {
        path: path.display().to_string(),
        source,
    };
    dynalert_config::fsutil::write_atomic(path, |f| {
        let mut w = std::io::BufWriter::new(f);
        ciborium::into_writer(config, &mut w).map_err(std::io::Error::other)?;
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
    ciborium::from_reader(&bytes[..])
        .map(Some)
        .map_err(|source| StorageError::Parse {
            path: path.display().to_string(),
            source,
        })
}
