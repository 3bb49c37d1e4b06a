//! Template parameters: their declarations, and the checks every value (given or default) goes
//! through before anything else is linked, with CloudFormation's messages.
//!
//! CloudFormation passes every parameter value as a string; the type says how the string is
//! read (`Number` is a string that must read as a number, `CommaDelimitedList` a string cut at
//! commas). `AWS::EC2::*` types are checked as strings: rolewright has no EC2 to look the IDs
//! up in, and CloudFormation's own check for them is that the ID exists. The Systems Manager
//! types that read a value from Parameter Store are refused when linking, for the same reason;
//! `AWS::SSM::Parameter::Name` is a plain name and reads as a string.

use regex::Regex;

use crate::error::{ErrorKind, Errors, TemplateError};
use crate::node::{Location, Node, NodeValue};
use crate::path::JsonPath;

/// The attributes a parameter may have.
const ATTRIBUTES: &[&str] = &[
    "Type",
    "Default",
    "Description",
    "AllowedValues",
    "AllowedPattern",
    "ConstraintDescription",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "NoEcho",
];

/// The AWS-specific parameter types (CloudFormation User Guide, "Parameters": "Supported
/// AWS-specific parameter types"); each also exists as `List<...>`.
const AWS_SPECIFIC_TYPES: &[&str] = &[
    "AWS::EC2::AvailabilityZone::Name",
    "AWS::EC2::Image::Id",
    "AWS::EC2::Instance::Id",
    "AWS::EC2::KeyPair::KeyName",
    "AWS::EC2::SecurityGroup::GroupName",
    "AWS::EC2::SecurityGroup::Id",
    "AWS::EC2::Subnet::Id",
    "AWS::EC2::Volume::Id",
    "AWS::EC2::VPC::Id",
    "AWS::Route53::HostedZone::Id",
];

/// How a parameter's string value is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterType {
    /// `String`.
    String,
    /// `Number`.
    Number,
    /// `List<Number>`.
    NumberList,
    /// `CommaDelimitedList`.
    CommaDelimitedList,
    /// An AWS-specific type such as `AWS::EC2::VPC::Id`, checked as a string.
    AwsSpecific(String),
    /// `List<AWS-specific type>`, checked as a comma-delimited list.
    AwsSpecificList(String),
    /// `AWS::SSM::Parameter::Name`: the name of a Systems Manager parameter, a string.
    SsmParameterName,
    /// `AWS::SSM::Parameter::Value<...>`: refused when linking.
    SsmParameterValue(String),
}

impl ParameterType {
    /// Reads a type name; `None` when CloudFormation has no such type.
    pub fn parse(name: &str) -> Option<ParameterType> {
        let ty = match name {
            "String" => ParameterType::String,
            "Number" => ParameterType::Number,
            "List<Number>" => ParameterType::NumberList,
            "CommaDelimitedList" => ParameterType::CommaDelimitedList,
            "AWS::SSM::Parameter::Name" => ParameterType::SsmParameterName,
            _ if AWS_SPECIFIC_TYPES.contains(&name) => ParameterType::AwsSpecific(name.into()),
            _ => {
                if let Some(inner) = name
                    .strip_prefix("List<")
                    .and_then(|rest| rest.strip_suffix('>'))
                {
                    if AWS_SPECIFIC_TYPES.contains(&inner) {
                        return Some(ParameterType::AwsSpecificList(inner.into()));
                    }
                    return None;
                }
                let inner = name
                    .strip_prefix("AWS::SSM::Parameter::Value<")
                    .and_then(|rest| rest.strip_suffix('>'))?;
                let known = matches!(inner, "String" | "List<String>" | "CommaDelimitedList")
                    || ParameterType::parse(inner).is_some_and(|t| {
                        matches!(
                            t,
                            ParameterType::AwsSpecific(_) | ParameterType::AwsSpecificList(_)
                        )
                    });
                if !known {
                    return None;
                }
                ParameterType::SsmParameterValue(name.into())
            }
        };
        Some(ty)
    }

    /// Whether `Ref` gives a list.
    pub fn is_list(&self) -> bool {
        matches!(
            self,
            ParameterType::NumberList
                | ParameterType::CommaDelimitedList
                | ParameterType::AwsSpecificList(_)
        )
    }

    fn is_number(&self) -> bool {
        matches!(self, ParameterType::Number | ParameterType::NumberList)
    }
}

