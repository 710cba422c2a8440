//! The plan's picture: the subtree a plan affects (OUs and accounts whose attachments,
//! placement or effective denies change, with their ancestors for context), coloured by kind
//! of change, and folded to at most [`MAX_NODES`] nodes for a pull-request comment.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::graph::{ChangeClass, Graph, Node, NodeKind};
use crate::model::{OuPath, TargetRef};
use crate::plan::{Change, Plan};

/// A diagram holds at most this many nodes; above it, accounts are folded per OU, then the
/// deepest nodes into one.
pub const MAX_NODES: usize = 50;

/// At most this many change notes on one node (then "and N more").
const MAX_NOTES: usize = 4;

/// A node of the tree before layout: the root, an OU, or an account (by id, or `new:EMAIL`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Root,
    Ou(OuPath),
    Account(String),
}

fn key_of(t: &TargetRef) -> Key {
    match t {
        TargetRef::Root => Key::Root,
        TargetRef::Ou(p) if p.is_root() => Key::Root,
        TargetRef::Ou(p) => Key::Ou(p.clone()),
        TargetRef::Account(id) => Key::Account(id.clone()),
        TargetRef::NewAccount(email) => Key::Account(format!("new:{email}")),
    }
}

#[derive(Debug, Default)]
struct Mark {
    classes: BTreeSet<ChangeClass>,
    notes: Vec<String>,
    title: Option<String>,
}

/// What the plan changes, per node.
fn marks(plan: &Plan) -> BTreeMap<Key, Mark> {
    let mut out: BTreeMap<Key, Mark> = BTreeMap::new();
    fn put(out: &mut BTreeMap<Key, Mark>, k: Key, class: ChangeClass, note: String) -> &mut Mark {
        let m = out.entry(k).or_default();
        m.classes.insert(class);
        m.notes.push(note);
        m
    }
    for c in &plan.changes {
        match c {
            Change::CreateOu { path } => {
                put(
                    &mut out,
                    Key::Ou(path.clone()),
                    ChangeClass::Created,
                    "created".into(),
                );
            }
            Change::DeleteOu { path, .. } => {
                put(
                    &mut out,
                    Key::Ou(path.clone()),
                    ChangeClass::Deleted,
                    "deleted".into(),
                );
            }
            Change::CreateAccount { key, email, .. } => {
                let k = Key::Account(format!("new:{email}"));
                put(
                    &mut out,
                    k,
                    ChangeClass::Created,
                    format!("created: {email}"),
                )
                .title = Some(key.clone());
            }
            Change::MoveAccount { id, from, .. } => {
                let from = if from.is_root() {
                    "Root".to_owned()
                } else {
                    from.to_string()
                };
                put(
                    &mut out,
                    Key::Account(id.clone()),
                    ChangeClass::Moved,
                    format!("moved from {from}"),
                );
            }
            Change::Attach { policy, target, .. } => {
                put(
                    &mut out,
                    key_of(target),
                    ChangeClass::Policies,
                    format!("+ {policy}"),
                );
            }
            Change::Detach { policy, target, .. } => {
                put(
                    &mut out,
                    key_of(target),
                    ChangeClass::Policies,
                    format!("- {policy}"),
                );
            }
            Change::EnablePolicyType { policy_type } => {
                let note = format!("enable {}", policy_type.api_name());
                put(&mut out, Key::Root, ChangeClass::Policies, note);
            }
            Change::DisablePolicyType { policy_type } => {
                let note = format!("disable {}", policy_type.api_name());
                put(&mut out, Key::Root, ChangeClass::Policies, note);
            }
            _ => {}
        }
    }
    let mut flips: BTreeMap<Key, usize> = BTreeMap::new();
    for e in &plan.effects {
        *flips.entry(key_of(&e.target)).or_default() += 1;
    }
    for (k, n) in flips {
        put(
            &mut out,
            k,
            ChangeClass::Denies,
            format!("{n} request decision(s) flip"),
        );
    }
    out
}

