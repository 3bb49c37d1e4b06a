//! Template values as expressions: literals and CloudFormation's intrinsic functions, each
//! checked for its shape once, when the template is read.
//!
//! A single-key object whose key is `Ref` or starts with `Fn::` is a function call; so is
//! `{"Condition": name}` where a condition is expected (the Conditions section and the
//! arguments of `Fn::And`, `Fn::Or` and `Fn::Not`). Everything else is a literal.

use crate::error::{ErrorKind, Errors, TemplateError};
use crate::node::{Location, Node, NodeValue};
use crate::path::JsonPath;

/// A value of the template, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the value is.
    pub kind: ExprKind,
    /// Its JSON path.
    pub path: JsonPath,
    /// Where it starts.
    pub location: Location,
}

/// A literal or an intrinsic function.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Expr>),
    /// An object, keys in order.
    Map(Vec<(String, Expr)>),
    /// `Ref`: a parameter, pseudo parameter or resource.
    Ref(String),
    /// `Fn::GetAtt`.
    GetAtt {
        /// The logical id.
        resource: String,
        /// The attribute (may contain dots: `Endpoint.Address`).
        attribute: String,
    },
    /// `Fn::Sub`, both forms.
    Sub {
        /// The string, cut into text and `${...}` variables.
        parts: Vec<SubPart>,
        /// The variables of the second form, in order.
        variables: Vec<(String, Expr)>,
    },
    /// `Fn::Join`.
    Join {
        /// The delimiter.
        delimiter: String,
        /// The list to join.
        values: Box<Expr>,
    },
    /// `Fn::Split`.
    Split {
        /// The delimiter.
        delimiter: String,
        /// The string to split.
        source: Box<Expr>,
    },
    /// `Fn::Select`.
    Select {
        /// The index.
        index: Box<Expr>,
        /// The list.
        values: Box<Expr>,
    },
    /// `Fn::If`.
    If {
        /// The condition's name.
        condition: String,
        /// The value when it is true.
        then: Box<Expr>,
        /// The value when it is false.
        otherwise: Box<Expr>,
    },
    /// `Fn::Equals`.
    Equals(Box<Expr>, Box<Expr>),
    /// `Fn::Not`.
    Not(Box<Expr>),
    /// `Fn::And`.
    And(Vec<Expr>),
    /// `Fn::Or`.
    Or(Vec<Expr>),
    /// `Condition`: another condition, by name.
    Condition(String),
    /// `Fn::FindInMap`.
    FindInMap {
        /// The mapping's name.
        map: Box<Expr>,
        /// The top-level key.
        top: Box<Expr>,
        /// The second-level key.
        second: Box<Expr>,
    },
    /// `Fn::Base64`.
    Base64(Box<Expr>),
    /// `Fn::GetAZs`.
    GetAzs(Box<Expr>),
    /// `Fn::ImportValue`.
    ImportValue(Box<Expr>),
    /// `Fn::Cidr`.
    Cidr {
        /// The IPv4 block to cut.
        block: Box<Expr>,
        /// How many subnets.
        count: Box<Expr>,
        /// How many host bits each has.
        bits: Box<Expr>,
    },
}

/// A piece of an `Fn::Sub` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubPart {
    /// Text, with `${!Literal}` already turned into `${Literal}`.
    Text(String),
    /// A `${Name}` or `${Resource.Attribute}` variable.
    Variable(String),
}

/// Where an expression sits, which decides whether `{"Condition": ...}` is a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A condition: `{"Condition": name}` refers to another condition.
    Condition,
    /// A property, an output or anything else.
    Value,
}

impl Expr {
    fn new(kind: ExprKind, path: &JsonPath, location: Location) -> Expr {
        Expr {
            kind,
            path: path.clone(),
            location,
        }
    }

