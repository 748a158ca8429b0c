import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  dataSourceOptions,
  MIGRATIONS,
  revertLastMigrationLocked,
  runMigrationsLocked,
  schemaDiff,
} from '@app/database';
import { assertTestDatabase } from '../support/app';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { TEST_DB_MARKER, TEST_DB_PREFIX } = require('../setup/test-db-marker') as {
  TEST_DB_MARKER: string;
  TEST_DB_PREFIX: string;
};

/**
 * Everything a migration can change in the schema, from pg_catalog, in a stable order. Column order is the
 * logical order (a dropped and re-added column gets a new attnum but the same place).
 */
const SNAPSHOT_QUERIES: Record<string, string> = {
  columns: `SELECT table_schema, table_name, column_name, data_type, udt_name, is_nullable, column_default,
              character_maximum_length, numeric_precision, numeric_scale, is_identity,
              row_number() OVER (PARTITION BY table_schema, table_name ORDER BY ordinal_position) AS position
            FROM information_schema.columns
            WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
            ORDER BY table_schema, table_name, position`,
  constraints: `SELECT n.nspname, c.conrelid::regclass::text AS rel, c.conname, c.contype, pg_get_constraintdef(c.oid) AS def
                FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                ORDER BY 1, 2, 3`,
  indexes: `SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3`,
  types: `SELECT n.nspname, t.typname, t.typtype,
            array_to_string(ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder), ',') AS labels
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            AND t.typtype IN ('e', 'd', 'c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
          ORDER BY 1, 2`,
  functions: `SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args, md5(pg_get_functiondef(p.oid)) AS def
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
              ORDER BY 1, 2, 3`,
  triggers: `SELECT tgrelid::regclass::text AS rel, tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger
             WHERE NOT tgisinternal ORDER BY 1, 2`,
  sequences: `SELECT sequence_schema, sequence_name, data_type FROM information_schema.sequences ORDER BY 1, 2`,
  views: `SELECT table_schema, table_name, view_definition FROM information_schema.views
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  extensions: `SELECT extname FROM pg_extension ORDER BY 1`,
  comments: `SELECT c.relname, d.objsubid, d.description FROM pg_description d
             JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
};

type Snapshot = Record<string, unknown[]>;

async function snapshot(ds: DataSource): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const [name, sql] of Object.entries(SNAPSHOT_QUERIES)) out[name] = (await ds.query(sql)) as unknown[];
  return out;
}

/** What changed between two snapshots, per section, for a readable failure. */
function difference(
  a: Snapshot,
  b: Snapshot,
): Record<string, { only_before: unknown[]; only_after: unknown[] }> {
  const diff: Record<string, { only_before: unknown[]; only_after: unknown[] }> = {};
  for (const key of Object.keys(SNAPSHOT_QUERIES)) {
    const before = a[key].map((r) => JSON.stringify(r));
    const after = b[key].map((r) => JSON.stringify(r));
    const onlyBefore = before.filter((r) => !after.includes(r));
    const onlyAfter = after.filter((r) => !before.includes(r));
    if (onlyBefore.length || onlyAfter.length || before.join() !== after.join()) {
      diff[key] = {
        only_before: onlyBefore.map((r) => JSON.parse(r) as unknown),
        only_after: onlyAfter.map((r) => JSON.parse(r) as unknown),
      };
    }
  }
  return diff;
}

describe('migrations are reversible: up, down and up again give the same schema', () => {
  const admin = new Client({ connectionString: process.env.DATABASE_URL });
  let dbName: string;
  let url: string;
  const sources: DataSource[] = [];

  /** A DataSource knowing only the first `count` migrations (so `runMigrations` stops there). */
  async function source(count: number): Promise<DataSource> {
    const ds = new DataSource({ ...dataSourceOptions(url, 2), migrations: MIGRATIONS.slice(0, count) });
    sources.push(ds);
    return ds.initialize();
  }

  beforeAll(async () => {
    await assertTestDatabase();
    await admin.connect();
    dbName = `${TEST_DB_PREFIX}rollback_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE "${dbName}"`);
    await admin.query(`COMMENT ON DATABASE "${dbName}" IS '${TEST_DB_MARKER}'`);
    const u = new URL(process.env.DATABASE_URL as string);
    u.pathname = `/${dbName}`;
    url = u.toString();
  });

  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  });

  it(`runs every migration up one at a time, down one at a time, and up again (${MIGRATIONS.length} migrations)`, async () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    // The first up, one migration at a time: states[k] is the schema after the first k migrations.
    const empty = await source(0);
    await runMigrationsLocked(empty); // creates TypeORM's own migrations table only
    const states: Snapshot[] = [await snapshot(empty)];
    for (let k = 1; k <= MIGRATIONS.length; k++) {
      const ds = await source(k);
      expect(await runMigrationsLocked(ds)).toEqual([MIGRATIONS[k - 1].name]);
      states.push(await snapshot(ds));
      await ds.destroy();
    }

    // Down, newest first: each down() must restore exactly the schema before its up().
    const all = await source(MIGRATIONS.length);
    for (let k = MIGRATIONS.length; k >= 1; k--) {
      expect(await revertLastMigrationLocked(all)).toBe(MIGRATIONS[k - 1].name);
      const diff = difference(states[k - 1], await snapshot(all));
      expect({ migration: MIGRATIONS[k - 1].name, diff }).toEqual({
        migration: MIGRATIONS[k - 1].name,
        diff: {},
      });
    }
    expect(await revertLastMigrationLocked(all)).toBeNull();

    // Up again, all at once: the same schema as the first up.
    expect(await runMigrationsLocked(all)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(difference(states[MIGRATIONS.length], await snapshot(all))).toEqual({});
    // And the schema still equals the entities (nothing left for synchronize to do).
    expect((await schemaDiff(all)).upQueries.map((q) => q.query)).toEqual([]);
  });
});
