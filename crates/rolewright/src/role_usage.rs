//! `rolewright role usage`, `role trim`, `role rollback` and `role drift`: a live role read from
//! the control plane (or AWS), its calls from the audit log or CloudTrail files; the analysis
//! is `rolewright-review`'s (`usage`, `trim`, `drift`), and so are the writes (`apply`: IAM's
//! quotas checked first, a failure part-way undone, the trim's undo recorded on the role).

use std::path::PathBuf;

use clap::Args;
use rolewright_catalog::Catalog;
use rolewright_catalog::spec::SpecFile;
use rolewright_client::{AwsClient, IAM_VERSION, xml};
use rolewright_reference::Reference;
use rolewright_review::apply::{
    ApplyError, IamCalls, IamFailure, apply_trim, rollback, write_changes,
};
use rolewright_review::drift::{drift, sync_changes};
use rolewright_review::role_state::{RoleState, RoleStateError};
use rolewright_review::trim::trim;
use rolewright_review::usage::{History, calls_from_cloudtrail, usage};
use rolewright_server::audit::{AuditQuery, query};
use rolewright_server::wire::xml::iso_time;

use crate::aws::AwsArgs;
use crate::serve::parse_database;
use crate::{Format, exit};

/// Where a role's calls come from.
#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The window: `90d`, `12h`, `30m`, `45s`, or a time (`2026-11-23T10:00:00Z`).
    #[arg(long, default_value = "90d")]
    since: String,
    /// CloudTrail log files (JSON, `{"Records": [...]}`) instead of the audit log
    /// (repeatable).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    cloudtrail: Vec<PathBuf>,
    /// The control plane's data directory, whose audit log holds every decision.
    #[arg(long, default_value = "./rolewright-data")]
    data_dir: PathBuf,
    /// The control plane's database instead: `sqlite:DIR` or `postgres://...`.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

/// Arguments of `rolewright role usage`.
#[derive(Args, Debug)]
pub struct UsageArgs {
    /// The role's name.
    role: String,
    #[command(flatten)]
    history: HistoryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    aws: AwsArgs,
}

/// Arguments of `rolewright role trim`.
#[derive(Args, Debug)]
pub struct TrimArgs {
    /// The role's name.
    role: String,
    #[command(flatten)]
    history: HistoryArgs,
    /// An action to keep although unused (`sagemaker:CreateTrainingJob`, `s3:Get*`;
    /// repeatable).
    #[arg(long, value_name = "ACTION")]
    keep: Vec<String>,
    /// Write the trim to the role (undone by `rolewright role rollback ROLE`).
    #[arg(long)]
    apply: bool,
    /// Output format of the diff.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    aws: AwsArgs,
}

/// Arguments of `rolewright role rollback`.
#[derive(Args, Debug)]
pub struct RollbackArgs {
    /// The role's name.
    role: String,
    #[command(flatten)]
    aws: AwsArgs,
}

/// Arguments of `rolewright role drift`.
#[derive(Args, Debug)]
pub struct DriftArgs {
    /// The spec file `rolewright role new --spec` reads (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    spec: PathBuf,
    /// Make the live role what the spec builds (creating it if it does not exist), after
    /// showing the drift.
    #[arg(long)]
    sync: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    #[command(flatten)]
    aws: AwsArgs,
}

/// A failure: what to print, and the exit code.
struct Failure(String, u8);

type Outcome<T> = Result<T, Failure>;

fn fail<T>(message: impl Into<String>) -> Outcome<T> {
    Err(Failure(message.into(), exit::ERROR))
}

fn finish(result: Outcome<u8>) -> u8 {
    match result {
        Ok(code) => code,
        Err(Failure(message, code)) => {
            eprintln!("error: {message}");
            code
        }
    }
}

fn client(aws: &AwsArgs) -> Outcome<AwsClient> {
    aws.client(2)
        .map_err(|e| Failure(e.to_string(), exit::ERROR))
}

