//! Drives the load: `concurrency` workers, each with its own keep-alive connection and one
//! operation in flight, until the duration or the operation budget runs out.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use hdrhistogram::Histogram;

use crate::http::Connection;
use crate::target::Target;
use crate::workload::{
    IDENTITY_POLICY, OPEN_TRUST_POLICY, Signer, TRUST_POLICY, Workload, assumable_role_name,
    assume_role_body, create_role_body, form_encode, get_role_body, put_role_policy_body,
};

/// How many error messages are kept to show the user.
const ERROR_SAMPLES: usize = 5;
/// How much of an error body is kept in a sample.
const ERROR_BODY_CHARS: usize = 600;
/// Pause after a transport error, so that a dead server is not hammered in a tight loop.
const TRANSPORT_ERROR_PAUSE: Duration = Duration::from_millis(5);
/// Latencies above this are clamped in the histogram.
const MAX_LATENCY_NANOS: u64 = 3_600_000_000_000;

/// The resolved settings of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The server.
    pub target: Target,
    /// Other replicas of it: connection `i` goes to `[target, replicas...][i % n]`.
    pub replicas: Vec<Target>,
    /// What each operation sends.
    pub workload: Workload,
    /// Number of connections, each with one operation in flight.
    pub concurrency: usize,
    /// Number of runtime threads driving the connections.
    pub threads: usize,
    /// Measured period (after warm-up).
    pub duration: Duration,
    /// Stop after this many measured operations.
    pub max_operations: u64,
    /// Unmeasured period before the measured one.
    pub warmup: Duration,
    /// The role read by `get-role`.
    pub role_name: String,
    /// Create `role_name` before the run.
    pub setup: bool,
    /// Signs and serializes requests.
    pub signer: Signer,
    /// Who sends the measured requests.
    pub caller: Caller,
    /// User profiles --setup puts in the domain of the SageMaker workloads.
    pub users: usize,
    /// `MaxResults` of each `ListUserProfiles`.
    pub page_size: u32,
}

/// Who sends the measured requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Caller {
    /// The credentials given (the bootstrap administrator: one AWS managed policy).
    Given,
    /// A session of a Data Scientist shaped role (`<role-name>-ds`: the six inline policies of
    /// the engine's benchmark fixture, plus `iam:GetRole`), assumed with the credentials given:
    /// the caller whose compiled policies cost the most to rebuild.
    DataScientistSession,
}

/// The Data Scientist shaped role's policies (the engine's benchmark fixture).
const DATA_SCIENTIST_ROLE: &str =
    include_str!("../../rolewright-iam/benches/fixtures/data-scientist-role.json");
/// What the Data Scientist session needs beyond the fixture to read the measured role.
const READ_ROLES_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}"#;

/// What a run measured.
#[derive(Debug)]
pub struct Outcome {
    /// Measured operations (successful or not).
    pub operations: u64,
    /// HTTP requests sent during the measured period.
    pub requests: u64,
    /// Operations that failed: any non-200 status or a transport error.
    pub errors: u64,
    /// Length of the measured period.
    pub elapsed: Duration,
    /// Latency of every measured operation, in nanoseconds.
    pub latency: Histogram<u64>,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// CPU used by the generator over the whole run (warm-up included), in cores; `None` where
    /// `/proc/self/stat` is not available.
    pub generator_cores: Option<f64>,
}

/// State shared by all workers.
struct Shared {
    measure_start: Instant,
    deadline: Instant,
    claimed: AtomicU64,
    max_operations: u64,
    error_samples: Mutex<Vec<String>>,
    /// Unique per run, so that roles created by successive runs on one server never collide.
    run_id: String,
    trust_policy: String,
    identity_policy: String,
}

impl Shared {
    fn sample_error(&self, message: impl FnOnce() -> String) {
        if let Ok(mut samples) = self.error_samples.lock()
            && samples.len() < ERROR_SAMPLES
        {
            samples.push(message());
        }
    }
}

/// One worker's tallies.
struct Tally {
    operations: u64,
    requests: u64,
    errors: u64,
    latency: Histogram<u64>,
    finished: Instant,
}

