//! Evaluation of expressions against linked parameters, the stack's pseudo parameters, the
//! mappings, the evaluated conditions and — when they are known — the values of other
//! resources.
//!
//! A resource's value that is not known yet evaluates to "unknown", which every function passes
//! on; so the same evaluator checks a template when it is linked (everything that does not
//! depend on resources must evaluate, and every resource referred to is recorded as a
//! dependency), resolves a resource's properties once the resources it depends on exist, and
//! tells which properties of an update depend on resources that will be replaced.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::Value;

use crate::error::{ErrorKind, TemplateError};
use crate::expr::{Expr, ExprKind, SubPart};
use crate::link::StackContext;
use crate::node::number_value;
use crate::parameter::ParameterValue;
use crate::plan::ResourceValues;
use crate::template::{PSEUDO_PARAMETERS, Template};

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    List(Vec<Val>),
    Map(Vec<(String, Val)>),
    /// `AWS::NoValue`: the property or list item disappears.
    NoValue,
    /// Depends on a resource whose value is not known yet.
    Unknown,
}

impl Val {
    pub(crate) fn from_json(value: &Value) -> Val {
        match value {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Number(n.to_string()),
            Value::String(s) => Val::String(s.clone()),
            Value::Array(items) => Val::List(items.iter().map(Val::from_json).collect()),
            Value::Object(map) => Val::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    fn from_parameter(value: &ParameterValue) -> Val {
        match value {
            ParameterValue::String(s) => Val::String(s.clone()),
            ParameterValue::List(items) => {
                Val::List(items.iter().cloned().map(Val::String).collect())
            }
        }
    }

    /// Whether the value is or holds an unknown.
    pub(crate) fn has_unknown(&self) -> bool {
        match self {
            Val::Unknown => true,
            Val::List(items) => items.iter().any(Val::has_unknown),
            Val::Map(entries) => entries.iter().any(|(_, v)| v.has_unknown()),
            _ => false,
        }
    }

    /// The value as JSON; `None` for `AWS::NoValue` (and for an unknown, which callers check
    /// for first).
    pub(crate) fn to_json(&self) -> Option<Value> {
        Some(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Number(n) => number_value(n),
            Val::String(s) => Value::String(s.clone()),
            Val::List(items) => Value::Array(items.iter().filter_map(Val::to_json).collect()),
            Val::Map(entries) => Value::Object(
                entries
                    .iter()
                    .filter_map(|(k, v)| v.to_json().map(|v| (k.clone(), v)))
                    .collect(),
            ),
            Val::NoValue | Val::Unknown => return None,
        })
    }

    /// The text of a scalar, as functions that want strings read scalars.
    fn text(&self) -> Option<String> {
        match self {
            Val::String(s) => Some(s.clone()),
            Val::Number(n) => Some(n.clone()),
            Val::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Where resource values come from.
#[derive(Clone, Copy)]
pub(crate) struct Lookup<'a> {
    /// Known values; `None`: every resource is unknown.
    pub values: Option<&'a dyn ResourceValues>,
    /// Resources whose values are unknown even when `values` is given (created or replaced).
    pub pending: Option<&'a BTreeSet<String>>,
}

/// Everything an expression can refer to.
pub(crate) struct Env<'a> {
    pub template: &'a Template,
    pub parameters: &'a BTreeMap<String, ParameterValue>,
    pub stack: &'a StackContext,
    pub conditions: &'a BTreeMap<String, bool>,
    /// Resources that exist in this stack (their condition holds).
    pub active: &'a BTreeSet<String>,
    pub lookup: Lookup<'a>,
    /// Resources referred to by what was evaluated.
    pub dependencies: RefCell<BTreeSet<String>>,
    /// Resources referred to that do not exist because their condition is false.
    pub inactive: RefCell<Vec<(String, &'a Expr)>>,
}

impl<'a> Env<'a> {
    fn fail(expr: &Expr, kind: ErrorKind) -> Box<TemplateError> {
        Box::new(TemplateError::new(kind, expr.path.clone(), expr.location))
    }

    /// Evaluates `expr`.
    pub(crate) fn eval(&self, expr: &'a Expr) -> Result<Val, Box<TemplateError>> {
        Ok(match &expr.kind {
            ExprKind::Null => Val::Null,
            ExprKind::Bool(b) => Val::Bool(*b),
            ExprKind::Number(n) => Val::Number(n.clone()),
            ExprKind::String(s) => Val::String(s.clone()),
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.eval(item)? {
                        Val::NoValue => {}
                        v => out.push(v),
                    }
                }
                Val::List(out)
            }
            ExprKind::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    match self.eval(v)? {
                        Val::NoValue => {}
                        v => out.push((k.clone(), v)),
                    }
                }
                Val::Map(out)
            }
            ExprKind::Ref(name) => self.reference(name, expr)?,
            ExprKind::GetAtt {
                resource,
                attribute,
            } => self.attribute(resource, attribute, expr)?,
            ExprKind::Sub { parts, variables } => self.sub(parts, variables, expr)?,
            ExprKind::Join { delimiter, values } => match self.eval(values)? {
                Val::Unknown => Val::Unknown,
                Val::List(items) => {
                    let mut texts = Vec::with_capacity(items.len());
                    let mut unknown = false;
                    for item in &items {
                        match item {
                            Val::Unknown => unknown = true,
                            Val::NoValue => {}
                            v => match v.text() {
                                Some(t) => texts.push(t),
                                None => return Err(Env::fail(expr, ErrorKind::JoinShape)),
                            },
                        }
                    }
                    if unknown {
                        Val::Unknown
                    } else {
                        Val::String(texts.join(delimiter))
                    }
                }
                _ => return Err(Env::fail(expr, ErrorKind::JoinShape)),
            },
            ExprKind::Split { delimiter, source } => match self.eval(source)? {
                Val::Unknown => Val::Unknown,
                v => match v.text() {
                    Some(t) => Val::List(
                        t.split(delimiter.as_str())
                            .map(|s| Val::String(s.to_string()))
                            .collect(),
                    ),
                    None => return Err(Env::fail(expr, ErrorKind::SplitShape)),
                },
            },
            ExprKind::Select { index, values } => {
                let index_value = self.eval(index)?;
                let list = self.eval(values)?;
                if matches!(index_value, Val::Unknown) || matches!(list, Val::Unknown) {
                    return Ok(Val::Unknown);
                }
                let Some(i) = index_value
                    .text()
                    .and_then(|t| t.trim().parse::<i64>().ok())
                else {
                    return Err(Env::fail(expr, ErrorKind::SelectShape));
                };
                let Val::List(items) = list else {
                    return Err(Env::fail(expr, ErrorKind::SelectShape));
                };
                match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                    Some(v) => v.clone(),
                    None => return Err(Env::fail(expr, ErrorKind::SelectIndex(i))),
                }
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => match self.conditions.get(condition) {
                Some(true) => self.eval(then)?,
                Some(false) => self.eval(otherwise)?,
                None => {
                    return Err(Env::fail(
                        expr,
                        ErrorKind::UndefinedCondition(condition.clone()),
                    ));
                }
            },
            ExprKind::Equals(a, b) => {
                let (a, b) = (self.eval(a)?, self.eval(b)?);
                if a.has_unknown() || b.has_unknown() {
                    Val::Unknown
                } else {
                    Val::Bool(same(&a, &b))
                }
            }
            ExprKind::Not(a) => match self.boolean(a, "Fn::Not")? {
                Some(b) => Val::Bool(!b),
                None => Val::Unknown,
            },
            ExprKind::And(items) | ExprKind::Or(items) => {
                let and = matches!(expr.kind, ExprKind::And(_));
                let name = if and { "Fn::And" } else { "Fn::Or" };
                let mut result = and;
                let mut unknown = false;
                for item in items {
                    match self.boolean(item, name)? {
                        Some(b) if and => result &= b,
                        Some(b) => result |= b,
                        None => unknown = true,
                    }
                }
                if unknown {
                    Val::Unknown
                } else {
                    Val::Bool(result)
                }
            }
            ExprKind::Condition(name) => match self.conditions.get(name) {
                Some(b) => Val::Bool(*b),
                None => return Err(Env::fail(expr, ErrorKind::UndefinedCondition(name.clone()))),
            },
            ExprKind::FindInMap { map, top, second } => {
                let (map_name, top_key, second_key) =
                    (self.eval(map)?, self.eval(top)?, self.eval(second)?);
                if [&map_name, &top_key, &second_key]
                    .iter()
                    .any(|v| v.has_unknown())
                {
                    return Ok(Val::Unknown);
                }
                let (Some(map_name), Some(top_key), Some(second_key)) =
                    (map_name.text(), top_key.text(), second_key.text())
                else {
                    return Err(Env::fail(expr, ErrorKind::FindInMapShape));
                };
                let Some(mapping) = self.template.mapping(&map_name) else {
                    return Err(Env::fail(expr, ErrorKind::MappingNotFound(map_name)));
                };
                match mapping.get(&top_key, &second_key) {
                    Some(v) => Val::from_json(v),
                    None => {
                        return Err(Env::fail(
                            expr,
                            ErrorKind::MappingKeyNotFound {
                                map: map_name,
                                top: top_key,
                                second: second_key,
                            },
                        ));
                    }
                }
            }
            ExprKind::Base64(a) => match self.eval(a)? {
                Val::Unknown => Val::Unknown,
                v => match v.text() {
                    Some(t) => {
                        Val::String(base64::engine::general_purpose::STANDARD.encode(t.as_bytes()))
                    }
                    None => return Err(Env::fail(expr, ErrorKind::Base64Shape)),
                },
            },
            ExprKind::GetAzs(a) => match self.eval(a)? {
                Val::Unknown => Val::Unknown,
                v => {
                    let region = match v {
                        Val::Null => String::new(),
                        v => v
                            .text()
                            .ok_or_else(|| Env::fail(expr, ErrorKind::GetAzsShape))?,
                    };
                    Val::List(
                        self.stack
                            .availability_zones(&region)
                            .into_iter()
                            .map(Val::String)
                            .collect(),
                    )
                }
            },
            ExprKind::ImportValue(a) => match self.eval(a)? {
                Val::Unknown => Val::Unknown,
                v => {
                    let name = v
                        .text()
                        .ok_or_else(|| Env::fail(expr, ErrorKind::ImportValueShape))?;
                    match self.stack.exports.get(&name) {
                        Some(export) => Val::String(export.value.clone()),
                        None => return Err(Env::fail(expr, ErrorKind::ImportNotFound(name))),
                    }
                }
            },
            ExprKind::Cidr { block, count, bits } => {
                let (block, count, bits) = (self.eval(block)?, self.eval(count)?, self.eval(bits)?);
                if [&block, &count, &bits].iter().any(|v| v.has_unknown()) {
                    return Ok(Val::Unknown);
                }
                let subnets = cidr(&block, &count, &bits)
                    .ok_or_else(|| Env::fail(expr, ErrorKind::CidrShape))?;
                Val::List(subnets.into_iter().map(Val::String).collect())
            }
        })
    }

    /// A condition function's operand as a boolean; `None` when unknown.
    fn boolean(
        &self,
        expr: &'a Expr,
        function: &'static str,
    ) -> Result<Option<bool>, Box<TemplateError>> {
        match self.eval(expr)? {
            Val::Bool(b) => Ok(Some(b)),
            Val::String(s) if s == "true" => Ok(Some(true)),
            Val::String(s) if s == "false" => Ok(Some(false)),
            Val::Unknown => Ok(None),
            _ => Err(Env::fail(expr, ErrorKind::NotBoolean(function))),
        }
    }

    fn reference(&self, name: &str, expr: &'a Expr) -> Result<Val, Box<TemplateError>> {
        if let Some(value) = self.parameters.get(name) {
            return Ok(Val::from_parameter(value));
        }
        if PSEUDO_PARAMETERS.contains(&name) {
            return Ok(self.pseudo(name));
        }
        if self.template.resource(name).is_some() {
            if !self.active.contains(name) {
                self.inactive.borrow_mut().push((name.to_string(), expr));
                return Ok(Val::Unknown);
            }
            self.dependencies.borrow_mut().insert(name.to_string());
            if self.is_pending(name) {
                return Ok(Val::Unknown);
            }
            let Some(values) = self.lookup.values else {
                return Ok(Val::Unknown);
            };
            return match values.physical_id(name) {
                Some(id) => Ok(Val::String(id)),
                None => Err(Env::fail(
                    expr,
                    ErrorKind::ValueNotKnown {
                        resource: name.to_string(),
                        what: "physical ID".into(),
                    },
                )),
            };
        }
        Err(Env::fail(
            expr,
            ErrorKind::UnresolvedDependencies {
                names: vec![name.to_string()],
                block: "Resources",
            },
        ))
    }

    fn attribute(
        &self,
        resource: &str,
        attribute: &str,
        expr: &'a Expr,
    ) -> Result<Val, Box<TemplateError>> {
        if self.template.resource(resource).is_none() {
            return Err(Env::fail(
                expr,
                ErrorKind::GetAttUndefinedResource(resource.to_string()),
            ));
        }
        if !self.active.contains(resource) {
            self.inactive
                .borrow_mut()
                .push((resource.to_string(), expr));
            return Ok(Val::Unknown);
        }
        self.dependencies.borrow_mut().insert(resource.to_string());
        if self.is_pending(resource) {
            return Ok(Val::Unknown);
        }
        let Some(values) = self.lookup.values else {
            return Ok(Val::Unknown);
        };
        match values.attribute(resource, attribute) {
            Some(v) => Ok(Val::from_json(&v)),
            None => Err(Env::fail(
                expr,
                ErrorKind::ValueNotKnown {
                    resource: resource.to_string(),
                    what: format!("attribute {attribute}"),
                },
            )),
        }
    }

    fn is_pending(&self, resource: &str) -> bool {
        self.lookup.pending.is_some_and(|p| p.contains(resource))
    }

    fn pseudo(&self, name: &str) -> Val {
        let s = |v: &str| Val::String(v.to_string());
        match name {
            "AWS::AccountId" => s(&self.stack.account_id),
            "AWS::NotificationARNs" => Val::List(
                self.stack
                    .notification_arns
                    .iter()
                    .cloned()
                    .map(Val::String)
                    .collect(),
            ),
            "AWS::NoValue" => Val::NoValue,
            "AWS::Partition" => s(self.stack.partition()),
            "AWS::Region" => s(&self.stack.region),
            "AWS::StackId" => s(&self.stack.stack_id),
            "AWS::StackName" => s(&self.stack.stack_name),
            _ => s(self.stack.url_suffix()),
        }
    }

    fn sub(
        &self,
        parts: &[SubPart],
        variables: &'a [(String, Expr)],
        expr: &'a Expr,
    ) -> Result<Val, Box<TemplateError>> {
        let mut out = String::new();
        let mut unknown = false;
        for part in parts {
            let name = match part {
                SubPart::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                SubPart::Variable(v) => v,
            };
            let value = if let Some((_, e)) = variables.iter().find(|(k, _)| k == name) {
                self.eval(e)?
            } else if PSEUDO_PARAMETERS.contains(&name.as_str()) || !name.contains('.') {
                self.reference(name, expr)?
            } else {
                let (resource, attribute) = name.split_once('.').unwrap_or((name, ""));
                self.attribute(resource, attribute, expr)?
            };
            match value {
                Val::Unknown => unknown = true,
                v => match v.text() {
                    Some(t) => out.push_str(&t),
                    None => return Err(Env::fail(expr, ErrorKind::SubNotString(name.clone()))),
                },
            }
        }
        Ok(if unknown {
            Val::Unknown
        } else {
            Val::String(out)
        })
    }
}

