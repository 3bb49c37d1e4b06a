//! IAM wildcard patterns (`*` any run of characters, `?` exactly one), compiled once into the
//! cheapest matcher that fits: everything, an exact string, a prefix, a suffix, or a general
//! pattern matched with single-star backtracking (linear for the patterns IAM users write).
//!
//! IAM's rules differ from shell globs: there are no character classes or escapes, `*` crosses
//! `/` and `:`, and `?` is one character. Values substituted from policy variables are literal
//! text even when they contain `*` or `?`, which is why patterns are built from [`Piece`]s.

/// One element of a pattern before compilation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text in which `*` and `?` are wildcards.
    Pattern(String),
    /// Text matched literally, even `*` and `?`.
    Literal(String),
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    kind: Kind,
    ignore_case: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Everything,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    General(Box<[Elem]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Byte(u8),
    One,
    Many,
}

impl Wildcard {
    /// Compiles a pattern in which `*` and `?` are wildcards.
    pub fn new(pattern: &str, ignore_case: bool) -> Self {
        // Fast paths for the shapes policies are made of: `s3:GetObject`, `s3:Get*`, `*`.
        let kind = match pattern.find(['*', '?']) {
            None => Some(Kind::Exact(fold(pattern, ignore_case).into())),
            Some(i) if i + 1 == pattern.len() && pattern.ends_with('*') => Some(if i == 0 {
                Kind::Everything
            } else {
                Kind::Prefix(fold(&pattern[..i], ignore_case).into())
            }),
            _ => None,
        };
        match kind {
            Some(kind) => Wildcard { kind, ignore_case },
            None => Self::from_pieces(&[Piece::Pattern(pattern.to_string())], ignore_case),
        }
    }

    /// Compiles a pattern that matches only `text` itself.
    pub fn literal(text: &str, ignore_case: bool) -> Self {
        Self::from_pieces(&[Piece::Literal(text.to_string())], ignore_case)
    }

    /// Compiles a pattern made of wildcard and literal pieces.
    pub fn from_pieces(pieces: &[Piece], ignore_case: bool) -> Self {
        let mut elems = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Pattern(p) => {
                    let p = fold(p, ignore_case);
                    for b in p.bytes() {
                        match b {
                            b'*' => {
                                if elems.last() != Some(&Elem::Many) {
                                    elems.push(Elem::Many);
                                }
                            }
                            b'?' => elems.push(Elem::One),
                            _ => elems.push(Elem::Byte(b)),
                        }
                    }
                }
                Piece::Literal(l) => {
                    elems.extend(fold(l, ignore_case).bytes().map(Elem::Byte));
                }
            }
        }
        Wildcard {
            kind: classify(elems),
            ignore_case,
        }
    }

    /// Whether the pattern matches every string.
    pub fn matches_everything(&self) -> bool {
        self.kind == Kind::Everything
    }

    /// Whether the pattern is plain text with no wildcard.
    pub fn exact_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Exact(s) => Some(s),
            _ => None,
        }
    }

    /// Matches `text`. When the pattern ignores case, `text` is folded here; callers that match
    /// one text against many patterns should fold it once and use [`Wildcard::matches_folded`].
    pub fn matches(&self, text: &str) -> bool {
        if self.ignore_case && text.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
            self.matches_folded(&fold(text, true))
        } else {
            self.matches_folded(text)
        }
    }

    /// Matches `text` that the caller has already folded to lowercase when the pattern ignores case.
    pub fn matches_folded(&self, text: &str) -> bool {
        match &self.kind {
            Kind::Everything => true,
            Kind::Exact(s) => text.len() == s.len() && same_bytes(text.as_bytes(), s.as_bytes()),
            Kind::Prefix(p) => {
                text.len() >= p.len() && same_bytes(&text.as_bytes()[..p.len()], p.as_bytes())
            }
            Kind::Suffix(s) => {
                text.len() >= s.len()
                    && same_bytes(&text.as_bytes()[text.len() - s.len()..], s.as_bytes())
            }
            Kind::General(elems) => general_match(elems, text.as_bytes()),
        }
    }
}

impl Wildcard {
    fn tokens(&self) -> Vec<Elem> {
        let text = |t: &str| t.bytes().map(Elem::Byte).collect::<Vec<_>>();
        match &self.kind {
            Kind::Everything => vec![Elem::Many],
            Kind::Exact(s) => text(s),
            Kind::Prefix(p) => {
                let mut v = text(p);
                v.push(Elem::Many);
                v
            }
            Kind::Suffix(s) => {
                let mut v = vec![Elem::Many];
                v.extend(text(s));
                v
            }
            Kind::General(e) => e.to_vec(),
        }
    }

