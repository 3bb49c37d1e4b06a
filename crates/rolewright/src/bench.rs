//! `rolewright bench`: decisions per second on one core, for a Data Scientist shaped role and for
//! the Strict cases of a simulation corpus, policies compiled once and requests evaluated repeatedly;
//! and the JSON Lines input of `bench/simulate-cases.sh` (`--write-cases`).

use std::hint::black_box;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use rolewright_iam::case::{EngineCase, parse_cases};
use rolewright_iam::{CompiledPolicy, PolicyDocument, PolicySet, Request, sample};
use serde_json::value::RawValue;

use crate::{Format, exit};

/// Arguments of `rolewright bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Seconds to spend on each measurement (each is repeated 3 times; the median is reported).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// A folder or file of simulation cases; its Strict cases are measured too.
    #[arg(long, value_name = "PATH")]
    corpus: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Instead of measuring, write the Strict cases of `--corpus` to this file as JSON Lines,
    /// one case per line, `--repeat` times over (the input of `bench/simulate-cases.sh`).
    #[arg(long, value_name = "FILE", requires = "corpus")]
    write_cases: Option<PathBuf>,
    /// With `--write-cases`: how many times the whole list of cases is written.
    #[arg(long, default_value_t = 1, requires = "write_cases")]
    repeat: usize,
}

