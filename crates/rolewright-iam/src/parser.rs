//! Turns policy text into a [`PolicyDocument`], checking the grammar and the rules of each policy type.
//!
//! Every problem is collected, not only the first, each with its JSON path and line/column, so a
//! user fixes a file in one pass. The rules that depend on where a policy is used (an SCP may not
//! name a `Principal`, a trust policy may not name a `Resource`, ...) are checked here too, because
//! only here are the source locations known.

use std::fmt;
use std::str::FromStr;

use crate::ast::{
    ConditionBlock, ConditionEntry, ConditionOperator, Effect, Negatable, OperatorError,
    PolicyDocument, Principal, PrincipalKind, Statement, StringList, VERSION_2008, VERSION_2012,
};
use crate::diagnostic::{Diagnostic, DiagnosticCode, PolicyErrors};
use crate::json::{self, JsonValue, Limits, Location, Spanned};

/// Where a policy is used; each place has its own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PolicyType {
    /// Only the grammar, no placement rules.
    #[default]
    Generic,
    /// Attached to a user, group or role (inline or managed).
    Identity,
    /// Attached to a resource (S3 bucket policy, KMS key policy, ...).
    Resource,
    /// A role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
    /// A permissions boundary.
    Boundary,
    /// A session policy passed to `AssumeRole`.
    Session,
    /// An AWS Organizations service control policy.
    ServiceControl,
    /// An AWS Organizations resource control policy.
    ResourceControl,
    /// A VPC endpoint policy.
    Endpoint,
}

impl PolicyType {
    /// Every type, generic first.
    pub const ALL: &'static [PolicyType] = &[
        PolicyType::Generic,
        PolicyType::Identity,
        PolicyType::Resource,
        PolicyType::Trust,
        PolicyType::Boundary,
        PolicyType::Session,
        PolicyType::ServiceControl,
        PolicyType::ResourceControl,
        PolicyType::Endpoint,
    ];

    /// The short name used on the command line (`identity`, `scp`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Generic => "generic",
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Trust => "trust",
            PolicyType::Boundary => "boundary",
            PolicyType::Session => "session",
            PolicyType::ServiceControl => "scp",
            PolicyType::ResourceControl => "rcp",
            PolicyType::Endpoint => "endpoint",
        }
    }

    /// The phrase used in messages ("in an identity policy").
    fn phrase(self) -> &'static str {
        match self {
            PolicyType::Generic => "in a policy",
            PolicyType::Identity => "in an identity policy",
            PolicyType::Resource => "in a resource policy",
            PolicyType::Trust => "in a trust policy",
            PolicyType::Boundary => "in a permissions boundary",
            PolicyType::Session => "in a session policy",
            PolicyType::ServiceControl => "in a service control policy",
            PolicyType::ResourceControl => "in a resource control policy",
            PolicyType::Endpoint => "in a VPC endpoint policy",
        }
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = PolicyType::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown policy type `{s}`, expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// The result of reading a policy: the document when it is usable, and every diagnostic.
#[derive(Debug, Clone)]
pub struct ParseOutcome {
    /// The document, when no error was found.
    pub document: Option<PolicyDocument>,
    /// Errors and warnings, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a policy of the given type with the default size and depth limits.
///
/// ```
/// use rolewright_iam::{parse_policy, PolicyType};
///
/// let outcome = parse_policy(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
///     "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}}"#, PolicyType::Identity);
/// assert!(outcome.document.is_none());
/// assert_eq!(outcome.diagnostics[0].path, "Statement.#Principal");
/// assert_eq!(outcome.diagnostics[0].message,
///     "`Principal` is not allowed in an identity policy");
/// ```
pub fn parse_policy(text: &str, policy_type: PolicyType) -> ParseOutcome {
    parse_policy_with_limits(text, policy_type, Limits::default())
}

/// Reads a policy of the given type with explicit limits.
pub fn parse_policy_with_limits(
    text: &str,
    policy_type: PolicyType,
    limits: Limits,
) -> ParseOutcome {
    match json::parse(text, limits) {
        Ok(root) => from_json(&root, policy_type),
        Err(err) => {
            let code = if err.path.is_some() {
                DiagnosticCode::DuplicateKey
            } else {
                DiagnosticCode::JsonSyntax
            };
            ParseOutcome {
                document: None,
                diagnostics: vec![
                    Diagnostic::error(code, err.path.clone().unwrap_or_default(), err.message)
                        .at(err.location),
                ],
            }
        }
    }
}

/// Builds a document from an already-read JSON value.
pub fn from_json(root: &Spanned, policy_type: PolicyType) -> ParseOutcome {
    let mut builder = Builder {
        policy_type,
        diagnostics: Vec::new(),
    };
    let document = builder.document(root);
    let has_error = builder.diagnostics.iter().any(Diagnostic::is_error);
    ParseOutcome {
        document: if has_error { None } else { document },
        diagnostics: builder.diagnostics,
    }
}

impl PolicyDocument {
    /// Parses a policy with no placement rules; errors when the text is not a valid policy.
    ///
    /// ```
    /// use rolewright_iam::PolicyDocument;
    ///
    /// let doc = PolicyDocument::parse(r#"{"Version": "2012-10-17",
    ///     "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#)?;
    /// assert_eq!(doc.statements.len(), 1);
    ///
    /// let err = PolicyDocument::parse(r#"{"Statement": [{"Effect": "allow"}]}"#).unwrap_err();
    /// assert_eq!(err.to_string(),
    ///     "invalid policy: `Effect` must be exactly `Allow` or `Deny`, found `allow` \
    ///      at `Statement[0].Effect` (line 1, column 27)");
    /// # Ok::<(), rolewright_iam::PolicyErrors>(())
    /// ```
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyErrors> {
        PolicyDocument::parse_as(text, PolicyType::Generic)
    }

