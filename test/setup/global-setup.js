/* eslint-disable */
// Prepares what the e2e suites need, once per `npm test` run:
// - a fresh PostgreSQL database, marked as a test database, on TEST_DATABASE_URL's server or, when that is
//   not set, on an embedded PostgreSQL started in a temporary folder;
// - the schema built once: a template database migrated here, of which the run's database and every suite's
//   private database (test/utils/private-database.ts) are copies (CREATE DATABASE ... TEMPLATE), so no suite waits
//   for the whole migration history again;
// - TEST_REDIS_URL checked (suites that need Redis skip themselves, saying why, when it is not set).
// The database URL reaches the suites as DATABASE_URL (jest workers inherit this process's environment).
const { spawnSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { join } = require('node:path');
const { Client } = require('pg');
const { TEST_DB_MARKER, TEST_DB_PREFIX } = require('./test-db-marker');
const { startEmbeddedPostgres } = require('./embedded-postgres');

async function checkRedis(url) {
  const Redis = require('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new Error(
      `Redis at TEST_REDIS_URL is not reachable (${e.message}). Start it with: ` +
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no ' +
        '(or unset TEST_REDIS_URL to skip the Redis cases).',
    );
  } finally {
    client.disconnect();
  }
}

const ROOT = join(__dirname, '../..');

/** Migrates `url` with the built migration command (built first when dist/ is missing or stale). */
function migrate(url) {
  const run = (args, env) => {
    const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`test setup: ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  };
  run([join(ROOT, 'scripts/ensure-built.js')], process.env);
  const { PATH, HOME } = process.env;
  run([join(ROOT, 'dist/libs/database/src/cli/migrate.js')], { PATH, HOME, DATABASE_URL: url, LOG_LEVEL: 'warn' });
}

module.exports = async function globalSetup() {
  const state = (globalThis.__CONNECT_TEST__ = {});
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const probe = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
    try {
      await probe.connect();
    } catch (e) {
      throw new Error(
        `PostgreSQL at TEST_DATABASE_URL is not reachable (${e.message}). Start it with: ` +
          'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start ' +
          '(or unset TEST_DATABASE_URL to use an embedded PostgreSQL).',
      );
    } finally {
      await probe.end().catch(() => {});
    }
  } else {
    const embedded = await startEmbeddedPostgres('connect-test-pg', { throwaway: true });
    state.embedded = embedded;
    serverUrl = embedded.url;
    process.stdout.write(`\n[test setup] TEST_DATABASE_URL not set: using an embedded PostgreSQL at ${embedded.url}\n`);
  }

  const dbName = `${TEST_DB_PREFIX}${Date.now()}_${randomBytes(3).toString('hex')}`;
  const templateName = `${dbName}_template`;
  const urlOf = (name) => {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  state.serverUrl = serverUrl;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const create = async (name, template) => {
      await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
      await admin.query(`COMMENT ON DATABASE "${name}" IS '${TEST_DB_MARKER}'`);
    };
    await create(templateName);
    state.templateName = templateName;
    migrate(urlOf(templateName));
    await create(dbName, templateName);
  } catch (e) {
    // jest runs no teardown after a failed setup: leave nothing behind.
    await admin.query(`DROP DATABASE IF EXISTS "${templateName}" WITH (FORCE)`).catch(() => {});
    if (state.embedded) await state.embedded.stop();
    throw e;
  } finally {
    await admin.end();
  }

  state.dbName = dbName;
  process.env.DATABASE_URL = urlOf(dbName);
  process.env.TEST_DATABASE_NAME = dbName;
  process.env.TEST_TEMPLATE_DATABASE = templateName;

  if (process.env.TEST_REDIS_URL) await checkRedis(process.env.TEST_REDIS_URL);
  process.env.NODE_ENV = 'test';
};
