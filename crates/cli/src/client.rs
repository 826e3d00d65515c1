//! How the monitoring commands reach the API: the router called
//! in-process on the local data directory, or a server over HTTP. Both
//! answer the same JSON, so each command is written once.

use anyhow::{Context, bail};
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::Value;
use tidewatch_server::api::{AppState, app};
use tidewatch_store::Store;
use tower::ServiceExt;

/// Where requests go.
pub enum Client {
    /// The data directory's store, through the router in-process (as an
    /// admin: whoever can read the directory owns it).
    Local {
        /// The state the router runs on (its store, for the workers).
        state: AppState,
    },
    /// A `tidewatch serve` at `base`, with a bearer token.
    Remote {
        /// The HTTP client.
        http: reqwest::Client,
        /// `http(s)://host:port`, without a trailing slash.
        base: String,
        /// The token sent, if any.
        token: Option<String>,
    },
}

impl Client {
    /// The local store in `dir`.
    pub async fn local(dir: &std::path::Path) -> anyhow::Result<Client> {
        let store = Store::open(dir)
            .await
            .with_context(|| format!("opening the data directory {}", dir.display()))?;
        let mut state = AppState::new(store);
        state.trust_local = true;
        Ok(Client::Local { state })
    }

    /// The local store in `dir` with its collector open (the log's lock
    /// held: no server may be collecting there meanwhile).
    pub async fn local_collecting(dir: &std::path::Path) -> anyhow::Result<Client> {
        let mut client = Client::local(dir).await?;
        if let Client::Local { state } = &mut client {
            let collector = tidewatch_server::collector::Collector::open(dir).with_context(|| {
                format!(
                    "opening the collector of {} (is a server running there? then give --server)",
                    dir.display()
                )
            })?;
            state.collector = Some(collector);
        }
        Ok(client)
    }

    /// The local collector, if this client has one.
    pub fn collector(&self) -> Option<&tidewatch_server::collector::Collector> {
        match self {
            Client::Local { state } => state.collector.as_ref(),
            Client::Remote { .. } => None,
        }
    }

    /// A server at `base`.
    pub fn remote(base: &str, token: Option<String>) -> anyhow::Result<Client> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--server {base:?}: expected an http:// or https:// URL");
        }
        Ok(Client::Remote {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// Sends `method path` (under `/api/v1`) with an optional JSON body;
    /// returns the body of a 2xx answer, or the API's error as an error.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let (headers, body) = match body {
            Some(v) => (
                vec![(
                    header::CONTENT_TYPE.as_str(),
                    "application/json".to_string(),
                )],
                Some(v.to_string().into_bytes()),
            ),
            None => (Vec::new(), None),
        };
        let bytes = self.call_raw(method, path, &headers, body).await?;
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// Sends `method path` with raw `body` bytes and extra `headers`;
    /// returns the answer's bytes when it is a 2xx, else the API's error.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Vec<u8>> {
        let (status, bytes) = self.exchange(method.clone(), path, headers, body).await?;
        if !(200..300).contains(&status) {
            let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let message = value["error"]["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            bail!("{method} {path}: {status}: {message}");
        }
        Ok(bytes)
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let uri = format!("/api/v1{path}");
        match self {
            Client::Local { state } => {
                let mut req = Request::builder().method(method).uri(&uri);
                for (name, value) in headers {
                    req = req.header(*name, value);
                }
                let body = body.map_or_else(Body::empty, Body::from);
                let response = app(state.clone())
                    .oneshot(req.body(body).context("building the request")?)
                    .await
                    .context("calling the local API")?;
                let status = response.status().as_u16();
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .context("reading the local API's answer")?;
                Ok((status, bytes.to_vec()))
            }
            Client::Remote { http, base, token } => {
                let method = reqwest::Method::from_bytes(method.as_str().as_bytes())
                    .expect("standard methods convert");
                let mut req = http.request(method, format!("{base}{uri}"));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                for (name, value) in headers {
                    req = req.header(*name, value);
                }
                if let Some(b) = body {
                    req = req.body(b);
                }
                let response = req
                    .send()
                    .await
                    .with_context(|| format!("reaching the server at {base}"))?;
                let status = response.status().as_u16();
                let bytes = response
                    .bytes()
                    .await
                    .with_context(|| format!("reading the answer of {base}"))?;
                Ok((status, bytes.to_vec()))
            }
        }
    }

    /// In local mode, executes the queued runs `ids` here (there is no
    /// server to do it), calling `done` with each as it ends; runs that are
    /// no longer queued are left alone. Remote: nothing.
    pub async fn drain(
        &self,
        ids: &[i64],
        mut done: impl FnMut(&tidewatch_store::Run),
    ) -> anyhow::Result<()> {
        if let Client::Local { state } = self {
            for &id in ids {
                let Some(run) = state
                    .store
                    .claim_run_id(id)
                    .await
                    .context("taking a queued run")?
                else {
                    continue;
                };
                let run = tidewatch_server::runner::execute(&state.store, &state.baselines, &run)
                    .await
                    .context("executing a queued run")?;
                done(&run);
            }
        }
        Ok(())
    }
}
