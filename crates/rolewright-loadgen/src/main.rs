//! `rolewright-loadgen`: a bounded, loopback-only HTTP/1.1 load generator that sends
//! SigV4-signed IAM query-protocol requests, for benchmarking `rolewright serve` and its anchors.

mod credentials;
mod http;
mod report;
mod runner;
mod target;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use rolewright_sigv4::Credentials;

use crate::report::Summary;
use crate::runner::{Caller, Plan};
use crate::target::Target;
use crate::workload::{Signer, Workload};

/// Sends signed IAM requests to a server on this machine and reports throughput and latency.
///
/// The run stops at whichever bound comes first: --duration or --requests. Exits 1 if any
/// operation failed (unless --allow-errors), 2 on bad arguments or setup failure.
#[derive(Debug, Parser)]
#[command(name = "rolewright-loadgen", version)]
struct Args {
    /// The server, `http://HOST:PORT`; only loopback hosts are accepted.
    #[arg(long)]
    url: String,
    /// Another replica of the same server (repeatable): the connections are spread over --url
    /// and these in turn. Set-up and the caller's session go to --url.
    #[arg(long = "also-url", value_name = "URL")]
    also_urls: Vec<String>,
    /// What each operation sends.
    #[arg(long, value_enum, default_value_t = Workload::GetRole)]
    workload: Workload,
    /// Connections, each with one operation in flight.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    concurrency: u32,
    /// Runtime threads driving the connections (the server usually wants the other cores).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    threads: u32,
    /// Measured period in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Stop after this many measured operations.
    #[arg(long, default_value_t = 1_000_000)]
    requests: u64,
    /// Unmeasured warm-up period in seconds, before the measured one.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Access key id to sign with (with --secret-key).
    #[arg(long, requires = "secret_key", conflicts_with = "credentials")]
    access_key: Option<String>,
    /// Secret access key to sign with (with --access-key).
    #[arg(long, requires = "access_key", conflicts_with = "credentials")]
    secret_key: Option<String>,
    /// Session token to send with --access-key and --secret-key.
    #[arg(long, requires = "access_key")]
    session_token: Option<String>,
    /// AWS shared-credentials file to read the keys from.
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// Profile of the --credentials file.
    #[arg(long, default_value = "default", requires = "credentials")]
    profile: String,
    /// Region of the credential scope.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The role read by `get-role`.
    #[arg(long, default_value = "rolewright-loadgen")]
    role_name: String,
    /// Create --role-name first (an existing role is fine).
    #[arg(long)]
    setup: bool,
    /// User profiles --setup creates in the domain of the SageMaker workloads.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// `MaxResults` of each `list-user-profiles` request (SageMaker's default page is 10).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100))]
    page_size: u32,
    /// Who sends the measured requests: the credentials given, or a session of a Data
    /// Scientist shaped role that they assume first.
    #[arg(long, value_enum, default_value_t = Caller::Given)]
    caller: Caller,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit 0 even if some operations failed.
    #[arg(long)]
    allow_errors: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A short report for people.
    Human,
    /// One JSON object on one line.
    Json,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = match resolve(&args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let outcome = match runner::run(&plan) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let summary = Summary::new(&plan, &outcome);
    for sample in &summary.error_samples {
        eprintln!("error sample: {sample}");
    }
    match args.format {
        Format::Human => print!("{}", summary.human()),
        Format::Json => match serde_json::to_string(&summary) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot serialize the summary: {e}");
                return ExitCode::from(2);
            }
        },
    }
    if summary.operations == 0 {
        eprintln!("error: no operation was measured");
        return ExitCode::FAILURE;
    }
    if summary.errors > 0 && !args.allow_errors {
        eprintln!(
            "error: {} of {} operations failed (pass --allow-errors to accept)",
            summary.errors, summary.operations
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Turns the raw arguments into a plan, checking everything before any load is sent.
fn resolve(args: &Args) -> anyhow::Result<Plan> {
    let target = Target::parse(&args.url)?;
    let replicas = args
        .also_urls
        .iter()
        .map(|url| Target::parse(url))
        .collect::<Result<Vec<_>, _>>()?;
    let credentials = match (&args.credentials, &args.access_key, &args.secret_key) {
        (Some(path), _, _) => credentials::load(path, &args.profile)?,
        (None, Some(key), Some(secret)) => Credentials {
            access_key_id: key.clone(),
            secret_access_key: secret.clone(),
            session_token: args.session_token.clone(),
        },
        _ => bail!(
            "no credentials: pass --access-key and --secret-key, or --credentials FILE [--profile NAME]"
        ),
    };
    let seconds = |value: f64, flag: &str| {
        Duration::try_from_secs_f64(value)
            .with_context(|| format!("--{flag} `{value}` is not a number of seconds"))
    };
    let duration = seconds(args.duration, "duration")?;
    if duration.is_zero() {
        bail!("--duration must be more than 0 seconds");
    }
    Ok(Plan {
        signer: Signer::new(target.clone(), credentials, args.region.clone()),
        target,
        replicas,
        workload: args.workload,
        concurrency: usize::try_from(args.concurrency)?,
        threads: usize::try_from(args.threads)?,
        duration,
        max_operations: args.requests,
        warmup: seconds(args.warmup, "warmup")?,
        role_name: args.role_name.clone(),
        setup: args.setup,
        caller: args.caller,
        users: args.users,
        page_size: args.page_size,
    })
}
