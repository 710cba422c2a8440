//! IAM per account, in memory, as AWS behaves: managed policies keep at most five versions
//! (`LimitExceeded` on a sixth), the default version cannot be deleted (`DeleteConflict`), a
//! document over the size limit (whitespace not counted) is `LimitExceeded`, names are unique
//! (`EntityAlreadyExists`), service-linked roles refuse a boundary (`UnmodifiableEntity`),
//! `ListRoles` omits boundaries while `GetAccountAuthorizationDetails` returns them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::iam::{IamAccount, IamBackend, IamPolicyState, RoleInfo};
use super::stats::Counter;
use super::{Error, RequestStats, Result};
use crate::policy::limits::LimitsTable;

#[derive(Debug, Clone, Default)]
struct FakePolicy {
    /// `(version number, document)`, oldest first.
    versions: Vec<(u64, String)>,
    default: u64,
    next: u64,
}

#[derive(Debug, Clone, Default)]
struct FakeRole {
    path: String,
    boundary: Option<String>,
    /// An IAM user (kept beside roles; names are unique per account across both here).
    user: bool,
}

#[derive(Debug, Default)]
struct Account {
    policies: BTreeMap<String, FakePolicy>,
    roles: BTreeMap<String, FakeRole>,
}

/// IAM in every account.
#[derive(Debug)]
pub struct FakeIam {
    accounts: Mutex<BTreeMap<String, Account>>,
    limits: LimitsTable,
    counter: Counter,
    /// The partition of the ARNs it hands out (`aws` unless told otherwise).
    partition: String,
}

impl Default for FakeIam {
    fn default() -> Self {
        FakeIam::in_partition("aws")
    }
}

fn service(code: &str, message: String) -> Error {
    Error::Service {
        code: code.to_owned(),
        message,
    }
}

fn no_such(what: &str) -> Error {
    Error::NotFound {
        code: "NoSuchEntity".into(),
        message: format!("{what} does not exist"),
    }
}

