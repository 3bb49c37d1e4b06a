//! The template operations: `ValidateTemplate` and `GetTemplateSummary`, which read a
//! template (given, or a stack's) without running it.

use rolewright_cfn::Template;

use super::{find, parse_template, stack_name, stack_resource, template_text, validation};
use crate::error::ApiError;
use crate::server::{Cx, Reply};
use crate::wire::query::Params;
use crate::wire::xml::XmlWriter;

fn write_capabilities(x: &mut XmlWriter, template: &Template) {
    match template.required_capability() {
        Some(needed) => {
            x.members("Capabilities", [needed.capability.as_str()])
                .leaf("CapabilitiesReason", &needed.reason());
        }
        None => {
            x.open("Capabilities").close("Capabilities");
        }
    }
}

/// `ValidateTemplate`.
pub fn validate_template(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let text = template_text(cx, p);
    p.finish()?;
    {
        let state = cx.app.store.read();
        cx.authorize(&state, "cloudformation:ValidateTemplate", "*", |_| {})?;
    }
    let text = text?
        .ok_or_else(|| validation("Either Template URL or Template Body must be specified."))?;
    let template = parse_template(&text)?;
    let mut x = XmlWriter::new();
    x.open("Parameters");
    for decl in &template.parameters {
        x.open("member")
            .leaf("ParameterKey", &decl.name)
            .leaf_opt("DefaultValue", decl.default.as_deref())
            .leaf("NoEcho", if decl.no_echo { "true" } else { "false" })
            .leaf_opt("Description", decl.description.as_deref())
            .close("member");
    }
    x.close("Parameters");
    x.leaf_opt("Description", template.description.as_deref());
    write_capabilities(&mut x, &template);
    x.open("DeclaredTransforms").close("DeclaredTransforms");
    Ok(Reply::Xml(x))
}

/// `GetTemplateSummary`: of a template given, or of a stack's.
pub fn get_template_summary(cx: &mut Cx<'_>, p: &mut Params) -> Result<Reply, ApiError> {
    let text = template_text(cx, p);
    let name = stack_name(p, false);
    p.finish()?;
    let text = text?;
    let region = cx.facts.region.clone();
    let text = {
        let state = cx.app.store.read();
        match (text, &name) {
            (Some(_), Some(_)) => {
                return Err(validation(
                    "Only one of TemplateBody, TemplateURL or StackName may be specified.",
                ));
            }
            (Some(text), None) => {
                cx.authorize(&state, "cloudformation:GetTemplateSummary", "*", |_| {})?;
                text
            }
            (None, Some(name)) => {
                let resource = stack_resource(&state, &region, name);
                cx.authorize(
                    &state,
                    "cloudformation:GetTemplateSummary",
                    &resource,
                    |_| {},
                )?;
                find(&state, &region, name)
                    .map(|s| s.template.clone())
                    .ok_or_else(|| super::no_stack(name))?
            }
            (None, None) => {
                return Err(validation(
                    "Either Template URL or Template Body must be specified.",
                ));
            }
        }
    };
    let template = parse_template(&text)?;
    let mut x = XmlWriter::new();
    x.open("Parameters");
    for decl in &template.parameters {
        x.open("member")
            .leaf("ParameterKey", &decl.name)
            .leaf_opt("DefaultValue", decl.default.as_deref())
            .leaf("ParameterType", &decl.type_name)
            .leaf("NoEcho", if decl.no_echo { "true" } else { "false" })
            .leaf_opt("Description", decl.description.as_deref());
        x.open("ParameterConstraints");
        if let Some(values) = &decl.allowed_values {
            x.members("AllowedValues", values.iter().map(String::as_str));
        }
        x.close("ParameterConstraints").close("member");
    }
    x.close("Parameters");
    x.leaf_opt("Description", template.description.as_deref());
    write_capabilities(&mut x, &template);
    let mut types: Vec<&str> = template
        .resources
        .iter()
        .map(|r| r.type_name.as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    x.members("ResourceTypes", types)
        .leaf_opt("Version", template.format_version.as_deref());
    if let Some(metadata) = &template.metadata {
        x.leaf("Metadata", &metadata.to_string());
    }
    x.open("DeclaredTransforms").close("DeclaredTransforms");
    Ok(Reply::Xml(x))
}
