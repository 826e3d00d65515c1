//! Bearer tokens: who is calling, and whether their role may do it.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::{Extension, Json};
use tidewatch_store::{Role, Token};

use super::{ApiError, AppState};

/// The authenticated caller, for handlers (the audit log's actor).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name (`local` for the CLI on its own data directory).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The service an ingest token writes to.
    pub service: Option<String>,
}

/// Lets a request through when its bearer token is live and its role may
/// use the method: any role may `GET`, only admins may change anything.
pub async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let caller = match header {
        None if state.trust_local => Caller {
            name: "local".into(),
            role: Role::Admin,
            service: None,
        },
        None => {
            return Err(ApiError::Unauthenticated(
                "this call needs a bearer token: Authorization: Bearer <token> (create one with `tidewatch token create`)".into(),
            ));
        }
        Some(value) => {
            let Some(secret) = value.strip_prefix("Bearer ").map(str::trim) else {
                return Err(ApiError::Unauthenticated(
                    "the Authorization header must be `Bearer <token>`".into(),
                ));
            };
            match state.store.authenticate(secret).await? {
                Some(Token {
                    name,
                    role,
                    service,
                    ..
                }) => Caller {
                    name,
                    role,
                    service,
                },
                None => {
                    return Err(ApiError::Unauthenticated(
                        "the bearer token is unknown or revoked".into(),
                    ));
                }
            }
        }
    };
    let reading = matches!(*req.method(), Method::GET | Method::HEAD);
    if caller.role == Role::Ingest {
        // Write-only, to its own service's streams.
        let path = req.uri().path();
        let own = caller.service.as_deref().is_some_and(|s| {
            path == format!("/services/{s}/inputs") || path == format!("/services/{s}/predictions")
        });
        if !(own && req.method() == Method::POST) {
            return Err(ApiError::Forbidden(format!(
                "token {:?} may only send records to service {:?}: not {} {}",
                caller.name,
                caller.service.as_deref().unwrap_or_default(),
                req.method(),
                req.uri().path()
            )));
        }
    } else if !reading && caller.role != Role::Admin {
        return Err(ApiError::Forbidden(format!(
            "token {:?} is read-only: {} {} needs an admin token",
            caller.name,
            req.method(),
            req.uri().path()
        )));
    }
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

/// `GET /tokens`: every token's name, role and state (never a secret).
pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
) -> Result<Json<Vec<Token>>, ApiError> {
    Ok(Json(state.store.tokens().await?))
}
