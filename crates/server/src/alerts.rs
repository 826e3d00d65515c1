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
//! receivers that must not act twice. Email is not delivered yet: such
//! notifications fail with a message that says so.

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

/// Sends due notifications.
#[derive(Clone)]
pub struct Deliverer {
    http: reqwest::Client,
    secret: Vec<u8>,
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
            AlertRoute::Webhook(url) => {
                let body = n.payload.to_string();
                let r = self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .header(
                        "x-tidewatch-signature",
                        signature(&self.secret, body.as_bytes()),
                    )
                    .header("x-tidewatch-delivery", n.id.to_string())
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
            AlertRoute::Email(to) => Err(format!(
                "email to {to}: email delivery is not configured on this server yet"
            )),
        }
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