/// A parameter as the template declares it.
#[derive(Debug, Clone)]
pub struct ParameterDecl {
    /// Its logical name.
    pub name: String,
    /// Its type.
    pub parameter_type: ParameterType,
    /// The type as written.
    pub type_name: String,
    /// `Default`, as the string CloudFormation reads it as.
    pub default: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `AllowedValues`, as strings.
    pub allowed_values: Option<Vec<String>>,
    /// `AllowedPattern`, as written.
    pub allowed_pattern: Option<String>,
    /// `ConstraintDescription`.
    pub constraint_description: Option<String>,
    /// `MinLength`, as written and as a number.
    pub min_length: Option<(String, f64)>,
    /// `MaxLength`.
    pub max_length: Option<(String, f64)>,
    /// `MinValue`.
    pub min_value: Option<(String, f64)>,
    /// `MaxValue`.
    pub max_value: Option<(String, f64)>,
    /// `NoEcho`: the value is shown as `****` wherever CloudFormation describes the stack.
    pub no_echo: bool,
    /// Its JSON path (`Parameters.Name`).
    pub path: JsonPath,
    /// Where it is declared.
    pub location: Location,
    pattern: Option<Regex>,
}

/// A parameter's value as `Ref` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    /// A string (`Number` values are strings too).
    String(String),
    /// A list of strings.
    List(Vec<String>),
}

