//! Pictures of the tree: the Markdown plan's Mermaid diagram of the affected subtree (a
//! snapshot, hostile names, folding above 50 nodes) and `guardrail graph`'s Mermaid and DOT
//! output of the whole configured tree.

use std::collections::BTreeSet;

use guardrail::model::{OuPath, PolicyType, TargetRef};
use guardrail::plan::{Change, Plan};
use guardrail::render::graph::{self, ChangeClass, Graph, NodeKind};
use guardrail::render::{self, MAX_NODES};

use crate::render_snapshots::plans;
use crate::support::parse_with;

/// A plan with only these changes, on an organization of which it knows nothing else.
fn plan_of(changes: Vec<Change>) -> Plan {
    let (clean, _) = plans();
    Plan { changes, ..clean }
}

fn attach(policy: &str, target: TargetRef) -> Change {
    Change::Attach {
        policy: policy.into(),
        policy_type: PolicyType::ServiceControlPolicy,
        target,
    }
}

/// Every node statement of a Mermaid flowchart: `nN<open>"label"<close>`, the label free of
/// quotes, and every edge between declared nodes.
fn check_mermaid(m: &str) -> usize {
    let mut nodes = BTreeSet::new();
    for line in m.lines().skip(1) {
        let line = line.trim_start();
        if line.starts_with("classDef ") || line.starts_with("class ") {
            continue;
        }
        if let Some((a, b)) = line.split_once(" --> ") {
            assert!(nodes.contains(a) && nodes.contains(b), "edge {line}");
            continue;
        }
        let (id, rest) = line.split_at(line.find(['(', '[']).expect(line));
        assert!(
            id.starts_with('n') && id[1..].parse::<usize>().is_ok(),
            "{line}"
        );
        let open = rest.find('"').expect(line);
        let close = rest.rfind('"').unwrap();
        let label = &rest[open + 1..close];
        assert!(!label.contains('"'), "{line}");
        for bad in ['`', '[', ']', ';', '#', '\n', '\u{1b}'] {
            let raw = label
                .replace("<b>", "")
                .replace("</b>", "")
                .replace("<br/>", "");
            // `#` and `;` appear only inside entity codes `#N;`.
            let stripped: String = strip_entities(&raw);
            assert!(!stripped.contains(bad), "{bad:?} in {line}");
        }
        assert!(nodes.insert(id.to_owned()), "duplicate {id}");
    }
    nodes.len()
}

fn strip_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').expect("an entity code ends with ;");
        assert!(
            after[..end].parse::<u32>().is_ok(),
            "entity {}",
            &after[..end]
        );
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_markdown_plan_draws_the_affected_subtree() {
    let (clean, changed) = plans();
    let diagram = render::plan_diagram_markdown(&changed);
    insta::assert_snapshot!("plan_diagram", diagram);
    assert!(render::plan_diagram_markdown(&clean).is_empty());
    let md = render::plan_markdown("prod", &changed);
    let at = md
        .find("```mermaid")
        .expect("the plan comment holds the diagram");
    assert!(
        md.find("| change | count |").unwrap() < at,
        "after the summary"
    );
    let body = &diagram[diagram.find("```mermaid\n").unwrap() + 11..diagram.rfind("```").unwrap()];
    check_mermaid(body);
    // The moved account is under its new OU, coloured as moved.
    let g = render::affected_graph(&changed);
    let payments = g.nodes.iter().find(|n| n.title == "payments").unwrap();
    assert_eq!(payments.class, Some(ChangeClass::Moved));
    assert_eq!(g.nodes[payments.parent.unwrap()].title, "Workloads");
    let old = g.nodes.iter().find(|n| n.title == "Old").unwrap();
    assert_eq!(old.class, Some(ChangeClass::Deleted));
}

const HOSTILE: &[&str] = &[
    "a\"b",
    "x]y[z",
    "tick`s`",
    "line\nbreak",
    "<script>",
    "hash#1;drop",
    "end\"]) --> n0",
    "esc\u{1b}[2Jbidi\u{202e}",
];

#[test]
fn hostile_names_cannot_break_out_of_a_label() {
    let changes = HOSTILE
        .iter()
        .enumerate()
        .flat_map(|(i, name)| {
            let ou = OuPath::from_segments(vec![(*name).to_owned()]);
            [
                Change::CreateOu { path: ou.clone() },
                attach(name, TargetRef::Ou(ou)),
                Change::CreateAccount {
                    key: format!("{name}{i}"),
                    email: format!("{name}@x"),
                    ou: OuPath::root(),
                },
            ]
        })
        .collect();
    let g = render::affected_graph(&plan_of(changes));
    let m = graph::mermaid(&g);
    assert_eq!(check_mermaid(&m), g.nodes.len(), "{m}");
    assert_eq!(g.nodes.len(), 1 + 2 * HOSTILE.len());
    let d = graph::dot(&g);
    check_dot(&d, g.nodes.len());
    assert!(graph::mermaid_label("a\"b") == "a#34;b");
    assert_eq!(graph::dot_label("a\"b\\c\nd"), "a\\\"b\\\\c\\\\nd");
}

