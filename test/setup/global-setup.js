/* eslint-disable */
// Prepares what the e2e suites need, once per `npm test` run:
// - a fresh PostgreSQL database, marked as a test database, on TEST_DATABASE_URL's server or, when that is
//   not set, on an embedded PostgreSQL started in a temporary folder;
// - TEST_REDIS_URL checked (suites that need Redis skip themselves, saying why, when it is not set).
// The database URL reaches the suites as DATABASE_URL (jest workers inherit this process's environment).
const { randomBytes } = require('node:crypto');
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
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.query(`COMMENT ON DATABASE "${dbName}" IS '${TEST_DB_MARKER}'`);
  await admin.end();

  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${dbName}`;
  state.serverUrl = serverUrl;
  state.dbName = dbName;
  process.env.DATABASE_URL = dbUrl.toString();
  process.env.TEST_DATABASE_NAME = dbName;

  if (process.env.TEST_REDIS_URL) await checkRedis(process.env.TEST_REDIS_URL);
  process.env.NODE_ENV = 'test';
};
