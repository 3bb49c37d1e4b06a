//! Renders diagnostics for the terminal: the code, the message, where, the source line and a caret.

use std::fmt::Write as _;

use rolewright_iam::Diagnostic;

/// Whether to use colour: only on a terminal, and never when `NO_COLOR` is set.
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Formats one diagnostic with a snippet of `source`.
pub fn diagnostic(d: &Diagnostic, file: &str, source: &str, color: bool) -> String {
    let (red, yellow, blue, bold, reset) = if color {
        ("\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    let level_color = if d.is_error() { red } else { yellow };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{bold}{level_color}{}[{}]{reset}{bold}: {}{reset}",
        d.severity.as_str(),
        d.code.as_str(),
        d.message
    );
    let path = if d.path.is_empty() {
        "(document)".to_string()
    } else {
        d.path.clone()
    };
    match d.location {
        Some(loc) if loc.line > 0 => {
            let _ = writeln!(
                out,
                "  {blue}-->{reset} {file}:{}:{} at {path}",
                loc.line, loc.column
            );
            if let Some(line) = source.lines().nth(loc.line as usize - 1) {
                let number = loc.line.to_string();
                let pad = " ".repeat(number.len());
                let shown: String = line.chars().take(160).collect();
                let caret_at = (loc.column as usize)
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
    if let Some(help) = &d.help {
        let _ = writeln!(out, "  {blue}={reset} help: {help}");
    }
    out
}
