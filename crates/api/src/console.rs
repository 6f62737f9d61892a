//! The reference web console at `/console/`: static files embedded in the
//! binary at compile time (no build step, no CDN), served with a strict
//! Content-Security-Policy, an ETag per file and gzip/brotli compression.
//! The console is a client of the public JSON API only, so it is not part
//! of the OpenAPI document.

use std::sync::LazyLock;

use actix_web::{
    http::header::{self, HeaderValue},
    middleware::Compress,
    web, HttpRequest, HttpResponse,
};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// Where the console lives; kept out of the OpenAPI document on purpose.
pub const PREFIX: &str = "/console";

/// Everything the console may load: its own files, the API on the same
/// origin, and the QR code as a `data:` PNG from the API's response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($( $name:literal => $ty:expr ),+ $(,)?) => {
        &[ $( Asset {
            name: $name,
            content_type: $ty,
            body: include_bytes!(concat!("../console/", $name)),
        }, )+ ]
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = assets! {
    "index.html" => "text/html; charset=utf-8",
    "console.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "js/app.js" => JS,
    "js/api.js" => JS,
    "js/session.js" => JS,
    "js/ui.js" => JS,
    "js/confirm.js" => JS,
    "js/signin.js" => JS,
    "js/enroll.js" => JS,
    "js/profile.js" => JS,
    "js/organization.js" => JS,
    "js/recovery.js" => JS,
    "js/webhooks.js" => JS,
    "js/apikeys.js" => JS,
};

/// Strong ETags from the content, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = Sha256::digest(a.body);
            let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
            format!("\"{hex}\"")
        })
        .collect()
});

/// The files the console serves (relative to `/console/`), for tests.
pub fn asset_names() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.name)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        PREFIX,
        web::get().to(|| async {
            HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, "/console/"))
                .finish()
        }),
    )
    .service(
        web::scope(PREFIX)
            .wrap(Compress::default())
            .route("/", web::get().to(index))
            .route("/{path:.*}", web::get().to(asset)),
    );
}

async fn index(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&req, "index.html")
}

async fn asset(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&req, &path)
}

fn serve(req: &HttpRequest, name: &str) -> Result<HttpResponse, ApiError> {
    let (i, asset) = ASSETS
        .iter()
        .enumerate()
        .find(|(_, a)| a.name == name)
        .ok_or(ApiError::RouteNotFound)?;
    let etag = &ETAGS[i];
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag.as_str()))
        // Revalidate every time: a new binary ships new files under the
        // same names, and a 304 costs one small round trip.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
    if fresh {
        return Ok(res.finish());
    }
    Ok(res.content_type(asset.content_type).body(asset.body))
}