    /// Parses a policy and checks the rules of `policy_type`.
    pub fn parse_as(text: &str, policy_type: PolicyType) -> Result<PolicyDocument, PolicyErrors> {
        let outcome = parse_policy(text, policy_type);
        match outcome.document {
            Some(doc) => Ok(doc),
            None => Err(PolicyErrors {
                diagnostics: outcome.diagnostics,
            }),
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn key_path(path: &str, key: &str) -> String {
    join(path, &format!("#{key}"))
}

const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

struct Builder {
    policy_type: PolicyType,
    diagnostics: Vec<Diagnostic>,
}

impl Builder {
    fn error(&mut self, code: DiagnosticCode, path: String, message: String, at: Location) {
        self.diagnostics
            .push(Diagnostic::error(code, path, message).at(at));
    }

    fn warn(&mut self, code: DiagnosticCode, path: String, message: String, at: Location) {
        self.diagnostics
            .push(Diagnostic::warning(code, path, message).at(at));
    }

    fn wrong_type(&mut self, path: String, what: &str, expected: &str, found: &Spanned) {
        let message = format!(
            "{what} must be {expected}, found {}",
            article(found.value.type_name())
        );
        self.error(DiagnosticCode::WrongType, path, message, found.location);
    }

    fn document(&mut self, root: &Spanned) -> Option<PolicyDocument> {
        let JsonValue::Object(members) = &root.value else {
            self.wrong_type(String::new(), "a policy", "a JSON object", root);
            return None;
        };
        let mut version = None;
        let mut id = None;
        let mut statement = None;
        for (key, key_location, value) in members {
            match key.as_str() {
                "Version" => version = Some(value),
                "Id" => id = Some(value),
                "Statement" => statement = Some(value),
                _ => {
                    let help = closest(key, &["Version", "Id", "Statement"]);
                    let mut d = Diagnostic::error(
                        DiagnosticCode::UnknownKey,
                        key_path("", key),
                        format!("unknown key `{key}` in policy"),
                    )
                    .at(*key_location);
                    if let Some(h) = help {
                        d = d.with_help(format!("did you mean `{h}`?"));
                    }
                    self.diagnostics.push(d);
                }
            }
        }
        let version = version.and_then(|v| self.version(v));
        if self.policy_type == PolicyType::ResourceControl
            && version.as_deref() != Some(VERSION_2012)
        {
            let (path, at) = match members.iter().find(|(k, _, _)| k == "Version") {
                Some((_, _, v)) => ("Version".to_string(), v.location),
                None => (String::new(), root.location),
            };
            self.error(
                DiagnosticCode::RestrictedForType,
                path,
                format!("`Version` must be `{VERSION_2012}` in a resource control policy"),
                at,
            );
        }
        let id = id.and_then(|v| self.string(v, "Id".into(), "`Id`"));
        let Some(statement) = statement else {
            self.error(
                DiagnosticCode::MissingElement,
                String::new(),
                "`Statement` is required".into(),
                root.location,
            );
            return None;
        };
        let (statements, statement_is_object) = match &statement.value {
            JsonValue::Object(_) => (
                self.statement(statement, "Statement".into())
                    .into_iter()
                    .collect(),
                true,
            ),
            JsonValue::Array(items) => {
                if items.is_empty() {
                    // IAM refuses a policy without statements; the engine reads one (an empty
                    // SCP level allows nothing) when no placement rules are asked for.
                    if self.policy_type == PolicyType::Generic {
                        self.warn(
                            DiagnosticCode::Empty,
                            "Statement".into(),
                            "`Statement` is empty, so the policy allows and denies nothing".into(),
                            statement.location,
                        );
                    } else {
                        self.error(
                            DiagnosticCode::Empty,
                            "Statement".into(),
                            "`Statement` is empty; IAM requires at least one statement".into(),
                            statement.location,
                        );
                    }
                }
                let mut statements = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.statement(item, format!("Statement[{i}]")) {
                        statements.push(s);
                    }
                }
                (statements, false)
            }
            _ => {
                self.wrong_type(
                    "Statement".into(),
                    "`Statement`",
                    "an object or an array of objects",
                    statement,
                );
                return None;
            }
        };
        Some(PolicyDocument {
            version,
            id,
            statements,
            statement_is_object,
        })
    }

    fn version(&mut self, value: &Spanned) -> Option<String> {
        let JsonValue::String(v) = &value.value else {
            self.wrong_type("Version".into(), "`Version`", "a string", value);
            return None;
        };
        if v != VERSION_2012 && v != VERSION_2008 {
            self.error(
                DiagnosticCode::InvalidValue,
                "Version".into(),
                format!("`Version` must be `{VERSION_2012}` or `{VERSION_2008}`, found `{v}`"),
                value.location,
            );
            return None;
        }
        Some(v.clone())
    }

    fn string(&mut self, value: &Spanned, path: String, what: &str) -> Option<String> {
        match &value.value {
            JsonValue::String(s) => Some(s.clone()),
            _ => {
                self.wrong_type(path, what, "a string", value);
                None
            }
        }
    }

    fn statement(&mut self, value: &Spanned, path: String) -> Option<Statement> {
        let JsonValue::Object(members) = &value.value else {
            self.wrong_type(path, "a statement", "a JSON object", value);
            return None;
        };
        // One pass over the members files each known key by its index in STATEMENT_KEYS.
        let mut slots: [Option<(Location, &Spanned)>; STATEMENT_KEYS.len()] =
            [None; STATEMENT_KEYS.len()];
        for (key, key_location, v) in members {
            if let Some(i) = STATEMENT_KEYS.iter().position(|k| k == key) {
                slots[i] = Some((*key_location, v));
            }
        }
        let find = |name: &str| {
            STATEMENT_KEYS
                .iter()
                .position(|k| *k == name)
                .and_then(|i| slots[i])
        };
        for (key, key_location, _) in members {
            if !STATEMENT_KEYS.contains(&key.as_str()) {
                let mut d = Diagnostic::error(
                    DiagnosticCode::UnknownKey,
                    key_path(&path, key),
                    format!("unknown key `{key}` in statement"),
                )
                .at(*key_location);
                if let Some(h) = closest(key, STATEMENT_KEYS) {
                    d = d.with_help(format!("did you mean `{h}`?"));
                }
                self.diagnostics.push(d);
            }
        }
        let mut ok = true;

        let sid = match find("Sid") {
            Some((_, v)) => {
                let s = self.string(v, join(&path, "Sid"), "`Sid`");
                ok &= s.is_some();
                s
            }
            None => None,
        };

        let effect = match find("Effect") {
            None => {
                self.error(
                    DiagnosticCode::MissingElement,
                    path.clone(),
                    "`Effect` is required and must be `Allow` or `Deny`".into(),
                    value.location,
                );
                None
            }
            Some((_, v)) => match &v.value {
                JsonValue::String(s) if s == "Allow" => Some(Effect::Allow),
                JsonValue::String(s) if s == "Deny" => Some(Effect::Deny),
                JsonValue::String(s) => {
                    let mut d = Diagnostic::error(
                        DiagnosticCode::InvalidValue,
                        join(&path, "Effect"),
                        format!("`Effect` must be exactly `Allow` or `Deny`, found `{s}`"),
                    )
                    .at(v.location);
                    if s.eq_ignore_ascii_case("allow") {
                        d = d.with_help("write `Allow`: IAM is case-sensitive here");
                    } else if s.eq_ignore_ascii_case("deny") {
                        d = d.with_help("write `Deny`: IAM is case-sensitive here");
                    }
                    self.diagnostics.push(d);
                    None
                }
                _ => {
                    self.wrong_type(join(&path, "Effect"), "`Effect`", "a string", v);
                    None
                }
            },
        };

        let principal = self
            .element(
                &path,
                value.location,
                &find,
                ("Principal", "NotPrincipal"),
                &mut ok,
                |b, v, path, name| b.principal(v, path, name).map(|p| (v.location, p)),
            )
            .map(|(negated, key_location, (value_location, p))| {
                (negated, key_location, value_location, p)
            });

        let action = self
            .element(
                &path,
                value.location,
                &find,
                ("Action", "NotAction"),
                &mut ok,
                |b, v, path, name| {
                    let list = b.string_list(v, path.clone(), name)?;
                    b.check_actions(&list, v, &path);
                    Some((v, list))
                },
            )
            .map(|(negated, key_location, (v, list))| (negated, key_location, v, list));

        let resource = self.element(
            &path,
            value.location,
            &find,
            ("Resource", "NotResource"),
            &mut ok,
            |b, v, path, name| b.string_list(v, path, name),
        );

        let condition = match find("Condition") {
            None => None,
            Some((_, v)) => match self.condition(v, join(&path, "Condition")) {
                Some(c) => Some(c),
                None => {
                    ok = false;
                    None
                }
            },
        };

        let action_present = find("Action").is_some() || find("NotAction").is_some();
        let resource_present = find("Resource").is_some() || find("NotResource").is_some();
        let principal_present = find("Principal").is_some() || find("NotPrincipal").is_some();
        if action_present && action.is_none()
            || resource_present && resource.is_none()
            || principal_present && principal.is_none()
        {
            // An element with a type error was reported already; placement rules would only
            // repeat it as "missing".
            return None;
        }
        self.placement_rules(
            &path,
            value.location,
            effect,
            &principal,
            &action,
            &resource,
        );

        let effect = effect?;
        if !ok {
            return None;
        }
        Some(Statement {
            sid,
            effect,
            principal: principal.map(|(negated, _, _, value)| Negatable { negated, value }),
            action: action.map(|(negated, _, _, value)| Negatable { negated, value }),
            resource: resource.map(|(negated, _, value)| Negatable { negated, value }),
            condition,
        })
    }

    /// Reads an element that has a `Not` form (`Action`/`NotAction`, ...) with `read`, which
    /// gets the value, its path and the key as written. Clears `ok` when the element is invalid.
    fn element<'v, T>(
        &mut self,
        path: &str,
        statement_location: Location,
        find: &impl Fn(&str) -> Option<(Location, &'v Spanned)>,
        (name, not_name): (&'static str, &'static str),
        ok: &mut bool,
        read: impl FnOnce(&mut Self, &'v Spanned, String, &str) -> Option<T>,
    ) -> Option<(bool, Location, T)> {
        match self.pair(path, statement_location, find(name), find(not_name), name) {
            Pair::None => None,
            Pair::Conflict => {
                *ok = false;
                None
            }
            Pair::One {
                negated,
                key_location,
                value,
            } => {
                let key = if negated { not_name } else { name };
                match read(self, value, join(path, key), key) {
                    Some(t) => Some((negated, key_location, t)),
                    None => {
                        *ok = false;
                        None
                    }
                }
            }
        }
    }

    fn pair<'v>(
        &mut self,
        path: &str,
        statement_location: Location,
        plain: Option<(Location, &'v Spanned)>,
        negated: Option<(Location, &'v Spanned)>,
        name: &str,
    ) -> Pair<'v> {
        match (plain, negated) {
            (None, None) => Pair::None,
            (Some(_), Some(_)) => {
                self.error(
                    DiagnosticCode::ConflictingElements,
                    path.to_string(),
                    format!("a statement may have `{name}` or `Not{name}`, not both"),
                    statement_location,
                );
                Pair::Conflict
            }
            (Some((key_location, value)), None) => Pair::One {
                negated: false,
                key_location,
                value,
            },
            (None, Some((key_location, value))) => Pair::One {
                negated: true,
                key_location,
                value,
            },
        }
    }

    fn string_list(&mut self, value: &Spanned, path: String, name: &str) -> Option<StringList> {
        match &value.value {
            JsonValue::String(s) => Some(StringList::one(s.clone())),
            JsonValue::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match &item.value {
                        JsonValue::String(s) => values.push(s.clone()),
                        _ => {
                            ok = false;
                            self.wrong_type(
                                format!("{path}[{i}]"),
                                &format!("each `{name}` value"),
                                "a string",
                                item,
                            );
                        }
                    }
                }
                if items.is_empty() {
                    self.warn(
                        DiagnosticCode::Empty,
                        path,
                        format!("`{name}` is an empty list, so it matches nothing"),
                        value.location,
                    );
                }
                ok.then(|| StringList::many(values))
            }
            _ => {
                self.wrong_type(
                    path,
                    &format!("`{name}`"),
                    "a string or an array of strings",
                    value,
                );
                None
            }
        }
    }

    fn check_actions(&mut self, list: &StringList, value: &Spanned, path: &str) {
        for (i, action) in list.values.iter().enumerate() {
            let (item_path, at) = match &value.value {
                JsonValue::Array(items) => (
                    format!("{path}[{i}]"),
                    items.get(i).map_or(value.location, |s| s.location),
                ),
                _ => (path.to_string(), value.location),
            };
            if action == "*" {
                continue;
            }
            let Some((service, name)) = action.split_once(':').filter(|(_, n)| !n.contains(':'))
            else {
                self.diagnostics.push(
                    Diagnostic::error(
                        DiagnosticCode::InvalidAction,
                        item_path,
                        format!("action `{action}` must be `*` or `service:action`"),
                    )
                    .at(at)
                    .with_help("an action has exactly one `:` between the service prefix and the action name"),
                );
                continue;
            };
            if service.is_empty()
                || !service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                self.error(
                    DiagnosticCode::InvalidAction,
                    item_path,
                    format!(
                        "service prefix `{service}` of action `{action}` may contain only letters, digits and hyphens"
                    ),
                    at,
                );
                continue;
            }
            if let Some(bad) = name.chars().find(|c| {
                !(c.is_ascii_alphanumeric()
                    || matches!(c, '*' | '?' | ',' | '-' | '_')
                    || c.is_whitespace())
            }) {
                self.error(
                    DiagnosticCode::InvalidAction,
                    item_path,
                    format!(
                        "action `{action}` contains `{bad}`; action names may contain only letters, digits, hyphens and the wildcards `*` and `?`"
                    ),
                    at,
                );
                continue;
            }
            if name.is_empty() || name.trim().is_empty() {
                self.diagnostics.push(
                    Diagnostic::warning(
                        DiagnosticCode::UnmatchableAction,
                        item_path,
                        format!("action `{action}` has no action name, so it matches nothing"),
                    )
                    .at(at),
                );
            } else if name.contains(',') {
                let fixed: Vec<String> = name
                    .split(',')
                    .map(|n| format!("\"{service}:{}\"", n.trim()))
                    .collect();
                self.diagnostics.push(
                    Diagnostic::warning(
                        DiagnosticCode::UnmatchableAction,
                        item_path,
                        format!("action `{action}` contains a comma, so it matches nothing"),
                    )
                    .at(at)
                    .with_help(format!(
                        "list the actions separately: [{}]",
                        fixed.join(", ")
                    )),
                );
            } else if name.chars().any(char::is_whitespace) {
                self.diagnostics.push(
                    Diagnostic::warning(
                        DiagnosticCode::UnmatchableAction,
                        item_path,
                        format!("action `{action}` contains whitespace, so it matches nothing"),
                    )
                    .at(at)
                    .with_help(format!("write `{service}:{}`", name.trim())),
                );
            }
        }
    }

