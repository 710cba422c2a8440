//! Asks AWS which accounts' effective management policies it found invalid, for every
//! management type enabled on the root: one `ListAccountsWithInvalidEffectivePolicy` per type,
//! then one `ListEffectivePolicyValidationErrors` per account it names. An endpoint that does
//! not implement the operations (moto 5.2 answers a 500 web page) is not a failure: the
//! outcome says so and nothing is checked.

use super::{Error, ErrorClass, OrgBackend, Result};
use crate::model::{EffectiveValidation, InvalidEffectivePolicy, PolicyType};

/// Whether an error says the endpoint does not know the operation.
fn unsupported(e: &Error) -> bool {
    match e {
        Error::NoAnswer {
            class: ErrorClass::NotAws { status, .. },
            ..
        } => matches!(status, 400 | 404 | 500 | 501),
        Error::Service { code, .. } => matches!(
            code.as_str(),
            "UnknownOperationException" | "InvalidAction" | "NotImplemented"
        ),
        _ => false,
    }
}

/// Checks the effective policies of every management type in `enabled`.
pub async fn check_effective_policies(
    backend: &dyn OrgBackend,
    enabled: &[PolicyType],
) -> Result<EffectiveValidation> {
    let mut out = EffectiveValidation::default();
    for &ty in enabled.iter().filter(|t| !t.is_authorization()) {
        let accounts = match backend
            .list_accounts_with_invalid_effective_policy(ty)
            .await
        {
            Ok(a) => a,
            Err(e) if unsupported(&e) => {
                return Ok(EffectiveValidation {
                    checked: Vec::new(),
                    invalid: Vec::new(),
                    unsupported: Some(format!(
                        "the endpoint does not implement ListAccountsWithInvalidEffectivePolicy ({e})"
                    )),
                });
            }
            Err(e) => return Err(e),
        };
        out.checked.push(ty);
        for a in accounts {
            let errors = backend
                .list_effective_policy_validation_errors(&a.id, ty)
                .await?;
            out.invalid.push(InvalidEffectivePolicy {
                policy_type: ty,
                account_id: a.id,
                account_name: a.name,
                errors,
            });
        }
    }
    Ok(out)
}