    /// Whether some string matches both patterns (used when a request names a set of
    /// resources, such as `arn:aws:s3:::bucket/*`, and an `Allow` need only reach part of it).
    pub fn intersects(&self, other: &Wildcard) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Everything, _) | (_, Kind::Everything) => return true,
            (Kind::Exact(t), _) => return other.matches_folded(t),
            (_, Kind::Exact(t)) => return self.matches_folded(t),
            (Kind::Prefix(p), Kind::Prefix(q)) => {
                return p.starts_with(&**q) || q.starts_with(&**p);
            }
            _ => {}
        }
        let (a, b) = (self.tokens(), other.tokens());
        let mut memo = vec![None; (a.len() + 1) * (b.len() + 1)];
        intersect(&a, &b, 0, 0, &mut memo)
    }

    /// Whether every string that matches `other` also matches `self` (a `Deny` applies to a set
    /// of resources only when it covers all of them). `?` in `other` stands for one unknown
    /// character and `*` for any run, so only `*` and `?` in `self` can absorb them.
    pub fn covers(&self, other: &Wildcard) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Everything, _) => return true,
            (_, Kind::Exact(t)) => return self.matches_folded(t),
            (Kind::Exact(_), _) | (_, Kind::Everything) => return false,
            (Kind::Prefix(p), Kind::Prefix(q)) => return q.starts_with(&**p),
            _ => {}
        }
        let (a, b) = (self.tokens(), other.tokens());
        let mut memo = vec![None; (a.len() + 1) * (b.len() + 1)];
        cover(&a, &b, 0, 0, &mut memo)
    }
}

fn intersect(a: &[Elem], b: &[Elem], i: usize, j: usize, memo: &mut [Option<bool>]) -> bool {
    let slot = i * (b.len() + 1) + j;
    if let Some(r) = memo[slot] {
        return r;
    }
    let r = match (a.get(i), b.get(j)) {
        (None, None) => true,
        (Some(Elem::Many), _) => {
            intersect(a, b, i + 1, j, memo) || (j < b.len() && intersect(a, b, i, j + 1, memo))
        }
        (_, Some(Elem::Many)) => {
            intersect(a, b, i, j + 1, memo) || (i < a.len() && intersect(a, b, i + 1, j, memo))
        }
        (Some(x), Some(y)) => {
            let compatible = match (x, y) {
                (Elem::Byte(p), Elem::Byte(q)) => p == q,
                _ => true,
            };
            compatible && intersect(a, b, i + 1, j + 1, memo)
        }
        _ => false,
    };
    memo[slot] = Some(r);
    r
}

fn cover(a: &[Elem], b: &[Elem], i: usize, j: usize, memo: &mut [Option<bool>]) -> bool {
    let slot = i * (b.len() + 1) + j;
    if let Some(r) = memo[slot] {
        return r;
    }
    let r = match (a.get(i), b.get(j)) {
        (None, None) => true,
        (Some(Elem::Many), _) => {
            cover(a, b, i + 1, j, memo) || (j < b.len() && cover(a, b, i, j + 1, memo))
        }
        (Some(Elem::One), Some(Elem::Byte(_) | Elem::One)) => cover(a, b, i + 1, j + 1, memo),
        (Some(Elem::Byte(p)), Some(Elem::Byte(q))) => p == q && cover(a, b, i + 1, j + 1, memo),
        _ => false,
    };
    memo[slot] = Some(r);
    r
}

/// Folds text for case-insensitive comparison.
pub fn fold(text: &str, ignore_case: bool) -> String {
    if !ignore_case {
        text.to_string()
    } else if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

fn classify(elems: Vec<Elem>) -> Kind {
    let text_of = |e: &[Elem]| -> Option<String> {
        let bytes: Option<Vec<u8>> = e
            .iter()
            .map(|x| match x {
                Elem::Byte(b) => Some(*b),
                _ => None,
            })
            .collect();
        bytes.and_then(|b| String::from_utf8(b).ok())
    };
    match elems.as_slice() {
        [Elem::Many] => return Kind::Everything,
        [rest @ .., Elem::Many] => {
            if let Some(prefix) = text_of(rest) {
                return Kind::Prefix(prefix.into());
            }
        }
        [Elem::Many, rest @ ..] => {
            if let Some(suffix) = text_of(rest) {
                return Kind::Suffix(suffix.into());
            }
        }
        all => {
            if let Some(text) = text_of(all) {
                return Kind::Exact(text.into());
            }
        }
    }
    Kind::General(elems.into())
}

/// Compares two equally long byte strings. Policy texts are short (`aws`, `s3`, a bucket name),
/// where a plain loop beats a call to `memcmp`.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() <= 32 {
        a.iter().zip(b).all(|(x, y)| x == y)
    } else {
        a == b
    }
}

