import { MigrationInterface, QueryRunner } from 'typeorm';

/** Accounts v2 columns on connect_accounts, requirement_notices (sharded by tenant) and event_destinations (reference). */
export class AccountsV21764320000000 implements MigrationInterface {
  name = 'AccountsV21764320000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE "connect_accounts" ADD "api_version" character varying(2) NOT NULL DEFAULT 'v1',
         ADD "configurations" jsonb NOT NULL DEFAULT '{}', ADD "dashboard" character varying(16),
         ADD "responsibilities" jsonb, ADD "requirement_entries" jsonb NOT NULL DEFAULT '[]',
         ADD "next_deadline" TIMESTAMP WITH TIME ZONE`,
    );
    await q.query(
      `CREATE INDEX "ix_connect_accounts_next_deadline" ON "connect_accounts" ("next_deadline", "tenant_id") WHERE "next_deadline" IS NOT NULL`,
    );
    await q.query(
      `CREATE TABLE "requirement_notices" ("tenant_id" character varying(128) NOT NULL, "stripe_account_id" character varying(255) NOT NULL, "field" character varying(255) NOT NULL, "deadline" TIMESTAMP WITH TIME ZONE NOT NULL, "offset" character varying(16) NOT NULL, "connect_event_id" uuid, "sent_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_requirement_notices" PRIMARY KEY ("tenant_id", "stripe_account_id", "field", "deadline", "offset"))`,
    );
    await q.query(
      `CREATE TABLE "event_destinations" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "stripe_destination_id" character varying(255) NOT NULL, "name" character varying(255) NOT NULL, "url" character varying(2048) NOT NULL, "enabled_events" jsonb NOT NULL DEFAULT '[]', "status" character varying(16) NOT NULL, "secret_enc" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_event_destinations_id" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_event_destinations_stripe_id" ON "event_destinations" ("stripe_destination_id")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."uq_event_destinations_stripe_id"`);
    await q.query(`DROP TABLE "event_destinations"`);
    await q.query(`DROP TABLE "requirement_notices"`);
    await q.query(`DROP INDEX "public"."ix_connect_accounts_next_deadline"`);
    await q.query(
      `ALTER TABLE "connect_accounts" DROP COLUMN "next_deadline", DROP COLUMN "requirement_entries",
         DROP COLUMN "responsibilities", DROP COLUMN "dashboard", DROP COLUMN "configurations", DROP COLUMN "api_version"`,
    );
  }
}
