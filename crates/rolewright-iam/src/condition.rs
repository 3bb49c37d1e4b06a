//! Condition operators: values compiled once per policy (numbers parsed, dates converted, CIDRs
//! and wildcards built) and evaluated against the request context with IAM's rules for missing
//! keys, `...IfExists`, negated operators and the `ForAnyValue:`/`ForAllValues:` set forms.

use std::net::IpAddr;

use crate::arn::{ArnParts, ArnPattern};
use crate::ast::{BaseOperator, ConditionBlock, ConditionOperator, SetQualifier};
use crate::context::{ContextValue, RequestContext};
use crate::variable::Template;
use crate::wildcard::{Piece, Wildcard, fold};

/// A condition block entry compiled for evaluation: one operator, one key, its values.
#[derive(Debug, Clone)]
pub struct CompiledCondition {
    operator: ConditionOperator,
    /// Lowercased key.
    key: String,
    values: Vec<CompiledValue>,
}

/// One policy value, prepared for its operator.
#[derive(Debug, Clone)]
enum CompiledValue {
    /// A value that cannot be compared (not a number for `NumericEquals`, ...).
    Invalid,
    /// A value with variables, resolved per request and then prepared.
    Variable(Template),
    Text(String),
    Pattern(Wildcard),
    Number(f64),
    Date(i128),
    Bool(bool),
    Ip(IpNet),
    Arn(ArnPattern),
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a plain address (a /32 or /128).
    pub fn parse(text: &str) -> Option<IpNet> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => {
                let p: u8 = p.trim().parse().ok()?;
                if p > max {
                    return None;
                }
                p
            }
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    /// Whether `ip` is inside the network.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(net) & mask) == (u32::from(*ip) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(net) & mask) == (u128::from(*ip) & mask)
            }
            _ => false,
        }
    }
}

/// Compiles the entries of a condition block, one [`CompiledCondition`] per key.
pub fn compile_block(block: &ConditionBlock, variables: bool) -> Vec<CompiledCondition> {
    let op = block.operator;
    block
        .entries
        .iter()
        .map(|entry| CompiledCondition {
            operator: op,
            key: entry.key.to_ascii_lowercase(),
            values: entry
                .values
                .values
                .iter()
                .map(|v| compile_value(op.base, v, variables))
                .collect(),
        })
        .collect()
}

fn compile_value(op: BaseOperator, value: &str, variables: bool) -> CompiledValue {
    if variables
        && op.substitutes_variables()
        && let Some(t) = Template::parse(value)
    {
        return CompiledValue::Variable(t);
    }
    prepare(op, value)
}

/// Prepares a literal policy value for comparisons with `op`.
fn prepare(op: BaseOperator, value: &str) -> CompiledValue {
    use BaseOperator::*;
    match op {
        StringEquals | StringNotEquals | BinaryEquals => CompiledValue::Text(value.to_string()),
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            CompiledValue::Text(fold(value, true))
        }
        StringLike | StringNotLike => CompiledValue::Pattern(Wildcard::new(value, false)),
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            parse_number(value).map_or(CompiledValue::Invalid, CompiledValue::Number)
        }
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            parse_date(value).map_or(CompiledValue::Invalid, CompiledValue::Date)
        }
        Bool | Null => parse_bool(value).map_or(CompiledValue::Invalid, CompiledValue::Bool),
        IpAddress | NotIpAddress => {
            IpNet::parse(value).map_or(CompiledValue::Invalid, CompiledValue::Ip)
        }
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
            arn_value(&[Piece::Pattern(value.to_string())])
        }
    }
}

fn prepare_pieces(
    op: BaseOperator,
    template: &Template,
    context: &RequestContext,
) -> CompiledValue {
    use BaseOperator::*;
    match op {
        StringLike | StringNotLike => match template.resolve_wildcard(context, false) {
            Some(w) => CompiledValue::Pattern(w),
            None => CompiledValue::Invalid,
        },
        ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => match template.resolve_pieces(context) {
            Some(pieces) => arn_value(&pieces),
            None => CompiledValue::Invalid,
        },
        _ => match template.resolve_text(context) {
            Some(text) => prepare(op, &text),
            None => CompiledValue::Invalid,
        },
    }
}

/// An `Arn*` condition value: unlike `Resource`, it must have all six parts.
fn arn_value(pieces: &[Piece]) -> CompiledValue {
    let text: String = pieces
        .iter()
        .map(|p| match p {
            Piece::Pattern(t) | Piece::Literal(t) => t.as_str(),
        })
        .collect();
    if ArnParts::parse(&text).is_none() {
        return CompiledValue::Invalid;
    }
    CompiledValue::Arn(ArnPattern::from_pieces(pieces))
}

