//! Email: the security notifications rendered in [`templates`], sent by
//! the dispatcher, and a [`Mailer`] any feature can use.
//!
//! With `AUTHGATE_SMTP_URL` mail goes to that server; without it (the
//! default outside production) each mail is written as an `.eml` file to
//! `<data dir>/mail/`, so a first run needs no mail server.
//!
//! Transactional mail that carries a token (a password reset link, an
//! invitation) must not sit in plain text in the outbox. Such a feature
//! builds a [`Mail`] after its transaction commits and sends it with
//! [`Mailer::send`] (the `Mailer` is shared with handlers as
//! `web::Data<Mailer>`); the token is then only in the mail itself.

pub mod templates;

use std::{path::PathBuf, time::Duration};

use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;

use crate::config::Settings;

/// One plain-text email.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// A stable id (the event id): the same event mailed twice carries the
    /// same `Message-ID`, so mail clients can tell it is a duplicate.
    pub message_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("AUTHGATE_MAIL_FROM is not a mailbox: {0}")]
    From(String),
    #[error("invalid recipient address")]
    Recipient,
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("AUTHGATE_SMTP_URL: {0}")]
    SmtpUrl(String),
    #[error("cannot create the mail directory {0}: {1}")]
    Directory(String, std::io::Error),
    #[error("sending failed: {0}")]
    Send(String),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Sends mail through SMTP or into `.eml` files.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field(
                "transport",
                &match self.transport {
                    Transport::Smtp(_) => "smtp",
                    Transport::Files(_) => "files",
                },
            )
            .finish()
    }
}

/// Where `.eml` files go without an SMTP server.
pub fn mail_dir(settings: &Settings) -> PathBuf {
    settings.data_dir.join("mail")
}

impl Mailer {
    pub fn from_settings(settings: &Settings) -> Result<Self, MailError> {
        let o = &settings.outbox;
        let from: Mailbox = o
            .mail_from
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::From(e.to_string()))?;
        let transport = match &o.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    // The error may quote the URL (and its password): say less.
                    .map_err(|_| MailError::SmtpUrl("cannot be used as an SMTP server".into()))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build(),
            ),
            None => {
                let dir = mail_dir(settings);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| MailError::Directory(dir.display().to_string(), e))?;
                tracing::info!(
                    directory = %dir.display(),
                    "AUTHGATE_SMTP_URL is not set: emails are written as .eml files to this directory"
                );
                Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
        };
        Ok(Self { from, transport })
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Recipient)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(
                mail.message_id
                    .as_ref()
                    .map(|id| format!("<{id}@authgate>")),
            )
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(t) => t
                .send(message)
                .await
                .map(drop)
                .map_err(|e| MailError::Send(e.to_string())),
            Transport::Files(t) => t
                .send(message)
                .await
                .map(drop)
                .map_err(|e| MailError::Send(e.to_string())),
        }
    }
}
