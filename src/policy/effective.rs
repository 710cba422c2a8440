//! The effective management policy of an account, computed offline.
//!
//! Management policies (every type but SCPs and RCPs) are trees of JSON objects whose settings
//! carry AWS's inheritance operators. An account's effective policy of one type merges the
//! policies attached to the root, to each OU on its path and to the account itself, in that
//! order, by these rules (AWS's "Inheritance operators" and "Inheritance examples" pages):
//!
//! - `@@assign` sets a setting (a single value or a whole list), replacing what was inherited;
//!   `@@append` adds values to an inherited list (only those not already in it), or creates the
//!   list; `@@remove` takes values out of an inherited list, and a list left empty disappears.
//!   `@@append` and `@@remove` apply to lists only. A setting written without an operator is
//!   read as `@@assign`.
//! - `@@operators_allowed_for_child_policies` on any node (`@@all`, `@@none`, or some of
//!   `@@assign`, `@@append`, `@@remove`) limits what the policies *below* that level may do at
//!   that node and everywhere beneath it. Limits only narrow: each level's limits are
//!   intersected with those inherited, and several policies at one level intersect too. Policies
//!   at the same level never limit each other.
//! - An operator a parent forbids is ignored; AWS reports such a policy as invalid, and so does
//!   every [`Finding`] here.
//! - Several policies at one level apply in the order given (AWS: the order of attachment); when
//!   two of them `@@assign` different values to one setting, the first one wins.
//!
//! Documents are parsed once into [`PolicyNode`] trees; the merge walks them beside the
//! effective tree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use crate::model::{Desired, OuPath, PolicyType};

const ASSIGN: &str = "@@assign";
const APPEND: &str = "@@append";
const REMOVE: &str = "@@remove";
const CHILD_CONTROL: &str = "@@operators_allowed_for_child_policies";

/// A value-setting operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    Assign,
    Append,
    Remove,
}

impl Operator {
    /// The operator as written in a document.
    pub fn key(self) -> &'static str {
        match self {
            Operator::Assign => ASSIGN,
            Operator::Append => APPEND,
            Operator::Remove => REMOVE,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The value-setting operators child policies may use at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub assign: bool,
    pub append: bool,
    pub remove: bool,
}

impl Allowed {
    /// `@@all`, the default.
    pub const ALL: Allowed = Allowed {
        assign: true,
        append: true,
        remove: true,
    };
    /// `@@none`.
    pub const NONE: Allowed = Allowed {
        assign: false,
        append: false,
        remove: false,
    };

    pub fn permits(self, op: Operator) -> bool {
        match op {
            Operator::Assign => self.assign,
            Operator::Append => self.append,
            Operator::Remove => self.remove,
        }
    }

    pub fn intersect(self, other: Allowed) -> Allowed {
        Allowed {
            assign: self.assign && other.assign,
            append: self.append && other.append,
            remove: self.remove && other.remove,
        }
    }
}

impl Default for Allowed {
    fn default() -> Self {
        Allowed::ALL
    }
}

/// One node of a parsed management policy: its operators and its child settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyNode {
    pub assign: Option<Value>,
    pub append: Option<Vec<Value>>,
    pub remove: Option<Vec<Value>>,
    pub child_control: Option<Allowed>,
    pub children: BTreeMap<String, PolicyNode>,
}

/// What is wrong with one setting of one policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the document is not a JSON object")]
    NotAnObject,
    #[error("`{0}` is not an inheritance operator")]
    UnknownOperator(String),
    #[error("{0} takes a list of values")]
    NotAList(Operator),
    #[error("`{0}` is not an operator `{CHILD_CONTROL}` can allow")]
    BadChildControl(String),
    #[error("{0} is not allowed here by a parent's `{CHILD_CONTROL}`; ignored")]
    NotAllowed(Operator),
    #[error("{0} applies to lists only, and the inherited setting is a single value; ignored")]
    NotMultiValued(Operator),
    #[error("policy `{kept}`, attached at the same level, assigned another value first; ignored")]
    ConflictAtLevel { kept: String },
}

/// One problem found while merging, with the policy and the setting's path (`tags.costcenter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub policy: String,
    pub path: String,
    pub problem: Problem,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "policy `{}`, {path}: {}", self.policy, self.problem)
    }
}

/// One attached policy: its name and document.
#[derive(Debug, Clone, PartialEq)]
pub struct Attached {
    pub name: String,
    pub document: Value,
}

/// The policies of one type attached to one target on an account's path.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// `root`, `ou Prod/Web`, `account 111111111111`.
    pub target: String,
    pub policies: Vec<Attached>,
}

