import { MigrationInterface, QueryRunner } from 'typeorm';

/** connect_accounts and payment_routes (the spec's ConnectAccount and PaymentRoute). */
export class InitialSchema1764130000000 implements MigrationInterface {
  name = 'InitialSchema1764130000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TYPE "public"."connect_account_status" AS ENUM('pending', 'active', 'restricted', 'disabled')`,
    );
    await q.query(`CREATE TYPE "public"."onboarding_method" AS ENUM('oauth', 'account_link')`);
    await q.query(`CREATE TYPE "public"."stripe_account_type" AS ENUM('standard', 'express', 'custom')`);
    await q.query(
      `CREATE TABLE "connect_accounts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" character varying(128) NOT NULL, "stripe_account_id" character varying(255) NOT NULL, "status" "public"."connect_account_status" NOT NULL DEFAULT 'pending', "onboarding_method" "public"."onboarding_method" NOT NULL, "account_type" "public"."stripe_account_type" NOT NULL, "charges_enabled" boolean NOT NULL DEFAULT false, "payouts_enabled" boolean NOT NULL DEFAULT false, "details_submitted" boolean NOT NULL DEFAULT false, "capabilities" jsonb NOT NULL DEFAULT '{}', "requirements" jsonb NOT NULL DEFAULT '{}', "livemode" boolean NOT NULL DEFAULT false, "access_token_enc" text, "refresh_token_enc" text, "oauth_scope" character varying(32), "fee_schedule" jsonb, "metadata" jsonb NOT NULL DEFAULT '{}', "last_event_created" bigint, "last_event_id" character varying(255), "synced_at" TIMESTAMP WITH TIME ZONE, "disconnected_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "version" integer NOT NULL DEFAULT '1', CONSTRAINT "PK_d61d0f70d415e876c0c5670ef05" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "uq_connect_accounts_tenant_id" ON "connect_accounts" ("tenant_id")`);
    await q.query(
      `CREATE UNIQUE INDEX "uq_connect_accounts_stripe_account_id" ON "connect_accounts" ("stripe_account_id")`,
    );
    await q.query(`CREATE TYPE "public"."payment_route_type" AS ENUM('payment', 'refund', 'subscription')`);
    await q.query(
      `CREATE TYPE "public"."payment_route_status" AS ENUM('pending', 'requires_action', 'processing', 'completed', 'failed', 'canceled')`,
    );
    await q.query(`CREATE TYPE "public"."charge_type" AS ENUM('direct', 'destination')`);
    await q.query(
      `CREATE TABLE "payment_routes" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" character varying(128) NOT NULL, "stripe_account_id" character varying(255) NOT NULL, "type" "public"."payment_route_type" NOT NULL, "status" "public"."payment_route_status" NOT NULL DEFAULT 'pending', "charge_type" "public"."charge_type", "amount" integer NOT NULL, "fee" integer NOT NULL DEFAULT '0', "currency" character(3) NOT NULL, "parent_id" uuid, "stripe_payment_intent_id" character varying(255), "stripe_object_id" character varying(255), "stripe_idempotency_key" character varying(255) NOT NULL, "failure_code" character varying(128), "failure_message" text, "description" character varying(1000), "metadata" jsonb NOT NULL DEFAULT '{}', "last_event_created" bigint, "last_event_id" character varying(255), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "version" integer NOT NULL DEFAULT '1', CONSTRAINT "PK_832a808eb5307ed523e9f637b81" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "ix_payment_routes_stripe_account_id" ON "payment_routes" ("stripe_account_id")`,
    );
    await q.query(`CREATE INDEX "ix_payment_routes_parent_id" ON "payment_routes" ("parent_id")`);
    await q.query(
      `CREATE UNIQUE INDEX "uq_payment_routes_payment_intent" ON "payment_routes" ("stripe_payment_intent_id") WHERE stripe_payment_intent_id IS NOT NULL AND type = 'payment'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_payment_routes_stripe_object" ON "payment_routes" ("stripe_object_id") WHERE stripe_object_id IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_payment_routes_stripe_idempotency_key" ON "payment_routes" ("stripe_idempotency_key")`,
    );
    await q.query(
      `CREATE INDEX "ix_payment_routes_tenant_created" ON "payment_routes" ("tenant_id", "created_at", "id")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_payment_routes_tenant_created"`);
    await q.query(`DROP INDEX "public"."uq_payment_routes_stripe_idempotency_key"`);
    await q.query(`DROP INDEX "public"."uq_payment_routes_stripe_object"`);
    await q.query(`DROP INDEX "public"."uq_payment_routes_payment_intent"`);
    await q.query(`DROP INDEX "public"."ix_payment_routes_parent_id"`);
    await q.query(`DROP INDEX "public"."ix_payment_routes_stripe_account_id"`);
    await q.query(`DROP TABLE "payment_routes"`);
    await q.query(`DROP TYPE "public"."charge_type"`);
    await q.query(`DROP TYPE "public"."payment_route_status"`);
    await q.query(`DROP TYPE "public"."payment_route_type"`);
    await q.query(`DROP INDEX "public"."uq_connect_accounts_stripe_account_id"`);
    await q.query(`DROP INDEX "public"."uq_connect_accounts_tenant_id"`);
    await q.query(`DROP TABLE "connect_accounts"`);
    await q.query(`DROP TYPE "public"."stripe_account_type"`);
    await q.query(`DROP TYPE "public"."onboarding_method"`);
    await q.query(`DROP TYPE "public"."connect_account_status"`);
  }
}
