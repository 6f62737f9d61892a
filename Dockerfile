# Multi-stage build of the `authgate` binary. The build step is the same
# command CI runs (scripts/test): cargo build --release --locked --bin authgate
FROM rust:1.95-bookworm AS build
# libpq is built into the binary (pq-sys `bundled`); it needs only libssl-dev,
# which the rust image carries.
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin authgate

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/authgate authgate \
 && mkdir -p /var/lib/authgate && chown authgate /var/lib/authgate
COPY --from=build /src/target/release/authgate /usr/local/bin/authgate
USER authgate
ENV AUTHGATE_LISTEN=0.0.0.0:8080 \
    AUTHGATE_DATA_DIR=/var/lib/authgate \
    AUTHGATE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["authgate"]
CMD ["serve"]
