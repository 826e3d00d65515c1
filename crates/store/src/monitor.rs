//! A monitor's definition and the rules its fields obey. Every rule broken
//! is reported at once, each naming its field and the rule, so the API can
//! answer a 4xx that says exactly what to fix.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::window::Frequency;

/// Default drift-coefficient threshold (the reference's, for has_drift =
/// coefficient > threshold).
pub const DEFAULT_THRESHOLD: f64 = 0.2;

/// Largest latency allowance, in hours.
pub const MAX_LATENCY_HOURS: u32 = 1000;

/// Longest monitor name, in characters.
pub const MAX_NAME_LEN: usize = 36;

/// Where alerts go (delivered by the alerting component; stored and
/// validated here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "to", rename_all = "lowercase")]
pub enum AlertRoute {
    /// An email address.
    Email(String),
    /// An `http` or `https` URL receiving a JSON POST.
    Webhook(String),
    /// A Slack-style incoming webhook: a POST of `{"text": ...}`.
    Slack(String),
}

/// What a monitor is: fixed at creation (name, frequency, latency) or
/// updatable (the rest; each update audited by the store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorSpec {
    /// Unique name: 1-36 characters, letters, digits, `_` and `-`,
    /// starting with a letter or digit.
    pub name: String,
    /// The baseline compared with (a stored baseline's name).
    pub baseline: String,
    /// The baseline's version compared with; `None` when the spec is
    /// written means the newest, which the store pins at creation so that
    /// a new version never silently changes a monitor's numbers (an
    /// update may move it).
    #[serde(default)]
    pub baseline_version: Option<i64>,
    /// The target dataset (it must have a timestamp column). Empty for a
    /// monitor made from a model, whose targets are its services.
    pub target: String,
    /// The registered model this monitor watches (the reference's
    /// `DataDriftDetector.create(workspace, model_name, model_version,
    /// services, ...)`): its baseline is the one fitted from the model's
    /// training dataset, and its targets are `services`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    /// The services whose collected inputs (joined to their predictions)
    /// are compared, one run per service per window (only with `model`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Features compared [the reference's feature_list]; `None`: every
    /// column the baseline and target share.
    pub features: Option<Vec<String>>,
    /// Window length.
    pub frequency: Frequency,
    /// Hours after a window ends before it is complete (0-1000).
    pub latency_hours: u32,
    /// Drift-coefficient threshold in [0, 1]: drift when strictly above.
    pub threshold: f64,
    /// Where alerts go.
    pub alerts: Vec<AlertRoute>,
    /// Alert only when this many of the last windows drifted (the window
    /// that drifts now among them); `None`: on every drifted window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_persistence: Option<Persistence>,
    /// Whether the scheduler runs it.
    pub enabled: bool,
    /// Deciding metric per feature, overriding the automatic choice.
    pub feature_methods: BTreeMap<String, String>,
    /// Threshold per feature, overriding the metric's default.
    pub feature_thresholds: BTreeMap<String, f64>,
}

/// "N of the last M windows drifted".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persistence {
    /// N: drifted windows needed, at least 1.
    pub drifted: u32,
    /// M: the windows looked at, N to 100.
    pub of: u32,
}

/// A registered model's name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    /// The model's name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// One broken rule: the field and what it must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalid {
    /// The field, as the API names it (`alerts[1]` for a list element).
    pub field: String,
    /// The rule it breaks, with the value.
    pub rule: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Whether `name` is a valid monitor name; the rule it breaks if not.
pub fn check_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_LEN {
        return Err(format!(
            "must be 1 to {MAX_NAME_LEN} characters long, not {len} ({name:?})"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!("must start with a letter or digit ({name:?})"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "may hold only letters, digits, '_' and '-', not {c:?} ({name:?})"
        ));
    }
    Ok(())
}

/// Whether `address` looks like an email address: one `@`, a non-empty
/// local part, a domain of dot-separated labels with at least one dot, no
/// spaces. (Delivery is the real test; this catches typing mistakes.)
pub fn check_email(address: &str) -> Result<(), String> {
    let bad = || Err(format!("{address:?} is not an email address"));
    let Some((local, domain)) = address.split_once('@') else {
        return bad();
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if local.is_empty()
        || local.len() > 64
        || local
            .chars()
            .any(|c| c.is_whitespace() || c == '@' || c.is_control())
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || !domain.contains('.')
        || !domain.split('.').all(label_ok)
    {
        return bad();
    }
    Ok(())
}

/// Whether `url` is an `http` or `https` URL with a host.
pub fn check_webhook(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!("{url:?} is not an http(s) URL with a host")),
    }
}

