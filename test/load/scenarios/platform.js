/* eslint-disable */
// Run only when named: a busy platform (7) and signed deliveries under production rate limits (8); their replicas
// run workers as a single-replica deployment does.
const Stripe = require('stripe');
const { BUSY_DURATION, DURATION, WEBHOOK_SECRET } = require('../lib/options');
const { log, loadAvg, loadRun, sleep, freePort, startService, stopChild } = require('../lib/procs');
const { fmt } = require('../lib/stats');
const { waitSettled, routeStatuses, metricSum } = require('../lib/queue');

/**
 * 7. A busy platform: payments through the service at 50 connections, charges made directly at Stripe on the same
 * connected account at 50 more, and the emulator delivering every resulting webhook to the service. The service runs
 * on production defaults (rate limits on; the per-caller/tenant budgets raised for one test caller).
 */
async function scenario7(c) {
  const { db, token, tenant, acct, S, emulator, apiBase, serviceEnv } = c;
  log(`scenario 7: busy platform for ${BUSY_DURATION} s (load ${loadAvg()})`);
  const port = await freePort();
  const sdk = new Stripe('sk_test_bench', {
    host: apiBase.hostname,
    port: Number(apiBase.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  const endpoint = await sdk.webhookEndpoints.create({
    url: `http://127.0.0.1:${port}/connect/webhooks`,
    enabled_events: ['*'],
    connect: true,
  });
  const busy = await startService(
    {
      ...serviceEnv,
      STRIPE_CONNECT_WEBHOOK_SECRET: endpoint.secret,
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_PER_CALLER: '10000000',
      RATE_LIMIT_PER_TENANT: '10000000',
    },
    port,
    'service-busy.log',
  );
  const pidBefore = busy.child.pid;
  const [viaService, direct] = await Promise.all([
    loadRun({
      url: busy.url,
      kind: 'payment',
      duration: BUSY_DURATION,
      params: { path: '/connect/payments', token, tenant },
    }),
    loadRun({
      url: emulator.url,
      kind: 'stripe-charge',
      duration: BUSY_DURATION,
      params: { key: 'sk_test_bench', account: acct.id },
    }),
  ]);
  // Let the emulator's deliveries (and their retries) finish, then read the service's own counts.
  await sleep(15_000);
  // Every stored event must be processed (the backlog is durable; workers drain it after the burst).
  const settled = await waitSettled(db, 'evt_', 0, 300_000);
  const intake = await routeStatuses(busy.url, '/connect/webhooks');
  const paymentsAnswered = await routeStatuses(busy.url, '/connect/payments');
  const all = await routeStatuses(busy.url, null);
  const alive = busy.child.exitCode === null && busy.child.signalCode === null;
  const unhandled = await metricSum(busy.url, 'connect_process_unhandled_errors_total');
  await stopChild(busy.child);
  S['7'] = {
    name: `Busy platform (${BUSY_DURATION} s)`,
    service_payments: viaService,
    direct_charges: direct,
    check: {
      same_process: alive && busy.child.pid === pidBefore,
      answers_500: all['500'] || 0,
      unhandled_errors: unhandled,
      intake,
      payments_answered: paymentsAnswered,
      stored: settled.total,
      processed: settled.settled,
      drain_ms: settled.drain_ms,
    },
  };
  log(`  payments via service ${fmt(viaService)} ${JSON.stringify(viaService.stats.statuses)}`);
  log(`  direct charges at the emulator ${fmt(direct)}`);
  log(`  check ${JSON.stringify(S['7'].check)}`);
}

/**
 * 8. Signed deliveries at 50 connections against the production rate-limit defaults (1,200 a minute per IP on public
 * routes): a delivery whose signature verifies is never limited, so every answer must be 2xx.
 */
async function scenario8(c) {
  const { db, acct, run, S, serviceEnv } = c;
  log(`scenario 8: signed deliveries, production rate limits (load ${loadAvg()})`);
  const limited = await startService(
    { ...serviceEnv, RATE_LIMIT_ENABLED: 'true' },
    await freePort(),
    'service-limits.log',
  );
  const prefix = `evt_s8_${run}_`;
  const r = await loadRun({
    url: limited.url,
    kind: 'webhook',
    duration: DURATION,
    params: { path: '/connect/webhooks', secret: WEBHOOK_SECRET, prefix, account: acct.id, copies: 1 },
  });
  const check = await waitSettled(db, prefix, r.stats.ok);
  await stopChild(limited.child);
  S['8'] = {
    name: 'Signed deliveries, production rate limits',
    service: r,
    check: { ...check, accepted: r.stats.ok },
  };
  log(`  ${fmt(r)} ${JSON.stringify(r.stats.statuses)}; stored ${check.total}, processed ${check.settled}`);
}

module.exports = { scenario7, scenario8 };
