//! The vocabulary of the login history.

use std::{fmt, str::FromStr};

use crate::identity::{string_enum, IdentityError};

string_enum!(
    /// What one login attempt (or step of one) came to.
    LoginOutcome, IdentityError::InvalidOutcome,
    {
        Success => "success",
        OtpRequired => "otp_required",
        EnrollmentRequired => "enrollment_required",
        WrongPassword => "wrong_password",
        WrongCode => "wrong_code",
        ReplayedCode => "replayed_code",
        ChallengeExpired => "challenge_expired",
        TooManyAttempts => "too_many_attempts",
        AccountDisabled => "account_disabled",
        Throttled => "throttled",
        Locked => "locked",
        RecoveryCode => "recovery_code",
        RememberedDevice => "remembered_device",
        WrongRecoveryCode => "wrong_recovery_code",
        UnknownAccount => "unknown_account",
    }
);
