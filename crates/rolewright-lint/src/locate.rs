//! Gives findings the line and column of the element their JSON path names.

use rolewright_iam::json::{self, JsonValue, Limits, Location, Spanned};

use crate::Finding;

/// Fills in `line`/`column` of findings that lack them, by following each path in the
/// document's JSON tree (the text is read once, only when some finding needs a location).
pub fn attach(text: &str, findings: &mut [Finding]) {
    if findings.iter().all(|f| f.line.is_some()) {
        return;
    }
    let Ok(root) = json::parse(text, Limits::default()) else {
        return;
    };
    for finding in findings.iter_mut().filter(|f| f.line.is_none()) {
        if let Some(location) = find(&root, &finding.path) {
            finding.line = Some(location.line);
            finding.column = Some(location.column);
        }
    }
}

/// The location of `path` (`Statement[0].Condition.StringEquals.aws:username`, `#Key` for a
/// key itself) in `root`. Keys may contain `.`, so each step takes the longest key that fits.
fn find(root: &Spanned, path: &str) -> Option<Location> {
    let mut node = root;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let (index, tail) = after.split_once(']')?;
            let JsonValue::Array(items) = &node.value else {
                return None;
            };
            node = items.get(index.parse::<usize>().ok()?)?;
            rest = tail.strip_prefix('.').unwrap_or(tail);
            continue;
        }
        let JsonValue::Object(members) = &node.value else {
            return None;
        };
        let (want_key, body) = match rest.strip_prefix('#') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let (key, key_location, child) = members
            .iter()
            .filter(|(k, _, _)| {
                body.starts_with(k.as_str())
                    && matches!(body.as_bytes().get(k.len()), None | Some(b'.' | b'['))
            })
            .max_by_key(|(k, _, _)| k.len())?;
        if want_key {
            return Some(*key_location);
        }
        node = child;
        rest = &body[key.len()..];
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    Some(node.location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_locations() {
        let text = "{\"Statement\": [\n {\"Condition\": {\"StringEquals\": {\"a.b:c\": [\"x\", \"y\"]}}}\n]}";
        let root = json::parse(text, Limits::default()).unwrap();
        let at = |p: &str| find(&root, p).map(|l| (l.line, l.column));
        assert_eq!(
            at("Statement[0].Condition.StringEquals.a.b:c[1]"),
            Some((2, 49))
        );
        assert_eq!(at("Statement[0].#Condition"), Some((2, 3)));
        assert_eq!(at(""), Some((1, 1)));
        assert_eq!(at("Statement[3]"), None);
    }
}
