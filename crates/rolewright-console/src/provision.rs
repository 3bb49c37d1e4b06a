//! Provisioning a Service Catalog product: a form built from its template's parameters
//! (`DescribeProvisioningParameters`: each parameter's type, default, allowed values as a
//! choice, `NoEcho` as a password field, its constraints checked before the call), the product's
//! versions and launch paths (`DescribeProduct`, `ListLaunchPaths`), `ProvisionProduct`, and
//! the record followed until it ends (`DescribeRecord`: a page that refreshes itself while the
//! record is in progress, then shows the outputs or the errors).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, html};
use rand::Rng as _;
use rolewright_server::error::ApiError;
use serde_json::{Value, json};

use crate::Console;
use crate::call::Principal;
use crate::page::{self, Form, Problem, error_summary, field_errors, problem, text_field};
use crate::session::{Signed, SignedForm, SignedIn};
use crate::stacks::status_tag;
use crate::studio::{all_pages, s, when};

/// What the form is built from.
struct Product {
    name: String,
    /// Versions: id and name, newest last.
    versions: Vec<(String, String)>,
    /// The version the parameters are of.
    version: String,
    /// Launch paths: id and name.
    paths: Vec<(String, String)>,
    parameters: Vec<Value>,
}

fn product_link(id: &str) -> String {
    format!(
        "/console/catalog/products/{}/provision",
        page::encode_query(id)
    )
}

fn record_link(id: &str) -> String {
    format!("/console/catalog/records/{}", page::encode_query(id))
}

async fn read_product(
    principal: &Principal<'_>,
    id: &str,
    version: Option<&str>,
) -> Result<Product, ApiError> {
    let described = principal
        .servicecatalog("DescribeProduct", json!({"Id": id}))
        .await?;
    let versions: Vec<(String, String)> = described["ProvisioningArtifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (s(a, "Id"), s(a, "Name")))
        .collect();
    let version = version
        .filter(|v| versions.iter().any(|(id, _)| id == v))
        .map(str::to_string)
        .or_else(|| versions.last().map(|(id, _)| id.clone()))
        .unwrap_or_default();
    let paths = all_pages(
        principal,
        "servicecatalog",
        "ListLaunchPaths",
        json!({"ProductId": id}),
        "LaunchPathSummaries",
    )
    .await?
    .iter()
    .map(|p| (s(p, "Id"), s(p, "Name")))
    .collect();
    let parameters = principal
        .servicecatalog(
            "DescribeProvisioningParameters",
            json!({"ProductId": id, "ProvisioningArtifactId": version}),
        )
        .await?["ProvisioningArtifactParameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(Product {
        name: s(&described["ProductViewSummary"], "Name"),
        versions,
        version,
        paths,
        parameters,
    })
}

fn field_id(key: &str) -> String {
    format!("param-{key}")
}

/// The problems with the value given for a parameter, in CloudFormation's terms.
fn check_parameter(p: &Value, value: &str, problems: &mut Vec<Problem>) {
    let key = s(p, "ParameterKey");
    let id = field_id(&key);
    let c = &p["ParameterConstraints"];
    let number = |name: &str| s(c, name).parse::<f64>().ok();
    if value.is_empty() {
        if p["DefaultValue"].is_null() {
            problems.push(problem(
                &id,
                format!("Enter a value for {key}: it has no default"),
            ));
        }
        return;
    }
    let allowed: Vec<String> = c["AllowedValues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if !allowed.is_empty() && !allowed.iter().any(|a| a == value) {
        problems.push(problem(
            &id,
            format!("{key} must be one of {}", allowed.join(", ")),
        ));
    }
    if s(p, "ParameterType") == "Number" {
        match value.parse::<f64>() {
            Err(_) => problems.push(problem(
                &id,
                format!("{key} must be a number, not `{value}`"),
            )),
            Ok(n) => {
                if number("MinValue").is_some_and(|m| n < m) {
                    problems.push(problem(
                        &id,
                        format!("{key} must be at least {}", s(c, "MinValue")),
                    ));
                }
                if number("MaxValue").is_some_and(|m| n > m) {
                    problems.push(problem(
                        &id,
                        format!("{key} must be at most {}", s(c, "MaxValue")),
                    ));
                }
            }
        }
    }
    let length = value.chars().count() as f64;
    if number("MinLength").is_some_and(|m| length < m) {
        problems.push(problem(
            &id,
            format!(
                "{key} must be at least {} characters long",
                s(c, "MinLength")
            ),
        ));
    }
    if number("MaxLength").is_some_and(|m| length > m) {
        problems.push(problem(
            &id,
            format!(
                "{key} must be at most {} characters long",
                s(c, "MaxLength")
            ),
        ));
    }
}

