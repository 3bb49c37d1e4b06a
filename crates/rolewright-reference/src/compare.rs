//! Comparing names the way IAM does, ignoring ASCII case, and measuring how far apart two names
//! are for "did you mean" suggestions.

use std::cmp::Ordering;

/// Orders names by their ASCII-lowercase bytes, the order of every sorted list in the snapshot.
pub(crate) fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    // A plain loop: this runs for every record when the snapshot loads, and in every lookup.
    for (x, y) in a.bytes().zip(b.bytes()) {
        if x != y {
            let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
            if x != y {
                return x.cmp(&y);
            }
        }
    }
    a.len().cmp(&b.len())
}

/// Sorts `items` by name ignoring case, unless they already are (the snapshot's lines are), and
/// returns the first name that appears twice.
pub(crate) fn sort_unique<T>(
    items: &mut [T],
    name: impl Fn(&T) -> &'static str,
) -> Option<&'static str> {
    let increasing = |items: &[T]| {
        items
            .windows(2)
            .all(|w| cmp_ignore_case(name(&w[0]), name(&w[1])) == Ordering::Less)
    };
    if increasing(items) {
        return None;
    }
    items.sort_by(|a, b| cmp_ignore_case(name(a), name(b)));
    items
        .windows(2)
        .find(|w| cmp_ignore_case(name(&w[0]), name(&w[1])) == Ordering::Equal)
        .map(|w| name(&w[1]))
}

/// Whether `text` begins with `prefix`, ignoring ASCII case.
pub(crate) fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Levenshtein distance over ASCII-lowercase bytes (names are ASCII).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(!ca.eq_ignore_ascii_case(cb));
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The candidate nearest to `query`, if it is near enough to be a likely misspelling: at most a
/// third of the query's length away (and at least one edit allowed). Ties go to the first.
pub(crate) fn closest<'c, T>(
    query: &str,
    candidates: impl IntoIterator<Item = (&'c str, T)>,
) -> Option<T> {
    let limit = (query.len() / 3).max(1);
    let mut best: Option<(usize, T)> = None;
    for (name, item) in candidates {
        // A length gap alone can rule a candidate out without the quadratic distance.
        if name.len().abs_diff(query.len()) > limit {
            continue;
        }
        let d = distance(query, name);
        if d <= limit && best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, item));
        }
    }
    best.map(|(_, item)| item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_ignores_case() {
        assert_eq!(cmp_ignore_case("S3", "s3"), Ordering::Equal);
        assert_eq!(cmp_ignore_case("Sagemaker", "s3"), Ordering::Greater);
        assert_eq!(cmp_ignore_case("a", "a-b"), Ordering::Less);
        assert!(starts_with_ignore_case("sagemaker:Describe", "SageMaker:"));
        assert!(!starts_with_ignore_case("s3", "s3:"));
    }

    #[test]
    fn distance_counts_edits_ignoring_case() {
        assert_eq!(distance("sagemkr", "sagemaker"), 2);
        assert_eq!(distance("CreateTrainingJobs", "createtrainingjob"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_refuses_far_candidates() {
        let names = [("sagemaker", 1), ("s3", 2), ("secretsmanager", 3)];
        assert_eq!(closest("sagemkr", names), Some(1));
        assert_eq!(closest("s4", names), Some(2));
        assert_eq!(closest("dynamodb", names), None);
    }
}