    fn principal(&mut self, value: &Spanned, path: String, name: &str) -> Option<Principal> {
        match &value.value {
            JsonValue::String(s) if s == "*" => Some(Principal::Wildcard),
            JsonValue::String(s) => {
                self.diagnostics.push(
                    Diagnostic::warning(
                        DiagnosticCode::InvalidValue,
                        path,
                        format!("a string `{name}` should be `*`, found `{s}`"),
                    )
                    .at(value.location)
                    .with_help(format!(
                        "write {{\"AWS\": \"{s}\"}} to name an AWS principal"
                    )),
                );
                Some(Principal::Bare(s.clone()))
            }
            JsonValue::Object(members) => {
                let mut ids = Vec::with_capacity(members.len());
                let mut ok = true;
                for (key, key_location, v) in members {
                    match PrincipalKind::from_key(key) {
                        Some(kind) => match self.string_list(v, join(&path, key), key) {
                            Some(list) => ids.push((kind, list)),
                            None => ok = false,
                        },
                        None => {
                            ok = false;
                            let mut d = Diagnostic::error(
                                DiagnosticCode::UnknownKey,
                                key_path(&path, key),
                                format!(
                                    "unknown principal type `{key}`, expected `AWS`, `Service`, `Federated` or `CanonicalUser`"
                                ),
                            )
                            .at(*key_location);
                            if let Some(h) =
                                closest(key, &["AWS", "Service", "Federated", "CanonicalUser"])
                            {
                                d = d.with_help(format!("did you mean `{h}`?"));
                            }
                            self.diagnostics.push(d);
                        }
                    }
                }
                if members.is_empty() {
                    self.error(
                        DiagnosticCode::Empty,
                        path,
                        format!("`{name}` is an empty object; name at least one principal"),
                        value.location,
                    );
                    ok = false;
                }
                ok.then_some(Principal::Identifiers(ids))
            }
            _ => {
                self.wrong_type(path, &format!("`{name}`"), "`*` or an object", value);
                None
            }
        }
    }

