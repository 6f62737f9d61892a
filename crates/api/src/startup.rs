//! Building the application from settings, and running it.

use std::net::TcpListener;

use actix_web::{dev::Server, middleware, web, App, HttpServer};
use auth_core::password::PasswordHasher;
use persistence::{DbConfig, SecretBox, Store};
use rand_core::OsRng;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    clock::Clock,
    config::Settings,
    extract::EdgeConfig,
    hash_pool::HashPool,
    keys,
    openapi::ApiDoc,
    problem::{self, ApiError, MAX_BODY_BYTES},
    routes,
    service::{AuthPolicy, ServiceError, Services},
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error(transparent)]
    Store(#[from] persistence::StoreError),
    #[error("invalid argon2 settings: {0}")]
    Password(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
}

/// Opens the store (applying migrations) and assembles the use cases, on
/// the wall clock.
pub fn services(settings: &Settings) -> Result<Services, StartupError> {
    services_with_clock(settings, Clock::system())
}

/// The same on a given clock (tests move an adjustable one forward).
pub fn services_with_clock(settings: &Settings, clock: Clock) -> Result<Services, StartupError> {
    let keys = keys::load(settings, clock.now())?;
    let secrets = SecretBox::new(keys.encryption.as_slice())
        .map_err(|e| StartupError::Setup(e.to_string()))?;
    let store = Store::open_with(
        &DbConfig {
            url: settings.database_url.clone(),
            pool_size: settings.db_pool_size,
            pool_timeout: settings.db_pool_timeout,
            busy_timeout: settings.db_pool_timeout,
        },
        secrets,
        settings.sqlite_synchronous,
    )?;
    let hasher = PasswordHasher::new(settings.password, &mut OsRng)
        .map_err(|e| StartupError::Password(e.to_string()))?;
    let tokens = keys::KeyRing::new(settings, clock.clone(), keys.signing, keys.retired);
    Ok(Services {
        store,
        hasher,
        tokens,
        metrics: std::sync::Arc::new(crate::metrics::Metrics::new(routes::ROUTES)),
        policy: AuthPolicy::from_settings(settings),
        clock,
    })
}

/// On a database without any organization, creates one with an admin and
/// prints the generated password once, so a newcomer can log in.
pub fn bootstrap(services: &Services, settings: &Settings) -> Result<(), StartupError> {
    let failed = |e: ServiceError| StartupError::Setup(format!("bootstrap failed: {e}"));
    if services.has_organizations().map_err(failed)? {
        return Ok(());
    }
    let name = "Default organization"
        .parse()
        .map_err(|e| StartupError::Setup(format!("bootstrap failed: {e}")))?;
    let given = settings
        .bootstrap_admin_password
        .as_ref()
        .map(|p| {
            use secrecy::ExposeSecret as _;
            auth_core::password::Password::new_secret(p.expose_secret().to_owned()).map_err(|e| {
                StartupError::Setup(format!("AUTHGATE_BOOTSTRAP_ADMIN_PASSWORD(_FILE): {e}"))
            })
        })
        .transpose()?;
    let created = services
        .create_organization(&name, &settings.bootstrap_admin_email, given)
        .map_err(failed)?;
    // The main thread hashes nothing more: give its 19 MiB back.
    auth_core::password::release_work_memory();
    if let Some(password) = created.generated_password {
        if settings.environment == crate::config::Environment::Production {
            // Production logs are collected and kept: the password goes to
            // a file only its owner can read, never to stdout.
            let path = settings.data_dir.join("bootstrap-admin-password");
            write_private_file(&path, password.expose()).map_err(|e| {
                StartupError::Setup(format!("cannot write {}: {e}", path.display()))
            })?;
            println!(
                "Created organization \"Default organization\" with admin {}\n  password: in {} (mode 0600; delete it after logging in)",
                settings.bootstrap_admin_email,
                path.display()
            );
        } else {
            println!(
                "Created organization \"Default organization\" with admin {}\n  password: {}\n  (shown once; change it after logging in)",
                settings.bootstrap_admin_email,
                password.expose()
            );
        }
    }
    Ok(())
}

/// Writes `content` to a new file readable and writable by its owner only.
fn write_private_file(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(file, "{content}")
}

pub struct Application {
    port: u16,
    server: Server,
    dispatcher: Option<crate::dispatch::DispatcherHandle>,
    metrics: Option<(u16, Server)>,
}

/// The private listener for `/metrics` (`AUTHGATE_METRICS_LISTEN`): a
/// scrape target for the operator's network, not the public port.
fn metrics_server(
    addr: std::net::SocketAddr,
    services: web::Data<Services>,
    metrics: web::Data<crate::metrics::Metrics>,
    hash_pool: web::Data<HashPool>,
) -> Result<(u16, Server), StartupError> {
    let bind_error = |source| StartupError::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(bind_error)?;
    let port = listener
        .local_addr()
        .map_err(|e| StartupError::Setup(e.to_string()))?
        .port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(services.clone())
            .app_data(metrics.clone())
            .app_data(hash_pool.clone())
            .route("/metrics", web::get().to(routes::ops::metrics))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::RouteNotFound)
            }))
    })
    .workers(1)
    .listen(listener)
    .map_err(bind_error)?
    .run();
    Ok((port, server))
}

