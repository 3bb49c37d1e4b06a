// Shared by the build scripts that embed a folder of JSON data files into their crate
// (`include!`d, so it has no crate of its own).

/// Writes `OUT_DIR/<out>` with `pub const EMBEDDED: &[(&str, &str)]`: every `.json` file of
/// `dir` (relative to the crate), as (file name, contents), sorted by name.
fn embed_json_files(dir: &str, out: &str, doc: &str) {
    use std::fmt::Write as _;
    use std::path::Path;

    println!("cargo:rerun-if-changed={dir}");
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
    let mut text = format!("/// {doc}: (file name, contents).\npub const EMBEDDED: &[(&str, &str)] = &[\n");
    for name in &files {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(name);
        let _ = writeln!(text, "    ({name:?}, include_str!({:?})),", path.display().to_string());
    }
    text.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join(out);
    if let Err(e) = std::fs::write(&target, text) {
        println!("cargo:warning=cannot write {}: {e}", target.display());
    }
}
