//! Console actions that take a while (enabling JumpStart for every user of a domain) run as
//! jobs: the form is answered at once with a redirect to the job's page, which shows the
//! progress and refreshes itself while the job runs (the embedded script reloads a page marked
//! `data-refresh`; without script, the page's Refresh link does it), then the job's report.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use maud::{Markup, PreEscaped, html};
use rolewright_server::error::ApiError;

use crate::Console;
use crate::page;
use crate::session::SignedIn;

/// The most jobs kept; the oldest finished ones go first.
const MAX_JOBS: usize = 1000;

/// One job's progress, as its page shows it.
pub struct Job {
    /// What it does (`Enable JumpStart for the users of team`).
    title: String,
    /// The ARN of the principal it runs as: only its pages show it.
    owner: String,
    /// Where to go once it is done: link and text.
    back: (String, String),
    /// Items to work through, once known, and how many are done.
    total: usize,
    done: usize,
    /// What has been done so far, one line a step.
    steps: Vec<String>,
    /// The report (rendered), or why it stopped.
    outcome: Option<Result<String, ApiError>>,
    started: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The jobs of all sessions, by id.
#[derive(Default)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Arc<Mutex<Job>>>>,
    counter: Mutex<u64>,
}

impl Jobs {
    /// Registers a new job run as `owner`; gives its id and the handle its work reports to.
    pub fn start(&self, title: &str, owner: &str, back: (String, String)) -> (String, Progress) {
        let started = {
            let mut counter = lock(&self.counter);
            *counter += 1;
            *counter
        };
        let id: String = {
            let bytes: [u8; 16] = rand::random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        };
        let job = Arc::new(Mutex::new(Job {
            title: title.to_string(),
            owner: owner.to_string(),
            back,
            total: 0,
            done: 0,
            steps: Vec::new(),
            outcome: None,
            started,
        }));
        let mut jobs = lock(&self.jobs);
        if jobs.len() >= MAX_JOBS {
            let oldest = jobs
                .iter()
                .filter(|(_, j)| lock(j).outcome.is_some())
                .min_by_key(|(_, j)| lock(j).started)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                jobs.remove(&k);
            }
        }
        jobs.insert(id.clone(), job.clone());
        (id, Progress(job))
    }

    fn get(&self, id: &str) -> Option<Arc<Mutex<Job>>> {
        lock(&self.jobs).get(id).cloned()
    }
}

/// What a job's work reports its progress to.
#[derive(Clone)]
pub struct Progress(Arc<Mutex<Job>>);

impl Progress {
    /// One more thing done, in words.
    pub fn step(&self, text: impl Into<String>) {
        lock(&self.0).steps.push(text.into());
    }

    /// `total` items to work through from now (the counter starts again).
    pub fn items(&self, total: usize) {
        let mut job = lock(&self.0);
        job.total = total;
        job.done = 0;
    }

    /// One item done.
    pub fn advance(&self) {
        lock(&self.0).done += 1;
    }

    /// The job is done, with its report.
    pub fn finish(&self, report: Markup) {
        lock(&self.0).outcome = Some(Ok(report.into_string()));
    }

    /// The job stopped on a failed call.
    pub fn fail(&self, error: ApiError) {
        lock(&self.0).outcome = Some(Err(error));
    }
}

/// `GET /console/jobs/{id}`.
pub async fn show(
    State(console): State<Arc<Console>>,
    Path(id): Path<String>,
    SignedIn { signed, .. }: SignedIn,
) -> Response<Body> {
    let job = console
        .jobs
        .get(&id)
        .filter(|j| lock(j).owner == signed.caller.arn);
    let Some(job) = job else {
        return page::error_page(
            StatusCode::NOT_FOUND,
            "Job not found",
            "There is no job of yours at this address: it may belong to another principal, or the console was restarted.",
        );
    };
    let job = lock(&job);
    let here = format!("/console/jobs/{}", page::encode_query(&id));
    let running = job.outcome.is_none();
    let body = html! {
        h1 { (job.title) }
        @match &job.outcome {
            None => {
                div role="status" data-refresh="1" {
                    p { strong { "In progress." } " This page refreshes itself every second." }
                    @if job.total > 0 {
                        label for="job-progress" { (job.done) " of " (job.total) " done" }
                        progress id="job-progress" max=(job.total) value=(job.done) { (job.done) " of " (job.total) }
                    }
                }
                div.buttons { a.button.secondary href=(here) { "Refresh" } }
            }
            Some(Ok(report)) => {
                (page::notice("Done."))
                (PreEscaped(report.as_str()))
            }
            Some(Err(e)) => {
                div.error-summary role="alert" {
                    h2 { "The job stopped" }
                    p { strong { (e.code) } ": " span.aws-message { (e.message) } }
                    @if e.code == "AccessDenied" {
                        p { "Your policies do not allow this step. Ask an administrator for the permission named above; what was done before it stays done." }
                    }
                }
            }
        }
        h2 { "Steps" }
        @if job.steps.is_empty() { p { "Nothing done yet." } } @else {
            ol.steps-done { @for s in &job.steps { li { (s) } } }
        }
        @if !running {
            p { a href=(job.back.0) { (job.back.1) } }
        }
    };
    page::html(
        StatusCode::OK,
        page::layout(&job.title, Some(&signed), body),
    )
}
