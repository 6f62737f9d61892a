//! Brute-force limits: the second-factor throttle and the password-stage
//! limits, as pure policy over explicit state and time.
//!
//! Second factor, per account and [`Budget`] (codes from addresses the
//! account signs in from, and codes from anywhere else), three mechanisms
//! at once:
//!
//! ```text
//!  consecutive failures:  1..=5 free │ then waits 1 min, 2 min, 4 min … (cap 1 h) │ 100 → locked
//!  guess budget (GCRA):   a burst of 5, then one guess per 96 h (×(2w+1)/3 for window w)
//!  locked:                only an admin or `authgate support unlock` lifts it
//! ```
//!
//! A success resets the consecutive count but **not** the budget, so a
//! victim who keeps logging in does not refill an attacker's guesses: the
//! budgets alone bound guesses per year, and both together allow what one
//! budget of twice the burst and rate would (see `SECURITY.md` and the test
//! `a_year_of_guessing_stays_below_one_in_a_thousand`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::UnixTime;

const HOUR: Duration = Duration::from_secs(3600);

/// Which of an account's two second-factor budgets a code attempt answers
/// to. Strangers who know the password can run the `Stranger` budget into
/// waits and its hard lock, and the owner, from an address they sign in
/// from, still has the whole `Owner` budget: strangers' failures never
/// lock the owner out of a known device or address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Budget {
    /// Codes from addresses the account has not signed in from lately.
    Stranger,
    /// Codes from an address group the account signed in from lately (a
    /// login that issued tokens, within `PasswordPolicy::familiar_for`).
    Owner,
}

impl Budget {
    pub const ALL: [Budget; 2] = [Budget::Stranger, Budget::Owner];

    /// The budget of an attempt from an address the account does or does
    /// not know.
    pub fn of(address_is_familiar: bool) -> Self {
        if address_is_familiar {
            Budget::Owner
        } else {
            Budget::Stranger
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Budget::Stranger => "stranger",
            Budget::Owner => "owner",
        }
    }
}

/// Both budgets of an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Throttles {
    pub stranger: ThrottleState,
    pub owner: ThrottleState,
}

impl Throttles {
    pub fn of(&self, budget: Budget) -> ThrottleState {
        match budget {
            Budget::Stranger => self.stranger,
            Budget::Owner => self.owner,
        }
    }

    /// The hard-locked budgets (what an unlock would lift).
    pub fn locked(&self) -> Vec<Budget> {
        Budget::ALL
            .into_iter()
            .filter(|b| self.of(*b).locked_at.is_some())
            .collect()
    }
}

/// Where an account stands against the second-factor throttle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThrottleState {
    pub consecutive_failures: u32,
    pub last_failure_at: Option<UnixTime>,
    /// GCRA "theoretical arrival time" of the guess budget.
    pub budget_tat: Option<UnixTime>,
    pub locked_at: Option<UnixTime>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Try again at `until`.
    Wait {
        until: UnixTime,
    },
    /// Hard lock: a person must lift it.
    Locked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondFactorPolicy {
    pub free_failures: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub lock_after: u32,
    pub burst: u32,
    pub refill_interval: Duration,
}

impl SecondFactorPolicy {
    /// The default policy of each budget for a TOTP window of ±`window`
    /// steps: a wider window accepts more codes per guess, so the budget
    /// refills slower. An attacker who can send codes both from an address
    /// of the owner's and from elsewhere spends both budgets, so each gets
    /// half of the one budget the yearly bound allows: half its burst (5 of
    /// 10) and half its rate (one guess per 96 h instead of 48 h, at w = 1).
    pub fn for_window(window: u8) -> Self {
        let codes = 2 * u32::from(window) + 1;
        let budgets = Budget::ALL.len() as u32;
        Self {
            free_failures: 5,
            base_delay: Duration::from_secs(60),
            max_delay: HOUR,
            lock_after: 100,
            burst: 10 / budgets,
            refill_interval: 48 * HOUR * budgets * codes / 3,
        }
    }

