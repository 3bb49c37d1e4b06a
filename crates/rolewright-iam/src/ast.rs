//! The validated syntax tree of an IAM policy document, on which the rest of the engine works.
//!
//! The tree keeps what the author wrote (a single string stays a single string, keys keep their
//! case) so that a document can be written back unchanged, but every field has already been
//! checked for its JSON type: the evaluator never sees raw JSON.

/// The two policy language versions AWS accepts.
pub const VERSION_2012: &str = "2012-10-17";
/// The legacy version, in which policy variables are not substituted.
pub const VERSION_2008: &str = "2008-10-17";

/// A whole policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `Version`, when present.
    pub version: Option<String>,
    /// `Id`, when present.
    pub id: Option<String>,
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// Whether `Statement` was written as a single object rather than an array.
    pub statement_is_object: bool,
}

impl PolicyDocument {
    /// Whether policy variables (`${aws:username}`) are substituted in this document: only in
    /// version `2012-10-17`; in older documents `${...}` is literal text.
    pub fn supports_variables(&self) -> bool {
        self.version.as_deref() == Some(VERSION_2012)
    }

    /// The JSON path of statement `index`, as diagnostics write it (`Statement[2]`, or
    /// `Statement` when the document has a single statement object).
    pub fn statement_path(&self, index: usize) -> String {
        if self.statement_is_object {
            "Statement".to_string()
        } else {
            format!("Statement[{index}]")
        }
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `"Allow"`
    Allow,
    /// `"Deny"`
    Deny,
}

impl Effect {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// One or more strings, remembering whether the author wrote a single string or an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringList {
    /// The values, in order.
    pub values: Vec<String>,
    /// Whether the JSON was a bare string rather than an array.
    pub single: bool,
}

impl StringList {
    /// A list written as a JSON array.
    pub fn many<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Self {
        StringList {
            values: values.into_iter().map(Into::into).collect(),
            single: false,
        }
    }

    /// A single value written as a bare string.
    pub fn one(value: impl Into<String>) -> Self {
        StringList {
            values: vec![value.into()],
            single: true,
        }
    }
}

/// A statement element that can be written plainly or negated (`Action`/`NotAction`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negatable<T> {
    /// True for the `Not...` form.
    pub negated: bool,
    /// The element's value.
    pub value: T,
}

/// The kinds of principal identifiers inside a `Principal` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    /// `AWS`: account ids, account root, user, role and session ARNs, or `*`.
    Aws,
    /// `Service`: service principals such as `sagemaker.amazonaws.com`.
    Service,
    /// `Federated`: identity providers.
    Federated,
    /// `CanonicalUser`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalKind {
    /// The JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }

    /// Parses a JSON key (exact case, as IAM requires).
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "AWS" => Some(PrincipalKind::Aws),
            "Service" => Some(PrincipalKind::Service),
            "Federated" => Some(PrincipalKind::Federated),
            "CanonicalUser" => Some(PrincipalKind::CanonicalUser),
            _ => None,
        }
    }
}

/// The value of `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone, including anonymous callers.
    Wildcard,
    /// An object of principal identifiers by kind, in the author's order.
    Identifiers(Vec<(PrincipalKind, StringList)>),
    /// A bare string other than `*` (an account id or ARN). IAM documents only `"*"` in this
    /// form, but some services accept an AWS principal written this way; it is read as `AWS`.
    Bare(String),
}

/// A condition operator name split into its parts (`ForAnyValue:StringLike`, `NumericLessThanIfExists`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    /// `ForAnyValue:` or `ForAllValues:`, when present.
    pub set: Option<SetQualifier>,
    /// The base operator.
    pub base: BaseOperator,
    /// Whether `IfExists` was appended.
    pub if_exists: bool,
}

/// The set qualifiers for multi-valued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// `ForAnyValue:`: at least one request value matches.
    ForAnyValue,
    /// `ForAllValues:`: every request value matches (true when the key is absent or empty).
    ForAllValues,
}

macro_rules! base_operators {
    ($($name:ident),* $(,)?) => {
        /// The condition operators of the IAM policy language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum BaseOperator {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                $name,
            )*
        }

        impl BaseOperator {
            /// Every operator.
            pub const ALL: &'static [BaseOperator] = &[$(BaseOperator::$name),*];

            /// The operator's name as written in policies.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(BaseOperator::$name => stringify!($name),)*
                }
            }
        }
    };
}

base_operators!(
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
);

