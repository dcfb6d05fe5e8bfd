# syntax=docker/dockerfile:1
# voice-insights-exporter container image: Twilio Voice Insights Event Streams webhooks -> OpenTelemetry.
#
#   docker build -t voice-insights-exporter .
#   docker run --rm -p 8080:8080 -p 9464:9464 -v vie-data:/data \
#     -e TWILIO_AUTH_TOKEN=... -e PUBLIC_URL=https://hooks.example.com/events \
#     -e OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318 voice-insights-exporter
#
# Three stages: `build` compiles TypeScript with the dev dependencies, `deps` installs the production
# dependencies only (better-sqlite3 is native: built there with python3/make/g++), and the runtime image
# takes dist/ and that node_modules, with neither a compiler nor a dev dependency in it.
# test/ops/dockerfile.test.ts checks this file against the repository (no Docker engine needed) and
# test/ops/production-layout.test.ts runs the runtime stage's layout on the host.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before src/ is here, and compiling better-sqlite3 is not needed
# to type-check and emit JavaScript (only its type declarations are).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only. --ignore-scripts keeps `prepare` (the tsc build, a dev tool) and every
# other package's install script from running; better-sqlite3's own one then runs alone (a prebuilt
# binary for this Node, else a compile with the tools above), and the result is loaded once.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
  && npm rebuild better-sqlite3 \
  && node -e "new (require('better-sqlite3'))(':memory:').close()" \
  && npm cache clean --force

FROM node:20-bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="voice-insights-exporter" \
  org.opencontainers.image.description="Twilio Voice Insights Call Insights events (Event Streams webhooks) to OpenTelemetry metrics and traces" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
# DATA_DIR holds the embedded SQLite store and the dead-letter file: keep it on a volume.
ENV NODE_ENV=production \
  DATA_DIR=/data
WORKDIR /app
# Code and dependencies stay owned by root, read-only for the user the process runs as.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The volume's mount point exists owned by `node` (uid 1000), so a new named volume starts writable.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
# Webhook (PORT, with /healthz and /readyz) and Prometheus /metrics (METRICS_PORT): the defaults.
EXPOSE 8080 9464
# Liveness: the process answers on its webhook port (follows PORT if set). Readiness, /readyz, is for
# load balancers: it is 503 while e.g. TWILIO_AUTH_TOKEN is unset, which a restart would not fix.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is PID 1 (no npm or shell in between), so SIGTERM from `docker stop` reaches its handler,
# which finishes in-flight requests within SHUTDOWN_TIMEOUT_MS (10 s) and exits 0. Give `docker stop`
# more than that: `docker stop -t 30`, compose `stop_grace_period: 30s`.
ENTRYPOINT ["node", "--enable-source-maps", "dist/main.js"]
CMD ["serve"]
