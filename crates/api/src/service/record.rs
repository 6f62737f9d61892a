//! Writing down what happened: security events (the audit log) and login
//! attempts (the login history). Both are written in the transaction of
//! the change they describe, so neither can exist without the other.

use auth_core::{
    authenticators::AuthenticatorRef,
    events::{Actor, SecurityEvent},
    identity::ClientKind,
    ids::OrganizationId,
    outcome::LoginOutcome,
    UnixTime,
};
use persistence::{
    records::{NewAuditEvent, NewLoginEvent, RequestOrigin, UserRecord},
    StoreError, Tx,
};

use super::Services;

/// Who did something, from where, and when: the part of an event that is
/// the same for everything one request records.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    pub actor: Actor,
    pub origin: &'a RequestOrigin,
    pub at: UnixTime,
}

impl<'a> Context<'a> {
    /// The user acting on their own account.
    pub fn of_user(user: &UserRecord, origin: &'a RequestOrigin, at: UnixTime) -> Self {
        Self {
            actor: Actor::User(user.id.clone()),
            origin,
            at,
        }
    }

    /// Authgate itself, with no request behind it.
    pub fn system(at: UnixTime) -> Context<'static> {
        static NOWHERE: RequestOrigin = RequestOrigin {
            ip: None,
            user_agent: None,
            ip_group: None,
        };
        Context {
            actor: Actor::System,
            origin: &NOWHERE,
            at,
        }
    }
}

/// Records a security event about `user`.
pub fn record(
    tx: &mut Tx<'_>,
    ctx: &Context<'_>,
    user: &UserRecord,
    event: SecurityEvent,
) -> Result<(), StoreError> {
    tx.append_audit(&NewAuditEvent {
        organization_id: Some(&user.organization_id),
        actor: &ctx.actor,
        target_user_id: Some(&user.id),
        event: &event,
        ip: ctx.origin.ip.as_deref(),
        user_agent: ctx.origin.user_agent.as_deref(),
        at: ctx.at,
    })
}

/// Records a security event about an organization as a whole.
pub fn record_for_organization(
    tx: &mut Tx<'_>,
    ctx: &Context<'_>,
    organization_id: &OrganizationId,
    event: SecurityEvent,
) -> Result<(), StoreError> {
    tx.append_audit(&NewAuditEvent {
        organization_id: Some(organization_id),
        actor: &ctx.actor,
        target_user_id: None,
        event: &event,
        ip: ctx.origin.ip.as_deref(),
        user_agent: ctx.origin.user_agent.as_deref(),
        at: ctx.at,
    })
}

/// One login attempt (or one step of one), for the history and metrics.
pub struct Attempt<'a> {
    pub user: Option<&'a UserRecord>,
    pub client: Option<ClientKind>,
    pub origin: &'a RequestOrigin,
    pub at: UnixTime,
}

impl Services {
    pub(crate) fn record_attempt(
        &self,
        tx: &mut Tx<'_>,
        attempt: &Attempt<'_>,
        outcome: LoginOutcome,
    ) -> Result<(), StoreError> {
        self.record_attempt_with(tx, attempt, outcome, None)
    }

    /// The same, naming the authenticator whose code the attempt used.
    pub(crate) fn record_attempt_with(
        &self,
        tx: &mut Tx<'_>,
        attempt: &Attempt<'_>,
        outcome: LoginOutcome,
        authenticator: Option<&AuthenticatorRef>,
    ) -> Result<(), StoreError> {
        self.metrics.login(outcome);
        let new_device = match (attempt.user, attempt.client, &attempt.origin.ip_group) {
            (Some(user), Some(client), Some(group))
                if matches!(outcome, LoginOutcome::Success | LoginOutcome::RecoveryCode) =>
            {
                // Not on an account's first sign-in: every place is new then,
                // and the owner just set the account up.
                let seen = tx.sign_in_familiarity(&user.id, client, group)?;
                (seen.signed_in_before && !seen.from_here_before).then_some((user, client))
            }
            _ => None,
        };
        if let Some((user, client)) = new_device {
            record(
                tx,
                &Context::of_user(user, attempt.origin, attempt.at),
                user,
                SecurityEvent::NewDeviceLogin {
                    client,
                    authenticator: authenticator.cloned(),
                },
            )?;
        }
        tx.insert_login_event(&NewLoginEvent {
            user_id: attempt.user.map(|u| u.id.clone()),
            organization_id: attempt.user.map(|u| u.organization_id.clone()),
            outcome,
            client: attempt.client,
            origin: attempt.origin.clone(),
            at: attempt.at,
            authenticator: authenticator.cloned(),
        })
    }
}
