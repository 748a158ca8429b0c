import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where Citus is installed in this database (`CREATE EXTENSION citus`), spreads the tables over its workers
 * (docs/sharding.md): tenant tables hash-distributed by tenant_id in one co-location group, so a tenant's rows sit
 * together and its statements run on one worker; the webhook inbox by Stripe's event id; the audit log by its
 * id; small global tables copied to every node; the job queue and coordinator-only tables left local. A no-op on
 * plain PostgreSQL. https://docs.citusdata.com/en/stable/develop/migration.html
 */
export class CitusDistribution1764380000001 implements MigrationInterface {
  name = 'CitusDistribution1764380000001';

  public async up(q: QueryRunner): Promise<void> {
    if (!(await citusInstalled(q))) return;
    // Triggers on distributed tables run on the shards; ours write only co-located rows or only raise.
    await q.query(`SET LOCAL citus.enable_unsafe_triggers = on`);
    // Citus runs TRUNCATE on the shards itself; the rollups are emptied by their own TRUNCATE.
    await q.query(`DROP TRIGGER "analytics_rollup_route_truncate" ON "payment_routes"`);
    // Triggers come off while the tables move (their rows are copied into shards on workers that do not have the
    // trigger functions yet) and go back on once the functions are on every node.
    const triggers = await triggersOf(q);
    for (const t of triggers) await q.query(`DROP TRIGGER "${t.tgname}" ON "${t.rel}"`);
    for (const table of REFERENCE_TABLES) await q.query(`SELECT create_reference_table($1)`, [table]);
    // A local table may not reference a distributed one, even for a moment: the tenant tables' own foreign keys
    // are set aside while they are distributed, then added back (checked again, shard by shard).
    const keys = (await q.query(
      `SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE contype = 'f' AND conrelid::regclass::text = ANY($1) AND confrelid::regclass::text = ANY($1)`,
      [TENANT_TABLES],
    )) as Array<{ rel: string; conname: string; def: string }>;
    for (const k of keys) await q.query(`ALTER TABLE "${k.rel}" DROP CONSTRAINT "${k.conname}"`);
    for (const table of TENANT_TABLES) {
      await q.query(`SELECT create_distributed_table($1, 'tenant_id', colocate_with => $2)`, [
        table,
        table === TENANT_TABLES[0] ? 'none' : TENANT_TABLES[0],
      ]);
    }
    for (const k of keys) await q.query(`ALTER TABLE "${k.rel}" ADD CONSTRAINT "${k.conname}" ${k.def}`);
    for (const [table, column] of OWN_KEY_TABLES) {
      await q.query(`SELECT create_distributed_table($1, $2, colocate_with => 'none')`, [table, column]);
    }
    // After the tables: a function taking a table's row type can only follow that table onto the workers.
    for (const fn of TRIGGER_FUNCTIONS) await q.query(`SELECT create_distributed_function($1)`, [fn]);
    for (const t of triggers) await q.query(t.def);
  }

  public async down(q: QueryRunner): Promise<void> {
    if (!(await citusInstalled(q))) return;
    // Every undistribute_table of this transaction reads shards over one connection per worker.
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    await q.query(`SET LOCAL citus.enable_unsafe_triggers = on`);
    // undistribute_table recreates each table, taking along what depends on its row type (the trigger functions):
    // they are kept here and put back as they were.
    const functions = (await q.query(
      `SELECT p::text AS sig, pg_get_functiondef(p) AS def FROM unnest($1::regprocedure[]) p`,
      [TRIGGER_FUNCTIONS],
    )) as Array<{ sig: string; def: string }>;
    const triggers = await triggersOf(q);
    for (const t of triggers) await q.query(`DROP TRIGGER "${t.tgname}" ON "${t.rel}"`);
    const tables = [...OWN_KEY_TABLES.map(([t]) => t), ...[...TENANT_TABLES].reverse(), ...REFERENCE_TABLES];
    for (const table of tables) {
      const distributed = (await q.query(
        `SELECT 1 FROM pg_dist_partition WHERE logicalrelid = to_regclass($1)`,
        [table],
      )) as unknown[];
      if (distributed.length)
        await q.query(`SELECT undistribute_table($1, cascade_via_foreign_keys => true)`, [table]);
    }
    for (const f of functions) await q.query(f.def.replace(/^CREATE FUNCTION/, 'CREATE OR REPLACE FUNCTION'));
    for (const t of triggers) await q.query(t.def);
    await q.query(
      `CREATE TRIGGER analytics_rollup_route_truncate AFTER TRUNCATE ON "payment_routes" FOR EACH STATEMENT EXECUTE FUNCTION analytics_rollup_route()`,
    );
  }
}

/** The triggers of the tables that move (all ours: analytics on payment_routes, append-only on audit_log). */
async function triggersOf(q: QueryRunner): Promise<Array<{ rel: string; tgname: string; def: string }>> {
  return (await q.query(
    `SELECT tgrelid::regclass::text AS rel, tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger
      WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY($1) ORDER BY tgrelid::regclass::text, tgname`,
    [[...TENANT_TABLES, ...OWN_KEY_TABLES.map(([t]) => t), ...REFERENCE_TABLES]],
  )) as Array<{ rel: string; tgname: string; def: string }>;
}

async function citusInstalled(q: QueryRunner): Promise<boolean> {
  const rows = (await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`)) as unknown[];
  return rows.length > 0;
}

/** Distributed by tenant_id, co-located with the first: joins and foreign keys among them stay on one worker. */
export const TENANT_TABLES = [
  'payment_routes',
  'analytics_rollup_deltas',
  'analytics_rollups_hourly',
  'analytics_rollups_daily',
  'connect_events',
  'event_deliveries',
  'event_delivery_attempts',
  'idempotency_records',
  'auth_revocations',
  'payouts',
  'disputes',
  'requirement_notices',
];

/** Distributed by a key of their own: intake of a webhook may not know its tenant; audit rows may have none. */
export const OWN_KEY_TABLES: Array<[string, string]> = [
  ['stripe_webhook_events', 'stripe_event_id'],
  ['audit_log', 'id'],
];

/** Small, read everywhere, joined with tenant tables: a copy on every node. */
export const REFERENCE_TABLES = [
  'connect_accounts',
  'event_subscriptions',
  'api_keys',
  'event_destinations',
  'analytics_platform_rollups_hourly',
  'analytics_platform_rollups_daily',
];

/** Run on the workers by the shards' triggers, so they exist there too. */
const TRIGGER_FUNCTIONS = [
  'analytics_simple_contribution(payment_routes)',
  'analytics_route_contributions(payment_routes)',
  'analytics_rollup_route()',
  'audit_log_append_only()',
];

/**
 * Left on the coordinator: the job queue (pg-boss), short-lived OAuth states, the versioned routing rules and the
 * reconciliation runs, read by id or by whole run.
 */
export const LOCAL_TABLES = [
  'oauth_states',
  'routing_rule_sets',
  'reconciliation_runs',
  'reconciliation_jobs',
  'reconciliation_items',
  'reconciliation_matches',
  'reconciliation_pages',
];
