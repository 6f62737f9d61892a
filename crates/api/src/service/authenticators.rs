//! The signed-in user's authenticators: list them, add another (after a
//! step-up), confirm it with its first code, rename one, remove one (after
//! a step-up). The rules are `auth_core::authenticators`; moving to a new
//! phone is "add the new one, then remove the old one", with no admin.

use auth_core::{
    authenticators::{
        AuthenticatorError, AuthenticatorName, AuthenticatorRef, Removal, MAX_AUTHENTICATORS,
    },
    enrollment::EnrollmentSource,
    events::{Change, SecurityEvent},
    ids::{FactorId, SessionId},
    recovery::RecoveryCode,
    totp::OtpCode,
};
use persistence::{
    records::{RequestOrigin, UserRecord},
    AuthenticatorRecord,
};

use super::{
    enrollment::{EnrollmentTicket, Kind},
    record::{record, Context},
    refusal::{proceed, refuse, Decided, Missing, Refusal},
    step_up::{Caller, Needs, StepUp},
    ServiceError, Services,
};

/// A new authenticator waiting for its first code.
#[derive(Debug)]
pub struct AddedAuthenticator {
    pub id: FactorId,
    pub name: AuthenticatorName,
    pub ticket: EnrollmentTicket,
}

/// A just-confirmed authenticator; when it was the first, 2FA is now on
/// and these are the recovery codes, shown once.
#[derive(Debug)]
pub struct ConfirmedAuthenticator {
    pub authenticator: AuthenticatorRecord,
    pub recovery_codes: Option<Vec<RecoveryCode>>,
}

fn refusal_of(e: AuthenticatorError) -> Refusal {
    match e {
        AuthenticatorError::NotFound => Refusal::NotFound(Missing::Authenticator),
        AuthenticatorError::TooMany { max } => Refusal::TooManyAuthenticators { max },
        AuthenticatorError::LastOneRequired(by) => Refusal::LastAuthenticatorRequired(by),
    }
}

impl Services {
    /// The user's confirmed authenticators, oldest first.
    pub fn authenticators(
        &self,
        user: &UserRecord,
    ) -> Result<Vec<AuthenticatorRecord>, ServiceError> {
        Ok(self.store.read(|tx| tx.authenticator_list(&user.id))?)
    }

    fn authenticator_info(
        &self,
        user: &UserRecord,
        id: &FactorId,
    ) -> Result<AuthenticatorRecord, ServiceError> {
        self.authenticators(user)?
            .into_iter()
            .find(|a| &a.id == id)
            .ok_or(ServiceError::Refused(Refusal::NotFound(
                Missing::Authenticator,
            )))
    }

    /// Starts adding an authenticator named `name`: the password, and while
    /// 2FA is on a current code from an existing authenticator (or a
    /// recovery code), then a new secret and its QR code. Adding again
    /// before confirming replaces the pending one.
    pub fn add_authenticator(
        &self,
        caller: &Caller<'_>,
        proof: &StepUp,
        name: &AuthenticatorName,
    ) -> Result<AddedAuthenticator, ServiceError> {
        let user = caller.user;
        // Say "not possible" before asking for proof that would be wasted.
        self.store
            .read(|tx| tx.keyring(&user.id))?
            .may_add(MAX_AUTHENTICATORS)
            .map_err(refusal_of)?;
        self.step_up(caller, proof, Needs::PasswordAndSecondFactor)?;
        let now = self.clock.now();
        let (id, pending) = self
            .store
            .write(|tx| self.begin_enrollment(tx, user, Kind::Another(name), caller.origin, now))?
            .into_result()?;
        Ok(AddedAuthenticator {
            id,
            name: name.clone(),
            ticket: self.ticket(&user.email, &pending, now)?,
        })
    }

