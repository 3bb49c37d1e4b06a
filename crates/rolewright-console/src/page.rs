//! The pages' frame and shared answers: the layout with its landmarks and navigation, forms and
//! query strings read, redirects, the 403 page with AWS's AccessDenied text, the embedded CSS and
//! script, and the console's home page.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Response, StatusCode, header};
use maud::{DOCTYPE, Markup, html};
use rolewright_server::error::ApiError;
use rolewright_server::wire::query::parse_form;

use crate::Console;
use crate::call::Principal;
use crate::session::{Signed, SignedIn};

const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");
/// The largest form accepted (a wizard step with many parameters fits many times over).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A form body or a query string, as name and value pairs in order.
#[derive(Debug, Default, Clone)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// Reads a `application/x-www-form-urlencoded` body.
    pub async fn read(body: Body) -> Result<Form, Response<Body>> {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                error_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Form too large",
                    "The form sent is larger than the console accepts.",
                )
            })?;
        parse_form(&bytes)
            .map(Form)
            .map_err(|e| error_page(StatusCode::BAD_REQUEST, "Form not readable", &e.message))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The request's query string.
pub fn query(parts: &Parts) -> Form {
    Form(parse_form(parts.uri.query().unwrap_or("").as_bytes()).unwrap_or_default())
}

/// Percent-encodes a query value.
pub fn encode_query(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A page in the console's frame: a skip link, the header with navigation and sign-out, and
/// `main`.
pub fn layout(title: &str, signed: Option<&Signed>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — rolewright console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to main content" }
                header.top {
                    a.brand href="/console/" { "rolewright" }
                    @if let Some(signed) = signed {
                        nav aria-label="Console" {
                            ul {
                                li { a href="/console/roles" { "Roles" } }
                                li { a href="/console/create-role" { "Create role" } }
                                li { a href="/console/studio" { "Studio" } }
                                li { a href="/console/catalog" { "Service Catalog" } }
                                li { a href="/console/stacks" { "Stacks" } }
                                li { a href="/console/simulator" { "Simulator" } }
                                li { a href="/console/who-can" { "Who can" } }
                                li { a href="/console/audit" { "Audit log" } }
                            }
                        }
                        form.signout method="post" action="/console/signout" {
                            input type="hidden" name="csrf" value=(signed.csrf);
                            span { "Signed in as " code { (signed.caller.arn) } }
                            " "
                            button.secondary type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    }
}

fn with_headers(status: StatusCode, body: Body, content_type: &'static str) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// An HTML answer.
pub fn html(status: StatusCode, markup: Markup) -> Response<Body> {
    with_headers(
        status,
        Body::from(markup.into_string()),
        "text/html; charset=utf-8",
    )
}

/// `303 See Other` to `to` (after a form, and to pages of the console).
pub fn redirect(to: &str) -> Response<Body> {
    let mut r = with_headers(
        StatusCode::SEE_OTHER,
        Body::empty(),
        "text/html; charset=utf-8",
    );
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A page that explains a failure, outside the signed-in frame.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response<Body> {
    html(
        status,
        layout(
            title,
            None,
            html! {
                div.error-summary role="alert" {
                    h1 { (title) }
                    p { (message) }
                }
                p { a href="/console/" { "Go to the console's home page" } }
            },
        ),
    )
}

/// A 403 page.
pub fn forbidden(title: &str, message: &str) -> Response<Body> {
    error_page(StatusCode::FORBIDDEN, title, message)
}

/// The page for an operation that failed: AccessDenied is a 403 with AWS's text; other errors
/// keep their status, code and message.
pub fn api_error(signed: &Signed, error: &ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let title = if error.code == "AccessDenied" {
        "Access denied"
    } else {
        "The request failed"
    };
    html(
        status,
        layout(
            title,
            Some(signed),
            html! {
                div.error-summary role="alert" {
                    h1 { (title) }
                    p { strong { (error.code) } ": " span.aws-message { (error.message) } }
                }
                @if error.code == "AccessDenied" {
                    p { "Your policies do not allow this. Ask an administrator for the permission named above." }
                }
                p { a href="/console/" { "Go to the console's home page" } }
            },
        ),
    )
}

/// `/console/*` paths that are no page.
pub async fn not_found() -> Response<Body> {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no console page at this address.",
    )
}

/// The embedded style sheet.
pub async fn css() -> Response<Body> {
    let mut r = with_headers(StatusCode::OK, Body::from(CSS), "text/css; charset=utf-8");
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

/// The embedded script (conveniences only: every flow works without it).
pub async fn js() -> Response<Body> {
    let mut r = with_headers(
        StatusCode::OK,
        Body::from(JS),
        "text/javascript; charset=utf-8",
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

/// `GET /console/`: who is signed in (`sts:GetCallerIdentity`) and where to go.
pub async fn home(
    State(console): State<Arc<Console>>,
    SignedIn { parts, signed }: SignedIn,
) -> Response<Body> {
    let principal = Principal::new(&console, signed.caller.clone(), &parts);
    let identity = match principal.sts("GetCallerIdentity", &[]).await {
        Ok(xml) => xml,
        Err(e) => return api_error(&signed, &e),
    };
    let arn = crate::xml::text(&identity, "Arn").unwrap_or_default();
    let account = crate::xml::text(&identity, "Account").unwrap_or_default();
    html(
        StatusCode::OK,
        layout(
            "Home",
            Some(&signed),
            html! {
                h1 { "rolewright console" }
                p { "Account " code { (account) } ", signed in as " code { (arn) } "." }
                p { "Everything you do here is an API call made as you: the policy engine decides it and the audit log records it." }
                h2 { "Roles" }
                ul.actions {
                    li { a href="/console/create-role" { "Create a role" } " from a persona and its ML activities (SageMaker Role Manager's four steps)." }
                    li { a href="/console/roles" { "Roles" } ": search, open, delete." }
                }
                h2 { "Review" }
                ul.actions {
                    li { a href="/console/simulator" { "Policy simulator" } ": decide a request for a principal of this account or for pasted policies, with the deciding statements highlighted." }
                    li { a href="/console/who-can" { "Who can" } ": every user and role that can make a request, directly or by a path (assuming roles, passing roles, editing policies), with the path drawn." }
                    li { a href="/console/audit" { "Audit log" } ": every request and each of its decisions, filtered by principal, action, decision and time." }
                }
                h2 { "Studio, Service Catalog and CloudFormation" }
                ul.actions {
                    li { a href="/console/studio" { "Studio domains" } ": settings, user profiles, apps, JumpStart status." }
                    li { a href="/console/catalog" { "Service Catalog" } ": portfolios, products, constraints, principals, provisioned products." }
                    li { a href="/console/stacks" { "Stacks" } ": status, events, resources, outputs, delete." }
                }
            },
        ),
    )
}

/// One problem with what was entered: the field it is about and how to fix it.
pub struct Problem {
    /// The `id` of the field.
    pub field: String,
    /// How to fix it.
    pub message: String,
}

/// A [`Problem`] with `field`.
pub fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem {
        field: field.to_string(),
        message: message.into(),
    }
}

/// The error summary atop a form: every problem, linking to its field.
pub fn error_summary(problems: &[Problem]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div.error-summary role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    @for p in problems { li { a href={ "#" (p.field) } { (p.message) } } }
                }
            }
        }
    }
}

/// The messages of the problems with `field`.
pub fn field_errors<'p>(problems: &'p [Problem], field: &str) -> Vec<&'p str> {
    problems
        .iter()
        .filter(|p| p.field == field)
        .map(|p| p.message.as_str())
        .collect()
}

