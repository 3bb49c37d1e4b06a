//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'none'}` and the escapes `${*}`,
//! `${?}`, `${$}`, parsed once and resolved against each request.
//!
//! A substituted value is literal text: a user named `bob*` does not become a wildcard. A
//! variable whose key is absent (and has no default) makes the whole value unresolvable, which
//! callers treat as "does not match", as IAM does.

use crate::context::{ContextValue, RequestContext};
use crate::wildcard::{Piece, Wildcard};

/// One part of a value that may contain variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text as written (wildcards keep their meaning where the element has any).
    Text(String),
    /// A character produced by an escape (`${*}`), always literal.
    Escaped(char),
    /// A variable: its lowercased key and its default.
    Variable {
        /// The context key, lowercased.
        key: String,
        /// The default, used when the key is absent.
        default: Option<String>,
    },
}

/// A value with variables, ready to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; `None` when it contains no variable or escape, so callers can use the
    /// plain text directly.
    pub fn parse(text: &str) -> Option<Template> {
        if !text.contains("${") {
            return None;
        }
        let mut parts = Vec::new();
        let mut rest = text;
        let mut plain = String::new();
        while let Some(start) = rest.find("${") {
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                break;
            };
            let inner = &after[..end];
            let part = match inner {
                "*" => Some(Part::Escaped('*')),
                "?" => Some(Part::Escaped('?')),
                "$" => Some(Part::Escaped('$')),
                _ => parse_variable(inner),
            };
            match part {
                Some(part) => {
                    plain.push_str(&rest[..start]);
                    if !plain.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut plain)));
                    }
                    parts.push(part);
                }
                None => {
                    // Not a variable: keep `${...}` as text.
                    plain.push_str(&rest[..start + 2 + end + 1]);
                }
            }
            rest = &after[end + 1..];
        }
        plain.push_str(rest);
        if !plain.is_empty() {
            parts.push(Part::Text(plain));
        }
        if parts.iter().all(|p| matches!(p, Part::Text(_))) {
            return None;
        }
        Some(Template { parts })
    }

    /// The parts.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Resolves the variables into pattern pieces (text keeps its wildcards, substitutions are
    /// literal); `None` when a variable has no value and no default.
    pub fn resolve_pieces(&self, context: &RequestContext) -> Option<Vec<Piece>> {
        let mut out = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push(Piece::Pattern(t.clone())),
                Part::Escaped(c) => out.push(Piece::Literal(c.to_string())),
                Part::Variable { key, default } => {
                    out.push(Piece::Literal(
                        lookup(context, key, default.as_deref())?.to_string(),
                    ));
                }
            }
        }
        Some(out)
    }

    /// Resolves the variables into plain text; `None` when a variable cannot be resolved.
    pub fn resolve_text(&self, context: &RequestContext) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Escaped(c) => out.push(*c),
                Part::Variable { key, default } => {
                    out.push_str(lookup(context, key, default.as_deref())?);
                }
            }
        }
        Some(out)
    }

    /// Resolves into a compiled wildcard; `None` when a variable cannot be resolved.
    pub fn resolve_wildcard(
        &self,
        context: &RequestContext,
        ignore_case: bool,
    ) -> Option<Wildcard> {
        Some(Wildcard::from_pieces(
            &self.resolve_pieces(context)?,
            ignore_case,
        ))
    }
}

fn lookup<'c>(context: &'c RequestContext, key: &str, default: Option<&'c str>) -> Option<&'c str> {
    match context.get_lowercase(key) {
        Some(ContextValue::Single(v)) => Some(v.as_str()),
        // IAM substitutes only single-valued keys.
        Some(ContextValue::Multi(_)) => None,
        None => default,
    }
}

/// Parses the inside of `${...}`: a key, optionally followed by `, 'default'`.
fn parse_variable(inner: &str) -> Option<Part> {
    let (key, default) = match inner.split_once(',') {
        Some((key, rest)) => {
            let rest = rest.trim();
            let default = rest.strip_prefix('\'')?.strip_suffix('\'')?;
            (key.trim(), Some(default.to_string()))
        }
        None => (inner.trim(), None),
    };
    if key.is_empty()
        || !key.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-' | '_' | '.' | '@' | '+' | '=')
        })
    {
        return None;
    }
    Some(Part::Variable {
        key: key.to_ascii_lowercase(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_variables_defaults_and_escapes() {
        let t = Template::parse("home/${aws:username}/${aws:PrincipalTag/team, 'none'}${*}");
        assert_eq!(
            t.map(|t| t.parts),
            Some(vec![
                Part::Text("home/".into()),
                Part::Variable {
                    key: "aws:username".into(),
                    default: None
                },
                Part::Text("/".into()),
                Part::Variable {
                    key: "aws:principaltag/team".into(),
                    default: Some("none".into())
                },
                Part::Escaped('*'),
            ])
        );
        assert_eq!(Template::parse("no variables"), None);
        assert_eq!(Template::parse("${unterminated"), None);
    }

    #[test]
    fn resolves_against_the_context() {
        let mut ctx = RequestContext::new();
        ctx.set("aws:username", "bob*");
        let t = Template::parse("home/${aws:username}/${aws:PrincipalTag/team, 'none'}").unwrap();
        assert_eq!(t.resolve_text(&ctx).as_deref(), Some("home/bob*/none"));
        let w = t.resolve_wildcard(&ctx, false).unwrap();
        assert!(w.matches("home/bob*/none"));
        assert!(!w.matches("home/bobby/none"));
        let missing = Template::parse("${aws:userid}").unwrap();
        assert_eq!(missing.resolve_text(&ctx), None);
    }
}