/// The live role, or `None` when the account has no role of that name.
fn live_role(client: &AwsClient, name: &str) -> Outcome<Option<RoleState>> {
    let details = crate::review::live::account_details(client)
        .map_err(|e| Failure(format!("cannot read the account: {e}"), exit::ERROR))?;
    let mut role = match RoleState::from_account_details(&details, name) {
        Ok(r) => r,
        Err(RoleStateError::NoSuchRole(_)) => return Ok(None),
        Err(e) => return fail(e.to_string()),
    };
    // The authorization details carry no description, where `role new` lists the activities.
    if let Ok(answer) = client.query_call("iam", "GetRole", IAM_VERSION, &[("RoleName", name)]) {
        role.description = xml::first_text(&answer, "Description");
    }
    Ok(Some(role))
}

fn existing_role(client: &AwsClient, name: &str) -> Outcome<RoleState> {
    live_role(client, name)?.ok_or_else(|| {
        Failure(
            format!("no role `{name}` in the account (see `aws iam list-roles`)"),
            exit::INVALID,
        )
    })
}

/// The window's start in Unix milliseconds: `now - 90d`, or a time.
fn window_start(since: &str, now_ms: i64) -> Outcome<i64> {
    rolewright_review::usage::window_start(since, now_ms).ok_or_else(|| {
        Failure(
            format!("--since `{since}` is neither a duration (90d, 12h, 30m, 45s) nor a time (2026-11-23T10:00:00Z)"),
            exit::INVALID,
        )
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn time(ms: i64) -> String {
    iso_time(ms.div_euclid(1000))
}

/// The calls in the window, and whether the source reaches back to its start.
fn history(args: &HistoryArgs, since_ms: i64) -> Outcome<(History, bool)> {
    if !args.cloudtrail.is_empty() {
        let mut all = History::default();
        for path in &args.cloudtrail {
            let text = crate::validate::read_input(path).map_err(|e| Failure(e, exit::ERROR))?;
            let h = calls_from_cloudtrail(&text)
                .map_err(|e| Failure(format!("`{}`: {e}", path.display()), exit::INVALID))?;
            all.calls.extend(h.calls);
            all.oldest_ms = match (all.oldest_ms, h.oldest_ms) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let covered = all.oldest_ms.is_some_and(|o| o <= since_ms);
        return Ok((all, covered));
    }
    let database = parse_database(args.database_url.as_deref())
        .map_err(|code| Failure("the database URL does not read".into(), code))?;
    let read = |q: &AuditQuery| match &database {
        None => query(&args.data_dir, q),
        Some(rolewright_server::Database::Sqlite(dir)) => query(dir, q),
        Some(rolewright_server::Database::Postgres(url)) => crate::serve::query_postgres(url, q),
    };
    let fault = |e: rolewright_server::store::StoreError| Failure(e.to_string(), exit::ERROR);
    let records = read(&AuditQuery {
        since_ms: Some(since_ms),
        limit: usize::MAX,
        ..AuditQuery::default()
    })
    .map_err(fault)?;
    let before = read(&AuditQuery {
        until_ms: Some(since_ms),
        limit: 1,
        ..AuditQuery::default()
    })
    .map_err(fault)?;
    let out = History {
        oldest_ms: before.first().or(records.first()).map(|r| r.time_ms),
        calls: rolewright_console::usage::calls(&records),
    };
    Ok((out, !before.is_empty()))
}

/// `rolewright role usage ROLE`.
pub fn usage_command(args: &UsageArgs) -> u8 {
    finish((|| {
        let since_ms = window_start(&args.history.since, now_ms())?;
        let client = client(&args.aws)?;
        let role = existing_role(&client, &args.role)?;
        let (history, covered) = history(&args.history, since_ms)?;
        let report = usage(
            &role,
            &history.calls,
            since_ms,
            &Catalog::builtin(),
            Reference::embedded(),
        );
        match args.format {
            Format::Json => println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            ),
            Format::Human => {
                println!("role {} since {}", report.role, time(since_ms));
                for a in &report.activities {
                    let name = a.activity.as_deref().unwrap_or("(policies of no activity)");
                    match a.last_used_ms {
                        Some(t) => println!("{name}: used, last {}", time(t)),
                        None => println!("{name}: unused"),
                    }
                    for x in &a.actions {
                        match x.last_used_ms {
                            Some(t) => println!(
                                "  used    {} ({} calls, last {}, on {})",
                                x.action,
                                x.calls,
                                time(t),
                                x.resources.join(", ")
                            ),
                            None => println!("  unused  {}", x.action),
                        }
                    }
                }
            }
        }
        if !covered {
            eprintln!(
                "note: the history does not reach back to {}: actions shown unused may have been used before it began",
                time(since_ms)
            );
        }
        Ok(exit::OK)
    })())
}

/// `rolewright role trim ROLE`.
pub fn trim_command(args: &TrimArgs) -> u8 {
    finish((|| {
        let since_ms = window_start(&args.history.since, now_ms())?;
        let (history, covered) = history(&args.history, since_ms)?;
        if !covered {
            let source = if args.history.cloudtrail.is_empty() {
                "the audit log does"
            } else {
                "the CloudTrail files do"
            };
            let reach = match history.oldest_ms {
                Some(t) => format!("its oldest record is from {}", time(t)),
                None => "it holds no record".to_string(),
            };
            return Err(Failure(
                format!(
                    "not enough history to trim `{}`: the window starts at {} (--since {}), but {source} not reach back that far ({reach}); give a shorter --since",
                    args.role,
                    time(since_ms),
                    args.history.since
                ),
                exit::ERROR,
            ));
        }
        let client = client(&args.aws)?;
        let role = existing_role(&client, &args.role)?;
        let proposal = trim(
            &role,
            &history.calls,
            since_ms,
            &args.keep,
            &Catalog::builtin(),
            Reference::embedded(),
        );
        let (added, removed) = rolewright_catalog::diff::diff(
            &role.documents(),
            &proposal.trimmed.documents(),
            Reference::embedded(),
        );
        crate::role::print_grant_diff(&added, &removed, args.format);
        for a in &proposal.dropped_activities {
            eprintln!("activity `{a}` is unused: dropped");
        }
        for c in &proposal.changes {
            eprintln!("{}: {c}", if args.apply { "writing" } else { "would" });
        }
        if !args.apply {
            if !proposal.changes.is_empty() {
                eprintln!("nothing written; give --apply to write the trim");
            }
            return Ok(exit::OK);
        }
        if proposal.changes.is_empty() {
            eprintln!("nothing to trim");
            return Ok(exit::OK);
        }
        run_writes(apply_trim(
            &AwsIam(&client),
            &role,
            &proposal.changes,
            &time(now_ms()),
        ))?;
        eprintln!(
            "trimmed `{}`; `rolewright role rollback {}` undoes it",
            role.name, role.name
        );
        Ok(exit::OK)
    })())
}

/// IAM through the command line's AWS client (blocking: each call's future is ready).
struct AwsIam<'a>(&'a AwsClient);

impl IamCalls for AwsIam<'_> {
    fn call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> impl std::future::Future<Output = Result<String, IamFailure>> + Send {
        let answer = self
            .0
            .query_call("iam", action, IAM_VERSION, params)
            .map_err(|e| IamFailure {
                code: e.code.clone(),
                message: e.message.clone(),
            });
        std::future::ready(answer)
    }

    fn text(answer: &str, tag: &str) -> Option<String> {
        xml::first_text(answer, tag)
    }
}

/// Runs one of `rolewright_review::apply`'s writes through the AWS client.
fn run_writes(
    write: impl std::future::Future<Output = Result<Vec<String>, ApplyError>>,
) -> Outcome<Vec<String>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| Failure(format!("cannot start the writer: {e}"), exit::ERROR))?;
    runtime
        .block_on(write)
        .map_err(|e: ApplyError| Failure(e.to_string(), exit::ERROR))
}

