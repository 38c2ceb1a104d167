//! What a county bureau's monitoring scrapes at `GET /metrics` (the OpenMetrics text format,
//! which Prometheus reads): requests by route, method and status with their latency, changes
//! accepted and refused by code, how far behind the head pulls ask, and two gauges read from
//! storage at scrape time (conflicts open, handed-over changes waiting for a decision).
//!
//! No label ever holds a value from a request body or a person: routes are the router's path
//! templates, codes come from the catalogue. The metrics live in memory and start at zero with
//! the process; the scrape is encoded on the request's thread (no exporter thread, no port).

use std::net::IpAddr;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use protocol::{ApiError, PushOutcome};
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::error::{FORBIDDEN, NOT_FOUND, unauthorized};

/// Where the metrics are served (outside the versioned API: monitoring, not devices, reads it).
pub const PATH: &str = "/metrics";

/// The `Content-Type` of a scrape.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Who may read `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Not served: `/metrics` answers `not_found`.
    Off,
    /// Only clients on this machine (a Prometheus or an agent beside the server). The default:
    /// the numbers say how busy stations are, which is not for the internet to read.
    Local,
    /// Anyone presenting this bearer token (the bureau's monitoring on its own network).
    Token(Secret),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusedLabels {
    code: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The server's metrics; one per [`crate::Server`], shared by its clones.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<RequestLabels>,
    changes_accepted: Counter,
    changes_refused: Family<RefusedLabels, Counter>,
    pull_lag: Histogram,
    conflicts_open: Gauge,
    handed_over_waiting: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s: a pull page is milliseconds, a first pull or a password hash is seconds.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("shegong_sync");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route, method and status", requests.clone());
        let request_seconds: HistogramFamily<RequestLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's first byte to its answer, by route, method and status",
            request_seconds.clone(),
        );
        let changes_accepted = Counter::default();
        registry.register("changes_accepted", "Pushed changes accepted into the log", changes_accepted.clone());
        let changes_refused = Family::<RefusedLabels, Counter>::default();
        registry.register(
            "changes_refused",
            "Pushed changes refused (kept with their payload), by error code",
            changes_refused.clone(),
        );
        // 0, 1, 10, … 1 000 000 log entries behind.
        let pull_lag = Histogram::new(std::iter::once(0.0).chain(exponential_buckets(1.0, 10.0, 7)));
        registry.register(
            "pull_lag_entries",
            "Log head minus the cursor a pull asked after: how far behind devices are",
            pull_lag.clone(),
        );
        let conflicts_open = Gauge::default();
        registry.register(
            "conflicts_open",
            "Field conflicts whose losing value no one has seen yet (as of the scrape)",
            conflicts_open.clone(),
        );
        let handed_over_waiting = Gauge::default();
        registry.register(
            "handed_over_waiting",
            "Changes of reassigned cases offered for a decision and not yet decided (as of the scrape)",
            handed_over_waiting.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            changes_accepted,
            changes_refused,
            pull_lag,
            conflicts_open,
            handed_over_waiting,
        }
    }
}

impl Metrics {
    /// One answered request. `route` is the router's path template (never the raw path, whose
    /// ids would make a series per entity), or `unmatched`.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let labels = RequestLabels { route: route.to_owned(), method: method.to_owned(), status };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds.get_or_create(&labels).observe(seconds);
    }

    /// The answers of a committed push that were decided by it (not stored answers sent again).
    pub fn changes_answered<'a>(&self, outcomes: impl IntoIterator<Item = &'a PushOutcome>) {
        for outcome in outcomes {
            match outcome {
                PushOutcome::Accepted { .. } => {
                    self.changes_accepted.inc();
                }
                PushOutcome::Rejected { rejection, .. } => {
                    self.changes_refused.get_or_create(&RefusedLabels { code: rejection.code.clone() }).inc();
                }
                PushOutcome::Gap { .. } | PushOutcome::SequenceReused { .. } => {}
            }
        }
    }

    /// A pull asked for the entries after `after` while the log's head was `head`.
    pub fn pull_lag(&self, head: u64, after: u64) {
        self.pull_lag.observe(head.saturating_sub(after) as f64);
    }

    /// The scrape's text, with the storage gauges as given.
    pub fn encode(&self, conflicts_open: u64, handed_over_waiting: u64) -> Result<String, ApiError> {
        self.conflicts_open.set(i64::try_from(conflicts_open).unwrap_or(i64::MAX));
        self.handed_over_waiting.set(i64::try_from(handed_over_waiting).unwrap_or(i64::MAX));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .map_err(|e| crate::error::internal(format!("encoding the metrics: {e}")))?;
        Ok(out)
    }
}

impl MetricsAccess {
    /// Whether a scrape with this bearer token (if any) from this address (`None` when the
    /// router is driven in-process) may read the metrics.
    pub fn check(&self, bearer: Option<&str>, addr: Option<IpAddr>) -> Result<(), ApiError> {
        match self {
            MetricsAccess::Off => Err(ApiError::new(
                NOT_FOUND,
                "本服务器未开启运行指标",
                "this server does not serve metrics (metrics = false in its configuration)",
            )),
            MetricsAccess::Local => match addr {
                None => Ok(()),
                Some(ip) if ip.is_loopback() || ip.to_canonical().is_loopback() => Ok(()),
                Some(_) => Err(ApiError::new(
                    FORBIDDEN,
                    "运行指标只对本机开放；如需从其他机器读取，请在配置中设置 metrics_token",
                    "metrics are served to this machine only; set metrics_token in the configuration to scrape from elsewhere",
                )),
            },
            MetricsAccess::Token(token) => {
                // Compared as digests, so the time taken says nothing about the token.
                let given = bearer.map(|b| Sha256::digest(b.as_bytes()));
                if given.is_some_and(|given| given == Sha256::digest(token.expose().as_bytes())) {
                    Ok(())
                } else {
                    Err(unauthorized(
                        "读取运行指标需要正确的令牌",
                        "reading the metrics needs the configured bearer token (metrics_token)",
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_empty_token_never_opens_a_token_protected_scrape() {
        let access = MetricsAccess::Token(Secret::new("s3cret"));
        assert!(access.check(None, None).is_err());
        assert!(access.check(Some(""), None).is_err());
        assert!(access.check(Some("s3cret"), Some([10, 0, 0, 9].into())).is_ok());
    }

    #[test]
    fn a_local_only_scrape_is_refused_from_another_machine() {
        let access = MetricsAccess::Local;
        assert!(access.check(None, Some([127, 0, 0, 1].into())).is_ok());
        assert!(access.check(None, Some(std::net::Ipv6Addr::LOCALHOST.into())).is_ok());
        let refused = access.check(Some("anything"), Some([192, 168, 1, 20].into())).expect_err("another machine");
        assert_eq!(refused.code, FORBIDDEN);
        assert!(refused.message_en.contains("metrics_token"), "{refused:?}");
    }

    proptest! {
        #[test]
        fn no_other_bearer_reads_the_metrics(bearer in "\\PC*") {
            let access = MetricsAccess::Token(Secret::new("the-one-token"));
            prop_assume!(bearer != "the-one-token");
            prop_assert!(access.check(Some(&bearer), None).is_err());
        }
    }
}
