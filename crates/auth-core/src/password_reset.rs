//! Password tokens: a forgotten-password reset (`pr_…`, 30 minutes by
//! default) and an invitation's set-password token (7 days by default),
//! both redeemed at one endpoint.
//!
//! A token is **issued** (only its hash is kept), then ends exactly once:
//! **used** (the password was set), **superseded** (a newer token was
//! issued, the password changed, the user was removed) or **expired**.
//! Redeeming never removes the second factor: an account with 2FA must
//! also prove a code or a recovery code, and a refusal for a missing or
//! wrong factor leaves the token usable, so the owner can try again.
//!
//! Requests are answered alike for known and unknown emails; a request
//! over the per-account or per-address limit is answered alike too, and
//! simply sends nothing.

use std::time::Duration;

use crate::UnixTime;

/// How many forgotten-password mails one account, and one address, may
/// cause within `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResetLimits {
    pub per_account: i64,
    pub per_address: i64,
    pub window: Duration,
}

impl Default for ResetLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(3600),
        }
    }
}

impl ResetLimits {
    /// Counting starts here: requests at or after it are in the window.
    pub fn window_start(&self, now: UnixTime) -> UnixTime {
        now.minus(self.window)
    }

    /// Whether a request that found these earlier requests in the window
    /// (the current one not counted) may send a mail.
    pub fn allows(&self, for_account: i64, from_address: i64) -> bool {
        for_account < self.per_account && from_address < self.per_address
    }
}

/// Where a stored token stands at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    Usable,
    /// Used, superseded or revoked.
    Ended,
    Expired,
}

impl TokenState {
    pub fn of(expires_at: UnixTime, ended_at: Option<UnixTime>, now: UnixTime) -> Self {
        if ended_at.is_some() {
            Self::Ended
        } else if now >= expires_at {
            Self::Expired
        } else {
            Self::Usable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_under_both_limits_send_mail() {
        let limits = ResetLimits::default();
        assert!(limits.allows(0, 0));
        assert!(limits.allows(4, 19));
    }

    #[test]
    fn either_limit_reached_stops_the_mail() {
        let limits = ResetLimits::default();
        assert!(!limits.allows(5, 0));
        assert!(!limits.allows(0, 20));
    }

    #[test]
    fn the_window_reaches_back_from_now() {
        let limits = ResetLimits::default();
        let now = UnixTime::from_millis(10_000_000);
        assert_eq!(
            limits.window_start(now),
            UnixTime::from_millis(10_000_000 - 3_600_000)
        );
    }

    #[test]
    fn a_token_is_usable_until_it_ends_or_expires() {
        let expires = UnixTime::from_millis(2_000);
        let before = UnixTime::from_millis(1_999);
        assert_eq!(TokenState::of(expires, None, before), TokenState::Usable);
        assert_eq!(TokenState::of(expires, None, expires), TokenState::Expired);
        assert_eq!(
            TokenState::of(expires, Some(UnixTime::from_millis(1_000)), before),
            TokenState::Ended
        );
    }
}
