/* eslint-disable */
// 15. Payments on Citus: POST /connect/payments through a second API replica whose database is a private Citus
// cluster (a coordinator and 2 workers, the service's migrations distributing its tables), alternating with the
// same load on the API replica of the single PostgreSQL. Reports the ratio, p99, errors and where the database time
// goes (the coordinator's backends against the workers'). Skipped, with the reason, when Citus is not installed.
const { Client } = require('pg');
const { ROUNDS } = require('../lib/options');
const { cleanups, log, loadAvg, startService, stopChild, rssSampler } = require('../lib/procs');
const { rounds, idleCpu } = require('../lib/stats');
const { findCitus, startCitusCluster } = require('../lib/citus-cluster');

const DATABASE = 'connect_bench_citus';
// Durability and memory as the single server has them, so neither side commits more cheaply than the other.
const COPIED_SETTINGS = ['fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers'];

async function scenario15(c) {
  const { api, rss, db, token, tenant, acct, S, serviceEnv } = c;
  const install = findCitus();
  if (install.missing) {
    log(`scenario 15: skipped: ${install.missing}`);
    S['15'] = { name: 'Payments on Citus (coordinator + 2 workers)', skipped: install.missing };
    return;
  }
  log(
    `scenario 15: payments on a Citus cluster vs the single PostgreSQL, ${ROUNDS} rounds (${install.version}; load ${loadAvg()})`,
  );
  const settings = [];
  for (const name of COPIED_SETTINGS)
    settings.push(`${name} = '${(await db.query(`SHOW ${name}`)).rows[0][name]}'`);
  const t0 = Date.now();
  const cluster = await startCitusCluster(install, 2, settings);
  cleanups.push(cluster.stop);
  const clients = [];
  let replica = null;
  try {
    const url = await cluster.createDatabase(DATABASE);
    // A second API replica of the same build, workers off, on the coordinator (its migrations distribute the tables).
    replica = await startService(
      { ...serviceEnv, DATABASE_URL: url, WORKERS_ENABLED: 'false' },
      null,
      'service-citus.log',
    );
    const setup_s = Math.round((Date.now() - t0) / 1000);
    log(`  cluster and replica up in ${setup_s} s (replica pid ${replica.child.pid})`);
    const nodes = [];
    for (const n of cluster.nodes) {
      const client = new Client({ connectionString: cluster.url(n, DATABASE) });
      await client.connect();
      clients.push(client);
      nodes.push({ name: n.name, client });
    }
    const [{ n: distributed }] = (
      await nodes[0].client.query(
        `SELECT count(*)::int AS n FROM citus_tables WHERE citus_table_type = 'distributed'`,
      )
    ).rows;
    await nodes[0].client.query(
      `INSERT INTO connect_accounts (tenant_id, stripe_account_id, status, onboarding_method, account_type, charges_enabled, payouts_enabled, details_submitted)
       VALUES ($1, $2, 'active', 'account_link', 'express', true, true, true)`,
      [tenant, acct.id],
    );
    // Background CPU with no request (polls, Citus's maintenance daemon), to read the per-payment CPU against.
    const idle = await idleCpu(
      [
        { name: 'citus replica', pid: replica.child.pid },
        { name: 'single replica', pid: api.child.pid },
      ],
      [...nodes, { name: 'single PostgreSQL', client: db }],
      5000,
    );
    log(`  idle CPU ms/s: ${JSON.stringify(idle)}`);
    const crss = rssSampler(replica.child.pid);
    const job = (u) => () => ({
      url: u,
      kind: 'payment',
      params: { path: '/connect/payments', token, tenant },
    });
    let res;
    try {
      res = await rounds([
        { who: 'citus', pid: replica.child.pid, rss: crss, nodes, job: job(replica.url) },
        { who: 'single', pid: api.child.pid, rss, job: job(api.url) },
      ]);
    } finally {
      clearInterval(crss.timer);
    }
    const { rows: placements } = await nodes[0].client.query(
      `SELECT nodeport, count(*)::int AS shards FROM pg_dist_shard_placement GROUP BY 1 ORDER BY 1`,
    );
    S['15'] = {
      name: 'Payments on Citus (coordinator + 2 workers)',
      ...res,
      cluster: {
        version: install.version,
        setup_s,
        idle_cpu_ms_per_s: idle,
        distributed_tables: distributed,
        settings,
        placements,
      },
    };
  } finally {
    for (const cl of clients) await cl.end().catch(() => {});
    if (replica) await stopChild(replica.child);
    cleanups.splice(cleanups.indexOf(cluster.stop), 1);
    cluster.stop();
  }
}

module.exports = { scenario15 };