    /// Confirms the pending authenticator `id` with its first code. The
    /// first one turns 2FA on as the enrollment endpoints do (recovery
    /// codes, the user's other sessions end); a further one is added and
    /// the user is told by email.
    pub fn confirm_authenticator(
        &self,
        user: &UserRecord,
        session: &SessionId,
        id: &FactorId,
        code: &OtpCode,
        origin: &RequestOrigin,
    ) -> Result<ConfirmedAuthenticator, ServiceError> {
        let now = self.clock.now();
        let codes = self
            .store
            .write(|tx| {
                let enabled = proceed!(self.enable_pending(
                    tx,
                    user,
                    Some(id),
                    code,
                    EnrollmentSource::SelfService,
                    origin,
                    now
                )?);
                let codes = if enabled.first {
                    Some(self.two_factor_turned_on(tx, user, session, now)?)
                } else {
                    None
                };
                Ok(Decided::Done(codes))
            })?
            .into_result()?;
        Ok(ConfirmedAuthenticator {
            authenticator: self.authenticator_info(user, id)?,
            recovery_codes: codes,
        })
    }

    /// Renames one of the user's authenticators.
    pub fn rename_authenticator(
        &self,
        user: &UserRecord,
        id: &FactorId,
        name: &AuthenticatorName,
        origin: &RequestOrigin,
    ) -> Result<AuthenticatorRecord, ServiceError> {
        let now = self.clock.now();
        self.store
            .write(|tx| {
                let ring = tx.keyring(&user.id)?;
                let Some(current) = ring.find(id) else {
                    return refuse(Refusal::NotFound(Missing::Authenticator));
                };
                if &current.name == name {
                    return Ok(Decided::Done(()));
                }
                if !tx.rename_authenticator(&user.id, id, name)? {
                    return refuse(Refusal::NotFound(Missing::Authenticator));
                }
                record(
                    tx,
                    &Context::of_user(user, origin, now),
                    user,
                    SecurityEvent::AuthenticatorRenamed {
                        authenticator_id: id.clone(),
                        name: Change {
                            from: current.name.as_str().to_owned(),
                            to: name.as_str().to_owned(),
                        },
                    },
                )?;
                Ok(Decided::Done(()))
            })?
            .into_result()?;
        self.authenticator_info(user, id)
    }

    /// Removes one of the user's authenticators after a step-up (the
    /// password and a current code from any authenticator, or a recovery
    /// code). The last one can go only when nobody requires 2FA of the
    /// user, and then 2FA goes with it, as when it is turned off.
    pub fn remove_authenticator(
        &self,
        caller: &Caller<'_>,
        id: &FactorId,
        proof: &StepUp,
    ) -> Result<Removal, ServiceError> {
        let (user, origin) = (caller.user, caller.origin);
        self.store.read(|tx| {
            let requirement = self.requirement(tx, user)?;
            Ok(tx
                .keyring(&user.id)?
                .removal(id, &requirement)
                .map_err(refusal_of))
        })??;
        self.step_up(caller, proof, Needs::PasswordAndSecondFactor)?;
        let now = self.clock.now();
        self.store
            .write(|tx| {
                // Again, under the write lock: another request may have
                // removed one meanwhile.
                let requirement = self.requirement(tx, user)?;
                let ring = tx.keyring(&user.id)?;
                let removal = match ring.removal(id, &requirement) {
                    Ok(r) => r,
                    Err(e) => return refuse(refusal_of(e)),
                };
                let authenticator: AuthenticatorRef = match ring.find(id) {
                    Some(a) => a.reference(),
                    None => return refuse(Refusal::NotFound(Missing::Authenticator)),
                };
                let ctx = Context::of_user(user, origin, now);
                match removal {
                    Removal::One => {
                        tx.delete_authenticator(&user.id, id)?;
                        record(
                            tx,
                            &ctx,
                            user,
                            SecurityEvent::AuthenticatorRemoved { authenticator },
                        )?;
                    }
                    Removal::Last => {
                        Self::turn_two_factor_off(tx, caller, Some(authenticator), now)?;
                    }
                }
                Ok(Decided::Done(removal))
            })?
            .into_result()
    }
}