impl BaseOperator {
    /// Looks an operator up by name; IAM operator names are case-sensitive.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.as_str() == name)
    }

    /// Whether the operator is a negation (`StringNotEquals`, `NotIpAddress`, ...): these are true
    /// when the key is absent from the request.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::NumericNotEquals
                | BaseOperator::DateNotEquals
                | BaseOperator::NotIpAddress
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values (strings and ARNs).
    pub fn substitutes_variables(self) -> bool {
        matches!(
            self,
            BaseOperator::StringEquals
                | BaseOperator::StringNotEquals
                | BaseOperator::StringEqualsIgnoreCase
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringLike
                | BaseOperator::StringNotLike
                | BaseOperator::ArnEquals
                | BaseOperator::ArnLike
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
                | BaseOperator::Bool
        )
    }
}

impl ConditionOperator {
    /// Parses an operator name such as `ForAllValues:StringNotLikeIfExists`.
    pub fn parse(name: &str) -> Result<Self, OperatorError> {
        let (set, rest) = match name.split_once(':') {
            Some((prefix, rest)) => {
                let set = match prefix {
                    "ForAnyValue" => SetQualifier::ForAnyValue,
                    "ForAllValues" => SetQualifier::ForAllValues,
                    _ => return Err(OperatorError::UnknownSetQualifier),
                };
                (Some(set), rest)
            }
            None => (None, name),
        };
        if !rest.chars().all(|c| c.is_ascii_alphanumeric()) || rest.is_empty() {
            return Err(OperatorError::Malformed);
        }
        let (base_name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let base = BaseOperator::from_name(base_name).ok_or(OperatorError::Unknown)?;
        if base == BaseOperator::Null && if_exists {
            return Err(OperatorError::NullIfExists);
        }
        Ok(ConditionOperator {
            set,
            base,
            if_exists,
        })
    }
}

/// Why an operator name is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorError {
    /// The prefix before `:` is not `ForAnyValue` or `ForAllValues`.
    UnknownSetQualifier,
    /// Extra colons or characters that no operator has.
    Malformed,
    /// Well formed but not an IAM operator.
    Unknown,
    /// `NullIfExists` makes no sense and IAM refuses it.
    NullIfExists,
}

/// One operator block of a `Condition`: `"StringEquals": {"aws:username": "bob", ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionBlock {
    /// The operator as written.
    pub operator_name: String,
    /// The operator, parsed.
    pub operator: ConditionOperator,
    /// Condition keys (as written) and their values; every entry must hold.
    pub entries: Vec<ConditionEntry>,
}

/// One key of a condition operator block, with its values (any of which may match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionEntry {
    /// The condition key as written (`aws:PrincipalTag/team`).
    pub key: String,
    /// The values; JSON booleans and numbers are kept as their text (`true`, `10`).
    pub values: StringList,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`, when present.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`.
    pub principal: Option<Negatable<Principal>>,
    /// `Action` or `NotAction`.
    pub action: Option<Negatable<StringList>>,
    /// `Resource` or `NotResource`.
    pub resource: Option<Negatable<StringList>>,
    /// `Condition` blocks, in order; `None` when absent.
    pub condition: Option<Vec<ConditionBlock>>,
}

impl Statement {
    /// A statement with only an effect, to be filled in by the caller.
    pub fn new(effect: Effect) -> Self {
        Statement {
            sid: None,
            effect,
            principal: None,
            action: None,
            resource: None,
            condition: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_parse_into_parts() {
        let op = ConditionOperator::parse("ForAllValues:StringNotLikeIfExists");
        assert_eq!(
            op,
            Ok(ConditionOperator {
                set: Some(SetQualifier::ForAllValues),
                base: BaseOperator::StringNotLike,
                if_exists: true
            })
        );
        assert_eq!(
            ConditionOperator::parse("ForSomeValue:StringEquals"),
            Err(OperatorError::UnknownSetQualifier)
        );
        assert_eq!(
            ConditionOperator::parse("ForAllValues:StringEquals:IfExists"),
            Err(OperatorError::Malformed)
        );
        assert_eq!(
            ConditionOperator::parse("ForAllValues.StringEquals"),
            Err(OperatorError::Malformed)
        );
        assert_eq!(
            ConditionOperator::parse("StringEqual"),
            Err(OperatorError::Unknown)
        );
        assert_eq!(
            ConditionOperator::parse("stringequals"),
            Err(OperatorError::Unknown)
        );
        assert_eq!(
            ConditionOperator::parse("NullIfExists"),
            Err(OperatorError::NullIfExists)
        );
    }
}
