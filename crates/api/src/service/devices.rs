//! Remembered devices: issued at the code step on request, honoured at the
//! password step, listed and forgotten by their owner. The rules are in
//! `auth_core::remembered_device`.

use auth_core::{
    identity::ClientKind,
    ids::DeviceId,
    opaque_token::{OpaqueToken, TokenHash},
    remembered_device::RememberDays,
    throttle::{Budget, Verdict},
    UnixTime,
};
use persistence::{
    records::{RequestOrigin, UserRecord},
    DeviceRecord, NewDevice, StoreError, Tx,
};
use rand_core::OsRng;

use super::{
    refusal::{Missing, Refusal},
    ServiceError, Services,
};

fn setting(tx: &mut Tx<'_>, user: &UserRecord) -> Result<RememberDays, StoreError> {
    let days = tx
        .organization(&user.organization_id)?
        .map_or(0, |o| o.remember_device_days);
    // Out of range only if the row was edited by hand: treat it as off.
    Ok(RememberDays::new(days).unwrap_or(RememberDays::OFF))
}

impl Services {
    /// A device token for the device that just proved a second factor, if
    /// the user's organization allows remembering devices.
    pub(crate) fn remember_device(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        client: ClientKind,
        origin: &RequestOrigin,
        now: UnixTime,
    ) -> Result<Option<OpaqueToken>, StoreError> {
        let Some(lifetime) = setting(tx, user)?.lifetime() else {
            return Ok(None);
        };
        let token = OpaqueToken::generate("dt", &mut OsRng);
        let id = DeviceId::generate(&mut OsRng);
        tx.remember_device(&NewDevice {
            id: id.as_str(),
            user_id: &user.id,
            hash: &token.hash(),
            client,
            ip: origin.ip.as_deref(),
            user_agent: origin.user_agent.as_deref(),
            created_at: now,
            expires_at: now.plus(lifetime),
        })?;
        Ok(Some(token))
    }

    /// Whether `device` is one of the user's live remembered devices, under
    /// the organization's current setting; marks it used. It is the
    /// owner's: only the owner budget's hard lock stops it, never waits and
    /// never the strangers' budget, so strangers' guesses cannot lock the
    /// owner out of a known device.
    pub(crate) fn device_lets_in(
        &self,
        tx: &mut Tx<'_>,
        user: &UserRecord,
        device: &TokenHash,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let Some(since) = setting(tx, user)?.remembered_since(now) else {
            return Ok(false);
        };
        let owner = tx.otp_throttle(&user.id, Budget::Owner)?;
        if self.policy.second_factor.check(&owner, now) == Verdict::Locked {
            return Ok(false);
        }
        tx.use_remembered_device(&user.id, device, since, now)
    }

    pub fn devices(&self, user: &UserRecord) -> Result<Vec<DeviceRecord>, ServiceError> {
        let now = self.clock.now();
        Ok(self.store.read(|tx| tx.remembered_devices(&user.id, now))?)
    }

    pub fn forget_device(&self, user: &UserRecord, id: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        if self.store.write(|tx| tx.forget_device(&user.id, id, now))? {
            Ok(())
        } else {
            Err(Refusal::NotFound(Missing::Device).into())
        }
    }
}
