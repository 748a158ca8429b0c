import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What routing records on a payment route: the deciding rule set, version and rule, every attempt, the transfer
 * group of separate charges, and the `separate` charge type and `transfer` route type of split payments.
 */
export class RoutingColumns1764190000000 implements MigrationInterface {
  name = 'RoutingColumns1764190000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TYPE "public"."charge_type" ADD VALUE IF NOT EXISTS 'separate'`);
    await q.query(`ALTER TYPE "public"."payment_route_type" ADD VALUE IF NOT EXISTS 'transfer'`);
    await q.query(`ALTER TABLE "payment_routes" ADD "routing_rule_set_id" uuid`);
    await q.query(`ALTER TABLE "payment_routes" ADD "routing_version" integer`);
    await q.query(`ALTER TABLE "payment_routes" ADD "routing_rule" character varying(200)`);
    await q.query(`ALTER TABLE "payment_routes" ADD "attempts" jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`ALTER TABLE "payment_routes" ADD "transfer_group" character varying(255)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_routes" DROP COLUMN "transfer_group"`);
    await q.query(`ALTER TABLE "payment_routes" DROP COLUMN "attempts"`);
    await q.query(`ALTER TABLE "payment_routes" DROP COLUMN "routing_rule"`);
    await q.query(`ALTER TABLE "payment_routes" DROP COLUMN "routing_version"`);
    await q.query(`ALTER TABLE "payment_routes" DROP COLUMN "routing_rule_set_id"`);
    // PostgreSQL cannot drop an enum value: rebuild each type without it (rows using it must be gone first).
    await q.query(`DELETE FROM "payment_routes" WHERE "type" = 'transfer' OR "charge_type" = 'separate'`);
    // The partial unique index's predicate compares against the type: rebuilt around the type change.
    await q.query(`DROP INDEX "public"."uq_payment_routes_payment_intent"`);
    await q.query(`ALTER TYPE "public"."payment_route_type" RENAME TO "payment_route_type_old"`);
    await q.query(`CREATE TYPE "public"."payment_route_type" AS ENUM('payment', 'refund', 'subscription')`);
    await q.query(
      `ALTER TABLE "payment_routes" ALTER COLUMN "type" TYPE "public"."payment_route_type" USING "type"::text::"public"."payment_route_type"`,
    );
    await q.query(`DROP TYPE "public"."payment_route_type_old"`);
    await q.query(
      `CREATE UNIQUE INDEX "uq_payment_routes_payment_intent" ON "payment_routes" ("stripe_payment_intent_id") WHERE stripe_payment_intent_id IS NOT NULL AND type = 'payment'`,
    );
    await q.query(`ALTER TYPE "public"."charge_type" RENAME TO "charge_type_old"`);
    await q.query(`CREATE TYPE "public"."charge_type" AS ENUM('direct', 'destination')`);
    await q.query(
      `ALTER TABLE "payment_routes" ALTER COLUMN "charge_type" TYPE "public"."charge_type" USING "charge_type"::text::"public"."charge_type"`,
    );
    await q.query(`DROP TYPE "public"."charge_type_old"`);
  }
}
