//! Policy linter: findings in IAM Access Analyzer's four severities, with stable codes and JSON paths.
//!
//! The engine's parser already refuses what IAM refuses (wrong types, unknown keys, ...). The
//! linter adds what needs knowledge of AWS's services: actions that do not exist, resource ARNs
//! that no action accepts (a KMS key id where IAM wants a key ARN), condition keys that no action
//! of the statement supports or that the operator cannot compare, and patterns that grant more
//! than intended (`iam:PassRole` on `*`, `Allow` with `NotAction`, privilege escalation).
//!
//! ```
//! use rolewright_lint::{lint, LintType, Severity};
//! use rolewright_reference::Reference;
//!
//! let findings = lint(r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!     "Action": "sagemaker:CreateTrainingJobs", "Resource": "*"}]}"#,
//!     LintType::Auto, Reference::embedded());
//! assert_eq!(findings[0].code, "unknown-action");
//! assert_eq!(findings[0].severity, Severity::Error);
//! assert_eq!(findings[0].help.as_deref(), Some("did you mean `sagemaker:CreateTrainingJob`?"));
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]

mod check;
mod locate;
pub mod summary;

use std::fmt;

use rolewright_iam::{PolicyType, Severity as ParseSeverity, parse_policy};
use rolewright_reference::Reference;

pub use summary::{Summary, summarize};

/// IAM Access Analyzer's four finding categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// IAM refuses the policy, or part of it can never work.
    Error,
    /// The policy grants more than is safe.
    SecurityWarning,
    /// Something is probably not what the author meant.
    Warning,
    /// A way to make the policy tighter or clearer.
    Suggestion,
}

impl Severity {
    /// The name Access Analyzer uses (`ERROR`, `SECURITY_WARNING`, `WARNING`, `SUGGESTION`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::SecurityWarning => "SECURITY_WARNING",
            Severity::Warning => "WARNING",
            Severity::Suggestion => "SUGGESTION",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// A stable code (`unknown-action`, `resource-mismatch`, ...).
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The JSON path of the element (`Statement[0].Action[2]`).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What to do, when there is something to suggest.
    pub help: Option<String>,
    /// Line and column in the source, when known.
    pub line: Option<u32>,
    /// Column in the source, when known.
    pub column: Option<u32>,
}

