//! Per-authenticator clock drift.
//!
//! Phones keep their own time. One that runs 45 s late shows codes a fixed
//! ±1-step window refuses half of the time, and widening the window for
//! everyone would give every guesser more codes to hit. Instead each
//! authenticator keeps a learned offset, and its window is centred there.
//!
//! An accepted code of step `m` says the phone's clock was inside step `m`
//! when the code was read: somewhere in a 30 s interval, whose middle is
//! one observation of the phone's offset (the time the person took to type
//! the code included). The learned offset is a running average of these
//! observations (each new one counts for half), kept in sixteenths of a step;
//! the window is centred on the step the phone shows by that estimate, once
//! the estimate is half a step or more (below that it is typing time and
//! rounding, and the window stays the fixed one around the server's step). A
//! phone with the right time stays centred near now whoever types slowly; a
//! phone that gains or loses time is followed as it goes, so daily or weekly
//! use keeps working for years.
//!
//! What keeps this from helping an attacker (SECURITY.md, "Clock drift"):
//! * the window never widens: `2·window + 1` steps, wherever its centre is;
//! * the offset moves only when a code was **accepted**, i.e. matched inside
//!   the current window; wrong codes, replays and codes outside the window
//!   change nothing, so moving it needs the authenticator's secret;
//! * one acceptance moves it by at most `(window + ½) / 2` steps (0.75 with
//!   the default window), and never beyond ±[`MAX_DRIFT_STEPS`].

use crate::{
    totp::{TimeStep, TotpParams},
    UnixTime,
};

/// How far the learned offset may go, either way: 7.5 minutes. A clock that
/// drifts a step (30 s) a month is 12 steps off after a year.
pub const MAX_DRIFT_STEPS: i64 = 15;

/// Sub-step resolution of the stored offset.
const UNITS: i64 = 16;

/// A learned offset between an authenticator's clock and the server's, in
/// sixteenths of a step (positive: the authenticator runs ahead).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drift(i32);

impl Drift {
    /// A new authenticator: assumed on time.
    pub const NONE: Drift = Drift(0);

    /// From storage; out-of-range values are clamped, so a damaged row can
    /// never move the window beyond the maximum.
    pub fn from_sixteenths(value: i64) -> Drift {
        Drift(value.clamp(-MAX_DRIFT_STEPS * UNITS, MAX_DRIFT_STEPS * UNITS) as i32)
    }

    /// For storage.
    pub fn as_sixteenths(self) -> i64 {
        i64::from(self.0)
    }

    /// The step the authenticator shows at `now`, by this estimate: the
    /// centre of the window its codes are checked in. An offset under half a
    /// step is not acted on: that is typing time and rounding, not a clock
    /// that is off, and the window then stays exactly the fixed window
    /// around the server's step, so a client that sends the next step's
    /// code (a second login within 30 s) is never refused for it.
    pub fn centre(self, params: &TotpParams, now: UnixTime) -> TimeStep {
        let offset = if self.0.abs() < (UNITS / 2) as i32 {
            0
        } else {
            i64::from(self.0)
        };
        TimeStep((params.sixteenths_at(now) + offset).div_euclid(UNITS))
    }

    /// The offset after a code of step `matched` was accepted at `now`.
    #[must_use]
    pub fn learn(self, matched: TimeStep, params: &TotpParams, now: UnixTime) -> Drift {
        let middle = matched.0.saturating_mul(UNITS).saturating_add(UNITS / 2);
        let observed = middle.saturating_sub(params.sixteenths_at(now));
        let was = i64::from(self.0);
        Drift::from_sixteenths(was + (observed - was) / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::totp::TotpSecret;

    const T0: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;

    fn p() -> TotpParams {
        TotpParams::default()
    }

    /// A small deterministic generator (xorshift), so the simulations are
    /// repeatable without a random source.
    struct Noise(u64);
    impl Noise {
        fn next(&mut self, below: i64) -> i64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % below as u64) as i64
        }
    }

    /// Logs in every day for a year with a phone that gains
    /// `secs_per_day` seconds a day, typing each code 0–20 s after the phone
    /// shows it, at a random time of day. Returns the logins refused.
    fn a_year_of_logins(seed: u64, secs_per_day: i64, learning: bool) -> usize {
        let every_days = 1;
        let secret = TotpSecret::from_bytes(vec![7; 20]).unwrap();
        let mut noise = Noise(seed);
        let mut drift = Drift::NONE;
        let mut refused = 0;
        let mut day = 0;
        while day <= 365 {
            let server = T0 + day * DAY + noise.next(DAY);
            let typing = noise.next(21);
            let phone = server + day * secs_per_day - typing;
            let code = p().code_at(&secret, UnixTime::from_secs(phone));
            let now = UnixTime::from_secs(server);
            match p().verify_around(&secret, &code, drift.centre(&p(), now)) {
                Some(step) if learning => drift = drift.learn(step, &p(), now),
                Some(_) => {}
                None => refused += 1,
            }
            day += every_days;
        }
        refused
    }

