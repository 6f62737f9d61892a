//! Instants as milliseconds since the Unix epoch, passed into the logic.

use std::time::Duration;

/// An instant, UTC, in milliseconds since 1970-01-01. Stored as `BIGINT` so
/// SQLite and PostgreSQL hold exactly the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(i64);

impl UnixTime {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds, rounded towards the past.
    pub const fn as_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }

    pub fn minus(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_sub(ms))
    }

    /// Time left until `later`, or zero once it has passed.
    pub fn until(self, later: UnixTime) -> Duration {
        Duration::from_millis(u64::try_from(later.0.saturating_sub(self.0)).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_towards_the_past() {
        assert_eq!(UnixTime::from_millis(1999).as_secs(), 1);
        assert_eq!(UnixTime::from_millis(-1).as_secs(), -1);
    }

    #[test]
    fn until_is_zero_once_passed() {
        let t = UnixTime::from_secs(100);
        assert_eq!(t.until(UnixTime::from_secs(90)), Duration::ZERO);
        assert_eq!(t.until(UnixTime::from_secs(105)), Duration::from_secs(5));
    }
}
