//! Pictures of the organization tree: Mermaid (GitHub renders it in a pull request) and
//! Graphviz DOT. `guardrail graph` draws the whole tree the config describes with its
//! guardrails ([`config_graph`]); the Markdown plan draws the affected subtree
//! (`graph_plan.rs`).
//!
//! Names come from the config and AWS and may hold anything (quotes, brackets, backticks,
//! newlines, `<`, `#`, `;`). Node ids are ours (`n0`, `n1`, ...), never a name; a label is
//! first made [`visible`], then every character outside a small safe set is written as an
//! entity code (`#35;` in Mermaid, an escape in a DOT string), so no name can close a label,
//! start a comment or add an edge.

use std::fmt::Write as _;

use super::escape::visible;
use crate::model::{Desired, OuPath};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Root,
    Ou,
    Account,
    /// Nodes folded into one (a collapsed diagram).
    Folded,
}

/// The kind of change a node shows in a plan diagram (its `classDef`); strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeClass {
    Deleted,
    Created,
    Moved,
    /// Its attachments change.
    Policies,
    /// Only its effective denies change (a policy it inherits or carries is updated).
    Denies,
}

impl ChangeClass {
    pub const ALL: [ChangeClass; 5] = [
        ChangeClass::Deleted,
        ChangeClass::Created,
        ChangeClass::Moved,
        ChangeClass::Policies,
        ChangeClass::Denies,
    ];

    /// The class name in Mermaid and the legend.
    pub fn name(self) -> &'static str {
        match self {
            ChangeClass::Deleted => "deleted",
            ChangeClass::Created => "created",
            ChangeClass::Moved => "moved",
            ChangeClass::Policies => "policies",
            ChangeClass::Denies => "denies",
        }
    }

    /// Fill and stroke: GitHub's diff colours, readable in light and dark themes.
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            ChangeClass::Deleted => ("#ffebe9", "#cf222e"),
            ChangeClass::Created => ("#dafbe1", "#1a7f37"),
            ChangeClass::Moved => ("#ddf4ff", "#0969da"),
            ChangeClass::Policies => ("#fff8c5", "#9a6700"),
            ChangeClass::Denies => ("#fbefff", "#8250df"),
        }
    }
}

/// One node: a title, detail lines, its parent (an index before it), and its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    pub title: String,
    pub lines: Vec<String>,
    pub parent: Option<usize>,
    pub class: Option<ChangeClass>,
    /// For a [`NodeKind::Folded`] node: how many nodes of the full picture it stands for.
    pub folded: usize,
}

/// A tree of nodes; every parent index points at an earlier node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// How many nodes of the full picture were folded away (0 when nothing was).
    pub collapsed: usize,
}

/// A Mermaid label: visible, then every character outside `[A-Za-z0-9 ._,:/@()+=-]` as
/// `#<decimal>;` (Mermaid's entity codes), so quotes, brackets, backticks, `<`, `#`, `;` and
/// line breaks cannot end the label or the statement.
pub fn mermaid_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in visible(s).chars() {
        if c.is_ascii_alphanumeric() || " ._,:/@()+=-".contains(c) {
            out.push(c);
        } else {
            let _ = write!(out, "#{};", c as u32);
        }
    }
    out
}

/// A DOT double-quoted string's content: visible, with `"` and `\` escaped (a line break in
/// a name is already `\n` made visible, and DOT reads no other escape inside quotes).
pub fn dot_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in visible(s).chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The graph as a Mermaid flowchart (top-down), with a `classDef` per change class used.
pub fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    for class in ChangeClass::ALL {
        if g.nodes.iter().any(|n| n.class == Some(class)) {
            let (fill, stroke) = class.colours();
            let _ = writeln!(
                out,
                "  classDef {} fill:{fill},stroke:{stroke},color:#1f2328",
                class.name()
            );
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let mut label = format!("<b>{}</b>", mermaid_label(&n.title));
        for l in &n.lines {
            let _ = write!(label, "<br/>{}", mermaid_label(l));
        }
        let (open, close) = match n.kind {
            NodeKind::Root => ("([", "])"),
            NodeKind::Ou => ("[", "]"),
            NodeKind::Account => ("(", ")"),
            NodeKind::Folded => ("[[", "]]"),
        };
        let _ = writeln!(out, "  n{i}{open}\"{label}\"{close}");
        if let Some(p) = n.parent {
            let _ = writeln!(out, "  n{p} --> n{i}");
        }
        if let Some(c) = n.class {
            let _ = writeln!(out, "  class n{i} {}", c.name());
        }
    }
    out
}