impl FakeIam {
    /// IAM in an organization of another partition (`aws-us-gov`, `aws-cn`): the ARNs it
    /// returns start `arn:<partition>:iam::`.
    pub fn in_partition(partition: &str) -> Self {
        FakeIam {
            accounts: Mutex::new(BTreeMap::new()),
            limits: LimitsTable::default(),
            counter: Counter::default(),
            partition: partition.to_owned(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Account>> {
        // Every mutation is a single insert or remove after its checks: a panic elsewhere
        // cannot leave an account half-changed.
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates a role (test seeding, as a team would in the console).
    pub fn create_role(&self, account: &str, name: &str, path: &str, boundary: Option<&str>) {
        self.insert_principal(
            account,
            name,
            FakeRole {
                path: path.to_owned(),
                boundary: boundary.map(str::to_owned),
                user: false,
            },
        );
    }

    /// Creates a user (test seeding).
    pub fn create_user(&self, account: &str, name: &str, boundary: Option<&str>) {
        self.insert_principal(
            account,
            name,
            FakeRole {
                path: "/".to_owned(),
                boundary: boundary.map(str::to_owned),
                user: true,
            },
        );
    }

    fn insert_principal(&self, account: &str, name: &str, p: FakeRole) {
        self.lock()
            .entry(account.to_owned())
            .or_default()
            .roles
            .insert(name.to_owned(), p);
    }

    /// Removes a role's boundary (what `DeleteRolePermissionsBoundary` does).
    pub fn delete_role_permissions_boundary(&self, account: &str, name: &str) -> Result<()> {
        let mut s = self.lock();
        let r = s
            .get_mut(account)
            .and_then(|a| a.roles.get_mut(name))
            .ok_or_else(|| no_such(name))?;
        r.boundary = None;
        Ok(())
    }

    /// `ListRoles`: like AWS, without boundaries.
    pub fn list_roles(&self, account: &str) -> Vec<RoleInfo> {
        self.counter.bump("iam:ListRoles");
        self.principals(account, false)
    }

    /// The roles and users of an account, with or without their boundaries.
    fn principals(&self, account: &str, with_boundaries: bool) -> Vec<RoleInfo> {
        let s = self.lock();
        let Some(a) = s.get(account) else {
            return Vec::new();
        };
        a.roles
            .iter()
            .map(|(n, r)| RoleInfo {
                is_user: r.user,
                name: n.clone(),
                path: r.path.clone(),
                arn: format!(
                    "arn:{}:iam::{account}:{}{}{n}",
                    self.partition,
                    if r.user { "user" } else { "role" },
                    r.path
                ),
                boundary: if with_boundaries {
                    r.boundary.clone()
                } else {
                    None
                },
            })
            .collect()
    }

    /// Version ids of a policy, for tests.
    pub fn versions(&self, account: &str, arn: &str) -> Vec<String> {
        self.lock()
            .get(account)
            .and_then(|a| a.policies.get(arn))
            .map(|p| p.versions.iter().map(|(v, _)| format!("v{v}")).collect())
            .unwrap_or_default()
    }

    fn size_ok(&self, document: &str) -> Result<()> {
        let size = document.chars().filter(|c| !c.is_whitespace()).count();
        let max = self.limits.iam.max_managed_policy_chars.value;
        if size > max {
            return Err(Error::ConstraintViolation {
                reason: "LimitExceeded".into(),
                message: format!("Cannot exceed quota for PolicySize: {max}"),
            });
        }
        serde_json::from_str::<serde_json::Value>(document)
            .map_err(|e| service("MalformedPolicyDocument", e.to_string()))?;
        Ok(())
    }
}

#[async_trait]
impl IamBackend for FakeIam {
    async fn get_policy(&self, account: &IamAccount, arn: &str) -> Result<Option<IamPolicyState>> {
        self.counter.bump("iam:GetPolicy");
        let s = self.lock();
        let Some(p) = s.get(&account.id).and_then(|a| a.policies.get(arn)) else {
            return Ok(None);
        };
        self.counter.bump("iam:GetPolicyVersion");
        let doc = p
            .versions
            .iter()
            .find(|(v, _)| *v == p.default)
            .map(|(_, d)| d.clone())
            .unwrap_or_default();
        Ok(Some(IamPolicyState {
            arn: arn.to_owned(),
            default_version: format!("v{}", p.default),
            document: doc,
        }))
    }

    async fn list_policy_versions(
        &self,
        account: &IamAccount,
        arn: &str,
    ) -> Result<Vec<(String, bool)>> {
        self.counter.bump("iam:ListPolicyVersions");
        let s = self.lock();
        let p = s
            .get(&account.id)
            .and_then(|a| a.policies.get(arn))
            .ok_or_else(|| no_such(arn))?;
        Ok(p.versions
            .iter()
            .map(|(v, _)| (format!("v{v}"), *v == p.default))
            .collect())
    }

    async fn create_policy(
        &self,
        account: &IamAccount,
        name: &str,
        path: &str,
        document: &str,
    ) -> Result<String> {
        self.counter.bump("iam:CreatePolicy");
        self.size_ok(document)?;
        let arn = format!(
            "arn:{}:iam::{}:policy{path}{name}",
            self.partition, account.id
        );
        let mut s = self.lock();
        let a = s.entry(account.id.clone()).or_default();
        if a.policies.contains_key(&arn) {
            return Err(service(
                "EntityAlreadyExists",
                format!("A policy called {name} already exists"),
            ));
        }
        a.policies.insert(
            arn.clone(),
            FakePolicy {
                versions: vec![(1, document.to_owned())],
                default: 1,
                next: 2,
            },
        );
        Ok(arn)
    }

    async fn create_policy_version(
        &self,
        account: &IamAccount,
        arn: &str,
        document: &str,
    ) -> Result<String> {
        self.counter.bump("iam:CreatePolicyVersion");
        self.size_ok(document)?;
        let max = self.limits.iam.max_policy_versions.value;
        let mut s = self.lock();
        let p = s
            .get_mut(&account.id)
            .and_then(|a| a.policies.get_mut(arn))
            .ok_or_else(|| no_such(arn))?;
        if p.versions.len() >= max {
            return Err(Error::ConstraintViolation {
                reason: "LimitExceeded".into(),
                message: format!("A managed policy can have up to {max} versions"),
            });
        }
        let v = p.next;
        p.next += 1;
        p.versions.push((v, document.to_owned()));
        p.default = v;
        Ok(format!("v{v}"))
    }

    async fn delete_policy_version(
        &self,
        account: &IamAccount,
        arn: &str,
        version: &str,
    ) -> Result<()> {
        self.counter.bump("iam:DeletePolicyVersion");
        let mut s = self.lock();
        let p = s
            .get_mut(&account.id)
            .and_then(|a| a.policies.get_mut(arn))
            .ok_or_else(|| no_such(arn))?;
        let v: u64 = version
            .trim_start_matches('v')
            .parse()
            .map_err(|_| no_such(version))?;
        if v == p.default {
            return Err(service(
                "DeleteConflict",
                "Cannot delete the default version of a policy".into(),
            ));
        }
        let before = p.versions.len();
        p.versions.retain(|(x, _)| *x != v);
        if p.versions.len() == before {
            return Err(no_such(version));
        }
        Ok(())
    }

    async fn list_roles_with_boundaries(&self, account: &IamAccount) -> Result<Vec<RoleInfo>> {
        self.counter.bump("iam:GetAccountAuthorizationDetails");
        Ok(self.principals(&account.id, true))
    }

    async fn put_role_permissions_boundary(
        &self,
        account: &IamAccount,
        role: &str,
        boundary_arn: &str,
    ) -> Result<()> {
        self.counter.bump("iam:PutRolePermissionsBoundary");
        let mut s = self.lock();
        let a = s.get_mut(&account.id).ok_or_else(|| no_such(role))?;
        if !a.policies.contains_key(boundary_arn) && !boundary_arn.contains(":aws:policy/") {
            return Err(service(
                "InvalidInput",
                format!("{boundary_arn} does not exist"),
            ));
        }
        let r = a
            .roles
            .get_mut(role)
            .filter(|r| !r.user)
            .ok_or_else(|| no_such(role))?;
        if r.path.starts_with("/aws-service-role/") {
            return Err(service(
                "UnmodifiableEntity",
                format!("Cannot perform the operation on the protected role '{role}'"),
            ));
        }
        r.boundary = Some(boundary_arn.to_owned());
        Ok(())
    }

    fn stats(&self) -> RequestStats {
        self.counter.snapshot()
    }
}
