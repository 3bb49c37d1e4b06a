//! Embeds the AWS managed policy documents of `data/managed-policies/` into the library.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("data/managed-policies");
    println!("cargo:rerun-if-changed=data/managed-policies");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// The AWS managed policy files: (file name, contents).\npub const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for name in &files {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name);
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("managed.rs");
    if let Err(e) = std::fs::write(&target, out) {
        println!("cargo:warning=cannot write {}: {e}", target.display());
    }
}