/// A labelled one-line field with its hint and the messages of its problems.
pub fn text_field(
    id: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    problems: &[Problem],
    kind: &str,
) -> Markup {
    let errors = field_errors(problems, id);
    let described = match (hint.is_some(), errors.is_empty()) {
        (true, true) => format!("{id}-hint"),
        (true, false) => format!("{id}-hint {id}-error"),
        (false, false) => format!("{id}-error"),
        (false, true) => String::new(),
    };
    html! {
        div.field.invalid[!errors.is_empty()] {
            label for=(id) { (label) }
            @if let Some(hint) = hint { span.hint id={ (id) "-hint" } { (hint) } }
            @if !errors.is_empty() {
                span.field-error id={ (id) "-error" } { @for e in &errors { (e) " " } }
            }
            input id=(id) name=(id) type=(kind) value=(value) spellcheck="false"
                aria-describedby=[(!described.is_empty()).then_some(&described)]
                aria-invalid=[(!errors.is_empty()).then_some("true")];
        }
    }
}

/// A list shown as a table (a caption, column headers, one row of cells per item), or the
/// sentence `empty` when there is nothing to list. A header written `""` is the actions
/// column, named for screen readers only.
pub fn table<T>(
    caption: Option<&str>,
    headers: &[&str],
    items: &[T],
    empty: Markup,
    row: impl Fn(&T) -> Markup,
) -> Markup {
    html! {
        @if items.is_empty() { p.empty { (empty) } } @else {
            table {
                @if let Some(c) = caption { caption { (c) } }
                thead { tr {
                    @for h in headers {
                        th scope="col" { @if h.is_empty() { span.visually-hidden { "Actions" } } @else { (h) } }
                    }
                } }
                tbody { @for item in items { tr { (row(item)) } } }
            }
        }
    }
}

/// A banner saying what was just done.
pub fn notice(text: &str) -> Markup {
    html! { div.notice role="status" { p { (text) } } }
}
