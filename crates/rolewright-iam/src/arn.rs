//! Amazon Resource Names: splitting into their six parts and matching ARN patterns part by part.
//!
//! IAM matches `arn:partition:service:region:account:resource` one part at a time: a wildcard in
//! the region never spills into the account, while the resource part (which may itself hold
//! `:` and `/`) is matched as a whole.

use crate::variable::Template;
use crate::wildcard::{Piece, Wildcard};

/// The six parts of an ARN, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnParts<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: &'a str,
    /// The service prefix (`s3`, `iam`).
    pub service: &'a str,
    /// The region, often empty.
    pub region: &'a str,
    /// The account id, often empty.
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

impl<'a> ArnParts<'a> {
    /// Splits `text` when it is an ARN (`arn:` followed by at least five more `:`-separated parts).
    pub fn parse(text: &'a str) -> Option<ArnParts<'a>> {
        let rest = text.strip_prefix("arn:")?;
        // Find the first four `:` of the rest with a plain byte loop: this runs once per
        // request and per ARN condition value, on short ASCII strings.
        let bytes = rest.as_bytes();
        let mut colons = [0usize; 4];
        let mut found = 0;
        for (i, b) in bytes.iter().enumerate() {
            if *b == b':' {
                colons[found] = i;
                found += 1;
                if found == 4 {
                    break;
                }
            }
        }
        if found < 4 {
            return None;
        }
        Some(ArnParts {
            partition: &rest[..colons[0]],
            service: &rest[colons[0] + 1..colons[1]],
            region: &rest[colons[1] + 1..colons[2]],
            account: &rest[colons[2] + 1..colons[3]],
            resource: &rest[colons[3] + 1..],
        })
    }

    /// The parts in order, without the `arn` prefix.
    pub fn segments(&self) -> [&'a str; 5] {
        [
            self.partition,
            self.service,
            self.region,
            self.account,
            self.resource,
        ]
    }
}

/// A compiled ARN pattern (from a `Resource` element or an `Arn*` condition value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnPattern {
    /// `*`: every resource.
    Everything,
    /// Six-part ARN pattern, matched part by part.
    Parts(Box<[Wildcard; 5]>),
    /// The same for the common case of parts that are plain text, a prefix, a suffix or `*`,
    /// kept in one allocation so that matching touches one cache line instead of five.
    Compact(CompactArn),
    /// Not ARN-shaped: matched as one wildcard over the whole text.
    Whole(Wildcard),
}

impl ArnPattern {
    /// Compiles a pattern in which `*` and `?` are wildcards.
    pub fn new(pattern: &str) -> ArnPattern {
        if pattern == "*" {
            return ArnPattern::Everything;
        }
        // The common case, a full six-part ARN, is split in place; the rest (short ARNs,
        // non-ARN text) goes through the general path.
        if let Some(parts) = ArnParts::parse(pattern) {
            if let Some(compact) = CompactArn::new(&parts) {
                return ArnPattern::Compact(compact);
            }
            let [a, b, c, d, e] = parts.segments().map(|s| Wildcard::new(s, false));
            return ArnPattern::Parts(Box::new([a, b, c, d, e]));
        }
        Self::from_pieces(&[Piece::Pattern(pattern.to_string())])
    }

    /// Compiles a pattern from wildcard and literal pieces (after variable substitution).
    pub fn from_pieces(pieces: &[Piece]) -> ArnPattern {
        if let [Piece::Pattern(p)] = pieces
            && p == "*"
        {
            return ArnPattern::Everything;
        }
        // Split the pieces at the first five `:` in pattern text and substituted text alike:
        // IAM substitutes variables before it splits an ARN.
        let mut segments: Vec<Vec<Piece>> = vec![Vec::new()];
        for piece in pieces {
            let (text, literal) = match piece {
                Piece::Pattern(t) => (t.as_str(), false),
                Piece::Literal(t) => (t.as_str(), true),
            };
            let mut rest = text;
            while segments.len() < 6 {
                match rest.find(':') {
                    Some(i) => {
                        push_piece(segments.last_mut(), &rest[..i], literal);
                        segments.push(Vec::new());
                        rest = &rest[i + 1..];
                    }
                    None => break,
                }
            }
            push_piece(segments.last_mut(), rest, literal);
        }
        let is_arn = segments.len() >= 2
            && matches!(segments[0].as_slice(), [Piece::Pattern(p)] if p == "arn");
        if !is_arn {
            return ArnPattern::Whole(Wildcard::from_pieces(pieces, false));
        }
        // IAM reads a shortened ARN (`arn:aws:sqs:us-east-1`) as if the missing parts were `*`.
        while segments.len() < 6 {
            segments.push(vec![Piece::Pattern("*".to_string())]);
        }
        let compiled: Vec<Wildcard> = segments[1..]
            .iter()
            .map(|s| Wildcard::from_pieces(s, false))
            .collect();
        match <[Wildcard; 5]>::try_from(compiled) {
            Ok(parts) => ArnPattern::Parts(Box::new(parts)),
            Err(_) => ArnPattern::Whole(Wildcard::from_pieces(pieces, false)),
        }
    }

