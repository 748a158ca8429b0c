/* eslint-disable */
// Webhook intake throughput: signed, distinct Stripe events POSTed to /connect/webhooks (verify, inbox INSERT +
// job INSERT in one transaction, 200). A benchmark, not a test. Build first (`npm run build`), then:
//   DATABASE_URL=postgres://... node test/load/webhook-intake-bench.js [seconds] [connections] [workers:on|off]
// Use a scratch database: it migrates it and leaves the events in it.
const crypto = require('node:crypto');
const autocannon = require('autocannon');

const SECRET = 'whsec_bench_0123456789abcdef';

function signedRequest(account) {
  const now = Math.floor(Date.now() / 1000);
  const id = `evt_bench_${crypto.randomBytes(12).toString('hex')}`;
  const body = JSON.stringify({
    id,
    object: 'event',
    account,
    api_version: '2026-10-28.endive',
    created: now,
    data: { object: { id: `cus_${id.slice(10)}`, object: 'customer', name: 'Bench', metadata: {} } },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
  });
  const v1 = crypto.createHmac('sha256', SECRET).update(`${now}.${body}`).digest('hex');
  return { body, headers: { 'content-type': 'application/json', 'stripe-signature': `t=${now},v1=${v1}` } };
}

async function main() {
  const duration = Number(process.argv[2] || 10);
  const connections = Number(process.argv[3] || 50);
  const workers = (process.argv[4] || 'on') !== 'off';
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is required (a scratch database)');
  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    STRIPE_EMULATOR_PORT: '0',
    STRIPE_CONNECT_WEBHOOK_SECRET: SECRET,
    JOB_QUEUE_SCHEMA: `bench_jobs_${Date.now().toString(36)}`,
    WORKERS_ENABLED: workers ? 'true' : 'false',
  });
  const { createApp } = require('../../dist/apps/connect-service/src/create-app');
  const app = await createApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const result = await autocannon({
    url: `${url}/connect/webhooks`,
    method: 'POST',
    connections,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, ...signedRequest('acct_bench'), method: 'POST' }) }],
  });
  const rssMb = (process.memoryUsage().rss / 1024 / 1024).toFixed(0);
  await app.close();
  console.log(
    JSON.stringify(
      {
        duration_s: duration,
        connections,
        workers,
        requests: result.requests.total,
        req_per_s: result.requests.average,
        latency_p50_ms: result.latency.p50,
        latency_p99_ms: result.latency.p99,
        non_2xx: result.non2xx,
        errors: result.errors,
        rss_mb: Number(rssMb),
      },
      null,
      2,
    ),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