/// An account's effective policy and what was ignored to make it.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub document: Value,
    pub findings: Vec<Finding>,
}

/// Parses one management policy into its operator tree (once), noting what cannot be read.
pub fn parse_policy(name: &str, doc: &Value, findings: &mut Vec<Finding>) -> PolicyNode {
    if !doc.is_object() {
        findings.push(Finding {
            policy: name.to_owned(),
            path: String::new(),
            problem: Problem::NotAnObject,
        });
        return PolicyNode::default();
    }
    let mut path = Vec::new();
    parse_node(name, doc, &mut path, findings)
}

fn note(findings: &mut Vec<Finding>, name: &str, path: &[String], problem: Problem) {
    findings.push(Finding {
        policy: name.to_owned(),
        path: path.join("."),
        problem,
    });
}

fn parse_node(
    name: &str,
    v: &Value,
    path: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) -> PolicyNode {
    let mut node = PolicyNode::default();
    let Value::Object(map) = v else {
        node.assign = Some(v.clone());
        return node;
    };
    for (k, v) in map {
        match (k.as_str(), v) {
            (ASSIGN, _) => node.assign = Some(v.clone()),
            (APPEND, Value::Array(items)) => node.append = Some(items.clone()),
            (REMOVE, Value::Array(items)) => node.remove = Some(items.clone()),
            (APPEND, _) => note(findings, name, path, Problem::NotAList(Operator::Append)),
            (REMOVE, _) => note(findings, name, path, Problem::NotAList(Operator::Remove)),
            (CHILD_CONTROL, _) => {
                node.child_control = Some(parse_child_control(name, v, path, findings))
            }
            (other, _) if other.starts_with("@@") => note(
                findings,
                name,
                path,
                Problem::UnknownOperator(other.to_owned()),
            ),
            _ => {
                path.push(k.clone());
                let child = parse_node(name, v, path, findings);
                path.pop();
                node.children.insert(k.clone(), child);
            }
        }
    }
    node
}

/// `["@@all"]`, `["@@none"]` or some value-setting operators (a lone string is read as a
/// one-element list). `@@all` anywhere in the list allows everything.
fn parse_child_control(
    name: &str,
    v: &Value,
    path: &[String],
    findings: &mut Vec<Finding>,
) -> Allowed {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut allowed = Allowed::NONE;
    for item in items {
        match item.as_str() {
            Some("@@all") => return Allowed::ALL,
            Some("@@none") => {}
            Some(ASSIGN) => allowed.assign = true,
            Some(APPEND) => allowed.append = true,
            Some(REMOVE) => allowed.remove = true,
            _ => note(
                findings,
                name,
                path,
                Problem::BadChildControl(item.to_string()),
            ),
        }
    }
    allowed
}

/// The merged state at one node: the value, the limits parents set on the levels below, and
/// the limits the level being merged sets (they take effect once the level is done).
#[derive(Debug, Default)]
struct EffNode {
    value: Option<Value>,
    allowed: Allowed,
    pending: Allowed,
    children: BTreeMap<String, EffNode>,
}

/// Merges the levels, root first, into the effective policy.
pub fn effective(levels: &[Level]) -> Effective {
    let mut tree = EffNode::default();
    let mut findings = Vec::new();
    for level in levels {
        // Paths assigned at this level, by the policy that assigned them first.
        let mut assigned: BTreeMap<Vec<String>, String> = BTreeMap::new();
        for p in &level.policies {
            let node = parse_policy(&p.name, &p.document, &mut findings);
            let mut cx = Merge {
                policy: &p.name,
                assigned: &mut assigned,
                findings: &mut findings,
                path: Vec::new(),
            };
            cx.apply(&mut tree, &node, Allowed::ALL);
        }
        settle(&mut tree);
    }
    Effective {
        document: render(&tree).unwrap_or_else(|| Value::Object(Map::new())),
        findings,
    }
}

struct Merge<'a> {
    policy: &'a str,
    assigned: &'a mut BTreeMap<Vec<String>, String>,
    findings: &'a mut Vec<Finding>,
    path: Vec<String>,
}

