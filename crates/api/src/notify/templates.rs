//! The notification emails, one place for all of them. Each says what
//! happened, when, from which client and address, who did it, and what to
//! do if it was not the reader. They are rendered from the outbox payload
//! (ids and facts), so they cannot contain a secret, code or token: the
//! events never carry one.

use serde_json::Value;

/// A rendered email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
}

const NOT_YOU: &str = "If this was not you, change your password now and tell your administrator: someone else may have access to your account.";

/// What happened, and what the reader should do if it was not them.
fn describe(action: &str, details: &Value) -> Option<(&'static str, String, &'static str)> {
    let d = |k: &str| details.get(k);
    Some(match action {
        "two_factor.enabled" => (
            "Two-factor authentication was turned on",
            "Two-factor authentication is now on for your account: signing in needs your password and a code from your authenticator app.".into(),
            NOT_YOU,
        ),
        "two_factor.disabled" => (
            "Two-factor authentication was turned off",
            format!(
                "Two-factor authentication was turned off for your account{}: signing in now needs only your password.",
                authenticator_name(details)
                    .map(|n| format!(" (its last authenticator, \u{201c}{n}\u{201d}, was removed)"))
                    .unwrap_or_default()
            ),
            NOT_YOU,
        ),
        "two_factor.authenticator_added" => (
            "An authenticator was added to your account",
            format!(
                "A new authenticator{} was added to your account: its codes now sign you in too.",
                authenticator_name(details).map(|n| format!(" (\u{201c}{n}\u{201d})")).unwrap_or_default()
            ),
            NOT_YOU,
        ),
        "two_factor.authenticator_removed" => (
            "An authenticator was removed from your account",
            format!(
                "The authenticator{} was removed from your account: its codes no longer sign you in. Your other authenticators keep working.",
                authenticator_name(details).map(|n| format!(" \u{201c}{n}\u{201d}")).unwrap_or_default()
            ),
            NOT_YOU,
        ),
        "two_factor.reset" | "support.two_factor_reset" => (
            "Your two-factor authentication was reset",
            format!(
                "{} removed the authenticator of your account. You will set up a new one the next time you sign in, if it is required.",
                if action == "two_factor.reset" { "An administrator of your organization" } else { "Authgate support" }
            ),
            "If you did not ask for this, tell your administrator right away.",
        ),
        "two_factor.enforced" => (
            "Two-factor authentication is now required",
            "An administrator of your organization now requires two-factor authentication for your account. You will be asked to set it up at your next sign-in.".into(),
            "If you did not expect this, ask your administrator.",
        ),
        "two_factor.recovery_code_used" => (
            "A recovery code was used to sign in",
            match d("remaining").and_then(Value::as_i64) {
                Some(n) => format!("One of your recovery codes was used to sign in to your account. {n} unused recovery code(s) remain."),
                None => "One of your recovery codes was used to sign in to your account.".into(),
            },
            NOT_YOU,
        ),
        "two_factor.recovery_codes_replaced" => (
            "New recovery codes were generated",
            "New recovery codes were generated for your account; the previous ones no longer work.".into(),
            NOT_YOU,
        ),
        "user.password_changed" => (
            "Your password was changed",
            "The password of your account was changed.".into(),
            "If this was not you, contact your administrator right away: someone else may have access to your account.",
        ),
        "two_factor.locked" => (
            "Two-factor sign-in was locked",
            match d("budget").and_then(Value::as_str) {
                // Strangers' codes are locked; the owner's addresses and
                // remembered devices are not (SECURITY.md).
                Some("stranger") => "Too many wrong two-factor codes were entered for your account from addresses it does not usually sign in from, so two-factor sign-in from such addresses is locked until an administrator unlocks it. From the devices and addresses you usually sign in from, you can still sign in.".into(),
                Some("owner") => "Too many wrong two-factor codes were entered for your account from addresses it usually signs in from, so two-factor sign-in is locked there, and for your remembered devices, until an administrator unlocks it.".into(),
                _ => "Too many wrong two-factor codes were entered for your account, so two-factor sign-in is locked until an administrator unlocks it.".into(),
            },
            "If these attempts were not yours, someone knows your password: change it once you are unlocked, and tell your administrator.",
        ),
        "login.new_device" => (
            "New sign-in to your account",
            format!(
                "Your account was signed in to from a client and address it was not signed in to from before{}. If this was you (a new browser, device or network), there is nothing to do.",
                d("client").and_then(Value::as_str).map(|c| format!(" (the {c} client)")).unwrap_or_default()
            ),
            "If this was not you, someone knows your password (and your second factor, if you have one): change your password now, and tell your administrator.",
        ),
        _ => return None,
    })
}

/// The authenticator an event names, on one short printable line (the
/// user chose the name).
fn authenticator_name(details: &Value) -> Option<String> {
    details
        .get("authenticator")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .map(one_line)
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || "unknown".into(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
}

fn by(actor: Option<&str>) -> &'static str {
    match actor {
        Some("user") => "a signed-in user (you, or an administrator of your organization)",
        Some("support") => "Authgate support (an operator)",
        Some("system") => "Authgate itself",
        _ => "unknown",
    }
}