/// Parses an IAM number (integer or decimal).
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Parses an IAM date into milliseconds since the Unix epoch: ISO 8601 (`2024-01-01`,
/// `2024-01-01T12:00:00Z`, with fractions or a `+02:00` offset) or a Unix epoch number. Epoch
/// numbers are seconds, as AWS writes `aws:EpochTime`; numbers too large to be seconds in any
/// plausible year (more than 11 digits) are read as milliseconds.
pub fn parse_date(text: &str) -> Option<i128> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let n: i128 = t.parse().ok()?;
        return Some(if t.len() > 11 { n } else { n * 1000 });
    }
    parse_iso8601(t)
}

fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    if s.len() < n || !s.as_bytes()[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

fn parse_iso8601(s: &str) -> Option<i128> {
    let (year, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms: i128 = 0;
    let mut offset_minutes: i64 = 0;
    if !rest.is_empty() {
        let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
        let (hour, rest) = digits(rest, 2)?;
        let rest = rest.strip_prefix(':')?;
        let (minute, mut rest) = digits(rest, 2)?;
        let mut second = 0;
        if let Some(r) = rest.strip_prefix(':') {
            let (s, r) = digits(r, 2)?;
            second = s;
            rest = r;
            if let Some(r) = rest.strip_prefix('.') {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                let frac = &r[..n.min(3)];
                let padded = format!("{frac:0<3}");
                ms = padded.parse::<i128>().ok()?;
                rest = &r[n..];
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        match rest {
            "Z" | "z" | "" => {}
            _ => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let (oh, r) = digits(&rest[1..], 2)?;
                let r = r.strip_prefix(':').unwrap_or(r);
                let (om, r) = digits(r, 2)?;
                if !r.is_empty() {
                    return None;
                }
                offset_minutes = sign * (oh * 60 + om);
            }
        }
        ms += i128::from(((hour * 60 + minute - offset_minutes) * 60 + second) * 1000);
    }
    let days = days_from_civil(year, month, day);
    Some(i128::from(days) * 86_400_000 + ms)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The outcome of comparing one request value with one policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Match,
    NoMatch,
    /// One side cannot be read for this operator: never a match, and never satisfies a negation.
    Invalid,
}

impl CompiledCondition {
    /// The lowercased condition key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> ConditionOperator {
        self.operator
    }

    /// Evaluates against the request context.
    pub fn evaluate(&self, context: &RequestContext) -> bool {
        let op = self.operator;
        let present = context.get_lowercase(&self.key);
        if op.base == BaseOperator::Null {
            let is_absent =
                present.is_none_or(|v| matches!(v, ContextValue::Multi(vs) if vs.is_empty()));
            return self
                .values
                .iter()
                .any(|v| matches!(v, CompiledValue::Bool(b) if *b == is_absent));
        }
        let negated = op.base.is_negated();
        let Some(value) = present else {
            return match op.set {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => op.if_exists,
                None => op.if_exists || negated,
            };
        };
        let values = value.values();
        match op.set {
            None => {
                if values.is_empty() {
                    return op.if_exists || negated;
                }
                if negated {
                    values.iter().all(|v| self.negated_holds(v, context))
                } else {
                    values.iter().any(|v| self.positive_holds(v, context))
                }
            }
            Some(SetQualifier::ForAnyValue) => values.iter().any(|v| self.single_holds(v, context)),
            Some(SetQualifier::ForAllValues) => {
                values.iter().all(|v| self.single_holds(v, context))
            }
        }
    }

    fn single_holds(&self, value: &str, context: &RequestContext) -> bool {
        if self.operator.base.is_negated() {
            self.negated_holds(value, context)
        } else {
            self.positive_holds(value, context)
        }
    }

    /// Positive operators: some policy value matches.
    fn positive_holds(&self, value: &str, context: &RequestContext) -> bool {
        let request = RequestValue::new(self.operator.base, value);
        self.values
            .iter()
            .any(|p| self.compare(p, &request, context) == Cmp::Match)
    }

    /// Negated operators: every comparison is valid and none matches.
    fn negated_holds(&self, value: &str, context: &RequestContext) -> bool {
        let request = RequestValue::new(self.operator.base, value);
        self.values
            .iter()
            .all(|p| self.compare(p, &request, context) == Cmp::NoMatch)
    }

    fn compare(
        &self,
        policy: &CompiledValue,
        request: &RequestValue<'_>,
        context: &RequestContext,
    ) -> Cmp {
        if let CompiledValue::Variable(t) = policy {
            let resolved = prepare_pieces(self.operator.base, t, context);
            return compare_prepared(self.operator.base, &resolved, request);
        }
        compare_prepared(self.operator.base, policy, request)
    }
}

/// A request value converted once for the operator's family.
enum RequestValue<'a> {
    Text(&'a str),
    Folded(String),
    Number(Option<f64>),
    Date(Option<i128>),
    Bool(Option<bool>),
    Ip(Option<IpAddr>),
    Arn(&'a str, Option<ArnParts<'a>>),
}

impl<'a> RequestValue<'a> {
    fn new(op: BaseOperator, value: &'a str) -> Self {
        use BaseOperator::*;
        match op {
            StringEquals | StringNotEquals | StringLike | StringNotLike | BinaryEquals => {
                RequestValue::Text(value)
            }
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                RequestValue::Folded(fold(value, true))
            }
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => RequestValue::Number(parse_number(value)),
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => RequestValue::Date(parse_date(value)),
            Bool | Null => RequestValue::Bool(parse_bool(value)),
            IpAddress | NotIpAddress => RequestValue::Ip(value.trim().parse().ok()),
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                RequestValue::Arn(value, ArnParts::parse(value))
            }
        }
    }
}