/// Runs the plan to completion on its own tokio runtime.
pub fn run(plan: &Plan) -> anyhow::Result<Outcome> {
    let runtime = if plan.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(plan.threads)
            .enable_all()
            .build()
    }
    .context("cannot start the tokio runtime")?;
    let cpu_before = process_cpu_seconds();
    let wall = Instant::now();
    let mut outcome = runtime.block_on(run_async(plan))?;
    let wall = wall.elapsed().as_secs_f64();
    outcome.generator_cores = match (cpu_before, process_cpu_seconds()) {
        (Some(before), Some(after)) if wall > 0.0 => Some((after - before) / wall),
        _ => None,
    };
    Ok(outcome)
}

/// User plus system CPU time of this process so far, from `/proc/self/stat` (Linux only).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    // utime and stime are fields 14 and 15 of the file, 12th and 13th after the name.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // The kernel reports clock ticks; USER_HZ is 100 on every mainstream Linux build.
    Some((utime + stime) / 100.0)
}

async fn run_async(plan: &Plan) -> anyhow::Result<Outcome> {
    let trust_policy = form_encode(TRUST_POLICY);
    if plan.setup {
        setup_role(plan, &plan.role_name, &trust_policy).await?;
        setup_role(
            plan,
            &assumable_role_name(&plan.role_name),
            &form_encode(OPEN_TRUST_POLICY),
        )
        .await?;
    }
    let signer = match plan.caller {
        Caller::Given => plan.signer.clone(),
        Caller::DataScientistSession => data_scientist_signer(plan).await?,
    };
    let studio = matches!(
        plan.workload,
        Workload::DescribeDomain
            | Workload::DescribeUserProfile
            | Workload::ListUserProfiles
            | Workload::CreateUserProfile
    );
    let domain_id = if studio {
        studio_domain(plan).await?
    } else {
        String::new()
    };
    let assumable_arn = if plan.workload == Workload::AssumeRole {
        role_arn(plan, &assumable_role_name(&plan.role_name)).await?
    } else {
        String::new()
    };
    let run_nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let start = Instant::now();
    let measure_start = start + plan.warmup;
    let shared = Arc::new(Shared {
        measure_start,
        deadline: measure_start + plan.duration,
        claimed: AtomicU64::new(0),
        max_operations: plan.max_operations,
        error_samples: Mutex::new(Vec::new()),
        run_id: base36(run_nanos),
        trust_policy,
        identity_policy: form_encode(IDENTITY_POLICY),
    });
    let signers: Vec<(Arc<Signer>, Target)> = std::iter::once(plan.target.clone())
        .chain(plan.replicas.iter().cloned())
        .map(|target| (Arc::new(signer.with_target(target.clone())), target))
        .collect();
    let mut handles = Vec::with_capacity(plan.concurrency);
    for worker in 0..plan.concurrency {
        let shared = Arc::clone(&shared);
        let (signer, target) = &signers[worker % signers.len()];
        let (signer, target) = (Arc::clone(signer), target.clone());
        let workload = plan.workload;
        let role_name = plan.role_name.clone();
        let assumable_arn = assumable_arn.clone();
        let studio = Studio {
            domain_id: domain_id.clone(),
            users: plan.users.max(1),
            page_size: plan.page_size,
        };
        handles.push(tokio::spawn(async move {
            match workload {
                Workload::DescribeDomain
                | Workload::DescribeUserProfile
                | Workload::ListUserProfiles
                | Workload::CreateUserProfile => {
                    studio_worker(&shared, &signer, &target, workload, &studio, worker).await
                }
                Workload::GetRole => get_role_worker(&shared, &signer, &target, &role_name).await,
                Workload::CreateRolePutPolicy => {
                    write_worker(&shared, &signer, &target, worker).await
                }
                Workload::AssumeRole => {
                    assume_role_worker(&shared, &signer, &target, &assumable_arn, worker).await
                }
            }
        }));
    }
    let mut latency = new_histogram()?;
    let (mut operations, mut requests, mut errors) = (0, 0, 0);
    let mut finished = measure_start;
    for handle in handles {
        let tally = handle.await.context("a load worker failed")??;
        operations += tally.operations;
        requests += tally.requests;
        errors += tally.errors;
        latency
            .add(&tally.latency)
            .context("cannot merge latency histograms")?;
        finished = finished.max(tally.finished);
    }
    let error_samples = shared
        .error_samples
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    Ok(Outcome {
        operations,
        requests,
        errors,
        elapsed: finished.saturating_duration_since(measure_start),
        latency,
        error_samples,
        generator_cores: None,
    })
}

