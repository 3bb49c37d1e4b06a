// The console in a real browser: Debian's chromium, driven by playwright-core, against a real
// `rolewright serve` on 127.0.0.1 with a fresh data directory. The administrator signs in with the
// keys from DATA_DIR/credentials, creates a SageMaker Compute role and a Data Scientist role with
// the wizard, lists, searches, opens and deletes roles, creates a stack, a Studio domain and a
// provisioned product through the API and opens (deletes, terminates) them in the stacks, Studio
// and Service Catalog pages; creates a domain and adds a user with a persona's role from the
// forms, enables JumpStart for that user and for all users, provisions a product from its
// parameters' form and follows its record, runs the simulator and filters the audit log, and signs
// out; a data scientist user is denied the roles page with AWS's AccessDenied text, and a Studio
// user signed in by a presigned domain URL lands on their own page and is denied an admin page.
// Every page screenshotted is checked with axe-core.
//
//   ROLEWRIGHT=target/debug/rolewright node tests/console/run.mjs
//
// Environment: ROLEWRIGHT (the binary; default <repo>/target/debug/rolewright), CHROMIUM (default
// /usr/bin/chromium), ARTIFACTS (where screenshots go; default <repo>/target/console-artifacts).
// The last line is `N passed, N failed`.

import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../..");
const binary = process.env.ROLEWRIGHT || join(repo, "target/debug/rolewright");
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const artifacts = process.env.ARTIFACTS || join(repo, "target/console-artifacts");
mkdirSync(artifacts, { recursive: true });

// --- the server -------------------------------------------------------------------------------

