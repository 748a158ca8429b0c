/**
 * Reads and validates every environment variable once. `validateEnvironment` collects every
 * problem before failing, so a misconfigured deployment learns all of them from one boot.
 */
export type Env = Record<string, string | undefined>;

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

type Check = (env: Env) => string | null;

const isSet = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

const int =
  (name: string, min: number, max: number): Check =>
  (env) => {
    const v = env[name];
    if (!isSet(v)) return null;
    if (!/^\d+$/.test(v))
      return `${name}=${JSON.stringify(v)} must be a whole number (from ${min} to ${max})`;
    if (Number(v) < min) return `${name}=${v} is below the minimum ${min} (allowed: ${min} to ${max})`;
    if (Number(v) > max) return `${name}=${v} is above the maximum ${max} (allowed: ${min} to ${max})`;
    return null;
  };

const url =
  (name: string, protocols: string[]): Check =>
  (env) => {
    const v = env[name];
    if (!isSet(v)) return null;
    try {
      const u = new URL(v);
      return protocols.includes(u.protocol)
        ? null
        : `${name} must be a URL with protocol ${protocols.join(' or ')} (it has ${u.protocol})`;
    } catch {
      // Never echo a URL that may carry a password.
      return `${name} is not a valid URL (expected ${protocols.map((p) => `${p}//...`).join(' or ')})`;
    }
  };

const oneOf =
  (name: string, values: string[]): Check =>
  (env) => {
    const v = env[name];
    if (!isSet(v)) return null;
    return values.includes(v) ? null : `${name}=${JSON.stringify(v)} must be one of ${values.join(', ')}`;
  };

/** Stripe's identifiers and secrets: a known prefix, and at least this many characters in all (a typo guard). */
const MIN_ID_LENGTH = 9;

/** What may be shown of a secret: its Stripe prefix (`sk_live_`, `whsec_`), never the part that grants access. */
function visiblePrefix(value: string): string {
  return /^[a-z]+_(?:test_|live_)?/i.exec(value)?.[0] ?? '';
}

const prefixed =
  (name: string, prefixes: string[], opts: { list?: boolean; secret?: boolean } = {}): Check =>
  (env) => {
    const v = env[name];
    if (!isSet(v)) return null;
    const items = opts.list ? v.split(',').map((s) => s.trim()) : [v.trim()];
    const problems = items.map((item, i) => {
      const which = items.length > 1 ? `${name} entry ${i + 1}` : name;
      const shown = opts.secret ? `"${visiblePrefix(item)}..."` : JSON.stringify(item);
      const prefix = prefixes.find((p) => item.startsWith(p));
      if (!prefix) {
        const hint = opts.secret && !visiblePrefix(item) ? '' : ` (it is ${shown})`;
        return `${which} must start with ${prefixes.join(' or ')}${hint}`;
      }
      if (item.length < MIN_ID_LENGTH) {
        return `${which} is too short: at least ${MIN_ID_LENGTH} characters (${prefix} and the rest), it has ${item.length}${opts.secret ? '' : ` (${shown})`}`;
      }
      return null;
    });
    const found = problems.filter((p): p is string => p !== null);
    return found.length ? found.join('; ') : null;
  };

const currencyAmounts =
  (name: string): Check =>
  (env) => {
    const v = env[name];
    if (!isSet(v)) return null;
    const bad = v
      .split(',')
      .map((s) => s.trim())
      .filter((e) => e && !/^[a-zA-Z]{3}:\d+$/.test(e));
    return bad.length
      ? `${name} must be "currency:minor_units" pairs like usd:30,eur:25 (bad: ${bad.join(', ')})`
      : null;
  };

const base64Key: Check = (env) => {
  const v = env.ENCRYPTION_KEY;
  if (!isSet(v)) return null;
  const keys = v.split(',').map((s) => s.trim());
  const bad = keys
    .map((k, i) => {
      const raw = k.includes(':') ? k.slice(k.indexOf(':') + 1) : k;
      const bytes = Buffer.from(raw, 'base64').length;
      return bytes === 32 ? null : `key ${i + 1} decodes to ${bytes} bytes`;
    })
    .filter((p): p is string => p !== null);
  return bad.length
    ? `ENCRYPTION_KEY must be 32 random bytes in base64 (optionally "keyid:base64", comma-separated for rotation): ${bad.join(', ')}`
    : null;
};