/// Where a node hangs: an OU under its parent OU, an account under the OU it ends up in.
fn parent_of(plan: &Plan, k: &Key) -> Option<Key> {
    match k {
        Key::Root => None,
        Key::Ou(p) => Some(match p.parent() {
            Some(q) if !q.is_root() => Key::Ou(q),
            _ => Key::Root,
        }),
        Key::Account(id) => Some(match plan.account_paths.get(id).and_then(|v| v.last()) {
            Some(p) if !p.is_root() => Key::Ou(p.clone()),
            _ => Key::Root,
        }),
    }
}

fn depth(k: &Key, plan: &Plan) -> usize {
    match k {
        Key::Root => 0,
        Key::Ou(p) => p.depth(),
        Key::Account(_) => parent_of(plan, k).map_or(0, |p| depth(&p, plan) + 1),
    }
}

fn title(plan: &Plan, k: &Key, m: Option<&Mark>) -> (NodeKind, String, Vec<String>) {
    match k {
        Key::Root => (NodeKind::Root, "Root".into(), vec![]),
        Key::Ou(p) => (
            NodeKind::Ou,
            p.name().unwrap_or_default().to_owned(),
            vec![],
        ),
        Key::Account(id) => match (m.and_then(|m| m.title.clone()), plan.account_names.get(id)) {
            (Some(t), _) => (NodeKind::Account, t, vec![]),
            (None, Some(name)) => (NodeKind::Account, name.clone(), vec![id.clone()]),
            (None, None) => (NodeKind::Account, id.clone(), vec![]),
        },
    }
}

/// The affected subtree of a plan, unfolded.
pub fn affected_graph(plan: &Plan) -> Graph {
    let marks = marks(plan);
    let mut keys: BTreeSet<Key> = BTreeSet::new();
    for k in marks.keys() {
        let mut k = Some(k.clone());
        while let Some(cur) = k {
            k = parent_of(plan, &cur);
            keys.insert(cur);
        }
    }
    // Parents first: by depth, then key.
    let mut order: Vec<Key> = keys.into_iter().collect();
    order.sort_by_cached_key(|k| (depth(k, plan), k.clone()));
    let index: BTreeMap<&Key, usize> = order.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let mut g = Graph::default();
    for k in &order {
        let m = marks.get(k);
        let (kind, title, mut lines) = title(plan, k, m);
        if let Some(m) = m {
            lines.extend(m.notes.iter().take(MAX_NOTES).cloned());
            if m.notes.len() > MAX_NOTES {
                lines.push(format!("and {} more", m.notes.len() - MAX_NOTES));
            }
        }
        g.nodes.push(Node {
            kind,
            title,
            lines,
            parent: parent_of(plan, k).and_then(|p| index.get(&p).copied()),
            class: m.and_then(|m| m.classes.first().copied()),
            folded: 0,
        });
    }
    g
}

/// How many nodes of the full picture `n` stands for.
fn weight(n: &Node) -> usize {
    if n.kind == NodeKind::Folded {
        n.folded
    } else {
        1
    }
}

/// One node standing for `folded` under `parent`, titled `title`, with its classes counted.
fn fold(title: String, parent: usize, folded: &[&Node]) -> Node {
    let mut counts: BTreeMap<ChangeClass, usize> = BTreeMap::new();
    for n in folded {
        if let Some(c) = n.class {
            *counts.entry(c).or_default() += weight(n);
        }
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(c, n)| format!("{n} {}", c.name()))
        .collect();
    Node {
        kind: NodeKind::Folded,
        title,
        lines: (!summary.is_empty())
            .then(|| summary.join(", "))
            .into_iter()
            .collect(),
        parent: Some(parent),
        class: counts.keys().next().copied(),
        folded: folded.iter().map(|n| weight(n)).sum(),
    }
}

