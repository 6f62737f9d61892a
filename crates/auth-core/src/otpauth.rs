//! Key Uri Format (`otpauth://totp/...`), the text inside the QR code that
//! Google and Microsoft Authenticator scan.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::totp::{TotpParams, TotpSecret, DIGITS};

/// RFC 3986 unreserved characters stay as they are; everything else,
/// including spaces, colons and non-ASCII, is percent-encoded as UTF-8.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=…&digits=6&period=30`.
/// The label's colon is the literal separator; colons inside the issuer or
/// account are encoded so they cannot be mistaken for it.
pub fn key_uri(issuer: &str, account: &str, secret: &TotpSecret, params: &TotpParams) -> String {
    format!(
        "otpauth://totp/{issuer_label}:{account}?secret={secret}&issuer={issuer}&algorithm={alg}&digits={DIGITS}&period={period}",
        issuer_label = encode(issuer),
        account = encode(account),
        secret = secret.to_base32(),
        issuer = encode(issuer),
        alg = params.algorithm.as_str(),
        period = params.period_secs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn a_plain_uri_has_every_parameter() {
        let uri = key_uri(
            "Authgate",
            "ana@example.com",
            &secret(),
            &TotpParams::default(),
        );
        assert_eq!(
            uri,
            "otpauth://totp/Authgate:ana%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Authgate&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn spaces_colons_and_non_ascii_are_percent_encoded() {
        let uri = key_uri(
            "Acme: Inbox",
            "zoë@exämple.com",
            &secret(),
            &TotpParams::default(),
        );
        assert!(uri.starts_with("otpauth://totp/Acme%3A%20Inbox:zo%C3%AB%40ex%C3%A4mple.com?"));
        assert!(uri.contains("&issuer=Acme%3A%20Inbox&"));
        assert_eq!(
            uri.matches(':').count(),
            2,
            "only the scheme and the label separator"
        );
    }
}