impl ParameterDecl {
    /// Reads a declaration; problems go to `errors`.
    pub(crate) fn parse(
        name: &str,
        node: &Node,
        path: &JsonPath,
        location: Location,
        errors: &mut Errors,
    ) -> Option<ParameterDecl> {
        let Some(entries) = node.as_object() else {
            errors.add(ErrorKind::NotAnObject("Parameters".into()), path, location);
            return None;
        };
        let before = errors.len();
        for (key, location, _) in entries {
            if !ATTRIBUTES.contains(&key.as_str()) {
                errors.add(
                    ErrorKind::InvalidParameterProperty(key.clone()),
                    &path.key(key),
                    *location,
                );
            }
        }
        let Some(type_node) = node.get("Type") else {
            errors.add(ErrorKind::ParameterMissingType, path, location);
            return None;
        };
        let Some(type_name) = type_node.as_str() else {
            errors.add(
                ErrorKind::NotAString("Type".into()),
                &path.key("Type"),
                type_node.location,
            );
            return None;
        };
        let Some(parameter_type) = ParameterType::parse(type_name) else {
            errors.add(
                ErrorKind::UnrecognizedParameterType(type_name.to_string()),
                &path.key("Type"),
                type_node.location,
            );
            return None;
        };
        let string = |key: &str, errors: &mut Errors| -> Option<String> {
            let v = node.get(key)?;
            match v.scalar_text() {
                Some(s) => Some(s),
                None => {
                    errors.add(
                        ErrorKind::NotAString(key.into()),
                        &path.key(key),
                        v.location,
                    );
                    None
                }
            }
        };
        let number = |key: &str, errors: &mut Errors| -> Option<(String, f64)> {
            let v = node.get(key)?;
            match v
                .scalar_text()
                .and_then(|t| t.trim().parse::<f64>().ok().map(|n| (t, n)))
            {
                Some(pair) => Some(pair),
                None => {
                    errors.add(
                        ErrorKind::NotANumber(key.into()),
                        &path.key(key),
                        v.location,
                    );
                    None
                }
            }
        };
        let default = string("Default", errors);
        let description = string("Description", errors);
        let constraint_description = string("ConstraintDescription", errors);
        let allowed_pattern = string("AllowedPattern", errors);
        let min_length = number("MinLength", errors);
        let max_length = number("MaxLength", errors);
        let min_value = number("MinValue", errors);
        let max_value = number("MaxValue", errors);
        let allowed_values = match node.get("AllowedValues") {
            None => None,
            Some(v) => match v.as_array() {
                Some(items) => {
                    let mut values = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        match item.scalar_text() {
                            Some(s) => values.push(s),
                            None => errors.add(
                                ErrorKind::NotAString("AllowedValues".into()),
                                &path.key("AllowedValues").index(i),
                                item.location,
                            ),
                        }
                    }
                    Some(values)
                }
                None => {
                    errors.add(
                        ErrorKind::NotAList("AllowedValues".into()),
                        &path.key("AllowedValues"),
                        v.location,
                    );
                    None
                }
            },
        };
        let no_echo = match node.get("NoEcho") {
            None => false,
            Some(v) => match (&v.value, v.scalar_text().as_deref()) {
                (NodeValue::Bool(b), _) => *b,
                (_, Some("true" | "True" | "TRUE")) => true,
                (_, Some("false" | "False" | "FALSE")) => false,
                _ => {
                    errors.add(
                        ErrorKind::NotAString("NoEcho".into()),
                        &path.key("NoEcho"),
                        v.location,
                    );
                    false
                }
            },
        };
        let pattern = match &allowed_pattern {
            None => None,
            Some(p) => match Regex::new(&format!("^(?:{p})$")) {
                Ok(re) => Some(re),
                Err(e) => {
                    let location = node
                        .get("AllowedPattern")
                        .map_or(node.location, |n| n.location);
                    errors.push(
                        TemplateError::new(
                            ErrorKind::InvalidPattern {
                                name: name.to_string(),
                                pattern: p.clone(),
                            },
                            path.key("AllowedPattern"),
                            location,
                        )
                        .with_help(regex_problem(&e)),
                    );
                    None
                }
            },
        };
        if errors.len() > before {
            return None;
        }
        let decl = ParameterDecl {
            name: name.to_string(),
            parameter_type,
            type_name: type_name.to_string(),
            default,
            description,
            allowed_values,
            allowed_pattern,
            constraint_description,
            min_length,
            max_length,
            min_value,
            max_value,
            no_echo,
            path: path.clone(),
            location,
            pattern,
        };
        // CloudFormation checks a default as it checks a given value (ValidateTemplate answers
        // "Parameter 'Naming' must contain at least 12 characters" for a short default).
        if let (Some(default), Some(default_node)) = (&decl.default, node.get("Default"))
            && !matches!(decl.parameter_type, ParameterType::SsmParameterValue(_))
            && let Err(kind) = decl.check(default)
        {
            errors.add(kind, &path.key("Default"), default_node.location);
        }
        Some(decl)
    }

    /// Checks a value against the type and the constraints, and reads it as `Ref` gives it.
    pub fn check(&self, value: &str) -> Result<ParameterValue, ErrorKind> {
        let name = &self.name;
        if let ParameterType::SsmParameterValue(type_name) = &self.parameter_type {
            return Err(ErrorKind::SsmParameterType {
                name: name.clone(),
                type_name: type_name.clone(),
            });
        }
        let items: Vec<String> = if self.parameter_type.is_list() {
            value.split(',').map(|s| s.trim().to_string()).collect()
        } else {
            vec![value.to_string()]
        };
        if self.parameter_type.is_number() {
            for item in &items {
                if parse_number(item).is_none() {
                    return Err(ErrorKind::NotANumberValue(name.clone()));
                }
            }
        }
        self.check_constraints(&items)
            .map_err(|kind| match &self.constraint_description {
                Some(description) => ErrorKind::ConstraintDescription {
                    name: name.clone(),
                    description: description.clone(),
                },
                None => kind,
            })?;
        Ok(if self.parameter_type.is_list() {
            ParameterValue::List(items)
        } else {
            ParameterValue::String(value.to_string())
        })
    }

    fn check_constraints(&self, items: &[String]) -> Result<(), ErrorKind> {
        let name = &self.name;
        let number = self.parameter_type.is_number();
        for item in items {
            if let Some(allowed) = &self.allowed_values {
                let found = allowed.iter().any(|a| {
                    a == item
                        || (number
                            && parse_number(a).is_some()
                            && parse_number(a) == parse_number(item))
                });
                if !found {
                    return Err(ErrorKind::NotAllowedValue(name.clone()));
                }
            }
            if !number {
                if let (Some(re), Some(pattern)) = (&self.pattern, &self.allowed_pattern)
                    && !re.is_match(item)
                {
                    return Err(ErrorKind::PatternMismatch {
                        name: name.clone(),
                        pattern: pattern.clone(),
                    });
                }
                let length = item.chars().count() as f64;
                if let Some((text, min)) = &self.min_length
                    && length < *min
                {
                    return Err(ErrorKind::TooShort {
                        name: name.clone(),
                        limit: text.clone(),
                    });
                }
                if let Some((text, max)) = &self.max_length
                    && length > *max
                {
                    return Err(ErrorKind::TooLong {
                        name: name.clone(),
                        limit: text.clone(),
                    });
                }
            } else if let Some(n) = parse_number(item) {
                if let Some((text, min)) = &self.min_value
                    && n < *min
                {
                    return Err(ErrorKind::TooSmall {
                        name: name.clone(),
                        limit: text.clone(),
                    });
                }
                if let Some((text, max)) = &self.max_value
                    && n > *max
                {
                    return Err(ErrorKind::TooLarge {
                        name: name.clone(),
                        limit: text.clone(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The last line of a regex error, which says what is wrong.
fn regex_problem(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default();
    last.trim_start_matches("error: ").to_string()
}

/// A number as CloudFormation reads `Number` values: an integer or a decimal.
fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") || t.to_ascii_lowercase().contains("inf") {
        return None;
    }
    t.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_as_cloudformation_names_them() {
        assert_eq!(
            ParameterType::parse("List<Number>"),
            Some(ParameterType::NumberList)
        );
        assert_eq!(
            ParameterType::parse("List<AWS::EC2::Subnet::Id>"),
            Some(ParameterType::AwsSpecificList(
                "AWS::EC2::Subnet::Id".into()
            ))
        );
        assert!(matches!(
            ParameterType::parse("AWS::SSM::Parameter::Value<List<AWS::EC2::Subnet::Id>>"),
            Some(ParameterType::SsmParameterValue(_))
        ));
        assert_eq!(ParameterType::parse("List<String>"), None);
        assert_eq!(ParameterType::parse("Integer"), None);
    }
}
