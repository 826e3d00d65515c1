//! Delivering the alert outbox ([`tidewatch_store::alerts`]): every due
//! notification is sent, and its outcome recorded; a failed one is tried
//! again with exponential backoff (the base doubled each attempt, at most
//! an hour apart) and given up after [`Deliverer::max_attempts`].
//!
//! Webhooks get the notification's JSON as a POST, signed: the header
//! `X-Tidewatch-Signature: sha256=<hex>` is the HMAC-SHA256 of the body
//! under the server's webhook secret (RFC 2104), so a receiver can check
//! that the body came from this server unaltered. `X-Tidewatch-Delivery`
//! carries the notification's id, the same on every attempt, for
//! receivers that must not act twice.
//!
//! A Slack-style route gets `{"text": ...}`: the email's subject and
//! body as one message (signed alike).
//!
//! Email goes over SMTP ([`Smtp`]: STARTTLS, implicit TLS or plain, with
//! an optional login): the subject names the monitor, window, coefficient
//! and threshold; the body adds the top contributing features and a link.
//! Without an SMTP server configured, email notifications fail with a
//! message that says so.

use std::time::Duration;

use chrono::Utc;
use sha2::{Digest, Sha256};
use tidewatch_store::{AlertRoute, Notification, Store, StoreError};

/// HMAC-SHA256 of `message` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| -> [u8; BLOCK] { std::array::from_fn(|i| k[i] ^ byte) };
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The `X-Tidewatch-Signature` value of `body`: `sha256=` and the hex HMAC.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mac = hmac_sha256(secret, body);
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain, then STARTTLS (port 587 usually).
    StartTls,
    /// TLS from the start (port 465 usually).
    Tls,
    /// No TLS at all: only for a relay on the same machine or network.
    Plain,
}

impl std::str::FromStr for SmtpTls {
    type Err = String;

    fn from_str(s: &str) -> Result<SmtpTls, String> {
        match s {
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            "plain" => Ok(SmtpTls::Plain),
            other => Err(format!("{other:?} is not starttls, tls or plain")),
        }
    }
}

/// Where alert email goes out.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// The server's host name.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// User name and password, if the server wants a login.
    pub login: Option<(String, String)>,
    /// The sender's address.
    pub from: String,
}

/// The email of a notification: subject and plain-text body.
pub fn email_text(payload: &serde_json::Value, public_url: Option<&str>) -> (String, String) {
    let monitor = payload["monitor"].as_str().unwrap_or_default();
    let link = payload["link"].as_str().unwrap_or_default();
    let base = public_url.unwrap_or("").trim_end_matches('/');
    if payload["event"] == "test" {
        return (
            format!("[tidewatch] test alert for {monitor}"),
            format!(
                "This is a test of monitor {monitor}'s alert routes: it reached you.\n\nDetails: {base}{link}\n"
            ),
        );
    }
    let service = payload["service"]
        .as_str()
        .map_or(String::new(), |s| format!(" ({s})"));
    let day = |k: &str| {
        payload[k]
            .as_str()
            .unwrap_or_default()
            .get(..10)
            .unwrap_or_default()
            .to_string()
    };
    let number = |k: &str| {
        payload[k]
            .as_f64()
            .map_or("-".to_string(), |v| format!("{v:.3}"))
    };
    let subject = format!(
        "[tidewatch] drift in {monitor}{service}: {} > {}, window of {}",
        number("drift_coefficient"),
        payload["threshold"],
        day("window_start"),
    );
    let mut body = format!(
        "Monitor: {monitor}{service}\nWindow: {} to {}\nDrift coefficient: {} (threshold {}; drift when above)\nAUC: {}\n\nTop contributing features:\n",
        payload["window_start"].as_str().unwrap_or_default(),
        payload["window_end"].as_str().unwrap_or_default(),
        number("drift_coefficient"),
        payload["threshold"],
        number("auc"),
    );
    for f in payload["top_features"].as_array().into_iter().flatten() {
        body.push_str(&format!(
            "  {}: {:.1} %\n",
            f["name"].as_str().unwrap_or_default(),
            f["contribution"].as_f64().unwrap_or(0.0) * 100.0
        ));
    }
    body.push_str(&format!("\nDetails: {base}{link}\n"));
    (subject, body)
}

