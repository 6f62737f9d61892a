//! What an admin does to the users and policy of their own organization.
//! Users of other organizations are answered exactly like missing ones.

use std::time::Duration;

use auth_core::{
    identity::{DisplayName, Email, Role},
    password::Password,
    policy::{grace_period_from_hours, OrgTwoFactorPolicy, OrganizationPolicy, Requirement},
    throttle::SecondFactorPolicy,
    UnixTime,
};
use persistence::{
    records::{
        Actor, AuditEventRecord, NewAuditEvent, NewUser, OrganizationRecord, Page, RequestOrigin,
        UserChanges, UserRecord,
    },
    StoreError, Tx,
};
use serde_json::json;

use super::{
    account::{history_page, role_dto},
    new_id, rfc3339,
    two_factor::audit,
    Services,
};
use crate::{
    dto::{
        AuditEventView, AuditPage, CreateUserResponse, LoginHistoryPage, OrganizationView,
        TwoFactorPolicyDto, UserListPage, UserView,
    },
    problem::ApiError,
};

pub struct NewUserInput {
    pub email: Email,
    pub name: DisplayName,
    pub role: Role,
    pub password: Option<Password>,
    pub require_two_factor: bool,
}

#[derive(Default)]
pub struct UserUpdate {
    pub name: Option<DisplayName>,
    pub role: Option<Role>,
    pub require_two_factor: Option<bool>,
    pub disabled: Option<bool>,
}

pub fn policy_dto(p: OrgTwoFactorPolicy) -> TwoFactorPolicyDto {
    match p {
        OrgTwoFactorPolicy::Optional => TwoFactorPolicyDto::Optional,
        OrgTwoFactorPolicy::RequiredForAdmins => TwoFactorPolicyDto::RequiredForAdmins,
        OrgTwoFactorPolicy::RequiredForAll => TwoFactorPolicyDto::RequiredForAll,
    }
}

pub fn policy_from_dto(p: TwoFactorPolicyDto) -> OrgTwoFactorPolicy {
    match p {
        TwoFactorPolicyDto::Optional => OrgTwoFactorPolicy::Optional,
        TwoFactorPolicyDto::RequiredForAdmins => OrgTwoFactorPolicy::RequiredForAdmins,
        TwoFactorPolicyDto::RequiredForAll => OrgTwoFactorPolicy::RequiredForAll,
    }
}

fn organization_view(org: OrganizationRecord) -> OrganizationView {
    OrganizationView {
        two_factor_policy: policy_dto(org.policy.two_factor),
        grace_period_hours: u32::try_from(org.policy.grace_period.as_secs() / 3600)
            .unwrap_or(u32::MAX),
        policy_since: rfc3339(org.policy.since),
        id: org.id,
        name: org.name,
    }
}

