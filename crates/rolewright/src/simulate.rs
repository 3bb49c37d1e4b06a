//! `rolewright simulate`: one request against policy files, or a corpus of simulation cases
//! (run by [`runner`], which reads cases with [`reader`] and builds their requests with
//! [`request`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use rolewright_iam::simulation::{SimulatedRequest, decision_json, describe};
use rolewright_iam::{
    CompiledPolicy, Decision, Effect, PolicySet, PolicyType, Request, parse_policy,
};

use rolewright_reference::Reference;

use crate::validate::read_input;
use crate::{Format, exit, render};

mod reader;
mod request;
mod runner;

use runner::Runner;

/// Arguments of `rolewright simulate`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// Run the simulation cases in this file (JSON array, object or JSON Lines) or folder
    /// (searched recursively for `.json` and `.jsonl`), instead of one request.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["policy", "action"])]
    cases: Option<PathBuf>,
    /// Output format: `json` prints the decision as one JSON object, or with `--cases` one JSON
    /// object per case, on standard output.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// An identity-based policy of the caller (repeatable).
    #[arg(long, value_name = "FILE")]
    policy: Vec<PathBuf>,
    /// The resource-based policy of the resource (bucket policy, key policy, role trust policy).
    #[arg(long, value_name = "FILE")]
    resource_policy: Option<PathBuf>,
    /// The caller's permissions boundary.
    #[arg(long, value_name = "FILE")]
    boundary: Option<PathBuf>,
    /// The session policy of the caller's role session.
    #[arg(long, value_name = "FILE")]
    session_policy: Option<PathBuf>,
    /// A service control policy; each one is its own organization level (repeatable, root first).
    #[arg(long, value_name = "FILE")]
    scp: Vec<PathBuf>,
    /// A resource control policy; each one is its own level (repeatable, root first). AWS's
    /// allow-all `RCPFullAWSAccess` is added to every level, as AWS does.
    #[arg(long, value_name = "FILE")]
    rcp: Vec<PathBuf>,
    /// A VPC endpoint policy the request passes through.
    #[arg(long, value_name = "FILE")]
    endpoint_policy: Option<PathBuf>,
    /// The caller: a user, role or assumed-role ARN, an account id, a service principal, or `anonymous`.
    #[arg(
        long,
        value_name = "ARN",
        default_value = "arn:aws:iam::123456789012:user/simulated-user"
    )]
    principal: String,
    /// The action, `service:Action` (any case).
    #[arg(long, value_name = "ACTION", required_unless_present = "cases")]
    action: Option<String>,
    /// The resource ARN; `*` for actions that have no resource types.
    #[arg(long, value_name = "ARN", default_value = "*")]
    resource: String,
    /// The account that owns the resource (default: the one in the ARN, else the caller's).
    #[arg(long, value_name = "ID")]
    resource_account: Option<String>,
    /// A condition key, `KEY=VALUE` (repeatable; repeat a key for a multi-valued key, or write
    /// `KEY=["a","b"]`).
    #[arg(long, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// With `--cases`: for cases that do not set `wildcardOnlyAction`, look the action up in
    /// AWS's service authorization data instead of taking `false` (the schema's default).
    #[arg(long, requires = "cases")]
    infer_wildcard_only: bool,
    /// The action supports no resource types, so only `Resource: "*"` grants it. Without this
    /// flag rolewright looks the action up in AWS's service authorization data.
    #[arg(long)]
    wildcard_only: bool,
}

/// Runs the command; returns the exit code.
pub fn run(args: &SimulateArgs) -> u8 {
    match &args.cases {
        Some(path) => run_cases(path, args.format, args.infer_wildcard_only),
        None => run_one(args),
    }
}

fn load(path: &Path, policy_type: PolicyType, name: &str) -> Result<CompiledPolicy, u8> {
    let text = read_input(path).map_err(|e| {
        eprintln!("error: {e}");
        exit::ERROR
    })?;
    let outcome = parse_policy(&text, policy_type);
    let file = path.display().to_string();
    match outcome.document {
        Some(doc) => Ok(CompiledPolicy::new(&doc).with_name(format!("{name} {file}"))),
        None => {
            let color = render::use_color();
            for d in outcome.diagnostics.iter().filter(|d| d.is_error()) {
                eprint!("{}", render::diagnostic(d, &file, &text, color));
            }
            eprintln!("error: `{file}` is not a valid {policy_type} policy");
            Err(exit::INVALID)
        }
    }
}

