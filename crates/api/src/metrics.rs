//! Prometheus metrics, kept in atomics (no lock on the request path). The
//! HTTP middleware (`middleware.rs`) and the use cases feed them.

use std::{
    collections::HashMap,
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
};

use auth_core::outcome::LoginOutcome;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct RouteStats {
    /// By status class: 1xx … 5xx.
    status: [AtomicU64; 5],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

pub struct Metrics {
    /// (method, route pattern) → stats; built once, so lookups never lock.
    routes: HashMap<(&'static str, &'static str), RouteStats>,
    unmatched: RouteStats,
    logins: Vec<AtomicU64>,
}

impl Metrics {
    pub fn new(routes: &[(&'static str, &'static str)]) -> Self {
        Self {
            routes: routes.iter().map(|r| (*r, RouteStats::default())).collect(),
            unmatched: RouteStats::default(),
            logins: LoginOutcome::ALL
                .iter()
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    pub fn login(&self, outcome: LoginOutcome) {
        if let Some(i) = LoginOutcome::ALL.iter().position(|o| *o == outcome) {
            self.logins[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn observe(&self, method: &str, route: Option<&str>, status: u16, seconds: f64) {
        let stats = route
            .and_then(|r| {
                self.routes
                    .iter()
                    .find(|((m, p), _)| *p == r && m.eq_ignore_ascii_case(method))
                    .map(|(_, s)| s)
            })
            .unwrap_or(&self.unmatched);
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        stats.status[class].fetch_add(1, Ordering::Relaxed);
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                stats.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        stats.count.fetch_add(1, Ordering::Relaxed);
        stats
            .sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::with_capacity(16 * 1024);
        out.push_str(
            "# HELP authgate_http_requests_total HTTP requests by route and status class.\n",
        );
        out.push_str("# TYPE authgate_http_requests_total counter\n");
        let mut routes: Vec<_> = self.routes.iter().map(|((m, p), s)| (*m, *p, s)).collect();
        routes.sort_by_key(|(m, p, _)| (*p, *m));
        routes.push(("any", "unmatched", &self.unmatched));
        for (m, p, s) in &routes {
            for (i, c) in s.status.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "authgate_http_requests_total{{method=\"{}\",route=\"{p}\",status=\"{}xx\"}} {n}",
                        m.to_uppercase(),
                        i + 1
                    );
                }
            }
        }
        out.push_str(
            "# HELP authgate_http_request_duration_seconds HTTP request latency by route.\n",
        );
        out.push_str("# TYPE authgate_http_request_duration_seconds histogram\n");
        for (m, p, s) in &routes {
            let count = s.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let labels = format!("method=\"{}\",route=\"{p}\"", m.to_uppercase());
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "authgate_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i].load(Ordering::Relaxed)
                );
            }
            let _ = writeln!(
                out,
                "authgate_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "authgate_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "authgate_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        out.push_str("# HELP authgate_login_attempts_total Login steps by outcome (locked = refused by the brute-force throttle; invalid_credentials = wrong email or password, one count so that metrics never tell whether an account exists).\n");
        out.push_str("# TYPE authgate_login_attempts_total counter\n");
        let mut invalid_credentials = 0;
        for (i, outcome) in LoginOutcome::ALL.iter().enumerate() {
            let n = self.logins[i].load(Ordering::Relaxed);
            match outcome {
                LoginOutcome::WrongPassword | LoginOutcome::UnknownAccount => {
                    invalid_credentials += n;
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "authgate_login_attempts_total{{outcome=\"{}\"}} {n}",
                        outcome.as_str(),
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "authgate_login_attempts_total{{outcome=\"invalid_credentials\"}} {invalid_credentials}"
        );
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

/// Outbox gauges: depth (events not yet fanned out plus deliveries
/// pending), deliveries by outcome, and the age of the oldest pending one.
pub fn outbox_text(
    stats: Option<persistence::outbox::OutboxStats>,
    now: auth_core::UnixTime,
) -> String {
    let Some(s) = stats else {
        return String::new();
    };
    let mut out = String::new();
    let age = s.oldest_pending.map_or(0.0, |t| t.until(now).as_secs_f64());
    for (name, help, value) in [
        (
            "authgate_outbox_depth",
            "Events not yet fanned out plus deliveries still pending.",
            s.depth as f64,
        ),
        (
            "authgate_outbox_oldest_pending_age_seconds",
            "Age of the oldest event or delivery not yet done (0 when none).",
            age,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    out.push_str("# HELP authgate_outbox_deliveries Deliveries (email, webhook) by outcome.\n");
    out.push_str("# TYPE authgate_outbox_deliveries gauge\n");
    for (outcome, n) in [
        ("pending", s.pending),
        ("delivered", s.delivered),
        ("dead", s.dead),
    ] {
        let _ = writeln!(
            out,
            "authgate_outbox_deliveries{{outcome=\"{outcome}\"}} {n}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_gauges_show_depth_outcomes_and_age() {
        let stats = persistence::outbox::OutboxStats {
            depth: 3,
            pending: 2,
            delivered: 5,
            dead: 1,
            oldest_pending: Some(auth_core::UnixTime::from_secs(100)),
        };
        let text = outbox_text(Some(stats), auth_core::UnixTime::from_secs(130));
        assert!(text.contains("authgate_outbox_depth 3\n"));
        assert!(text.contains("authgate_outbox_oldest_pending_age_seconds 30\n"));
        assert!(text.contains("authgate_outbox_deliveries{outcome=\"delivered\"} 5\n"));
        assert!(text.contains("authgate_outbox_deliveries{outcome=\"dead\"} 1\n"));
        assert!(outbox_text(None, auth_core::UnixTime::from_secs(0)).is_empty());
    }

    #[test]
    fn observations_land_in_their_route_and_buckets() {
        let m = Metrics::new(&[("post", "/v1/auth/login")]);
        m.observe("POST", Some("/v1/auth/login"), 401, 0.003);
        m.observe("GET", Some("/nowhere"), 404, 0.0001);
        m.login(LoginOutcome::Locked);
        let text = m.render(&[("authgate_db_pool_connections", "Open connections.", 3.0)]);
        assert!(text.contains("authgate_http_requests_total{method=\"POST\",route=\"/v1/auth/login\",status=\"4xx\"} 1"));
        assert!(text.contains("authgate_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/auth/login\",le=\"0.0025\"} 0"));
        assert!(text.contains("authgate_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/auth/login\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"unmatched\",status=\"4xx\"} 1"));
        assert!(text.contains("authgate_login_attempts_total{outcome=\"locked\"} 1"));
        assert!(text.contains("authgate_db_pool_connections 3"));
    }

    #[test]
    fn unknown_accounts_and_wrong_passwords_are_one_count() {
        let m = Metrics::new(&[]);
        m.login(LoginOutcome::UnknownAccount);
        m.login(LoginOutcome::WrongPassword);
        let text = m.render(&[]);
        assert!(text.contains("authgate_login_attempts_total{outcome=\"invalid_credentials\"} 2"));
        assert!(!text.contains("unknown_account"), "{text}");
        assert!(!text.contains("outcome=\"wrong_password\""), "{text}");
    }
}
