//! Management-policy guardrails (declarative EC2, AI opt-out, ...): a template with a
//! `[document]` compiles to one policy per instance, `gr-<instance>`, attached to every target
//! that lists the instance. SCP and RCP guardrails go through `policy::compile` instead.

use toml_edit::TableLike;

use super::error::ErrorKind;
use super::parse::{join, key_span, Walker};
use crate::model::{Desired, DesiredPolicy, PolicyType};

impl Walker<'_> {
    /// Management policy guardrails: one policy per instance, `gr-<instance>`, attached to
    /// every target that lists the instance (their names never meet the SCP sets' names: an
    /// instance is either kind, and a set of one instance is named after it).
    pub(super) fn compile_documents(&mut self, top: &dyn TableLike, d: &mut Desired) {
        let docs: Vec<(String, PolicyType, serde_json::Value)> = d
            .guardrails
            .values()
            .filter_map(|g| {
                g.document
                    .clone()
                    .map(|doc| (g.name.clone(), g.policy_type, doc))
            })
            .collect();
        for (name, ty, document) in docs {
            let pname = format!("gr-{name}");
            let lists = std::iter::once((&d.root.guardrails, &mut d.root.policies))
                .chain(d.ous.values_mut().map(|o| (&o.guardrails, &mut o.policies)))
                .chain(
                    d.accounts
                        .values_mut()
                        .map(|a| (&a.guardrails, &mut a.policies)),
                );
            let mut used = false;
            for (guardrails, policies) in lists {
                if guardrails.contains(&name) {
                    policies.insert(pname.clone());
                    used = true;
                }
            }
            if !used {
                continue;
            }
            if d.policies.contains_key(&pname) {
                let msg = format!("`{pname}` is the name of a compiled guardrail policy; rename the declared policy");
                self.err(
                    ErrorKind::Duplicate,
                    key_span(top, "policies"),
                    &join("policies", &pname),
                    msg,
                );
                continue;
            }
            d.policies.insert(
                pname.clone(),
                DesiredPolicy {
                    pinned_id: None,
                    name: pname,
                    policy_type: ty,
                    description: format!("guardrail {name}"),
                    document,
                    source: "(compiled from guardrails)".into(),
                    guardrails: vec![Some(name)],
                },
            );
        }
    }
}