/// Sends due notifications.
#[derive(Clone)]
pub struct Deliverer {
    http: reqwest::Client,
    secret: Vec<u8>,
    /// Where email goes out (none: email notifications fail, saying so).
    pub smtp: Option<Smtp>,
    /// The server's address as users reach it, for the links in email.
    pub public_url: Option<String>,
    /// The first wait after a failed attempt (default 1 s); it doubles.
    pub backoff: Duration,
    /// Attempts before a notification is given up (default 10).
    pub max_attempts: i64,
}

impl Deliverer {
    /// A deliverer signing webhooks with `secret`.
    pub fn new(secret: &[u8]) -> Deliverer {
        Deliverer {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            secret: secret.to_vec(),
            smtp: None,
            public_url: None,
            backoff: Duration::from_secs(1),
            max_attempts: 10,
        }
    }

    /// Sends every notification due now; returns how many were delivered.
    pub async fn deliver_due(&self, store: &Store) -> Result<usize, StoreError> {
        let mut sent = 0;
        for n in store.due_notifications(Utc::now(), 100).await? {
            let outcome = match self.send(&n).await {
                Ok(()) => {
                    sent += 1;
                    Ok(())
                }
                Err(e) => {
                    let attempt = n.attempts + 1;
                    let retry_at = (attempt < self.max_attempts).then(|| {
                        let wait = self
                            .backoff
                            .saturating_mul(1 << attempt.clamp(1, 20).saturating_sub(1))
                            .min(Duration::from_secs(3600));
                        Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default()
                    });
                    Err((e, retry_at))
                }
            };
            store.record_attempt(n.id, outcome).await?;
        }
        Ok(sent)
    }

    async fn send(&self, n: &Notification) -> Result<(), String> {
        match &n.route {
            AlertRoute::Webhook(url) => self.post(url, n.payload.to_string(), n.id).await,
            AlertRoute::Slack(url) => {
                let (subject, body) = email_text(&n.payload, self.public_url.as_deref());
                let text = serde_json::json!({ "text": format!("*{subject}*\n{body}") });
                self.post(url, text.to_string(), n.id).await
            }
            AlertRoute::Email(to) => {
                let Some(smtp) = &self.smtp else {
                    return Err(format!(
                        "email to {to}: no SMTP server is configured (serve --smtp-host)"
                    ));
                };
                self.send_email(smtp, to, &n.payload)
                    .await
                    .map_err(|e| format!("email to {to} through {}:{}: {e}", smtp.host, smtp.port))
            }
        }
    }

    /// POSTs JSON `body` to `url`, signed, with the notification's id.
    async fn post(&self, url: &str, body: String, id: i64) -> Result<(), String> {
        let r = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header(
                "x-tidewatch-signature",
                signature(&self.secret, body.as_bytes()),
            )
            .header("x-tidewatch-delivery", id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(format!("POST {url}: {}", r.status()))
        }
    }

    async fn send_email(
        &self,
        smtp: &Smtp,
        to: &str,
        payload: &serde_json::Value,
    ) -> Result<(), String> {
        use lettre::message::header::ContentType;
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
        let (subject, body) = email_text(payload, self.public_url.as_deref());
        let message = Message::builder()
            .from(
                smtp.from
                    .parse()
                    .map_err(|e| format!("the sender {:?}: {e}", smtp.from))?,
            )
            .to(to.parse().map_err(|e| format!("the address: {e}"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        let builder = match smtp.tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| e.to_string())?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| e.to_string())?,
            SmtpTls::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(Duration::from_secs(10)));
        if let Some((user, password)) = &smtp.login {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        builder
            .build()
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The data directory's webhook secret: `webhook-secret` in it, made (32
/// random bytes, hex) on first use and readable by its owner only.
pub fn webhook_secret(dir: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let path = dir.join("webhook-secret");
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok(text.trim().as_bytes().to_vec()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| std::io::Error::other(e.to_string()))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut f = options.open(&path)?;
    f.write_all(hex.as_bytes())?;
    f.sync_all()?;
    Ok(hex.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let hex = |b: [u8; 32]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        // Test case 2.
        assert_eq!(
            hex(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn the_secret_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = webhook_secret(dir.path()).unwrap();
        let b = webhook_secret(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
    }
}
