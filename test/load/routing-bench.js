/* eslint-disable */
// `npm run bench:routing` (= `npm run build && node test/load/routing-bench.js`): a benchmark, not a test.
//  1. rule evaluation of a compiled 1,000-rule set (the payment matching the last rule, or none): p50 / p99 / max;
//  2. payment creation end to end (HTTP → service → in-process Stripe emulator → PostgreSQL) with no rule set active
//     and with a 50-rule set active, in alternating rounds so drift hits both alike: mean, p50, p99 latency.
// Options: --payments=300 per round, --rounds=4 (BENCH_PAYMENTS, BENCH_ROUNDS). TEST_DATABASE_URL: a PostgreSQL
// server for a scratch database (dropped at the end); unset: an embedded PostgreSQL.
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { startEmbeddedPostgres } = require('../setup/embedded-postgres');

const DIST = path.resolve(__dirname, '../../dist');
const opt = (name, env, d) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return Number(a ? a.split('=')[1] : (process.env[env] ?? d));
};
const PAYMENTS = opt('payments', 'BENCH_PAYMENTS', 300);
const ROUNDS = opt('rounds', 'BENCH_ROUNDS', 4);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const fmt = (ms) => `${ms.toFixed(3)} ms`;

function ruleSet(n, tenant) {
  const rules = [];
  for (let i = 0; i < n - 1; i++) {
    rules.push({
      name: `rule-${i}`,
      when: {
        all: [
          { field: 'currency', op: 'in', value: ['eur', 'gbp', 'chf'] },
          {
            any: [
              { field: 'amount', op: 'between', value: [i * 10, i * 10 + 9] },
              { field: `metadata.k${i}`, op: 'eq', value: 'x' },
            ],
          },
          { not: { field: 'tenant.tier', op: 'eq', value: `t${i}` } },
        ],
      },
      route: { charge_type: 'destination', fee: { basis_points: 100 + (i % 50) } },
    });
  }
  rules.push({
    name: 'last',
    when: {
      all: [
        { field: 'tenant_id', op: 'eq', value: tenant },
        { field: 'amount', op: 'gte', value: 1 },
      ],
    },
    route: { charge_type: 'direct', fee: { basis_points: 290, fixed: { usd: 30 } } },
  });
  return { rules, default: {} };
}

function evaluationBench() {
  const { CompiledRuleSet } = require(path.join(DIST, 'apps/connect-service/src/routing/rule-evaluator.js'));
  const t0 = process.hrtime.bigint();
  const set = new CompiledRuleSet(ruleSet(1_000, 'tenant_bench'));
  const compileMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const ctx = (i) => ({
    route_id: randomUUID(),
    amount: 2_000 + (i % 100),
    currency: i % 2 ? 'usd' : 'eur',
    tenant_id: i % 2 ? 'tenant_bench' : 'other',
    tenant: { tier: 'gold' },
    account: { country: 'US', status: 'active', capabilities: { card_payments: 'active' } },
    payment_method_type: 'card',
    card: null,
    metadata: { order: String(i) },
  });
  const contexts = Array.from({ length: 2_000 }, (_, i) => ctx(i));
  for (let i = 0; i < 20_000; i++) set.evaluate(contexts[i % contexts.length]);
  const times = [];
  for (let i = 0; i < 50_000; i++) {
    const c = contexts[i % contexts.length];
    const s = process.hrtime.bigint();
    set.evaluate(c);
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  console.log(
    `\n1. Rule evaluation, 1,000 rules (every rule tried: the match is the last rule or the default), 50,000 evaluations`,
  );
  console.log(
    `   compile ${fmt(compileMs)}; p50 ${fmt(pct(times, 50))}  p99 ${fmt(pct(times, 99))}  max ${fmt(Math.max(...times))}`,
  );
}

async function paymentBench() {
  let server = process.env.TEST_DATABASE_URL;
  let embedded = null;
  if (!server) {
    embedded = await startEmbeddedPostgres('routing-bench');
    server = embedded.url;
  }
  const name = `connect_bench_routing_${Date.now()}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  Object.assign(process.env, {
    NODE_ENV: 'test',
    DATABASE_URL: url.toString(),
    JWT_SECRET: 'bench-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    LOG_LEVEL: 'silent',
    STRIPE_EMULATOR_PORT: '0',
    RATE_LIMIT_ENABLED: 'false',
    PLATFORM_FEE_BASIS_POINTS: '290',
    PLATFORM_FEE_FIXED: 'usd:30',
  });
  const { createApp } = require(path.join(DIST, 'apps/connect-service/src/http/create-app.js'));
  const { signAccessToken } = require(path.join(DIST, 'libs/auth/src/index.js'));
  const { StripeGateway, STRIPE_CONNECTION } = require(path.join(DIST, 'libs/stripe-gateway/src/index.js'));
  const { DataSource } = require('typeorm');
  const app = await createApp({});
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const emulator = app.get(STRIPE_CONNECTION).apiBase;
  const ds = app.get(DataSource);
  const token = signAccessToken(
    { sub: 'bench', roles: ['platform'], scope: 'payments:read payments:write accounts:read accounts:write' },
    { secret: process.env.JWT_SECRET, expiresIn: '1h' },
  );
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const acct = await app.get(StripeGateway).createAccount({ type: 'express', country: 'US' });
  await fetch(`${emulator}/_emulator/accounts/${acct.id}/verification`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'complete' }),
  });
  const tenant = 'tenant_bench';
  await ds.query(
    `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, charges_enabled, payouts_enabled, onboarding_method, account_type, capabilities)
     VALUES ($1, $2, 'active', true, true, 'account_link', 'express', '{"card_payments":"active","transfers":"active"}')`,
    [tenant, acct.id],
  );
  const def = ruleSet(50, tenant);
  const created = await (
    await fetch(`${base}/connect/routing/rule-sets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'bench-50', ...def }),
    })
  ).json();

  const payOnce = async () => {
    const s = process.hrtime.bigint();
    const res = await fetch(`${base}/connect/payments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        tenant_id: tenant,
        payment_data: { amount: 2_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      }),
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`payment answered ${res.status}`);
    return Number(process.hrtime.bigint() - s) / 1e6;
  };
  const setActive = async (on) => {
    if (on)
      await fetch(`${base}/connect/routing/rule-sets/${created.id}/activate`, {
        method: 'POST',
        headers,
        body: '{}',
      });
    else await ds.query(`UPDATE routing_rule_sets SET status = 'retired' WHERE status = 'active'`);
  };
  const results = { none: [], rules50: [] };
  for (let i = 0; i < 30; i++) await payOnce();
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of r % 2 ? ['rules50', 'none'] : ['none', 'rules50']) {
      await setActive(mode === 'rules50');
      for (let i = 0; i < PAYMENTS; i++) results[mode].push(await payOnce());
    }
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`\n2. POST /connect/payments (sequential, ${ROUNDS} alternating rounds of ${PAYMENTS} each)`);
  for (const [mode, xs] of Object.entries(results)) {
    console.log(
      `   ${mode === 'none' ? 'no rule set     ' : '50-rule set     '} mean ${fmt(mean(xs))}  p50 ${fmt(pct(xs, 50))}  p99 ${fmt(pct(xs, 99))}`,
    );
  }
  const d = (mean(results.rules50) / mean(results.none) - 1) * 100;
  console.log(`   difference of the means: ${d >= 0 ? '+' : ''}${d.toFixed(1)} %`);
  await app.close();
  await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
  await admin.end();
  if (embedded) await embedded.stop();
}

(async () => {
  evaluationBench();
  await paymentBench();
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
