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
});
