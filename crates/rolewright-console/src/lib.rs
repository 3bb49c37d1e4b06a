//! The rolewright web console: server-rendered pages that `rolewright serve` serves beside the
//! control plane, on the same state. A person signs in with an access key pair; every page and
//! every action is then one or more of the control plane's own operations, run as that
//! principal, authorized by the engine and written to the audit log like an API call.
//!
//! ```no_run
//! # async fn run() -> Result<(), rolewright_server::ServeError> {
//! let server = rolewright_server::Server::open(rolewright_server::Config::new("./data")).await?;
//! let console = rolewright_console::router(server.state(), rolewright_console::Settings::default());
//! server.run_with(console, async {}).await
//! # }
//! ```
// A library prints nothing: results are data, and the binary decides what reaches the terminal.
#![cfg_attr(not(test), deny(clippy::print_stdout, clippy::print_stderr))]
// A refusal is the page a request is answered with, made once and returned at once.
#![expect(
    clippy::result_large_err,
    reason = "refusals are whole responses, returned once"
)]

mod audit_log;
mod call;
mod catalog;
mod job;
mod jumpstart;
mod onboarding;
mod page;
mod provision;
mod role_edit;
mod roles;
mod session;
mod simulator;
mod stacks;
mod studio;
pub mod usage;
mod who_can;
mod wizard;
mod xml;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, Response, StatusCode, header};
use axum::routing::{any, get, post};
use rolewright_server::server::App;

pub use session::COOKIE;

/// Where the console lives.
pub const PATH: &str = "/console/";

/// How the console runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a sign-in lasts, in seconds (8 hours by default).
    pub session_seconds: i64,
    /// The region the console's calls are made in, and the one the roles it builds name.
    pub region: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            session_seconds: 8 * 3600,
            region: "us-east-1".into(),
        }
    }
}

/// What the console's pages share: the control plane's state, the signed-in sessions and the
/// role catalog.
pub struct Console {
    app: Arc<App>,
    settings: Settings,
    sessions: session::Sessions,
    catalog: rolewright_catalog::Catalog,
    jobs: job::Jobs,
    who_can: who_can::AnalysisCache,
}

/// The console's routes, to merge with the control plane's router (`Server::run_with`). `/` is
/// answered here too: a browser asking for HTML is sent to the console, every other request goes
/// to the control plane.
pub fn router(app: Arc<App>, settings: Settings) -> Router {
    let console = Arc::new(Console {
        app,
        settings,
        sessions: session::Sessions::default(),
        catalog: rolewright_catalog::Catalog::builtin(),
        jobs: job::Jobs::default(),
        who_can: who_can::AnalysisCache::default(),
    });
    Router::new()
        .route("/", any(root))
        .route("/console", get(|| async { page::redirect(PATH) }))
        .route("/console/", get(page::home))
        .route("/console/assets/console.css", get(page::css))
        .route("/console/assets/console.js", get(page::js))
        .route(
            "/console/signin",
            get(session::sign_in_form).post(session::sign_in),
        )
        .route("/console/signin/studio", post(session::sign_in_presigned))
        .route("/console/studio/open", get(session::open_presigned))
        .route("/console/signout", post(session::sign_out))
        .route("/console/roles", get(roles::list))
        .route("/console/roles/{name}", get(roles::detail))
        .route("/console/roles/{name}/usage", get(usage::show))
        .route("/console/roles/{name}/drift", post(role_edit::make_match))
        .route("/console/roles/{name}/usage/trim", post(usage::apply))
        .route(
            "/console/roles/{name}/usage/rollback",
            post(usage::roll_back),
        )
        .route(
            "/console/roles/{name}/activities",
            get(role_edit::form).post(role_edit::save_form),
        )
        .route(
            "/console/roles/{name}/activities/review",
            get(role_edit::review),
        )
        .route(
            "/console/roles/{name}/activities/save",
            post(role_edit::save),
        )
        .route(
            "/console/roles/{name}/delete",
            get(roles::confirm_delete).post(roles::delete),
        )
        .route("/console/create-role", get(wizard::start))
        .route(
            "/console/create-role/{step}",
            get(wizard::show).post(wizard::save),
        )
        .route("/console/create-role/export/{file}", get(wizard::export))
        .route(
            "/console/simulator",
            get(simulator::show).post(simulator::ask),
        )
        .route("/console/simulator/actions", get(simulator::actions))
        .route("/console/audit", get(audit_log::list))
        .route("/console/who-can", get(who_can::show))
        .route("/console/stacks", get(stacks::list))
        .route("/console/stacks/{name}", get(stacks::detail))
        .route("/console/stacks/{name}/delete", post(stacks::delete))
        .route("/console/jobs/{id}", get(job::show))
        .route("/console/studio", get(studio::domains))
        .route(
            "/console/studio/new",
            get(onboarding::new_domain).post(onboarding::create_domain),
        )
        .route("/console/studio/{domain}", get(studio::domain))
        .route(
            "/console/studio/{domain}/users/new",
            get(onboarding::new_user).post(onboarding::create_user),
        )
        .route(
            "/console/studio/{domain}/jumpstart",
            post(jumpstart::enable),
        )
        .route(
            "/console/studio/{domain}/apps/delete",
            post(studio::delete_app),
        )
        .route(
            "/console/studio/{domain}/users/{name}",
            get(studio::profile),
        )
        .route(
            "/console/studio/{domain}/users/{name}/edit",
            get(studio::edit_form_page).post(studio::edit),
        )
        .route("/console/catalog", get(catalog::portfolios))
        .route("/console/catalog/portfolios/{id}", get(catalog::portfolio))
        .route(
            "/console/catalog/products/{id}/provision",
            get(provision::form).post(provision::provision),
        )
        .route("/console/catalog/records/{id}", get(provision::record))
        .route("/console/catalog/provisioned", get(catalog::provisioned))
        .route(
            "/console/catalog/provisioned/{id}/terminate",
            post(catalog::terminate),
        )
        .route("/console/{*rest}", any(page::not_found))
        .with_state(console)
}

/// `/`: a browser's `GET` with `Accept: text/html` is redirected to the console; everything
/// else (AWS clients, signed or presigned) is the control plane's.
async fn root(State(console): State<Arc<Console>>, request: Request) -> Response<Body> {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let signed = request.headers().contains_key(header::AUTHORIZATION)
        || request
            .uri()
            .query()
            .is_some_and(|q| q.contains("X-Amz-") || q.contains("Action="));
    if request.method() == Method::GET && wants_html && !signed {
        let mut response = page::redirect(PATH);
        *response.status_mut() = StatusCode::SEE_OTHER;
        return response;
    }
    rolewright_server::router::handle(State(console.app.clone()), request).await
}
