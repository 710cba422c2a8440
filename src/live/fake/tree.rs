//! The fake's writes to the tree, with AWS's rules: OUs created (name length, depth, count,
//! no duplicate sibling; the type defaults attached) and deleted (only when empty), accounts
//! moved (the source parent checked) and created (a unique email; the defaults attached).

use super::{constraint, not_found, FakeAccount, FakeOrg, FakeOu, State};
use crate::live::{AccountInfo, Error, Result};

impl FakeOrg {
    pub(super) async fn serve_create_organizational_unit(
        &self,
        parent_id: &str,
        name: &str,
    ) -> Result<String> {
        self.pace("CreateOrganizationalUnit").await?;
        self.write(|| {
            let mut s = self.lock();
            if parent_id != s.root.id && !s.ous.contains_key(parent_id) {
                return Err(not_found("ParentNotFoundException", parent_id));
            }
            let max_name = self.limits.org.max_ou_name_chars.value;
            if name.is_empty() || name.chars().count() > max_name {
                return Err(Error::InvalidInput {
                    reason: if name.is_empty() {
                        "MIN_LENGTH_EXCEEDED"
                    } else {
                        "MAX_LENGTH_EXCEEDED"
                    }
                    .into(),
                    message: format!("OU name must be 1-{max_name} characters"),
                });
            }
            if s.depth_of(parent_id) + 1 > self.limits.org.max_ou_depth.value {
                return Err(constraint(
                    "OU_DEPTH_LIMIT_EXCEEDED",
                    "You have exceeded the limit of OU nesting",
                ));
            }
            if s.ous.len() >= self.limits.org.max_ous.value {
                return Err(constraint(
                    "OU_NUMBER_LIMIT_EXCEEDED",
                    "You have exceeded the number of OUs",
                ));
            }
            if s.ous
                .values()
                .any(|o| o.parent == parent_id && o.name == name)
            {
                return Err(Error::DuplicateOrganizationalUnit(format!(
                    "an OU named {name} already exists in {parent_id}"
                )));
            }
            let n = s.next();
            let root_suffix = s.root.id.trim_start_matches("r-").to_owned();
            let id = format!("ou-{root_suffix}-{n:08x}");
            s.ous.insert(
                id.clone(),
                FakeOu {
                    name: name.into(),
                    parent: parent_id.into(),
                },
            );
            s.attach_defaults(&id);
            Ok(id)
        })
    }

    pub(super) async fn serve_delete_organizational_unit(&self, ou_id: &str) -> Result<()> {
        self.pace("DeleteOrganizationalUnit").await?;
        self.write(|| {
            let mut s = self.lock();
            if !s.ous.contains_key(ou_id) {
                return Err(not_found("OrganizationalUnitNotFoundException", ou_id));
            }
            if s.ous.values().any(|o| o.parent == ou_id)
                || s.accounts.values().any(|a| a.parent == ou_id)
            {
                return Err(Error::OrganizationalUnitNotEmpty(format!(
                    "{ou_id} has children"
                )));
            }
            s.ous.remove(ou_id);
            for p in s.policies.values_mut() {
                p.targets.remove(ou_id);
            }
            Ok(())
        })
    }

    pub(super) async fn serve_move_account(
        &self,
        account_id: &str,
        source_parent_id: &str,
        destination_parent_id: &str,
    ) -> Result<()> {
        self.pace("MoveAccount").await?;
        self.write(|| {
            let mut s = self.lock();
            let is_parent = |s: &State, id: &str| id == s.root.id || s.ous.contains_key(id);
            if !is_parent(&s, source_parent_id) {
                return Err(not_found("SourceParentNotFoundException", source_parent_id));
            }
            if !is_parent(&s, destination_parent_id) {
                return Err(not_found(
                    "DestinationParentNotFoundException",
                    destination_parent_id,
                ));
            }
            let a = s
                .accounts
                .get_mut(account_id)
                .ok_or_else(|| not_found("AccountNotFoundException", account_id))?;
            if a.parent == destination_parent_id {
                return Err(Error::DuplicateAccount(format!(
                    "{account_id} is already in {destination_parent_id}"
                )));
            }
            if a.parent != source_parent_id {
                return Err(not_found("SourceParentNotFoundException", source_parent_id));
            }
            a.parent = destination_parent_id.into();
            Ok(())
        })
    }

    pub(super) async fn serve_create_account(&self, name: &str, email: &str) -> Result<String> {
        self.pace("CreateAccount").await?;
        self.write(|| {
            let mut s = self.lock();
            if s.accounts.values().any(|a| a.info.email == email) {
                return Err(constraint(
                    "EMAIL_ALREADY_EXISTS",
                    format!("{email} is in use"),
                ));
            }
            let n = s.next();
            let id = format!("{:012}", 100_000_000_000u64 + n);
            let root = s.root.id.clone();
            s.accounts.insert(
                id.clone(),
                FakeAccount {
                    info: AccountInfo {
                        id: id.clone(),
                        name: name.into(),
                        email: email.into(),
                        state: crate::model::AccountState::Active,
                    },
                    parent: root,
                },
            );
            s.attach_defaults(&id);
            Ok(id)
        })
    }
}
