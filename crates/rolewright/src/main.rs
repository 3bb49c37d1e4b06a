//! `rolewright`: least-privilege IAM for ML teams. This binary only reads arguments and files,
//! calls the libraries, and prints; every decision is made in the library crates.

mod actions;
mod admin;
mod aws;
mod bench;
mod jumpstart;
mod lint;
mod migrate;
mod render;
mod review;
mod role;
mod role_usage;
mod serve;
mod simulate;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use rolewright_iam::PolicyType;

/// mimalloc: the server allocates many short-lived strings per request, and glibc's allocator
/// cost about 14% of its CPU under load (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes shared by every command.
pub mod exit {
    /// Success; for `simulate`, the request is allowed.
    pub const OK: u8 = 0;
    /// A usage, file or internal error.
    pub const ERROR: u8 = 1;
    /// `simulate`: the request is denied.
    pub const DENIED: u8 = 2;
    /// The input (a policy, a case file) is invalid.
    pub const INVALID: u8 = 3;
}

#[derive(Parser)]
#[command(
    name = "rolewright",
    version,
    about = "Least-privilege AWS IAM for machine-learning teams: validate, simulate and prove IAM policies",
    long_about = "Least-privilege AWS IAM for machine-learning teams.\n\n\
        rolewright reads AWS IAM policies, checks them against IAM's grammar and the rules of each \
        policy type, and decides requests with its own implementation of AWS's evaluation logic \
        (identity, resource, trust, permissions boundary, session, SCP, RCP and VPC endpoint policies).\n\n\
        Exit codes: 0 ok or allowed, 1 error, 2 denied, 3 invalid input.",
    after_help = "Examples:\n  rolewright validate --type identity policy.json\n  rolewright simulate --policy policy.json --action s3:GetObject --resource arn:aws:s3:::ml-data/train.csv\n  rolewright simulate --cases ../shared/conformance/iam-simulate/engine --format json\n  rolewright actions 'sagemaker:Describe*'"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// For people (also `text`).
    #[value(alias = "text")]
    Human,
    /// For programs: JSON on standard output.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane: an AWS-compatible IAM and STS endpoint for boto3, the AWS CLI and
    /// the AWS SDKs (`--endpoint-url http://127.0.0.1:4566`).
    ///
    /// State lives in SQLite under --data-dir, or in PostgreSQL with --database-url
    /// postgres://USER@HOST:PORT/DATABASE, which several replicas can share (each with the same
    /// --master-key-file). On first start it creates the account and a
    /// bootstrap administrator (user `admin` with AdministratorAccess) whose keys are written to
    /// DATA_DIR/credentials (profile `rolewright`, readable by its owner only). Every request
    /// must be SigV4-signed and is authorized by the policy engine; every call is written to the
    /// audit log. The first line on standard output is `listening on http://ADDR`. Stops
    /// gracefully on SIGINT or SIGTERM.
    ///
    /// Secret access keys and session secrets are stored sealed (XChaCha20-Poly1305) under a
    /// 32-byte master key: --master-key-file, or DATA_DIR/master.key, created on first start.
    /// Plaintext secrets of earlier versions are sealed in place on the first start with a key.
    Serve(serve::ServeArgs),
    /// Operator commands: make a master key (`new-master-key`), print the bootstrap
    /// administrator's keys again (`credentials`).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Read the control plane's audit log: time, decision, status, principal, action,
    /// resource and reason of every call, and each authorization decision a call needed
    /// (listed beneath it when there were several; `decisions` in --format json).
    Audit(serve::AuditArgs),
    /// Move a single-node deployment (SQLite data directory) into PostgreSQL for replicas:
    /// every entity and the audit log, secrets sealed under the given master key, verified
    /// after by counts and a checksum.
    #[command(long_about = migrate::LONG_ABOUT)]
    Migrate(migrate::MigrateArgs),
    /// Check policy files against IAM's grammar and the rules of a policy type.
    ///
    /// Prints every problem with its JSON path, line, column and the offending line. Exits 3 when
    /// any file has an error, 0 otherwise (warnings do not change the exit code).
    Validate {
        /// Where the policies are used; each type has its own rules (an SCP names no principal,
        /// a trust policy names no resource, ...).
        #[arg(long = "type", short = 't', default_value = "identity", value_parser = parse_policy_type)]
        policy_type: PolicyType,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Policy files (JSON). `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Decide a request against policies, or run a file or folder of simulation cases.
    ///
    /// One request: give the policies and the request; prints the decision and the statements or
    /// the missing grant behind it. Exits 0 when allowed, 2 when denied, 3 on invalid policies.
    ///
    /// Cases: `--cases PATH` runs a case file (JSON array, object or JSON Lines) or every `.json`
    /// and `.jsonl` file under a folder, in the engine case schema of the iam-simulate corpus. The
    /// last line on standard error is `N passed, N failed, N skipped`; exits 1 when any case fails.
    Simulate(Box<simulate::SimulateArgs>),
    /// Who can perform an action: every IAM user and role that can, directly (with the
    /// statements that grant it) or through a path of other principals (assuming roles,
    /// passing a role to a SageMaker job, notebook, pipeline, model or Studio app, writing
    /// policies, trust policies, group memberships or credentials), each with its shortest
    /// path.
    ///
    /// The account is read from `--account-details FILE` (the output of `aws iam
    /// get-account-authorization-details`), or from the control plane or AWS with the
    /// standard AWS configuration. Accounts and services that a `--resource-policy` grants
    /// are listed as direct. `--format json` prints one object per line: `{"principal",
    /// "direct", "path": [{"via", "action", "resource"}], "statements": [{"policy", "sid",
    /// "index"}]}`, `via` being `assume-role`, `pass-role`, `policy-edit`, `trust-edit`,
    /// `group-membership` or `credentials`. Exits 0, 1 on errors, 3 on invalid input.
    WhoCan(Box<review::WhoCanArgs>),
    /// Whether one user or role can perform an action, directly or through a path, with the
    /// shortest path and the statements that grant the last step.
    ///
    /// Exits 0 when it can, 2 when it cannot (as `simulate`), 1 on errors, 3 on invalid input
    /// (an unknown principal included). `--format json` prints `{"principal", "can", "path",
    /// "statements"}`.
    Can(Box<review::CanArgs>),
    /// The principals that are administrators of the account, and those that can become one,
    /// with the shortest path.
    ///
    /// An administrator is allowed everything on every resource (`"Action": "*"` on
    /// `"Resource": "*"`, not cut down by a boundary or a Deny). A principal that can give
    /// itself that, or reach one that has it (e.g. `iam:*` on `*`, which can attach
    /// AdministratorAccess to itself), is a `can-become-administrator` finding. `--format
    /// json` prints one object per line: `{"principal", "finding": "administrator" |
    /// "can-become-administrator", "path"}`.
    AccessReview(Box<review::AccessReviewArgs>),
    /// Measure decisions per second on a Data Scientist shaped role and on a case corpus.
    Bench(bench::BenchArgs),
    /// List the personas and their activities: the seeds' data-scientist, mlops, compute and
    /// custom (the defaults), and the current console's variants data-scientist-console and
    /// mlops-console.
    ///
    /// Each persona says whether it is the seeds' definition or a console variant, and where its
    /// list of activities comes from. `--format json` prints an array of
    /// `{"id","name","description","activities","origin","variantOf","source"}`, with `origin`
    /// `seeds` or `console-variant` and `variantOf` the default persona a variant belongs to.
    Personas {
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// List the ML activities: what each grants, the parameters it needs, VPC/KMS support.
    Activities {
        /// Only the activities this persona preselects (any id of `rolewright personas`,
        /// console variants included).
        #[arg(long)]
        persona: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Build least-privilege SageMaker roles from personas and ML activities.
    #[command(subcommand)]
    Role(RoleCommand),
    /// JumpStart and project templates for SageMaker users with custom execution roles:
    /// `status` shows who has them and what is missing, `enable` sets up what is missing.
    #[command(subcommand)]
    Jumpstart(jumpstart::JumpstartCommand),
    /// Lint policies with AWS's service data: unknown actions, resources that no action accepts,
    /// condition keys that cannot apply, and grants that are wider than they look.
    ///
    /// Each finding has a stable code, a severity in IAM Access Analyzer's four categories
    /// (ERROR, SECURITY_WARNING, WARNING, SUGGESTION), the JSON path, a message and, where one
    /// exists, a suggestion. `--format json` prints an array of
    /// `{"code","severity","path","message","help"}` (with `file`, `line`, `column`). Exits 3 when
    /// any ERROR is found.
    Lint {
        /// Which rules apply: `auto` (a policy naming a Principal is a resource or trust policy,
        /// otherwise an identity policy) or a policy type.
        #[arg(long = "type", short = 't', default_value = "auto", value_parser = lint::parse_lint_type)]
        lint_type: rolewright_lint::LintType,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Policy files (JSON). `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Summarize what policies grant, by service and access level, with the resources: what a
    /// reviewer reads before approving a role.
    Summarize {
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Policy files (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the AWS actions an IAM pattern matches, or show one action's details.
    ///
    /// A pattern with `*` or `?` (`sagemaker:Describe*`, `s3:Get*Acl`, `*`) lists every action it
    /// matches with its access level, ignoring case as IAM does. An action name
    /// (`sagemaker:CreateTrainingJob`) shows its access level, resource types with their ARN
    /// formats, and condition keys. Exits 3 when nothing matches, with a suggestion for a
    /// misspelled service or action. `--format json` prints an array of
    /// `{"action","accessLevel","wildcardOnly"}` for a pattern and one object for an action.
    Actions {
        /// An action or an IAM wildcard over `service:Action`.
        pattern: String,
        /// Tell which resource types of the matched actions this ARN (or ARN pattern) fits;
        /// exits 3 when it fits none.
        #[arg(long, value_name = "ARN")]
        resource: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
}

#[derive(Subcommand)]
enum RoleCommand {
    /// Build a role from a persona, adjusted activities and their parameters, and print it as
    /// JSON (name, trust policy, inline and managed policies, attachments, tags).
    ///
    /// Only --persona and the parameters of its activities are needed: the name suffix defaults
    /// to the persona id, the account to the one the --pass-role ARNs name, and the region to
    /// AWS_REGION, AWS_DEFAULT_REGION or us-east-1 (flags first, then --spec, then these).
    ///
    /// Every parameter a selected activity needs is checked first; all problems are reported
    /// together with the flag to add. A parameter no selected activity uses is a warning. The
    /// role is linted before it is written and refused on any ERROR or SECURITY_WARNING. Exits 3
    /// on invalid input, an account that cannot be defaulted included.
    New(Box<role::RoleNewArgs>),
    /// Run the persona test on a role (rolewright's role JSON or a CloudFormation template):
    /// representative requests with the decision each must get — named buckets readable, other
    /// buckets not; the named roles passable to SageMaker only; no endpoints without Manage
    /// Endpoints; no training job outside the approved subnets. Exits 0 when every expectation
    /// holds, 1 otherwise; the last line on stderr is `N passed, N failed`.
    Test {
        /// The role file.
        file: PathBuf,
        /// The account the role lives in.
        #[arg(long, default_value = "123456789012")]
        account: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// What NEW grants that OLD did not (+), and what it no longer grants (-), by action and
    /// resource. Takes role files, CloudFormation templates or policy documents.
    Diff {
        /// The old version.
        old: PathBuf,
        /// The new version.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Per ML activity and per action the role grants, whether and when the role and its
    /// sessions used it in the window: from every decision of the control plane's audit log
    /// (--data-dir, --database-url) or from CloudTrail log files (--cloudtrail).
    Usage(Box<role_usage::UsageArgs>),
    /// The smallest role that still allows everything used in the window, as a `role diff`:
    /// unused activities dropped first, then unused actions (an AWS managed policy's used part
    /// moved into an inline policy), iam:PassRole narrowed to the roles passed. --apply writes
    /// it; `role rollback` undoes it. Refuses when the history is shorter than the window.
    Trim(Box<role_usage::TrimArgs>),
    /// Undo the last `role trim --apply` of a role, from what the trim recorded on it.
    Rollback(Box<role_usage::RollbackArgs>),
    /// Compare the role a spec builds with the live role: grants added and removed, trust
    /// policy, boundary, attached policies, tags. Exits 1 on drift, 0 when none; --sync makes
    /// the live role match after showing the drift.
    Drift(Box<role_usage::DriftArgs>),
}

fn parse_policy_type(s: &str) -> Result<PolicyType, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Serve(args) => serve::serve(&args),
        Command::Audit(args) => serve::audit(&args),
        Command::Admin(command) => admin::run(&command),
        Command::Migrate(args) => migrate::run(&args),
        Command::Validate {
            policy_type,
            format,
            files,
        } => validate::run(policy_type, format, &files),
        Command::Simulate(args) => simulate::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Actions {
            pattern,
            resource,
            format,
        } => actions::run(&pattern, resource.as_deref(), format),
        Command::Lint {
            lint_type,
            format,
            files,
        } => lint::run(&files, lint_type, format),
        Command::Summarize { format, files } => lint::summarize_files(&files, format),
        Command::Personas { format } => role::personas(format),
        Command::Activities { persona, format } => role::activities(persona.as_deref(), format),
        Command::Role(RoleCommand::New(args)) => role::new(&args),
        Command::Role(RoleCommand::Test {
            file,
            account,
            format,
        }) => role::test(&file, &account, format),
        Command::Role(RoleCommand::Diff { old, new, format }) => role::diff(&old, &new, format),
        Command::Role(RoleCommand::Usage(args)) => role_usage::usage_command(&args),
        Command::Role(RoleCommand::Trim(args)) => role_usage::trim_command(&args),
        Command::Role(RoleCommand::Rollback(args)) => role_usage::rollback_command(&args),
        Command::Role(RoleCommand::Drift(args)) => role_usage::drift_command(&args),
        Command::Jumpstart(command) => jumpstart::run(&command),
        Command::WhoCan(args) => review::who_can(&args),
        Command::Can(args) => review::can(&args),
        Command::AccessReview(args) => review::access_review(&args),
    };
    ExitCode::from(code)
}
