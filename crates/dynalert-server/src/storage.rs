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
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(&mut f);
        ciborium::into_writer(config, &mut w).map_err(std::io::Error::other)?;
        w.flush()?;
        drop(w);
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
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