/// One parameter's field: a choice of its allowed values, a password field for `NoEcho`, or
/// a text field with its default.
fn parameter_field(p: &Value, form: Option<&Form>, problems: &[Problem]) -> Markup {
    let key = s(p, "ParameterKey");
    let id = field_id(&key);
    let c = &p["ParameterConstraints"];
    let default = s(p, "DefaultValue");
    let value = form
        .and_then(|f| f.get(&id))
        .map_or_else(|| default.clone(), str::to_string);
    let allowed: Vec<String> = c["AllowedValues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let mut hint = vec![s(p, "Description")];
    hint.push(format!("Type {}.", s(p, "ParameterType")));
    if !default.is_empty() && !p["IsNoEcho"].as_bool().unwrap_or(false) {
        hint.push(format!("Default {default}."));
    } else if p["DefaultValue"].is_null() {
        hint.push("Required.".into());
    }
    for (name, words) in [
        ("MinValue", "At least"),
        ("MaxValue", "At most"),
        ("MinLength", "Length at least"),
        ("MaxLength", "Length at most"),
        ("AllowedPattern", "Pattern"),
    ] {
        if !s(c, name).is_empty() {
            hint.push(format!("{words} {}.", s(c, name)));
        }
    }
    if !s(c, "ConstraintDescription").is_empty() {
        hint.push(s(c, "ConstraintDescription"));
    }
    let hint = hint
        .into_iter()
        .filter(|h| !h.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if allowed.is_empty() {
        let kind = if p["IsNoEcho"].as_bool().unwrap_or(false) {
            "password"
        } else {
            "text"
        };
        let shown = if kind == "password" {
            form.and_then(|f| f.get(&id)).unwrap_or("").to_string()
        } else {
            value
        };
        return text_field(&id, &key, Some(&hint), &shown, problems, kind);
    }
    let errors = field_errors(problems, &id);
    html! {
        div.field.invalid[!errors.is_empty()] {
            label for=(id) { (key) }
            span.hint id={ (id) "-hint" } { (hint) }
            @if !errors.is_empty() { span.field-error id={ (id) "-error" } { @for e in &errors { (e) " " } } }
            select id=(id) name=(id) aria-describedby={ (id) "-hint" } {
                @if default.is_empty() { option value="" selected[value.is_empty()] { "Choose a value" } }
                @for a in &allowed { option value=(a) selected[*a == value] { (a) } }
            }
        }
    }
}

fn provision_form(
    signed: &Signed,
    id: &str,
    product: &Product,
    form: Option<&Form>,
    problems: &[Problem],
    failure: Option<&ApiError>,
) -> Markup {
    let name = form.and_then(|f| f.get("provisioned_name")).unwrap_or("");
    let path = form.and_then(|f| f.get("path_id")).unwrap_or("");
    html! {
        p { a href="/console/catalog" { "Portfolios" } " › Provision " (product.name) }
        h1 { "Provision " (product.name) }
        (error_summary(problems))
        @if let Some(e) = failure {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "The product was not provisioned" }
                p { strong { (e.code) } ": " span.aws-message { (e.message) } }
            }
        }
        @if product.versions.len() > 1 {
            form method="get" action=(product_link(id)) {
                div.field {
                    label for="version" { "Version" }
                    span.hint id="version-hint" { "Each version has its own template and parameters." }
                    select id="version" name="version" aria-describedby="version-hint" {
                        @for (v, n) in &product.versions { option value=(v) selected[*v == product.version] { (n) } }
                    }
                }
                button.secondary type="submit" { "Show this version's parameters" }
            }
        }
        form method="post" action=(product_link(id)) novalidate {
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="version" value=(product.version);
            (text_field("provisioned_name", "Provisioned product name", Some("Letters, digits, periods, underscores and hyphens, starting with a letter or digit; up to 128 characters."), name, problems, "text"))
            @if product.paths.len() > 1 {
                div.field {
                    label for="path_id" { "Launch path" }
                    select id="path_id" name="path_id" {
                        @for (p, n) in &product.paths { option value=(p) selected[*p == path] { (n) " (" (p) ")" } }
                    }
                }
            }
            @if product.parameters.is_empty() {
                p { "This version's template has no parameters." }
            } @else {
                fieldset {
                    legend { "Parameters" }
                    @for p in &product.parameters { (parameter_field(p, form, problems)) }
                }
            }
            div.buttons {
                button type="submit" { "Provision product" }
                a href="/console/catalog" { "Cancel" }
            }
        }
    }
}

/// `GET /console/catalog/products/{id}/provision?version=`.
pub async fn form(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let query = page::query(&parts);
    let product = match read_product(&principal, &id, query.get("version")).await {
        Ok(p) => p,
        Err(e) => return page::api_error(&signed, &e),
    };
    let body = provision_form(&signed, &id, &product, None, &[], None);
    page::html(
        StatusCode::OK,
        page::layout(&format!("Provision {}", product.name), Some(&signed), body),
    )
}

