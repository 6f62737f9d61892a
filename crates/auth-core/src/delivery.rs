//! When to try a notification or webhook delivery again, and when to give
//! up: the rules of the outbox dispatcher, with time passed in.
//!
//! Delivery is at least once. A delivery is claimed under a lease (a time
//! until which no other dispatcher takes it); a dispatcher that dies mid
//! delivery simply lets the lease run out and another takes the delivery
//! up again, with the same event id so receivers can drop the duplicate.

use std::time::Duration;

use crate::UnixTime;

/// The knobs of retrying; see `AUTHGATE_OUTBOX_*` in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the first failure; doubled after each further one.
    pub base_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// A delivery still failing this long after its event is dead: kept,
    /// visible, never tried again.
    pub max_age: Duration,
    /// How long a claimed delivery belongs to one dispatcher.
    pub lease: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(3600),
            max_age: Duration::from_secs(3 * 86400),
            lease: Duration::from_secs(60),
        }
    }
}

/// What becomes of a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(UnixTime),
    Dead,
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts (1 = the first failure).
    /// `jitter` in `[0, 1)` spreads retries of many deliveries that failed
    /// together (an endpoint that was down) over the second half of the
    /// interval, so they do not all come back at once.
    pub fn backoff(&self, failures: u32, jitter: f64) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        let full = self
            .base_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        full.mul_f64(0.5 + jitter / 2.0)
    }

    /// The step after an attempt made at `now` on a delivery of an event
    /// created at `created_at`, after `failures` failed attempts so far
    /// (including this one, when it failed).
    pub fn after_attempt(
        &self,
        succeeded: bool,
        created_at: UnixTime,
        now: UnixTime,
        failures: u32,
        jitter: f64,
    ) -> NextStep {
        if succeeded {
            return NextStep::Delivered;
        }
        let next = now.plus(self.backoff(failures, jitter));
        if next > created_at.plus(self.max_age) {
            NextStep::Dead
        } else {
            NextStep::RetryAt(next)
        }
    }

    /// Until when a delivery claimed at `now` is this dispatcher's.
    pub fn lease_until(&self, now: UnixTime) -> UnixTime {
        now.plus(self.lease)
    }
}

/// Whether an endpoint failing without a single success since
/// `failing_since` should be disabled at `now`.
pub fn should_disable_endpoint(
    failing_since: Option<UnixTime>,
    now: UnixTime,
    disable_after: Duration,
) -> bool {
    failing_since.is_some_and(|since| now >= since.plus(disable_after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(300),
            max_age: Duration::from_secs(3600),
            lease: Duration::from_secs(30),
        }
    }

    #[test]
    fn the_wait_doubles_after_each_failure_up_to_the_maximum() {
        let p = policy();
        // With the largest jitter the wait is the full interval.
        let full = |n| p.backoff(n, 0.999_999_999).as_secs();
        assert_eq!(full(1), 9);
        assert_eq!(full(2), 19);
        assert_eq!(full(3), 39);
        assert_eq!(full(6), 299);
        assert_eq!(full(60), 299, "no overflow, capped");
    }

    #[test]
    fn jitter_spreads_the_wait_over_the_second_half_of_the_interval() {
        let p = policy();
        assert_eq!(p.backoff(1, 0.0), Duration::from_secs(5));
        assert_eq!(p.backoff(1, 0.5), Duration::from_millis(7500));
        assert_eq!(p.backoff(1, f64::NAN), Duration::from_secs(5));
        assert!(p.backoff(1, 7.0) <= Duration::from_secs(10));
    }

    #[test]
    fn a_success_is_final() {
        let t = UnixTime::from_secs(1000);
        assert_eq!(
            policy().after_attempt(true, t, t, 0, 0.0),
            NextStep::Delivered
        );
    }

    #[test]
    fn a_failure_is_retried_after_the_backoff() {
        let t = UnixTime::from_secs(1000);
        assert_eq!(
            policy().after_attempt(false, t, t, 1, 0.0),
            NextStep::RetryAt(UnixTime::from_secs(1005))
        );
    }

    #[test]
    fn a_delivery_older_than_the_maximum_age_is_dead() {
        let created = UnixTime::from_secs(1000);
        let late = created.plus(Duration::from_secs(3596));
        assert_eq!(
            policy().after_attempt(false, created, late, 1, 0.0),
            NextStep::Dead
        );
    }

    #[test]
    fn a_lease_runs_for_its_length() {
        assert_eq!(
            policy().lease_until(UnixTime::from_secs(10)),
            UnixTime::from_secs(40)
        );
    }

    #[test]
    fn an_endpoint_is_disabled_only_after_failing_for_the_whole_period() {
        let day = Duration::from_secs(86400);
        let since = UnixTime::from_secs(0);
        assert!(!should_disable_endpoint(
            None,
            UnixTime::from_secs(10 * 86400),
            day
        ));
        assert!(!should_disable_endpoint(
            Some(since),
            UnixTime::from_secs(86399),
            day
        ));
        assert!(should_disable_endpoint(
            Some(since),
            UnixTime::from_secs(86400),
            day
        ));
    }
}
