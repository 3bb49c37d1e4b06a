#!/usr/bin/env node
// Benchmark anchor: decisions per second of @cloud-copilot/iam-simulate
// (`runUnsafeSimulation`) on the Strict cases of the shared conformance corpus.
//
// Usage: node iam-simulate-bench.mjs [CORPUS] [--seconds N] [--warmup N]
//
//   CORPUS      folder searched recursively for *.json files, each a JSON array
//               of engine cases (schema: shared/conformance/README.md), or one
//               case file: a JSON array, or JSON Lines with one case per line
//               (as `rolewright bench --write-cases` writes for
//               bench/simulate-cases.sh).
//               Default: ../../../shared/conformance/iam-simulate/engine,
//               relative to this script's folder.
//   --seconds N length of each of the three timed repetitions (default 3).
//   --warmup N  untimed round-robin before them, so the JIT has settled (default 2).
//
// stderr: progress and `anchor correctness: N passed, N failed`.
// stdout: one line of JSON with the median of three timed repetitions.
//
// The package is AGPL-3.0; it is installed from the npm registry into
// ./node_modules (`npm ci`) and only called from here. Nothing of it is copied
// into this repository.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate'

const TOOL = '@cloud-copilot/iam-simulate'
const REPETITIONS = 3
const DEFAULT_WARMUP_SECONDS = 2
const SCRIPT_DIR = dirname(fileURLToPath(import.meta.url))
const DEFAULT_CORPUS = resolve(SCRIPT_DIR, '../../../shared/conformance/iam-simulate/engine')

// AWS's default RCPFullAWSAccess. The corpus's own harness puts it at every
// level of the RCP hierarchy whenever a case lists `resourceControlPolicies`.
const RCP_FULL_ACCESS = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }]
}

function usage(message) {
  if (message) process.stderr.write(`error: ${message}\n`)
  process.stderr.write('usage: node iam-simulate-bench.mjs [CORPUS] [--seconds N] [--warmup N]\n')
  process.exit(2)
}

function parseArgs(argv) {
  let corpus
  const numbers = { seconds: 3, warmup: DEFAULT_WARMUP_SECONDS }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '-h' || arg === '--help') usage()
    const option = /^--(seconds|warmup)(?:=(.*))?$/.exec(arg)
    if (option) {
      const [, key, inline] = option
      const value = inline ?? argv[++i]
      if (value === undefined) usage(`--${key} needs a value`)
      const n = Number(value)
      const ok = key === 'seconds' ? n > 0 : n >= 0
      if (!Number.isFinite(n) || !ok) usage(`bad --${key} value: ${value}`)
      numbers[key] = n
    } else if (arg.startsWith('-')) {
      usage(`unknown option ${arg}`)
    } else if (corpus === undefined) {
      corpus = arg
    } else {
      usage(`unexpected argument ${arg}`)
    }
  }
  return { corpus: resolve(corpus ?? DEFAULT_CORPUS), ...numbers }
}

// Installed version, read from the package.json next to the resolved entry
// point (the package's `exports` map does not expose its package.json).
function installedVersion() {
  const require = createRequire(import.meta.url)
  let dir = dirname(require.resolve(TOOL))
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      if (manifest.name === TOOL) return manifest.version
    } catch {
      // no package.json here; keep climbing
    }
    const parent = dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}

function jsonFilesUnder(dir) {
  const found = []
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  )
  for (const entry of entries) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...jsonFilesUnder(full))
    else if (entry.isFile() && entry.name.endsWith('.json')) found.push(full)
  }
  return found
}

// Give every policy document the `{ name, policy }` wrapper the Simulation type wants.
const named = (prefix) => (policy, index) => ({ name: `${prefix}${index}`, policy })

function orgLevels(levels, prefix, extraPolicy) {
  return (levels ?? []).map((level, depth) => {
    const policies = (level.policies ?? []).map(named(`${prefix}${depth}-`))
    if (extraPolicy) policies.unshift({ name: `${prefix}${depth}-default`, policy: extraPolicy })
    return { orgIdentifier: level.orgIdentifier, policies }
  })
}

