//! Renders diagnostics and lint findings for the terminal: level, code, message, where, the
//! source line and a caret.

use std::fmt::Write as _;

use rolewright_iam::Diagnostic;
use rolewright_lint::{Finding, Severity};

/// Whether to use colour: only on a terminal, and never when `NO_COLOR` is set.
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// What one report says, whatever produced it.
struct Report<'a> {
    level: &'a str,
    code: &'a str,
    serious: bool,
    message: &'a str,
    path: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    help: Option<&'a str>,
}

/// Formats one parser diagnostic with a snippet of `source`.
pub fn diagnostic(d: &Diagnostic, file: &str, source: &str, color: bool) -> String {
    render(
        &Report {
            level: d.severity.as_str(),
            code: d.code.as_str(),
            serious: d.is_error(),
            message: &d.message,
            path: &d.path,
            line: d.location.map(|l| l.line),
            column: d.location.map(|l| l.column),
            help: d.help.as_deref(),
        },
        file,
        source,
        color,
    )
}

/// Formats one lint finding with a snippet of `source`.
pub fn finding(f: &Finding, file: &str, source: &str, color: bool) -> String {
    render(
        &Report {
            level: f.severity.as_str(),
            code: f.code,
            serious: matches!(f.severity, Severity::Error | Severity::SecurityWarning),
            message: &f.message,
            path: &f.path,
            line: f.line,
            column: f.column,
            help: f.help.as_deref(),
        },
        file,
        source,
        color,
    )
}

fn render(r: &Report<'_>, file: &str, source: &str, color: bool) -> String {
    let (red, yellow, blue, bold, reset) = if color {
        ("\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    let level_color = if r.serious { red } else { yellow };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{bold}{level_color}{}[{}]{reset}{bold}: {}{reset}",
        r.level, r.code, r.message
    );
    let path = if r.path.is_empty() {
        "(document)"
    } else {
        r.path
    };
    match r.line {
        Some(line) if line > 0 => {
            let column = r.column.unwrap_or(1);
            let _ = writeln!(out, "  {blue}-->{reset} {file}:{line}:{column} at {path}");
            if let Some(text) = source.lines().nth(line as usize - 1) {
                let number = line.to_string();
                let pad = " ".repeat(number.len());
                let shown: String = text.chars().take(160).collect();
                let caret_at = (column as usize)
                    .saturating_sub(1)
                    .min(shown.chars().count());
                let _ = writeln!(out, "  {blue}{pad} |{reset}");
                let _ = writeln!(out, "  {blue}{number} |{reset} {shown}");
                let _ = writeln!(
                    out,
                    "  {blue}{pad} |{reset} {}{level_color}^{reset}",
                    " ".repeat(caret_at)
                );
            }
        }
        _ => {
            let _ = writeln!(out, "  {blue}-->{reset} {file} at {path}");
        }
    }
    if let Some(help) = r.help {
        let _ = writeln!(out, "  {blue}={reset} help: {help}");
    }
    out
}