impl Merge<'_> {
    fn refuse(&mut self, problem: Problem) {
        note(self.findings, self.policy, &self.path, problem);
    }

    /// Applies one policy node to the effective node; `inherited` is what the parents allow
    /// above this node.
    fn apply(&mut self, eff: &mut EffNode, pol: &PolicyNode, inherited: Allowed) {
        let allowed = inherited.intersect(eff.allowed);
        if let Some(v) = &pol.assign {
            self.assign(eff, v, allowed);
        }
        if let Some(items) = &pol.append {
            self.append(eff, items, allowed);
        }
        if let Some(items) = &pol.remove {
            self.remove(eff, items, allowed);
        }
        if let Some(c) = pol.child_control {
            eff.pending = eff.pending.intersect(c);
        }
        for (k, child) in &pol.children {
            self.path.push(k.clone());
            self.apply(eff.children.entry(k.clone()).or_default(), child, allowed);
            self.path.pop();
        }
    }

    fn assign(&mut self, eff: &mut EffNode, v: &Value, allowed: Allowed) {
        if !allowed.permits(Operator::Assign) {
            return self.refuse(Problem::NotAllowed(Operator::Assign));
        }
        match self.assigned.get(&self.path) {
            Some(first) if eff.value.as_ref() != Some(v) => {
                let kept = first.clone();
                self.refuse(Problem::ConflictAtLevel { kept })
            }
            Some(_) => {}
            None => {
                eff.value = Some(v.clone());
                self.assigned
                    .insert(self.path.clone(), self.policy.to_owned());
            }
        }
    }

    fn append(&mut self, eff: &mut EffNode, items: &[Value], allowed: Allowed) {
        if !allowed.permits(Operator::Append) {
            return self.refuse(Problem::NotAllowed(Operator::Append));
        }
        let list = match &mut eff.value {
            None => eff.value.insert(Value::Array(Vec::new())),
            Some(v) => v,
        };
        let Value::Array(list) = list else {
            return self.refuse(Problem::NotMultiValued(Operator::Append));
        };
        for item in items {
            if !list.contains(item) {
                list.push(item.clone());
            }
        }
    }

    fn remove(&mut self, eff: &mut EffNode, items: &[Value], allowed: Allowed) {
        if !allowed.permits(Operator::Remove) {
            return self.refuse(Problem::NotAllowed(Operator::Remove));
        }
        match &mut eff.value {
            None => {}
            Some(Value::Array(list)) => {
                list.retain(|v| !items.contains(v));
                if list.is_empty() {
                    eff.value = None;
                }
            }
            Some(_) => self.refuse(Problem::NotMultiValued(Operator::Remove)),
        }
    }
}

/// A level is done: the limits it set now bind the levels below.
fn settle(eff: &mut EffNode) {
    eff.allowed = eff.allowed.intersect(eff.pending);
    eff.pending = Allowed::ALL;
    for child in eff.children.values_mut() {
        settle(child);
    }
}

/// The effective tree as AWS shows it: values without operators; settings with nothing left
/// disappear. A node holding a value shows the value.
fn render(eff: &EffNode) -> Option<Value> {
    if let Some(v) = &eff.value {
        return Some(v.clone());
    }
    let map: Map<String, Value> = eff
        .children
        .iter()
        .filter_map(|(k, c)| render(c).map(|v| (k.clone(), v)))
        .collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

/// The policies of `ty` on an account's path: the root, each OU from the top, the account
/// itself; each level's policies in name order. The account is a config key or an id; the
/// management account, when not in the config, is read as placed under the root. Returns the
/// account's id (its email or key when it has none yet) and the levels.
pub fn account_levels(d: &Desired, account: &str, ty: PolicyType) -> Option<(String, Vec<Level>)> {
    let of_type = |names: &BTreeSet<String>| -> Vec<Attached> {
        names
            .iter()
            .filter_map(|n| d.policies.get(n))
            .filter(|p| p.policy_type == ty)
            .map(|p| Attached {
                name: p.name.clone(),
                document: p.document.clone(),
            })
            .collect()
    };
    let mut levels = vec![Level {
        target: "root".to_owned(),
        policies: of_type(&d.root.policies),
    }];
    let found = d.accounts.get(account).or_else(|| {
        d.accounts
            .values()
            .find(|a| a.id.as_deref() == Some(account))
    });
    let Some(a) = found else {
        return (account == d.management_account).then(|| (account.to_owned(), levels));
    };
    let segments = a.ou.segments();
    for depth in 1..=segments.len() {
        let path = OuPath::from_segments(segments[..depth].to_vec());
        let policies = d.ous.get(&path).map(|o| of_type(&o.policies));
        levels.push(Level {
            target: format!("ou {path}"),
            policies: policies.unwrap_or_default(),
        });
    }
    let id =
        a.id.clone()
            .or_else(|| a.email.clone())
            .unwrap_or_else(|| a.key.clone());
    levels.push(Level {
        target: format!("account {id}"),
        policies: of_type(&a.policies),
    });
    Some((id, levels))
}