    #[test]
    fn a_clock_drifting_a_step_a_month_keeps_working_for_a_year() {
        // 30 s a month is one second a day, ahead or behind. (Logging in
        // only weekly, about 1 in 40 logins is refused: SECURITY.md.)
        for seed in [0x9E37_79B9_7F4A_7C15, 7, 1234] {
            for secs_per_day in [1, -1] {
                assert_eq!(
                    a_year_of_logins(seed, secs_per_day, true),
                    0,
                    "{secs_per_day}"
                );
            }
        }
    }

    #[test]
    fn without_learning_the_same_clock_is_refused_within_months() {
        // The test above would catch a learning rule that does nothing.
        assert!(a_year_of_logins(7, 1, false) > 200);
    }

    #[test]
    fn an_accurate_phone_and_a_slow_typist_stay_centred() {
        let secret = TotpSecret::from_bytes(vec![3; 20]).unwrap();
        let mut drift = Drift::NONE;
        let mut noise = Noise(42);
        for i in 0..200 {
            let now = UnixTime::from_secs(T0 + i * 600 + noise.next(600));
            // Always typed 15 to 30 s after the phone showed it.
            let read = UnixTime::from_secs(now.as_secs() - 15 - noise.next(16));
            let code = p().code_at(&secret, read);
            let step = p()
                .verify_around(&secret, &code, drift.centre(&p(), now))
                .expect("accepted");
            drift = drift.learn(step, &p(), now);
            // …and a code typed at once is still inside the window.
            let prompt = p().code_at(&secret, now);
            assert!(p()
                .verify_around(&secret, &prompt, drift.centre(&p(), now))
                .is_some());
        }
        assert!(drift.as_sixteenths().abs() < UNITS, "{drift:?}");
    }

    #[test]
    fn an_offset_under_half_a_step_keeps_the_fixed_window_at_every_moment() {
        let secret = TotpSecret::from_bytes(vec![4; 20]).unwrap();
        for drift in [-7, -3, 0, 5, 7] {
            let drift = Drift::from_sixteenths(drift);
            // Every second of a step: the previous, current and next step's
            // codes are all accepted, as with no drift learning at all.
            for second in 0..30 {
                let now = UnixTime::from_secs(T0 - T0 % 30 + second);
                let current = p().step_at(now).0;
                for step in current - 1..=current + 1 {
                    let code = p().code_at_step(&secret, TimeStep(step));
                    assert_eq!(
                        p().verify_around(&secret, &code, drift.centre(&p(), now)),
                        Some(TimeStep(step)),
                        "{drift:?} at second {second}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_window_keeps_its_width_wherever_it_is_centred() {
        let secret = TotpSecret::from_bytes(vec![5; 20]).unwrap();
        let now = UnixTime::from_secs(T0);
        let current = p().step_at(now).0;
        for steps in [-MAX_DRIFT_STEPS, -3, 0, 4, MAX_DRIFT_STEPS] {
            let drift = Drift::from_sixteenths(steps * UNITS);
            let accepted = (current - 40..=current + 40)
                .filter(|s| {
                    let code = p().code_at_step(&secret, TimeStep(*s));
                    p().verify_around(&secret, &code, drift.centre(&p(), now)) == Some(TimeStep(*s))
                })
                .count();
            assert_eq!(accepted, 3, "drift {steps}");
        }
    }

    #[test]
    fn a_code_outside_the_window_is_never_accepted() {
        let secret = TotpSecret::from_bytes(vec![9; 20]).unwrap();
        let now = UnixTime::from_secs(T0);
        let current = p().step_at(now);
        let drift = Drift::from_sixteenths(UNITS);
        let centre = drift.centre(&p(), now);
        assert_eq!(centre, TimeStep(current.0 + 1));
        // Two steps past the window's edge.
        let far = p().code_at_step(&secret, TimeStep(centre.0 + 2));
        assert_eq!(p().verify_around(&secret, &far, centre), None);
    }

    #[test]
    fn the_offset_moves_at_most_three_quarters_of_a_step_per_accepted_code() {
        let now = UnixTime::from_secs(T0);
        let mut drift = Drift::NONE;
        let mut acceptances = 0;
        while drift.as_sixteenths() < MAX_DRIFT_STEPS * UNITS {
            // Always the far edge of the current window: the fastest way out.
            let before = drift.as_sixteenths();
            let edge = TimeStep(drift.centre(&p(), now).0 + 1);
            drift = drift.learn(edge, &p(), now);
            assert!(drift.as_sixteenths() - before <= 12, "{before} → {drift:?}");
            acceptances += 1;
            assert!(acceptances < 1000);
        }
        assert!(acceptances >= 20, "{acceptances}");
        assert_eq!(Drift::from_sixteenths(i64::MAX).as_sixteenths(), 15 * UNITS);
        assert_eq!(
            Drift::from_sixteenths(i64::MIN).as_sixteenths(),
            -15 * UNITS
        );
    }
}
