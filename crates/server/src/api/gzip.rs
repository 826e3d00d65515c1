//! Large JSON answers gzip-compressed for clients that accept it: a
//! dashboard's series of a year of windows is megabytes of numbers, which
//! compress about fivefold. Small answers, other media types (Parquet and
//! CSV exports, figures, the page's assets) and clients that do not ask go
//! out as they are.

use std::io::Write;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Answers smaller than this (bytes) are not worth compressing.
const MIN_BYTES: usize = 32 * 1024;

/// Whether an `Accept-Encoding` value accepts gzip (with a non-zero
/// quality).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|part| {
        let mut items = part.split(';').map(str::trim);
        let coding = items.next().unwrap_or_default();
        let zero = items.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f64>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero
    })
}

/// The middleware.
pub async fn compress(req: Request, next: Next) -> Response {
    let wanted = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let response = next.run(req).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !wanted || !json || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // JSON answers are built whole in memory already.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if bytes.len() < MIN_BYTES {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::fast(),
    );
    let packed = encoder.write_all(&bytes).and_then(|()| encoder.finish());
    let Ok(packed) = packed else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(packed))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, header};
    use axum::routing::get;
    use tower::ServiceExt;

    use super::{MIN_BYTES, accepts_gzip, compress};

    /// The answer of `uri` with `accept`: its encoding and its bytes,
    /// decompressed.
    async fn fetch(uri: &str, accept: Option<&str>) -> (Option<String>, Vec<u8>) {
        let app = Router::new()
            .route(
                "/big",
                get(|| async { axum::Json(vec![0.123_456_789_f64; MIN_BYTES / 4]) }),
            )
            .route("/small", get(|| async { axum::Json(vec![1, 2, 3]) }))
            .route("/text", get(|| async { "x".repeat(MIN_BYTES * 2) }))
            .layer(axum::middleware::from_fn(compress));
        let mut req = Request::get(uri);
        if let Some(a) = accept {
            req = req.header(header::ACCEPT_ENCODING, a);
        }
        let response = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let encoding = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        if encoding.as_deref() == Some("gzip") {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .unwrap();
            assert!(bytes.len() * 4 < plain.len(), "compressed well");
            return (encoding, plain);
        }
        (encoding, bytes)
    }

    #[tokio::test]
    async fn large_json_is_gzipped_for_clients_that_ask() {
        let (plain_encoding, plain) = fetch("/big", None).await;
        assert_eq!(plain_encoding, None);
        let (encoding, unpacked) = fetch("/big", Some("gzip, br")).await;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert_eq!(unpacked, plain, "the same JSON");
        // Small answers and other media types go out as they are.
        assert_eq!(
            fetch("/small", Some("gzip")).await,
            (None, b"[1,2,3]".to_vec())
        );
        assert_eq!(fetch("/text", Some("gzip")).await.0, None);
        assert_eq!(fetch("/big", Some("gzip;q=0")).await.0, None);
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("deflate, br"));
        assert!(!accepts_gzip(""));
    }
}
