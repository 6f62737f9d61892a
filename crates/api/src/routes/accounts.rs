//! Accounts coming and going: forgotten passwords, admin- and
//! support-sent resets, invitations, and removing a user.

use actix_web::{web, HttpResponse};

use super::{blocking, hashing, params};
use crate::{
    dto::{MailAccepted, PasswordResetConfirmRequest, PasswordResetRequest},
    extract::{Admin, Body, Origin},
    hash_pool::HashPool,
    notify::{Mail, Mailer},
    password_mail,
    problem::{
        responses::{AdminErrors, JsonBodyErrors},
        ApiError, Problem,
    },
    service::{
        letters::PasswordLetter,
        operator::{Operator, Target},
        password_reset::PasswordResetInput,
        Services,
    },
};

/// Remove a user: deactivated and anonymised. Sessions end; authenticators
/// and recovery codes are deleted; the email is freed for a new user; the
/// login history and audit entries keep the id but lose email, name and
/// addresses. An admin cannot remove themselves or the last active admin.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "The admin's own account, or the organization's last active admin", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn remove_user(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = params::user_id(&id)?;
    hashing(&pool, &services, None, move |s| {
        s.remove_user(&auth.principal.user, &id, &origin.0)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mails a set-password letter off the request path: the answer does not
/// wait for (or reveal) the mail server, and a failure is logged without
/// the token.
pub(super) fn post_letter(mailer: &web::Data<Mailer>, services: &Services, letter: PasswordLetter) {
    let text = password_mail::render(&letter, services.policy.recovery.public_url.as_deref());
    let mailer = mailer.clone();
    tokio::spawn(async move {
        let mail = Mail {
            to: text.to,
            subject: text.subject,
            text: text.text,
            message_id: None,
        };
        if let Err(e) = mailer.send(&mail).await {
            tracing::error!(error = %e, "a set-password mail could not be sent");
        }
    });
}

const RESET_ACCEPTED: &str =
    "If an account uses this email, a password reset link is on its way to it.";

/// Forgotten password: always `202` with the same body, whether or not the
/// email has an account. The mail carries a single-use `pr_…` token
/// (30 minutes by default). Requests are limited per account and per
/// address; over the limit the answer is the same and no mail is sent.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses((status = 202, body = MailAccepted), JsonBodyErrors))]
pub async fn request_password_reset(
    services: web::Data<Services>,
    mailer: web::Data<Mailer>,
    origin: Origin,
    body: Body<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = params::email(&body.into_inner().email)?;
    let letter = blocking(&services, move |s| {
        s.request_password_reset(&email, &origin.0)
    })
    .await?;
    if let Some(letter) = letter {
        post_letter(&mailer, &services, letter);
    }
    Ok(HttpResponse::Accepted().json(MailAccepted {
        message: RESET_ACCEPTED.into(),
    }))
}

/// Set a new password with the token of a reset or invitation email. An
/// account with 2FA must also send `code` or `recovery_code` (a reset
/// never leaves the account with the password alone); without one the
/// answer is `403 second_factor_required` and the token stays usable.
/// Success ends every session.
#[utoipa::path(post, path = "/v1/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 204, description = "The password is set; every session ended"),
        (status = 400, description = "Invalid, used, replaced or expired token (`invalid_password_token`), or a malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong code or recovery code (`invalid_code`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account has 2FA: a code or recovery code is needed (`second_factor_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes", body = Problem, content_type = "application/problem+json"),
        JsonBodyErrors,
    ))]
pub async fn confirm_password_reset(
    services: web::Data<Services>,
    pool: web::Data<HashPool>,
    origin: Origin,
    body: Body<PasswordResetConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let proof = match (body.code.as_deref(), body.recovery_code.as_deref()) {
        (None, None) => None,
        (code, recovery) => Some(params::second_factor(code, recovery)?),
    };
    let input = PasswordResetInput {
        token: body.token,
        new_password: params::new_password(body.new_password, Some("new_password"))?,
        proof,
    };
    let group = origin.group();
    hashing(&pool, &services, group.as_deref(), move |s| {
        s.reset_password(input, &origin.0)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a user an email with a password reset link (30 minutes by
/// default). The admin never sees a password.
#[utoipa::path(post, path = "/v1/users/{id}/password-reset", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 202, body = MailAccepted), AdminErrors))]
pub async fn send_password_reset(
    services: web::Data<Services>,
    mailer: web::Data<Mailer>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let target = Target::Id(params::user_id(&id)?);
    let letter = blocking(&services, move |s| {
        s.send_password_reset(Operator::Admin(&auth.principal.user), &target, &origin.0)
    })
    .await?;
    post_letter(&mailer, &services, letter);
    Ok(HttpResponse::Accepted().json(MailAccepted {
        message: "A password reset link is on its way to the user.".into(),
    }))
}

/// Send the invitation again (7 days by default); the previous link stops
/// working. Refused once the user has accepted an invitation.
#[utoipa::path(post, path = "/v1/users/{id}/invitation", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 202, body = MailAccepted),
        (status = 409, description = "The invitation was already accepted (`invitation_accepted`)", body = Problem, content_type = "application/problem+json"),
        AdminErrors,
    ))]
pub async fn resend_invitation(
    services: web::Data<Services>,
    mailer: web::Data<Mailer>,
    Admin(auth): Admin,
    origin: Origin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = params::user_id(&id)?;
    let letter = blocking(&services, move |s| {
        s.resend_invitation(&auth.principal.user, &id, &origin.0)
    })
    .await?;
    post_letter(&mailer, &services, letter);
    Ok(HttpResponse::Accepted().json(MailAccepted {
        message: "The invitation is on its way to the user.".into(),
    }))
}