#[test]
fn more_than_fifty_nodes_are_folded_and_counted() {
    let mut changes = Vec::new();
    for ou in 0..20 {
        let path = OuPath::from_segments(vec![format!("ou-{ou:02}")]);
        changes.push(Change::CreateOu { path: path.clone() });
        for a in 0..4 {
            changes.push(Change::CreateAccount {
                key: format!("acct-{ou}-{a}"),
                email: format!("a{ou}-{a}@x"),
                ou: path.clone(),
            });
        }
    }
    let mut plan = plan_of(changes);
    // Where the created accounts go, as `plan` records it.
    for c in &plan.changes.clone() {
        if let Change::CreateAccount { email, ou, .. } = c {
            plan.account_paths
                .insert(format!("new:{email}"), vec![ou.clone()]);
        }
    }
    let full = render::affected_graph(&plan);
    assert_eq!(full.nodes.len(), 1 + 20 + 80);
    let g = render::collapse(full.clone(), MAX_NODES);
    assert!(g.nodes.len() <= MAX_NODES, "{}", g.nodes.len());
    let shown = g
        .nodes
        .iter()
        .filter(|n| n.kind != NodeKind::Folded)
        .count();
    assert_eq!(
        shown + g.collapsed,
        full.nodes.len(),
        "every node shown or counted"
    );
    assert_eq!(
        g.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Folded)
            .count(),
        20
    );
    assert!(g
        .nodes
        .iter()
        .any(|n| n.title == "4 accounts" && n.lines == ["4 created"]));
    check_mermaid(&graph::mermaid(&g));
    let md = render::plan_diagram_markdown(&plan);
    assert!(md.contains("80 of 101 nodes are folded"), "{md}");

    // Still too many after folding accounts: the deepest nodes go into one box.
    let wide: Vec<Change> = (0..120)
        .map(|i| Change::CreateOu {
            path: OuPath::from_segments(vec![format!("w{i:03}")]),
        })
        .collect();
    let g = render::collapse(render::affected_graph(&plan_of(wide)), MAX_NODES);
    assert_eq!(g.nodes.len(), MAX_NODES);
    assert_eq!(g.collapsed, 121 - (MAX_NODES - 1));
    let last = g.nodes.last().unwrap();
    assert_eq!(last.title, format!("{} more not shown", g.collapsed));
    assert_eq!(last.class, Some(ChangeClass::Created));
}

/// A `digraph` whose statements are node declarations with a quoted label and edges between
/// declared nodes, braces balanced.
fn check_dot(d: &str, expect_nodes: usize) {
    let lines: Vec<&str> = d.lines().collect();
    assert_eq!(lines[0], "digraph guardrail {");
    assert_eq!(*lines.last().unwrap(), "}");
    let mut nodes = BTreeSet::new();
    for l in &lines[1..lines.len() - 1] {
        let l = l.trim();
        assert!(l.ends_with(';'), "{l}");
        if let Some((a, b)) = l.trim_end_matches(';').split_once(" -> ") {
            assert!(nodes.contains(a) && nodes.contains(b), "{l}");
        } else if let Some((id, attrs)) = l.split_once(" [label=\"") {
            // The label ends at the first unescaped quote, followed by the other attributes.
            let mut escaped = false;
            let end = attrs
                .char_indices()
                .find(|(_, c)| {
                    let stop = *c == '"' && !escaped;
                    escaped = *c == '\\' && !escaped;
                    stop
                })
                .map(|(i, _)| i)
                .expect(l);
            assert!(attrs[end..].starts_with("\", shape="), "{l}");
            assert!(!attrs[..end].contains('\n'));
            nodes.insert(id.to_owned());
        } else {
            assert!(l.starts_with("rankdir=") || l.starts_with("node ["), "{l}");
        }
    }
    assert_eq!(nodes.len(), expect_nodes);
}

const CONFIG: &str = r#"
[organization]
management_account = "111111111111"

[guardrails.no-root]
template = "root-user-deny"

[root]
policies = ["FullAWSAccess"]

[ous."Workloads"]
policies = ["FullAWSAccess"]

[ous."Workloads/Prod"]
policies = ["FullAWSAccess"]
guardrails = ["no-root"]

[accounts.web]
id = "222222222222"
ou = "Workloads/Prod"
policies = ["FullAWSAccess"]

[accounts.mgmt]
id = "111111111111"
policies = ["FullAWSAccess"]
"#;

#[test]
fn graph_of_the_config_draws_every_target() {
    let desired = parse_with(CONFIG, &Default::default()).expect("config parses");
    let g: Graph = graph::config_graph(&desired);
    let titles: Vec<&str> = g.nodes.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["Root", "Workloads", "Prod", "mgmt", "web"]);
    let prod = titles.iter().position(|t| *t == "Prod").unwrap();
    assert_eq!(g.nodes[4].parent, Some(prod));
    assert_eq!(g.nodes[3].parent, Some(0));
    assert!(g.nodes[3].lines[0].ends_with("(management)"));
    // Guardrails by name; their compiled policies are not repeated as policies.
    assert_eq!(
        g.nodes[prod].lines,
        ["guardrails: no-root", "policies: FullAWSAccess"]
    );
    check_dot(&graph::dot(&g), 5);
    assert_eq!(check_mermaid(&graph::mermaid(&g)), 5);
}
