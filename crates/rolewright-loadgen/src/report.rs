//! Rendering a run's outcome for people (`human`) and for scripts (`json`).

use serde::Serialize;

use crate::runner::{Outcome, Plan};
use crate::workload::Workload;

/// The machine-readable summary of a run (`--format json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Always `rolewright-loadgen`.
    pub tool: &'static str,
    /// The workload run.
    pub workload: Workload,
    /// The server's `host:port`.
    pub target: String,
    /// Open connections, each with one operation in flight.
    pub concurrency: usize,
    /// Runtime threads of the generator.
    pub threads: usize,
    /// HTTP requests per operation (2 for a CreateRole + PutRolePolicy pair).
    pub requests_per_operation: u64,
    /// Length of the measured period, in seconds.
    pub seconds: f64,
    /// Measured operations.
    pub operations: u64,
    /// Measured HTTP requests.
    pub requests: u64,
    /// Failed operations.
    pub errors: u64,
    /// `errors / operations`.
    pub error_rate: f64,
    /// Successful and failed operations per second.
    pub operations_per_second: f64,
    /// HTTP requests per second.
    pub requests_per_second: f64,
    /// Operation latency percentiles, in microseconds.
    pub latency_micros: Latency,
    /// CPU used by the generator during the run, in cores (1.0 = one core busy).
    pub generator_cores: Option<f64>,
    /// The first few error messages.
    pub error_samples: Vec<String>,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest operation.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Summary {
    /// Summarizes `outcome` of running `plan`.
    pub fn new(plan: &Plan, outcome: &Outcome) -> Self {
        let seconds = outcome.elapsed.as_secs_f64();
        let per_second = |n: u64| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        let h = &outcome.latency;
        let micros = |nanos: u64| nanos as f64 / 1_000.0;
        let empty = h.is_empty();
        let at = |q: f64| {
            if empty {
                0.0
            } else {
                micros(h.value_at_quantile(q))
            }
        };
        Self {
            tool: "rolewright-loadgen",
            workload: plan.workload,
            target: plan.target.host_header.clone(),
            concurrency: plan.concurrency,
            threads: plan.threads,
            requests_per_operation: plan.workload.requests_per_operation(),
            seconds,
            operations: outcome.operations,
            requests: outcome.requests,
            errors: outcome.errors,
            error_rate: if outcome.operations == 0 {
                0.0
            } else {
                outcome.errors as f64 / outcome.operations as f64
            },
            operations_per_second: per_second(outcome.operations),
            requests_per_second: per_second(outcome.requests),
            latency_micros: Latency {
                p50: at(0.50),
                p90: at(0.90),
                p99: at(0.99),
                max: if empty { 0.0 } else { micros(h.max()) },
                mean: if empty { 0.0 } else { h.mean() / 1_000.0 },
            },
            generator_cores: outcome.generator_cores,
            error_samples: outcome.error_samples.clone(),
        }
    }

    /// The report for people.
    pub fn human(&self) -> String {
        let unit = match self.workload {
            Workload::GetRole => "GetRole",
            Workload::CreateRolePutPolicy => "CreateRole+PutRolePolicy pairs",
            Workload::AssumeRole => "AssumeRole",
            Workload::DescribeDomain => "DescribeDomain",
            Workload::DescribeUserProfile => "DescribeUserProfile",
            Workload::ListUserProfiles => "ListUserProfiles pages",
            Workload::CreateUserProfile => "CreateUserProfile",
        };
        let l = &self.latency_micros;
        let cpu = self
            .generator_cores
            .map_or_else(|| "unknown".to_owned(), |c| format!("{c:.2} cores"));
        format!(
            "target       http://{target}\n\
             workload     {unit}, concurrency {c}, {t} thread(s)\n\
             duration     {s:.2} s\n\
             operations   {ops} ({req} requests)\n\
             errors       {err} ({rate:.2}%)\n\
             throughput   {ops_s:.0} {unit}/s ({req_s:.0} requests/s)\n\
             latency      p50 {p50} · p90 {p90} · p99 {p99} · max {max} · mean {mean}\n\
             generator    {cpu} of CPU\n",
            target = self.target,
            c = self.concurrency,
            t = self.threads,
            s = self.seconds,
            ops = self.operations,
            req = self.requests,
            err = self.errors,
            rate = self.error_rate * 100.0,
            ops_s = self.operations_per_second,
            req_s = self.requests_per_second,
            p50 = duration(l.p50),
            p90 = duration(l.p90),
            p99 = duration(l.p99),
            max = duration(l.max),
            mean = duration(l.mean),
        )
    }
}

/// `812 µs`, `3.41 ms`, `1.20 s`.
fn duration(micros: f64) -> String {
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.2} ms", micros / 1_000.0)
    } else {
        format!("{:.2} s", micros / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_pick_a_unit() {
        assert_eq!(duration(812.4), "812 µs");
        assert_eq!(duration(3_410.0), "3.41 ms");
        assert_eq!(duration(1_200_000.0), "1.20 s");
    }
}
