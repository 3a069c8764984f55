//! Embeds the rule packs of `rules/packs/` so that `/config` can say which alerts read each
//! key without the packs being deployed next to the exporter.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let packs = manifest.join("../../rules/packs");
    println!("cargo:rerun-if-changed={}", packs.display());
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(dirs) = std::fs::read_dir(&packs) {
        for dir in dirs.filter_map(Result::ok).map(|e| e.path()) {
            if !dir.is_dir() {
                continue;
            }
            println!("cargo:rerun-if-changed={}", dir.display());
            let pack = name(&dir);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for file in entries.filter_map(Result::ok).map(|e| e.path()) {
                if file.is_file() && file.extension().is_some_and(|x| x == "yaml") {
                    println!("cargo:rerun-if-changed={}", file.display());
                    files.push((pack.clone(), file));
                }
            }
        }
    }
    files.sort();
    let mut out = String::from("/// (pack, file name, text) of every embedded rule file.\npub const PACK_FILES: &[(&str, &str, &str)] = &[\n");
    for (pack, file) in &files {
        let abs = file.canonicalize().expect("pack file path");
        let _ = writeln!(
            out,
            "    ({pack:?}, {:?}, include_str!({:?})),",
            name(file),
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("packs.rs");
    std::fs::write(dest, out).expect("write packs.rs");
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