impl Finding {
    fn new(
        code: &'static str,
        severity: Severity,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            code,
            severity,
            path: path.into(),
            message: message.into(),
            help: None,
            line: None,
            column: None,
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Which rules to lint a policy under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LintType {
    /// Decide from the document: a policy whose statements name a `Principal` is a resource
    /// policy (a trust policy when its actions are `sts:AssumeRole*`), otherwise an identity policy.
    #[default]
    Auto,
    /// A given policy type.
    Type(PolicyType),
}

/// Every code the linter can report, with its severity, for documentation and tooling.
pub const CODES: &[(&str, Severity, &str)] = &[
    (
        "unknown-service",
        Severity::Error,
        "an action's service prefix is not an AWS service",
    ),
    (
        "unknown-action",
        Severity::Error,
        "an action does not exist in its service",
    ),
    (
        "wildcard-matches-nothing",
        Severity::Error,
        "an action wildcard matches no action",
    ),
    (
        "missing-action",
        Severity::Error,
        "a statement has neither Action nor NotAction",
    ),
    (
        "malformed-arn",
        Severity::Error,
        "a resource is neither `*` nor an ARN",
    ),
    (
        "resource-mismatch",
        Severity::Error,
        "a resource ARN matches no resource type of the statement's actions",
    ),
    (
        "action-resource-mismatch",
        Severity::Warning,
        "an action accepts none of the statement's resources, so the statement never grants it",
    ),
    (
        "unknown-condition-key",
        Severity::Error,
        "a condition key does not exist",
    ),
    (
        "condition-key-not-applicable",
        Severity::Warning,
        "no action of the statement supports the condition key",
    ),
    (
        "condition-type-mismatch",
        Severity::Error,
        "the operator cannot compare the key's type",
    ),
    (
        "condition-type-usable",
        Severity::Suggestion,
        "the operator works on the key but a more precise one exists",
    ),
    (
        "invalid-condition-value",
        Severity::Error,
        "a condition value cannot be read by its operator",
    ),
    (
        "set-operator-on-single-valued-key",
        Severity::Warning,
        "ForAllValues/ForAnyValue on a key with one value",
    ),
    (
        "missing-set-operator",
        Severity::Warning,
        "a multi-valued key compared without ForAllValues/ForAnyValue",
    ),
    (
        "mfa-condition-false",
        Severity::SecurityWarning,
        "allowing when aws:MultiFactorAuthPresent is false",
    ),
    (
        "resource-star",
        Severity::Suggestion,
        "`Resource: \"*\"` on actions that accept specific resources",
    ),
    (
        "resource-effectively-star",
        Severity::Suggestion,
        "an ARN pattern that matches every resource of its type in every account",
    ),
    (
        "passrole-star",
        Severity::SecurityWarning,
        "iam:PassRole on every role",
    ),
    (
        "passrole-without-service",
        Severity::SecurityWarning,
        "iam:PassRole without an iam:PassedToService condition",
    ),
    (
        "allow-not-action",
        Severity::SecurityWarning,
        "Allow with NotAction grants every other action",
    ),
    (
        "allow-not-resource",
        Severity::SecurityWarning,
        "Allow with NotResource grants every other resource",
    ),
    (
        "privilege-escalation",
        Severity::SecurityWarning,
        "an action that lets the holder raise their own permissions",
    ),
    (
        "resource-policy-write",
        Severity::SecurityWarning,
        "an action that rewrites a resource-based policy",
    ),
    (
        "permissions-management",
        Severity::Warning,
        "actions on `*` that change who may access resources",
    ),
    (
        "duplicate-sid",
        Severity::Error,
        "two statements share a Sid",
    ),
    (
        "invalid-sid",
        Severity::Error,
        "a Sid with characters IAM does not accept",
    ),
    (
        "missing-version",
        Severity::Warning,
        "no Version: policy variables are not substituted",
    ),
    (
        "old-version",
        Severity::Warning,
        "Version 2008-10-17: policy variables are not substituted",
    ),
    (
        "redundant-statement",
        Severity::Suggestion,
        "a statement whose grant another statement already makes",
    ),
    (
        "empty-array",
        Severity::Warning,
        "an empty list that matches nothing",
    ),
];

/// Lints policy text.
pub fn lint(text: &str, lint_type: LintType, reference: &Reference) -> Vec<Finding> {
    let policy_type = match lint_type {
        LintType::Type(t) => t,
        LintType::Auto => PolicyType::Generic,
    };
    let outcome = parse_policy(text, policy_type);
    let mut findings: Vec<Finding> = outcome
        .diagnostics
        .iter()
        .map(|d| {
            let severity = match d.severity {
                ParseSeverity::Error => Severity::Error,
                ParseSeverity::Warning => Severity::Warning,
            };
            let code = match d.code.as_str() {
                "empty" => "empty-array",
                other => other,
            };
            let mut f = Finding::new(code, severity, d.path.clone(), d.message.clone());
            f.help = d.help.clone();
            f.line = d.location.map(|l| l.line);
            f.column = d.location.map(|l| l.column);
            f
        })
        .collect();
    if let Some(document) = &outcome.document {
        let policy_type = match lint_type {
            LintType::Type(t) => t,
            LintType::Auto => check::infer_type(document),
        };
        let mut more = check::run(document, policy_type, reference);
        locate::attach(text, &mut more);
        findings.extend(more);
    }
    findings.sort_by(|a, b| {
        (a.line, a.column, a.severity, a.code).cmp(&(b.line, b.column, b.severity, b.code))
    });
    findings.dedup();
    findings
}
