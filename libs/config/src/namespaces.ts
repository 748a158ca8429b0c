import { randomBytes } from 'node:crypto';
import { registerAs } from '@nestjs/config';
import { list, num, str } from './env';

/**
 * The seed's ServiceConfig as typed namespaces. Inject one with
 * `@Inject(stripeConfig.KEY) cfg: ConfigType<typeof stripeConfig>`.
 */
export const serviceConfig = registerAs('service', () => {
  const env = process.env;
  const port = num(env, 'PORT', 3000);
  return {
    nodeEnv: (str(env, 'NODE_ENV') ?? 'development') as 'development' | 'production' | 'test',
    port,
    host: str(env, 'HOST') ?? '0.0.0.0',
    requestTimeoutMs: num(env, 'REQUEST_TIMEOUT_MS', 30_000),
    bodyLimitBytes: num(env, 'BODY_LIMIT_BYTES', 1024 * 1024),
    logLevel: str(env, 'LOG_LEVEL') ?? 'info',
    /** Share of successful requests that get a request log line; errors (4xx, 5xx) always do. */
    logRequestSampleRate: num(env, 'LOG_REQUEST_SAMPLE_RATE', 1),
    corsOrigins: list(env, 'CORS_ORIGINS'),
    /** The public base URL of this service (used for the OAuth callback and the emulator's webhook endpoint). */
    publicUrl: str(env, 'PUBLIC_URL') ?? `http://localhost:${port}`,
    /** SIGTERM's whole drain (requests, jobs, pools) must end inside Kubernetes' grace period minus preStop. */
    shutdownTimeoutMs: num(env, 'SHUTDOWN_TIMEOUT_MS', 20_000),
    /** After SIGTERM the listener stays open this long with readiness 503, so load balancers stop routing first. */
    shutdownDelayMs: num(env, 'SHUTDOWN_DELAY_MS', 2_000),
  };
});

export const databaseConfig = registerAs('database', () => ({
  /** Undefined means: start the embedded PostgreSQL (development only). */
  url: str(process.env, 'DATABASE_URL'),
  poolSize: num(process.env, 'DATABASE_POOL_SIZE', 10),
  embeddedDataDir: str(process.env, 'EMBEDDED_DATA_DIR') ?? './.data/postgres',
  embeddedPort: num(process.env, 'EMBEDDED_DATABASE_PORT', 54329),
}));

export const redisConfig = registerAs('redis', () => ({
  /** Undefined means: in-process cache and rate limits. */
  url: str(process.env, 'REDIS_URL'),
  ttlSeconds: num(process.env, 'REDIS_TTL', 60),
}));

export const stripeConfig = registerAs('stripe', () => {
  const env = process.env;
  return {
    /** Undefined means: start the bundled emulator in-process and use a generated test key. */
    secretKey: str(env, 'STRIPE_SECRET_KEY'),
    connectClientId: str(env, 'STRIPE_CONNECT_CLIENT_ID'),
    webhookSecrets: list(env, 'STRIPE_WEBHOOK_SECRET'),
    connectWebhookSecrets: list(env, 'STRIPE_CONNECT_WEBHOOK_SECRET'),
    /** e.g. http://127.0.0.1:12111: every Stripe call (OAuth included) goes there instead of Stripe. */
    apiBase: str(env, 'STRIPE_API_BASE'),
    emulatorPort: num(env, 'STRIPE_EMULATOR_PORT', 12111),
    // Per attempt; with the gateway's 3 retries a call stays under REQUEST_TIMEOUT_MS (30 s).
    timeoutMs: num(env, 'STRIPE_TIMEOUT_MS', 5_000),
  };
});

export const oauthConfig = registerAs('oauth', () => {
  const env = process.env;
  const port = num(env, 'PORT', 3000);
  return {
    redirectUri: str(env, 'OAUTH_REDIRECT_URI') ?? `http://localhost:${port}/connect/oauth/callback`,
    successUrl: str(env, 'OAUTH_SUCCESS_URL'),
    failureUrl: str(env, 'OAUTH_FAILURE_URL'),
    stateTtlSeconds: num(env, 'OAUTH_STATE_TTL_SECONDS', 600),
    /** Further callback URLs a caller may ask for (each must also be registered with Stripe); never arbitrary. */
    allowedRedirectUris: list(env, 'OAUTH_REDIRECT_URI_ALLOWLIST'),
  };
});