fn provisioned_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `POST /console/catalog/products/{id}/provision`: `ProvisionProduct`, then the record's page.
pub async fn provision(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    SignedForm {
        parts,
        signed,
        form,
    }: SignedForm,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let product = match read_product(&principal, &id, form.get("version")).await {
        Ok(p) => p,
        Err(e) => return page::api_error(&signed, &e),
    };
    let name = form
        .get("provisioned_name")
        .unwrap_or("")
        .trim()
        .to_string();
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push(problem(
            "provisioned_name",
            "Enter a name for the provisioned product",
        ));
    } else if !provisioned_name_ok(&name) {
        problems.push(problem(
            "provisioned_name",
            format!("Provisioned product name `{name}` may have only letters, digits, periods, underscores and hyphens, starting with a letter or digit"),
        ));
    }
    let mut parameters = Vec::new();
    for p in &product.parameters {
        let key = s(p, "ParameterKey");
        let value = form.get(&field_id(&key)).unwrap_or("").trim().to_string();
        check_parameter(p, &value, &mut problems);
        if !value.is_empty() {
            parameters.push(json!({"Key": key, "Value": value}));
        }
    }
    let answer = |status: StatusCode, problems: &[Problem], failure: Option<&ApiError>| {
        page::html(
            status,
            page::layout(
                &format!("Provision {}", product.name),
                Some(&signed),
                provision_form(&signed, &id, &product, Some(&form), problems, failure),
            ),
        )
    };
    if !problems.is_empty() {
        return answer(StatusCode::BAD_REQUEST, &problems, None);
    }
    let token = format!("{:032x}", rand::rng().random::<u128>());
    let mut input = json!({
        "ProductId": id,
        "ProvisioningArtifactId": product.version,
        "ProvisionedProductName": name,
        "ProvisioningParameters": parameters,
        "ProvisionToken": token,
    });
    if let Some(path) = form.get("path_id").filter(|p| !p.is_empty()) {
        input["PathId"] = json!(path);
    }
    match principal.servicecatalog("ProvisionProduct", input).await {
        Ok(answer) => page::redirect(&record_link(&s(&answer["RecordDetail"], "RecordId"))),
        Err(e) => {
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            answer(status, &[], Some(&e))
        }
    }
}

/// `GET /console/catalog/records/{id}`: the record, refreshed while it is in progress.
pub async fn record(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let described = match principal
        .servicecatalog("DescribeRecord", json!({"Id": id}))
        .await
    {
        Ok(d) => d,
        Err(e) => return page::api_error(&signed, &e),
    };
    let detail = &described["RecordDetail"];
    let status = s(detail, "Status");
    let finished = matches!(status.as_str(), "SUCCEEDED" | "FAILED");
    let outputs: Vec<Value> = described["RecordOutputs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let errors: Vec<Value> = detail["RecordErrors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let name = s(detail, "ProvisionedProductName");
    let body = html! {
        p { a href="/console/catalog/provisioned" { "Provisioned products" } " › Record " (id) }
        h1 { "Provisioning " (name) }
        dl.summary {
            dt { "Status" } dd id="record-status" { (status_tag(&status)) }
            dt { "Record" } dd { code { (id) } " (" (s(detail, "RecordType")) ")" }
            dt { "Provisioned product" } dd { code { (s(detail, "ProvisionedProductId")) } }
            @if !s(detail, "LaunchRoleArn").is_empty() {
                dt { "Launched as" } dd { code { (s(detail, "LaunchRoleArn")) } }
            }
            dt { "Created" } dd { (when(detail, "CreatedTime")) }
            dt { "Updated" } dd { (when(detail, "UpdatedTime")) }
        }
        @if !finished {
            div role="status" data-refresh="1" {
                p { strong { "In progress." } " This page refreshes itself every second until the record succeeds or fails." }
            }
            div.buttons { a.button.secondary href=(record_link(&id)) { "Refresh" } }
        }
        @if !errors.is_empty() {
            div.error-summary role="alert" {
                h2 { "Errors" }
                ul { @for e in &errors { li { strong { (s(e, "Code")) } ": " (s(e, "Description")) } } }
            }
        }
        h2 { "Outputs" }
        (page::table(None, &["Key", "Value", "Description"], &outputs,
            html! { @if finished { "This record has no outputs." } @else { "Outputs appear when provisioning succeeds." } },
            |o| html! { td { (s(o, "OutputKey")) } td { code { (s(o, "OutputValue")) } } td { (s(o, "Description")) } }))
        @if finished {
            p { a href="/console/catalog/provisioned" { "All provisioned products" } }
        }
    };
    page::html(
        StatusCode::OK,
        page::layout(&format!("Provisioning {name}"), Some(&signed), body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_against_their_constraints() {
        let p = json!({"ParameterKey": "Size", "ParameterType": "Number",
            "ParameterConstraints": {"AllowedValues": [], "MinValue": "1", "MaxValue": "5"}});
        let mut problems = Vec::new();
        check_parameter(&p, "9", &mut problems);
        check_parameter(&p, "x", &mut problems);
        check_parameter(&p, "", &mut problems);
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Size must be at most 5",
                "Size must be a number, not `x`",
                "Enter a value for Size: it has no default"
            ]
        );
        let tier = json!({"ParameterKey": "Tier", "ParameterType": "String", "DefaultValue": "small",
            "ParameterConstraints": {"AllowedValues": ["small", "large"]}});
        let mut problems = Vec::new();
        check_parameter(&tier, "huge", &mut problems);
        check_parameter(&tier, "", &mut problems);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "Tier must be one of small, large");
        assert!(provisioned_name_ok("team-a.1_b"));
        assert!(!provisioned_name_ok("-team"));
    }
}
