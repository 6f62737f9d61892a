//! Organizations: creating one (first start, CLI), its 2FA policy, and its
//! audit log.

use std::time::Duration;

use auth_core::{
    events::{Change, SecurityEvent},
    identity::{DisplayName, Email, Role},
    ids::{OrganizationId, SessionId, UserId},
    password::Password,
    policy::{grace_period_from_hours, session_suffices, OrgTwoFactorPolicy, OrganizationPolicy},
    remembered_device::RememberDays,
    UnixTime,
};
use persistence::{
    records::{
        AuditEventRecord, NewOrganization, NewUser, OrganizationRecord, Page, RequestOrigin,
        UserRecord,
    },
    StoreError, Tx,
};
use rand_core::OsRng;

use super::{
    record::{record, record_for_organization, Context},
    refusal::Refusal,
    ServiceError, Services,
};

pub struct CreatedOrganization {
    pub organization_id: OrganizationId,
    pub admin_id: UserId,
    /// Set when the password was generated: shown once, stored only hashed.
    pub generated_password: Option<Password>,
}

/// What an admin asks to change in their organization's policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicyUpdate {
    pub two_factor: Option<OrgTwoFactorPolicy>,
    pub grace_period_hours: Option<u32>,
    pub remember_device_days: Option<u32>,
}

fn hours(d: Duration) -> u64 {
    d.as_secs() / 3600
}

fn own_organization(tx: &mut Tx<'_>, admin: &UserRecord) -> Result<OrganizationRecord, StoreError> {
    tx.organization(&admin.organization_id)?
        .ok_or_else(|| StoreError::Corrupt("admin without organization".into()))
}

impl Services {
    pub fn create_organization(
        &self,
        name: &DisplayName,
        admin_email: &Email,
        password: Option<Password>,
    ) -> Result<CreatedOrganization, ServiceError> {
        let (hash, generated) = self.hash_new_password(password)?;
        let at = self.clock.now();
        let org = NewOrganization {
            id: OrganizationId::generate(&mut OsRng),
            name: name.clone(),
            created_at: at,
        };
        let admin_name = "Administrator"
            .parse()
            .map_err(|_| ServiceError::Internal("the default admin name is invalid"))?;
        let admin = NewUser {
            id: UserId::generate(&mut OsRng),
            organization_id: org.id.clone(),
            email: admin_email.clone(),
            name: admin_name,
            role: Role::Admin,
            password_hash: hash,
            two_factor_required: false,
            created_at: at,
        };
        self.store.write(|tx| {
            tx.insert_organization(&org)?;
            tx.insert_user(&admin)?;
            let created = tx
                .user_by_id(&admin.id)?
                .ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
            record(
                tx,
                &Context::system(at),
                &created,
                SecurityEvent::OrganizationCreated {
                    name: org.name.as_str().to_owned(),
                    admin_email: admin.email.to_string(),
                },
            )
        })?;
        Ok(CreatedOrganization {
            organization_id: org.id,
            admin_id: admin.id,
            generated_password: generated,
        })
    }

    pub fn has_organizations(&self) -> Result<bool, ServiceError> {
        Ok(self.store.read(|tx| tx.count_organizations())? > 0)
    }

    pub fn organization(&self, admin: &UserRecord) -> Result<OrganizationRecord, ServiceError> {
        Ok(self.store.read(|tx| own_organization(tx, admin))?)
    }

    pub fn update_organization(
        &self,
        admin: &UserRecord,
        admin_session: &SessionId,
        update: PolicyUpdate,
        origin: &RequestOrigin,
    ) -> Result<OrganizationRecord, ServiceError> {
        let grace = match update.grace_period_hours {
            Some(h) => Some(grace_period_from_hours(h).ok_or_else(|| {
                Refusal::InvalidInput("grace_period_hours must be 0 to 720".into())
            })?),
            None => None,
        };
        let remember = match update.remember_device_days {
            Some(days) => {
                Some(RememberDays::new(days).map_err(|e| Refusal::InvalidInput(e.to_string()))?)
            }
            None => None,
        };
        let now = self.clock.now();
        Ok(self.store.write(|tx| {
            let org = own_organization(tx, admin)?;
            let before = org.policy;
            let remember = remember
                .map(RememberDays::days)
                .filter(|days| *days != org.remember_device_days)
                .map(|to| Change {
                    from: org.remember_device_days,
                    to,
                });
            if let Some(change) = &remember {
                tx.set_remember_device_days(&org.id, change.to)?;
            }
            let two_factor = update.two_factor.unwrap_or(before.two_factor);
            let updated = OrganizationPolicy {
                two_factor,
                grace_period: grace.unwrap_or(before.grace_period),
                // The grace period counts from when the rule changed.
                since: if two_factor == before.two_factor {
                    before.since
                } else {
                    now
                },
            };
            if updated != before || remember.is_some() {
                tx.update_organization_policy(&org.id, &updated)?;
                let sessions_ended = if updated == before {
                    0
                } else {
                    self.end_sessions_the_policy_refuses(tx, &org.id, (admin, admin_session), now)?
                };
                record_for_organization(
                    tx,
                    &Context::of_user(admin, origin, now),
                    &org.id,
                    SecurityEvent::PolicyChanged {
                        two_factor_policy: Change {
                            from: before.two_factor,
                            to: updated.two_factor,
                        },
                        grace_period_hours: Change {
                            from: hours(before.grace_period),
                            to: hours(updated.grace_period),
                        },
                        remember_device_days: remember,
                        sessions_ended: (sessions_ended > 0).then_some(sessions_ended),
                    },
                )?;
            }
            own_organization(tx, admin)
        })?)
    }

    /// Ends at once the sessions the organization's policy, as it now
    /// stands, no longer allows: those that never proved a second factor,
    /// of users who now must prove one and whom no grace period covers.
    /// The rule is the one a refresh applies (`session_suffices`), so the
    /// change takes effect now instead of at each session's next refresh;
    /// sessions that proved a code or a remembered device meet it.
    fn end_sessions_the_policy_refuses(
        &self,
        tx: &mut Tx<'_>,
        organization_id: &OrganizationId,
        (admin, admin_session): (&UserRecord, &SessionId),
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        let mut ended = 0;
        for user in tx.users_with_password_only_sessions(organization_id, now)? {
            let requirement = self.requirement(tx, &user)?;
            let status = tx.two_factor_status(&user.id)?;
            if !session_suffices(status, &requirement, false, now) {
                // The admin's own session, which made the change, lives on
                // (as a password change keeps the session that made it);
                // its next refresh applies the rule.
                let except = (user.id == admin.id).then_some(admin_session);
                ended += tx.revoke_password_only_sessions(&user.id, except, now)?;
            }
        }
        Ok(ended)
    }

    pub fn audit_events(
        &self,
        admin: &UserRecord,
        user_id: Option<&UserId>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<AuditEventRecord>, ServiceError> {
        Ok(self
            .store
            .read(|tx| tx.audit_events(&admin.organization_id, user_id, before, limit))?)
    }
}
