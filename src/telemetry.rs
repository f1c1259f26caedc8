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
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
