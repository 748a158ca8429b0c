/* eslint-disable */
// `npm run bench:reconcile` (= `npm run build && node test/load/reconcile-bench.js`): the time and the Stripe calls
// one reconciliation run takes over a history of N payments (default 10,000) across several tenants, against the
// emulator in its own process. Not a test: it prints figures, it asserts nothing but that the clean history is clean.
//
// The history is seeded the fast way: PaymentIntents straight through the Stripe SDK on the emulator (as the service
// would have made them: metadata, application fee, destination), and their payment_routes rows in one INSERT, so
// the run compares exactly what the service would hold.
//
// Options (flags or env):
//   --payments=10000         BENCH_PAYMENTS
//   --tenants=5              BENCH_TENANTS (the first 60 % take direct charges, the rest destination charges)
//   --rps=20                 RECONCILIATION_STRIPE_RPS of the run (test mode allows 25, live mode 100)
//   --page=100               RECONCILIATION_PAGE_SIZE
//   TEST_DATABASE_URL        PostgreSQL server for a scratch database (dropped at the end); unset: embedded PostgreSQL
const path = require('node:path');
const crypto = require('node:crypto');
const { fork } = require('node:child_process');
const { Client } = require('pg');
const Stripe = require('stripe');
const { startEmbeddedPostgres } = require('../setup/embedded-postgres');

const ROOT = path.resolve(__dirname, '../..');
const argv = process.argv.slice(2);
const opt = (name, env, dflt) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return Number(a ? a.split('=')[1] : (process.env[env] ?? dflt));
};
const PAYMENTS = opt('payments', 'BENCH_PAYMENTS', 10_000);
const TENANTS = opt('tenants', 'BENCH_TENANTS', 5);
const RPS = opt('rps', 'RECONCILIATION_STRIPE_RPS', 20);
const PAGE = opt('page', 'RECONCILIATION_PAGE_SIZE', 100);
const JWT_SECRET = 'bench-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const log = (msg) =>
  process.stdout.write(`[reconcile-bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

async function scratchDatabase() {
  let server = process.env.TEST_DATABASE_URL;
  let embedded = null;
  if (!server) {
    embedded = await startEmbeddedPostgres('connect-reconcile-bench-pg');
    server = embedded.url;
  }
  const name = `connect_recon_bench_${Date.now()}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await c.end();
      if (embedded) await embedded.stop();
    },
  };
}

function startEmulator() {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'emulator-child.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) =>
      m && m.ready ? resolve({ child, url: m.url }) : reject(new Error(String(m))),
    );
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
}

