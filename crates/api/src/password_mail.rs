//! The text of set-password mails (forgotten password, admin- or
//! support-sent reset, invitation). The token appears only here, in the
//! mail itself; the link puts it in the URL fragment, which browsers never
//! send to a server or write to its logs.

use persistence::TokenPurpose;

use crate::{clock::rfc3339, service::letters::PasswordLetter};

/// A rendered plain-text mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterText {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Where the console's set-password page lives, relative to the public URL.
pub const RESET_PAGE: &str = "/console/#/reset-password?token=";

pub fn render(letter: &PasswordLetter, public_url: Option<&str>) -> LetterText {
    let token = letter.token.expose();
    let how = match public_url {
        Some(base) => {
            format!("Open this link to choose your password:\n\n  {base}{RESET_PAGE}{token}\n")
        }
        None => format!("Choose your password in the app with this one-time token:\n\n  {token}\n"),
    };
    let until = rfc3339(letter.expires_at);
    let (subject, opening, closing) = match letter.purpose {
        TokenPurpose::Invitation => (
            "You are invited to Authgate",
            "An administrator of your organization created an account for you.",
            "If you did not expect this invitation, ignore this email: without the link nobody can sign in as you.",
        ),
        TokenPurpose::Reset => (
            "Reset your Authgate password",
            "Somebody asked to reset the password of your account.",
            "If it was not you, ignore this email: your password stays as it is. If your account has two-factor authentication, a reset also needs a code from your authenticator app or a recovery code.",
        ),
    };
    LetterText {
        to: letter.to.to_string(),
        subject: subject.into(),
        text: format!(
            "Hello {name},\n\n{opening}\n\n{how}\nThe link works once, until {until} (UTC). Asking again sends a new one and the old one stops working.\n\n{closing}\n",
            name = letter.name,
        ),
    }
}

#[cfg(test)]
mod tests {
    use auth_core::{opaque_token::OpaqueToken, UnixTime};

    use super::*;

    fn letter(purpose: TokenPurpose) -> PasswordLetter {
        PasswordLetter {
            to: "ana@acme.test".parse().unwrap(),
            name: "Ana".into(),
            token: OpaqueToken::generate("pr", &mut rand_core::OsRng),
            purpose,
            expires_at: UnixTime::from_millis(1_800_000),
        }
    }

    #[test]
    fn a_reset_mail_links_to_the_reset_page_with_the_token_in_the_fragment() {
        let l = letter(TokenPurpose::Reset);
        let m = render(&l, Some("https://login.acme.test"));
        assert_eq!(m.to, "ana@acme.test");
        assert!(m.text.contains(&format!(
            "https://login.acme.test/console/#/reset-password?token={}",
            l.token.expose()
        )));
        assert!(m.text.contains("1970-01-01T00:30:00.000Z"));
        assert!(m.text.contains("If it was not you"));
    }

    #[test]
    fn without_a_public_url_the_mail_carries_the_token_alone() {
        let l = letter(TokenPurpose::Invitation);
        let m = render(&l, None);
        assert!(m.text.contains(l.token.expose()));
        assert!(!m.text.contains("http"));
        assert_eq!(m.subject, "You are invited to Authgate");
    }
}
