//! `GET /monitors/{name}/figures/{figure}`: `drift-coefficient`,
//! `contributions` or `metric` (with `feature` and optional `metric`),
//! each as `.svg` or `.png`, over the same range as the results query.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::body::{Fields, Path, Query};
use super::{ApiError, AppState};

/// Serves one figure.
pub async fn figure(
    State(state): State<AppState>,
    Path((name, figure)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let (stem, ext) = figure.rsplit_once('.').unwrap_or((figure.as_str(), "svg"));
    if ext != "svg" && ext != "png" {
        return Err(ApiError::field(
            "figure",
            format!("must end in .svg or .png, not {figure:?}"),
        ));
    }
    // The results query's own parameters, with the figure's.
    let mut range = Vec::new();
    let mut rest = Vec::new();
    for (k, v) in query {
        if ["from", "to", "include_adhoc"].contains(&k.as_str()) {
            range.push((k, v));
        } else {
            rest.push((k, v));
        }
    }
    let mut f = Fields::from_query(rest);
    let feature = f.opt_string("feature");
    let metric = f.opt_string("metric");
    let service = f.opt_string("service");
    f.finish()?;
    let results = super::runs::results(State(state), Path(name.clone()), Query(range)).await?;
    let mut windows = results.0["windows"].as_array().cloned().unwrap_or_default();
    // A monitor made from a model has a result per service per window: a
    // figure draws one service.
    let mut services: Vec<String> = windows
        .iter()
        .filter_map(|w| w["service"].as_str().map(str::to_string))
        .collect();
    services.sort();
    services.dedup();
    if let Some(s) = super::runs::pick_service(&name, &services, service.as_deref())? {
        windows.retain(|w| w["service"].as_str() == Some(s.as_str()));
    }
    let fig = match stem {
        "drift-coefficient" => crate::figures::coefficient_trend(&windows),
        "contributions" => crate::figures::contributions(&windows),
        "metric" => {
            let Some(feature) = feature else {
                return Err(ApiError::field(
                    "feature",
                    "is required for the metric figure",
                ));
            };
            crate::figures::metric_trend(&windows, &feature, metric.as_deref()).ok_or_else(
                || {
                    ApiError::field(
                        "feature",
                        format!(
                            "no window of monitor {name:?} in the range has feature {feature:?}"
                        ),
                    )
                },
            )?
        }
        other => {
            return Err(ApiError::field(
                "figure",
                format!("unknown figure {other:?}: drift-coefficient, contributions or metric"),
            ));
        }
    };
    if ext == "svg" {
        return Ok(([(header::CONTENT_TYPE, "image/svg+xml")], fig.svg).into_response());
    }
    let png = tokio::task::spawn_blocking(move || tidewatch_report::figures::png(&fig, 2.0))
        .await
        .map_err(|e| ApiError::Internal(format!("the drawing thread failed: {e}")))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}
