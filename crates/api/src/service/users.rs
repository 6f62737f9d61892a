//! What an admin does to the users of their own organization. Users of
//! other organizations are answered exactly like missing ones.

use auth_core::{
    events::SecurityEvent,
    identity::{DisplayName, Email, Role},
    ids::UserId,
    password::Password,
    policy::Requirement,
    throttle::Budget,
    UnixTime,
};
use persistence::{
    records::{LoginEventRecord, NewUser, Page, RequestOrigin, UserChanges, UserRecord},
    StoreError, TokenPurpose, Tx,
};
use rand_core::OsRng;

use super::{
    profile::TwoFactorSummary,
    record::{record, Context},
    refusal::{refuse, Decided, Missing, Refusal, SelfChange},
    ServiceError, Services,
};

/// A user as their admin sees them.
#[derive(Debug)]
pub struct UserSummary {
    pub user: UserRecord,
    /// The second-factor budgets hard-locked after too many wrong codes
    /// (an admin's unlock lifts them all).
    pub locked: Vec<Budget>,
    pub two_factor: TwoFactorSummary,
    /// The last successful sign-in, if any.
    pub last_login_at: Option<UnixTime>,
}

#[derive(Debug)]
pub struct UserList {
    pub items: Vec<UserSummary>,
    pub total: i64,
    pub next_offset: Option<i64>,
}

#[derive(Debug)]
pub struct CreatedUser {
    pub user: UserSummary,
    /// Set when no password was given and the operator lets admins set
    /// passwords: shown once, stored only hashed.
    pub generated_password: Option<Password>,
    /// The invitation to mail (the default): the user sets their own
    /// password with it.
    pub invitation: Option<super::letters::PasswordLetter>,
}

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

/// Ends everything a user holds: sessions (refresh and access tokens) and
/// login challenges in flight. Returns (sessions, challenges) ended.
pub(crate) fn end_everything(
    tx: &mut Tx<'_>,
    user_id: &UserId,
    now: UnixTime,
) -> Result<(usize, usize), StoreError> {
    let challenges = tx.revoke_user_challenges(user_id, now)?;
    let sessions = tx.revoke_user_sessions(user_id, None, now)?;
    tx.forget_devices(user_id, now)?;
    Ok((sessions, challenges))
}

impl Services {
    pub(crate) fn user_summary(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        now: UnixTime,
    ) -> Result<UserSummary, StoreError> {
        let requirement = self.requirement(tx, user)?;
        Self::user_summary_under(tx, user, &requirement, now)
    }

    fn user_summary_under(
        tx: &mut Tx<'_>,
        user: &UserRecord,
        requirement: &Requirement,
        now: UnixTime,
    ) -> Result<UserSummary, StoreError> {
        Ok(UserSummary {
            user: user.clone(),
            locked: tx.otp_throttles(&user.id)?.locked(),
            two_factor: Self::two_factor_summary_under(tx, user, requirement, now)?,
            last_login_at: tx.last_login_at(&user.id)?,
        })
    }

