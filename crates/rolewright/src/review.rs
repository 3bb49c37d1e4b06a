//! `rolewright who-can`, `can` and `access-review`: the access review of an account snapshot,
//! read from a file written by `aws iam get-account-authorization-details` or from a control
//! plane (or AWS) through [`live`]; the analysis itself is `rolewright-review`'s.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use rolewright_iam::simulation::context_from_pairs;
use rolewright_review::{
    Access, AccessAnalysis, AccountSnapshot, CanAnswer, Finding, FindingKind, Query, StatementRef,
    Step,
};

use crate::aws::AwsArgs;
use crate::{Format, exit};

pub(crate) mod live;

/// Where the account comes from, and how to print: shared by the three commands.
#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The JSON that `aws iam get-account-authorization-details` prints (all pages, as the
    /// AWS CLI merges them); `-` reads standard input. Without it, the account is read from
    /// the control plane or AWS with the standard AWS configuration (`--endpoint-url`,
    /// `--profile`, `--region`), which needs `iam:GetAccountAuthorizationDetails`.
    #[arg(long, value_name = "FILE")]
    account_details: Option<PathBuf>,
    /// A resource-based policy, `ARN=FILE`: a bucket, key or queue policy that grants access
    /// besides the principals' own policies (repeatable). A bucket's policy also applies to
    /// its objects.
    #[arg(long, value_name = "ARN=FILE")]
    resource_policy: Vec<String>,
    /// A condition key of the session, `KEY=VALUE` (repeatable; repeat a key for a
    /// multi-valued key, or write `KEY=["a","b"]`): every request of every path carries it,
    /// e.g. `aws:MultiFactorAuthPresent=true` or `aws:SourceIp=10.0.0.1`. Keys that the
    /// caller chooses in its requests (a job's subnets, a session's external id) need not be
    /// given: the review tries the values the policies name.
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Output format: `json` prints one JSON object per line.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Print to standard error how long reading, analysing and answering took.
    #[arg(long)]
    timings: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

/// Arguments of `rolewright who-can`.
#[derive(Args, Debug)]
pub struct WhoCanArgs {
    /// The action, `service:Action` (any case), e.g. `sagemaker:CreateTrainingJob`.
    action: String,
    /// The resource ARN; without it, any resource the action applies to (`*`).
    #[arg(long, value_name = "ARN")]
    resource: Option<String>,
    #[command(flatten)]
    review: ReviewArgs,
}

/// Arguments of `rolewright can`.
#[derive(Args, Debug)]
pub struct CanArgs {
    /// The user or role: its ARN, `user/NAME`, `role/NAME`, or a name only one of them has.
    principal: String,
    /// The action, `service:Action` (any case).
    action: String,
    /// The resource ARN; without it, any resource the action applies to (`*`).
    #[arg(long, value_name = "ARN")]
    resource: Option<String>,
    #[command(flatten)]
    review: ReviewArgs,
}

/// Arguments of `rolewright access-review`.
#[derive(Args, Debug)]
pub struct AccessReviewArgs {
    #[command(flatten)]
    review: ReviewArgs,
}

/// A failure, with the exit code it gives.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn error(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: exit::ERROR,
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: exit::INVALID,
        }
    }
}

fn finish(result: Result<u8, Failure>) -> u8 {
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("error: {}", f.message);
            f.code
        }
    }
}

/// Reads the snapshot and builds the analysis.
fn analysis(args: &ReviewArgs) -> Result<AccessAnalysis, Failure> {
    let environment =
        context_from_pairs(&args.context).map_err(|e| Failure::invalid(e.to_string()))?;
    let started = Instant::now();
    let mut snapshot = match &args.account_details {
        Some(path) => {
            let text = read(path)?;
            AccountSnapshot::from_json(&text)
                .map_err(|e| Failure::invalid(format!("`{}`: {e}", path.display())))?
        }
        None => {
            let client = args
                .aws
                .client(2)
                .map_err(|e| Failure::error(format!("{e}")))?;
            let details = live::account_details(&client).map_err(|e| {
                Failure::error(format!(
                    "cannot read the account: {e} (give `--account-details FILE` to read a file instead)"
                ))
            })?;
            AccountSnapshot::from_value(details)
                .map_err(|e| Failure::invalid(format!("the account's details: {e}")))?
        }
    };
    for pair in &args.resource_policy {
        let Some((arn, file)) = pair.split_once('=') else {
            return Err(Failure::invalid(format!(
                "resource policy `{pair}` must be `ARN=FILE`, such as `arn:aws:s3:::ml-data=bucket-policy.json`"
            )));
        };
        let path = Path::new(file);
        let text = read(path)?;
        snapshot
            .add_resource_policy(arn.trim(), &text)
            .map_err(|e| Failure::invalid(format!("`{}`: {e}", path.display())))?;
    }
    let read_in = started.elapsed();
    let analysis = AccessAnalysis::new(&snapshot, &environment);
    if args.timings {
        let (nodes, edges) = analysis.graph_size();
        eprintln!(
            "read {} users, {} groups, {} roles, {} policies in {:.1} ms; graph of {nodes} nodes and {edges} edges in {:.1} ms",
            snapshot.users.len(),
            snapshot.groups.len(),
            snapshot.roles.len(),
            snapshot.policies.len(),
            read_in.as_secs_f64() * 1e3,
            (started.elapsed() - read_in).as_secs_f64() * 1e3,
        );
    }
    Ok(analysis)
}

