//! `rolewright validate`: reads policy files and reports every diagnostic.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use rolewright_iam::{PolicyType, parse_policy};

use crate::{Format, exit, render};

/// Reads a file, or standard input for `-`, refusing files far larger than any policy.
pub fn read_input(path: &Path) -> Result<String, String> {
    const LIMIT: u64 = 16 << 20;
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(LIMIT + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        file.take(LIMIT + 1)
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    }
    if text.len() as u64 > LIMIT {
        return Err(format!(
            "`{}` is larger than 16 MiB; it cannot be a policy",
            path.display()
        ));
    }
    Ok(text)
}

/// What checking one file found: JSON rows for `--format json`, and whether any is an error.
pub struct FileReport {
    /// One JSON object per finding.
    pub json: Vec<serde_json::Value>,
    /// Whether the file has an error (exit 3).
    pub has_error: bool,
}

/// Reads each file and hands its name and text to `check`, which prints its human report and
/// returns a [`FileReport`]. With `--format json` the rows of all files are printed as one array.
/// Exits 1 when a file cannot be read, 3 when any file has an error, 0 otherwise.
pub fn check_files(
    files: &[PathBuf],
    format: Format,
    mut check: impl FnMut(&str, &str) -> FileReport,
) -> u8 {
    let mut any_error = false;
    let mut io_error = false;
    let mut json_out = Vec::new();
    for path in files {
        let text = match read_input(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                io_error = true;
                continue;
            }
        };
        let report = check(&path.display().to_string(), &text);
        any_error |= report.has_error;
        json_out.extend(report.json);
    }
    if format == Format::Json {
        println!("{}", serde_json::Value::Array(json_out));
    }
    if io_error {
        exit::ERROR
    } else if any_error {
        exit::INVALID
    } else {
        exit::OK
    }
}

/// Runs the command; returns the exit code.
pub fn run(policy_type: PolicyType, format: Format, files: &[PathBuf]) -> u8 {
    let color = render::use_color();
    check_files(files, format, |name, text| {
        let outcome = parse_policy(text, policy_type);
        let errors = outcome.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = outcome.diagnostics.len() - errors;
        let mut json = Vec::new();
        match format {
            Format::Human => {
                for d in &outcome.diagnostics {
                    eprint!("{}", render::diagnostic(d, name, text, color));
                }
                if errors == 0 {
                    println!(
                        "{name}: valid {} policy{}",
                        policy_type,
                        if warnings > 0 {
                            format!(" ({warnings} warning{})", plural(warnings))
                        } else {
                            String::new()
                        }
                    );
                } else {
                    println!(
                        "{name}: {errors} error{}, {warnings} warning{}",
                        plural(errors),
                        plural(warnings)
                    );
                }
            }
            Format::Json => {
                for d in &outcome.diagnostics {
                    json.push(serde_json::json!({
                        "file": name,
                        "code": d.code.as_str(),
                        "severity": d.severity.as_str(),
                        "path": d.path,
                        "line": d.location.map(|l| l.line),
                        "column": d.location.map(|l| l.column),
                        "message": d.message,
                        "help": d.help,
                    }));
                }
            }
        }
        FileReport {
            json,
            has_error: errors > 0,
        }
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
