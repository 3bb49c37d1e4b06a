//! `rolewright role usage`, `role trim`, `role rollback` and `role drift`: a live role read from
//! the control plane (or AWS), its calls from the audit log or CloudTrail files; the analysis
//! is `rolewright-review`'s (`usage`, `trim`, `drift`).
//!
//! A trim applied with `--apply` is recorded on the role itself, so that `role rollback` needs
//! nothing but the account: tags `rolewright:trim` (when), `rolewright:trim:inline:POLICY`
//! (the ARN of an unattached customer-managed policy under the path `/rolewright-pretrim/`
//! holding the inline policy's document before the trim, or `-` for an inline policy the trim
//! added), `rolewright:trim:version:N` (`ARN OLD NEW`: the default version before and the one
//! the trim created) and `rolewright:trim:detached:N` (an ARN the trim detached).

use std::path::PathBuf;

use clap::Args;
use rolewright_catalog::Catalog;
use rolewright_catalog::spec::SpecFile;
use rolewright_client::{AwsClient, IAM_VERSION, xml};
use rolewright_reference::Reference;
use rolewright_review::change::Change;
use rolewright_review::drift::{drift, sync_changes};
use rolewright_review::role_state::{RoleState, RoleStateError, document};
use rolewright_review::trim::trim;
use rolewright_review::usage::{Call, History, calls_from_cloudtrail, usage};
use rolewright_server::audit::{AuditQuery, query};
use rolewright_server::wire::xml::iso_time;

use crate::aws::AwsArgs;
use crate::serve::parse_database;
use crate::{Format, exit};

/// The tag that marks a trimmed role, and the prefix of the tags that record the trim.
const TRIM_TAG: &str = "rolewright:trim";

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
    let mut out = History {
        oldest_ms: before.first().or(records.first()).map(|r| r.time_ms),
        calls: Vec::new(),
    };
    for r in &records {
        let Some(principal) = &r.principal else {
            continue;
        };
        for d in &r.decisions {
            out.calls.push(Call {
                time_ms: r.time_ms,
                principal: principal.clone(),
                action: d.action.clone(),
                resource: d.resource.clone(),
                allowed: d.decision == "allowed",
            });
        }
    }
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
        apply_trim(&client, &role, &proposal.changes)?;
        eprintln!(
            "trimmed `{}`; `rolewright role rollback {}` undoes it",
            role.name, role.name
        );
        Ok(exit::OK)
    })())
}

fn iam(client: &AwsClient, action: &str, params: &[(&str, &str)]) -> Outcome<String> {
    client
        .query_call("iam", action, IAM_VERSION, params)
        .map_err(|e| Failure(e.to_string(), exit::ERROR))
}

/// The account and partition of a role's ARN.
fn account_of(role: &RoleState) -> (String, String) {
    let parts: Vec<&str> = role.arn.split(':').collect();
    (
        parts.get(1).copied().unwrap_or("aws").to_string(),
        parts.get(4).copied().unwrap_or_default().to_string(),
    )
}

