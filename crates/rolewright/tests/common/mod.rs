//! Helpers shared by the CLI tests: run the real binary, read its output, make scratch files.
#![allow(dead_code, reason = "each test file uses part of these helpers")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `rolewright` with `args`, colour off.
pub fn rolewright(args: &[&str]) -> Output {
    rolewright_with_env(args, &[])
}

/// Runs `rolewright` with `args`, colour off, and environment variables set (`Some`) or removed
/// (`None`) for the child only.
pub fn rolewright_with_env(args: &[&str], vars: &[(&str, Option<&str>)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rolewright"));
    command.args(args).env("NO_COLOR", "1");
    for (name, value) in vars {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    match command.output() {
        Ok(out) => out,
        Err(e) => panic!("the rolewright binary does not run: {e}"),
    }
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rolewright-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
    path.to_string_lossy().into_owned()
}