    pub fn list_users(
        &self,
        admin: &UserRecord,
        offset: i64,
        limit: i64,
    ) -> Result<UserList, ServiceError> {
        let now = self.clock.now();
        Ok(self.store.read(|tx| {
            let (users, total) = tx.users_of_organization(&admin.organization_id, offset, limit)?;
            let policy = tx
                .organization(&admin.organization_id)?
                .ok_or_else(|| StoreError::Corrupt("admin without organization".into()))?
                .policy;
            let items = users
                .iter()
                .map(|u| {
                    Self::user_summary_under(tx, u, &Requirement::of(&u.facts(), &policy), now)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let next = offset + items.len() as i64;
            Ok(UserList {
                items,
                total,
                next_offset: (next < total).then_some(next),
            })
        })?)
    }

    pub fn get_user(&self, admin: &UserRecord, id: &UserId) -> Result<UserSummary, ServiceError> {
        let now = self.clock.now();
        self.store
            .read(
                |tx| match tx.user_in_organization(&admin.organization_id, id)? {
                    Some(u) => Ok(Decided::Done(self.user_summary(tx, &u, now)?)),
                    None => refuse(Refusal::NotFound(Missing::User)),
                },
            )?
            .into_result()
    }

    pub fn create_user(
        &self,
        admin: &UserRecord,
        input: NewUserInput,
        origin: &RequestOrigin,
    ) -> Result<CreatedUser, ServiceError> {
        let invite = !self.policy.recovery.admin_set_passwords;
        if invite && input.password.is_some() {
            return Err(Refusal::InvalidInput(
                "admins do not choose passwords: leave `password` out and the user gets an \
                 invitation email to set their own (operators of air-gapped setups can allow \
                 it with AUTHGATE_ADMIN_SET_PASSWORDS=true)"
                    .into(),
            )
            .into());
        }
        // An invited user's first password is random and told to nobody.
        let (hash, generated) = self.hash_new_password(input.password)?;
        let generated = if invite { None } else { generated };
        let now = self.clock.now();
        let user = NewUser {
            id: UserId::generate(&mut OsRng),
            organization_id: admin.organization_id.clone(),
            email: input.email,
            name: input.name,
            role: input.role,
            password_hash: hash,
            two_factor_required: input.require_two_factor,
            created_at: now,
        };
        let summary = self.store.write(|tx| {
            tx.insert_user(&user)?;
            let created = tx
                .user_by_id(&user.id)?
                .ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
            let ctx = Context::of_user(admin, origin, now);
            record(
                tx,
                &ctx,
                &created,
                SecurityEvent::UserCreated {
                    email: created.email.to_string(),
                    role: created.role,
                    require_two_factor: created.two_factor_required,
                },
            )?;
            if created.two_factor_required {
                record(
                    tx,
                    &ctx,
                    &created,
                    SecurityEvent::TwoFactorRequired {
                        sessions_ended: None,
                    },
                )?;
            }
            let invitation = if invite {
                let letter =
                    self.issue_password_token(tx, &created, TokenPurpose::Invitation, now)?;
                record(tx, &ctx, &created, SecurityEvent::UserInvited {})?;
                Some(letter)
            } else {
                None
            };
            Ok((self.user_summary(tx, &created, now)?, invitation))
        })?;
        let (summary, invitation) = summary;
        Ok(CreatedUser {
            user: summary,
            generated_password: generated,
            invitation,
        })
    }

    pub fn update_user(
        &self,
        admin: &UserRecord,
        id: &UserId,
        update: UserUpdate,
        origin: &RequestOrigin,
    ) -> Result<UserSummary, ServiceError> {
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let Some(user) = tx.user_in_organization(&admin.organization_id, id)? else {
                    return refuse(Refusal::NotFound(Missing::User));
                };
                let is_self = user.id == admin.id;
                if is_self && update.role.is_some_and(|r| r != Role::Admin) {
                    return refuse(Refusal::CannotModifySelf(SelfChange::Demote));
                }
                if is_self && update.disabled == Some(true) {
                    return refuse(Refusal::CannotModifySelf(SelfChange::Disable));
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
                let ctx = Context::of_user(admin, origin, now);
                if changes.name.is_some() || changes.role.is_some() {
                    record(
                        tx,
                        &ctx,
                        &user,
                        SecurityEvent::UserUpdated {
                            name: changes.name.as_ref().map(|n| n.as_str().to_owned()),
                            role: changes.role,
                            previous_role: changes.role.map(|_| user.role),
                        },
                    )?;
                }
                let required = match changes.two_factor_required {
                    // Sessions that never proved a second factor must not
                    // outlive the new requirement; those that did meet it.
                    Some(true) => Some(SecurityEvent::TwoFactorRequired {
                        sessions_ended: Some({
                            tx.revoke_user_challenges(&user.id, now)?;
                            tx.revoke_password_only_sessions(&user.id, None, now)?
                        }),
                    }),
                    Some(false) => Some(SecurityEvent::TwoFactorRequirementLifted {}),
                    None => None,
                };
                let disabled = match changes.disabled {
                    Some(true) => Some(SecurityEvent::UserDisabled {
                        sessions_ended: end_everything(tx, &user.id, now)?.0,
                    }),
                    Some(false) => Some(SecurityEvent::UserEnabled {}),
                    None => None,
                };
                for event in [required, disabled].into_iter().flatten() {
                    record(tx, &ctx, &user, event)?;
                }
                let updated = tx
                    .user_by_id(&user.id)?
                    .ok_or_else(|| StoreError::Corrupt("user vanished".into()))?;
                Ok(Decided::Done(self.user_summary(tx, &updated, now)?))
            })?
            .into_result()
    }

    pub fn user_login_history(
        &self,
        admin: &UserRecord,
        id: &UserId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<LoginEventRecord>, ServiceError> {
        self.store
            .read(
                |tx| match tx.user_in_organization(&admin.organization_id, id)? {
                    Some(u) => Ok(Decided::Done(tx.login_history(&u.id, before, limit)?)),
                    None => refuse(Refusal::NotFound(Missing::User)),
                },
            )?
            .into_result()
    }
}