export const accountsConfig = registerAs('accounts', () => {
  const required = list(process.env, 'CONNECT_REQUIRED_CAPABILITIES');
  return {
    /** Capabilities that must be `active` for an account to count as active (https://docs.stripe.com/connect/account-capabilities). */
    requiredCapabilities: required.length ? required : ['card_payments', 'transfers'],
  };
});

export const authConfig = registerAs('auth', () => {
  const env = process.env;
  const secret = str(env, 'JWT_SECRET');
  const publicKey = str(env, 'JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n');
  const jwksUrl = str(env, 'JWT_JWKS_URL');
  const generated = !secret && !publicKey && !jwksUrl;
  return {
    /** HS256 secret; generated per boot in development when nothing is configured. */
    secret: secret ?? (generated ? randomBytes(32).toString('base64url') : undefined),
    generatedSecret: generated,
    publicKey,
    jwksUrl,
    issuer: str(env, 'JWT_ISSUER'),
    audience: str(env, 'JWT_AUDIENCE'),
    /** Tokens whose `exp - iat` is longer are refused; also how long a revocation must be remembered. */
    maxTtlSeconds: num(env, 'JWT_MAX_TTL_SECONDS', 86_400),
    /** Tolerance for the identity provider's clock on `exp`, `nbf` and `iat`. */
    clockSkewSeconds: num(env, 'JWT_CLOCK_SKEW_SECONDS', 30),
    /** How often each replica reads new revocations from PostgreSQL (the propagation delay's upper bound). */
    revocationSyncMs: num(env, 'REVOCATION_SYNC_INTERVAL_MS', 250),
  };
});

/** Error tracking (Sentry or a Sentry-compatible server): on only when SENTRY_DSN is set. */
export const errorTrackingConfig = registerAs('errorTracking', () => {
  const env = process.env;
  return {
    dsn: str(env, 'SENTRY_DSN'),
    environment: str(env, 'SENTRY_ENVIRONMENT') ?? str(env, 'NODE_ENV') ?? 'development',
    release: str(env, 'SENTRY_RELEASE'),
    /** 0 by default: traces stay OpenTelemetry's; Sentry only receives errors. */
    tracesSampleRate: num(env, 'SENTRY_TRACES_SAMPLE_RATE', 0),
    /** Reports waiting to be sent at once; past it new reports are dropped (and counted), never queued. */
    maxQueuedReports: num(env, 'SENTRY_MAX_QUEUED_REPORTS', 30),
  };
});

export const securityConfig = registerAs('security', () => {
  const env = process.env;
  return {
    /** "keyid:base64,..." or one base64 key; the first encrypts, all decrypt. Undefined: generated (dev). */
    encryptionKeys: list(env, 'ENCRYPTION_KEY'),
    /** How long a rotated-out API key keeps working, so clients can switch without downtime. */
    apiKeyRotationGraceSeconds: num(env, 'API_KEY_ROTATION_GRACE_SECONDS', 86_400),
    /** How long a verified API key is trusted from memory before the database is asked again (other replicas' revocations). */
    apiKeyCacheSeconds: num(env, 'API_KEY_CACHE_SECONDS', 10),
    retentionWebhookPayloadDays: num(env, 'RETENTION_WEBHOOK_PAYLOAD_DAYS', 30),
    retentionDeliveryAttemptDays: num(env, 'RETENTION_DELIVERY_ATTEMPT_DAYS', 30),
    retentionAuditDays: num(env, 'RETENTION_AUDIT_DAYS', 365),
    /** pg-boss cron (UTC) of the retention job. */
    retentionCron: str(env, 'RETENTION_CRON') ?? '17 3 * * *',
  };
});