    /// How the pattern relates to a request resource that is itself a pattern: `covers` asks
    /// whether every resource in the request's set matches, otherwise whether some does.
    pub fn relates_to(&self, request: &str, covers: bool) -> bool {
        if let ArnPattern::Everything = self {
            return true;
        }
        // A request for `*` (every resource) overlaps every pattern and is covered only by `*`.
        if request == "*" {
            return !covers;
        }
        let request_parts = ArnParts::parse(request);
        match self {
            ArnPattern::Everything => true,
            ArnPattern::Compact(compact) => match request_parts {
                Some(r) => r.segments().iter().enumerate().all(|(i, segment)| {
                    if segment.contains(['*', '?']) {
                        relate(&compact.wildcard(i), segment, covers)
                    } else {
                        compact.segment_matches(i, segment)
                    }
                }),
                None => false,
            },
            ArnPattern::Parts(parts) => match request_parts {
                Some(r) => parts
                    .iter()
                    .zip(r.segments())
                    .all(|(p, segment)| relate(p, segment, covers)),
                None => false,
            },
            ArnPattern::Whole(w) => relate(w, request, covers),
        }
    }

    /// Whether the pattern is ARN-shaped (six parts).
    pub fn is_arn(&self) -> bool {
        matches!(self, ArnPattern::Parts(_) | ArnPattern::Compact(_))
    }

    /// Matches a resource; `arn` is the resource already split when it is an ARN.
    pub fn matches(&self, text: &str, arn: Option<&ArnParts<'_>>) -> bool {
        match self {
            ArnPattern::Everything => true,
            ArnPattern::Compact(compact) => arn.is_some_and(|arn| compact.matches(arn)),
            ArnPattern::Parts(parts) => match arn {
                // The resource part tells resources apart best, so it is tried first.
                Some(arn) => {
                    let segments = arn.segments();
                    [4, 1, 3, 2, 0]
                        .into_iter()
                        .all(|i| parts[i].matches_folded(segments[i]))
                }
                None => false,
            },
            ArnPattern::Whole(w) => w.matches_folded(text),
        }
    }
}

/// Whether pattern `p` reaches some (or, with `covers`, every) string matching `request`.
fn relate(p: &Wildcard, request: &str, covers: bool) -> bool {
    if !request.contains(['*', '?']) {
        // A plain request part is one string: overlap and cover are both a match.
        return p.matches_folded(request);
    }
    let q = Wildcard::new(request, false);
    if covers {
        p.covers(&q)
    } else {
        p.intersects(&q)
    }
}

/// How one ARN part is matched, as a byte range of [`CompactArn::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Everything,
    Exact(u16, u16),
    Prefix(u16, u16),
    Suffix(u16, u16),
}

/// A six-part ARN pattern whose parts need no general wildcard matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactArn {
    text: Box<str>,
    segments: [Segment; 5],
}

impl CompactArn {
    fn new(parts: &ArnParts<'_>) -> Option<CompactArn> {
        let mut text = String::new();
        let mut segments = [Segment::Everything; 5];
        for (slot, part) in segments.iter_mut().zip(parts.segments()) {
            let wild = part.matches(['*', '?']).count();
            let start = u16::try_from(text.len()).ok()?;
            let (literal, kind): (&str, fn(u16, u16) -> Segment) = if wild == 0 {
                (part, Segment::Exact)
            } else if part == "*" {
                *slot = Segment::Everything;
                continue;
            } else if wild == 1 && part.ends_with('*') {
                (&part[..part.len() - 1], Segment::Prefix)
            } else if wild == 1 && part.starts_with('*') {
                (&part[1..], Segment::Suffix)
            } else {
                return None;
            };
            text.push_str(literal);
            *slot = kind(start, u16::try_from(text.len()).ok()?);
        }
        Some(CompactArn {
            text: text.into_boxed_str(),
            segments,
        })
    }