    /// Reads a node as an expression. Shape errors are pushed to `errors` and the value is
    /// read as `null`, so that one pass reports every problem.
    pub(crate) fn parse(node: &Node, path: &JsonPath, scope: Scope, errors: &mut Errors) -> Expr {
        let kind = match &node.value {
            NodeValue::Null => ExprKind::Null,
            NodeValue::Bool(b) => ExprKind::Bool(*b),
            NodeValue::Number(n) => ExprKind::Number(n.clone()),
            NodeValue::String(s) => ExprKind::String(s.clone()),
            NodeValue::Array(items) => ExprKind::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Expr::parse(item, &path.index(i), scope, errors))
                    .collect(),
            ),
            NodeValue::Object(entries) => {
                if let [(key, _, arg)] = entries.as_slice()
                    && (key == "Ref"
                        || key.starts_with("Fn::")
                        || (key == "Condition" && scope == Scope::Condition))
                {
                    return function(key, arg, node, path, errors);
                }
                ExprKind::Map(
                    entries
                        .iter()
                        .map(|(k, _, v)| (k.clone(), Expr::parse(v, &path.key(k), scope, errors)))
                        .collect(),
                )
            }
        };
        Expr::new(kind, path, node.location)
    }

    /// Every sub-expression, this one first (used to find references).
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Null
            | ExprKind::Bool(_)
            | ExprKind::Number(_)
            | ExprKind::String(_)
            | ExprKind::Ref(_)
            | ExprKind::GetAtt { .. }
            | ExprKind::Condition(_) => {}
            ExprKind::List(items) | ExprKind::And(items) | ExprKind::Or(items) => {
                items.iter().for_each(|e| e.walk(f))
            }
            ExprKind::Map(entries) => entries.iter().for_each(|(_, e)| e.walk(f)),
            ExprKind::Sub { variables, .. } => variables.iter().for_each(|(_, e)| e.walk(f)),
            ExprKind::Join { values: e, .. }
            | ExprKind::Split { source: e, .. }
            | ExprKind::Not(e)
            | ExprKind::Base64(e)
            | ExprKind::GetAzs(e)
            | ExprKind::ImportValue(e) => e.walk(f),
            ExprKind::Select { index, values } => {
                index.walk(f);
                values.walk(f);
            }
            ExprKind::If {
                then, otherwise, ..
            } => {
                then.walk(f);
                otherwise.walk(f);
            }
            ExprKind::Equals(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::FindInMap { map, top, second } => {
                map.walk(f);
                top.walk(f);
                second.walk(f);
            }
            ExprKind::Cidr { block, count, bits } => {
                block.walk(f);
                count.walk(f);
                bits.walk(f);
            }
        }
    }

    /// The object's entries, when this is a literal object.
    pub fn as_map(&self) -> Option<&[(String, Expr)]> {
        match &self.kind {
            ExprKind::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// Functions that exist but that rolewright's templates cannot use, with why.
fn unavailable(name: &str) -> Option<&'static str> {
    match name {
        "Fn::Transform" => Some("macros are not run; expand the template before deploying it"),
        "Fn::Length" | "Fn::ToJsonString" | "Fn::ForEach" => {
            Some("it needs the AWS::LanguageExtensions transform, which rolewright does not run")
        }
        "Fn::Contains"
        | "Fn::EachMemberEquals"
        | "Fn::EachMemberIn"
        | "Fn::RefAll"
        | "Fn::ValueOf"
        | "Fn::ValueOfAll" => Some("it belongs in a rule of the Rules section"),
        _ => None,
    }
}

/// A function call: `key` is its name, `arg` its argument, `node` the whole object.
fn function(key: &str, arg: &Node, node: &Node, path: &JsonPath, errors: &mut Errors) -> Expr {
    let arg_path = path.key(key);
    let fail = |kind: ErrorKind, errors: &mut Errors| {
        errors.add(kind, path, node.location);
        Expr::new(ExprKind::Null, path, node.location)
    };
    let sub = |node: &Node, path: &JsonPath, errors: &mut Errors| {
        Expr::parse(node, path, Scope::Value, errors)
    };
    let cond = |node: &Node, path: &JsonPath, errors: &mut Errors| {
        Expr::parse(node, path, Scope::Condition, errors)
    };
    let items = arg.as_array();
    let kind = match key {
        "Ref" => match arg.as_str() {
            Some(name) if !name.is_empty() => ExprKind::Ref(name.to_string()),
            _ => return fail(ErrorKind::RefShape, errors),
        },
        "Condition" => match arg.as_str() {
            Some(name) if !name.is_empty() => ExprKind::Condition(name.to_string()),
            _ => return fail(ErrorKind::ConditionShape, errors),
        },
        "Fn::GetAtt" => {
            let pair = match (&arg.value, items) {
                (NodeValue::String(s), _) => s
                    .split_once('.')
                    .map(|(r, a)| (r.to_string(), a.to_string())),
                (_, Some([r, a])) => match (r.as_str(), a.as_str()) {
                    (Some(r), Some(a)) => Some((r.to_string(), a.to_string())),
                    _ => None,
                },
                _ => None,
            };
            match pair {
                Some((resource, attribute)) if !resource.is_empty() && !attribute.is_empty() => {
                    ExprKind::GetAtt {
                        resource,
                        attribute,
                    }
                }
                _ => return fail(ErrorKind::GetAttShape, errors),
            }
        }
        "Fn::Sub" => {
            let (text, variables) = match (&arg.value, items) {
                (NodeValue::String(s), _) => (s.as_str(), Vec::new()),
                (_, Some([text, vars])) => match (text.as_str(), vars.as_object()) {
                    (Some(t), Some(entries)) => {
                        let vars_path = arg_path.index(1);
                        let variables = entries
                            .iter()
                            .map(|(k, _, v)| (k.clone(), sub(v, &vars_path.key(k), errors)))
                            .collect();
                        (t, variables)
                    }
                    _ => return fail(ErrorKind::SubShape, errors),
                },
                _ => return fail(ErrorKind::SubShape, errors),
            };
            match parse_sub(text) {
                Ok(parts) => ExprKind::Sub { parts, variables },
                Err(kind) => return fail(kind, errors),
            }
        }
        "Fn::Join" => match items {
            Some([delimiter, values]) => match delimiter.scalar_text() {
                Some(d) => ExprKind::Join {
                    delimiter: d,
                    values: Box::new(sub(values, &arg_path.index(1), errors)),
                },
                None => return fail(ErrorKind::JoinShape, errors),
            },
            _ => return fail(ErrorKind::JoinShape, errors),
        },
        "Fn::Split" => match items {
            Some([delimiter, source]) => match delimiter.scalar_text() {
                Some(d) if !d.is_empty() => ExprKind::Split {
                    delimiter: d,
                    source: Box::new(sub(source, &arg_path.index(1), errors)),
                },
                _ => return fail(ErrorKind::SplitShape, errors),
            },
            _ => return fail(ErrorKind::SplitShape, errors),
        },
        "Fn::Select" => match items {
            Some([index, values]) => ExprKind::Select {
                index: Box::new(sub(index, &arg_path.index(0), errors)),
                values: Box::new(sub(values, &arg_path.index(1), errors)),
            },
            _ => return fail(ErrorKind::SelectShape, errors),
        },
        "Fn::If" => match items {
            Some([condition, then, otherwise]) => match condition.as_str() {
                Some(c) if !c.is_empty() => ExprKind::If {
                    condition: c.to_string(),
                    then: Box::new(sub(then, &arg_path.index(1), errors)),
                    otherwise: Box::new(sub(otherwise, &arg_path.index(2), errors)),
                },
                _ => return fail(ErrorKind::IfShape, errors),
            },
            _ => return fail(ErrorKind::IfShape, errors),
        },
        "Fn::Equals" => match items {
            Some([a, b]) => ExprKind::Equals(
                Box::new(sub(a, &arg_path.index(0), errors)),
                Box::new(sub(b, &arg_path.index(1), errors)),
            ),
            _ => return fail(ErrorKind::EqualsShape, errors),
        },
        "Fn::Not" => match items {
            Some([a]) => ExprKind::Not(Box::new(cond(a, &arg_path.index(0), errors))),
            _ => return fail(ErrorKind::NotShape, errors),
        },
        "Fn::And" | "Fn::Or" => {
            let name = if key == "Fn::And" {
                "Fn::And"
            } else {
                "Fn::Or"
            };
            match items {
                Some(list) if (2..=10).contains(&list.len()) => {
                    let conditions = list
                        .iter()
                        .enumerate()
                        .map(|(i, c)| cond(c, &arg_path.index(i), errors))
                        .collect();
                    if key == "Fn::And" {
                        ExprKind::And(conditions)
                    } else {
                        ExprKind::Or(conditions)
                    }
                }
                _ => return fail(ErrorKind::AndOrShape(name), errors),
            }
        }
        "Fn::FindInMap" => match items {
            Some([map, top, second]) => ExprKind::FindInMap {
                map: Box::new(sub(map, &arg_path.index(0), errors)),
                top: Box::new(sub(top, &arg_path.index(1), errors)),
                second: Box::new(sub(second, &arg_path.index(2), errors)),
            },
            Some([_, _, _, _]) => {
                errors.push(
                    TemplateError::new(ErrorKind::FindInMapShape, path.clone(), node.location)
                        .with_help(
                            "a DefaultValue needs the AWS::LanguageExtensions transform, which rolewright does not run",
                        ),
                );
                return Expr::new(ExprKind::Null, path, node.location);
            }
            _ => return fail(ErrorKind::FindInMapShape, errors),
        },
        "Fn::Base64" => match arg.value {
            NodeValue::Array(_) | NodeValue::Null => return fail(ErrorKind::Base64Shape, errors),
            _ => ExprKind::Base64(Box::new(sub(arg, &arg_path, errors))),
        },
        "Fn::GetAZs" => match arg.value {
            NodeValue::Array(_) => return fail(ErrorKind::GetAzsShape, errors),
            _ => ExprKind::GetAzs(Box::new(sub(arg, &arg_path, errors))),
        },
        "Fn::ImportValue" => match arg.value {
            NodeValue::Array(_) | NodeValue::Null => {
                return fail(ErrorKind::ImportValueShape, errors);
            }
            _ => ExprKind::ImportValue(Box::new(sub(arg, &arg_path, errors))),
        },
        "Fn::Cidr" => match items {
            Some([block, count, bits]) => ExprKind::Cidr {
                block: Box::new(sub(block, &arg_path.index(0), errors)),
                count: Box::new(sub(count, &arg_path.index(1), errors)),
                bits: Box::new(sub(bits, &arg_path.index(2), errors)),
            },
            _ => return fail(ErrorKind::CidrShape, errors),
        },
        other => {
            let error = TemplateError::new(
                ErrorKind::UnsupportedFunction(other.to_string()),
                path.clone(),
                node.location,
            );
            errors.push(match unavailable(other) {
                Some(why) => error.with_help(format!("`{other}` cannot be used here: {why}")),
                None => error,
            });
            return Expr::new(ExprKind::Null, path, node.location);
        }
    };
    Expr::new(kind, path, node.location)
}

/// Cuts an `Fn::Sub` string into text and variables. `${!Name}` is the text `${Name}`; a `$`
/// or `${` without a closing `}` is text.
pub(crate) fn parse_sub(text: &str) -> Result<Vec<SubPart>, ErrorKind> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            literal.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        if let Some(escaped) = inner.strip_prefix('!') {
            literal.push_str("${");
            literal.push_str(escaped);
            literal.push('}');
        } else {
            let valid = !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':'));
            if !valid {
                return Err(ErrorKind::SubVariableName);
            }
            if !literal.is_empty() {
                parts.push(SubPart::Text(std::mem::take(&mut literal)));
            }
            parts.push(SubPart::Variable(inner.to_string()));
        }
        rest = &after[end + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SubPart::Text(literal));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_strings_cut_into_text_and_variables() {
        assert_eq!(
            parse_sub("arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}-$x${").unwrap(),
            vec![
                SubPart::Text("arn:".into()),
                SubPart::Variable("AWS::Partition".into()),
                SubPart::Text(":s3:::".into()),
                SubPart::Variable("Bucket".into()),
                SubPart::Text("/${Literal}-$x${".into()),
            ]
        );
        assert_eq!(parse_sub("${a b}"), Err(ErrorKind::SubVariableName));
        assert_eq!(parse_sub("${}"), Err(ErrorKind::SubVariableName));
    }
}