impl MonitorSpec {
    /// Every rule the spec breaks (empty when valid). Rules that need the
    /// data (features present, a timestamp column) are the store's.
    pub fn problems(&self) -> Vec<Invalid> {
        let mut out = Vec::new();
        let mut push = |field: &str, rule: String| {
            out.push(Invalid {
                field: field.to_string(),
                rule,
            })
        };
        if let Err(rule) = check_name(&self.name) {
            push("name", rule);
        }
        if self.baseline.trim().is_empty() {
            push("baseline", "must name a baseline".into());
        }
        match (&self.model, self.services.is_empty()) {
            (None, true) if self.target.trim().is_empty() => {
                push("target", "must name a dataset".into());
            }
            (None, false) => push(
                "services",
                "are a model's: give model and model_version too".into(),
            ),
            (Some(_), true) => push(
                "services",
                "must list at least one service of the model".into(),
            ),
            (Some(_), false) if !self.target.trim().is_empty() => push(
                "target",
                "must be left out for a monitor made from a model (its services are its targets)"
                    .into(),
            ),
            _ => {}
        }
        if let Some(p) = self.alert_persistence
            && !(1 <= p.drifted && p.drifted <= p.of && p.of <= 100)
        {
            push(
                "alert_persistence",
                format!(
                    "needs 1 <= drifted <= of <= 100, not {} of {}",
                    p.drifted, p.of
                ),
            );
        }
        for s in &self.services {
            if let Err(rule) = check_name(s) {
                push("services", rule);
            }
        }
        if let Some(features) = &self.features {
            if features.is_empty() {
                push(
                    "features",
                    "must list at least one feature (or be left out: all)".into(),
                );
            }
            let mut seen = std::collections::HashSet::new();
            for f in features {
                if !seen.insert(f) {
                    push("features", format!("lists {f:?} twice"));
                }
            }
        }
        if self.latency_hours > MAX_LATENCY_HOURS {
            push(
                "latency_hours",
                format!(
                    "must lie in 0 to {MAX_LATENCY_HOURS}, not {}",
                    self.latency_hours
                ),
            );
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            push(
                "threshold",
                format!("must lie in [0, 1], not {}", self.threshold),
            );
        }
        for (i, route) in self.alerts.iter().enumerate() {
            let field = format!("alerts[{i}]");
            let checked = match route {
                AlertRoute::Email(a) => check_email(a),
                AlertRoute::Webhook(u) | AlertRoute::Slack(u) => check_webhook(u),
            };
            if let Err(rule) = checked {
                push(&field, rule);
            }
        }
        for (feature, t) in &self.feature_thresholds {
            if !t.is_finite() {
                push(
                    &format!("feature_thresholds.{feature}"),
                    format!("must be a number, not {t}"),
                );
            }
        }
        for (feature, method) in &self.feature_methods {
            if method.trim().is_empty() {
                push(
                    &format!("feature_methods.{feature}"),
                    "must name a metric".into(),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MonitorSpec {
        MonitorSpec {
            name: "car-loans_1".into(),
            baseline: "training".into(),
            baseline_version: None,
            target: "collected".into(),
            model: None,
            services: Vec::new(),
            features: None,
            frequency: Frequency::Week,
            latency_hours: 24,
            threshold: DEFAULT_THRESHOLD,
            alerts: vec![
                AlertRoute::Email("ml-team@example.com".into()),
                AlertRoute::Webhook("https://hooks.example.com/drift?x=1".into()),
            ],
            alert_persistence: None,
            enabled: true,
            feature_methods: BTreeMap::new(),
            feature_thresholds: BTreeMap::new(),
        }
    }

    #[test]
    fn a_valid_spec_has_no_problems() {
        assert_eq!(spec().problems(), vec![]);
    }

    #[test]
    fn names_follow_the_rule() {
        for ok in ["a", "A1", "9lives", "x_y-z", &"n".repeat(36)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("", "1 to 36"),
            (&"n".repeat(37) as &str, "not 37"),
            ("_x", "start with a letter or digit"),
            ("-x", "start with a letter or digit"),
            ("a b", "not ' '"),
            ("a.b", "not '.'"),
            ("é", "start with"),
        ] {
            let err = check_name(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn emails_and_webhooks_are_checked() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(check_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b..co", "a@-b.co", ".a@b.co", "a@@b.co",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        for ok in ["http://localhost:8080/hook", "https://h.example.com"] {
            assert!(check_webhook(ok).is_ok(), "{ok}");
        }
        for bad in ["ftp://h/x", "https://", "h.example.com/x", "http:// spaced"] {
            assert!(check_webhook(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_broken_rule_is_named_with_its_field() {
        let s = MonitorSpec {
            name: "-bad".into(),
            latency_hours: 1001,
            threshold: 1.5,
            features: Some(vec!["a".into(), "a".into()]),
            alerts: vec![
                AlertRoute::Email("ok@example.com".into()),
                AlertRoute::Email("nope".into()),
            ],
            feature_thresholds: [("x".to_string(), f64::NAN)].into_iter().collect(),
            ..spec()
        };
        let fields: Vec<String> = s.problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "features",
                "latency_hours",
                "threshold",
                "alerts[1]",
                "feature_thresholds.x"
            ]
        );
        let threshold = s
            .problems()
            .into_iter()
            .find(|p| p.field == "threshold")
            .unwrap();
        assert_eq!(
            threshold.to_string(),
            "threshold: must lie in [0, 1], not 1.5"
        );
        // A NaN threshold is out of range too.
        let nan = MonitorSpec {
            threshold: f64::NAN,
            ..spec()
        };
        assert_eq!(nan.problems()[0].field, "threshold");
    }
}
