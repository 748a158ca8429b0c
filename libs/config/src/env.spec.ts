import { randomBytes } from 'node:crypto';
import { ConfigValidationError, validateEnvironment } from './env';

function problems(env: Record<string, string>): string[] {
  try {
    validateEnvironment(env);
    return [];
  } catch (e) {
    if (e instanceof ConfigValidationError) return e.problems;
    throw e;
  }
}

describe('validateEnvironment', () => {
  it('accepts an empty environment (development defaults)', () => {
    expect(problems({})).toEqual([]);
  });

  it('names every bad variable at once, without echoing URLs', () => {
    const found = problems({ PORT: 'notaport', DATABASE_URL: 'not-a-url', REDIS_URL: 'http://x' });
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toMatch(/PORT/);
    expect(found.join('\n')).toMatch(/DATABASE_URL is not a valid URL/);
    expect(found.join('\n')).toMatch(/REDIS_URL must be a URL with protocol redis: or rediss:/);
    expect(found.join('\n')).not.toContain('not-a-url');
  });

  it.each([
    [{ PORT: '0' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ STRIPE_SECRET_KEY: 'pk_test_123456789' }, 'STRIPE_SECRET_KEY'],
    [{ STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh,nope' }, 'STRIPE_WEBHOOK_SECRET'],
    [{ STRIPE_CONNECT_CLIENT_ID: 'client' }, 'STRIPE_CONNECT_CLIENT_ID'],
    [{ ENCRYPTION_KEY: 'c2hvcnQ=' }, 'ENCRYPTION_KEY'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ REQUEST_TIMEOUT_MS: '5s' }, 'REQUEST_TIMEOUT_MS'],
  ])('rejects %j', (env, name) => {
    expect(problems(env as Record<string, string>).join('\n')).toContain(name);
  });

  it('accepts a complete production configuration and refuses a partial one', () => {
    const full = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u:p@db:5432/connect',
      REDIS_URL: 'redis://cache:6379',
      STRIPE_SECRET_KEY: 'sk_live_0123456789',
      STRIPE_WEBHOOK_SECRET: 'whsec_one_secret,whsec_two_secret',
      ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
      JWT_SECRET: 'x'.repeat(40),
    };
    expect(problems(full)).toEqual([]);
    const { REDIS_URL: _r, ENCRYPTION_KEY: _e, ...partial } = full;
    expect(problems(partial).join('\n')).toMatch(
      /NODE_ENV=production refuses the development defaults: set REDIS_URL, ENCRYPTION_KEY/,
    );
  });

  it.each([
    [
      { STRIPE_CONNECT_CLIENT_ID: 'ca_bars' },
      'STRIPE_CONNECT_CLIENT_ID is too short: at least 9 characters (ca_ and the rest), it has 7 ("ca_bars")',
    ],
    [
      { STRIPE_CONNECT_CLIENT_ID: 'client_123456' },
      'STRIPE_CONNECT_CLIENT_ID must start with ca_ (it is "client_123456")',
    ],
    [
      { STRIPE_SECRET_KEY: 'pk_test_123456789' },
      'STRIPE_SECRET_KEY must start with sk_test_ or sk_live_ or rk_test_ or rk_live_ (it is "pk_test_...")',
    ],
    [
      { STRIPE_SECRET_KEY: 'sk_test' },
      'STRIPE_SECRET_KEY must start with sk_test_ or sk_live_ or rk_test_ or rk_live_ (it is "sk_...")',
    ],
    [
      { STRIPE_SECRET_KEY: 'sk_live_' },
      'STRIPE_SECRET_KEY is too short: at least 9 characters (sk_live_ and the rest), it has 8',
    ],
    [
      { STRIPE_WEBHOOK_SECRET: 'whsec_abcdefgh,nope' },
      'STRIPE_WEBHOOK_SECRET entry 2 must start with whsec_',
    ],
    [{ PORT: '70000' }, 'PORT=70000 is above the maximum 65535 (allowed: 1 to 65535)'],
    [{ PORT: '0' }, 'PORT=0 is below the minimum 1 (allowed: 1 to 65535)'],
    [{ REQUEST_TIMEOUT_MS: '5s' }, 'REQUEST_TIMEOUT_MS="5s" must be a whole number (from 100 to 600000)'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL must be a URL with protocol redis: or rediss: (it has http:)'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 characters (it has 5)'],
    [
      { ENCRYPTION_KEY: 'c2hvcnQ=' },
      'ENCRYPTION_KEY must be 32 random bytes in base64 (optionally "keyid:base64", comma-separated for rotation): key 1 decodes to 5 bytes',
    ],
    [
      { RETENTION_CRON: '0 3 * *' },
      'RETENTION_CRON must be a 5-field cron expression (minute hour day month weekday); it has 4',
    ],
    [
      { EVENT_DELIVERY_RETRY_SCHEDULE: '5,1m,900000' },
      'EVENT_DELIVERY_RETRY_SCHEDULE must be a comma-separated list of whole seconds, each at most 604800 (7 days) (bad: "1m", "900000")',
    ],
  ])('says what is wrong with %j', (env, message) => {
    expect(problems(env as Record<string, string>)).toEqual([message]);
  });

  it('never shows the secret part of a key', () => {
    const found = problems({
      STRIPE_SECRET_KEY: 'pk_live_SECRETPART123',
      STRIPE_WEBHOOK_SECRET: 'whsec_X,whsec_SECRETPART',
      STRIPE_CONNECT_WEBHOOK_SECRET: 'SECRETPART',
    }).join('\n');
    expect(found).not.toContain('SECRETPART');
    expect(found).toContain('STRIPE_WEBHOOK_SECRET entry 1 is too short');
    expect(found).toContain('STRIPE_CONNECT_WEBHOOK_SECRET must start with whsec_');
  });

  it('accepts well-formed Stripe identifiers', () => {
    expect(
      problems({
        STRIPE_CONNECT_CLIENT_ID: 'ca_32D88BD1qLklliziD7gYQvctJIhWBSQ7',
        STRIPE_SECRET_KEY: 'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
        STRIPE_WEBHOOK_SECRET: 'whsec_one_secret, whsec_two_secret',
      }),
    ).toEqual([]);
  });
});
