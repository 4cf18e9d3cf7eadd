# syntax=docker/dockerfile:1
# Passport server image: build in a Rust image, run in a slim one as a non-root user.

FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates/ crates/
COPY config/ config/
RUN cargo build --release --locked -p passport-server --bin passport-server

FROM debian:bookworm-slim AS runtime
# ca-certificates: the webhook SMS sender talks TLS to the gateway.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin passport
WORKDIR /app
COPY --from=builder /src/target/release/passport-server /usr/local/bin/passport-server
COPY config/ /app/config/
COPY web/ /app/web/
ENV PASSPORT__SERVER__HOST=0.0.0.0 \
    PASSPORT__SERVER__PORT=8080 \
    PASSPORT_CONFIG_DIR=/app/config
USER passport
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["passport-server", "healthcheck"]
ENTRYPOINT ["passport-server"]
