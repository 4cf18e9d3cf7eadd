//! Counters and a latency histogram, written out as Prometheus text on a
//! separate listener (`server.metrics_addr`) so they are not public by default.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use verify::Errno;

use crate::connections::ConnectionCaps;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The service's counters; shared by every worker, lock-free.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    captchas_issued: AtomicU64,
    sms_sent: AtomicU64,
    store_errors: AtomicU64,
    outcomes: [AtomicU64; Errno::ALL.len()],
    // Per bucket, not cumulative: one increment per request; the
    // cumulative form is computed when written out.
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    /// Failed sends by (gateway, kind): a handful of label pairs at most.
    send_failures: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// One captcha image answered.
    pub(crate) fn captcha_issued(&self) {
        self.captchas_issued.fetch_add(1, Ordering::Relaxed);
    }

    /// One SMS code handed to the sender successfully.
    pub(crate) fn sms_sent(&self) {
        self.sms_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// One JSON answer (or image) with `errno`.
    pub(crate) fn outcome(&self, errno: Errno) {
        if errno == Errno::DbErr {
            self.store_errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(i) = Errno::ALL.iter().position(|e| *e == errno) {
            self.outcomes[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One send through `gateway` failed with `kind` (`SendError::kind`).
    pub(crate) fn sms_send_failure(&self, gateway: &'static str, kind: &'static str) {
        let mut failures = self.send_failures.lock().unwrap_or_else(|e| e.into_inner());
        *failures.entry((gateway, kind)).or_default() += 1;
    }

    /// One request took `elapsed`.
    pub(crate) fn request(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::with_capacity(2048);
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        };
        counter(
            "passport_captchas_issued_total",
            "Captcha images issued.",
            get(&self.captchas_issued),
        );
        counter(
            "passport_sms_sent_total",
            "SMS codes handed to the sender successfully.",
            get(&self.sms_sent),
        );
        counter(
            "passport_store_errors_total",
            "Requests answered 4001 because the store failed or timed out.",
            get(&self.store_errors),
        );
        self.render_outcomes(&mut out);
        self.render_send_failures(&mut out);
        self.render_latency(&mut out);
        out
    }

    /// `passport_outcomes_total`, one line per errno.
    fn render_outcomes(&self, out: &mut String) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        out.push_str("# HELP passport_outcomes_total JSON answers and images by errno.\n");
        out.push_str("# TYPE passport_outcomes_total counter\n");
        for (errno, count) in Errno::ALL.iter().zip(&self.outcomes) {
            let _ = writeln!(
                out,
                "passport_outcomes_total{{errno=\"{errno}\"}} {}",
                get(count)
            );
        }
    }

    /// `passport_sms_send_failures_total`, one line per gateway and kind seen.
    fn render_send_failures(&self, out: &mut String) {
        out.push_str(
            "# HELP passport_sms_send_failures_total SMS sends that failed, by gateway and kind.\n",
        );
        out.push_str("# TYPE passport_sms_send_failures_total counter\n");
        let failures = self.send_failures.lock().unwrap_or_else(|e| e.into_inner());
        for ((gateway, kind), count) in failures.iter() {
            let _ = writeln!(
                out,
                "passport_sms_send_failures_total{{gateway=\"{gateway}\",kind=\"{kind}\"}} {count}"
            );
        }
    }

    /// The `passport_http_request_duration_seconds` histogram.
    fn render_latency(&self, out: &mut String) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let name = "passport_http_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Time from request to response.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += get(count);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = get(&self.latency_count);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = get(&self.latency_sum_micros) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// `GET /metrics` on the metrics listener.
pub(crate) async fn get_metrics(
    metrics: web::Data<Metrics>,
    caps: web::Data<ConnectionCaps>,
) -> HttpResponse {
    let mut text = metrics.render();
    render_connections(&mut text, &caps);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// The connection caps' gauge and counters.
fn render_connections(out: &mut String, caps: &ConnectionCaps) {
    let name = "passport_connections_open";
    let _ = writeln!(out, "# HELP {name} Connections open on the API listener.");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {}", caps.open());
    let (per_ip, total) = caps.refused();
    let name = "passport_connections_refused_total";
    let _ = writeln!(
        out,
        "# HELP {name} Connections answered 429 and closed, by the cap they were over."
    );
    let _ = writeln!(out, "# TYPE {name} counter");
    let _ = writeln!(out, "{name}{{cap=\"per_ip\"}} {per_ip}");
    let _ = writeln!(out, "{name}{{cap=\"total\"}} {total}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.captcha_issued();
        m.outcome(Errno::Ok);
        m.outcome(Errno::DbErr);
        m.outcome(Errno::DbErr);
        m.sms_send_failure("tencent", "timeout");
        m.sms_send_failure("tencent", "timeout");
        m.request(Duration::from_micros(300));
        m.request(Duration::from_millis(3));
        m.request(Duration::from_secs(10));
        let text = m.render();
        assert!(text.contains("passport_captchas_issued_total 1\n"));
        assert!(text.contains(
            "passport_sms_send_failures_total{gateway=\"tencent\",kind=\"timeout\"} 2\n"
        ));
        assert!(text.contains("passport_store_errors_total 2\n"));
        let line =
            |errno: Errno, n: u32| format!("passport_outcomes_total{{errno=\"{errno}\"}} {n}\n");
        assert!(text.contains(&line(Errno::DbErr, 2)));
        assert!(text.contains(&line(Errno::ServerErr, 0)));
        assert!(text.contains("passport_http_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("passport_http_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("passport_http_request_duration_seconds_bucket{le=\"2.5\"} 2\n"));
        assert!(text.contains("passport_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("passport_http_request_duration_seconds_count 3\n"));
    }
}