/// A file's text (`-` for standard input), however large an account export is.
fn read(path: &Path) -> Result<String, Failure> {
    let mut text = String::new();
    let result = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    result.map_err(|e| Failure::error(format!("cannot read `{}`: {e}", path.display())))?;
    Ok(text)
}

fn query(action: &str, resource: Option<&str>) -> Result<Query, Failure> {
    Query::new(action, resource).map_err(|e| Failure::invalid(e.to_string()))
}

/// Prints JSON lines, stopping quietly when the reader goes away (`| head`).
fn print_lines<T: serde::Serialize>(items: &[T]) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for item in items {
        let line = serde_json::to_string(item).unwrap_or_default();
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}

/// Runs `who-can`; returns the exit code (0, whoever can).
pub fn who_can(args: &WhoCanArgs) -> u8 {
    finish((|| {
        let query = query(&args.action, args.resource.as_deref())?;
        let analysis = analysis(&args.review)?;
        let started = Instant::now();
        let answer = analysis.who_can(&query);
        if args.review.timings {
            eprintln!("who-can in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
        }
        match args.review.format {
            Format::Json => print_lines(&answer),
            Format::Human => print_who_can(&query, &answer),
        }
        Ok(exit::OK)
    })())
}

fn print_who_can(query: &Query, answer: &[Access]) {
    let direct = answer.iter().filter(|a| a.direct).count();
    println!(
        "{} on {}: {} can ({direct} directly, {} through a path)",
        query.action,
        query.resource,
        count(answer.len(), "principal"),
        answer.len() - direct
    );
    for access in answer {
        println!();
        if access.direct {
            println!("{}  directly", access.principal);
        } else {
            println!(
                "{}  through {}",
                access.principal,
                count(access.path.len(), "step")
            );
        }
        print_path(&access.path);
        print_statements(&access.statements);
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn print_path(path: &[Step]) {
    for (i, step) in path.iter().enumerate() {
        println!(
            "  {}. {}  {} on {}",
            i + 1,
            step.via.as_str(),
            step.action,
            step.resource
        );
    }
}

fn print_statements(statements: &[StatementRef]) {
    for s in statements {
        match &s.sid {
            Some(sid) => println!(
                "  allowed by {}, statement {} (Sid `{sid}`)",
                s.policy, s.index
            ),
            None => println!("  allowed by {}, statement {}", s.policy, s.index),
        }
    }
}

/// Runs `can`; returns 0 when the principal can, 2 when it cannot.
pub fn can(args: &CanArgs) -> u8 {
    finish((|| {
        let query = query(&args.action, args.resource.as_deref())?;
        let analysis = analysis(&args.review)?;
        let answer = analysis
            .can(&args.principal, &query)
            .map_err(|e| Failure::invalid(e.to_string()))?;
        match args.review.format {
            Format::Json => print_lines(std::slice::from_ref(&answer)),
            Format::Human => print_can(&query, &answer),
        }
        Ok(if answer.can { exit::OK } else { exit::DENIED })
    })())
}

fn print_can(query: &Query, answer: &CanAnswer) {
    let what = format!("{} on {}", query.action, query.resource);
    if !answer.can {
        println!(
            "{} cannot {what}, directly or by any path",
            answer.principal
        );
        return;
    }
    if answer.path.is_empty() {
        println!("{} can {what} directly", answer.principal);
    } else {
        println!(
            "{} can {what} through {}",
            answer.principal,
            count(answer.path.len(), "step")
        );
    }
    print_path(&answer.path);
    print_statements(&answer.statements);
}

/// Runs `access-review`; returns the exit code (0, whatever it finds).
pub fn access_review(args: &AccessReviewArgs) -> u8 {
    finish((|| {
        let analysis = analysis(&args.review)?;
        let started = Instant::now();
        let findings = analysis.access_review();
        if args.review.timings {
            eprintln!(
                "access-review in {:.1} ms",
                started.elapsed().as_secs_f64() * 1e3
            );
        }
        match args.review.format {
            Format::Json => print_lines(&findings),
            Format::Human => print_review(&findings),
        }
        Ok(exit::OK)
    })())
}

fn print_review(findings: &[Finding]) {
    let admins = findings
        .iter()
        .filter(|f| f.finding == FindingKind::Administrator)
        .count();
    println!(
        "{}, {} that can become one",
        count(admins, "administrator"),
        findings.len() - admins
    );
    for f in findings {
        println!();
        match f.finding {
            FindingKind::Administrator => println!("{}  administrator", f.principal),
            FindingKind::CanBecomeAdministrator => println!(
                "{}  can become administrator through {}",
                f.principal,
                count(f.path.len(), "step")
            ),
        }
        print_path(&f.path);
    }
}