    fn condition(&mut self, value: &Spanned, path: String) -> Option<Vec<ConditionBlock>> {
        let JsonValue::Object(members) = &value.value else {
            self.wrong_type(path, "`Condition`", "an object", value);
            return None;
        };
        let mut blocks = Vec::with_capacity(members.len());
        let mut ok = true;
        for (operator_name, key_location, block) in members {
            let operator = match ConditionOperator::parse(operator_name) {
                Ok(op) => Some(op),
                Err(err) => {
                    ok = false;
                    let message = match err {
                        OperatorError::UnknownSetQualifier => format!(
                            "condition operator `{operator_name}` has an unknown set qualifier; use `ForAnyValue:` or `ForAllValues:`"
                        ),
                        OperatorError::Malformed => {
                            format!("condition operator `{operator_name}` is malformed")
                        }
                        OperatorError::Unknown => {
                            format!("unknown condition operator `{operator_name}`")
                        }
                        OperatorError::NullIfExists => {
                            "`NullIfExists` is not a condition operator; `Null` already tests for absence".to_string()
                        }
                    };
                    let mut d = Diagnostic::error(
                        DiagnosticCode::InvalidOperator,
                        key_path(&path, operator_name),
                        message,
                    )
                    .at(*key_location);
                    if let Some(h) = suggest_operator(operator_name) {
                        d = d.with_help(format!("did you mean `{h}`?"));
                    }
                    self.diagnostics.push(d);
                    None
                }
            };
            let block_path = join(&path, operator_name);
            let JsonValue::Object(entries) = &block.value else {
                ok = false;
                self.wrong_type(
                    block_path,
                    &format!("condition operator `{operator_name}`"),
                    "an object of condition keys",
                    block,
                );
                continue;
            };
            let mut parsed = Vec::with_capacity(entries.len());
            for (key, _, values) in entries {
                let entry_path = join(&block_path, key);
                let values = match &values.value {
                    JsonValue::Array(items) => {
                        let mut out = Vec::with_capacity(items.len());
                        for (i, item) in items.iter().enumerate() {
                            match scalar_text(&item.value) {
                                Some(s) => out.push(s),
                                None => {
                                    ok = false;
                                    self.wrong_type(
                                        format!("{entry_path}[{i}]"),
                                        &format!("each value of condition key `{key}`"),
                                        "a string, boolean or number",
                                        item,
                                    );
                                }
                            }
                        }
                        if items.is_empty() {
                            self.warn(
                                DiagnosticCode::Empty,
                                entry_path.clone(),
                                format!("condition key `{key}` has no values"),
                                values.location,
                            );
                        }
                        StringList::many(out)
                    }
                    other => match scalar_text(other) {
                        Some(s) => StringList::one(s),
                        None => {
                            ok = false;
                            self.wrong_type(
                                entry_path,
                                &format!("the value of condition key `{key}`"),
                                "a string, boolean, number or an array of them",
                                values,
                            );
                            continue;
                        }
                    },
                };
                parsed.push(ConditionEntry {
                    key: key.clone(),
                    values,
                });
            }
            if let Some(operator) = operator {
                blocks.push(ConditionBlock {
                    operator_name: operator_name.clone(),
                    operator,
                    entries: parsed,
                });
            }
        }
        ok.then_some(blocks)
    }