/// CloudFormation's equality for `Fn::Equals`: scalars by their text, lists item by item.
fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::List(x), Val::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && same(v, v2)))
        }
        (Val::Null, Val::Null) => true,
        _ => match (a.text(), b.text()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// `Fn::Cidr` for IPv4: `count` subnets of `bits` host bits each, cut from `block`.
fn cidr(block: &Val, count: &Val, bits: &Val) -> Option<Vec<String>> {
    let block = block.text()?;
    let count: u32 = count.text()?.trim().parse().ok()?;
    let bits: u32 = bits.text()?.trim().parse().ok()?;
    let (address, prefix) = block.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    let octets: Vec<u32> = address
        .split('.')
        .map(|o| o.parse::<u32>().ok().filter(|o| *o < 256))
        .collect::<Option<_>>()?;
    if octets.len() != 4 || prefix > 32 || !(1..=256).contains(&count) || !(1..=32).contains(&bits)
    {
        return None;
    }
    let subnet_prefix = 32u32.checked_sub(bits)?;
    if subnet_prefix < prefix {
        return None;
    }
    let available = 1u64 << (subnet_prefix - prefix);
    if u64::from(count) > available {
        return None;
    }
    let base = octets
        .iter()
        .fold(0u64, |acc, o| (acc << 8) | u64::from(*o));
    let mask = if prefix == 0 {
        0
    } else {
        (u64::from(u32::MAX) << (32 - prefix)) & u64::from(u32::MAX)
    };
    let network = base & mask;
    let step = 1u64 << bits;
    Some(
        (0..u64::from(count))
            .map(|i| {
                let a = network + i * step;
                format!(
                    "{}.{}.{}.{}/{subnet_prefix}",
                    (a >> 24) & 255,
                    (a >> 16) & 255,
                    (a >> 8) & 255,
                    a & 255
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_cuts_subnets() {
        let s = |t: &str| Val::String(t.into());
        assert_eq!(
            cidr(&s("10.0.0.0/16"), &s("3"), &s("8")).unwrap(),
            ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
        );
        assert_eq!(cidr(&s("10.0.0.0/24"), &s("3"), &s("8")), None);
    }
}
