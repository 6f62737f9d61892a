//! The `authgate` command line. Every command reads the same `AUTHGATE_*`
//! configuration, so they all see the same database and keys.

use std::io::{IsTerminal, Read};

use auth_core::{
    identity::{DisplayName, Email},
    password::Password,
};
use clap::{Parser, Subcommand};
use persistence::{records::RequestOrigin, DatabaseUrl};

use crate::{
    clock::Clock,
    config::Settings,
    notify::{Mail, Mailer},
    openapi, password_mail,
    service::{
        letters::PasswordLetter,
        operator::{Operator, SupportReason, Target},
        refusal::Missing,
        Refusal, ServiceError, Services,
    },
    startup::{self, Application},
    telemetry,
};

#[derive(Parser, Debug)]
#[command(name = "authgate", version, about = "Two-factor login service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Manage the access-token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Operator actions for users who cannot help themselves; each ends
    /// the user's sessions and is written to the audit log with its reason.
    Support {
        #[command(subcommand)]
        command: SupportCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Retire the active signing key and create a new one. Running
    /// instances pick it up within a minute; tokens signed with the old key
    /// stay valid until they expire.
    Rotate,
}

#[derive(Subcommand, Debug)]
pub enum SupportCommand {
    /// Remove a user's authenticator (e.g. an admin who lost their phone).
    ResetTwoFactor {
        #[arg(long)]
        email: String,
        /// Why, for the audit log (required).
        #[arg(long)]
        reason: String,
    },
    /// Lift a user's two-factor lock (too many wrong codes) and end their
    /// sessions and in-flight login challenges.
    Unlock {
        #[arg(long)]
        email: String,
        /// Why, for the audit log (required).
        #[arg(long)]
        reason: String,
    },
    /// Mail a user a password reset link. Support never sees or sets a
    /// password, and the reset still asks for the account's second factor.
    SendPasswordReset {
        #[arg(long)]
        email: String,
        /// Why, for the audit log (required).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization and its first admin. The admin's password is
    /// read from standard input when it is piped, otherwise generated and
    /// printed once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long = "admin-email")]
        admin_email: String,
    },
}

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match execute(cli) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("authgate: {message}");
            1
        }
    }
}

fn execute(cli: Cli) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        print!("{}", openapi::spec_json().map_err(|e| e.to_string())?);
        return Ok(());
    }
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    telemetry::init(&settings.log_filter, settings.log_format);
    match command {
        Command::Openapi => unreachable!("handled above"),
        Command::Serve => serve(settings),
        Command::Migrate => {
            // Opening the store applies pending migrations.
            startup::services(&settings).map_err(|e| e.to_string())?;
            println!("migrations applied");
            Ok(())
        }
        Command::Org {
            command: OrgCommand::Create { name, admin_email },
        } => {
            let name: DisplayName = name.parse().map_err(|e| format!("--name: {e}"))?;
            let email: Email = admin_email
                .parse()
                .map_err(|e| format!("--admin-email: {e}"))?;
            let password = read_password_from_stdin()?;
            let services = startup::services(&settings).map_err(|e| e.to_string())?;
            let created = services
                .create_organization(&name, &email, password)
                .map_err(|e| e.to_string())?;
            println!(
                "organization {} created: {}",
                created.organization_id,
                name.as_str()
            );
            println!("admin {} ({})", email, created.admin_id);
            if let Some(p) = created.generated_password {
                println!("password: {}  (shown once)", p.expose());
            }
            Ok(())
        }
        Command::Support { command } => {
            require_existing_store(&settings)?;
            support(&settings, command)
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            require_existing_store(&settings)?;
            let (old, new) =
                crate::keys::rotate(&settings, Clock::system().now()).map_err(|e| e.to_string())?;
            println!("signing key {old} retired; new signing key {new}");
            println!("instances switch within a minute; tokens signed with {old} stay valid until they expire");
            Ok(())
        }
    }
}

