//! Dependency order: each node after the nodes it depends on, ties kept in template order, and
//! a cycle reported by its members.

use std::collections::{BTreeMap, BTreeSet};

/// `nodes` in an order where each comes after its dependencies (`edges`: node → the nodes it
/// depends on; edges to unknown nodes are ignored). Among nodes that are ready together, the
/// template's order wins. On a cycle: its members, in template order.
pub(crate) fn order(
    nodes: &[&str],
    edges: &BTreeMap<String, BTreeSet<String>>,
) -> Result<Vec<String>, Vec<String>> {
    let known: BTreeSet<&str> = nodes.iter().copied().collect();
    let deps = |n: &str| -> Vec<&str> {
        edges
            .get(n)
            .map(|d| {
                d.iter()
                    .map(String::as_str)
                    .filter(|d| known.contains(d))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(nodes.len());
    while out.len() < nodes.len() {
        let next = nodes
            .iter()
            .find(|n| !placed.contains(*n) && deps(n).iter().all(|d| placed.contains(d)));
        match next {
            Some(n) => {
                placed.insert(n);
                out.push((*n).to_string());
            }
            None => {
                let remaining: Vec<&str> = nodes
                    .iter()
                    .copied()
                    .filter(|n| !placed.contains(n))
                    .collect();
                return Err(cycle_members(&remaining, &deps));
            }
        }
    }
    Ok(out)
}

/// The members of the first cycle among `remaining` (every one of which is on a cycle or
/// depends on one): the strongly connected component, with more than one node or a self
/// reference, of the first node that has one.
fn cycle_members<'a>(remaining: &[&'a str], deps: &impl Fn(&str) -> Vec<&'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = remaining.iter().copied().collect();
    let reach = |from: &'a str| -> BTreeSet<&'a str> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            for d in deps(n) {
                if set.contains(d) && seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&str, BTreeSet<&str>> =
        remaining.iter().map(|n| (*n, reach(n))).collect();
    for n in remaining {
        if reachable[n].contains(n) {
            return remaining
                .iter()
                .filter(|m| *m == n || (reachable[n].contains(*m) && reachable[*m].contains(n)))
                .map(|m| (*m).to_string())
                .collect();
        }
    }
    remaining.iter().map(|m| (*m).to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(pairs: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        pairs
            .iter()
            .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_ties_keep_template_order() {
        let e = edges(&[("A", &["C"]), ("B", &[]), ("C", &["B"])]);
        assert_eq!(order(&["A", "B", "C"], &e).unwrap(), ["B", "C", "A"]);
    }

    #[test]
    fn a_cycle_is_named_by_its_members_only() {
        let e = edges(&[("A", &["B"]), ("B", &["C"]), ("C", &["B"]), ("D", &["D"])]);
        assert_eq!(order(&["A", "B", "C", "D"], &e).unwrap_err(), ["B", "C"]);
        assert_eq!(order(&["D"], &e).unwrap_err(), ["D"]);
    }
}
