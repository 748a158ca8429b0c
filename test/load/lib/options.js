/* eslint-disable */
// The bench's flags (or BENCH_* variables), its secrets and its constants: read once, shared by every module.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../../..');
const OUT = path.join(ROOT, 'bench-results');

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, env, dflt) => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.split('=')[1] : (process.env[env] ?? dflt);
};

// Scenarios a plain run does; 7 and 8 only when named.
const DEFAULT_ONLY = '1,2,3,4,5,9,10,11,12,13,14,15';

module.exports = {
  ROOT,
  OUT,
  WEBHOOK_SECRET: 'whsec_bench_0123456789abcdef0123456789',
  JWT_SECRET: 'bench-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  ALL_SCOPES:
    'accounts:read accounts:write payments:read payments:write events:read events:write webhooks:read webhooks:write',
  SETTLED: "('processed','ignored','unmatched')",
  ONLY: new Set(
    String(opt('only', 'BENCH_ONLY', DEFAULT_ONLY))
      .split(',')
      .map(Number),
  ),
  ROUNDS: Math.max(1, Number(opt('rounds', 'BENCH_ROUNDS', 3))),
  DURATION: Number(opt('duration', 'BENCH_DURATION', 10)),
  WARMUP: Number(opt('warmup', 'BENCH_WARMUP', 2)),
  BURST_DURATION: Number(opt('burst-duration', 'BENCH_BURST_DURATION', 60)),
  BUSY_DURATION: Number(opt('busy-duration', 'BENCH_BUSY_DURATION', 60)),
  INBOX_ROWS: Number(opt('inbox-rows', 'BENCH_INBOX_ROWS', 5_000_000)),
  PURGE_BACKLOG_DAYS: Number(opt('purge-backlog-days', 'BENCH_PURGE_BACKLOG_DAYS', 1)),
  TENANTS: Number(opt('tenants', 'BENCH_TENANTS', 10_000)),
  // Active JWT revocations of other tokens the service (and scenario 4's revocation baseline) keep in memory.
  REVOCATIONS: Number(opt('revocations', 'BENCH_REVOCATIONS', 1000)),
  PROFILE: flag('profile'),
  BASELINES: !flag('no-baseline'),
  LOG_LEVEL: process.env.LOG_LEVEL || 'info',
  POOL_SIZE: process.env.DATABASE_POOL_SIZE || '10',
  CONNECTIONS: 50,
  // Scenario 9's connected accounts: each in the emulator and in connect_accounts, its own tenant.
  BURST_ACCOUNTS: 200,
  // The service's default REDIS_TTL: a cached account lives this long after its synced_at (scenario 10).
  CACHE_TTL_S: Number(process.env.REDIS_TTL || 60),
  TENANT_SYNC_AHEAD_S: 300,
  // The service's default RETENTION_WEBHOOK_PAYLOAD_DAYS (libs/config); scenario 11 places rows around it.
  RETENTION_DAYS: Number(process.env.RETENTION_WEBHOOK_PAYLOAD_DAYS || 30),
  // The service's default REVOCATION_SYNC_INTERVAL_MS: scenario 4's revocation baseline polls as often.
  REVOCATION_SYNC_MS: Number(process.env.REVOCATION_SYNC_INTERVAL_MS || 250),
  // A drain gives up when nothing settles for this long (a stuck queue must not hang the bench).
  DRAIN_STALL_MS: 90_000,
};
