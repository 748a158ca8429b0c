import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shardable keys, on plain PostgreSQL as on Citus (docs/sharding.md): the tenant in the primary key, every unique
 * key and every foreign key of tenant data, and a tenant column where a tenant table lacked one (filled from
 * the row it belongs to). The webhook inbox is keyed by Stripe's event id, which intake always knows. Nothing is
 * distributed here: the next migration does that, and only where Citus is installed.
 */
export class ShardingKeys1764380000000 implements MigrationInterface {
  name = 'ShardingKeys1764380000000';

  public async up(q: QueryRunner): Promise<void> {
    // Foreign keys that lean on the id-only primary keys go first; they come back with the tenant in them.
    await q.query(`ALTER TABLE "event_deliveries" DROP CONSTRAINT "FK_1f3b9428cd104607cc88049c197"`);
    await q.query(`ALTER TABLE "event_delivery_attempts" DROP CONSTRAINT "FK_2cd86845c9bcfa59363fa755522"`);

    // Tenant columns where they were missing, filled from the owning row.
    await q.query(`ALTER TABLE "event_delivery_attempts" ADD "tenant_id" character varying(128)`);
    await q.query(
      `UPDATE "event_delivery_attempts" a SET "tenant_id" = d."tenant_id" FROM "event_deliveries" d WHERE d."id" = a."delivery_id"`,
    );
    await q.query(`ALTER TABLE "event_delivery_attempts" ALTER COLUMN "tenant_id" SET NOT NULL`);
    // The scope is the caller's sub, "|", the tenant (PaymentsController).
    await q.query(`ALTER TABLE "idempotency_records" ADD "tenant_id" character varying(128)`);
    await q.query(`UPDATE "idempotency_records" SET "tenant_id" = regexp_replace("scope", '^.*[|]', '')`);
    await q.query(`ALTER TABLE "idempotency_records" ALTER COLUMN "tenant_id" SET NOT NULL`);

    for (const [table, from, to] of PRIMARY_KEYS) {
      await q.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${from.name}"`);
      await q.query(`ALTER TABLE "${table}" ADD CONSTRAINT "${to.name}" PRIMARY KEY (${to.columns})`);
    }

    for (const [name, table, , to] of UNIQUE_INDEXES) {
      await q.query(`DROP INDEX "public"."${name}"`);
      await q.query(`CREATE UNIQUE INDEX "${name}" ON "${table}" ${to}`);
    }
    await q.query(
      `ALTER TABLE "event_deliveries" DROP CONSTRAINT "uq_event_deliveries_event_subscription", ADD CONSTRAINT "uq_event_deliveries_event_subscription" UNIQUE ("event_id", "subscription_id", "tenant_id")`,
    );
    await q.query(
      `ALTER TABLE "event_delivery_attempts" DROP CONSTRAINT "uq_event_delivery_attempts_delivery_attempt", ADD CONSTRAINT "uq_event_delivery_attempts_delivery_attempt" UNIQUE ("delivery_id", "attempt_no", "tenant_id")`,
    );

    await q.query(
      `ALTER TABLE "event_deliveries" ADD CONSTRAINT "FK_fee8a7808d8099f226cbba2d941" FOREIGN KEY ("tenant_id", "event_id") REFERENCES "connect_events"("tenant_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "event_delivery_attempts" ADD CONSTRAINT "FK_f5eb13dd14bb11169fb60c84925" FOREIGN KEY ("tenant_id", "delivery_id") REFERENCES "event_deliveries"("tenant_id","id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "event_delivery_attempts" DROP CONSTRAINT "FK_f5eb13dd14bb11169fb60c84925"`);
    await q.query(`ALTER TABLE "event_deliveries" DROP CONSTRAINT "FK_fee8a7808d8099f226cbba2d941"`);
    await q.query(
      `ALTER TABLE "event_delivery_attempts" DROP CONSTRAINT "uq_event_delivery_attempts_delivery_attempt", ADD CONSTRAINT "uq_event_delivery_attempts_delivery_attempt" UNIQUE ("delivery_id", "attempt_no")`,
    );
    await q.query(
      `ALTER TABLE "event_deliveries" DROP CONSTRAINT "uq_event_deliveries_event_subscription", ADD CONSTRAINT "uq_event_deliveries_event_subscription" UNIQUE ("event_id", "subscription_id")`,
    );
    // Fails, naming the index, if tenants now share a key that used to be global: resolve those rows first.
    for (const [name, table, from] of [...UNIQUE_INDEXES].reverse()) {
      await q.query(`DROP INDEX "public"."${name}"`);
      await q.query(`CREATE UNIQUE INDEX "${name}" ON "${table}" ${from}`);
    }
    for (const [table, from, to] of [...PRIMARY_KEYS].reverse()) {
      await q.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${to.name}"`);
      await q.query(`ALTER TABLE "${table}" ADD CONSTRAINT "${from.name}" PRIMARY KEY (${from.columns})`);
    }
    await q.query(`ALTER TABLE "idempotency_records" DROP COLUMN "tenant_id"`);
    await q.query(`ALTER TABLE "event_delivery_attempts" DROP COLUMN "tenant_id"`);
    await q.query(
      `ALTER TABLE "event_deliveries" ADD CONSTRAINT "FK_1f3b9428cd104607cc88049c197" FOREIGN KEY ("event_id") REFERENCES "connect_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "event_delivery_attempts" ADD CONSTRAINT "FK_2cd86845c9bcfa59363fa755522" FOREIGN KEY ("delivery_id") REFERENCES "event_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }
}

interface Key {
  name: string;
  columns: string;
}

const ID: string = '"id"';
// The id stays first, so every lookup by id alone keeps its index; the tenant completes the key.
const TENANT_ID: string = '"id", "tenant_id"';

/** Table, primary key before, primary key after (names as TypeORM derives them from the entities). */
const PRIMARY_KEYS: Array<[string, Key, Key]> = [
  [
    'connect_accounts',
    { name: 'PK_d61d0f70d415e876c0c5670ef05', columns: ID },
    { name: 'PK_813dbe8c83c1cc78374de4e9fb2', columns: TENANT_ID },
  ],
  [
    'payment_routes',
    { name: 'PK_832a808eb5307ed523e9f637b81', columns: ID },
    { name: 'PK_2c85b2d5031482c772d5189fed6', columns: TENANT_ID },
  ],
  [
    'connect_events',
    { name: 'PK_43abed673cdef8ab0c1f37ad8a0', columns: ID },
    { name: 'PK_5632aa8fac3dc5b7f51e7882159', columns: TENANT_ID },
  ],
  [
    'event_deliveries',
    { name: 'PK_ca0ffb54b343624dfb988080657', columns: ID },
    { name: 'PK_306a8866970ce7b97b26f2bd2f1', columns: TENANT_ID },
  ],
  [
    'event_delivery_attempts',
    { name: 'PK_5d73114e05825a522d498818f8c', columns: ID },
    { name: 'PK_86490050456a591964f402d3fa7', columns: TENANT_ID },
  ],
  [
    'idempotency_records',
    { name: 'PK_9ae4e93699362b0d4e3da3dd1c2', columns: ID },
    { name: 'PK_73f9f12ed6af22c565cfb02ff64', columns: TENANT_ID },
  ],
  [
    'analytics_rollup_deltas',
    { name: 'PK_543f62177bb1c2c3648b139c109', columns: ID },
    { name: 'PK_49eca5cf91f9deb8c76d8100e04', columns: TENANT_ID },
  ],
  [
    'stripe_webhook_events',
    { name: 'PK_0cf13fd3f2ff5604e092bc1ff48', columns: ID },
    { name: 'PK_88960aa16a2bb10a350708765ae', columns: '"id", "stripe_event_id"' },
  ],
];

/** Unique index, table, definition before, definition after (the tenant last: lookups without it keep the index). */
const UNIQUE_INDEXES: Array<[string, string, string, string]> = [
  [
    'uq_payment_routes_payment_intent',
    'payment_routes',
    `("stripe_payment_intent_id") WHERE stripe_payment_intent_id IS NOT NULL AND type = 'payment'`,
    `("stripe_payment_intent_id", "tenant_id") WHERE stripe_payment_intent_id IS NOT NULL AND type = 'payment'`,
  ],
  [
    'uq_payment_routes_stripe_object',
    'payment_routes',
    `("stripe_object_id") WHERE stripe_object_id IS NOT NULL`,
    `("stripe_object_id", "tenant_id") WHERE stripe_object_id IS NOT NULL`,
  ],
  [
    'uq_payment_routes_stripe_idempotency_key',
    'payment_routes',
    `("stripe_idempotency_key")`,
    `("stripe_idempotency_key", "tenant_id")`,
  ],
  [
    'uq_idempotency_records_scope_key',
    'idempotency_records',
    `("scope", "key")`,
    `("scope", "key", "tenant_id")`,
  ],
];