/// Keeps the nodes `keep` says (parents of kept nodes must be kept) and appends `extra`,
/// whose parents are old indices of kept nodes.
fn rebuild(g: &Graph, keep: &dyn Fn(usize) -> bool, extra: Vec<Node>) -> Graph {
    let mut remap = vec![None; g.nodes.len()];
    let mut out = Graph::default();
    for (i, n) in g.nodes.iter().enumerate().filter(|(i, _)| keep(*i)) {
        remap[i] = Some(out.nodes.len());
        let mut n = n.clone();
        n.parent = n.parent.and_then(|p| remap[p]);
        out.nodes.push(n);
    }
    for mut n in extra {
        n.parent = n.parent.and_then(|p| remap[p]);
        out.nodes.push(n);
    }
    out
}

/// Every OU's accounts (two or more) as one node.
fn fold_accounts(g: &Graph) -> Graph {
    let mut by_parent: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        if let (NodeKind::Account, Some(p)) = (n.kind, n.parent) {
            by_parent.entry(p).or_default().push(i);
        }
    }
    by_parent.retain(|_, v| v.len() > 1);
    let gone: BTreeSet<usize> = by_parent.values().flatten().copied().collect();
    let extra = by_parent
        .iter()
        .map(|(p, v)| {
            let nodes: Vec<&Node> = v.iter().map(|i| &g.nodes[*i]).collect();
            fold(format!("{} accounts", v.len()), *p, &nodes)
        })
        .collect();
    rebuild(g, &|i| !gone.contains(&i), extra)
}

/// The `max - 1` shallowest nodes, and one node for the rest under the root.
fn fold_deepest(g: &Graph, max: usize) -> Graph {
    let mut depth = vec![0usize; g.nodes.len()];
    for (i, n) in g.nodes.iter().enumerate() {
        depth[i] = n.parent.map_or(0, |p| depth[p] + 1);
    }
    let mut order: Vec<usize> = (0..g.nodes.len()).collect();
    order.sort_by_key(|i| (depth[*i], *i));
    let kept: BTreeSet<usize> = order.iter().take(max.saturating_sub(1)).copied().collect();
    let rest: Vec<&Node> = order
        .iter()
        .skip(kept.len())
        .map(|i| &g.nodes[*i])
        .collect();
    let title = format!("{} more not shown", rest.len());
    let extra = vec![fold(title, 0, &rest)];
    rebuild(g, &|i| kept.contains(&i), extra)
}

/// `g` with at most `max` nodes: accounts folded per OU first, then the deepest nodes.
/// [`Graph::collapsed`] counts the nodes of `g` no longer drawn on their own.
pub fn collapse(g: Graph, max: usize) -> Graph {
    if g.nodes.len() <= max || g.nodes.is_empty() {
        return g;
    }
    let mut g = fold_accounts(&g);
    if g.nodes.len() > max {
        g = fold_deepest(&g, max);
    }
    g.collapsed = g
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Folded)
        .map(|n| n.folded)
        .sum();
    g
}

/// The Markdown section: the affected subtree as a Mermaid diagram, its legend, and how many
/// nodes were folded. Empty when the plan touches no OU or account.
pub fn plan_diagram_markdown(plan: &Plan) -> String {
    let full = affected_graph(plan);
    if full.nodes.len() <= 1 && full.nodes.iter().all(|n| n.class.is_none()) {
        return String::new();
    }
    let total = full.nodes.len();
    let g = collapse(full, MAX_NODES);
    let mut out = format!(
        "\n#### Affected organization tree\n\n```mermaid\n{}```\n\n",
        super::graph::mermaid(&g)
    );
    out.push_str(
        "Colours: green created, red deleted, blue moved, yellow attachments change, \
         purple effective denies change; uncoloured boxes are context.\n",
    );
    if g.collapsed > 0 {
        let _ = writeln!(
            out,
            "\n{} of {total} nodes are folded into the dashed boxes (a diagram shows at most {MAX_NODES}).",
            g.collapsed
        );
    }
    out
}