/// Sends one request signed by the plan's credentials; fails unless it answers 200.
async fn call(plan: &Plan, service: &str, body: &str, what: &str) -> anyhow::Result<String> {
    let mut connection = Connection::new(plan.target.addr);
    let mut request = Vec::new();
    plan.signer
        .build_for(service, body, unix_now(), &mut request);
    let response = connection
        .round_trip(&request)
        .await
        .with_context(|| format!("cannot reach `{}` for {what}", plan.target.host_header))?;
    let text = String::from_utf8_lossy(response.body).into_owned();
    if response.status != 200 {
        bail!(
            "{what} answered HTTP {}: {}",
            response.status,
            truncate(&text)
        );
    }
    Ok(text)
}

/// The text of the first `<tag>` element of an XML answer.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(&xml[start..end])
}

/// Creates (or updates) the Data Scientist shaped role, assumes it, and returns a signer with
/// the session's credentials.
async fn data_scientist_signer(plan: &Plan) -> anyhow::Result<Signer> {
    let role = format!("{}-ds", plan.role_name);
    setup_role(plan, &role, &form_encode(OPEN_TRUST_POLICY)).await?;
    let fixture: serde_json::Value =
        serde_json::from_str(DATA_SCIENTIST_ROLE).context("the Data Scientist fixture")?;
    let mut policies: Vec<(String, String)> = fixture["policies"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or("policy").to_string(),
                        p["policy"].to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    policies.push(("loadgen-read-roles".into(), READ_ROLES_POLICY.into()));
    for (name, document) in &policies {
        let body = format!(
            "Action=PutRolePolicy&Version=2010-05-08&RoleName={}&PolicyName={}&PolicyDocument={}",
            form_encode(&role),
            form_encode(name),
            form_encode(document)
        );
        call(
            plan,
            "iam",
            &body,
            &format!("PutRolePolicy {name} on `{role}`"),
        )
        .await?;
    }
    let arn = role_arn(plan, &role).await?;
    let answer = call(
        plan,
        "sts",
        &assume_role_body(&arn, "loadgen-data-scientist"),
        &format!("AssumeRole `{role}`"),
    )
    .await?;
    let (Some(key), Some(secret), Some(token)) = (
        element(&answer, "AccessKeyId"),
        element(&answer, "SecretAccessKey"),
        element(&answer, "SessionToken"),
    ) else {
        bail!(
            "AssumeRole `{role}` answered without credentials: {}",
            truncate(&answer)
        );
    };
    Ok(plan.signer.with_credentials(rolewright_sigv4::Credentials {
        access_key_id: key.to_string(),
        secret_access_key: secret.to_string(),
        session_token: Some(token.to_string()),
    }))
}

/// Sends one signed SageMaker call with the plan's credentials; the answer's body if it is 200.
async fn sagemaker_call(plan: &Plan, operation: &str, body: &str) -> anyhow::Result<String> {
    let mut connection = Connection::new(plan.target.addr);
    let mut request = Vec::new();
    plan.signer.build_json(
        "sagemaker",
        &format!("SageMaker.{operation}"),
        body,
        unix_now(),
        &mut request,
    );
    let response = connection
        .round_trip(&request)
        .await
        .with_context(|| format!("cannot reach `{}` for {operation}", plan.target.host_header))?;
    let text = String::from_utf8_lossy(response.body).into_owned();
    if response.status != 200 {
        bail!(
            "{operation} answered HTTP {}: {}",
            response.status,
            truncate(&text)
        );
    }
    Ok(text)
}

/// The name of user profile `i` of the generator's domain.
fn studio_user(i: usize) -> String {
    format!("lg-user-{i}")
}

/// Finds the generator's domain (`<role-name>-studio`), creating it and --users profiles with
/// --setup; returns its id.
async fn studio_domain(plan: &Plan) -> anyhow::Result<String> {
    // Writes go to a domain of their own, so that the read workloads keep a domain of --users.
    let name = if plan.workload == Workload::CreateUserProfile {
        format!("{}-studio-writes", plan.role_name)
    } else {
        format!("{}-studio", plan.role_name)
    };
    let mut token: Option<String> = None;
    loop {
        let body = match &token {
            Some(t) => serde_json::json!({"MaxResults": 100, "NextToken": t}),
            None => serde_json::json!({"MaxResults": 100}),
        };
        let answer: serde_json::Value =
            serde_json::from_str(&sagemaker_call(plan, "ListDomains", &body.to_string()).await?)
                .context("ListDomains answered with something else than JSON")?;
        if let Some(found) = answer["Domains"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["DomainName"] == name.as_str())
        {
            let id = found["DomainId"].as_str().unwrap_or_default().to_string();
            if plan.setup {
                create_users(plan, &id).await?;
            }
            return Ok(id);
        }
        token = answer["NextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if !plan.setup {
        bail!("no SageMaker domain `{name}`: run once with --setup to create it");
    }
    let arn = role_arn(plan, &plan.role_name).await?;
    let body = serde_json::json!({
        "DomainName": name,
        "AuthMode": "IAM",
        "DefaultUserSettings": {"ExecutionRole": arn},
        "SubnetIds": ["subnet-0123456789abcdef0"],
        "VpcId": "vpc-0123456789abcdef0",
    });
    let answer: serde_json::Value =
        serde_json::from_str(&sagemaker_call(plan, "CreateDomain", &body.to_string()).await?)
            .context("CreateDomain answered with something else than JSON")?;
    let id = match answer["DomainId"].as_str() {
        Some(id) => id.to_string(),
        // moto answers CreateDomain with the ARN and the URL only.
        None => answer["DomainArn"]
            .as_str()
            .and_then(|arn| arn.rsplit('/').next())
            .context("CreateDomain answered without a DomainId or a DomainArn")?
            .to_string(),
    };
    create_users(plan, &id).await?;
    Ok(id)
}

/// Creates the domain's --users profiles that are missing (an existing one is fine).
async fn create_users(plan: &Plan, domain_id: &str) -> anyhow::Result<()> {
    let mut connection = Connection::new(plan.target.addr);
    let mut request = Vec::new();
    for i in 0..plan.users {
        let body = serde_json::json!({"DomainId": domain_id, "UserProfileName": studio_user(i)});
        plan.signer.build_json(
            "sagemaker",
            "SageMaker.CreateUserProfile",
            &body.to_string(),
            unix_now(),
            &mut request,
        );
        let response = connection.round_trip(&request).await?;
        let text = String::from_utf8_lossy(response.body);
        if response.status != 200 && !text.contains("ResourceInUse") {
            bail!(
                "setup: CreateUserProfile {} answered HTTP {}: {}",
                studio_user(i),
                response.status,
                truncate(&text)
            );
        }
    }
    Ok(())
}

/// The domain the Studio workloads read, its size, and the page size of its listing.
struct Studio {
    domain_id: String,
    users: usize,
    page_size: u32,
}

async fn studio_worker(
    shared: &Shared,
    signer: &Signer,
    target: &Target,
    workload: Workload,
    studio: &Studio,
    worker: usize,
) -> anyhow::Result<Tally> {
    let (domain_id, users) = (studio.domain_id.as_str(), studio.users);
    drive(shared, target, |sequence, batch| {
        let sequence = worker + sequence as usize;
        let (operation, body) = match workload {
            Workload::DescribeDomain => {
                ("DescribeDomain", serde_json::json!({"DomainId": domain_id}))
            }
            Workload::DescribeUserProfile => (
                "DescribeUserProfile",
                serde_json::json!({
                    "DomainId": domain_id,
                    "UserProfileName": studio_user(sequence.wrapping_mul(7919) % users),
                }),
            ),
            Workload::ListUserProfiles => (
                "ListUserProfiles",
                serde_json::json!({"DomainIdEquals": domain_id, "MaxResults": studio.page_size}),
            ),
            _ => (
                "CreateUserProfile",
                serde_json::json!({
                    "DomainId": domain_id,
                    "UserProfileName": format!("lg-{}-{worker}-{sequence}", shared.run_id),
                }),
            ),
        };
        signer.build_json(
            "sagemaker",
            &format!("SageMaker.{operation}"),
            &body.to_string(),
            unix_now(),
            batch.request(operation),
        );
    })
    .await
}

/// The ARN of a role, read with `iam:GetRole`.
async fn role_arn(plan: &Plan, role_name: &str) -> anyhow::Result<String> {
    let mut connection = Connection::new(plan.target.addr);
    let mut request = Vec::new();
    plan.signer
        .build(&get_role_body(role_name), unix_now(), &mut request);
    let response = connection.round_trip(&request).await.with_context(|| {
        format!(
            "cannot reach `{}` to read the role",
            plan.target.host_header
        )
    })?;
    let body = String::from_utf8_lossy(response.body);
    let arn = body
        .split_once("<Arn>")
        .and_then(|(_, rest)| rest.split_once("</Arn>"))
        .map(|(arn, _)| arn.to_string());
    match (response.status, arn) {
        (200, Some(arn)) => Ok(arn),
        (status, _) => bail!(
            "GetRole `{role_name}` answered HTTP {status}: {} (run once with --setup to create it)",
            truncate(&body)
        ),
    }
}

/// Creates a role (`get-role` reads one, `assume-role` assumes another); a role that already
/// exists is fine.
async fn setup_role(plan: &Plan, role_name: &str, trust_policy: &str) -> anyhow::Result<()> {
    let mut connection = Connection::new(plan.target.addr);
    let mut request = Vec::new();
    plan.signer.build(
        &create_role_body(role_name, trust_policy),
        unix_now(),
        &mut request,
    );
    let response = connection.round_trip(&request).await.with_context(|| {
        format!(
            "cannot reach `{}` to create the role",
            plan.target.host_header
        )
    })?;
    let body = String::from_utf8_lossy(response.body);
    if response.status != 200 && !body.contains("EntityAlreadyExists") {
        bail!(
            "setup: CreateRole `{}` answered HTTP {}: {}",
            role_name,
            response.status,
            truncate(&body)
        );
    }
    Ok(())
}

/// What a worker should do next.
enum Next {
    Warmup,
    Measured,
    Stop,
}

fn next(shared: &Shared) -> Next {
    let now = Instant::now();
    if now < shared.measure_start {
        Next::Warmup
    } else if now >= shared.deadline
        || shared.claimed.fetch_add(1, Ordering::Relaxed) >= shared.max_operations
    {
        Next::Stop
    } else {
        Next::Measured
    }
}

/// The requests of one operation, sent in order until one is refused. Their buffers are kept
/// from turn to turn.
#[derive(Default)]
struct Batch {
    requests: Vec<(Vec<u8>, &'static str)>,
    len: usize,
}

impl Batch {
    /// The buffer of the turn's next request, for `action`; it holds what the same request of
    /// the last turn held.
    fn request(&mut self, action: &'static str) -> &mut Vec<u8> {
        if self.len == self.requests.len() {
            self.requests.push((Vec::new(), action));
        }
        self.len += 1;
        let (buffer, slot_action) = &mut self.requests[self.len - 1];
        *slot_action = action;
        buffer
    }
}

/// One connection's loop: until the run stops, one operation per turn (`build` gets the turn's
/// number from 1 and writes its requests), timed from the start of the turn and tallied.
async fn drive(
    shared: &Shared,
    target: &Target,
    mut build: impl FnMut(u64, &mut Batch),
) -> anyhow::Result<Tally> {
    let mut tally = Tally::new()?;
    let mut connection = Connection::new(target.addr);
    let mut batch = Batch::default();
    let mut sequence = 0u64;
    loop {
        let measured = match next(shared) {
            Next::Stop => break,
            Next::Warmup => false,
            Next::Measured => true,
        };
        sequence += 1;
        let started = Instant::now();
        batch.len = 0;
        build(sequence, &mut batch);
        let mut sent = Sent::Ok;
        let mut requests = 0;
        for (request, action) in &batch.requests[..batch.len] {
            sent = send(shared, &mut connection, request, action).await;
            requests += 1;
            if sent != Sent::Ok {
                break;
            }
        }
        tally.record(measured, started, sent == Sent::Ok, requests);
        pause_if_broken(sent).await;
    }
    tally.finished = Instant::now();
    Ok(tally)
}

async fn get_role_worker(
    shared: &Shared,
    signer: &Signer,
    target: &Target,
    role_name: &str,
) -> anyhow::Result<Tally> {
    let body = get_role_body(role_name);
    // The body never changes, so the request is signed once per second of the clock.
    let mut signed_at = i64::MIN;
    drive(shared, target, |_, batch| {
        let now = unix_now();
        let request = batch.request("GetRole");
        if now != signed_at {
            signer.build(&body, now, request);
            signed_at = now;
        }
    })
    .await
}

async fn write_worker(
    shared: &Shared,
    signer: &Signer,
    target: &Target,
    worker: usize,
) -> anyhow::Result<Tally> {
    drive(shared, target, |sequence, batch| {
        let role_name = format!("lg-{}-{worker}-{sequence}", shared.run_id);
        let now = unix_now();
        signer.build(
            &create_role_body(&role_name, &shared.trust_policy),
            now,
            batch.request("CreateRole"),
        );
        signer.build(
            &put_role_policy_body(&role_name, &shared.identity_policy),
            now,
            batch.request("PutRolePolicy"),
        );
    })
    .await
}

async fn assume_role_worker(
    shared: &Shared,
    signer: &Signer,
    target: &Target,
    role_arn: &str,
    worker: usize,
) -> anyhow::Result<Tally> {
    drive(shared, target, |sequence, batch| {
        let session_name = format!("lg-{worker}-{sequence}");
        signer.build_for(
            "sts",
            &assume_role_body(role_arn, &session_name),
            unix_now(),
            batch.request("AssumeRole"),
        );
    })
    .await
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// HTTP 200.
    Ok,
    /// Any other status.
    Refused,
    /// No response: the connection failed.
    Broken,
}

/// Sends one request, sampling the error when it does not get a 200.
async fn send(shared: &Shared, connection: &mut Connection, request: &[u8], action: &str) -> Sent {
    match connection.round_trip(request).await {
        Ok(response) if response.status == 200 => Sent::Ok,
        Ok(response) => {
            let status = response.status;
            shared.sample_error(|| {
                format!(
                    "{action}: HTTP {status}: {}",
                    truncate(&String::from_utf8_lossy(response.body))
                )
            });
            Sent::Refused
        }
        Err(e) => {
            shared.sample_error(|| format!("{action}: {e}"));
            Sent::Broken
        }
    }
}

/// Waits a little after a transport error, so that a dead server is not hammered in a loop.
async fn pause_if_broken(sent: Sent) {
    if sent == Sent::Broken {
        tokio::time::sleep(TRANSPORT_ERROR_PAUSE).await;
    }
}

impl Tally {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            operations: 0,
            requests: 0,
            errors: 0,
            latency: new_histogram()?,
            finished: Instant::now(),
        })
    }

    fn record(&mut self, measured: bool, started: Instant, ok: bool, requests: u64) {
        if !measured {
            return;
        }
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.latency.saturating_record(nanos.max(1));
        self.operations += 1;
        self.requests += requests;
        self.errors += u64::from(!ok);
    }
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NANOS, 3).context("cannot create a latency histogram")
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

fn truncate(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(ERROR_BODY_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_cpu_time() {
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(process_cpu_seconds().unwrap() >= 0.0);
        }
    }

    #[test]
    fn base36_is_compact() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
        assert!(base36(u128::from(u64::MAX)).len() <= 13);
    }

    #[test]
    fn truncate_keeps_short_text() {
        assert_eq!(truncate("  abc \n"), "abc");
        assert_eq!(
            truncate(&"x".repeat(700)).chars().count(),
            ERROR_BODY_CHARS + 1
        );
    }
}
