//! Diagnostics: what is wrong with a policy, where (JSON path, line and column), and what to do.

use std::fmt;

use crate::json::Location;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// IAM would refuse the document, or the engine cannot give it a meaning.
    Error,
    /// IAM accepts the document but part of it can never take effect as the author meant.
    Warning,
}

impl Severity {
    /// The lowercase name (`error`, `warning`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The stable code of a diagnostic; tools and tests match on it, never on the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiagnosticCode {
    /// The text is not JSON.
    JsonSyntax,
    /// An object has the same key twice.
    DuplicateKey,
    /// A value has the wrong JSON type.
    WrongType,
    /// A key that the policy grammar does not have.
    UnknownKey,
    /// A required element is missing.
    MissingElement,
    /// Both an element and its `Not` form are present.
    ConflictingElements,
    /// A value outside the allowed set (`Effect`, `Version`).
    InvalidValue,
    /// An action that is not `*` or `service:action`.
    InvalidAction,
    /// An action that is well formed for IAM yet can never match a request.
    UnmatchableAction,
    /// A condition operator that IAM does not know.
    InvalidOperator,
    /// An empty list or document where IAM expects values.
    Empty,
    /// An element that this policy type does not allow.
    NotAllowedForType,
    /// An element that this policy type requires.
    RequiredForType,
    /// A value that this policy type restricts (`Effect` of an RCP, `Principal` of an endpoint policy).
    RestrictedForType,
}

impl DiagnosticCode {
    /// The code as written in output (`wrong-type`).
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticCode::JsonSyntax => "json-syntax",
            DiagnosticCode::DuplicateKey => "duplicate-key",
            DiagnosticCode::WrongType => "wrong-type",
            DiagnosticCode::UnknownKey => "unknown-key",
            DiagnosticCode::MissingElement => "missing-element",
            DiagnosticCode::ConflictingElements => "conflicting-elements",
            DiagnosticCode::InvalidValue => "invalid-value",
            DiagnosticCode::InvalidAction => "invalid-action",
            DiagnosticCode::UnmatchableAction => "unmatchable-action",
            DiagnosticCode::InvalidOperator => "invalid-operator",
            DiagnosticCode::Empty => "empty",
            DiagnosticCode::NotAllowedForType => "not-allowed-for-type",
            DiagnosticCode::RequiredForType => "required-for-type",
            DiagnosticCode::RestrictedForType => "restricted-for-type",
        }
    }
}

/// One finding about a policy document.
///
/// `path` is a JSON path from the document root (`Statement[1].Condition.StringLike`); the empty
/// path is the document itself. A final segment written `#Name` means the key `Name` itself
/// rather than its value: `Statement[0].#Principal` is "the `Principal` key should not be here".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: DiagnosticCode,
    /// Error or warning.
    pub severity: Severity,
    /// JSON path of the offending element.
    pub path: String,
    /// What is wrong, in lowercase words with the user's input in backticks.
    pub message: String,
    /// Where the element starts in the source, when the document came from text.
    pub location: Option<Location>,
    /// What to do about it, when there is something to suggest.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(
        code: DiagnosticCode,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            location: None,
            help: None,
        }
    }

    /// A warning.
    pub fn warning(
        code: DiagnosticCode,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, message)
        }
    }

    /// Sets the source location.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Adds a suggestion.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if !self.path.is_empty() {
            write!(f, " at `{}`", self.path)?;
        }
        if let Some(location) = self.location {
            write!(f, " (line {}, column {})", location.line, location.column)?;
        }
        Ok(())
    }
}

/// The diagnostics that made a document unusable; at least one is an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors {
    /// Every diagnostic found, errors and warnings, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

impl PolicyErrors {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut errors = self.errors();
        match errors.next() {
            Some(first) => {
                write!(f, "invalid policy: {first}")?;
                let more = errors.count();
                if more > 0 {
                    write!(f, " (and {more} more)")?;
                }
                Ok(())
            }
            None => write!(f, "invalid policy"),
        }
    }
}
