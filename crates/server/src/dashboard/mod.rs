//! The web dashboard served at `/`: one page, its script, charts and
//! styles, written for tidewatch and compiled into the binary (no network
//! and no files needed at run time). The page signs in with a token and
//! draws everything from the REST API (see `api::dashboard`).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::api::body::Path;
use crate::api::{ApiError, AppState};

/// Each asset: its name under `/assets/`, media type and contents.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/charts.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
];

const INDEX: &str = include_str!("assets/index.html");

/// Scripts, styles and requests from this origin alone; no framing.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                      script-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
                      base-uri 'none'; form-action 'self'";

/// The dashboard's routes: its pages (`/`, `/monitors/{name}`, which
/// alerts link to, and `/services`, all the same page, which draws what
/// its address names) and `/assets/{file}`. No token: the page asks for
/// one, and every API call it makes needs it.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/monitors/{name}", get(index))
        .route("/services", get(index))
        .route("/assets/{file}", get(asset))
}

fn page(media: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Small files, checked again on each load, so an upgraded server is
    // never paired with a stale script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .map(|(_, media, body)| page(media, body))
        .ok_or_else(|| ApiError::NotFound(format!("no dashboard asset {file:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_the_page_imports_is_served() {
        // The page loads app.js, which imports charts.js: each import must
        // name an asset, or the page is blank.
        assert!(INDEX.contains("/assets/app.js") && INDEX.contains("/assets/app.css"));
        for (name, _, body) in ASSETS {
            for line in body.lines().filter(|l| l.contains(" from './")) {
                let target = line
                    .split("from './")
                    .nth(1)
                    .unwrap()
                    .split('\'')
                    .next()
                    .unwrap();
                assert!(
                    ASSETS.iter().any(|(n, _, _)| *n == target),
                    "{name} imports {target}, which is not served"
                );
            }
        }
    }
}