function startServer(dataDir) {
  const child = spawn(binary, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((done, fail) => {
    const lines = [];
    const timer = setTimeout(() => fail(new Error("rolewright serve printed no console line in 30 s")), 30000);
    child.on("exit", (code) => fail(new Error(`rolewright serve exited with ${code}: ${lines.join("\n")}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      if (lines.length === 2) {
        clearTimeout(timer);
        const listening = lines[0].match(/^listening on (http:\/\/\S+)$/);
        const console_ = lines[1].match(/^console: (http:\/\/\S+\/console\/)$/);
        if (!listening || !console_) fail(new Error(`unexpected first lines: ${lines.join(" | ")}`));
        else done({ child, endpoint: listening[1], consoleUrl: console_[1] });
      }
    });
  });
}

function credentials(dataDir) {
  const text = readFileSync(join(dataDir, "credentials"), "utf8");
  const value = (key) => text.match(new RegExp(`^${key}\\s*=\\s*(\\S+)`, "m"))[1];
  return { id: value("aws_access_key_id"), secret: value("aws_secret_access_key") };
}

// --- a small SigV4 IAM client, to set up the data scientist user ------------------------------

const sha256 = (data) => createHash("sha256").update(data).digest("hex");
const hmac = (key, data) => createHmac("sha256", key).update(data).digest();

// A SigV4-signed POST to `service`: a query-protocol form, or JSON with its X-Amz-Target.
async function signedPost(endpoint, keys, service, body, extra) {
  const url = new URL(endpoint);
  const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const date = amzDate.slice(0, 8);
  const scope = `${date}/us-east-1/${service}/aws4_request`;
  const headers = {
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    host: url.host,
    "x-amz-date": amzDate,
    ...extra,
  };
  const signed = Object.keys(headers).sort();
  const canonical = [
    "POST",
    "/",
    "",
    ...signed.map((h) => `${h}:${headers[h]}`),
    "",
    signed.join(";"),
    sha256(body),
  ].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${keys.secret}`, date);
  for (const part of ["us-east-1", service, "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${keys.id}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
    },
    body,
  });
}

async function query(endpoint, keys, service, version, action, params) {
  const body = new URLSearchParams({ Action: action, Version: version, ...params }).toString();
  const reply = await signedPost(endpoint, keys, service, body, {});
  const text = await reply.text();
  if (!reply.ok) throw new Error(`${action}: ${reply.status} ${text}`);
  return text;
}

async function iam(endpoint, keys, action, params) {
  return query(endpoint, keys, "iam", "2010-05-08", action, params);
}

// A JSON-protocol call: SageMaker (`SageMaker.Op`) or Service Catalog
// (`AWS242ServiceCatalogService.Op`).
async function json(endpoint, keys, service, operation, input) {
  const prefix = service === "sagemaker" ? "SageMaker" : "AWS242ServiceCatalogService";
  const reply = await signedPost(endpoint, keys, service, JSON.stringify(input), {
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `${prefix}.${operation}`,
  });
  const text = await reply.text();
  if (!reply.ok) throw new Error(`${operation}: ${reply.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

// --- the tests --------------------------------------------------------------------------------

const results = [];
async function test(name, body) {
  try {
    await body();
    results.push([name, true]);
    console.log(`ok - ${name}`);
  } catch (error) {
    results.push([name, false]);
    console.log(`not ok - ${name}\n  ${String(error.stack || error).split("\n").join("\n  ")}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// Each page screenshotted is also checked with axe-core; serious and critical violations are
// collected and fail the accessibility test at the end.
const axeSource = readFileSync(join(here, "node_modules/axe-core/axe.min.js"), "utf8");
const violations = [];
const lesser = [];
let shot = 0;
async function screenshot(page, what) {
  shot += 1;
  await page.screenshot({ path: join(artifacts, `${String(shot).padStart(2, "0")}-${what}.png`), fullPage: true });
  await page.addScriptTag({ content: axeSource });
  const report = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  for (const v of report.violations) {
    if (v.impact === "serious" || v.impact === "critical") {
      violations.push(`${what}: ${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    } else {
      lesser.push(`${what}: ${v.id} (${v.impact})`);
    }
  }
}

async function signIn(page, consoleUrl, keys) {
  await page.goto(`${consoleUrl}signin`);
  await page.getByLabel("Access key ID").fill(keys.id);
  await page.getByLabel("Secret access key").fill(keys.secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState();
}

const dataDir = mkdtempSync(join(tmpdir(), "rolewright-console-"));
let server;
let browser;
try {
  server = await startServer(join(dataDir, "data"));
  const { endpoint, consoleUrl } = server;
  const admin = credentials(join(dataDir, "data"));
  browser = await chromium.launch({ executablePath: browserPath, args: ["--headless", "--no-sandbox"] });
  // The console's content security policy allows only its own script: axe is injected past it.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const account = "123456789012";
  const computeArn = `arn:aws:iam::${account}:role/SageMaker-compute-jobs`;

  await test("a browser opening / is sent to the console's sign-in", async () => {
    await page.goto(`${endpoint}/`);
    expect(new URL(page.url()).pathname === "/console/signin", `landed on ${page.url()}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent() === "Sign in to the rolewright console", "no sign-in heading");
    await screenshot(page, "sign-in");
  });

  await test("a wrong secret is refused", async () => {
    await signIn(page, consoleUrl, { id: admin.id, secret: "x".repeat(40) });
    expect(await page.getByRole("alert").textContent().then((t) => t.includes("is not valid")), "no error summary");
    expect(new URL(page.url()).pathname === "/console/signin", "not on the sign-in page");
  });

  await test("the administrator signs in with the keys from the credentials file", async () => {
    await signIn(page, consoleUrl, admin);
    expect(new URL(page.url()).pathname === "/console/", `landed on ${page.url()}`);
    const header = await page.locator("header").textContent();
    expect(header.includes(`arn:aws:iam::${account}:user/admin`), `header: ${header}`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "rolewright_console");
    expect(session && session.httpOnly && session.sameSite === "Strict", `cookie: ${JSON.stringify(session)}`);
    await screenshot(page, "home");
  });

  await test("the wizard creates a SageMaker Compute role", async () => {
    await page.getByRole("link", { name: "Create role" }).first().click();
    await page.getByLabel("Role name suffix").fill("compute-jobs");
    await page.getByLabel(/SageMaker Compute/).check();
    await screenshot(page, "wizard-compute-details");
    await page.getByRole("button", { name: "Next", exact: true }).click();
    expect(await page.getByRole("checkbox", { name: /Access Required AWS Services/ }).isChecked(), "access-aws-services not preselected");
    await page.getByLabel("S3 bucket names").fill("ml-data");
    await page.getByLabel("ECR repository ARNs").fill(`arn:aws:ecr:us-east-1:${account}:repository/ml`);
    await screenshot(page, "wizard-compute-activities");
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("heading", { name: "Add additional policies & tags" }).waitFor();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("heading", { name: "Review role" }).waitFor();
    expect(await page.locator("#review-role-name").textContent() === "SageMaker-compute-jobs", "wrong name on review");
    await screenshot(page, "wizard-compute-review");
    await page.getByRole("button", { name: "Submit" }).click();
    expect(new URL(page.url()).pathname === "/console/roles", `landed on ${page.url()}`);
    expect((await page.getByRole("status").textContent()).includes("Role SageMaker-compute-jobs created"), "no success banner");
  });

  await test("the wizard creates a Data Scientist role: Back keeps answers, values are checked as typed, roles to pass come from the account", async () => {
    await page.goto(`${consoleUrl}create-role`);
    await page.getByLabel("Role name suffix").fill("ds");
    await page.getByLabel("Description (optional)").fill("Data scientists of team ml");
    await page.getByLabel(/^Data Scientist: processes S3 data/).check();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    for (const activity of ["Run Studio Applications:", "Manage ML Jobs:", "Amazon S3 Bucket Access:"]) {
      expect(await page.getByRole("checkbox", { name: new RegExp(`^${activity}`) }).isChecked(), `${activity} not preselected`);
    }
    await page.getByRole("button", { name: "Back" }).click();
    expect(await page.getByLabel("Role name suffix").inputValue() === "ds", "Back lost the name suffix");
    expect(await page.getByLabel(/^Data Scientist: processes S3 data/).isChecked(), "Back lost the persona");
    expect(await page.getByLabel("Description (optional)").inputValue() === "Data scientists of team ml", "Back lost the description");
    await page.getByRole("button", { name: "Next", exact: true }).click();
    // Nothing filled in: the error summary names what each activity needs.
    await page.getByRole("button", { name: "Next", exact: true }).click();
    const summary = await page.locator(".error-summary").textContent();
    expect(summary.includes("Manage ML Jobs needs at least one IAM role ARN"), `summary: ${summary}`);
    await screenshot(page, "wizard-ds-errors");
    const buckets = page.getByLabel("S3 bucket names");
    await buckets.fill("ML_Data");
    await page.locator("#S3Buckets-live").filter({ hasText: "is not an S3 bucket name" }).waitFor({ timeout: 5000 });
    await buckets.fill("ml-data");
    await page.getByRole("checkbox", { name: computeArn }).check();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("heading", { name: "Add additional policies & tags" }).waitFor();
    await page.getByLabel("Search policies").fill("S3ReadOnly");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("checkbox", { name: "Attach AmazonS3ReadOnlyAccess" }).check();
    await page.getByLabel("Key").fill("team");
    await page.getByLabel("Value (optional)").fill("ml");
    await page.getByRole("button", { name: "Add new tag" }).click();
    expect(await page.getByLabel("Key").first().inputValue() === "team", "tag lost after Add new tag");
    expect((await page.getByRole("heading", { name: /Policies \(1 selected\)/ }).count()) === 1, "policy selection lost");
    await screenshot(page, "wizard-ds-policies");
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("heading", { name: "Review role" }).waitFor();
    const review = await page.locator("main").textContent();
    for (const part of ["SageMaker-ds", "Lint findings", "Persona test", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "CloudFormation (JSON)", "Terraform", "AWS CLI script"]) {
      expect(review.includes(part), `review lacks ${part}`);
    }
    const rows = await page.locator("#persona-test tbody tr").count();
    expect(rows > 0, "empty persona test table");
    expect((await page.locator("#persona-test .fail").count()) === 0, "a persona test row fails");
    await screenshot(page, "wizard-ds-review");
    const terraform = await context.request.get(`${consoleUrl}create-role/export/role.tf`);
    expect(terraform.status() === 200 && (await terraform.text()).includes('resource "aws_iam_role"'), "no Terraform download");
    expect(terraform.headers()["content-disposition"] === 'attachment; filename="SageMaker-ds.tf"', "wrong file name");
    await page.getByRole("button", { name: "Submit" }).click();
    expect((await page.getByRole("status").textContent()).includes("Role SageMaker-ds created"), "no success banner");
  });

  await test("the wizard creates an MLOps role and a Custom role", async () => {
    await page.goto(`${consoleUrl}create-role`);
    await page.getByLabel("Role name suffix").fill("mlops");
    await page.getByLabel(/^MLOps: manages models, endpoints and pipelines/).check();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    for (const activity of ["Manage Models:", "Manage Endpoints:", "Manage Pipelines:"]) {
      expect(await page.getByRole("checkbox", { name: new RegExp(`^${activity}`) }).isChecked(), `${activity} not preselected`);
    }
    await page.getByRole("checkbox", { name: computeArn }).check();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("heading", { name: "Review role" }).waitFor();
    expect((await page.locator("#persona-test .fail").count()) === 0, "a persona test row fails");
    await page.getByRole("button", { name: "Submit" }).click();
    expect((await page.getByRole("status").textContent()).includes("Role SageMaker-mlops created"), "no success banner for MLOps");

    await page.goto(`${consoleUrl}create-role`);
    await page.getByLabel("Role name suffix").fill("experiments");
    await page.getByLabel(/^Custom Role Settings/).check();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    expect((await page.locator("input[name=activity]:checked").count()) === 0, "Custom preselects activities");
    await page.getByRole("button", { name: "Next", exact: true }).click();
    expect((await page.locator(".error-summary").textContent()).includes("Choose at least one ML activity"), "no error for no activity");
    await page.getByRole("checkbox", { name: /^Manage Experiments:/ }).check();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("button", { name: "Next", exact: true }).click();
    await page.getByRole("heading", { name: "Review role" }).waitFor();
    await screenshot(page, "wizard-custom-review");
    await page.getByRole("button", { name: "Submit" }).click();
    expect((await page.getByRole("status").textContent()).includes("Role SageMaker-experiments created"), "no success banner for Custom");
  });

  await test("roles: search and open one with its trust policy, policies and tags", async () => {
    await page.getByLabel("Search roles").fill("ds");
    await page.getByRole("button", { name: "Search" }).click();
    const names = await page.locator("tbody tr td:first-child").allTextContents();
    expect(names.length === 1 && names[0] === "SageMaker-ds", `search found ${names}`);
    await screenshot(page, "roles-search");
    await page.getByRole("link", { name: "SageMaker-ds" }).click();
    await page.getByRole("heading", { level: 1, name: "SageMaker-ds" }).waitFor();
    const detail = await page.locator("main").textContent();
    for (const part of ["sagemaker.amazonaws.com", "SageMaker-ds-", "AmazonS3ReadOnlyAccess", "team", "Never", "Not set", "run-studio-apps"]) {
      expect(detail.includes(part), `detail lacks ${part}`);
    }
    await screenshot(page, "role-detail");
  });

  await test("deleting a role with policies explains DeleteConflict, then deletes it with its policies", async () => {
    await page.getByRole("link", { name: "Delete role" }).click();
    await page.getByRole("button", { name: "Delete role" }).click();
    const alert = await page.getByRole("alert").textContent();
    expect(alert.includes("DeleteConflict") && alert.includes("Cannot delete entity"), `alert: ${alert}`);
    await screenshot(page, "delete-conflict");
    await page.getByLabel(/Delete its inline policies and detach its managed policies first/).check();
    await page.getByRole("button", { name: "Delete role" }).click();
    expect((await page.getByRole("status").textContent()).includes("Role SageMaker-ds deleted"), "no deleted banner");
    const names = await page.locator("tbody tr td:first-child").allTextContents();
    expect(!names.includes("SageMaker-ds") && names.includes("SageMaker-compute-jobs") && names.length === 3, `roles: ${names}`);
  });

  // Resources made through the API, then seen (and deleted) in the console.
  const trust = (service) => JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
  let domainId;
  await test("a role's activities are edited: pre-filled from the role, the diff shown, saved", async () => {
    await page.goto(`${consoleUrl}roles/SageMaker-compute-jobs`);
    await page.getByRole("link", { name: "Edit activities" }).click();
    expect(await page.getByRole("checkbox", { name: /Access Required AWS Services/ }).isChecked(), "access-aws-services not pre-filled");
    expect((await page.getByLabel("S3 bucket names").inputValue()) === "ml-data", "buckets not pre-filled");
    await page.getByLabel("S3 bucket names").fill("ml-data\nml-more");
    await page.getByRole("checkbox", { name: /Manage Experiments/ }).check();
    await screenshot(page, "role-edit-activities");
    await page.getByRole("button", { name: "Review changes" }).click();
    await page.getByRole("heading", { level: 1, name: "Review the changes to SageMaker-compute-jobs" }).waitFor();
    const text = await page.locator("main").textContent();
    for (const part of ["arn:aws:s3:::ml-more/*", "sagemaker:CreateExperiment", "Grants removed (0)", "PutRolePolicy"]) {
      expect(text.includes(part), `review lacks ${part}`);
    }
    await screenshot(page, "role-edit-review");
    await page.getByRole("button", { name: "Save changes" }).click();
    expect(new URL(page.url()).pathname === "/console/roles/SageMaker-compute-jobs", `landed on ${page.url()}`);
    expect((await page.getByRole("status").textContent()).includes("activities were saved"), "no saved banner");
    expect((await page.locator("main").textContent()).includes("access-aws-services, manage-experiments"), "activities not saved");
  });

  await test("a role's usage by activity, with the trim proposal", async () => {
    await page.goto(`${consoleUrl}roles/SageMaker-compute-jobs`);
    await page.getByRole("link", { name: "Usage and trim" }).click();
    await page.getByRole("heading", { level: 1, name: "Usage of SageMaker-compute-jobs" }).waitFor();
    const text = await page.locator("main").textContent();
    for (const part of ["access-aws-services", "not used", "Trim proposal", "rolewright role trim SageMaker-compute-jobs"]) {
      expect(text.includes(part), `usage lacks ${part}`);
    }
    await screenshot(page, "role-usage");
  });

  await test("a role's trim is applied from its usage page and rolled back", async () => {
    const role = "SageMaker-compute-jobs";
    const policies = async () =>
      [...(await iam(endpoint, admin, "ListRolePolicies", { RoleName: role })).matchAll(/<member>([^<]+)<\/member>/g)].map((m) => m[1]);
    const before = await policies();
    expect(before.length > 0, "the role has no inline policy");
    // A window the audit log covers (it holds every earlier test's calls) in which the role did
    // nothing: the trim removes everything the role grants.
    const since = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, "Z");
    await page.goto(`${consoleUrl}roles/${role}/usage?since=${since}`);
    await page.getByRole("button", { name: "Apply the trim" }).click();
    await page.getByRole("heading", { level: 1, name: `Usage of ${role}` }).waitFor();
    expect((await page.getByRole("status").first().textContent()).includes(`Trimmed ${role}`), "no trimmed banner");
    const trimmed = await policies();
    expect(JSON.stringify(trimmed) !== JSON.stringify(before), `policies unchanged: ${trimmed}`);
    const tags = await iam(endpoint, admin, "ListRoleTags", { RoleName: role });
    expect(tags.includes("<Key>rolewright:trim</Key>"), "no trim record on the role");
    await screenshot(page, "role-trimmed");
    await page.getByRole("button", { name: "Roll back the trim" }).click();
    await page.getByRole("heading", { level: 1, name: `Usage of ${role}` }).waitFor();
    expect((await page.getByRole("status").first().textContent()).includes("Rolled back the trim"), "no rolled-back banner");
    expect(JSON.stringify(await policies()) === JSON.stringify(before), "the policies are not restored");
    expect(!(await iam(endpoint, admin, "ListRoleTags", { RoleName: role })).includes("rolewright:trim"), "the trim record is left");
    expect((await page.getByRole("button", { name: "Roll back the trim" }).count()) === 0, "Roll back still offered");
  });

  await test("a role's drift from its activities is shown on its page and made to match", async () => {
    const role = "SageMaker-compute-jobs";
    await page.goto(`${consoleUrl}roles/${role}`);
    expect((await page.locator("main").textContent()).includes("No drift"), "drift reported on an untouched role");
    // Someone edits one of its policies by hand.
    const name = (await iam(endpoint, admin, "ListRolePolicies", { RoleName: role })).match(/<member>([^<]+)<\/member>/)[1];
    const got = await iam(endpoint, admin, "GetRolePolicy", { RoleName: role, PolicyName: name });
    const doc = JSON.parse(decodeURIComponent(got.match(/<PolicyDocument>([^<]+)<\/PolicyDocument>/)[1]));
    doc.Statement = [].concat(doc.Statement, [{ Effect: "Allow", Action: "s3:DeleteBucket", Resource: "*" }]);
    await iam(endpoint, admin, "PutRolePolicy", { RoleName: role, PolicyName: name, PolicyDocument: JSON.stringify(doc) });
    await page.reload();
    const drifted = await page.locator("main").textContent();
    expect(drifted.includes("Drifted") && drifted.includes("s3:DeleteBucket"), `no drift shown: ${drifted.slice(0, 800)}`);
    await screenshot(page, "role-drift");
    await page.getByRole("button", { name: "Make it match" }).click();
    await page.getByRole("heading", { level: 1, name: `Review the changes to ${role}` }).waitFor();
    const review = await page.locator("main").textContent();
    expect(review.includes("s3:DeleteBucket") && review.includes("Grants removed (1)"), `review: ${review.slice(0, 800)}`);
    await page.getByRole("button", { name: "Save changes" }).click();
    expect(new URL(page.url()).pathname === `/console/roles/${role}`, `landed on ${page.url()}`);
    expect((await page.locator("main").textContent()).includes("No drift"), "still drifted after Make it match");
  });

  await test("who can: principals and their paths, drawn without script", async () => {
    await page.getByRole("link", { name: "Who can" }).first().click();
    await page.getByLabel("Action").fill("sagemaker:CreateExperiment");
    await page.getByRole("button", { name: "Find who can" }).click();
    await page.locator("#who-can-answer").waitFor();
    const text = await page.locator("main").textContent();
    expect(text.includes(`arn:aws:iam::${account}:user/admin`) && text.includes(computeArn), `answer: ${text.slice(0, 600)}`);
    expect(await page.locator("ol.path").count() > 0, "no path drawn");
    await screenshot(page, "who-can");
  });

  await test("the API creates a stack, a Studio domain with users and an app, and a provisioned product", async () => {
    const template = {
      Description: "Roles of team ml",
      Resources: { AppRole: { Type: "AWS::IAM::Role", Properties: { RoleName: "stack-made-role", AssumeRolePolicyDocument: JSON.parse(trust("sagemaker.amazonaws.com")) } } },
      Outputs: { RoleArn: { Value: { "Fn::GetAtt": ["AppRole", "Arn"] }, Description: "The role made" } },
    };
    await query(endpoint, admin, "cloudformation", "2010-05-15", "CreateStack", {
      StackName: "team-roles",
      TemplateBody: JSON.stringify(template),
      "Capabilities.member.1": "CAPABILITY_NAMED_IAM",
    });
    const domain = await json(endpoint, admin, "sagemaker", "CreateDomain", {
      DomainName: "team",
      AuthMode: "IAM",
      DefaultUserSettings: { ExecutionRole: computeArn },
      SubnetIds: ["subnet-0123456789abcdef0"],
      VpcId: "vpc-0123456789abcdef0",
    });
    domainId = domain.DomainArn.split("/").pop();
    for (const user of ["alice", "bob"]) {
      await json(endpoint, admin, "sagemaker", "CreateUserProfile", { DomainId: domainId, UserProfileName: user, UserSettings: { ExecutionRole: computeArn } });
    }
    await json(endpoint, admin, "sagemaker", "CreateApp", { DomainId: domainId, UserProfileName: "alice", AppType: "JupyterServer", AppName: "default" });

    const portfolio = (await json(endpoint, admin, "servicecatalog", "CreatePortfolio", { DisplayName: "ML templates", ProviderName: "Platform team", IdempotencyToken: "p1" })).PortfolioDetail.Id;
    const templatePath = join(dataDir, "product.json");
    writeFileSync(templatePath, JSON.stringify({ Resources: { R: { Type: "AWS::IAM::Role", Properties: { AssumeRolePolicyDocument: JSON.parse(trust("sagemaker.amazonaws.com")) } } } }));
    const product = await json(endpoint, admin, "servicecatalog", "CreateProduct", {
      Name: "Notebook role",
      Owner: "Platform team",
      ProductType: "CLOUD_FORMATION_TEMPLATE",
      IdempotencyToken: "t1",
      ProvisioningArtifactParameters: { Name: "v1", Type: "CLOUD_FORMATION_TEMPLATE", Info: { LoadTemplateFromURL: `file://${templatePath}` } },
    });
    const productId = product.ProductViewDetail.ProductViewSummary.ProductId;
    await json(endpoint, admin, "servicecatalog", "AssociateProductWithPortfolio", { ProductId: productId, PortfolioId: portfolio });
    await json(endpoint, admin, "servicecatalog", "AssociatePrincipalWithPortfolio", { PortfolioId: portfolio, PrincipalARN: `arn:aws:iam::${account}:user/admin`, PrincipalType: "IAM" });
    await iam(endpoint, admin, "CreateRole", { RoleName: "LaunchRole", AssumeRolePolicyDocument: trust("servicecatalog.amazonaws.com") });
    await iam(endpoint, admin, "PutRolePolicy", {
      RoleName: "LaunchRole",
      PolicyName: "all",
      PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
    });
    await json(endpoint, admin, "servicecatalog", "CreateConstraint", {
      PortfolioId: portfolio,
      ProductId: productId,
      Type: "LAUNCH",
      Parameters: JSON.stringify({ RoleArn: `arn:aws:iam::${account}:role/LaunchRole` }),
      Description: "Role used for provisioning",
      IdempotencyToken: "c1",
    });
    const record = await json(endpoint, admin, "servicecatalog", "ProvisionProduct", {
      ProductId: productId,
      ProvisioningArtifactId: product.ProvisioningArtifactDetail.Id,
      ProvisionedProductName: "notebook-role",
      ProvisionToken: "pp1",
    });
    for (let i = 0; i < 100; i += 1) {
      const pp = await json(endpoint, admin, "servicecatalog", "DescribeProvisionedProduct", { Id: record.RecordDetail.ProvisionedProductId });
      if (pp.ProvisionedProductDetail.Status !== "UNDER_CHANGE") break;
      await new Promise((done) => setTimeout(done, 50));
    }
  });

  await test("stacks: the list with status, a stack's outputs, resources and events, and delete", async () => {
    await page.getByRole("link", { name: "Stacks" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Stacks" }).waitFor();
    const row = await page.locator("tbody tr").filter({ hasText: "team-roles" }).textContent();
    expect(row.includes("CREATE_COMPLETE"), `row: ${row}`);
    await screenshot(page, "stacks");
    await page.getByRole("link", { name: "team-roles" }).click();
    const detail = await page.locator("main").textContent();
    for (const part of [`arn:aws:iam::${account}:role/stack-made-role`, "The role made", "AWS::IAM::Role", "AppRole", "CREATE_COMPLETE"]) {
      expect(detail.includes(part), `stack page lacks ${part}`);
    }
    await screenshot(page, "stack-detail");
    await page.getByRole("button", { name: "Delete stack" }).click();
    expect((await page.getByRole("status").textContent()).includes("Deletion of stack team-roles started"), "no deletion banner");
  });

  await test("Studio: a domain's settings, users with their roles and apps; a user's JumpStart status and Edit refused while an app runs", async () => {
    await page.getByRole("link", { name: "Studio" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Studio domains" }).waitFor();
    await screenshot(page, "studio-domains");
    await page.getByRole("link", { name: "team" }).click();
    const domain = await page.locator("main").textContent();
    for (const part of [domainId, "alice", "bob", computeArn, "JupyterServer", "IAM"]) {
      expect(domain.includes(part), `domain page lacks ${part}`);
    }
    await screenshot(page, "studio-domain");
    await page.getByRole("link", { name: "alice" }).first().click();
    await page.getByRole("heading", { level: 1, name: "alice" }).waitFor();
    const jumpstart = await page.locator("#jumpstart").textContent();
    expect(jumpstart.includes("disabled"), `jumpstart: ${jumpstart}`);
    expect(await page.getByRole("button", { name: "Edit user profile" }).isDisabled(), "Edit is enabled while an app runs");
    expect((await page.locator("#edit-reason").textContent()).includes("apps that are not Deleted"), "no reason for the disabled Edit");
    await screenshot(page, "studio-user");
  });

  await test("Service Catalog: a portfolio's products, constraints and principals; provisioned products with terminate", async () => {
    await page.getByRole("link", { name: "Service Catalog" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Service Catalog portfolios" }).waitFor();
    await screenshot(page, "catalog-portfolios");
    await page.getByRole("link", { name: "ML templates" }).click();
    const portfolio = await page.locator("main").textContent();
    for (const part of ["Notebook role", "LAUNCH", "LaunchRole", "Role used for provisioning", `arn:aws:iam::${account}:user/admin`]) {
      expect(portfolio.includes(part), `portfolio page lacks ${part}`);
    }
    await screenshot(page, "catalog-portfolio");
    await page.goto(`${consoleUrl}catalog/provisioned`);
    const row = await page.locator("tbody tr").filter({ hasText: "notebook-role" }).textContent();
    expect(row.includes("AVAILABLE"), `row: ${row}`);
    await screenshot(page, "catalog-provisioned");
    await page.getByRole("button", { name: "Terminate notebook-role" }).click();
    expect((await page.getByRole("status").textContent()).includes("Termination of notebook-role started"), "no termination banner");
  });

  let onboarding;
  await test("Studio: a domain created and a user added with a persona's role from forms, JumpStart enabled for the user and for all users", async () => {
    await page.goto(`${consoleUrl}studio`);
    await page.getByRole("link", { name: "Create domain" }).click();
    await page.getByLabel("Domain name").fill("onboarding");
    await page.getByLabel("Default execution role").selectOption({ label: "SageMaker-compute-jobs" });
    await screenshot(page, "studio-create-domain");
    await page.getByRole("button", { name: "Create domain" }).click();
    expect((await page.getByRole("status").textContent()).includes("Domain created"), "no created banner");
    onboarding = new URL(page.url()).pathname.split("/").pop();
    await page.getByRole("link", { name: "Add user" }).first().click();
    await page.getByLabel("User profile name").fill("dora");
    const options = await page.locator("#execution_role optgroup").first().getAttribute("label");
    expect(options === "Roles built from a persona", `first group: ${options}`);
    await page.getByLabel("Execution role", { exact: true }).selectOption({ label: "SageMaker-mlops" });
    await page.getByLabel(/Enable JumpStart and project templates/).check();
    await screenshot(page, "studio-add-user");
    await page.getByRole("button", { name: "Add user" }).click();
    await page.getByText("Done.").waitFor({ timeout: 10000 });
    expect((await page.locator("#jumpstart-report").textContent()).includes("1 newly enabled"), "dora not enabled");
    await screenshot(page, "studio-jumpstart-user-job");
    await page.getByRole("link", { name: "Back to dora" }).click();
    expect((await page.locator("#jumpstart").textContent()).includes("enabled"), "dora's JumpStart");
    await page.goto(`${consoleUrl}studio/${domainId}/users/bob`);
    expect((await page.locator("#jumpstart").textContent()).includes("disabled"), "bob enabled already");
    await page.goto(`${consoleUrl}studio/${domainId}`);
    await page.getByRole("button", { name: "Enable JumpStart for all users with custom roles" }).click();
    await page.getByText("Done.").waitFor({ timeout: 10000 });
    const report = await page.locator("#jumpstart-report").textContent();
    expect(report.includes("2 user profiles in scope") && report.includes("0 still disabled"), `report: ${report}`);
    await screenshot(page, "studio-jumpstart-all-job");
  });

  await test("Service Catalog: a product provisioned from its parameters' form, its record followed until it succeeds", async () => {
    const portfolio = (await json(endpoint, admin, "servicecatalog", "ListPortfolios", {})).PortfolioDetails[0].Id;
    const templatePath = join(dataDir, "parameters.json");
    writeFileSync(templatePath, JSON.stringify({
      Parameters: {
        RoleName: { Type: "String", Description: "The role's name" },
        Tier: { Type: "String", Default: "small", AllowedValues: ["small", "large"] },
        Token: { Type: "String", NoEcho: true, Default: "hidden" },
      },
      Resources: { R: { Type: "AWS::IAM::Role", Properties: { RoleName: { Ref: "RoleName" }, AssumeRolePolicyDocument: JSON.parse(trust("sagemaker.amazonaws.com")) } } },
      Outputs: { RoleArn: { Value: { "Fn::GetAtt": ["R", "Arn"] }, Description: "The role made" } },
    }));
    const product = await json(endpoint, admin, "servicecatalog", "CreateProduct", {
      Name: "Team role", Owner: "Platform team", ProductType: "CLOUD_FORMATION_TEMPLATE", IdempotencyToken: "t2",
      ProvisioningArtifactParameters: { Name: "v1", Type: "CLOUD_FORMATION_TEMPLATE", Info: { LoadTemplateFromURL: `file://${templatePath}` } },
    });
    const productId = product.ProductViewDetail.ProductViewSummary.ProductId;
    await json(endpoint, admin, "servicecatalog", "AssociateProductWithPortfolio", { ProductId: productId, PortfolioId: portfolio });
    await json(endpoint, admin, "servicecatalog", "CreateConstraint", {
      PortfolioId: portfolio, ProductId: productId, Type: "LAUNCH",
      Parameters: JSON.stringify({ RoleArn: `arn:aws:iam::${account}:role/LaunchRole` }), IdempotencyToken: "c2",
    });
    await page.goto(`${consoleUrl}catalog/portfolios/${portfolio}`);
    await page.getByRole("link", { name: "Provision Team role" }).click();
    await page.getByLabel("Provisioned product name").fill("team-role");
    await page.getByRole("button", { name: "Provision product" }).click();
    expect((await page.locator(".error-summary").textContent()).includes("Enter a value for RoleName: it has no default"), "no error for RoleName");
    await screenshot(page, "catalog-provision-errors");
    await page.getByLabel("RoleName").fill("made-in-browser");
    await page.getByLabel("Tier").selectOption("large");
    expect(await page.getByLabel("Token").getAttribute("type") === "password", "NoEcho is not a password field");
    await page.getByRole("button", { name: "Provision product" }).click();
    await page.locator("#record-status").filter({ hasText: "SUCCEEDED" }).waitFor({ timeout: 10000 });
    expect((await page.locator("main").textContent()).includes(`arn:aws:iam::${account}:role/made-in-browser`), "no output");
    await screenshot(page, "catalog-record");
  });

  await test("the simulator decides for a role of the account and highlights the deciding statement", async () => {
    await page.getByRole("link", { name: "Simulator" }).first().click();
    await page.getByLabel(/^Principal/).selectOption({ label: "role SageMaker-compute-jobs" });
    await page.getByLabel("Action", { exact: true }).fill("s3:GetObject");
    await page.getByLabel("Resource", { exact: true }).fill("arn:aws:s3:::ml-data/train.csv");
    await screenshot(page, "simulator-form");
    await page.getByRole("button", { name: "Simulate" }).click();
    expect((await page.locator("#decision").textContent()) === "Allowed", "not allowed");
    expect((await page.locator(".statement.matched").count()) >= 1, "no statement highlighted");
    await screenshot(page, "simulator-allowed");
    await page.getByLabel("Policies I paste").check();
    await page.locator("summary").filter({ hasText: "Policies to paste" }).click().catch(() => {});
    await page.getByLabel("Identity-based policy (optional)").fill(JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "*" }] }));
    await page.getByRole("button", { name: "Simulate" }).click();
    expect((await page.locator("#reason").textContent()).includes("with an explicit deny in an identity-based policy"), "no AWS reason");
    await screenshot(page, "simulator-denied");
  });

  await test("the audit log shows denials with their reasons, filtered", async () => {
    await page.getByRole("link", { name: "Audit log" }).first().click();
    await page.getByLabel("Decision").selectOption("denied");
    await page.getByRole("button", { name: "Filter" }).click();
    const text = await page.locator("main").textContent();
    expect(text.includes("Records ("), `audit: ${text.slice(0, 400)}`);
    await screenshot(page, "audit-log");
  });

  await test("signing out ends the session", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    expect((await page.getByRole("status").textContent()).includes("You have signed out"), "no signed-out notice");
    await page.goto(`${consoleUrl}roles`);
    expect(new URL(page.url()).pathname === "/console/signin", `after sign-out: ${page.url()}`);
  });

  await test("a data scientist is denied the roles page with AWS's AccessDenied text", async () => {
    await iam(endpoint, admin, "CreateUser", { UserName: "dana" });
    await iam(endpoint, admin, "PutUserPolicy", {
      UserName: "dana",
      PolicyName: "studio",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["sagemaker:*", "s3:GetObject"], Resource: "*" }],
      }),
    });
    const created = await iam(endpoint, admin, "CreateAccessKey", { UserName: "dana" });
    const dana = {
      id: created.match(/<AccessKeyId>([^<]+)</)[1],
      secret: created.match(/<SecretAccessKey>([^<]+)</)[1],
    };
    await signIn(page, consoleUrl, dana);
    expect(new URL(page.url()).pathname === "/console/", `landed on ${page.url()}`);
    const reply = await page.goto(`${consoleUrl}roles`);
    expect(reply.status() === 403, `status ${reply.status()}`);
    const text = await page.locator("main").textContent();
    expect(
      text.includes(`User: arn:aws:iam::${account}:user/dana is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::${account}:role/ because no identity-based policy allows the iam:ListRoles action`),
      `page: ${text}`,
    );
    expect(!text.includes("SageMaker-compute-jobs"), "the denied page shows roles");
    await screenshot(page, "data-scientist-denied");
  });
  await test("a data scientist signed in by a presigned domain URL lands on their Studio page and is denied an admin page", async () => {
    const { AuthorizedUrl } = await json(endpoint, admin, "sagemaker", "CreatePresignedDomainUrl", { DomainId: onboarding, UserProfileName: "dora" });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Presigned domain URL").fill(AuthorizedUrl);
    await page.getByRole("button", { name: "Open Studio" }).click();
    expect(new URL(page.url()).pathname === `/console/studio/${onboarding}/users/dora`, `landed on ${page.url()}`);
    expect((await page.locator("header").textContent()).includes(`assumed-role/SageMaker-mlops/dora`), "not the execution role");
    await screenshot(page, "studio-presigned-own-page");
    const reply = await page.goto(`${consoleUrl}roles`);
    expect(reply.status() === 403, `status ${reply.status()}`);
    const text = await page.locator("main").textContent();
    expect(text.includes(`User: arn:aws:sts::${account}:assumed-role/SageMaker-mlops/dora is not authorized to perform: iam:ListRoles`), `page: ${text}`);
    await screenshot(page, "studio-presigned-denied");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Presigned domain URL").fill(AuthorizedUrl);
    await page.getByRole("button", { name: "Open Studio" }).click();
    expect((await page.getByRole("alert").textContent()).includes("used already"), "the URL worked twice");
  });
  await test("no page has a serious or critical accessibility violation (axe-core)", async () => {
    expect(shot > 0, "no page was checked");
    console.log(`  axe-core checked ${shot} pages; minor or moderate: ${lesser.length ? lesser.join(", ") : "none"}`);
    expect(violations.length === 0, violations.join("\n"));
  });
} catch (error) {
  results.push(["the console test run", false]);
  console.log(`not ok - the console test run\n  ${error.stack || error}`);
} finally {
  if (browser) await browser.close();
  if (server) server.child.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}

const passed = results.filter(([, ok]) => ok).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