// Corpus case -> `Simulation` input of runUnsafeSimulation.
function toSimulation(testCase) {
  const { principal, action, resource, context } = testCase.request
  const simulation = {
    request: {
      principal,
      action,
      resource: { resource: resource.resource, accountId: resource.accountId },
      contextVariables: context ?? {}
    },
    identityPolicies: (testCase.identityPolicies ?? []).map(named('identity-')),
    serviceControlPolicies: orgLevels(testCase.serviceControlPolicies, 'scp-'),
    resourceControlPolicies: testCase.resourceControlPolicies
      ? orgLevels(testCase.resourceControlPolicies, 'rcp-', RCP_FULL_ACCESS)
      : []
  }
  // The plural key `resourcePolicies` (three cases) is deliberately ignored,
  // as the corpus's own harness does.
  //
  // The resource policy goes in as a "validated policy" (the plain-data
  // wrapper documented by @cloud-copilot/iam-policy's ValidatedPolicy type,
  // which its loadPolicy accepts in place of a raw document). Reason: in
  // 0.1.172 runUnsafeSimulation loads a raw resource policy without a name and
  // the core engine then throws "Cannot read properties of undefined (reading
  // 'name')" on every case that has one. The wrapper only carries a name; no
  // validation is run (runUnsafeSimulation never validates) and the document
  // is still parsed by the package on every call.
  if (testCase.resourcePolicy) {
    simulation.resourcePolicy = {
      __validated: true,
      policyDocument: testCase.resourcePolicy,
      metadata: { name: 'resource-policy' },
      errors: []
    }
  }
  if (testCase.permissionBoundaries) {
    simulation.permissionBoundaryPolicies = testCase.permissionBoundaries.map(named('boundary-'))
  }
  // Passed for completeness, but runUnsafeSimulation in 0.1.172 does not hand
  // session policies or VPC endpoint policies to its core engine, and it has no
  // input for `request.wildcardOnlyAction` at all. The 18 Strict cases that
  // depend on one of the three fail the correctness check (and are cheaper to
  // decide than they should be); they stay in the timed loop.
  if (testCase.sessionPolicy) simulation.sessionPolicy = testCase.sessionPolicy
  if (testCase.endpointPolicies) {
    simulation.vpcEndpointPolicies = testCase.endpointPolicies.map(named('endpoint-'))
  }
  return simulation
}

// The cases of one file: a JSON array, or JSON Lines (one case object per line).
function casesIn(file) {
  const text = readFileSync(file, 'utf8')
  if (text.trimStart().startsWith('[')) return JSON.parse(text)
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
}

function loadCases(corpus) {
  const cases = []
  const single = statSync(corpus).isFile()
  const files = single ? [corpus] : jsonFilesUnder(corpus)
  for (const file of files) {
    const parsed = single ? casesIn(file) : JSON.parse(readFileSync(file, 'utf8'))
    if (!Array.isArray(parsed)) continue
    for (const testCase of parsed) {
      if ((testCase.simulation?.mode ?? 'Strict') === 'Discovery') continue
      cases.push({
        file: single ? file : file.slice(corpus.length + 1),
        name: testCase.name,
        expected: testCase.expected.response,
        simulation: toSimulation(testCase)
      })
    }
  }
  return cases
}

const OPTIONS = { simulationMode: 'Strict' }

function decideOrError(simulation) {
  try {
    return runUnsafeSimulation(simulation, OPTIONS)
  } catch (err) {
    return `error: ${err.message}`
  }
}

function toRun(decisions, startNs, endNs) {
  const elapsed = Number(endNs - startNs) / 1e9
  return {
    decisions,
    seconds: Math.round(elapsed * 1e6) / 1e6,
    decisionsPerSecond: Math.round((decisions / elapsed) * 10) / 10
  }
}