    fn placement_rules(
        &mut self,
        path: &str,
        at: Location,
        effect: Option<Effect>,
        principal: &Option<(bool, Location, Location, Principal)>,
        action: &Option<(bool, Location, &Spanned, StringList)>,
        resource: &Option<(bool, Location, StringList)>,
    ) {
        use PolicyType::*;
        let t = self.policy_type;
        if t == Generic {
            return;
        }
        let phrase = t.phrase();
        // Principal.
        match t {
            Identity | Boundary | Session | ServiceControl => {
                if let Some((negated, key_location, _, _)) = principal {
                    let name = if *negated {
                        "NotPrincipal"
                    } else {
                        "Principal"
                    };
                    self.error(
                        DiagnosticCode::NotAllowedForType,
                        key_path(path, name),
                        format!("`{name}` is not allowed {phrase}"),
                        *key_location,
                    );
                }
            }
            Trust => {
                if principal.is_none() {
                    self.error(
                        DiagnosticCode::RequiredForType,
                        path.to_string(),
                        format!("`Principal` or `NotPrincipal` is required {phrase}"),
                        at,
                    );
                }
            }
            ResourceControl | Endpoint => match principal {
                Some((true, key_location, _, _)) => {
                    self.error(
                        DiagnosticCode::RestrictedForType,
                        path.to_string(),
                        format!("`Principal` must be `*` {phrase}"),
                        at,
                    );
                    self.error(
                        DiagnosticCode::NotAllowedForType,
                        key_path(path, "NotPrincipal"),
                        format!("`NotPrincipal` is not allowed {phrase}"),
                        *key_location,
                    );
                }
                Some((false, _, value_location, p)) => {
                    if (t == ResourceControl && *p != Principal::Wildcard)
                        || (t == Endpoint && matches!(p, Principal::Bare(_)))
                    {
                        self.error(
                            DiagnosticCode::RestrictedForType,
                            join(path, "Principal"),
                            format!("`Principal` must be `*` {phrase}"),
                            *value_location,
                        );
                    }
                }
                None => {
                    let message = if t == ResourceControl {
                        format!("`Principal` must be `*` {phrase}")
                    } else {
                        format!("`Principal` is required {phrase}")
                    };
                    self.error(
                        DiagnosticCode::RequiredForType,
                        path.to_string(),
                        message,
                        at,
                    );
                }
            },
            Resource | Generic => {}
        }
        // Action.
        match t {
            ResourceControl => match action {
                None => self.error(
                    DiagnosticCode::RequiredForType,
                    path.to_string(),
                    format!("`Action` is required {phrase}"),
                    at,
                ),
                Some((true, key_location, _, _)) => {
                    self.error(
                        DiagnosticCode::RequiredForType,
                        path.to_string(),
                        format!("`Action` is required {phrase}"),
                        at,
                    );
                    self.error(
                        DiagnosticCode::NotAllowedForType,
                        key_path(path, "NotAction"),
                        format!("`NotAction` is not allowed {phrase}"),
                        *key_location,
                    );
                }
                Some((false, _, value, list)) => {
                    for (i, a) in list.values.iter().enumerate() {
                        if a == "*" {
                            let item_path = if list.single {
                                join(path, "Action")
                            } else {
                                format!("{}[{i}]", join(path, "Action"))
                            };
                            self.diagnostics.push(
                                Diagnostic::error(
                                    DiagnosticCode::RestrictedForType,
                                    item_path,
                                    format!("`Action` cannot be `*` {phrase}"),
                                )
                                .at(value.location)
                                .with_help("name the service actions to deny, such as `s3:*`"),
                            );
                        }
                    }
                }
            },
            _ => {
                if action.is_none() {
                    self.error(
                        DiagnosticCode::RequiredForType,
                        path.to_string(),
                        format!("`Action` or `NotAction` is required {phrase}"),
                        at,
                    );
                }
            }
        }
        // Resource.
        match t {
            Trust => {
                if let Some((negated, key_location, _)) = resource {
                    let name = if *negated { "NotResource" } else { "Resource" };
                    self.diagnostics.push(
                        Diagnostic::error(
                            DiagnosticCode::NotAllowedForType,
                            key_path(path, name),
                            format!("`{name}` is not allowed {phrase}"),
                        )
                        .at(*key_location)
                        .with_help("a trust policy applies to the role it is attached to"),
                    );
                }
            }
            Resource => {}
            _ => {
                if resource.is_none() {
                    self.error(
                        DiagnosticCode::RequiredForType,
                        path.to_string(),
                        format!("`Resource` or `NotResource` is required {phrase}"),
                        at,
                    );
                }
            }
        }
        // Effect.
        if t == ResourceControl && effect == Some(Effect::Allow) {
            self.diagnostics.push(
                Diagnostic::error(
                    DiagnosticCode::RestrictedForType,
                    join(path, "Effect"),
                    format!("`Effect` must be `Deny` {phrase}"),
                )
                .at(at)
                .with_help("resource control policies can only deny; AWS adds the allow-all `RCPFullAWSAccess` itself"),
            );
        }
    }
}

enum Pair<'v> {
    None,
    Conflict,
    One {
        negated: bool,
        key_location: Location,
        value: &'v Spanned,
    },
}