fn cmp(b: bool) -> Cmp {
    if b { Cmp::Match } else { Cmp::NoMatch }
}

fn compare_prepared(op: BaseOperator, policy: &CompiledValue, request: &RequestValue<'_>) -> Cmp {
    use BaseOperator::*;
    match (policy, request) {
        (CompiledValue::Text(p), RequestValue::Text(r)) => cmp(p == r),
        (CompiledValue::Text(p), RequestValue::Folded(r)) => cmp(p == r),
        (CompiledValue::Pattern(p), RequestValue::Text(r)) => cmp(p.matches(r)),
        (CompiledValue::Number(p), RequestValue::Number(Some(r))) => cmp(match op {
            NumericEquals | NumericNotEquals => r == p,
            NumericLessThan => r < p,
            NumericLessThanEquals => r <= p,
            NumericGreaterThan => r > p,
            NumericGreaterThanEquals => r >= p,
            _ => false,
        }),
        (CompiledValue::Date(p), RequestValue::Date(Some(r))) => cmp(match op {
            DateEquals | DateNotEquals => r == p,
            DateLessThan => r < p,
            DateLessThanEquals => r <= p,
            DateGreaterThan => r > p,
            DateGreaterThanEquals => r >= p,
            _ => false,
        }),
        (CompiledValue::Bool(p), RequestValue::Bool(Some(r))) => cmp(p == r),
        (CompiledValue::Ip(net), RequestValue::Ip(Some(ip))) => cmp(net.contains(ip)),
        (CompiledValue::Arn(p), RequestValue::Arn(text, Some(parts))) => {
            cmp(p.matches(text, Some(parts)))
        }
        _ => Cmp::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-01-01"), Some(1_704_067_200_000));
        assert_eq!(parse_date("2024-01-01T00:00:00Z"), Some(1_704_067_200_000));
        assert_eq!(
            parse_date("2024-01-01T02:00:00+02:00"),
            Some(1_704_067_200_000)
        );
        assert_eq!(
            parse_date("2024-01-01T00:00:00.5Z"),
            Some(1_704_067_200_500)
        );
        assert_eq!(parse_date("1704067200"), Some(1_704_067_200_000));
        assert_eq!(parse_date("1704067200000"), Some(1_704_067_200_000));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("not a date"), None);
    }

    #[test]
    fn networks() {
        let net = IpNet::parse("192.168.0.0/16").unwrap();
        assert!(net.contains(&"192.168.10.10".parse().unwrap()));
        assert!(!net.contains(&"192.169.0.1".parse().unwrap()));
        assert!(
            IpNet::parse("0.0.0.0/0")
                .unwrap()
                .contains(&"8.8.8.8".parse().unwrap())
        );
        assert_eq!(IpNet::parse("10.0.0.0/33"), None);
        assert!(
            IpNet::parse("2001:db8::/32")
                .unwrap()
                .contains(&"2001:db8:85a3::1".parse().unwrap())
        );
    }
}