    /// The policy for a user with `authenticators` confirmed authenticators:
    /// a guess is checked against each of them, so it has that many times
    /// the codes to hit, and the budget refills that many times slower. The
    /// yearly bound stays the same whatever the user holds (SECURITY.md).
    #[must_use]
    pub fn for_authenticators(&self, authenticators: usize) -> Self {
        let n = u32::try_from(authenticators.max(1)).unwrap_or(u32::MAX);
        Self {
            refill_interval: self.refill_interval.saturating_mul(n),
            ..*self
        }
    }

    fn tolerance(&self) -> Duration {
        self.refill_interval * self.burst.saturating_sub(1)
    }

    pub fn check(&self, s: &ThrottleState, now: UnixTime) -> Verdict {
        if s.locked_at.is_some() {
            return Verdict::Locked;
        }
        let mut until = now;
        if let (Some(last), true) = (
            s.last_failure_at,
            s.consecutive_failures >= self.free_failures,
        ) {
            let doublings = (s.consecutive_failures - self.free_failures).min(20);
            let delay = (self.base_delay * 2u32.pow(doublings)).min(self.max_delay);
            until = until.max(last.plus(delay));
        }
        if let Some(tat) = s.budget_tat {
            until = until.max(tat.minus(self.tolerance()));
        }
        if until > now {
            Verdict::Wait { until }
        } else {
            Verdict::Allowed
        }
    }

    pub fn after_failure(&self, s: ThrottleState, now: UnixTime) -> ThrottleState {
        let consecutive_failures = s.consecutive_failures.saturating_add(1);
        let tat = s.budget_tat.map_or(now, |t| t.max(now));
        ThrottleState {
            consecutive_failures,
            last_failure_at: Some(now),
            budget_tat: Some(tat.plus(self.refill_interval)),
            locked_at: s
                .locked_at
                .or((consecutive_failures >= self.lock_after).then_some(now)),
        }
    }

    /// A correct code: the consecutive count starts over; the budget stays.
    pub fn after_success(&self, s: ThrottleState) -> ThrottleState {
        ThrottleState {
            consecutive_failures: 0,
            last_failure_at: None,
            ..s
        }
    }

    /// What an admin's or support's unlock does: everything starts over.
    pub fn unlocked() -> ThrottleState {
        ThrottleState::default()
    }
}

/// Password-stage limits, counted over sliding windows from the login
/// history. Someone who only knows a victim's email cannot lock the victim
/// out: failures from addresses the account never logged in from use up
/// the account-wide allowance only, while each address the account logged
/// in from during the last 30 days keeps an allowance of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub window: Duration,
    /// Failures per account per window from unfamiliar addresses (ASVS
    /// 2.2.1: at most 100 per hour).
    pub per_account: u32,
    /// Failures per account per window from one familiar address.
    pub per_familiar_address: u32,
    /// Failures per client address per window, over all accounts.
    pub per_address: u32,
    /// How long a successful login makes an address familiar.
    pub familiar_for: Duration,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            window: HOUR,
            per_account: 100,
            per_familiar_address: 20,
            per_address: 300,
            familiar_for: 30 * 24 * HOUR,
        }
    }
}

/// Recent failures, as counted by storage over `PasswordPolicy::window`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PasswordFailures {
    /// Of this account, from unfamiliar addresses.
    pub account_unfamiliar: u32,
    /// Of this account, from this address.
    pub account_from_address: u32,
    /// From this address, over all accounts.
    pub address: u32,
    /// The account logged in successfully from this address lately.
    pub address_is_familiar: bool,
}

impl PasswordPolicy {
    /// Whether another password attempt may be evaluated.
    pub fn allows(&self, f: &PasswordFailures) -> bool {
        self.address_allows(f) && self.account_allows(f)
    }

    /// The per-address limit: it depends only on the caller (and whether
    /// the account already knows the caller's address), so it is decided
    /// before any password is hashed. An account's own familiar address is
    /// never refused for that account, however many strangers fail from
    /// the same address (an office, a proxy).
    pub fn address_allows(&self, f: &PasswordFailures) -> bool {
        f.address_is_familiar || f.address < self.per_address
    }