/// Length of the UTF-8 character that starts with byte `b`.
fn char_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// Greedy matching with backtracking to the last `*`: each `*` is retried at most once per text
/// position, so the cost is O(pattern × text) in the worst case and linear in practice.
fn general_match(pattern: &[Elem], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Elem::Byte(b)) if *b == text[t] => {
                p += 1;
                t += 1;
                continue;
            }
            Some(Elem::One) => {
                p += 1;
                t += char_len(text[t]);
                continue;
            }
            Some(Elem::Many) => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                let next = st + char_len(text[st]);
                star = Some((sp, next));
                p = sp + 1;
                t = next;
            }
            None => return false,
        }
    }
    // A character-length step may overshoot on malformed input; treat that as no match.
    if t > text.len() {
        return false;
    }
    pattern[p..].iter().all(|e| *e == Elem::Many)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_wildcards() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything/at:all", true),
            ("s3:Get*", "s3:GetObject", true),
            ("s3:Get*", "s3:Put", false),
            ("*Object", "s3:GetObject", true),
            ("s3:??t*", "s3:GetObject", true),
            ("s3:??t*", "s3:Get", true),
            ("s3:??t*", "s3:Gt", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("a*b?c", "abbbxc", true),
            ("test???value", "test123value", true),
            ("test???value", "test12value", false),
            ("", "", true),
            ("", "a", false),
            ("é?", "éü", true),
            ("*?", "", false),
            ("a**b", "ab", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                Wildcard::new(pattern, false).matches(text),
                *expected,
                "{pattern} vs {text}"
            );
        }
    }

    type Walk = fn(&[Elem], &[Elem], usize, usize, &mut [Option<bool>]) -> bool;

    #[test]
    fn intersections_and_covers() {
        let w = |p: &str| Wildcard::new(p, false);
        assert!(w("*/AWSLogs/*").intersects(&w("example-bucket/*")));
        assert!(w("*/*.iso").intersects(&w("example-bucket/*")));
        assert!(!w("other-bucket/*").intersects(&w("example-bucket/*")));
        assert!(w("a?c").intersects(&w("*c")));
        assert!(w("*").covers(&w("example-bucket/*")));
        assert!(w("example-*").covers(&w("example-bucket/*")));
        assert!(!w("*/AWSLogs/*").covers(&w("example-bucket/*")));
        assert!(!w("photo.jpg").covers(&w("*")));
        assert!(w("a?c").covers(&w("a?c")));
        assert!(!w("abc").covers(&w("a?c")));
        // The shortcuts agree with the general algorithm.
        for (p, q) in [
            ("ab*", "a*"),
            ("a*", "ab*"),
            ("ab*", "ac*"),
            ("abc", "ab*"),
            ("*", "x?"),
            ("x?", "*"),
        ] {
            let (p, q) = (w(p), w(q));
            let general = |f: Walk| {
                let (a, b) = (p.tokens(), q.tokens());
                let mut memo = vec![None; (a.len() + 1) * (b.len() + 1)];
                f(&a, &b, 0, 0, &mut memo)
            };
            assert_eq!(p.intersects(&q), general(intersect), "{p:?} ∩ {q:?}");
            assert_eq!(p.covers(&q), general(cover), "{p:?} ⊇ {q:?}");
        }
    }

    #[test]
    fn case_folding() {
        let w = Wildcard::new("S3:get*", true);
        assert!(w.matches("s3:GetObject"));
        assert!(!Wildcard::new("S3:get*", false).matches("s3:GetObject"));
    }

    #[test]
    fn literal_pieces_do_not_expand() {
        let w = Wildcard::from_pieces(
            &[Piece::Pattern("test".into()), Piece::Literal("Bob*".into())],
            false,
        );
        assert!(w.matches("testBob*"));
        assert!(!w.matches("testBobTwo"));
    }

    #[test]
    fn compiles_to_the_cheapest_matcher() {
        assert!(Wildcard::new("**", false).matches_everything());
        assert_eq!(Wildcard::new("abc", false).exact_text(), Some("abc"));
        assert_eq!(Wildcard::new("ab*", false).kind, Kind::Prefix("ab".into()));
        assert_eq!(Wildcard::new("*ab", false).kind, Kind::Suffix("ab".into()));
    }
}