/// `rolewright role rollback ROLE`: undoes the last `role trim --apply`.
pub fn rollback_command(args: &RollbackArgs) -> u8 {
    finish((|| {
        let client = client(&args.aws)?;
        let role = existing_role(&client, &args.role)?;
        for step in run_writes(rollback(&AwsIam(&client), &role))? {
            eprintln!("wrote: {step}");
        }
        eprintln!("rolled back the trim of `{}`", role.name);
        Ok(exit::OK)
    })())
}

/// The role a spec file builds.
fn spec_role(path: &std::path::Path) -> Outcome<RoleState> {
    let text = crate::validate::read_input(path).map_err(|e| Failure(e, exit::ERROR))?;
    let mut spec = SpecFile::parse(&text)
        .map_err(|e| vec![e])
        .and_then(|f| f.into_spec())
        .map_err(|p| {
            Failure(
                format!("`{}`: {}", path.display(), p.join("; ")),
                exit::INVALID,
            )
        })?;
    spec.fill_defaults(|name| std::env::var(name).ok());
    let role = Catalog::builtin()
        .build(&spec)
        .map_err(|e| Failure(format!("`{}`: {e}", path.display()), exit::INVALID))?;
    Ok(RoleState::from_definition(
        &role,
        &spec.partition,
        &spec.account,
    ))
}

