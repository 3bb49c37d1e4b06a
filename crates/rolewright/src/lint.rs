//! `rolewright lint` and `rolewright summarize`: findings and grant summaries for policy files.

use std::path::PathBuf;

use rolewright_iam::{PolicyDocument, PolicyType};
use rolewright_lint::{LintType, Severity, lint, summarize};
use rolewright_reference::Reference;

use crate::validate::{FileReport, check_files, read_input};
use crate::{Format, exit, render};

/// Parses `--type` for lint: `auto` or a policy type.
pub fn parse_lint_type(s: &str) -> Result<LintType, String> {
    if s == "auto" {
        return Ok(LintType::Auto);
    }
    s.parse::<PolicyType>()
        .map(LintType::Type)
        .map_err(|e| format!("{e}, or auto"))
}

/// Runs `rolewright lint`; exits 3 when any ERROR is found.
pub fn run(files: &[PathBuf], lint_type: LintType, format: Format) -> u8 {
    let reference = Reference::embedded();
    let color = render::use_color();
    check_files(files, format, |name, text| {
        let findings = lint(text, lint_type, reference);
        let mut json = Vec::new();
        match format {
            Format::Json => {
                for f in &findings {
                    json.push(serde_json::json!({
                        "file": name,
                        "code": f.code,
                        "severity": f.severity.as_str(),
                        "path": f.path,
                        "line": f.line,
                        "column": f.column,
                        "message": f.message,
                        "help": f.help,
                    }));
                }
            }
            Format::Human => {
                for f in &findings {
                    print!("{}", render::finding(f, name, text, color));
                }
                let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
                println!(
                    "{name}: {} errors, {} security warnings, {} warnings, {} suggestions",
                    count(Severity::Error),
                    count(Severity::SecurityWarning),
                    count(Severity::Warning),
                    count(Severity::Suggestion)
                );
            }
        }
        FileReport {
            json,
            has_error: findings.iter().any(|f| f.severity == Severity::Error),
        }
    })
}

/// Runs `rolewright summarize`.
pub fn summarize_files(files: &[PathBuf], format: Format) -> u8 {
    let mut documents = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = match read_input(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        match PolicyDocument::parse(&text) {
            Ok(doc) => documents.push((name, doc)),
            Err(e) => {
                eprintln!("error: `{name}`: {e}");
                return exit::INVALID;
            }
        }
    }
    let summary = summarize(&documents, Reference::embedded());
    match format {
        Format::Human => {
            for line in summary.to_lines() {
                println!("{line}");
            }
        }
        Format::Json => {
            let grants: Vec<serde_json::Value> = summary
                .grants
                .iter()
                .map(|g| {
                    serde_json::json!({
                        "service": g.service,
                        "accessLevel": g.access_level.as_str(),
                        "actions": g.actions,
                        "resourceTypes": g.resource_types,
                        "resources": g.resources,
                        "conditional": g.conditional,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::json!({"grants": grants, "unbounded": summary.unbounded, "denied": summary.denied})
            );
        }
    }
    exit::OK
}
