//! What a user (or their admin) reads about an account.

use auth_core::password::Password;
use auth_core::{
    enrollment::TwoFactorStatus,
    identity::{ClientKind, Role},
    policy::{EnforcedBy, Requirement},
    UnixTime,
};
use persistence::{
    records::{Actor, LoginEventRecord, Page, RequestOrigin, UserChanges, UserRecord},
    StoreError, Tx,
};
use rand_core::OsRng;

use super::{rfc3339, two_factor::audit, Services};
use crate::extract::Authenticated;
use crate::{
    dto::{
        Client, EnforcedByDto, LoginEventView, LoginHistoryPage, MeResponse, OrganizationRef,
        RoleDto, SessionList, SessionView, TwoFactorStatusDto, TwoFactorView,
    },
    problem::ApiError,
};

pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

pub fn page_limit(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        n @ 1..=MAX_PAGE => Ok(i64::from(n)),
        _ => Err(ApiError::InvalidRequest(format!(
            "limit must be 1 to {MAX_PAGE}"
        ))),
    }
}

pub fn role_dto(role: Role) -> RoleDto {
    match role {
        Role::Admin => RoleDto::Admin,
        Role::Agent => RoleDto::Agent,
    }
}

pub fn client_dto(c: ClientKind) -> Client {
    match c {
        ClientKind::Web => Client::Web,
        ClientKind::Mobile => Client::Mobile,
        ClientKind::Extension => Client::Extension,
        ClientKind::Api => Client::Api,
    }
}

pub fn two_factor_view_of(
    status: TwoFactorStatus,
    requirement: &Requirement,
    now: UnixTime,
) -> TwoFactorView {
    TwoFactorView {
        status: match status {
            TwoFactorStatus::Disabled => TwoFactorStatusDto::Disabled,
            TwoFactorStatus::Pending => TwoFactorStatusDto::Pending,
            TwoFactorStatus::Enabled => TwoFactorStatusDto::Enabled,
        },
        enforced: requirement.is_enforced(),
        enforced_by: requirement.enforced_by.map(|by| match by {
            EnforcedBy::Admin => EnforcedByDto::Admin,
            EnforcedBy::Organization => EnforcedByDto::Organization,
        }),
        enrollment_deadline: match (status, requirement.grace_until) {
            (TwoFactorStatus::Enabled, _) => None,
            (_, Some(deadline)) if now < deadline => Some(rfc3339(deadline)),
            _ => None,
        },
        recovery_codes_remaining: None,
        recovery_codes: None,
    }
}

pub fn history_page(page: Page<LoginEventRecord>) -> LoginHistoryPage {
    LoginHistoryPage {
        items: page
            .items
            .into_iter()
            .map(|e| LoginEventView {
                id: e.id,
                at: rfc3339(e.at),
                outcome: e.outcome.as_str().to_owned(),
                client: e.client.map(client_dto),
                ip: e.ip,
                user_agent: e.user_agent,
            })
            .collect(),
        next_before: page.next_before,
    }
}

impl Services {
    pub fn two_factor_view(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        now: UnixTime,
    ) -> Result<TwoFactorView, StoreError> {
        let requirement = self.requirement(tx, user)?;
        Self::two_factor_view_under(tx, user, &requirement, now)
    }

    /// The view when the requirement is already known (a list of users
    /// reads their organization once, not once per user).
    pub fn two_factor_view_under(
        tx: &mut Tx<'_>,
        user: &UserRecord,
        requirement: &Requirement,
        now: UnixTime,
    ) -> Result<TwoFactorView, StoreError> {
        let status = tx.two_factor_status(&user.id)?;
        let mut view = two_factor_view_of(status, requirement, now);
        if status == TwoFactorStatus::Enabled {
            view.recovery_codes_remaining = Some(tx.remaining_recovery_codes(&user.id)?);
        }
        Ok(view)
    }

    /// The caller's profile, from what authentication already read: no
    /// further query.
    pub fn me(auth: &Authenticated, now: UnixTime) -> MeResponse {
        let extra = &auth.principal_extra;
        let user = &auth.user;
        let requirement = Requirement::of(&user.facts(), &extra.organization.policy);
        let mut two_factor = two_factor_view_of(extra.two_factor, &requirement, now);
        if extra.two_factor == TwoFactorStatus::Enabled {
            two_factor.recovery_codes_remaining = Some(extra.recovery_codes_remaining);
        }
        MeResponse {
            id: user.id.clone(),
            email: user.email.to_string(),
            name: user.name.clone(),
            role: role_dto(user.role),
            organization: OrganizationRef {
                id: extra.organization.id.clone(),
                name: extra.organization.name.clone(),
            },
            two_factor,
        }
    }

    pub fn login_history(
        &self,
        user_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<LoginHistoryPage, ApiError> {
        let page = self
            .store
            .read(|tx| tx.login_history(user_id, before, limit))?;
        Ok(history_page(page))
    }
}

impl Services {
    pub fn sessions(
        &self,
        user: &UserRecord,
        current: &str,
        now: UnixTime,
    ) -> Result<SessionList, ApiError> {
        let sessions = self.store.read(|tx| tx.user_sessions(&user.id, now))?;
        Ok(SessionList {
            items: sessions
                .into_iter()
                .map(|s| SessionView {
                    current: s.id == current,
                    client: client_dto(s.client),
                    ip: s.ip,
                    user_agent: s.user_agent,
                    created_at: rfc3339(s.created_at),
                    last_used_at: rfc3339(s.last_used_at),
                    amr: s.amr,
                    id: s.id,
                })
                .collect(),
        })
    }

    pub fn end_session(
        &self,
        user: &UserRecord,
        session_id: &str,
        now: UnixTime,
    ) -> Result<(), ApiError> {
        if self
            .store
            .write(|tx| tx.revoke_own_session(&user.id, session_id, now))?
        {
            Ok(())
        } else {
            Err(ApiError::NotFound("session"))
        }
    }

    /// Changes the password after checking the current one; every other
    /// session of the user ends.
    pub fn change_password(
        &self,
        user: &UserRecord,
        session_id: &str,
        current: &Password,
        new: &Password,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<(), ApiError> {
        if !self
            .hasher
            .verify(current, &user.password_hash)
            .map_err(|_| ApiError::Internal)?
        {
            return Err(ApiError::InvalidPassword);
        }
        let hash = self
            .hasher
            .hash(new, &mut OsRng)
            .map_err(|_| ApiError::Internal)?;
        self.store.write(|tx| {
            tx.update_user(
                &user.id,
                &UserChanges {
                    password_hash: Some(hash),
                    ..UserChanges::default()
                },
                now,
            )?;
            let ended = tx.revoke_other_sessions(&user.id, session_id, now)?;
            tx.revoke_user_challenges(&user.id, now)?;
            audit(
                tx,
                user,
                Actor::User(&user.id),
                "user.password_changed",
                origin,
                serde_json::json!({"sessions_ended": ended}),
                now,
            )
        })?;
        Ok(())
    }
}
