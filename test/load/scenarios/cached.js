/* eslint-disable */
// Cached reads against a bare Fastify that does the essential work: the account (4, with the cost of the JWT
// revocation check beside it) and the balance (14), both answered from Redis on a warm cache.
const { ROUNDS, REVOCATIONS, REVOCATION_SYNC_MS } = require('../lib/options');
const { log, loadAvg, sleep } = require('../lib/procs');
const { rounds, idleCpu } = require('../lib/stats');
const { seedRevocations } = require('../lib/seed');

/**
 * The service's answer to `servicePath` (which warms its cache), copied under `key` in Redis so the baselines send
 * the same bytes; then alternating rounds of the service and the baselines (`scripts`: who -> baseline).
 */
async function cachedRead(c, { servicePath, basePath, key, scripts }) {
  const { api, rss, token, redis, withBaselines } = c;
  const first = await fetch(`${api.url}${servicePath}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await first.text();
  if (!first.ok) throw new Error(`GET ${servicePath}: ${first.status} ${body}`);
  let skipped = null;
  if (redis.url) {
    const Redis = require('ioredis');
    const r = new Redis(redis.url);
    await r.set(key, body);
    await r.quit();
  } else skipped = redis.reason;
  const res = await withBaselines(redis.url ? scripts : {}, (b) =>
    rounds([
      {
        who: 'service',
        pid: api.child.pid,
        rss,
        job: () => ({ url: api.url, kind: 'get', params: { paths: [servicePath], token } }),
      },
      ...Object.keys(scripts).map(
        (who) =>
          b[who] && {
            who,
            pid: b[who].child.pid,
            job: () => ({
              url: b[who].url,
              kind: 'get',
              params: { paths: [basePath], ...(who === 'bare' ? {} : { token }) },
            }),
          },
      ),
    ]),
  );
  if (skipped) log(`  baselines skipped: ${skipped}`);
  return { ...res, skipped };
}

/**
 * 4. Warm-cache account read. A third baseline, "fair + revocation", is the fair one plus the essential work of JWT
 * revocation as the service does it (every active revocation in memory, synced every REVOCATION_SYNC_INTERVAL_MS,
 * a lookup per request): fair+revocation against fair is what the check costs.
 */
async function scenario4(c) {
  const { api, db, tenant } = c;
  log(`scenario 4: GET /connect/accounts/:tenantId, warm cache, ${ROUNDS} rounds (load ${loadAvg()})`);
  const seeded = await seedRevocations(db, REVOCATIONS);
  // Both sides pick them up within one sync; give the service a few.
  await sleep(4 * REVOCATION_SYNC_MS);
  // The API replica's background with no request (the revocation poll among it) and its backends'.
  const idle = await idleCpu(
    [{ name: 'service', pid: api.child.pid }],
    [{ name: 'PostgreSQL', client: db }],
    5000,
  );
  log(`  idle CPU ms/s: ${JSON.stringify(idle)}`);
  const res = await cachedRead(c, {
    servicePath: `/connect/accounts/${tenant}`,
    basePath: `/accounts/${tenant}`,
    key: `bench:account:${tenant}`,
    scripts: {
      fair: 'fair-read-baseline.js',
      fair_revocation: {
        script: 'fair-read-baseline.js',
        env: { BENCH_REVOCATION_CHECK: '1', REVOCATION_SYNC_INTERVAL_MS: String(REVOCATION_SYNC_MS) },
      },
      bare: 'redis-baseline.js',
    },
  });
  c.S['4'] = {
    name: 'Account read, warm cache',
    ...res,
    revocations: { active: seeded, sync_ms: REVOCATION_SYNC_MS, idle_cpu_ms_per_s: idle },
  };
}

/** 14. Warm-cache balance read: GET /connect/accounts/{tenantId}/balance against the same fair read baseline. */
async function scenario14(c) {
  const { tenant } = c;
  log(
    `scenario 14: GET /connect/accounts/:tenantId/balance, warm cache, ${ROUNDS} rounds (load ${loadAvg()})`,
  );
  const res = await cachedRead(c, {
    servicePath: `/connect/accounts/${tenant}/balance`,
    basePath: `/accounts/${tenant}/balance`,
    key: `bench:balance:${tenant}`,
    scripts: { fair: 'fair-read-baseline.js', bare: 'redis-baseline.js' },
  });
  c.S['14'] = { name: 'Balance read, warm cache', ...res };
}

module.exports = { scenario4, scenario14 };
