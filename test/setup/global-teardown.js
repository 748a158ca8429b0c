/* eslint-disable */
const { Client } = require('pg');
const { TEST_DB_MARKER, TEST_DB_PREFIX } = require('./test-db-marker');

module.exports = async function globalTeardown() {
  const state = globalThis.__CONNECT_TEST__;
  if (!state || !state.serverUrl) return;
  const admin = new Client({ connectionString: state.serverUrl });
  try {
    await admin.connect();
    for (const name of [state.dbName, state.templateName]) {
      if (!name) continue;
      const { rows } = await admin.query(
        `SELECT shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE datname = $1`,
        [name],
      );
      // Refuse to drop anything that this run did not create and mark.
      if (name.startsWith(TEST_DB_PREFIX) && rows[0] && rows[0].marker === TEST_DB_MARKER) {
        await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      }
    }
  } finally {
    await admin.end().catch(() => {});
  }
  if (state.embedded) await state.embedded.stop();
};