/// Evaluates `requests` round-robin against `sets` for about `seconds`; returns decisions/s.
fn measure(sets: &[&PolicySet], requests: &[&Request], seconds: f64) -> f64 {
    let budget = Duration::from_secs_f64(seconds.max(0.05));
    let start = Instant::now();
    let mut decisions: u64 = 0;
    loop {
        for (set, request) in sets.iter().zip(requests) {
            black_box(set.evaluate(black_box(request)));
        }
        decisions += requests.len() as u64;
        if start.elapsed() >= budget {
            break;
        }
    }
    decisions as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs the command; returns the exit code.
pub fn run(args: &BenchArgs) -> u8 {
    match bench(args) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

fn bench(args: &BenchArgs) -> Result<(), String> {
    if let (Some(out), Some(corpus)) = (&args.write_cases, &args.corpus) {
        let (cases, lines) = write_cases(corpus, out, args.repeat)?;
        eprintln!(
            "wrote {lines} cases ({cases} Strict cases, {} times) to `{}`",
            args.repeat,
            out.display()
        );
        return Ok(());
    }
    // Parse + compile of the whole role.
    let texts = sample::data_scientist_policy_texts();
    let mut compile_times = Vec::new();
    for _ in 0..3 {
        let rounds = 2000;
        let start = Instant::now();
        for _ in 0..rounds {
            let mut set = PolicySet::new();
            for text in &texts {
                let doc = PolicyDocument::parse(black_box(text)).map_err(|e| e.to_string())?;
                set = set.with_identity(CompiledPolicy::new(&doc));
            }
            black_box(set);
        }
        compile_times.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds));
    }
    let compile_us = median(compile_times);

    let mut set = PolicySet::new();
    for text in &texts {
        let doc = PolicyDocument::parse(text).map_err(|e| e.to_string())?;
        set = set.with_identity(CompiledPolicy::new(&doc));
    }
    let requests = sample::data_scientist_requests();
    let sets: Vec<&PolicySet> = requests.iter().map(|_| &set).collect();
    let request_refs: Vec<&Request> = requests.iter().collect();
    let role_runs: Vec<f64> = (0..3)
        .map(|_| measure(&sets, &request_refs, args.seconds))
        .collect();
    let role_rate = median(role_runs.clone());

    let mut corpus_result = None;
    if let Some(path) = &args.corpus {
        let mut files = Vec::new();
        crate::simulate::case_files(path, &mut files)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let mut prepared = Vec::new();
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            for case in parse_cases(&text).map_err(|e| format!("{}: {e}", file.display()))? {
                if case.is_discovery() {
                    continue;
                }
                prepared.push(
                    case.prepare()
                        .map_err(|e| format!("{} :: {}: {e}", file.display(), case.name))?,
                );
            }
        }
        let sets: Vec<&PolicySet> = prepared.iter().map(|(s, _)| s).collect();
        let requests: Vec<&Request> = prepared.iter().map(|(_, r)| r).collect();
        let runs: Vec<f64> = (0..3)
            .map(|_| measure(&sets, &requests, args.seconds))
            .collect();
        corpus_result = Some((prepared.len(), median(runs.clone()), runs));
    }

    match args.format {
        Format::Human => {
            println!("Data Scientist role (6 policies, 18 statements, 4 conditions), one core:");
            println!("  parse + compile:   {compile_us:.1} µs per role (median of 3)");
            println!(
                "  decisions:         {:.0} per second (median of 3: {})",
                role_rate,
                role_runs
                    .iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some((n, rate, runs)) = &corpus_result {
                println!("Corpus ({n} Strict cases, compiled once), one core:");
                println!(
                    "  decisions:         {:.0} per second (median of 3: {})",
                    rate,
                    runs.iter()
                        .map(|r| format!("{r:.0}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Format::Json => {
            let corpus = corpus_result.map(|(n, rate, runs)| {
                serde_json::json!({"cases": n, "decisionsPerSecond": rate, "runs": runs})
            });
            println!(
                "{}",
                serde_json::json!({
                    "tool": "rolewright",
                    "version": env!("CARGO_PKG_VERSION"),
                    "dataScientistRole": {
                        "parseCompileMicros": compile_us,
                        "decisionsPerSecond": role_rate,
                        "runs": role_runs,
                    },
                    "corpus": corpus,
                })
            );
        }
    }
    Ok(())
}

/// Writes the Strict cases under `corpus` to `out`, one per line, `repeat` times over; returns the
/// number of distinct cases and of lines written. Each case is written as its own text with the
/// whitespace between tokens removed, never re-serialized, so that key order, duplicate keys and
/// number spellings inside its policies stay as the corpus wrote them.
fn write_cases(corpus: &Path, out: &Path, repeat: usize) -> Result<(usize, usize), String> {
    let mut files = Vec::new();
    crate::simulate::case_files(corpus, &mut files)
        .map_err(|e| format!("cannot read `{}`: {e}", corpus.display()))?;
    let mut block = String::new();
    let mut count = 0;
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for raw in raw_cases(&text).map_err(|e| format!("{}: {e}", file.display()))? {
            let case: EngineCase =
                serde_json::from_str(raw.get()).map_err(|e| format!("{}: {e}", file.display()))?;
            if case.is_discovery() {
                continue;
            }
            minify_into(raw.get(), &mut block);
            block.push('\n');
            count += 1;
        }
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    let file =
        std::fs::File::create(out).map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    let mut writer = BufWriter::new(file);
    for _ in 0..repeat {
        writer
            .write_all(block.as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    }
    writer
        .flush()
        .map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    Ok((count, count * repeat))
}

/// The cases of a case file as raw JSON texts: a JSON array, one object, or JSON Lines.
fn raw_cases(text: &str) -> Result<Vec<&RawValue>, String> {
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    if let Ok(one) = serde_json::from_str::<&RawValue>(text) {
        return Ok(vec![one]);
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// Appends `json` to `out` without the whitespace outside strings. `json` is valid JSON (serde
/// has read it), so a `"` not preceded by an odd run of `\\` always opens or closes a string.
fn minify_into(json: &str, out: &mut String) {
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::minify_into;

    #[test]
    fn minify_keeps_strings_and_drops_whitespace_between_tokens() {
        let mut out = String::new();
        minify_into("{ \"a b\" : [1, \"x\\\" y\" ,\n\t{}] }", &mut out);
        assert_eq!(out, "{\"a b\":[1,\"x\\\" y\",{}]}");
    }
}