fn scalar_text(value: &JsonValue) -> Option<String> {
    match value {
        JsonValue::String(s) => Some(s.clone()),
        JsonValue::Bool(b) => Some(b.to_string()),
        JsonValue::Number(n) => Some(n.clone()),
        _ => None,
    }
}

fn article(type_name: &str) -> String {
    match type_name {
        "array" | "object" => format!("an {type_name}"),
        "null" => "null".to_string(),
        _ => format!("a {type_name}"),
    }
}

/// The candidate nearest to `input` when it is close enough to be a typo.
pub(crate) fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn suggest_operator(name: &str) -> Option<String> {
    let (prefix, rest) = match name.rsplit_once(':') {
        Some((p, r)) => (format!("{p}:"), r),
        None => (String::new(), name),
    };
    let (base, suffix) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, "IfExists"),
        None => (rest, ""),
    };
    let names: Vec<&str> = crate::ast::BaseOperator::ALL
        .iter()
        .map(|o| o.as_str())
        .collect();
    let best = closest(base, &names)?;
    let prefix = match prefix.to_ascii_lowercase().as_str() {
        "" => "",
        p if p.starts_with("forany") => "ForAnyValue:",
        p if p.starts_with("forall") => "ForAllValues:",
        _ => "",
    };
    let suggestion = format!("{prefix}{best}{suffix}");
    (suggestion != name).then_some(suggestion)
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str, t: PolicyType) -> Vec<(String, String)> {
        parse_policy(text, t)
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .map(|d| {
                let s = d.to_string();
                (d.path, s)
            })
            .collect()
    }

    #[test]
    fn errors_carry_path_line_and_column() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"},\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\",\n     \"Condition\": {\"StringLike\": {\"s3:prefix\": {\"a\": 1}}}}\n  ]\n}";
        assert_eq!(
            errors(text, PolicyType::Identity),
            vec![(
                "Statement[1].Condition.StringLike.s3:prefix".to_string(),
                "the value of condition key `s3:prefix` must be a string, boolean, number or an array of them, found an object at `Statement[1].Condition.StringLike.s3:prefix` (line 6, column 48)".to_string()
            )]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = r#"{"Statement": [{"Effect": "Permit", "Action": 3, "Resorce": "*"}]}"#;
        let paths: Vec<String> = errors(text, PolicyType::Generic)
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(
            paths,
            [
                "Statement[0].#Resorce",
                "Statement[0].Effect",
                "Statement[0].Action"
            ]
        );
    }

    #[test]
    fn unknown_keys_suggest_the_right_one() {
        let outcome = parse_policy(
            r#"{"Statement": [{"Effect": "Allow", "Actions": "s3:*"}]}"#,
            PolicyType::Generic,
        );
        assert_eq!(
            outcome.diagnostics[0].help.as_deref(),
            Some("did you mean `Action`?")
        );
        let outcome = parse_policy(
            r#"{"Statement": [{"Effect": "Allow", "Condition": {"StringEqual": {"a:b": "c"}}}]}"#,
            PolicyType::Generic,
        );
        assert_eq!(
            outcome.diagnostics[0].message,
            "unknown condition operator `StringEqual`"
        );
        assert_eq!(
            outcome.diagnostics[0].help.as_deref(),
            Some("did you mean `StringEquals`?")
        );
    }

    #[test]
    fn empty_statement_lists_are_errors_for_iam_and_warnings_for_the_engine() {
        assert_eq!(
            errors(r#"{"Version": "2012-10-17", "Statement": []}"#, PolicyType::Identity),
            vec![(
                "Statement".to_string(),
                "`Statement` is empty; IAM requires at least one statement at `Statement` (line 1, column 40)".to_string()
            )]
        );
        let outcome = parse_policy(
            r#"{"Version": "2012-10-17", "Statement": []}"#,
            PolicyType::Generic,
        );
        assert!(outcome.document.is_some());
        assert_eq!(
            outcome.diagnostics[0].to_string(),
            "`Statement` is empty, so the policy allows and denies nothing at `Statement` (line 1, column 40)"
        );
    }

    #[test]
    fn comma_and_whitespace_actions_are_warnings_with_a_fix() {
        let outcome = parse_policy(
            r#"{"Statement": [{"Effect": "Allow", "Action": "s3:GetObject,PutObject", "Resource": "*"}]}"#,
            PolicyType::Identity,
        );
        assert!(outcome.document.is_some());
        assert_eq!(
            outcome.diagnostics[0].help.as_deref(),
            Some(r#"list the actions separately: ["s3:GetObject", "s3:PutObject"]"#)
        );
    }

    #[test]
    fn policy_types_parse_from_their_cli_names() {
        assert_eq!("scp".parse::<PolicyType>(), Ok(PolicyType::ServiceControl));
        assert_eq!(
            "spc".parse::<PolicyType>(),
            Err("unknown policy type `spc`, expected one of generic, identity, resource, trust, boundary, session, scp, rcp, endpoint".to_string())
        );
    }
}