/// The graph as a Graphviz `digraph` (top-down; OUs as boxes, accounts as rounded boxes).
pub fn dot(g: &Graph) -> String {
    let mut out = String::from(
        "digraph guardrail {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    for (i, n) in g.nodes.iter().enumerate() {
        let mut label = dot_label(&n.title);
        for l in &n.lines {
            let _ = write!(label, "\\n{}", dot_label(l));
        }
        let shape = match n.kind {
            NodeKind::Root => "shape=house",
            NodeKind::Ou => "shape=box",
            NodeKind::Account => "shape=box, style=rounded",
            NodeKind::Folded => "shape=box, style=dashed",
        };
        let colour = n
            .class
            .map(|c| {
                let (fill, stroke) = c.colours();
                format!(", style=filled, fillcolor=\"{fill}\", color=\"{stroke}\"")
            })
            .unwrap_or_default();
        let _ = writeln!(out, "  n{i} [label=\"{label}\", {shape}{colour}];");
        if let Some(p) = n.parent {
            let _ = writeln!(out, "  n{p} -> n{i};");
        }
    }
    out.push_str("}\n");
    out
}

/// A list of names for a detail line (`guardrails: a, b`), or none when empty.
fn names_line<'a>(what: &str, names: impl IntoIterator<Item = &'a String>) -> Option<String> {
    let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
    (!names.is_empty()).then(|| format!("{what}: {}", names.join(", ")))
}

/// The detail lines of a target: its guardrails, then the policies the config attaches by
/// name (the policies compiled from guardrails are the guardrails line).
fn target_lines(
    desired: &Desired,
    guardrails: &std::collections::BTreeSet<String>,
    policies: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    let compiled = |p: &String| {
        desired
            .policies
            .get(p)
            .is_some_and(|d| d.guardrails.iter().any(Option::is_some))
    };
    let own = policies.iter().filter(|p| !compiled(p));
    names_line("guardrails", guardrails)
        .into_iter()
        .chain(names_line("policies", own))
        .collect()
}

/// The whole tree the config describes (root, OUs, accounts) with each target's guardrails
/// and policies: offline, from the config alone.
pub fn config_graph(desired: &Desired) -> Graph {
    let mut g = Graph::default();
    g.nodes.push(Node {
        kind: NodeKind::Root,
        title: "Root".into(),
        lines: target_lines(desired, &desired.root.guardrails, &desired.root.policies),
        parent: None,
        class: None,
        folded: 0,
    });
    let mut index: std::collections::BTreeMap<&OuPath, usize> = Default::default();
    // BTreeMap order puts a parent path before its children.
    for (path, ou) in &desired.ous {
        let parent = path
            .parent()
            .filter(|p| !p.is_root())
            .and_then(|p| index.get(&p).copied())
            .unwrap_or(0);
        index.insert(path, g.nodes.len());
        g.nodes.push(Node {
            kind: NodeKind::Ou,
            title: path.name().unwrap_or_default().to_owned(),
            lines: target_lines(desired, &ou.guardrails, &ou.policies),
            parent: Some(parent),
            class: None,
            folded: 0,
        });
    }
    for a in desired.accounts.values() {
        let parent = index.get(&a.ou).copied().unwrap_or(0);
        let mut lines = vec![match (&a.id, &a.email) {
            (Some(id), _) if *id == desired.management_account => {
                format!("{id} (management)")
            }
            (Some(id), _) => id.clone(),
            (None, Some(email)) => format!("to create: {email}"),
            (None, None) => "to create".to_owned(),
        }];
        lines.extend(target_lines(desired, &a.guardrails, &a.policies));
        g.nodes.push(Node {
            kind: NodeKind::Account,
            title: a.key.clone(),
            lines,
            parent: Some(parent),
            class: None,
            folded: 0,
        });
    }
    g
}