/** Request budgets per window; shared between replicas through Redis when REDIS_URL is set. */
export const rateLimitConfig = registerAs('rateLimit', () => {
  const env = process.env;
  return {
    enabled: str(env, 'RATE_LIMIT_ENABLED') !== 'false',
    windowSeconds: num(env, 'RATE_LIMIT_WINDOW_SECONDS', 60),
    /** Per API key or JWT subject. */
    perCaller: num(env, 'RATE_LIMIT_PER_CALLER', 600),
    /** Per tenant, all of its callers together. */
    perTenant: num(env, 'RATE_LIMIT_PER_TENANT', 1200),
    /** Per client IP on the public routes (webhooks, OAuth callback); Stripe delivers from a few IPs, so generous. */
    perIpPublic: num(env, 'RATE_LIMIT_PER_IP_PUBLIC', 1200),
  };
});

export const queueConfig = registerAs('queue', () => ({
  /** pg-boss schema (tests use one per app so parallel suites keep their jobs apart). */
  schema: str(process.env, 'JOB_QUEUE_SCHEMA') ?? 'pgboss',
  /** false: this process only enqueues (e.g. a CLI); workers run in the service replicas. */
  workersEnabled: str(process.env, 'WORKERS_ENABLED') !== 'false',
  pollingIntervalSeconds: num(process.env, 'JOB_POLL_INTERVAL_SECONDS', 0.5),
  /** Job handlers running at once on this replica, all queues together: the workers' share of DATABASE_POOL_SIZE. */
  concurrency: num(process.env, 'JOB_CONCURRENCY', 4),
  /** Connections of the job queue's own pool (fetch, complete, fail, maintenance), apart from the request path's. */
  poolSize: num(process.env, 'JOB_QUEUE_POOL_SIZE', 2),
}));

/** The platform's default fee (a tenant's `fee_schedule` overrides it); amounts in minor units per currency. */
export const paymentsConfig = registerAs('payments', () => {
  const env = process.env;
  const amounts = (name: string): Record<string, number> =>
    Object.fromEntries(
      list(env, name)
        .map((e) => /^([a-zA-Z]{3}):(\d+)$/.exec(e))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1].toLowerCase(), Number(m[2])]),
    );
  return {
    feeBasisPoints: num(env, 'PLATFORM_FEE_BASIS_POINTS', 0),
    /** e.g. `usd:30,eur:25`. */
    feeFixed: amounts('PLATFORM_FEE_FIXED'),
    feeMinimum: amounts('PLATFORM_FEE_MINIMUM'),
    feeMaximum: amounts('PLATFORM_FEE_MAXIMUM'),
    /** Delay before an unknown-outcome payment is resolved from Stripe by its idempotency key. */
    reconcileDelaySeconds: num(env, 'PAYMENTS_RECONCILE_DELAY_SECONDS', 5),
  };
});

export const eventsConfig = registerAs('events', () => {
  const env = process.env;
  const schedule = list(env, 'EVENT_DELIVERY_RETRY_SCHEDULE').map(Number);
  return {
    /** Seconds to wait before each retry of an outbound ConnectEvent delivery (default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h). */
    retryScheduleSeconds: schedule.length ? schedule : [5, 300, 1800, 7200, 18000, 36000],
    timeoutMs: num(env, 'EVENT_DELIVERY_TIMEOUT_MS', 10_000),
    /** Consecutive deliveries that exhausted every attempt before a subscription is disabled. */
    disableAfterFailures: num(env, 'EVENT_SUBSCRIPTION_DISABLE_AFTER', 20),
  };
});

/** Reconciliation of our routes against Stripe's objects. */
export const reconciliationConfig = registerAs('reconciliation', () => {
  const env = process.env;
  return {
    cron: str(env, 'RECONCILIATION_CRON') ?? '41 2 * * *',
    windowSeconds: num(env, 'RECONCILIATION_WINDOW_SECONDS', 90_000),
    graceSeconds: num(env, 'RECONCILIATION_GRACE_SECONDS', 900),
    stripeRps: num(env, 'RECONCILIATION_STRIPE_RPS', 20),
    pageSize: num(env, 'RECONCILIATION_PAGE_SIZE', 100),
  };
});

export const ALL_CONFIG_NAMESPACES = [
  reconciliationConfig,
  paymentsConfig,
  queueConfig,
  serviceConfig,
  databaseConfig,
  redisConfig,
  stripeConfig,
  oauthConfig,
  accountsConfig,
  authConfig,
  securityConfig,
  rateLimitConfig,
  eventsConfig,
  errorTrackingConfig,
];