impl Application {
    pub fn build(
        settings: &Settings,
        services: std::sync::Arc<Services>,
    ) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(settings.listen).map_err(|source| StartupError::Bind {
            addr: settings.listen.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Setup(e.to_string()))?
            .port();
        let metrics = web::Data::from(services.metrics.clone());
        let hash_pool = web::Data::new(
            HashPool::new(settings.hash_workers, settings.hash_queue)
                .map(|pool| pool.per_address(settings.hash_per_address))
                .map_err(|e| StartupError::Setup(format!("cannot start the hashing pool: {e}")))?,
        );
        settings
            .require_mail_in_production()
            .map_err(|e| StartupError::Setup(e.to_string()))?;
        let mailer = crate::notify::Mailer::from_settings(settings)
            .map_err(|e| StartupError::Setup(e.to_string()))?;
        let egress = crate::egress::EgressPolicy {
            allow_private: settings.outbox.webhook_allow_private,
            require_https: settings.environment == crate::config::Environment::Production,
        };
        // Delivers the outbox (email, webhooks) off the request path.
        let dispatcher = crate::dispatch::Dispatcher::new(
            services.clone(),
            mailer.clone(),
            egress,
            settings.outbox.clone(),
        )
        .start();
        let mailer = web::Data::new(mailer);
        let egress = web::Data::new(egress);
        let services = web::Data::from(services);
        let private_metrics = settings
            .metrics_listen
            .map(|addr| metrics_server(addr, services.clone(), metrics.clone(), hash_pool.clone()))
            .transpose()?;
        let edge = web::Data::new(EdgeConfig {
            trusted_proxies: settings.trusted_proxies.clone(),
        });
        // Served as one shared buffer: the document object itself (several
        // MB of small maps) is not kept per worker.
        let openapi = web::Bytes::from(
            ApiDoc::openapi()
                .to_json()
                .map_err(|e| StartupError::Setup(format!("the OpenAPI document: {e}")))?,
        );
        let origins = settings.cors_allowed_origins.clone();
        let server = HttpServer::new(move || {
            // Bearer tokens, no cookies: credentials are never allowed.
            let cors = origins
                .iter()
                .fold(actix_cors::Cors::default(), |c, o| c.allowed_origin(o))
                .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
                .allowed_headers([
                    actix_web::http::header::AUTHORIZATION,
                    actix_web::http::header::CONTENT_TYPE,
                ])
                .expose_headers([actix_web::http::header::RETRY_AFTER])
                .max_age(600);
            App::new()
                .wrap(cors)
                .wrap(
                    middleware::DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Cache-Control", "no-store"))
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Cross-Origin-Opener-Policy", "same-origin")),
                )
                .wrap(middleware::from_fn(crate::middleware::observe))
                .app_data(services.clone())
                .app_data(metrics.clone())
                .app_data(hash_pool.clone())
                .app_data(edge.clone())
                .app_data(mailer.clone())
                .app_data(egress.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(MAX_BODY_BYTES)
                        .error_handler(problem::json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(problem::query_error))
                .app_data(routes::oauth::form_config())
                .app_data(web::PathConfig::default().error_handler(problem::path_error))
                .configure(routes::configure)
                .configure(crate::console::configure)
                .service(SwaggerUi::new("/docs/{_:.*}")
                        // Off: the public validator would be sent the
                        // spec's URL from every browser that opens /docs.
                        .config(
                            utoipa_swagger_ui::Config::new(["/openapi.json"]).validator_url("none"),
                        ))
                .route("/openapi.json", {
                    let openapi = openapi.clone();
                    web::get().to(move || {
                        let body = openapi.clone();
                        async move {
                            actix_web::HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    })
                })
                .route(
                    "/docs",
                    web::get().to(|| async {
                        actix_web::HttpResponse::Found()
                            .insert_header(("Location", "/docs/"))
                            .finish()
                    }),
                )
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(ApiError::RouteNotFound)
                }))
        })
        .workers(settings.workers)
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: settings.listen.to_string(),
            source,
        })?
        .run();
        Ok(Self {
            port,
            server,
            dispatcher: Some(dispatcher),
            metrics: private_metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when one is configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until stopped (SIGTERM/SIGINT: in-flight requests finish),
    /// then stops the dispatcher (the delivery round in flight finishes and
    /// its leases are handed back for any instance to take) and the
    /// metrics listener.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let metrics = self.metrics.take().map(|(_, server)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let served = self.server.await;
        if let Some(d) = self.dispatcher.take() {
            d.stop().await;
        }
        if let Some(handle) = metrics {
            handle.stop(true).await;
        }
        served
    }
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn the_bootstrap_password_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("bootstrap-admin-password");
        super::write_private_file(&path, "s3cret").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
    }
}