fn audit_view(e: AuditEventRecord) -> AuditEventView {
    AuditEventView {
        id: e.id,
        at: rfc3339(e.at),
        actor_type: e.actor_type,
        actor_id: e.actor_id,
        target_user_id: e.target_user_id,
        action: e.action,
        ip: e.ip,
        details: e.details,
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("user")
}

fn cannot_modify_self(what: &str) -> ApiError {
    ApiError::conflict(
        "cannot_modify_self",
        format!("an admin cannot {what} their own account; ask another admin"),
    )
}

/// Ends everything a user holds: sessions (refresh and access tokens) and
/// login challenges in flight.
pub fn end_all_sessions(
    tx: &mut Tx<'_>,
    user_id: &str,
    now: UnixTime,
) -> Result<usize, StoreError> {
    tx.revoke_user_challenges(user_id, now)?;
    tx.revoke_user_sessions(user_id, now)
}

impl Services {
    pub fn user_view(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        now: UnixTime,
    ) -> Result<UserView, StoreError> {
        let requirement = self.requirement(tx, user)?;
        Self::user_view_under(tx, user, &requirement, now)
    }

    fn user_view_under(
        tx: &mut Tx<'_>,
        user: &UserRecord,
        requirement: &Requirement,
        now: UnixTime,
    ) -> Result<UserView, StoreError> {
        Ok(UserView {
            id: user.id.clone(),
            email: user.email.to_string(),
            name: user.name.clone(),
            role: role_dto(user.role),
            disabled: user.disabled,
            locked: tx.otp_throttle(&user.id)?.locked_at.is_some(),
            created_at: rfc3339(user.created_at),
            two_factor: Self::two_factor_view_under(tx, user, requirement, now)?,
        })
    }

    fn member(
        tx: &mut Tx<'_>,
        admin: &UserRecord,
        id: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        tx.user_in_organization(&admin.organization_id, id)
    }

    pub fn list_users(
        &self,
        admin: &UserRecord,
        offset: i64,
        limit: i64,
        now: UnixTime,
    ) -> Result<UserListPage, ApiError> {
        Ok(self.store.read(|tx| {
            let (users, total) = tx.users_of_organization(&admin.organization_id, offset, limit)?;
            let policy = Self::own_organization(tx, admin)?.policy;
            let items = users
                .iter()
                .map(|u| Self::user_view_under(tx, u, &Requirement::of(&u.facts(), &policy), now))
                .collect::<Result<Vec<_>, _>>()?;
            let next = offset + items.len() as i64;
            Ok(UserListPage {
                items,
                total,
                next_offset: (next < total).then_some(next),
            })
        })?)
    }

    pub fn get_user(
        &self,
        admin: &UserRecord,
        id: &str,
        now: UnixTime,
    ) -> Result<UserView, ApiError> {
        self.store.read(|tx| match Self::member(tx, admin, id)? {
            Some(u) => Ok(Ok(self.user_view(tx, &u, now)?)),
            None => Ok(Err(not_found())),
        })?
    }

    pub fn create_user(
        &self,
        admin: &UserRecord,
        input: NewUserInput,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<CreateUserResponse, ApiError> {
        let (hash, generated) = self.hash_new_password(input.password)?;
        let user = NewUser {
            id: new_id(),
            organization_id: admin.organization_id.clone(),
            email: input.email,
            name: input.name,
            role: input.role,
            password_hash: hash,
            two_factor_required: input.require_two_factor,
            created_at: now,
        };
        let view = self.store.write(|tx| {
            tx.insert_user(&user)?;
            let created = tx.user_by_id(&user.id)?.ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
            audit(
                tx,
                &created,
                Actor::User(&admin.id),
                "user.created",
                origin,
                json!({"email": created.email.as_str(), "role": created.role.as_str(), "require_two_factor": created.two_factor_required}),
                now,
            )?;
            if created.two_factor_required {
                audit(tx, &created, Actor::User(&admin.id), "two_factor.enforced", origin, json!({}), now)?;
            }
            self.user_view(tx, &created, now)
        })?;
        Ok(CreateUserResponse {
            user: view,
            generated_password: generated.map(|p| p.expose().to_owned()),
        })
    }

    pub fn update_user(
        &self,
        admin: &UserRecord,
        id: &str,
        update: UserUpdate,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<UserView, ApiError> {
        self.store.write(|tx| {
            let Some(user) = Self::member(tx, admin, id)? else {
                return Ok(Err(not_found()));
            };
            let is_self = user.id == admin.id;
            if is_self && update.role.is_some_and(|r| r != Role::Admin) {
                return Ok(Err(cannot_modify_self("demote")));
            }
            if is_self && update.disabled == Some(true) {
                return Ok(Err(cannot_modify_self("disable")));
            }
            let changes = UserChanges {
                name: update.name.clone().filter(|n| n.as_str() != user.name),
                role: update.role.filter(|r| *r != user.role),
                two_factor_required: update
                    .require_two_factor
                    .filter(|r| *r != user.two_factor_required),
                disabled: update.disabled.filter(|d| *d != user.disabled),
                password_hash: None,
            };
            tx.update_user(&user.id, &changes, now)?;
            let actor = Actor::User(&admin.id);
            if changes.name.is_some() || changes.role.is_some() {
                audit(
                    tx,
                    &user,
                    actor,
                    "user.updated",
                    origin,
                    json!({
                        "name": changes.name.as_ref().map(|n| n.as_str()),
                        "role": changes.role.map(|r| r.as_str()),
                        "previous_role": changes.role.map(|_| user.role.as_str()),
                    }),
                    now,
                )?;
            }
            match changes.two_factor_required {
                Some(true) => {
                    // Sessions that never proved a second factor must not
                    // outlive the new requirement.
                    let ended = end_all_sessions(tx, &user.id, now)?;
                    audit(
                        tx,
                        &user,
                        actor,
                        "two_factor.enforced",
                        origin,
                        json!({"sessions_ended": ended}),
                        now,
                    )?;
                }
                Some(false) => audit(
                    tx,
                    &user,
                    actor,
                    "two_factor.requirement_lifted",
                    origin,
                    json!({}),
                    now,
                )?,
                None => {}
            }
            match changes.disabled {
                Some(true) => {
                    let ended = end_all_sessions(tx, &user.id, now)?;
                    audit(
                        tx,
                        &user,
                        actor,
                        "user.disabled",
                        origin,
                        json!({"sessions_ended": ended}),
                        now,
                    )?;
                }
                Some(false) => audit(tx, &user, actor, "user.enabled", origin, json!({}), now)?,
                None => {}
            }
            let updated = tx
                .user_by_id(&user.id)?
                .ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
            Ok(Ok(self.user_view(tx, &updated, now)?))
        })?
    }

    /// Removes a user's factor (lost phone) and ends their sessions. If 2FA
    /// is still required of them they enroll again at their next login.
    pub fn reset_user_two_factor(
        &self,
        admin: &UserRecord,
        id: &str,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<UserView, ApiError> {
        self.store.write(|tx| {
            let Some(user) = Self::member(tx, admin, id)? else {
                return Ok(Err(not_found()));
            };
            if user.id == admin.id {
                return Ok(Err(cannot_modify_self(
                    "reset two-factor authentication of",
                )));
            }
            let removed = tx.delete_factor(&user.id)?;
            tx.delete_recovery_codes(&user.id)?;
            let ended = end_all_sessions(tx, &user.id, now)?;
            audit(
                tx,
                &user,
                Actor::User(&admin.id),
                "two_factor.reset",
                origin,
                json!({"factor_removed": removed, "sessions_ended": ended}),
                now,
            )?;
            Ok(Ok(self.user_view(tx, &user, now)?))
        })?
    }

    /// Lifts the second-factor lock and waits of a user.
    pub fn unlock_user(
        &self,
        admin: &UserRecord,
        id: &str,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<UserView, ApiError> {
        self.store.write(|tx| {
            let Some(user) = Self::member(tx, admin, id)? else {
                return Ok(Err(not_found()));
            };
            let was_locked = tx.otp_throttle(&user.id)?.locked_at.is_some();
            tx.save_otp_throttle(&user.id, &SecondFactorPolicy::unlocked())?;
            audit(
                tx,
                &user,
                Actor::User(&admin.id),
                "user.unlocked",
                origin,
                json!({"was_locked": was_locked}),
                now,
            )?;
            Ok(Ok(self.user_view(tx, &user, now)?))
        })?
    }

    pub fn user_login_history(
        &self,
        admin: &UserRecord,
        id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<LoginHistoryPage, ApiError> {
        self.store.read(|tx| match Self::member(tx, admin, id)? {
            Some(u) => Ok(Ok(history_page(tx.login_history(&u.id, before, limit)?))),
            None => Ok(Err(not_found())),
        })?
    }

    fn own_organization(
        tx: &mut Tx<'_>,
        admin: &UserRecord,
    ) -> Result<OrganizationRecord, StoreError> {
        tx.organization(&admin.organization_id)?
            .ok_or_else(|| StoreError::Corrupt("admin without organization".into()))
    }

    pub fn organization(&self, admin: &UserRecord) -> Result<OrganizationView, ApiError> {
        Ok(organization_view(
            self.store.read(|tx| Self::own_organization(tx, admin))?,
        ))
    }

    pub fn update_organization(
        &self,
        admin: &UserRecord,
        policy: Option<OrgTwoFactorPolicy>,
        grace_hours: Option<u32>,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<OrganizationView, ApiError> {
        let grace = match grace_hours {
            Some(h) => Some(grace_period_from_hours(h).ok_or_else(|| {
                ApiError::InvalidRequest("grace_period_hours must be 0 to 720".into())
            })?),
            None => None,
        };
        Ok(organization_view(self.store.write(|tx| {
            let org = Self::own_organization(tx, admin)?;
            let before = org.policy;
            let two_factor = policy.unwrap_or(before.two_factor);
            let updated = OrganizationPolicy {
                two_factor,
                grace_period: grace.unwrap_or(before.grace_period),
                // The grace period counts from when the rule changed.
                since: if two_factor == before.two_factor { before.since } else { now },
            };
            if updated != before {
                tx.update_organization_policy(&org.id, &updated)?;
                tx.append_audit(&NewAuditEvent {
                    organization_id: Some(&org.id),
                    actor: Actor::User(&admin.id),
                    target_user_id: None,
                    action: "organization.policy_changed",
                    ip: origin.ip.as_deref(),
                    details: json!({
                        "two_factor_policy": {"from": before.two_factor.as_str(), "to": updated.two_factor.as_str()},
                        "grace_period_hours": {"from": hours(before.grace_period), "to": hours(updated.grace_period)},
                    }),
                    at: now,
                })?;
            }
            Self::own_organization(tx, admin)
        })?))
    }

    pub fn audit_events(
        &self,
        admin: &UserRecord,
        user_id: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<AuditPage, ApiError> {
        let page: Page<AuditEventRecord> = self
            .store
            .read(|tx| tx.audit_events(&admin.organization_id, user_id, before, limit))?;
        Ok(AuditPage {
            items: page.items.into_iter().map(audit_view).collect(),
            next_before: page.next_before,
        })
    }
}

fn hours(d: Duration) -> u64 {
    d.as_secs() / 3600
}