/// One write to the live role; `CreatePolicyVersion` answers the new version's id.
fn write(client: &AwsClient, role: &RoleState, change: &Change) -> Outcome<Option<String>> {
    let name = role.name.as_str();
    let text = |v: &serde_json::Value| v.to_string();
    match change {
        Change::CreateRole {
            name,
            trust,
            description,
        } => {
            let trust = text(trust);
            let mut p = vec![
                ("RoleName", name.as_str()),
                ("AssumeRolePolicyDocument", &trust),
            ];
            if let Some(d) = description {
                p.push(("Description", d));
            }
            iam(client, "CreateRole", &p)?;
        }
        Change::UpdateTrust(doc) => {
            iam(
                client,
                "UpdateAssumeRolePolicy",
                &[("RoleName", name), ("PolicyDocument", &text(doc))],
            )?;
        }
        Change::PutInline {
            name: policy,
            document,
        } => {
            iam(
                client,
                "PutRolePolicy",
                &[
                    ("RoleName", name),
                    ("PolicyName", policy),
                    ("PolicyDocument", &text(document)),
                ],
            )?;
        }
        Change::DeleteInline(policy) => {
            iam(
                client,
                "DeleteRolePolicy",
                &[("RoleName", name), ("PolicyName", policy)],
            )?;
        }
        Change::CreatePolicy {
            name: policy,
            document,
        } => {
            let doc = text(document);
            match client.query_call(
                "iam",
                "CreatePolicy",
                IAM_VERSION,
                &[("PolicyName", policy), ("PolicyDocument", &doc)],
            ) {
                Ok(_) => {}
                Err(e) if e.code == "EntityAlreadyExists" => {
                    let (partition, account) = account_of(role);
                    let arn = format!("arn:{partition}:iam::{account}:policy/{policy}");
                    return write(
                        client,
                        role,
                        &Change::NewDefaultVersion {
                            arn,
                            document: document.clone(),
                        },
                    );
                }
                Err(e) => return fail(e.to_string()),
            }
        }
        Change::NewDefaultVersion { arn, document } => {
            let answer = iam(
                client,
                "CreatePolicyVersion",
                &[
                    ("PolicyArn", arn),
                    ("PolicyDocument", &text(document)),
                    ("SetAsDefault", "true"),
                ],
            )?;
            return Ok(xml::first_text(&answer, "VersionId"));
        }
        Change::Attach(arn) => {
            iam(
                client,
                "AttachRolePolicy",
                &[("RoleName", name), ("PolicyArn", arn)],
            )?;
        }
        Change::Detach(arn) => {
            iam(
                client,
                "DetachRolePolicy",
                &[("RoleName", name), ("PolicyArn", arn)],
            )?;
        }
        Change::PutBoundary(arn) => {
            iam(
                client,
                "PutRolePermissionsBoundary",
                &[("RoleName", name), ("PermissionsBoundary", arn)],
            )?;
        }
        Change::DeleteBoundary => {
            iam(
                client,
                "DeleteRolePermissionsBoundary",
                &[("RoleName", name)],
            )?;
        }
        Change::Tag(k, v) => {
            iam(
                client,
                "TagRole",
                &[
                    ("RoleName", name),
                    ("Tags.member.1.Key", k),
                    ("Tags.member.1.Value", v),
                ],
            )?;
        }
        Change::Untag(k) => {
            iam(
                client,
                "UntagRole",
                &[("RoleName", name), ("TagKeys.member.1", k)],
            )?;
        }
    }
    Ok(None)
}

/// The tags that record the last trim.
fn trim_record(role: &RoleState) -> Vec<(String, String)> {
    role.tags
        .iter()
        .filter(|(k, _)| k == TRIM_TAG || k.starts_with(&format!("{TRIM_TAG}:")))
        .cloned()
        .collect()
}

/// Writes the trim, keeping on the role what `rollback` needs (see the module's docs).
fn apply_trim(client: &AwsClient, role: &RoleState, changes: &[Change]) -> Outcome<()> {
    // Only the last trim is kept: forget an earlier one.
    for (k, v) in trim_record(role) {
        if k.starts_with(&format!("{TRIM_TAG}:inline:")) && v != "-" {
            let _ = client.query_call("iam", "DeletePolicy", IAM_VERSION, &[("PolicyArn", &v)]);
        }
        write(client, role, &Change::Untag(k))?;
    }
    let mut record: Vec<(String, String)> = vec![(TRIM_TAG.into(), time(now_ms()))];
    let mut n = 0;
    for change in changes {
        match change {
            Change::PutInline { name, .. } | Change::DeleteInline(name) => {
                let key = format!("{TRIM_TAG}:inline:{name}");
                if record.iter().any(|(k, _)| *k == key) {
                } else if let Some(old) = role.inline.iter().find(|p| p.name == *name) {
                    let answer = iam(
                        client,
                        "CreatePolicy",
                        &[
                            ("PolicyName", &format!("{}.{name}", role.name)),
                            ("Path", "/rolewright-pretrim/"),
                            ("PolicyDocument", &old.document.to_string()),
                            (
                                "Description",
                                &format!(
                                    "inline policy `{name}` of role `{}` before `rolewright role trim`",
                                    role.name
                                ),
                            ),
                        ],
                    )?;
                    let arn = xml::first_text(&answer, "Arn").ok_or_else(|| {
                        Failure("CreatePolicy answered no Arn".into(), exit::ERROR)
                    })?;
                    record.push((key, arn));
                } else {
                    record.push((key, "-".into()));
                }
                write(client, role, change)?;
            }
            Change::NewDefaultVersion { arn, .. } => {
                let old = role
                    .attached
                    .iter()
                    .find(|p| p.arn == *arn)
                    .and_then(|p| p.default_version.clone())
                    .unwrap_or_else(|| "v1".into());
                let new = write(client, role, change)?.unwrap_or_default();
                n += 1;
                record.push((
                    format!("{TRIM_TAG}:version:{n}"),
                    format!("{arn} {old} {new}"),
                ));
            }
            Change::Detach(arn) => {
                write(client, role, change)?;
                n += 1;
                record.push((format!("{TRIM_TAG}:detached:{n}"), arn.clone()));
            }
            other => {
                write(client, role, other)?;
            }
        }
    }
    for (k, v) in record {
        write(client, role, &Change::Tag(k, v))?;
    }
    Ok(())
}

