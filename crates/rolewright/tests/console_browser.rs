//! The web console in a real browser: runs `tests/console/run.mjs` (playwright-core driving
//! Debian's chromium) against this build's `rolewright serve`.
//!
//! It needs Node.js, `/usr/bin/chromium` (or `CHROMIUM`) and playwright-core in
//! `tests/console/node_modules`; when that is missing (a fresh clone), the test runs `npm ci`
//! there first. Screenshots of each step go to `target/console-artifacts`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

use std::path::PathBuf;
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_console_in_chromium() {
    let suite = workspace().join("tests/console");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        chromium.exists(),
        "no browser at {}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM",
        chromium.display()
    );
    if !suite.join("node_modules/playwright-core").exists() {
        eprintln!("installing playwright-core in {}", suite.display());
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&suite)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            installed,
            "could not install playwright-core; run `npm ci` in {}",
            suite.display()
        );
    }
    let artifacts = workspace().join("target/console-artifacts");
    let out = Command::new("node")
        .arg(suite.join("run.mjs"))
        .env("ROLEWRIGHT", env!("CARGO_BIN_EXE_rolewright"))
        .env("CHROMIUM", &chromium)
        .env("ARTIFACTS", &artifacts)
        .output()
        .expect("node runs (install Node.js)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        out.status.success() && last.ends_with(" 0 failed"),
        "the browser tests failed ({last}):\n{stdout}\n{stderr}"
    );
    eprintln!(
        "console in chromium: {last} (screenshots in {})",
        artifacts.display()
    );
}
