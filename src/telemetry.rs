//! Logging: a `tracing` subscriber filtered by `RUST_LOG` (default `info`), writing to stderr.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls do nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tracing_actix_web=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// The root span of each HTTP request: `tracing-actix-web`'s default span, built only when its
/// level is enabled for its target (`tracing_actix_web`, off by default: see [`init`]). The
/// default builder computes the span's fields before it knows whether the span is wanted,
/// and its `http.route` matched the path against every route pattern with regular
/// expressions: a third of the CPU of a cached public read (a profile under wrk, issue 22).
pub struct RootSpan;

impl tracing_actix_web::RootSpanBuilder for RootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        if tracing::enabled!(target: "tracing_actix_web::root_span_builder", tracing::Level::INFO) {
            tracing_actix_web::DefaultRootSpanBuilder::on_request_start(request)
        } else {
            tracing::Span::none()
        }
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let error = match outcome {
            Ok(response) => response
                .response()
                .error()
                .map(|e| (response.status(), e.to_string())),
            Err(e) => Some((e.as_response_error().status_code(), e.to_string())),
        };
        if let Some((status, error)) = error {
            let status = status.as_u16();
            let _entered = span.enter();
            if level_of(status) == tracing::Level::ERROR {
                tracing::error!(target: "plenary::http", status, %error, "server error");
            } else {
                tracing::debug!(target: "plenary::http", status, %error, "client error");
            }
        }
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The level at which an error answer is logged: ERROR for a server error (5xx), DEBUG for
/// a client's (4xx) and for 503 (overload and an unreachable database, whose causes are
/// logged where they arise), so that a flood of requests cannot flood the log at the default
/// `info` (`RUST_LOG=info,plenary::http=debug` shows them).
pub fn level_of(status: u16) -> tracing::Level {
    if status >= 500 && status != 503 {
        tracing::Level::ERROR
    } else {
        tracing::Level::DEBUG
    }
}

#[cfg(test)]
mod tests {
    use super::level_of;

    /// A finding of the second probe: every 4xx was logged at WARN (cheap log flooding).
    #[test]
    fn client_errors_are_logged_below_warn() {
        for status in [400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429] {
            assert!(level_of(status) > tracing::Level::WARN, "{status}");
        }
        assert_eq!(level_of(503), tracing::Level::DEBUG);
        for status in [500, 501, 502, 504] {
            assert_eq!(level_of(status), tracing::Level::ERROR, "{status}");
        }
    }
}
