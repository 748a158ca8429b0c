/* eslint-disable */
// Read paths: payments by id and a filtered list at two database sizes (5), cached reads over many tenants (10).
const { DURATION, TENANTS, TENANT_SYNC_AHEAD_S, CACHE_TTL_S } = require('../lib/options');
const { log, loadAvg, loadRun } = require('../lib/procs');
const { cpuMs, pgCpuSnapshot, pgCpuSince, measure, fmt } = require('../lib/stats');
const { redisStats } = require('../lib/queue');
const { seedAccounts } = require('../lib/seed');

/** 5a. Read paths on an almost empty database (100 tenants x 10 routes). */
async function scenario5small(c) {
  const { api, rss, db, token } = c;
  log(`scenario 5 (small database): GET /connect/payments/:id and a filtered list (load ${loadAvg()})`);
  await seedAccounts(db, 'bs_', 100, 10);
  c.scale = { small: await readScenario(db, api.url, token, 'bs_', rss, api.child.pid) };
}

/** 5b. The same reads with 100,000 accounts and 1,000,000 payment routes loaded. */
async function scenario5large(c) {
  const { api, rss, db, token, S } = c;
  log('scenario 5: loading 100,000 accounts and 1,000,000 payment routes');
  const t0 = Date.now();
  await seedAccounts(db, 'bl_', 100_000, 10);
  // Steady state, not the minutes right after a bulk load: without this, autovacuum of the new rows and the
  // checkpoint flushing them run during the measurement and make the p99 noise (seen: 0.5x to 1.6x).
  await db.query('VACUUM (ANALYZE) connect_accounts, payment_routes');
  await db.query('CHECKPOINT');
  const scale = c.scale;
  scale.load_s = Math.round((Date.now() - t0) / 1000);
  log(`  loaded in ${scale.load_s} s (load ${loadAvg()})`);
  scale.large = await readScenario(db, api.url, token, 'bl_', rss, api.child.pid);
  S['5'] = { name: 'Scale: reads at 1M routes vs almost empty', ...scale };
}

/** 10. Cached reads spread over many active tenants: one pass fills the cache, then the measured run. */
async function scenario10(c) {
  const { api, rss, db, token, S, redis } = c;
  log(`scenario 10: ${TENANTS} active tenants, cached reads across all of them (load ${loadAvg()})`);
  // The service serves a row younger than REDIS_TTL from the database on a miss (no Stripe call) and caches it for
  // REDIS_TTL minus its age: synced_at a few minutes ahead keeps every entry alive through the fill and the
  // measured run even on a slow machine (the periodic re-sync from Stripe is not what this scenario measures).
  await db.query(
    `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, country, charges_enabled, payouts_enabled, details_submitted, capabilities, synced_at)
     SELECT 'bt_' || i, 'acct_bt_' || i, 'active', 'account_link', 'express', 'US', true, true, true,
            '{"card_payments":"active","transfers":"active"}'::jsonb, now() + make_interval(secs => $2::int)
       FROM generate_series(1, $1::int) i`,
    [TENANTS, TENANT_SYNC_AHEAD_S],
  );
  const paths = Array.from({ length: TENANTS }, (_, i) => `/connect/accounts/bt_${i + 1}`);
  const syncedAt = Date.now();
  const fill = await loadRun({ url: api.url, kind: 'get', amount: TENANTS, params: { paths, token } });
  const redisBefore = await redisStats(redis.url);
  rss.startPhase();
  const pgBefore = await pgCpuSnapshot();
  const ownBefore = cpuMs(api.child.pid);
  const r = await loadRun({ url: api.url, kind: 'get', duration: DURATION, params: { paths, token } });
  r.cpu_ms_per_req = Number(((cpuMs(api.child.pid) - ownBefore) / r.requests_total).toFixed(2));
  r.pg_cpu_ms_per_req = Number(((await pgCpuSince(pgBefore)) / r.requests_total).toFixed(2));
  r.rss_mb = Math.round(rss.phaseMax);
  const redisAfter = await redisStats(redis.url);
  const hits = redisAfter && redisBefore ? redisAfter.hits - redisBefore.hits : null;
  const misses = redisAfter && redisBefore ? redisAfter.misses - redisBefore.misses : null;
  const withinTtl = (Date.now() - syncedAt) / 1000 < CACHE_TTL_S + TENANT_SYNC_AHEAD_S;
  S['10'] = {
    name: `${TENANTS.toLocaleString('en-US')} active tenants, cached reads across all`,
    service: r,
    fill: { req_per_s: fill.req_per_s, p99_ms: fill.p99_ms, non_2xx: fill.non_2xx, errors: fill.errors },
    cache: {
      hits,
      misses,
      hit_rate: hits !== null && hits + misses > 0 ? hits / (hits + misses) : null,
      within_ttl: withinTtl,
      keys: redisAfter && redisAfter.keys,
    },
  };
  log(`  fill ${fmt(fill)}`);
  log(
    `  measured ${fmt(r)}; Redis hits ${hits}, misses ${misses}${withinTtl ? '' : ' (entries expired during the run)'}`,
  );
}

/** p99 of GET /connect/payments/:id over 1,000 random routes, then of a filtered list page over random tenants. */
async function readScenario(db, url, token, prefix, rss, pid) {
  const { rows } = await db.query(
    `SELECT id, tenant_id FROM payment_routes WHERE tenant_id LIKE $1 || '%' ORDER BY random() LIMIT 1000`,
    [prefix],
  );
  const byId = await measure(
    {
      url,
      kind: 'get',
      connections: 10,
      params: { paths: rows.map((r) => `/connect/payments/${r.id}`), token },
    },
    rss,
    pid,
  );
  const list = await measure(
    {
      url,
      kind: 'get',
      connections: 10,
      params: {
        paths: rows.map((r) => `/connect/payments?tenant_id=${r.tenant_id}&status=completed&limit=20`),
        token,
      },
    },
    rss,
    pid,
  );
  log(`  [${prefix}] by id ${fmt(byId)}`);
  log(`  [${prefix}] list ${fmt(list)}`);
  return { by_id: byId, list };
}

module.exports = { scenario5small, scenario5large, scenario10, readScenario };
