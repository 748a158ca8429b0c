/*
 * `npm run demo`: the whole money path against the development defaults (embedded PostgreSQL under ./.data,
 * the bundled Stripe emulator), narrated in the terminal. Boots the real service in-process and talks to it
 * over HTTP, exactly as a platform backend would.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { signAccessToken } from '@app/auth';
import { stopEmbeddedPostgres } from '@app/database';
import { STRIPE_CONNECTION, StripeConnection } from '@app/stripe-gateway';
import { createApp } from '../http/create-app';
import { WebhookSecrets } from '../webhooks/webhook-secrets.service';

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string): void => void process.stdout.write(`${s}\n`);
const step = (n: number, s: string): void => say(`\n${bold(`${n}. ${s}`)}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  Object.assign(process.env, {
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: secret,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    STRIPE_EMULATOR_PORT: '0',
    OAUTH_REDIRECT_URI: `http://127.0.0.1:${port}/connect/oauth/callback`,
    PLATFORM_FEE_BASIS_POINTS: process.env.PLATFORM_FEE_BASIS_POINTS ?? '290',
    PLATFORM_FEE_FIXED: process.env.PLATFORM_FEE_FIXED ?? 'usd:30,eur:25',
  });
  delete process.env.OAUTH_SUCCESS_URL;
  delete process.env.OAUTH_FAILURE_URL;

  say(bold('Connect Service demo: connect a tenant, route a payment with a fee, refund, see the events'));
  say(
    'Booting the service (embedded PostgreSQL + in-process Stripe emulator; the first run initialises ./.data)...',
  );
  const app = await createApp();
  await app.listen({ port, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  const connection = app.get<StripeConnection>(STRIPE_CONNECTION);
  if (connection.emulated) await app.get(WebhookSecrets).registerWithEmulator(base);
  say(
    `Service at ${base}; Stripe ${connection.emulated ? `emulator at ${connection.apiBase}` : 'API (STRIPE_SECRET_KEY set)'}`,
  );

  const token = signAccessToken(
    {
      sub: 'demo-platform',
      roles: ['platform'],
      scope: 'accounts:read accounts:write payments:read payments:write events:read',
    },
    { secret, expiresIn: '1h' },
  );
  const call = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const tenant = `demo_${Date.now().toString(36)}`;

  try {
    step(1, `Connect tenant ${tenant} through Stripe Connect OAuth`);
    const url = await call<{ url: string }>('POST', '/connect/oauth/url', { tenant_id: tenant });
    say(`   POST /connect/oauth/url → ${url.status}; the user is sent to ${url.body.url.split('?')[0]}`);
    const consent = await fetch(url.body.url, { redirect: 'manual' });
    const callback = consent.headers.get('location') ?? '';
    say(
      `   Stripe approves and redirects back → ${callback.replace(/code=[^&]+/, 'code=ac_…').replace(/state=[^&]+/, 'state=…')}`,
    );
    const done = await fetch(callback, { headers: { accept: 'application/json' }, redirect: 'manual' });
    const connected = (await done.json()) as {
      account?: { stripe_account_id: string; status: string; charges_enabled: boolean };
    };
    say(
      `   callback → ${done.status}: account ${connected.account?.stripe_account_id} is ${connected.account?.status} (charges_enabled=${connected.account?.charges_enabled})`,
    );

    step(2, 'Route a $100.00 direct charge with the platform fee (2.9% + 30¢ by default)');
    const payment = await call<{
      id: string;
      status: string;
      fee: number;
      amount: number;
      payment_intent: { id: string; status: string };
    }>(
      'POST',
      '/connect/payments',
      {
        tenant_id: tenant,
        payment_data: {
          amount: 10_000,
          currency: 'usd',
          payment_method: 'pm_card_visa',
          confirm: true,
          description: 'Demo order',
        },
      },
      { 'idempotency-key': `demo-${tenant}` },
    );
    say(
      `   POST /connect/payments → ${payment.status}: route ${payment.body.id}, amount ${payment.body.amount}, fee ${payment.body.fee}`,
    );
    say(
      `   PaymentIntent ${payment.body.payment_intent.id} confirmed by Stripe: ${payment.body.payment_intent.status}; route status ${payment.body.status}`,
    );

    step(3, "Wait for Stripe's webhook (payment_intent.succeeded) to complete the route");
    let status = payment.body.status;
    for (let i = 0; i < 100 && status !== 'completed'; i++) {
      await sleep(200);
      status = (await call<{ status: string }>('GET', `/connect/payments/${payment.body.id}`)).body.status;
    }
    say(`   GET /connect/payments/${payment.body.id} → status ${status}`);

    step(4, 'Refund $25.00 of it');
    const refund = await call<{ id: string; status: string; amount: number; stripe_object_id: string }>(
      'POST',
      `/connect/payments/${payment.body.id}/refunds`,
      { amount: 2_500, reason: 'requested_by_customer' },
      { 'idempotency-key': `demo-refund-${tenant}` },
    );
    say(
      `   POST /connect/payments/:id/refunds → ${refund.status}: refund ${refund.body.stripe_object_id} of ${refund.body.amount}, ${refund.body.status}`,
    );
    const again = await call<{ id: string }>(
      'POST',
      `/connect/payments/${payment.body.id}/refunds`,
      { amount: 2_500, reason: 'requested_by_customer' },
      { 'idempotency-key': `demo-refund-${tenant}` },
    );
    say(
      `   the same request again (same Idempotency-Key) → ${again.status}, same refund: ${again.body.id === refund.body.id}`,
    );

    step(5, 'The ConnectEvents the platform received for this tenant');
    await sleep(1_500);
    const events = await call<{ data: { type: string; created_at: string }[] }>(
      'GET',
      `/connect/events?tenant_id=${tenant}&limit=50`,
    );
    for (const e of [...(events.body.data ?? [])].reverse()) say(`   ${e.created_at}  ${e.type}`);
    say(`\n${bold('Done.')} Swagger UI would be at ${base}/docs while the service runs (npm start).`);
  } finally {
    await app.close();
    await stopEmbeddedPostgres().catch(() => undefined);
  }
}

main()
  .then(() => process.exit(0))
  .catch(async (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await stopEmbeddedPostgres().catch(() => undefined);
    process.exit(1);
  });
