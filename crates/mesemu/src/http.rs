//! The routes: the token endpoint (`/sit-auth`), the OData services of every app
//! (`/sit-svc`, behind a bearer token; see `odata_api`), and the admin routes
//! (`/emulator`, behind HTTP Basic with the user's credentials) that set faults, move the
//! clock and show the emulator's state.
//!
//! Every `/sit-auth` and `/sit-svc` request first passes the faults' gate (outage,
//! throttle, delay); the admin routes never do, so a test can always reach them while the
//! service is down in `unavailable` mode.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use model::Timestamp;
use odata::csdl::ODataError;
use serde::Deserialize;

use crate::auth::{GrantError, TokenRequest};
use crate::faults::{FaultError, FaultRequest, FaultsView, Gate};
use crate::{Shared, Status, Step, lock, odata_api};

/// The OData protocol version every service answer names.
pub const ODATA_VERSION: &str = "4.0";

/// The router of every route.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let service = odata_api::routes()
        .layer(middleware::from_fn_with_state(shared.clone(), bearer))
        .layer(middleware::from_fn(odata_version));
    let token = Router::new().route("/sit-auth/OAuth/Token", post(token));
    let gated = service
        .merge(token)
        .layer(middleware::from_fn_with_state(shared.clone(), gate));
    let admin = Router::new()
        .route("/emulator/status", get(status))
        .route("/emulator/faults", get(faults).post(set_faults))
        .route("/emulator/advance", post(advance))
        .layer(middleware::from_fn_with_state(shared.clone(), admin_only));
    gated
        .merge(admin)
        .fallback(|| async {
            odata_error(
                StatusCode::NOT_FOUND,
                "NotFound",
                "no such resource: services are under /sit-svc/Application/{App}/odata/",
            )
        })
        .with_state(shared)
}

/// A request refused with an OData error body: the `Err` of the handlers, boxed (an error
/// body is large beside the values handlers pass on).
#[derive(Debug)]
pub struct Refusal(Box<(StatusCode, ODataError)>);

impl Refusal {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Refusal {
        Refusal(Box::new((status, ODataError::new(code, &message.into()))))
    }

    /// 400 for a query that cannot be read or evaluated, targeting the option.
    pub fn bad_query(error: ODataError) -> Refusal {
        Refusal(Box::new((StatusCode::BAD_REQUEST, error)))
    }

    /// 500: the plant's thread stopped (a bug; the emulator cannot go on).
    pub fn plant_stopped(error: &crate::plant::PlantError) -> Refusal {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "PlantStopped",
            error.to_string(),
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error) = *self.0;
        error_response(status, &error)
    }
}

/// An OData JSON error answer (OData JSON Format v4.01 §21: `{"error": {"code",
/// "message"}}`).
pub fn odata_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    error_response(status, &ODataError::new(code, &message.into()))
}

/// An OData JSON error answer of `error`.
pub fn error_response(status: StatusCode, error: &ODataError) -> Response {
    let mut response = (status, axum::Json(error.to_json())).into_response();
    response
        .headers_mut()
        .insert("OData-Version", HeaderValue::from_static(ODATA_VERSION));
    response
}

/// The faults' gate: an outage or throttle answers instead of the route; a delay holds the
/// answer back.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let decision = lock(&shared.faults).gate(Instant::now());
    match decision {
        Gate::Refuse {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let (code, message) = if status == StatusCode::TOO_MANY_REQUESTS {
                ("TooManyRequests", "too many requests; retry later")
            } else {
                (
                    "ServiceUnavailable",
                    "the service is unavailable; retry later",
                )
            };
            let mut response = odata_error(status, code, message);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Gate::Serve { delay } => {
            let response = next.run(request).await;
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            response
        }
    }
}

/// Every service answer says which OData version it speaks.
async fn odata_version(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert("OData-Version", HeaderValue::from_static(ODATA_VERSION));
    response
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// A service request needs a live access token.
async fn bearer(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let checked =
        lock(&shared.tokens).check_bearer(authorization(request.headers()), Instant::now());
    match checked {
        Ok(()) => next.run(request).await,
        Err(error) => {
            let mut response =
                odata_error(StatusCode::UNAUTHORIZED, "Unauthorized", error.to_string());
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sit-svc\""),
            );
            response
        }
    }
}

/// The admin routes need HTTP Basic with the user's name and password.
async fn admin_only(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if lock(&shared.tokens).is_user(authorization(request.headers())) {
        return next.run(request).await;
    }
    let mut response = odata_error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "the admin routes need HTTP Basic with the emulator user's name and password",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"emulator\""),
    );
    response
}

/// `POST /sit-auth/OAuth/Token`: the password and refresh-token grants.
async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<axum::Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Response {
    let granted = match form {
        Ok(axum::Form(request)) => {
            lock(&shared.tokens).grant(authorization(&headers), &request, Instant::now())
        }
        Err(rejection) => Err(GrantError::InvalidRequest(format!(
            "the body must be an application/x-www-form-urlencoded token request: {rejection}"
        ))),
    };
    let mut response = match granted {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => {
            let status = match error {
                GrantError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            let body = serde_json::json!({
                "error": error.code(),
                "error_description": error.description(),
            });
            (status, axum::Json(body)).into_response()
        }
    };
    // RFC 6749 §5.1: token answers are not cached.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /emulator/status`.
async fn status(State(shared): State<Arc<Shared>>) -> Result<axum::Json<Status>, Refusal> {
    let status = shared
        .status()
        .await
        .map_err(|e| Refusal::plant_stopped(&e))?;
    Ok(axum::Json(status))
}

/// `GET /emulator/faults`: the faults in force.
async fn faults(State(shared): State<Arc<Shared>>) -> axum::Json<FaultsView> {
    axum::Json(lock(&shared.faults).view(Instant::now()))
}

/// `POST /emulator/faults`: changes the faults in force; answers them.
async fn set_faults(
    State(shared): State<Arc<Shared>>,
    body: Result<axum::Json<FaultRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let request = match body {
        Ok(axum::Json(request)) => request,
        Err(rejection) => {
            return odata_error(StatusCode::BAD_REQUEST, "BadRequest", rejection.body_text());
        }
    };
    match shared.set_faults(&request) {
        Ok(()) => axum::Json(lock(&shared.faults).view(Instant::now())).into_response(),
        Err(FaultError::PlantStopped) => {
            let error = crate::plant::PlantError::Stopped;
            Refusal::plant_stopped(&error).into_response()
        }
        Err(error) => odata_error(StatusCode::BAD_REQUEST, "BadRequest", error.to_string()),
    }
}

/// `POST /emulator/advance`: move plant time on by `minutes` or to `to`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    pub minutes: Option<f64>,
    pub to: Option<Timestamp>,
}

async fn advance(
    State(shared): State<Arc<Shared>>,
    body: Result<axum::Json<Advance>, axum::extract::rejection::JsonRejection>,
) -> Result<axum::Json<Status>, Refusal> {
    let axum::Json(step) =
        body.map_err(|r| Refusal::new(StatusCode::BAD_REQUEST, "BadRequest", r.body_text()))?;
    let step = match (step.minutes, step.to) {
        (Some(minutes), None) if minutes.is_finite() && minutes >= 0.0 => Step::Minutes(minutes),
        (None, Some(to)) => Step::To(to),
        _ => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "send either `minutes` (0 or more) or `to` (an RFC 3339 instant)",
            ));
        }
    };
    let status = shared
        .step(step)
        .await
        .map_err(|e| Refusal::plant_stopped(&e))?;
    Ok(axum::Json(status))
}
