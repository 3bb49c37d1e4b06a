//! Locating the external corpora in `../shared/conformance`, shared by the conformance tests of
//! several crates (each includes this file with `#[path]`).
#![allow(dead_code, reason = "each including test uses only part of this file")]

use std::path::{Path, PathBuf};

/// The corpus folder: `$ROLEWRIGHT_CONFORMANCE`, or `shared/conformance` beside the repository.
/// Panics with directions when it is missing, so a misplaced checkout fails loudly.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("ROLEWRIGHT_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    assert!(
        dir.is_dir(),
        "\n\n*** CONFORMANCE CORPUS NOT FOUND at {} ***\n*** put the shared/ folder beside the repository or set ROLEWRIGHT_CONFORMANCE ***\n",
        dir.display()
    );
    dir
}

/// Every `.json` file under `dir`, recursively, in sorted order.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect_json(dir, &mut out);
    out
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_json(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}