/// Keeps a value from the request on one short, printable line.
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The email for an event, or `None` if the event is not one people are
/// told about by mail.
pub fn render(action: &str, payload: &Value) -> Option<Rendered> {
    let empty = Value::Null;
    let details = payload.get("details").unwrap_or(&empty);
    let (subject, what, advice) = describe(action, details)?;
    let text_of = |k: &str| payload.get(k).and_then(Value::as_str).map(one_line);
    let text = format!(
        "Hello,\n\n{what}\n\nWhen: {}\nClient: {}\nAddress: {}\nBy: {}\n\n{advice}\n\nThis is an automatic security notice from Authgate; replies are not read.\n",
        when(payload.get("occurred_at").and_then(Value::as_i64)),
        text_of("user_agent").unwrap_or_else(|| "unknown".into()),
        text_of("ip").unwrap_or_else(|| "unknown".into()),
        by(payload.get("actor").and_then(|a| a.get("type")).and_then(Value::as_str)),
    );
    Some(Rendered {
        subject: format!("Authgate: {subject}"),
        text,
    })
}

/// To an organization's admins: an endpoint kept failing and was turned off.
pub fn endpoint_disabled(url: &str, days: u64) -> Rendered {
    Rendered {
        subject: "Authgate: a webhook endpoint was disabled".into(),
        text: format!(
            "Hello,\n\nThe webhook endpoint {} failed every delivery for {days} day(s), so Authgate disabled it. Events are no longer sent to it.\n\nFix the receiver, then enable the endpoint again (PATCH /v1/organization/webhooks/{{id}} with {{\"enabled\": true}}).\n\nThis is an automatic notice from Authgate; replies are not read.\n",
            one_line(url)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(details: Value) -> Value {
        json!({
            "event_id": "e1",
            "actor": {"type": "user", "id": "u1"},
            "ip": "203.0.113.7",
            "user_agent": "Firefox/140\r\nBcc: evil@example.com",
            "details": details,
            "occurred_at": 1_764_525_600_000_i64,
        })
    }

    #[test]
    fn the_enabled_mail_says_what_when_where_and_what_to_do() {
        let m = render("two_factor.enabled", &payload(json!({"source": "self"}))).unwrap();
        assert_eq!(
            m.subject,
            "Authgate: Two-factor authentication was turned on"
        );
        assert!(m.text.contains("Two-factor authentication is now on"));
        assert!(
            m.text.contains("When: 2025-11-30 18:00:00 UTC"),
            "{}",
            m.text
        );
        assert!(m.text.contains("Address: 203.0.113.7"));
        assert!(
            m.text.contains("Client: Firefox/140Bcc: evil@example.com"),
            "no header injection: {}",
            m.text
        );
        assert!(m.text.contains("If this was not you"));
    }

    #[test]
    fn every_notified_action_has_a_mail_and_no_other_does() {
        for action in auth_core::events::ACTIONS {
            let notified = auth_core::events::NOTIFIED_ACTIONS.contains(action);
            assert_eq!(
                render(action, &payload(json!({}))).is_some(),
                notified,
                "{action}"
            );
        }
    }

    #[test]
    fn the_recovery_code_mail_counts_what_is_left() {
        let m = render(
            "two_factor.recovery_code_used",
            &payload(json!({"remaining": 7})),
        )
        .unwrap();
        assert!(m.text.contains("7 unused recovery code(s) remain"));
    }

    #[test]
    fn the_new_sign_in_mail_names_the_client_and_says_what_to_do() {
        let m = render("login.new_device", &payload(json!({"client": "web"}))).unwrap();
        assert_eq!(m.subject, "Authgate: New sign-in to your account");
        assert!(m.text.contains("(the web client)"), "{}", m.text);
        assert!(m.text.contains("Address: 203.0.113.7"));
        assert!(m.text.contains("change your password now"));
    }

    #[test]
    fn the_authenticator_mails_name_it_on_one_line() {
        let added = render(
            "two_factor.authenticator_added",
            &payload(json!({"authenticator": {"id": "f1", "name": "Work phone\nBcc: x"}})),
        )
        .unwrap();
        assert_eq!(
            added.subject,
            "Authgate: An authenticator was added to your account"
        );
        assert!(
            added.text.contains("(\u{201c}Work phoneBcc: x\u{201d})"),
            "{}",
            added.text
        );
        let removed = render(
            "two_factor.authenticator_removed",
            &payload(json!({"authenticator": {"id": "f1", "name": "Old phone"}})),
        )
        .unwrap();
        assert!(removed
            .text
            .contains("\u{201c}Old phone\u{201d} was removed"));
        let last = render(
            "two_factor.disabled",
            &payload(json!({"authenticator": {"id": "f1", "name": "Old phone"}})),
        )
        .unwrap();
        assert!(
            last.text.contains("its last authenticator"),
            "{}",
            last.text
        );
    }

    #[test]
    fn unknown_facts_read_as_unknown() {
        let m = render("user.password_changed", &json!({})).unwrap();
        assert!(m.text.contains("When: unknown"));
        assert!(m.text.contains("Address: unknown"));
    }
}
