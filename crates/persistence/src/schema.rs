//! The one diesel schema shared by SQLite and PostgreSQL. Hand-written, in
//! portable types only; `migrations/<backend>/` must match it.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        two_factor_policy -> Text,
        grace_period_hours -> Integer,
        policy_since -> BigInt,
        created_at -> BigInt,
        remember_device_days -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organization_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        two_factor_required -> Bool,
        disabled -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
        otp_failures -> Integer,
        otp_last_failure_at -> Nullable<BigInt>,
        otp_budget_tat -> Nullable<BigInt>,
        otp_locked_at -> Nullable<BigInt>,
        deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    authenticators (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        state -> Text,
        secret_ciphertext -> Binary,
        algorithm -> Text,
        source -> Nullable<Text>,
        last_used_step -> Nullable<BigInt>,
        created_at -> BigInt,
        enabled_at -> Nullable<BigInt>,
        last_used_at -> Nullable<BigInt>,
        drift_sixteenths -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        refresh_token_hash -> Text,
        client -> Text,
        amr -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> BigInt,
        last_used_at -> BigInt,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
        step_up_failures -> Integer,
    }
}

diesel::table! {
    login_challenges (id) {
        id -> Text,
        token_hash -> Text,
        user_id -> Text,
        kind -> Text,
        client -> Text,
        failed_attempts -> Integer,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    login_events (id) {
        id -> BigInt,
        user_id -> Nullable<Text>,
        organization_id -> Nullable<Text>,
        outcome -> Text,
        client -> Nullable<Text>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> BigInt,
        ip_group -> Nullable<Text>,
        authenticator_id -> Nullable<Text>,
        authenticator_name -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        organization_id -> Nullable<Text>,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        target_user_id -> Nullable<Text>,
        action -> Text,
        ip -> Nullable<Text>,
        details -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        created_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    rotated_refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        rotated_at -> BigInt,
    }
}

diesel::table! {
    password_tokens (id) {
        id -> Text,
        user_id -> Text,
        purpose -> Text,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        consumed_at -> Nullable<BigInt>,
        redeemed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    password_reset_requests (id) {
        id -> Text,
        user_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(rotated_refresh_tokens -> sessions (session_id));
diesel::joinable!(authenticators -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(login_challenges -> users (user_id));

diesel::table! {
    remembered_devices (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        client -> Text,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        expires_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(remembered_devices -> users (user_id));

diesel::table! {
    /// The owner's second-factor budget (`users.otp_*` is the strangers').
    otp_owner_budgets (user_id) {
        user_id -> Text,
        failures -> Integer,
        last_failure_at -> Nullable<BigInt>,
        budget_tat -> Nullable<BigInt>,
        locked_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(otp_owner_budgets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    otp_owner_budgets,
    remembered_devices,
    organizations,
    users,
    authenticators,
    sessions,
    login_challenges,
    login_events,
    audit_events,
    recovery_codes,
    rotated_refresh_tokens,
    password_tokens,
    password_reset_requests,
);

diesel::table! {
    outbox (id) {
        id -> Text,
        organization_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        event_type -> Text,
        payload -> Text,
        endpoint_id -> Nullable<Text>,
        created_at -> BigInt,
        fanned_out_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        events -> Text,
        secret_ciphertext -> Binary,
        previous_secret_ciphertext -> Nullable<Binary>,
        previous_secret_until -> Nullable<BigInt>,
        enabled -> Bool,
        failing_since -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        disabled_at -> Nullable<BigInt>,
        disabled_reason -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_by -> Nullable<Text>,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
        expires_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Text,
        event_id -> Text,
        organization_id -> Nullable<Text>,
        event_type -> Text,
        channel -> Text,
        target -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> BigInt,
        locked_until -> Nullable<BigInt>,
        lease_owner -> Nullable<Text>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> BigInt,
        last_attempt_at -> Nullable<BigInt>,
        delivered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_grace (session_id) {
        session_id -> Text,
        predecessor_hash -> Text,
        successor_sealed -> Binary,
        rotated_at -> BigInt,
    }
}

diesel::joinable!(api_keys -> organizations (organization_id));
diesel::joinable!(refresh_grace -> sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(api_keys, organizations);
diesel::allow_tables_to_appear_in_same_query!(refresh_grace, sessions);