/// `rolewright role rollback ROLE`: undoes the last `role trim --apply`.
pub fn rollback_command(args: &RollbackArgs) -> u8 {
    finish((|| {
        let client = client(&args.aws)?;
        let role = existing_role(&client, &args.role)?;
        let record = trim_record(&role);
        if !record.iter().any(|(k, _)| k == TRIM_TAG) {
            return Err(Failure(
                format!(
                    "role `{}` has no trim to roll back (no `{TRIM_TAG}` tag: `rolewright role trim --apply` writes one)",
                    role.name
                ),
                exit::ERROR,
            ));
        }
        for (k, v) in &record {
            if k.starts_with(&format!("{TRIM_TAG}:detached:")) {
                write(&client, &role, &Change::Attach(v.clone()))?;
            } else if let Some(rest) = k.strip_prefix(&format!("{TRIM_TAG}:version:")) {
                let parts: Vec<&str> = v.split(' ').collect();
                let [arn, old, new] = parts.as_slice() else {
                    return fail(format!("tag `{k}` = `{v}` is not `ARN OLD NEW` ({rest})"));
                };
                iam(
                    &client,
                    "SetDefaultPolicyVersion",
                    &[("PolicyArn", arn), ("VersionId", old)],
                )?;
                iam(
                    &client,
                    "DeletePolicyVersion",
                    &[("PolicyArn", arn), ("VersionId", new)],
                )?;
            } else if let Some(policy) = k.strip_prefix(&format!("{TRIM_TAG}:inline:")) {
                if v == "-" {
                    write(&client, &role, &Change::DeleteInline(policy.to_string()))?;
                    continue;
                }
                let answer = iam(&client, "GetPolicy", &[("PolicyArn", v)])?;
                let version =
                    xml::first_text(&answer, "DefaultVersionId").unwrap_or_else(|| "v1".into());
                let answer = iam(
                    &client,
                    "GetPolicyVersion",
                    &[("PolicyArn", v), ("VersionId", &version)],
                )?;
                let doc = xml::first_text(&answer, "Document")
                    .and_then(|d| document(&serde_json::Value::String(d)))
                    .ok_or_else(|| {
                        Failure(
                            format!("the saved policy `{v}` has no document"),
                            exit::ERROR,
                        )
                    })?;
                write(
                    &client,
                    &role,
                    &Change::PutInline {
                        name: policy.to_string(),
                        document: doc,
                    },
                )?;
                iam(&client, "DeletePolicy", &[("PolicyArn", v)])?;
            }
        }
        for (k, _) in &record {
            write(&client, &role, &Change::Untag(k.clone()))?;
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
        for change in sync_changes(&spec, live.as_ref()) {
            eprintln!("writing: {change}");
            write(&client, &target, &change)?;
        }
        eprintln!("synced role `{}` with `{}`", spec.name, args.spec.display());
        Ok(exit::OK)
    })())
}