    fn matches(&self, arn: &ArnParts<'_>) -> bool {
        let parts = arn.segments();
        // The resource part tells resources apart best, so it is tried first.
        [4, 1, 3, 2, 0]
            .into_iter()
            .all(|i| self.segment_matches(i, parts[i]))
    }

    fn literal(&self, a: u16, b: u16) -> &str {
        &self.text[usize::from(a)..usize::from(b)]
    }

    fn segment_matches(&self, i: usize, part: &str) -> bool {
        let part = part.as_bytes();
        match self.segments[i] {
            Segment::Everything => true,
            Segment::Exact(a, b) => part == self.literal(a, b).as_bytes(),
            Segment::Prefix(a, b) => part.starts_with(self.literal(a, b).as_bytes()),
            Segment::Suffix(a, b) => part.ends_with(self.literal(a, b).as_bytes()),
        }
    }

    /// Part `i` as a general wildcard, for comparisons with request patterns.
    fn wildcard(&self, i: usize) -> Wildcard {
        match self.segments[i] {
            Segment::Everything => Wildcard::new("*", false),
            Segment::Exact(a, b) => Wildcard::literal(self.literal(a, b), false),
            Segment::Prefix(a, b) => Wildcard::new(&format!("{}*", self.literal(a, b)), false),
            Segment::Suffix(a, b) => Wildcard::new(&format!("*{}", self.literal(a, b)), false),
        }
    }
}

fn push_piece(segment: Option<&mut Vec<Piece>>, text: &str, literal: bool) {
    if let Some(segment) = segment
        && !text.is_empty()
    {
        segment.push(if literal {
            Piece::Literal(text.to_string())
        } else {
            Piece::Pattern(text.to_string())
        });
    }
}

/// An ARN pattern that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnTemplate {
    /// No variables: compiled once.
    Fixed(ArnPattern),
    /// Variables: compiled per request after substitution.
    Variable(Template),
}

impl ArnTemplate {
    /// Compiles `text`, treating `${...}` as variables only when `variables` is set (policy
    /// version 2012-10-17).
    pub fn new(text: &str, variables: bool) -> ArnTemplate {
        if variables && let Some(t) = Template::parse(text) {
            return ArnTemplate::Variable(t);
        }
        ArnTemplate::Fixed(ArnPattern::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        ArnPattern::new(pattern).matches(text, ArnParts::parse(text).as_ref())
    }

    #[test]
    fn arn_parts() {
        let arn = ArnParts::parse("arn:aws:s3:::bucket/key:with:colons");
        assert_eq!(arn.map(|a| a.resource), Some("bucket/key:with:colons"));
        assert_eq!(ArnParts::parse("arn:aws:s3"), None);
        assert_eq!(ArnParts::parse("bucket"), None);
    }

    #[test]
    fn patterns_match_part_by_part() {
        assert!(m("*", "anything"));
        assert!(m("arn:aws:s3:::my-bucket/*", "arn:aws:s3:::my-bucket/a/b"));
        assert!(!m("arn:aws:s3:::my-bucket/*", "arn:aws:s3:::my-bucket"));
        assert!(m("arn:aws:s3:::*", "arn:aws:s3:::bucket/key:x"));
        assert!(m(
            "arn:???:*:*:*:*",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
        ));
        // A wildcard in the region does not reach into the account.
        assert!(!m(
            "arn:aws:ec2:*:instance/i-1",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
        ));
        assert!(m(
            "arn:aws:sqs:us-east-1",
            "arn:aws:sqs:us-east-1:123456789012:queue"
        ));
        assert!(!m(
            "arn:aws:sqs:us-west-2",
            "arn:aws:sqs:us-east-1:123456789012:queue"
        ));
        assert!(!m(
            "arn:aws:ec2:us-east-1:123456789012:INSTANCE/*",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
        ));
    }

    #[test]
    fn substituted_values_are_split_too() {
        let p = ArnPattern::from_pieces(&[
            Piece::Pattern("arn:aws:iam::".into()),
            Piece::Literal("123456789012:user/bob*".into()),
        ]);
        assert!(p.matches(
            "arn:aws:iam::123456789012:user/bob*",
            ArnParts::parse("arn:aws:iam::123456789012:user/bob*").as_ref()
        ));
        assert!(!p.matches(
            "arn:aws:iam::123456789012:user/bobby",
            ArnParts::parse("arn:aws:iam::123456789012:user/bobby").as_ref()
        ));
    }
}
