import { MigrationInterface, QueryRunner } from 'typeorm';

/** Payments: our Idempotency-Key records, and Stripe's status and later facts on each PaymentRoute. */
export class Payments1764170000000 implements MigrationInterface {
  name = 'Payments1764170000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TYPE "public"."idempotency_state" AS ENUM('in_progress', 'completed')`);
    await q.query(
      `CREATE TABLE "idempotency_records" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "scope" character varying(400) NOT NULL, "key" character varying(255) NOT NULL, "request_hash" character(64) NOT NULL, "state" "public"."idempotency_state" NOT NULL DEFAULT 'in_progress', "response_status" integer, "response_body_enc" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_9ae4e93699362b0d4e3da3dd1c2" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "ix_idempotency_records_expires_at" ON "idempotency_records" ("expires_at")`);
    await q.query(
      `CREATE UNIQUE INDEX "uq_idempotency_records_scope_key" ON "idempotency_records" ("scope", "key")`,
    );
    await q.query(`ALTER TABLE "payment_routes" ADD "stripe_status" character varying(64)`);
    await q.query(`ALTER TABLE "payment_routes" ADD "stripe_details" jsonb NOT NULL DEFAULT '{}'`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_routes" DROP COLUMN "stripe_details"`);
    await q.query(`ALTER TABLE "payment_routes" DROP COLUMN "stripe_status"`);
    await q.query(`DROP INDEX "public"."uq_idempotency_records_scope_key"`);
    await q.query(`DROP INDEX "public"."ix_idempotency_records_expires_at"`);
    await q.query(`DROP TABLE "idempotency_records"`);
    await q.query(`DROP TYPE "public"."idempotency_state"`);
  }
}
