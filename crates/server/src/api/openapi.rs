//! The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`.
//! Written here as data beside the router; a test checks that every path
//! it lists is routed (none answers 404) and that every route is listed.

use axum::Json;
use serde_json::{Value, json};

/// Every operation: method, path (under `/api/v1`), summary, and whether
/// it needs an admin token (every `GET` needs a read token).
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    ("get", "/datasets", "List datasets"),
    (
        "post",
        "/datasets",
        "Create a dataset: {name, input, format?, time_column?, options?}",
    ),
    ("get", "/datasets/{name}", "Get a dataset"),
    ("get", "/baselines", "List every version of every baseline"),
    (
        "post",
        "/baselines",
        "Fit the next version of a baseline from a dataset: {name, dataset, from?, to?, features?, exclude?, categorical?, numeric?, text?, kind_rule?, bins?, max_bins?, classifier_budget?, seed?, max_values?}",
    ),
    (
        "get",
        "/baselines/{name}",
        "Get a baseline version (?version=N, default the newest) with its features",
    ),
    ("get", "/monitors", "List monitors"),
    (
        "post",
        "/monitors",
        "Create a monitor: {name, baseline, baseline_version?, target, frequency (day|week|month), latency_hours? (0-1000, default 0), threshold? ([0,1], default 0.2), features?, alerts? ([{type: email|webhook, to}]), enabled? (default true), feature_methods?, feature_thresholds?}",
    ),
    ("get", "/monitors/{name}", "Get a monitor"),
    (
        "patch",
        "/monitors/{name}",
        "Update a monitor's changeable fields (name, frequency and latency_hours are fixed)",
    ),
    (
        "delete",
        "/monitors/{name}",
        "Delete a monitor (its queued runs are cancelled; every later call gets 410)",
    ),
    (
        "post",
        "/monitors/{name}/enable",
        "Enable a monitor's schedule",
    ),
    (
        "post",
        "/monitors/{name}/disable",
        "Disable a monitor's schedule",
    ),
    ("get", "/monitors/{name}/audit", "A monitor's change log"),
    (
        "get",
        "/monitors/{name}/runs",
        "List a monitor's runs (?state=, ?kind=)",
    ),
    (
        "post",
        "/monitors/{name}/runs",
        "Start an adhoc run: {date, features?, threshold?}",
    ),
    (
        "post",
        "/monitors/{name}/backfill",
        "Backfill: {from, to} (dates, inclusive), one run per window",
    ),
    (
        "post",
        "/monitors/{name}/cancel",
        "Cancel every queued run of a monitor",
    ),
    (
        "get",
        "/monitors/{name}/series",
        "The dashboard's columns per window: coefficient, threshold, AUC, every feature's contribution and drift flag, and one feature's metrics (?from=&to=, default every window; ?service=; ?feature=; ?contributions=false leaves the features' columns out)",
    ),
    (
        "get",
        "/overview",
        "Every monitor with its newest window per service, next run time and run counts by state",
    ),
    (
        "get",
        "/collected",
        "Every collected or registered service: records per stream and UTC day, newest record time, batches taken and refused since start",
    ),
    (
        "get",
        "/monitors/{name}/results",
        "Results per window (?from=&to=, default the last 10 periods; ?include_adhoc=true; ?run=ID)",
    ),
    (
        "get",
        "/monitors/{name}/figures/{figure}",
        "A figure: drift-coefficient, contributions or metric (?feature=&metric=), as .svg or .png",
    ),
    ("get", "/runs/{id}", "Get a run"),
    (
        "post",
        "/runs/{id}/cancel",
        "Cancel a queued or running run",
    ),
    (
        "get",
        "/runs/{id}/report",
        "The whole drift report of a succeeded run (?feature= keeps that one feature)",
    ),
    (
        "get",
        "/tokens",
        "List API tokens (names and roles, never secrets)",
    ),
    (
        "post",
        "/services/{service}/inputs",
        "Collect a batch of a service's inputs (?model=&version=): a JSON array, NDJSON or CSV, gzip accepted; 201 once synced to disk, 200 for a repeated Idempotency-Key",
    ),
    (
        "post",
        "/services/{service}/predictions",
        "Collect a batch of a service's predictions, as inputs",
    ),
    (
        "get",
        "/services/{service}/export",
        "Export a window of a service's collected records for retraining (?stream=inputs|predictions&model=&version=&from=&to=&format=parquet|csv): the file's bytes",
    ),
    (
        "get",
        "/monitors/{name}/alerts",
        "A monitor's alert notifications, newest first: route, state (pending, sent, failed), attempts, last error",
    ),
    (
        "post",
        "/monitors/{name}/alerts/test",
        "Queue a test notification to each of a monitor's alert routes",
    ),
    (
        "get",
        "/services/{service}/stats",
        "A collected service's records per stream and day, newest record time, and batches taken and refused since start",
    ),
    ("get", "/models", "List registered model versions"),
    (
        "post",
        "/models",
        "Register a model version trained on a dataset: {name, version, dataset, ...baseline profile options}; fits its baseline",
    ),
    (
        "get",
        "/models/{name}",
        "The versions of a model (?version= for one)",
    ),
    ("get", "/services", "List registered services"),
    (
        "post",
        "/services",
        "Register a service collecting for a model version: {name, model, version}",
    ),
];

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// The document.
pub fn spec() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in OPERATIONS {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut responses = json!({
            "200": {"description": "OK", "content": {"application/json": {}}},
            "400": error_response("A field breaks a rule; `fields` names each"),
            "401": error_response("No valid bearer token"),
            "404": error_response("No such entity"),
            "410": error_response("The monitor is deleted"),
        });
        if *method != "get" {
            responses["403"] = error_response("The token is read-only");
            responses["409"] = error_response("The name is taken");
        }
        let mut op = json!({
            "summary": summary,
            "parameters": params,
            "responses": responses,
            "security": [{"bearer": []}],
        });
        if *method == "post" || *method == "patch" {
            op["requestBody"] =
                json!({"content": {"application/json": {"schema": {"type": "object"}}}});
        }
        let entry = paths
            .entry(format!("/api/v1{path}"))
            .or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    paths.insert(
        "/healthz".into(),
        json!({"get": {"summary": "Liveness: the store answers", "responses": {"200": {"description": "OK"}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "tidewatch",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Data-drift monitoring: datasets, baselines, monitors, runs and their results.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "properties": {
                            "status": {"type": "integer"},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "fields": {"type": "array", "items": {
                                "type": "object",
                                "properties": {"field": {"type": "string"}, "rule": {"type": "string"}}
                            }}
                        }
                    }}
                }
            }
        }
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<Value> {
    Json(spec())
}
