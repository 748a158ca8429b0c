import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TEST_DB_MARKER, TEST_DB_PREFIX } = require('../setup/test-db-marker') as {
  TEST_DB_MARKER: string;
  TEST_DB_PREFIX: string;
};

/**
 * A database of one suite's own, on the run's server and marked like the run's database, for a suite that must
 * count rows exactly (the run's database is shared by suites running at the same time). A copy of the run's migrated
 * template (test/setup/global-setup.js) when there is one; otherwise the app's boot migrates it.
 */
export async function createPrivateDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the suites through jest (global setup)');
  const name = `${TEST_DB_PREFIX}own_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  try {
    const template = process.env.TEST_TEMPLATE_DATABASE;
    await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
    await admin.query(`COMMENT ON DATABASE "${name}" IS '${TEST_DB_MARKER}'`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
