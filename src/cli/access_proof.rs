//! `plan`'s access proof: computed once the plan is made (with a progress line on stderr),
//! and what `--fail-on-new-access` makes of its verdict.

use crate::model::{Desired, LiveOrg};
use crate::plan::access_proof::{self, AccessProof, ProofVerdict};
use crate::plan::Plan;

/// The proof for `plan`'s changes; `projected` is `plan::projected` of the config.
pub fn prove(plan: &Plan, projected: &Desired, live: &LiveOrg) -> AccessProof {
    let phase = super::progress::Phase::start("proving the change grants no new access", 0);
    let proof = access_proof::prove(&plan.changes, projected, live);
    phase.finish(&format!(
        "access proof: {} ({} account class(es) checked)",
        proof.verdict.name(),
        proof.classes
    ));
    proof
}

/// `--fail-on-new-access`: anything but PROVED fails (a plan without a proof too).
pub fn fails(plan: &Plan) -> bool {
    plan.access_proof
        .as_ref()
        .is_none_or(|p| p.verdict != ProofVerdict::Proved)
}
