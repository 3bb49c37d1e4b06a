//! `rolewright simulate --cases` against the case library it must agree with: whichever way the
//! binary reads a case (its fast reader or serde), every case gets the line, the `FAIL` message
//! and the count that `rolewright_iam::case` gives it, repeated policies or not, in JSON arrays
//! and in JSON Lines, across the blocks a large file is read in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
#[path = "../../../tests/support/corpus.rs"]
mod support;

use std::path::{Path, PathBuf};

use common::{rolewright, scratch, stderr, stdout, write};
use rolewright_iam::case::{CaseResult, EngineCase, parse_cases};

/// What `--cases` prints for one file: its JSON lines, its `FAIL` lines, and the counts
/// (passed, failed, skipped, unchecked), as the case library decides its cases.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    json: Vec<String>,
    fails: Vec<String>,
    counts: [usize; 4],
}

fn expected_for(file: &str, cases: &[EngineCase]) -> Expected {
    let mut e = Expected::default();
    for case in cases {
        let line = match case.run() {
            CaseResult::Decided {
                outcome,
                blocked_by,
                pass,
            } => {
                e.counts[match pass {
                    Some(true) => 0,
                    Some(false) => 1,
                    None => 3,
                }] += 1;
                if pass == Some(false) {
                    let expected = case.expected.as_ref();
                    e.fails.push(format!(
                        "FAIL {file} :: {} => {outcome} {blocked_by:?}, expected {} {:?}",
                        case.name,
                        expected.and_then(|x| x.response.as_deref()).unwrap_or("?"),
                        expected
                            .and_then(|x| x.blocked_by.clone())
                            .unwrap_or_default()
                    ));
                }
                serde_json::json!({
                    "file": file, "name": case.name, "decision": outcome.as_str(),
                    "blockedBy": blocked_by, "pass": pass,
                })
            }
            CaseResult::Skipped => {
                e.counts[2] += 1;
                serde_json::json!({
                    "file": file, "name": case.name, "decision": null,
                    "blockedBy": [], "pass": null, "skipped": "Discovery mode is not an AWS decision",
                })
            }
            CaseResult::Invalid(error) => {
                e.counts[1] += 1;
                e.fails
                    .push(format!("FAIL {file} :: {} => {error}", case.name));
                serde_json::json!({
                    "file": file, "name": case.name, "decision": null,
                    "blockedBy": [], "pass": false, "error": error,
                })
            }
        };
        e.json.push(line.to_string());
    }
    e
}

fn summary(counts: [usize; 4]) -> String {
    format!(
        "{} passed, {} failed, {} skipped",
        counts[0], counts[1], counts[2]
    )
}

/// Runs `--cases` in both formats and checks every line against the library.
fn assert_agrees(path: &str, expected: &Expected) {
    let json = rolewright(&["simulate", "--cases", path, "--format", "json"]);
    let lines: Vec<String> = stdout(&json).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), expected.json.len(), "{}", stderr(&json));
    for (got, want) in lines.iter().zip(&expected.json) {
        assert_eq!(got, want);
    }
    assert_eq!(
        stderr(&json).lines().last(),
        Some(summary(expected.counts).as_str())
    );
    let human = rolewright(&["simulate", "--cases", path]);
    assert_eq!(stdout(&human), "");
    let err = stderr(&human);
    let fails: Vec<&str> = err.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(fails, expected.fails);
    if expected.counts[3] > 0 {
        assert!(err.contains(&format!(
            "{} cases had no expectation and were decided only",
            expected.counts[3]
        )));
    }
    assert_eq!(err.lines().last(), Some(summary(expected.counts).as_str()));
    let code = if expected.counts[1] > 0 { 1 } else { 0 };
    assert_eq!(json.status.code(), Some(code));
    assert_eq!(human.status.code(), Some(code));
}

fn engine_corpus() -> PathBuf {
    support::corpus().join("iam-simulate/engine")
}