// One timed repetition: whole round-robin passes over every case, in corpus
// order, until `limitSeconds` have passed; the clock is read once per pass.
// The count of Allowed results goes into `state.sink` so no call is dead code.
function timedRunSync(simulations, limitSeconds, state) {
  const limitNs = BigInt(Math.round(limitSeconds * 1e9))
  let decisions = 0
  let allowed = 0
  const start = process.hrtime.bigint()
  let now
  do {
    for (let i = 0; i < simulations.length; i++) {
      if (runUnsafeSimulation(simulations[i], OPTIONS) === 'Allowed') allowed++
    }
    decisions += simulations.length
    now = process.hrtime.bigint()
  } while (now - start < limitNs)
  state.sink += allowed
  return toRun(decisions, start, now)
}

// The same for a promise-returning runUnsafeSimulation: the promise is awaited
// inside the timed loop, because settling it is part of the cost of a decision.
async function timedRunAsync(simulations, limitSeconds, state) {
  const limitNs = BigInt(Math.round(limitSeconds * 1e9))
  let decisions = 0
  let allowed = 0
  const start = process.hrtime.bigint()
  let now
  do {
    for (let i = 0; i < simulations.length; i++) {
      if ((await runUnsafeSimulation(simulations[i], OPTIONS)) === 'Allowed') allowed++
    }
    decisions += simulations.length
    now = process.hrtime.bigint()
  } while (now - start < limitNs)
  state.sink += allowed
  return toRun(decisions, start, now)
}

async function main() {
  const { corpus, seconds, warmup } = parseArgs(process.argv.slice(2))
  const version = installedVersion()
  let cases
  try {
    cases = loadCases(corpus)
  } catch (err) {
    process.stderr.write(`error: cannot load corpus ${corpus}: ${err.message}\n`)
    process.exit(1)
  }
  if (cases.length === 0) {
    process.stderr.write(`error: no Strict cases found under ${corpus}\n`)
    process.exit(1)
  }

  // runUnsafeSimulation is synchronous in 0.1.172 (it returns the decision
  // string directly). If a version returns a promise, every call is awaited,
  // both here and in the timed loop.
  let isAsync = false
  const results = []
  for (const c of cases) {
    let actual = decideOrError(c.simulation)
    if (typeof actual?.then === 'function') {
      isAsync = true
      actual = await actual.catch((err) => `error: ${err.message}`)
    }
    results.push(actual)
  }

  // (a) correctness: one decision per case against expected.response.
  let passed = 0
  const failures = []
  results.forEach((actual, i) => {
    const c = cases[i]
    if (actual === c.expected) passed++
    else failures.push(`  FAIL ${c.file} :: ${c.name}: expected ${c.expected}, got ${actual}\n`)
  })
  for (const line of failures) process.stderr.write(line)
  process.stderr.write(`anchor correctness: ${passed} passed, ${failures.length} failed\n`)

  // (b) throughput. Cases that throw are left out of the timed loop (none do
  // in 0.1.172); the cases that merely decide wrongly stay in.
  const simulations = cases
    .filter((_, i) => !String(results[i]).startsWith('error: '))
    .map((c) => c.simulation)
  const state = { sink: 0 }
  const timedRun = isAsync ? timedRunAsync : timedRunSync

  if (warmup > 0) {
    process.stderr.write(`warming up for ${warmup}s ...\n`)
    await timedRun(simulations, warmup, state)
  }
  const runs = []
  for (let r = 0; r < REPETITIONS; r++) {
    const run = await timedRun(simulations, seconds, state)
    process.stderr.write(
      `run ${r + 1}/${REPETITIONS}: ${run.decisions} decisions in ${run.seconds}s = ${run.decisionsPerSecond}/s\n`
    )
    runs.push(run)
  }
  process.stderr.write(`(${simulations.length} cases timed; Allowed checksum ${state.sink})\n`)

  const median = [...runs].sort((a, b) => a.decisionsPerSecond - b.decisionsPerSecond)[
    Math.floor(runs.length / 2)
  ]
  const report = {
    tool: TOOL,
    version,
    cases: cases.length,
    decisions: median.decisions,
    seconds: median.seconds,
    decisionsPerSecond: median.decisionsPerSecond,
    runs: runs.map((r) => r.decisionsPerSecond)
  }
  // Only present when some cases threw and so were left out of the timing.
  if (simulations.length !== cases.length) report.timedCases = simulations.length
  process.stdout.write(JSON.stringify(report) + '\n')
}

await main()