async function pool(n, width, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function main() {
  const db = await scratchDatabase();
  const emulator = await startEmulator();
  const port = new URL(emulator.url).port;
  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.url,
    JWT_SECRET,
    STRIPE_SECRET_KEY: 'sk_test_reconcile_bench',
    STRIPE_API_BASE: emulator.url,
    RATE_LIMIT_ENABLED: 'false',
    RECONCILIATION_STRIPE_RPS: String(RPS),
    RECONCILIATION_PAGE_SIZE: String(PAGE),
  });
  const { createApp } = require(path.join(ROOT, 'dist/apps/connect-service/src/http/create-app'));
  const { signAccessToken } = require(path.join(ROOT, 'dist/libs/auth/src'));
  const app = await createApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const stripe = new Stripe('sk_test_reconcile_bench', {
    host: '127.0.0.1',
    port,
    protocol: 'http',
    maxNetworkRetries: 2,
  });
  const pg = new Client({ connectionString: db.url });
  await pg.connect();

  try {
    const tenants = [];
    for (let i = 0; i < TENANTS; i++) {
      const account = await stripe.accounts.create({ type: 'express', country: 'US' });
      await fetch(`${emulator.url}/_emulator/accounts/${account.id}/verification`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'complete' }),
      });
      const tenant = `bench_tenant_${i}`;
      await pg.query(
        `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, charges_enabled, onboarding_method, account_type)
         VALUES ($1, $2, 'active', true, 'account_link', 'express')`,
        [tenant, account.id],
      );
      tenants.push({
        tenant,
        acct: account.id,
        chargeType: i < Math.ceil(TENANTS * 0.6) ? 'direct' : 'destination',
      });
    }
    const from = new Date(Date.now() - 2000);
    log(`seeding ${PAYMENTS} payments across ${TENANTS} tenants through the emulator's API`);
    const seedStart = Date.now();
    const rows = [];
    await pool(PAYMENTS, 32, async (i) => {
      const t = tenants[i % tenants.length];
      const id = crypto.randomUUID();
      const amount = 1000 + (i % 500) * 10;
      const fee = Math.round(amount * 0.025) + 30;
      const params = {
        amount,
        currency: 'usd',
        application_fee_amount: fee,
        payment_method: 'pm_card_visa',
        confirm: true,
        metadata: { payment_route_id: id, tenant_id: t.tenant },
        ...(t.chargeType === 'destination' ? { transfer_data: { destination: t.acct } } : {}),
      };
      const pi = await stripe.paymentIntents.create(
        params,
        t.chargeType === 'direct' ? { stripeAccount: t.acct } : {},
      );
      rows.push([id, t.tenant, t.acct, t.chargeType, amount, fee, pi.id, pi.latest_charge]);
    });
    await pg.query(
      `INSERT INTO payment_routes (id, tenant_id, stripe_account_id, type, status, charge_type, amount, fee, currency,
                                   stripe_payment_intent_id, stripe_object_id, stripe_status, stripe_idempotency_key)
       SELECT r.id::uuid, r.tenant, r.acct, 'payment', 'completed', r.ct::charge_type, r.amount, r.fee, 'usd', r.pi, r.ch,
              'succeeded', 'route:' || r.id || ':create'
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, tenant text, acct text, ct text, amount int, fee int, pi text, ch text)`,
      [
        JSON.stringify(
          rows.map(([id, tenant, acct, ct, amount, fee, pi, ch]) => ({
            id,
            tenant,
            acct,
            ct,
            amount,
            fee,
            pi,
            ch,
          })),
        ),
      ],
    );
    log(`seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const token = signAccessToken(
      { sub: 'bench', roles: ['platform'], scope: 'payments:read payments:write' },
      { secret: JWT_SECRET, expiresIn: '1h' },
    );
    const to = new Date(Date.now() + 2000);
    const started = Date.now();
    // One run per tenant, side by side, as the scheduled run over every tenant splits itself.
    const res = await fetch(`${base}/connect/reconciliation/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: from.toISOString(), to: to.toISOString(), grace_seconds: 0 }),
    });
    const run = await res.json();
    if (res.status !== 202) throw new Error(`POST runs: ${res.status} ${JSON.stringify(run)}`);
    let done;
    for (;;) {
      done = await (
        await fetch(`${base}/connect/reconciliation/runs/${run.id}`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json();
      if (done.status === 'completed' || done.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const seconds = (Date.now() - started) / 1000;
    const jobs = (
      await pg.query(
        `SELECT tenant_id, pages, stripe_calls FROM reconciliation_jobs WHERE run_id = $1 ORDER BY tenant_id`,
        [run.id],
      )
    ).rows;
    log(`run ${done.status}: ${PAYMENTS} payments, ${TENANTS} tenants, page ${PAGE}, ${RPS} requests/s`);
    log(
      `time ${seconds.toFixed(1)} s, Stripe calls ${done.stripe_calls}, items ${JSON.stringify(done.totals)}`,
    );
    log(
      `throughput ${(PAYMENTS / seconds).toFixed(0)} payments/s; per tenant job: ${jobs.map((j) => `${j.tenant_id} ${j.stripe_calls} calls/${j.pages} pages`).join(', ')}`,
    );
    log(`floor set by the request rate alone: ${(done.stripe_calls / RPS).toFixed(1)} s`);
  } finally {
    await pg.end();
    await app.close();
    emulator.child.kill('SIGTERM');
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
