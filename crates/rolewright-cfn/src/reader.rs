//! Reads a template's text, JSON or YAML, into the positional tree.
//!
//! CloudFormation reads a template as JSON when it starts with `{` and as YAML otherwise; so
//! does this reader. JSON goes through the engine's positional JSON reader (duplicate keys are
//! refused), YAML through the crate's own YAML reader.

use rolewright_iam::json::{self, Limits};

use crate::error::{ErrorKind, TemplateError, TemplateErrors};
use crate::node::{Location, Node};
use crate::path::JsonPath;

/// The largest template accepted: CloudFormation takes 51,200 bytes in a request body and
/// 1 MB from S3.
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;

/// The format a template was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// The format CloudFormation would read `text` as.
pub fn detect_format(text: &str) -> TemplateFormat {
    let trimmed = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if trimmed.starts_with('{') {
        TemplateFormat::Json
    } else {
        TemplateFormat::Yaml
    }
}

/// Reads a template's text into a tree with positions.
pub fn read_document(text: &str) -> Result<Node, TemplateErrors> {
    let start = Location {
        line: 1,
        column: 1,
        offset: 0,
    };
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(TemplateErrors::one(TemplateError::new(
            ErrorKind::UnsupportedStructure,
            JsonPath::root(),
            start,
        )
        .with_help(format!(
            "the template is {} bytes, more than CloudFormation's limit of {MAX_TEMPLATE_BYTES} bytes",
            text.len()
        ))));
    }
    match detect_format(text) {
        TemplateFormat::Json => {
            let limits = Limits {
                max_bytes: MAX_TEMPLATE_BYTES,
                max_depth: 128,
            };
            match json::parse(text, limits) {
                Ok(spanned) => Ok(crate::node::from_json(spanned)),
                Err(e) => Err(TemplateErrors::one(
                    TemplateError::new(
                        ErrorKind::JsonNotWellFormed {
                            line: e.location.line,
                            column: e.location.column,
                        },
                        e.path.as_deref().map(JsonPath::from).unwrap_or_default(),
                        e.location,
                    )
                    .with_help(e.message),
                )),
            }
        }
        TemplateFormat::Yaml => match crate::yaml::parse(text) {
            Ok(node) => Ok(node),
            Err((e, path)) => Err(TemplateErrors::one(
                TemplateError::new(
                    ErrorKind::YamlNotWellFormed {
                        line: e.location.line,
                        column: e.location.column,
                    },
                    path,
                    e.location,
                )
                .with_help(e.message),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_errors_carry_positions() {
        let e = read_document("{\"Resources\": {\"A\": }}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "template (line 1, column 21): Template format error: JSON not well-formed. (line 1, column 21); unexpected character `}`, expected a value"
        );
        let e = read_document("Resources:\n  A: [1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Resources.A[0] (line 3, column 1): Template format error: YAML not well-formed. (line 3, column 1); unterminated flow collection"
        );
    }
}