const production: Check = (env) => {
  if (env.NODE_ENV !== 'production') return null;
  const missing = ['DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY', 'ENCRYPTION_KEY'].filter(
    (n) => !isSet(env[n]),
  );
  if (!isSet(env.JWT_SECRET) && !isSet(env.JWT_PUBLIC_KEY) && !isSet(env.JWT_JWKS_URL))
    missing.push('JWT_SECRET');
  return missing.length
    ? `NODE_ENV=production refuses the development defaults: set ${missing.join(', ')}`
    : null;
};

const jwtSecret: Check = (env) =>
  isSet(env.JWT_SECRET) && env.JWT_SECRET.length < 32
    ? `JWT_SECRET must be at least 32 characters (it has ${env.JWT_SECRET.length})`
    : null;

const CHECKS: Check[] = [
  int('PORT', 1, 65535),
  int('STRIPE_EMULATOR_PORT', 0, 65535),
  int('REQUEST_TIMEOUT_MS', 100, 600_000),
  int('STRIPE_TIMEOUT_MS', 100, 120_000),
  int('OAUTH_STATE_TTL_SECONDS', 30, 86_400),
  int('EMBEDDED_DATABASE_PORT', 1, 65535),
  int('DATABASE_POOL_SIZE', 1, 500),
  int('JOB_CONCURRENCY', 1, 100),
  int('JOB_QUEUE_POOL_SIZE', 1, 50),
  int('SHUTDOWN_TIMEOUT_MS', 1000, 600_000),
  int('SHUTDOWN_DELAY_MS', 0, 60_000),
  (env) =>
    Number(isSet(env.JOB_CONCURRENCY) ? env.JOB_CONCURRENCY : 4) >=
    Number(isSet(env.DATABASE_POOL_SIZE) ? env.DATABASE_POOL_SIZE : 10)
      ? 'JOB_CONCURRENCY must be below DATABASE_POOL_SIZE, or the workers can take every connection from the requests'
      : null,
  int('REDIS_TTL', 1, 86_400),
  int('BODY_LIMIT_BYTES', 1024, 50 * 1024 * 1024),
  url('DATABASE_URL', ['postgres:', 'postgresql:']),
  url('REDIS_URL', ['redis:', 'rediss:']),
  url('STRIPE_API_BASE', ['http:', 'https:']),
  url('OAUTH_REDIRECT_URI', ['http:', 'https:']),
  url('OAUTH_SUCCESS_URL', ['http:', 'https:']),
  url('OAUTH_FAILURE_URL', ['http:', 'https:']),
  url('JWT_JWKS_URL', ['http:', 'https:']),
  url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']),
  oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', ['http/protobuf', 'http/json', 'grpc']),
  oneOf('WORKERS_ENABLED', ['true', 'false']),
  (env) =>
    isSet(env.JOB_POLL_INTERVAL_SECONDS) && !(Number(env.JOB_POLL_INTERVAL_SECONDS) >= 0.5)
      ? `JOB_POLL_INTERVAL_SECONDS=${JSON.stringify(env.JOB_POLL_INTERVAL_SECONDS)} must be a number of seconds, at least 0.5`
      : null,
  (env) =>
    isSet(env.JOB_QUEUE_SCHEMA) && !/^[a-z_][a-z0-9_]{0,62}$/.test(env.JOB_QUEUE_SCHEMA)
      ? `JOB_QUEUE_SCHEMA=${JSON.stringify(env.JOB_QUEUE_SCHEMA)} must be a lower-case SQL identifier (a-z, 0-9, _; not starting with a digit; at most 63 characters)`
      : null,
  oneOf('NODE_ENV', ['development', 'production', 'test']),
  oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  (env) => {
    if (!isSet(env.LOG_REQUEST_SAMPLE_RATE)) return null;
    const rate = Number(env.LOG_REQUEST_SAMPLE_RATE);
    return env.LOG_REQUEST_SAMPLE_RATE.trim() !== '' && rate >= 0 && rate <= 1
      ? null
      : `LOG_REQUEST_SAMPLE_RATE=${JSON.stringify(env.LOG_REQUEST_SAMPLE_RATE)} must be a number from 0 to 1`;
  },
  prefixed('STRIPE_SECRET_KEY', ['sk_test_', 'sk_live_', 'rk_test_', 'rk_live_'], { secret: true }),
  prefixed('STRIPE_CONNECT_CLIENT_ID', ['ca_']),
  prefixed('STRIPE_WEBHOOK_SECRET', ['whsec_'], { list: true, secret: true }),
  prefixed('STRIPE_CONNECT_WEBHOOK_SECRET', ['whsec_'], { list: true, secret: true }),
  int('PLATFORM_FEE_BASIS_POINTS', 0, 10_000),
  int('PAYMENTS_RECONCILE_DELAY_SECONDS', 1, 3600),
  currencyAmounts('PLATFORM_FEE_FIXED'),
  currencyAmounts('PLATFORM_FEE_MINIMUM'),
  currencyAmounts('PLATFORM_FEE_MAXIMUM'),
  (env) => {
    if (!isSet(env.EVENT_DELIVERY_RETRY_SCHEDULE)) return null;
    const bad = env.EVENT_DELIVERY_RETRY_SCHEDULE.split(',')
      .map((s) => s.trim())
      .filter((s) => !/^\d+$/.test(s) || Number(s) > 7 * 86_400);
    return bad.length
      ? `EVENT_DELIVERY_RETRY_SCHEDULE must be a comma-separated list of whole seconds, each at most 604800 (7 days) (bad: ${bad.map((b) => JSON.stringify(b)).join(', ')})`
      : null;
  },
  int('EVENT_DELIVERY_TIMEOUT_MS', 100, 60_000),
  int('EVENT_SUBSCRIPTION_DISABLE_AFTER', 1, 100_000),
  base64Key,
  int('API_KEY_ROTATION_GRACE_SECONDS', 0, 30 * 86_400),
  int('API_KEY_CACHE_SECONDS', 0, 30),
  int('RETENTION_WEBHOOK_PAYLOAD_DAYS', 1, 3650),
  int('RETENTION_DELIVERY_ATTEMPT_DAYS', 1, 3650),
  int('RETENTION_AUDIT_DAYS', 1, 3650),
  oneOf('RATE_LIMIT_ENABLED', ['true', 'false']),
  (env) =>
    isSet(env.RETENTION_CRON) && env.RETENTION_CRON.trim().split(/\s+/).length !== 5
      ? `RETENTION_CRON must be a 5-field cron expression (minute hour day month weekday); it has ${env.RETENTION_CRON.trim().split(/\s+/).length}`
      : null,
  (env) =>
    isSet(env.RECONCILIATION_CRON) && env.RECONCILIATION_CRON.trim().split(/\s+/).length !== 5
      ? 'RECONCILIATION_CRON must be a 5-field cron expression'
      : null,
  int('RECONCILIATION_WINDOW_SECONDS', 60, 90 * 86_400),
  int('RECONCILIATION_GRACE_SECONDS', 0, 7 * 86_400),
  int('RECONCILIATION_STRIPE_RPS', 1, 100),
  int('RECONCILIATION_PAGE_SIZE', 1, 100),
  int('RATE_LIMIT_WINDOW_SECONDS', 1, 86_400),
  int('RATE_LIMIT_PER_CALLER', 1, 10_000_000),
  int('RATE_LIMIT_PER_TENANT', 1, 10_000_000),
  int('RATE_LIMIT_PER_IP_PUBLIC', 1, 10_000_000),
  int('JWT_MAX_TTL_SECONDS', 60, 30 * 86_400),
  int('JWT_CLOCK_SKEW_SECONDS', 0, 600),
  int('REVOCATION_SYNC_INTERVAL_MS', 50, 1_000),
  url('SENTRY_DSN', ['http:', 'https:']),
  int('SENTRY_MAX_QUEUED_REPORTS', 1, 1_000),
  (env) => {
    if (!isSet(env.SENTRY_TRACES_SAMPLE_RATE)) return null;
    const rate = Number(env.SENTRY_TRACES_SAMPLE_RATE);
    return env.SENTRY_TRACES_SAMPLE_RATE.trim() !== '' && rate >= 0 && rate <= 1
      ? null
      : `SENTRY_TRACES_SAMPLE_RATE=${JSON.stringify(env.SENTRY_TRACES_SAMPLE_RATE)} must be a number from 0 to 1`;
  },
  jwtSecret,
  production,
];

export function validateEnvironment(env: Env = process.env): Env {
  const problems = CHECKS.map((c) => c(env)).filter((p): p is string => p !== null);
  if (problems.length) throw new ConfigValidationError(problems);
  return env;
}

export function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return isSet(v) ? v.trim() : undefined;
}

export function num(env: Env, name: string, fallback: number): number {
  const v = str(env, name);
  return v === undefined ? fallback : Number(v);
}

export function list(env: Env, name: string): string[] {
  return (str(env, name) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