    /// The per-account limits (decided after the same work as a wrong
    /// password, so they reveal nothing about the account).
    pub fn account_allows(&self, f: &PasswordFailures) -> bool {
        if f.address_is_familiar {
            f.account_from_address < self.per_familiar_address
        } else {
            f.account_unfamiliar < self.per_account
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = UnixTime::from_secs(1_700_000_000);
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn policy() -> SecondFactorPolicy {
        SecondFactorPolicy::for_window(1)
    }

    /// Guesses an attacker gets in a year, guessing as soon as allowed;
    /// `victim_logs_in_daily` interleaves the real user's successes.
    fn guesses_in_a_year(p: &SecondFactorPolicy, victim_logs_in_daily: bool) -> u64 {
        let mut s = ThrottleState::default();
        let mut now = T0;
        let mut next_victim_login = T0.plus(DAY);
        let mut guesses = 0;
        while now < T0.plus(YEAR) {
            if victim_logs_in_daily && now >= next_victim_login {
                if p.check(&s, next_victim_login) == Verdict::Allowed {
                    s = p.after_success(s);
                }
                next_victim_login = next_victim_login.plus(DAY);
            }
            match p.check(&s, now) {
                Verdict::Allowed => {
                    guesses += 1;
                    s = p.after_failure(s, now);
                    now = now.plus(Duration::from_millis(1));
                }
                Verdict::Wait { until } => {
                    now = if victim_logs_in_daily {
                        until.min(next_victim_login)
                    } else {
                        until
                    }
                }
                Verdict::Locked => break,
            }
        }
        guesses
    }

    #[test]
    fn a_year_of_guessing_stays_below_one_in_a_thousand() {
        // A guess is checked against every authenticator of the user: with
        // n of them it has n × (2w+1) codes to hit. The attacker may control
        // an address the owner signs in from as well as strangers' ones, so
        // they get both budgets; the budgets never touch each other's
        // state, so their best is each budget's worst case (with or without
        // the victim's daily logins), added up.
        for window in 0..=3u8 {
            for authenticators in 1..=crate::authenticators::MAX_AUTHENTICATORS {
                let p = SecondFactorPolicy::for_window(window).for_authenticators(authenticators);
                let codes_per_guess = f64::from(2 * u32::from(window) + 1) * authenticators as f64;
                let per_budget = [false, true]
                    .map(|victim| guesses_in_a_year(&p, victim))
                    .into_iter()
                    .max()
                    .unwrap_or_default();
                let guesses = per_budget * Budget::ALL.len() as u64;
                let success = guesses as f64 * codes_per_guess / 1e6;
                assert!(
                    success < 1e-3,
                    "window {window}, {authenticators} authenticators: {guesses} guesses over both budgets → {success}"
                );
            }
        }
    }

    #[test]
    fn both_budgets_together_allow_what_one_budget_of_the_yearly_bound_did() {
        let p = policy();
        assert_eq!(p.burst * Budget::ALL.len() as u32, 10);
        assert_eq!(p.refill_interval / Budget::ALL.len() as u32, 48 * HOUR);
    }

    #[test]
    fn a_stranger_lock_leaves_the_owner_budget_open() {
        let p = policy();
        let mut throttles = Throttles::default();
        for _ in 0..p.lock_after {
            throttles.stranger = p.after_failure(throttles.stranger, T0);
        }
        assert_eq!(p.check(&throttles.stranger, T0), Verdict::Locked);
        assert_eq!(p.check(&throttles.owner, T0), Verdict::Allowed);
        assert_eq!(throttles.locked(), vec![Budget::Stranger]);
    }

    #[test]
    fn an_attempt_answers_to_the_budget_of_its_address() {
        assert_eq!(Budget::of(true), Budget::Owner);
        assert_eq!(Budget::of(false), Budget::Stranger);
        let throttles = Throttles {
            owner: ThrottleState {
                consecutive_failures: 3,
                ..ThrottleState::default()
            },
            ..Throttles::default()
        };
        assert_eq!(throttles.of(Budget::Owner).consecutive_failures, 3);
        assert_eq!(throttles.of(Budget::Stranger).consecutive_failures, 0);
        assert_eq!(
            serde_json::to_value(Budget::Stranger).unwrap(),
            serde_json::json!("stranger")
        );
    }

    #[test]
    fn the_first_failures_are_free_then_waits_grow() {
        // The waits on their own: a burst too large to interfere.
        let p = SecondFactorPolicy {
            burst: 100,
            ..policy()
        };
        let mut s = ThrottleState::default();
        for _ in 0..5 {
            assert_eq!(p.check(&s, T0), Verdict::Allowed);
            s = p.after_failure(s, T0);
        }
        assert_eq!(
            p.check(&s, T0),
            Verdict::Wait {
                until: T0.plus(Duration::from_secs(60))
            }
        );
        let t1 = T0.plus(Duration::from_secs(60));
        s = p.after_failure(s, t1);
        assert_eq!(
            p.check(&s, t1),
            Verdict::Wait {
                until: t1.plus(Duration::from_secs(120))
            }
        );
    }

    #[test]
    fn the_budget_allows_a_burst_then_one_guess_per_refill() {
        let p = policy();
        let mut s = ThrottleState::default();
        let mut now = T0;
        for _ in 0..p.burst {
            while let Verdict::Wait { until } = p.check(&s, now) {
                now = until;
            }
            s = p.after_failure(s, now);
        }
        assert!(now < T0.plus(2 * HOUR), "the burst comes quickly");
        match p.check(&s, now) {
            Verdict::Wait { until } => assert!(until >= T0.plus(p.refill_interval)),
            other => panic!("expected a wait, got {other:?}"),
        }
    }

    #[test]
    fn a_hundred_consecutive_failures_lock_until_a_person_unlocks() {
        let p = policy();
        let mut s = ThrottleState {
            consecutive_failures: 99,
            ..ThrottleState::default()
        };
        s = p.after_failure(s, T0);
        assert_eq!(p.check(&s, T0.plus(YEAR)), Verdict::Locked);
        assert_eq!(
            p.check(&SecondFactorPolicy::unlocked(), T0),
            Verdict::Allowed
        );
    }

    #[test]
    fn success_resets_the_waits_but_not_the_budget() {
        let p = policy();
        let mut s = ThrottleState::default();
        for _ in 0..10 {
            s = p.after_failure(s, T0);
        }
        let s = p.after_success(s);
        assert_eq!(s.consecutive_failures, 0);
        assert!(matches!(p.check(&s, T0), Verdict::Wait { .. }));
    }

    #[test]
    fn password_attempts_from_unfamiliar_addresses_stop_at_the_account_limit() {
        let p = PasswordPolicy::default();
        let f = PasswordFailures {
            account_unfamiliar: 100,
            ..PasswordFailures::default()
        };
        assert!(!p.allows(&f));
        assert!(p.allows(&PasswordFailures {
            account_unfamiliar: 99,
            ..f
        }));
    }

    #[test]
    fn a_familiar_address_keeps_its_own_allowance_during_an_attack() {
        let p = PasswordPolicy::default();
        let victim = PasswordFailures {
            account_unfamiliar: 100,
            account_from_address: 0,
            address: 0,
            address_is_familiar: true,
        };
        assert!(p.allows(&victim));
        assert!(!p.allows(&PasswordFailures {
            account_from_address: 20,
            ..victim
        }));
    }

    #[test]
    fn one_address_failing_across_accounts_is_stopped() {
        let p = PasswordPolicy::default();
        let f = PasswordFailures {
            address: 300,
            ..PasswordFailures::default()
        };
        assert!(!p.address_allows(&f));
        assert!(!p.allows(&f));
    }

    #[test]
    fn a_busy_address_is_never_refused_for_an_account_that_knows_it() {
        let p = PasswordPolicy::default();
        let owner = PasswordFailures {
            address: 10_000,
            address_is_familiar: true,
            ..PasswordFailures::default()
        };
        assert!(p.address_allows(&owner));
        assert!(p.allows(&owner));
    }
}
