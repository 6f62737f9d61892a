//! "Remember this device": after proving a second factor, a client may ask
//! for a device token. At later logins of the same account the token, with
//! the right password, stands in for the code. It is a second factor of
//! its own (something the device holds, earned with a code), so it obeys
//! the rules of one:
//! * it exists only for accounts with 2FA enabled, and dies when 2FA is
//!   disabled or reset, when the password changes, and when its owner
//!   forgets it;
//! * it lasts at most [`MAX_REMEMBER_DAYS`]; an organization may shorten
//!   that or turn the feature off (0), which also applies to devices
//!   already remembered;
//! * it never skips the password, and never opens a hard-locked account.

use std::time::Duration;

use crate::UnixTime;

/// The longest a device is remembered, and the default.
pub const MAX_REMEMBER_DAYS: u32 = 30;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// An organization's setting: days a remembered device lasts; 0 is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RememberDays(u32);

impl RememberDays {
    pub const DEFAULT: Self = Self(MAX_REMEMBER_DAYS);
    pub const OFF: Self = Self(0);

    pub fn new(days: u32) -> Result<Self, RememberDaysError> {
        if days <= MAX_REMEMBER_DAYS {
            Ok(Self(days))
        } else {
            Err(RememberDaysError)
        }
    }

    pub fn days(self) -> u32 {
        self.0
    }

    /// How long a newly remembered device lasts; `None` when off.
    pub fn lifetime(self) -> Option<Duration> {
        (self.0 > 0).then(|| DAY * self.0)
    }

    /// Devices remembered before this instant are too old under the
    /// current setting (a shortened setting applies to existing devices);
    /// `None` when the feature is off and no device counts.
    pub fn remembered_since(self, now: UnixTime) -> Option<UnixTime> {
        self.lifetime().map(|l| now.minus(l))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("remember_device_days must be 0 (off) to 30")]
pub struct RememberDaysError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_may_shorten_the_lifetime_or_turn_it_off_but_not_lengthen_it() {
        assert_eq!(
            RememberDays::DEFAULT.lifetime(),
            Some(Duration::from_secs(30 * 86_400))
        );
        assert_eq!(
            RememberDays::new(7).unwrap().lifetime(),
            Some(Duration::from_secs(7 * 86_400))
        );
        assert_eq!(RememberDays::new(0).unwrap().lifetime(), None);
        assert_eq!(RememberDays::new(31), Err(RememberDaysError));
    }

    #[test]
    fn a_shortened_setting_also_ends_devices_remembered_earlier() {
        let now = UnixTime::from_secs(100 * 86_400);
        let since = RememberDays::new(7).unwrap().remembered_since(now).unwrap();
        assert_eq!(since, UnixTime::from_secs(93 * 86_400));
        assert_eq!(RememberDays::new(0).unwrap().remembered_since(now), None);
    }
}
