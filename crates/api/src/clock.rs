//! The one place the wall clock is read. Use cases ask [`Clock::now`] and
//! pass the instant into the rules; tests run the whole application on a
//! clock they can move forward instead of sleeping.

use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use auth_core::UnixTime;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the wall clock; only tests move it.
    offset: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The wall clock, as production runs.
    pub fn system() -> Self {
        Self { offset: None }
    }

    /// The wall clock plus an offset that [`Clock::advance`] moves: time
    /// still flows (ordering by time keeps working) and a test can jump
    /// ahead by minutes or days at once.
    pub fn adjustable() -> Self {
        Self {
            offset: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    pub fn now(&self) -> UnixTime {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let offset = self
            .offset
            .as_ref()
            .map_or(0, |o| o.load(Ordering::Relaxed));
        UnixTime::from_millis(wall.saturating_add(offset))
    }

    /// Moves an adjustable clock forward; the system clock cannot be moved
    /// and ignores this.
    pub fn advance(&self, by: Duration) {
        if let Some(offset) = &self.offset {
            offset.fetch_add(
                i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
                Ordering::Relaxed,
            );
        }
    }

    pub fn is_adjustable(&self) -> bool {
        self.offset.is_some()
    }
}

/// RFC 3339 in UTC with milliseconds, as every timestamp in the API.
pub fn rfc3339(t: UnixTime) -> String {
    chrono::DateTime::from_timestamp_millis(t.as_millis())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_jumps_forward_and_clones_share_it() {
        let clock = Clock::adjustable();
        let shared = clock.clone();
        let before = clock.now();
        shared.advance(Duration::from_secs(3600));
        let after = clock.now();
        assert!(after.as_millis() - before.as_millis() >= 3_600_000);
    }

    #[test]
    fn the_system_clock_ignores_advances() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now().as_millis() - before.as_millis() < 3_600_000);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(
            rfc3339(UnixTime::from_millis(1_700_000_000_123)),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
