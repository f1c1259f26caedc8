# Build and run Plenary against an external PostgreSQL (DATABASE_URL).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# The workspace members (the embedded PostgreSQL cluster's crate) must be there to build.
COPY crates ./crates
COPY src ./src
COPY migrations ./migrations
COPY api-spec ./api-spec
# Compiled in: the printable pages' and e-mails' templates, and the portal's pages and their
# words (include_str!; build.rs compiles in every templates/portal/<lang>.json).
COPY templates ./templates
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app plenary
WORKDIR /app
COPY --from=build /src/target/release/plenary /usr/local/bin/plenary
COPY data ./data
USER plenary
ENV BIND_ADDR=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
CMD ["plenary", "serve"]