/// The corpus as the old loop ran it: every file, in sorted order, read whole by `parse_cases`.
#[test]
fn the_corpus_gets_the_lines_the_case_library_gives_it() {
    let dir = engine_corpus();
    let mut want = Expected::default();
    for file in support::json_files(&dir) {
        let shown = file.display().to_string();
        let cases = parse_cases(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let e = expected_for(&shown, &cases);
        want.json.extend(e.json);
        want.fails.extend(e.fails);
        for (total, n) in want.counts.iter_mut().zip(e.counts) {
            *total += n;
        }
    }
    assert_eq!(want.counts[0] + want.counts[2], want.json.len());
    assert_agrees(dir.to_str().unwrap(), &want);
}

/// Writes the corpus's Strict cases, `repeat` times over, with `rolewright bench`.
fn strict_cases(dir: &Path, repeat: usize) -> String {
    let path = dir.join(format!("strict-x{repeat}.jsonl"));
    let out = rolewright(&[
        "bench",
        "--corpus",
        engine_corpus().to_str().unwrap(),
        "--write-cases",
        path.to_str().unwrap(),
        "--repeat",
        &repeat.to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    path.to_string_lossy().into_owned()
}

/// Each document is compiled once per run and each combination assembled once: a file that
/// repeats its cases must decide every copy as the first.
#[test]
fn repeated_cases_are_decided_as_the_unrepeated_ones() {
    let dir = scratch("repeated");
    let once = strict_cases(&dir, 1);
    let thrice = strict_cases(&dir, 3);
    let text = std::fs::read_to_string(&once).unwrap();
    assert_eq!(std::fs::read_to_string(&thrice).unwrap(), text.repeat(3));

    let single = rolewright(&["simulate", "--cases", &once, "--format", "json"]);
    let triple = rolewright(&["simulate", "--cases", &thrice, "--format", "json"]);
    let single_lines: Vec<String> = stdout(&single)
        .lines()
        .map(|l| l.replace(&once, "FILE"))
        .collect();
    let triple_lines: Vec<String> = stdout(&triple)
        .lines()
        .map(|l| l.replace(&thrice, "FILE"))
        .collect();
    assert!(single_lines.len() >= 359, "{}", stderr(&single));
    let repeated: Vec<String> = (0..3).flat_map(|_| single_lines.iter().cloned()).collect();
    assert_eq!(triple_lines, repeated);
    let n = single_lines.len();
    assert_eq!(
        stderr(&single).lines().last(),
        Some(summary([n, 0, 0, 0]).as_str())
    );
    assert_eq!(
        stderr(&triple).lines().last(),
        Some(summary([3 * n, 0, 0, 0]).as_str())
    );

    // And as the library decides them, one by one.
    assert_agrees(
        &thrice,
        &expected_for(&thrice, &parse_cases(&text.repeat(3)).unwrap()),
    );

    // The same decisions as in the corpus's own files (`file` aside).
    let corpus = rolewright(&[
        "simulate",
        "--cases",
        engine_corpus().to_str().unwrap(),
        "--format",
        "json",
    ]);
    let strict: Vec<serde_json::Value> = stdout(&corpus)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("skipped").is_none())
        .collect();
    assert_eq!(strict.len(), n);
    for (line, corpus_line) in single_lines.iter().zip(&strict) {
        let mut line: serde_json::Value = serde_json::from_str(line).unwrap();
        let mut corpus_line = corpus_line.clone();
        line["file"] = serde_json::Value::Null;
        corpus_line["file"] = serde_json::Value::Null;
        assert_eq!(line, corpus_line);
    }
}

const REQUEST: &str = r#""request": {"principal": "arn:aws:iam::111111111111:user/a", "action": "s3:GetObject", "resource": {"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"}}"#;
const ALLOW: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;

/// Cases that the fast reader reads itself, partly hands to serde, or hands back whole: each
/// must come out as the library has it.
fn unusual_cases() -> Vec<String> {
    let allowed = r#""expected": {"response": "Allowed"}"#;
    vec![
        format!(r#"{{"name": "plain", {REQUEST}, "identityPolicies": [{ALLOW}], {allowed}}}"#),
        format!(
            r#"{{"name": "escaped \"name\" \u00e9 \\ tab\t", {REQUEST}, "identityPolicies": [{ALLOW}], {allowed}}}"#
        ),
        format!(r#"{{"name": "ünïcode ✓", {REQUEST}, "identityPolicies": [{ALLOW}], {allowed}}}"#),
        format!(
            r#"  {{"name":"whitespace around",{REQUEST},"identityPolicies":[ {ALLOW} ],{allowed}}}   "#
        ),
        format!(
            r#"{{"name": "context with numbers and repeats", "request": {{"principal": "arn:aws:iam::111111111111:user/a", "action": "s3:GetObject", "resource": {{"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"}}, "context": {{"aws:MultiFactorAuthAge": 1.50, "aws:SecureTransport": true, "Team": "a", "team": ["b", "c"]}}}}, "identityPolicies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {{"StringEquals": {{"aws:PrincipalTag/team": "b"}}, "Bool": {{"aws:SecureTransport": "true"}}}}}}]}}], {allowed}}}"#
        ),
        format!(
            r#"{{"name": "unknown fields", "description": null, "notes": [1, {{"a": null}}], {REQUEST}, "identityPolicies": [{ALLOW}], "expected": {{"response": "Allowed", "conditions": []}}, "simulation": {{"mode": "Strict", "other": 1}}}}"#
        ),
        format!(
            r#"{{"name": "anonymous with extra keys", "request": {{"principal": {{"type": "Anonymous", "note": 1}}, "action": "s3:GetObject", "resource": {{"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"}}}}, "identityPolicies": [], "resourcePolicy": {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}]}}, {allowed}}}"#
        ),
        format!(
            r#"{{"name": "nulls for options", {REQUEST}, "identityPolicies": [{ALLOW}], "sessionPolicy": null, "permissionBoundaries": null, "serviceControlPolicies": null, "resourcePolicy": null, "endpointPolicies": null, "simulation": null, {allowed}}}"#
        ),
        format!(
            r#"{{"name": "organization levels", {REQUEST}, "identityPolicies": [{ALLOW}], "serviceControlPolicies": [{{"orgIdentifier": "r-1", "policies": [{ALLOW}]}}, {{"orgIdentifier": null, "policies": []}}], "resourceControlPolicies": [{{"policies": []}}], "expected": {{"response": "ImplicitlyDenied", "blockedBy": ["scp"]}}}}"#
        ),
        format!(
            r#"{{"name": "a wrong expectation", {REQUEST}, "identityPolicies": [{ALLOW}], "expected": {{"response": "ImplicitlyDenied", "blockedBy": ["pb", "scp", "pb"]}}}}"#
        ),
        format!(r#"{{"name": "no expectation", {REQUEST}, "identityPolicies": [{ALLOW}]}}"#),
        format!(
            r#"{{"name": "wildcard-only", "request": {{"principal": "arn:aws:iam::111111111111:user/a", "action": "s3:ListAllMyBuckets", "resource": {{"resource": "arn:aws:s3:::b", "accountId": "111111111111"}}, "wildcardOnlyAction": true}}, "identityPolicies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}}]}}], "expected": {{"response": "ImplicitlyDenied"}}}}"#
        ),
        format!(
            r#"{{"name": "an invalid policy", {REQUEST}, "identityPolicies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}}]}}], {allowed}}}"#
        ),
        format!(
            r#"{{"name": "duplicate keys in a policy", {REQUEST}, "identityPolicies": [{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}}]}}], {allowed}}}"#
        ),
        format!(
            r#"{{"name": "an invalid principal", "request": {{"principal": "bob", "action": "s3:GetObject", "resource": {{"resource": "*", "accountId": "1"}}}}, "identityPolicies": [{ALLOW}], {allowed}}}"#
        ),
        format!(
            r#"{{"name": "a principal that is a number", "request": {{"principal": 7, "action": "s3:GetObject", "resource": {{"resource": "*", "accountId": "1"}}}}, "identityPolicies": [{ALLOW}], {allowed}}}"#
        ),
        format!(
            r#"{{"name": "discovery", "simulation": {{"mode": "Discovery"}}, {REQUEST}, "identityPolicies": [{ALLOW}], {allowed}}}"#
        ),
        format!(
            r#"{{"na\u006de": "an escaped key", {REQUEST}, "identityPolicies": [{ALLOW}], {allowed}}}"#
        ),
        // The same policy again, now found among the known documents.
        format!(
            r#"{{"name": "plain again", {REQUEST}, "identityPolicies": [{ALLOW}], {allowed}}}"#
        ),
    ]
}

#[test]
fn json_lines_are_read_as_the_case_library_reads_them() {
    let dir = scratch("unusual");
    // Blank lines, CRLF line ends and a last line without its newline, as `str::lines` cuts.
    let text = format!("\n{}\r\n  \n", unusual_cases().join("\r\n"));
    let text = text.trim_end_matches('\n').to_string();
    let path = write(&dir, "unusual.jsonl", &text);
    assert_agrees(&path, &expected_for(&path, &parse_cases(&text).unwrap()));

    // The same cases as one JSON array, pretty-printed over several lines.
    let array = format!("[\n  {}\n]\n", unusual_cases().join(",\n  "));
    let path = write(&dir, "unusual.json", &array);
    assert_agrees(&path, &expected_for(&path, &parse_cases(&array).unwrap()));

    // One case over several lines.
    let one = unusual_cases()[0].replace(", ", ",\n    ");
    let path = write(&dir, "one.json", &one);
    assert_agrees(&path, &expected_for(&path, &parse_cases(&one).unwrap()));
}

#[test]
fn a_file_larger_than_a_block_is_read_across_blocks() {
    let dir = scratch("blocks");
    // About 3 MiB: several blocks, and cases cut by block and chunk boundaries.
    let cases = unusual_cases();
    let mut lines = Vec::new();
    while lines.iter().map(|l: &String| l.len() + 1).sum::<usize>() < 3 << 20 {
        let i = lines.len();
        lines.push(cases[i % cases.len()].replacen("\": \"", &format!("\": \"{i} "), 1));
    }
    let text = lines.join("\n") + "\n";
    let path = write(&dir, "large.jsonl", &text);
    assert_agrees(&path, &expected_for(&path, &parse_cases(&text).unwrap()));
}

/// A request text seen before is recognized instead of read, and its request is used again: the
/// same request under other policies, with a context, with a principal that does not read, a
/// request too long to be kept, and more distinct requests than a worker keeps must all be
/// decided as the library decides them.
#[test]
fn repeated_requests_are_decided_as_the_library_decides_them() {
    let dir = scratch("repeated-requests");
    let deny = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}"#;
    let with_context = r#""request": {"principal": "arn:aws:iam::111111111111:user/a", "action": "s3:GetObject", "resource": {"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"}, "context": {"aws:SourceVpc": "vpc-1", "aws:TagKeys": ["a", "b"]}}"#;
    let condition = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}]}"#;
    let bad_caller = r#""request": {"principal": "bob", "action": "s3:GetObject", "resource": {"resource": "*", "accountId": "1"}}"#;
    // Longer than a request text whose request is kept (4 KiB).
    let long = with_context.replace(
        "vpc-1\"",
        &format!("vpc-1\", \"note\": \"{}\"", "n".repeat(5000)),
    );
    let case = |name: &str, request: &str, policy: &str, response: &str| {
        format!(
            r#"{{"name": "{name}", {request}, "identityPolicies": [{policy}], "expected": {{"response": "{response}"}}}}"#
        )
    };
    let mut lines = Vec::new();
    for round in 0..2 {
        lines.push(case(&format!("allow {round}"), REQUEST, ALLOW, "Allowed"));
        lines.push(case(
            &format!("deny {round}"),
            REQUEST,
            deny,
            "ExplicitlyDenied",
        ));
        lines.push(case(
            &format!("context {round}"),
            with_context,
            condition,
            "Allowed",
        ));
        lines.push(case(
            &format!("no context {round}"),
            REQUEST,
            condition,
            "ImplicitlyDenied",
        ));
        lines.push(case(&format!("long {round}"), &long, condition, "Allowed"));
        lines.push(case(
            &format!("bad caller {round}"),
            bad_caller,
            ALLOW,
            "Allowed",
        ));
    }
    // More distinct requests than a worker keeps (4096), each asked twice.
    for round in 0..2 {
        for i in 0..5000 {
            let request = REQUEST.replace("b/k", &format!("b/k{i}"));
            lines.push(case(
                &format!("many {round} {i}"),
                &request,
                ALLOW,
                "Allowed",
            ));
        }
    }
    let text = lines.join("\n") + "\n";
    let path = write(&dir, "requests.jsonl", &text);
    assert_agrees(&path, &expected_for(&path, &parse_cases(&text).unwrap()));
}

/// Streamed files are decided as they are read, so a line that is not a case stops its file
/// where it is: the cases before it have their results, the ones after it are not run, and the
/// message is the one `parse_cases` gives.
#[test]
fn a_line_that_is_not_a_case_stops_its_file_there() {
    let dir = scratch("broken-line");
    let good = |name: &str| {
        format!(
            r#"{{"name": "{name}", {REQUEST}, "identityPolicies": [{ALLOW}], "expected": {{"response": "Allowed"}}}}"#
        )
    };
    let text = [
        good("one"),
        good("two"),
        "{\"name\": 3}".to_string(),
        good("four"),
    ]
    .join("\n");
    let path = write(&dir, "broken.jsonl", &text);
    let out = rolewright(&["simulate", "--cases", &path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let names: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["name"].clone())
        .collect();
    assert_eq!(names, ["one", "two"]);
    let error = parse_cases(&text).unwrap_err();
    assert!(error.starts_with("line 3: "), "{error}");
    let err = stderr(&out);
    assert!(
        err.contains(&format!("error: `{path}` is not a case file: {error}")),
        "{err}"
    );
    assert_eq!(err.lines().last(), Some("2 passed, 1 failed, 0 skipped"));

    // A first line that is not a case is the whole file's error, as it always was.
    let text = ["{\"name\": 3}".to_string(), good("two")].join("\n");
    let path = write(&dir, "first.jsonl", &text);
    let out = rolewright(&["simulate", "--cases", &path, "--format", "json"]);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains(&format!(
        "error: `{path}` is not a case file: {}",
        parse_cases(&text).unwrap_err()
    )));
    assert_eq!(
        stderr(&out).lines().last(),
        Some("0 passed, 1 failed, 0 skipped")
    );
}
