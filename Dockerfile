# syntax=docker/dockerfile:1
# Build: a static binary (pure-Go SQLite driver, no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/renewbot ./cmd/renewbot \
 && mkdir -p /out/data

# Run: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/renewbot /usr/local/bin/renewbot
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# Slack's routes on 8080, the operator's (/healthz, /readyz, /metrics) on
# 9090: publish 8080 only to Slack.
ENV RENEWBOT_ADDR=:8080 \
    RENEWBOT_ADMIN_ADDR=:9090 \
    RENEWBOT_DATABASE_URL=sqlite:/data/renewbot.db \
    LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080 9090
# renewbot healthcheck probes /healthz on RENEWBOT_ADMIN_ADDR.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/usr/local/bin/renewbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/renewbot"]