fn support(settings: &Settings, command: SupportCommand) -> Result<(), String> {
    let (email, reason, action) = match command {
        SupportCommand::ResetTwoFactor { email, reason } => (email, reason, Support::Reset),
        SupportCommand::Unlock { email, reason } => (email, reason, Support::Unlock),
        SupportCommand::SendPasswordReset { email, reason } => {
            (email, reason, Support::SendPasswordReset)
        }
    };
    let email: Email = email.parse().map_err(|e| format!("--email: {e}"))?;
    let reason: SupportReason = reason.parse().map_err(|e| format!("--reason: {e}"))?;
    let services = startup::services(settings).map_err(|e| e.to_string())?;
    let operator = Operator::Support(&reason);
    let target = Target::Email(email.clone());
    let origin = RequestOrigin::default();
    let not_found = |e: ServiceError| match e {
        ServiceError::Refused(Refusal::NotFound(Missing::User)) => {
            format!("no user with email {email}")
        }
        other => other.to_string(),
    };
    if let Support::SendPasswordReset = action {
        let letter = services
            .send_password_reset(operator, &target, &origin)
            .map_err(not_found)?;
        let to = letter.to.to_string();
        mail_letter(settings, &services, letter)?;
        println!(
            "password reset link mailed to {to}; recorded in the audit log as actor \"support\""
        );
        return Ok(());
    }
    let reset = matches!(action, Support::Reset);
    let report = if reset {
        services.reset_two_factor(operator, &target, &origin)
    } else {
        services.unlock(operator, &target, &origin)
    }
    .map_err(not_found)?;
    if reset {
        println!(
            "two-factor authentication of {} ({}) {}",
            report.user.user.email,
            report.user.user.id,
            if report.factor_removed {
                "removed"
            } else {
                "was not set up; nothing to remove"
            }
        );
    } else {
        println!(
            "{} ({}) unlocked{}",
            report.user.user.email,
            report.user.user.id,
            if report.was_locked {
                ""
            } else {
                " (was not locked)"
            }
        );
    }
    println!(
        "ended {} session(s) and {} login challenge(s); recorded in the audit log as actor \"support\"",
        report.sessions_ended, report.challenges_ended
    );
    Ok(())
}

/// Operator commands act on the server's existing data. Run without the
/// server's configuration they would quietly create a fresh database and
/// keys in `./data` and act on nobody, so they refuse instead.
fn require_existing_store(settings: &Settings) -> Result<(), String> {
    match &settings.database_url {
        DatabaseUrl::Sqlite(path) if !path.exists() => Err(format!(
            "no database at {}: run this command with the server's configuration \
             (AUTHGATE_DATA_DIR or AUTHGATE_DATABASE_URL, and its key settings)",
            path.display()
        )),
        _ => Ok(()),
    }
}

enum Support {
    Reset,
    Unlock,
    SendPasswordReset,
}

/// Sends a set-password mail before the command exits: unlike the server,
/// a one-shot command has no background task to hand it to, and the
/// operator must learn here if the mail server refused it.
fn mail_letter(
    settings: &Settings,
    services: &Services,
    letter: PasswordLetter,
) -> Result<(), String> {
    let text = password_mail::render(&letter, services.policy.recovery.public_url.as_deref());
    let mail = Mail {
        to: text.to,
        subject: text.subject,
        text: text.text,
        message_id: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the mail client: {e}"))?;
    // The SMTP client starts its connection pool on the runtime.
    runtime.block_on(async {
        let mailer = Mailer::from_settings(settings).map_err(|e| e.to_string())?;
        mailer.send(&mail).await.map_err(|e| {
            format!(
                "the reset is recorded but the mail could not be sent ({e}); run the command again"
            )
        })
    })
}

fn read_password_from_stdin() -> Result<Option<Password>, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut text = String::new();
    stdin
        .lock()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(|e| format!("reading the password from stdin: {e}"))?;
    let text = text.trim_end_matches(['\r', '\n']).to_owned();
    if text.is_empty() {
        return Ok(None);
    }
    Password::new_secret(text)
        .map(Some)
        .map_err(|e| format!("password: {e}"))
}

fn serve(settings: Settings) -> Result<(), String> {
    let services = startup::services(&settings).map_err(|e| e.to_string())?;
    startup::bootstrap(&services, &settings).map_err(|e| e.to_string())?;
    let store = services.store.clone();
    let runtime = actix_web::rt::System::new();
    let served = runtime.block_on(async {
        let services = std::sync::Arc::new(services);
        let app = Application::build(&settings, services.clone()).map_err(|e| e.to_string())?;
        // Pick up rotated signing keys without a restart.
        actix_web::rt::spawn(async move {
            let mut every = actix_web::rt::time::interval(std::time::Duration::from_secs(60));
            every.tick().await;
            loop {
                every.tick().await;
                let s = services.clone();
                let _ = actix_web::web::block(move || s.tokens.reload()).await;
            }
        });
        tracing::info!(address = %settings.listen, port = app.port(), "authgate listening");
        println!(
            "authgate listening on http://{}:{}",
            settings.listen.ip(),
            app.port()
        );
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    // Every request and the dispatcher are done: checkpoint SQLite's WAL
    // into the database file before the process exits.
    store.close();
    served
}
