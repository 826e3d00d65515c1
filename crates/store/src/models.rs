//! Registered models and the services that collect for them: the
//! reference's `Model.register(name, version, datasets=[training])` and
//! its deployments. A model version names its training dataset and the
//! baseline fitted from it at registration; a service collects inputs for
//! one model version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::{Store, StoreError, now_text, parse_time};

/// A registered model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// The model's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The dataset it was trained on.
    pub dataset: String,
    /// The baseline fitted from that dataset at registration.
    pub baseline: String,
    /// That baseline's version.
    pub baseline_version: i64,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// A deployed service, collecting for one model version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The service's name (as in the collector's URLs).
    pub name: String,
    /// The model it serves.
    pub model: String,
    /// That model's version.
    pub version: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

fn model_of(row: &sqlx::sqlite::SqliteRow) -> Model {
    Model {
        name: row.get("name"),
        version: row.get("version"),
        dataset: row.get("dataset"),
        baseline: row.get("baseline"),
        baseline_version: row.get("baseline_version"),
        created_at: parse_time(row.get("created_at")),
    }
}

fn service_of(row: &sqlx::sqlite::SqliteRow) -> Service {
    Service {
        name: row.get("name"),
        model: row.get("model"),
        version: row.get("version"),
        created_at: parse_time(row.get("created_at")),
    }
}

/// The model columns, then `$tail`.
macro_rules! select_models {
    ($tail:literal) => {
        concat!(
            "SELECT m.name, m.version, d.name AS dataset, m.baseline, m.baseline_version, ",
            "m.created_at FROM models m JOIN datasets d ON d.id = m.dataset_id ",
            $tail
        )
    };
}

impl Store {
    /// Registers version `version` of model `name`, trained on `dataset`,
    /// with the baseline version fitted from it. A version is registered
    /// once.
    pub async fn register_model(
        &self,
        name: &str,
        version: &str,
        dataset: &str,
        baseline: (&str, i64),
    ) -> Result<Model, StoreError> {
        let dataset_id: i64 = sqlx::query_scalar("SELECT id FROM datasets WHERE name = ?")
            .bind(dataset)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "dataset",
                name: dataset.to_string(),
            })?;
        let done = sqlx::query(
            "INSERT INTO models (name, version, dataset_id, baseline, baseline_version, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(version)
        .bind(dataset_id)
        .bind(baseline.0)
        .bind(baseline.1)
        .bind(now_text())
        .execute(&self.pool)
        .await;
        match done {
            Ok(_) => self.model(name, version).await,
            Err(e) if crate::db::is_unique_violation(&e) => Err(StoreError::Exists {
                entity: "model version",
                name: format!("{name} {version}"),
            }),
            Err(e) => Err(self.db(e)),
        }
    }

    /// Version `version` of model `name`.
    pub async fn model(&self, name: &str, version: &str) -> Result<Model, StoreError> {
        let row = sqlx::query(select_models!("WHERE m.name = ? AND m.version = ?"))
            .bind(name)
            .bind(version)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "model version",
                name: format!("{name} {version}"),
            })?;
        Ok(model_of(&row))
    }

    /// Every registered model version, by name then registration.
    pub async fn models(&self) -> Result<Vec<Model>, StoreError> {
        let rows = sqlx::query(select_models!("ORDER BY m.name, m.id"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(model_of).collect())
    }

    /// Registers service `name` as collecting for a registered model
    /// version.
    pub async fn register_service(
        &self,
        name: &str,
        model: &str,
        version: &str,
    ) -> Result<Service, StoreError> {
        if let Err(rule) = crate::monitor::check_name(name) {
            return Err(StoreError::Invalid(vec![crate::Invalid {
                field: "name".into(),
                rule,
            }]));
        }
        self.model(model, version).await?;
        let done = sqlx::query(
            "INSERT INTO services (name, model, version, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(name)
        .bind(model)
        .bind(version)
        .bind(now_text())
        .execute(&self.pool)
        .await;
        match done {
            Ok(_) => self.service(name).await,
            Err(e) if crate::db::is_unique_violation(&e) => Err(StoreError::Exists {
                entity: "service",
                name: name.to_string(),
            }),
            Err(e) => Err(self.db(e)),
        }
    }

    /// Service `name`.
    pub async fn service(&self, name: &str) -> Result<Service, StoreError> {
        let row =
            sqlx::query("SELECT name, model, version, created_at FROM services WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.db(e))?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "service",
                    name: name.to_string(),
                })?;
        Ok(service_of(&row))
    }

    /// Every registered service, by name.
    pub async fn services(&self) -> Result<Vec<Service>, StoreError> {
        let rows =
            sqlx::query("SELECT name, model, version, created_at FROM services ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(service_of).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Dataset;

    #[tokio::test]
    async fn models_register_once_and_services_serve_registered_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store
            .create_dataset(&Dataset {
                name: "train".into(),
                input: "/data/train.csv".into(),
                format: None,
                time_column: None,
                options: serde_json::json!({}),
            })
            .await
            .unwrap();
        let m = store
            .register_model("loans", "3", "train", ("loans", 1))
            .await
            .unwrap();
        assert_eq!((m.dataset.as_str(), m.baseline_version), ("train", 1));
        assert!(matches!(
            store
                .register_model("loans", "3", "train", ("loans", 2))
                .await,
            Err(StoreError::Exists { .. })
        ));
        assert!(matches!(
            store
                .register_model("loans", "4", "nothing", ("loans", 2))
                .await,
            Err(StoreError::NotFound {
                entity: "dataset",
                ..
            })
        ));
        let s = store
            .register_service("loans-api", "loans", "3")
            .await
            .unwrap();
        assert_eq!((s.model.as_str(), s.version.as_str()), ("loans", "3"));
        assert!(matches!(
            store.register_service("other", "loans", "9").await,
            Err(StoreError::NotFound {
                entity: "model version",
                ..
            })
        ));
        assert!(matches!(
            store.register_service("bad name!", "loans", "3").await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(store.services().await.unwrap().len(), 1);
        assert_eq!(store.models().await.unwrap().len(), 1);
    }
}