fn run_one(args: &SimulateArgs) -> u8 {
    match decide(args) {
        Ok(code) => code,
        Err(code) => code,
    }
}

fn decide(args: &SimulateArgs) -> Result<u8, u8> {
    let mut set = PolicySet::new();
    for p in &args.policy {
        set = set.with_identity(load(p, PolicyType::Identity, "identity policy")?);
    }
    if let Some(p) = &args.resource_policy {
        set = set.with_resource(load(p, PolicyType::Resource, "resource policy")?);
    }
    if let Some(p) = &args.boundary {
        set = set.with_boundary(load(p, PolicyType::Boundary, "permissions boundary")?);
    }
    if let Some(p) = &args.session_policy {
        set = set.with_session(load(p, PolicyType::Session, "session policy")?);
    }
    for p in &args.scp {
        set = set.with_scp_level(vec![load(p, PolicyType::ServiceControl, "SCP")?]);
    }
    for p in &args.rcp {
        set = set.with_rcp_level(vec![
            load(p, PolicyType::ResourceControl, "RCP")?,
            rolewright_iam::case::rcp_full_aws_access(),
        ]);
    }
    if let Some(p) = &args.endpoint_policy {
        set = set.with_endpoint(load(p, PolicyType::Endpoint, "VPC endpoint policy")?);
    }
    let Some(action) = &args.action else {
        eprintln!("error: `--action` is required");
        return Err(exit::ERROR);
    };
    let simulated = SimulatedRequest {
        principal: args.principal.clone(),
        action: action.clone(),
        resource: args.resource.clone(),
        resource_account: args.resource_account.clone(),
        context: args.context.clone(),
        wildcard_only: args.wildcard_only,
    };
    let request = simulated.build(Reference::embedded()).map_err(|e| {
        eprintln!("error: {e}");
        exit::INVALID
    })?;
    let decision = set.evaluate(&request);
    match args.format {
        Format::Human => print_decision(&decision, &request),
        Format::Json => println!("{}", decision_json(&decision, &request)),
    }
    Ok(if decision.is_allowed() {
        exit::OK
    } else {
        exit::DENIED
    })
}

fn print_decision(decision: &Decision, request: &Request) {
    println!("{}", decision.outcome);
    match decision.access_denied_message(request) {
        None => {
            for m in decision.statements(Effect::Allow) {
                println!("  allowed by {}", describe(m));
            }
        }
        Some(message) => {
            println!("  {message}");
            for m in decision.statements(Effect::Deny) {
                println!("  denied by {}", describe(m));
            }
            if !decision.blocked_by.is_empty() {
                let kinds: Vec<&str> = decision.blocked_by.iter().map(|k| k.aws_words()).collect();
                println!("  blocked by: {}", kinds.join(", "));
            }
        }
    }
}

/// Lists `path` itself when it is a file, else every `.json` and `.jsonl` file under it, sorted.
pub fn case_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            case_files(&entry, out)?;
        } else if entry
            .extension()
            .is_some_and(|e| e == "json" || e == "jsonl")
        {
            out.push(entry);
        }
    }
    Ok(())
}

fn run_cases(path: &Path, format: Format, infer_wildcard_only: bool) -> u8 {
    let mut files = Vec::new();
    if let Err(e) = case_files(path, &mut files) {
        eprintln!("error: cannot read `{}`: {e}", path.display());
        return exit::ERROR;
    }
    let catalog: Option<runner::Catalog> =
        infer_wildcard_only.then(|| Reference::embedded() as runner::Catalog);
    let mut runner = Runner::new(format, catalog);
    // Results are written chunk by chunk; a large buffer makes few system calls of them.
    let mut stdout = std::io::BufWriter::with_capacity(256 << 10, std::io::stdout().lock());
    for file in &files {
        if runner.run_file(file, &mut stdout).is_err() {
            // The reader went away (`| head`): stop quietly, as command-line tools do.
            return exit::OK;
        }
    }
    if stdout.flush().is_err() {
        return exit::OK;
    }
    let totals = runner.totals();
    // The process ends now: freeing every cached policy one by one would only take time.
    std::mem::forget(runner);
    if totals.unchecked > 0 {
        eprintln!(
            "{} cases had no expectation and were decided only",
            totals.unchecked
        );
    }
    eprintln!(
        "{} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.skipped
    );
    if totals.failed > 0 {
        exit::ERROR
    } else {
        exit::OK
    }
}