/// `rolewright role drift --spec FILE`: exit 1 on drift, 0 when none (or after `--sync`).
pub fn drift_command(args: &DriftArgs) -> u8 {
    finish((|| {
        let spec = spec_role(&args.spec)?;
        let client = client(&args.aws)?;
        let live = live_role(&client, &spec.name)?;
        let d = drift(&spec, live.as_ref(), Reference::embedded());
        match args.format {
            Format::Json => {
                let grants = |v: &[rolewright_catalog::diff::Grant]| -> Vec<serde_json::Value> {
                    v.iter().map(|g| serde_json::json!({"action": g.action, "resource": g.resource, "condition": g.condition})).collect()
                };
                println!(
                    "{}",
                    serde_json::json!({
                        "role": spec.name, "drift": !d.is_empty(), "missing": d.missing,
                        "added": grants(&d.added), "removed": grants(&d.removed),
                        "trust": d.trust.as_ref().map(|(s, l)| serde_json::json!({"spec": s, "live": l})),
                        "boundary": d.boundary.as_ref().map(|(s, l)| serde_json::json!({"spec": s, "live": l})),
                        "attachedAdded": d.attached_added, "attachedRemoved": d.attached_removed,
                        "tags": d.tags.iter().map(|(k, s, l)| serde_json::json!({"key": k, "spec": s, "live": l})).collect::<Vec<_>>(),
                    })
                );
            }
            Format::Human => {
                if d.missing {
                    println!("role `{}` does not exist", spec.name);
                }
                crate::role::print_grant_diff(&d.added, &d.removed, Format::Human);
                if let Some((s, l)) = &d.trust {
                    println!("trust policy differs:\n  spec {s}\n  live {l}");
                }
                if let Some((s, l)) = &d.boundary {
                    let show = |b: &Option<String>| b.clone().unwrap_or_else(|| "(none)".into());
                    println!("permissions boundary: spec {}, live {}", show(s), show(l));
                }
                for a in &d.attached_added {
                    println!("+ attached {a}");
                }
                for a in &d.attached_removed {
                    println!("- attached {a}");
                }
                for (k, s, l) in &d.tags {
                    let show = |v: &Option<String>| {
                        v.as_ref()
                            .map_or("(none)".to_string(), |v| format!("`{v}`"))
                    };
                    println!("tag `{k}`: spec {}, live {}", show(s), show(l));
                }
            }
        }
        if d.is_empty() {
            eprintln!(
                "no drift: role `{}` is what `{}` builds",
                spec.name,
                args.spec.display()
            );
            return Ok(exit::OK);
        }
        if !args.sync {
            eprintln!(
                "role `{}` drifted from `{}`; --sync makes it match",
                spec.name,
                args.spec.display()
            );
            return Ok(exit::ERROR);
        }
        let target = live.clone().unwrap_or_else(|| spec.clone());
        let changes = sync_changes(&spec, live.as_ref());
        for change in &changes {
            eprintln!("writing: {change}");
        }
        run_writes(write_changes(&AwsIam(&client), &target, &changes))?;
        eprintln!("synced role `{}` with `{}`", spec.name, args.spec.display());
        Ok(exit::OK)
    })())
}
