//! What AWS found invalid in the effective management policies of the organization's accounts
//! (`ListAccountsWithInvalidEffectivePolicy`, `ListEffectivePolicyValidationErrors`), as drift
//! reports it.

use super::PolicyType;

/// One validation error of an account's effective policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectivePolicyError {
    /// AWS's error code.
    pub code: String,
    pub message: String,
    /// Where in the effective policy (`tags.costcenter.tag_value`), when AWS says.
    pub path: String,
    /// Ids of the attached policies that contribute to the error.
    pub contributing_policies: Vec<String>,
}

/// An account whose effective policy of one type AWS found invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEffectivePolicy {
    pub policy_type: PolicyType,
    pub account_id: String,
    pub account_name: String,
    pub errors: Vec<EffectivePolicyError>,
}

/// The outcome of asking AWS about the effective policies of the enabled management types.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EffectiveValidation {
    /// The management types that were checked.
    pub checked: Vec<PolicyType>,
    /// Every invalid effective policy found, by type then account.
    pub invalid: Vec<InvalidEffectivePolicy>,
    /// Set when the endpoint does not implement the operations (moto 5.2): nothing was
    /// checked, and this says why.
    pub unsupported: Option<String>,
}
