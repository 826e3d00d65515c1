//! API tokens: bearer secrets with a role. A token is shown once, when it
//! is created; the store keeps only its SHA-256, so a copy of the data
//! directory does not hand out access.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Store, StoreError, is_unique_violation, now_text, parse_time};
use crate::monitor::{Invalid, check_name};

/// Prefix of every token, so a leaked one is easy to recognise.
pub const TOKEN_PREFIX: &str = "tw_";

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read anything: monitors, runs, results, figures.
    Read,
    /// Read and change anything.
    Admin,
    /// Send collected records to one service, and nothing else.
    Ingest,
}

impl Role {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Admin => "admin",
            Role::Ingest => "ingest",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Role::Read),
            "admin" => Ok(Role::Admin),
            "ingest" => Ok(Role::Ingest),
            _ => Err(format!(
                "unknown role {s:?}: expected read, admin or ingest"
            )),
        }
    }
}

/// A stored token (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// Unique name, for people and the audit log.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The service an ingest token writes to.
    pub service: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked (a revoked token authenticates nothing).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// SHA-256 of a secret, hex.
fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new secret: the prefix and 32 random bytes from the operating
/// system, hex.
fn new_secret() -> Result<String, std::io::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

fn token_of(row: &sqlx::sqlite::SqliteRow) -> Token {
    Token {
        name: row.get("name"),
        role: row.get::<String, _>("role").parse().unwrap_or(Role::Read),
        service: row.get("service"),
        created_at: parse_time(row.get("created_at")),
        revoked_at: row
            .get::<Option<String>, _>("revoked_at")
            .map(|t| parse_time(&t)),
    }
}

/// The columns of a token, in the queries below.
const COLUMNS: &str = "name, role, service, created_at, revoked_at";

impl Store {
    /// Creates a read or admin token named `name`; returns it with its
    /// secret, which is not stored and cannot be shown again.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
    ) -> Result<(Token, String), StoreError> {
        if role == Role::Ingest {
            return Err(StoreError::Invalid(vec![Invalid {
                field: "role".into(),
                rule: "an ingest token is made for one service (create_ingest_token)".into(),
            }]));
        }
        self.insert_token(name, role, None).await
    }

    /// Creates an ingest token that may send records to `service` only.
    pub async fn create_ingest_token(
        &self,
        name: &str,
        service: &str,
    ) -> Result<(Token, String), StoreError> {
        if let Err(rule) = check_name(service) {
            return Err(StoreError::Invalid(vec![Invalid {
                field: "service".into(),
                rule,
            }]));
        }
        self.insert_token(name, Role::Ingest, Some(service)).await
    }

    async fn insert_token(
        &self,
        name: &str,
        role: Role,
        service: Option<&str>,
    ) -> Result<(Token, String), StoreError> {
        if let Err(rule) = check_name(name) {
            return Err(StoreError::Invalid(vec![Invalid {
                field: "name".into(),
                rule,
            }]));
        }
        let secret = new_secret().map_err(|source| StoreError::Io {
            path: self.dir().to_path_buf(),
            source,
        })?;
        let inserted = sqlx::query(
            "INSERT INTO tokens (name, hash, role, service, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(hash(&secret))
        .bind(role.as_str())
        .bind(service)
        .bind(now_text())
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Exists {
                    entity: "token",
                    name: name.to_string(),
                });
            }
            Err(e) => return Err(self.db(e)),
        }
        let token = self.token(name).await?;
        Ok((token, secret))
    }

    async fn token(&self, name: &str) -> Result<Token, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tokens WHERE name = ?"
        )))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .ok_or_else(|| StoreError::NotFound {
            entity: "token",
            name: name.to_string(),
        })?;
        Ok(token_of(&row))
    }

    /// The live token whose secret is `secret`, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Token>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tokens WHERE hash = ? AND revoked_at IS NULL"
        )))
        .bind(hash(secret))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(row.as_ref().map(token_of))
    }

    /// Every token, by name (revoked ones too).
    pub async fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tokens ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(token_of).collect())
    }

    /// Revokes token `name`: its secret authenticates nothing from now on.
    pub async fn revoke_token(&self, name: &str) -> Result<Token, StoreError> {
        self.token(name).await?;
        sqlx::query("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
            .bind(now_text())
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        self.token(name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_shown_once_stored_hashed_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let (admin, secret) = store.create_token("ops", Role::Admin).await.unwrap();
        assert_eq!(admin.role, Role::Admin);
        assert!(secret.starts_with(TOKEN_PREFIX) && secret.len() == 3 + 64);
        let (_, other) = store.create_token("viewer", Role::Read).await.unwrap();
        assert_ne!(secret, other);
        assert_eq!(
            store.authenticate(&secret).await.unwrap().unwrap().name,
            "ops"
        );
        assert_eq!(
            store.authenticate(&other).await.unwrap().unwrap().role,
            Role::Read
        );
        assert!(store.authenticate("tw_nope").await.unwrap().is_none());
        // The secret itself is nowhere in the database file.
        drop(store);
        let bytes = std::fs::read(dir.path().join(crate::db::DATABASE_FILE)).unwrap();
        let wal = std::fs::read(dir.path().join("tidewatch.db-wal")).unwrap_or_default();
        for b in [bytes, wal] {
            assert!(!b.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
        let store = Store::open(dir.path()).await.unwrap();
        let err = store.create_token("ops", Role::Read).await.unwrap_err();
        assert!(matches!(err, StoreError::Exists { .. }), "{err}");
        let err = store
            .create_token("bad name", Role::Read)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("name:"), "{err}");
        let revoked = store.revoke_token("ops").await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert!(store.authenticate(&secret).await.unwrap().is_none());
        assert_eq!(store.tokens().await.unwrap().len(), 2);
        assert!("owner".parse::<Role>().is_err());
        // Ingest tokens belong to one service.
        let (t, secret) = store
            .create_ingest_token("model-a", "loans-api")
            .await
            .unwrap();
        assert_eq!(
            (t.role, t.service.as_deref()),
            (Role::Ingest, Some("loans-api"))
        );
        assert_eq!(store.authenticate(&secret).await.unwrap().unwrap(), t);
        assert!(store.create_token("x", Role::Ingest).await.is_err());
        let err = store
            .create_ingest_token("y", "bad service")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("service:"), "{err}");
    }
}
