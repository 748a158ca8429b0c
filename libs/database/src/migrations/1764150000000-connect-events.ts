import { MigrationInterface, QueryRunner } from 'typeorm';

/** connect_events (the outbox), event_subscriptions, event_deliveries and their attempt log. */
export class ConnectEvents1764150000000 implements MigrationInterface {
  name = 'ConnectEvents1764150000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "connect_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "type" character varying(64) NOT NULL, "tenant_id" character varying(128) NOT NULL, "data" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_43abed673cdef8ab0c1f37ad8a0" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "ix_connect_events_created" ON "connect_events" ("created_at", "id")`);
    await q.query(
      `CREATE INDEX "ix_connect_events_tenant_created" ON "connect_events" ("tenant_id", "created_at", "id")`,
    );
    await q.query(`CREATE TYPE "public"."event_subscription_status" AS ENUM('active', 'disabled')`);
    await q.query(
      `CREATE TABLE "event_subscriptions" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" character varying(128), "url" character varying(2048) NOT NULL, "event_types" text array NOT NULL, "description" character varying(500), "secret_enc" text NOT NULL, "status" "public"."event_subscription_status" NOT NULL DEFAULT 'active', "disabled_reason" text, "disabled_at" TIMESTAMP WITH TIME ZONE, "consecutive_failures" integer NOT NULL DEFAULT '0', "created_by" character varying(255), "deleted_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9e4944140dfbdb8a75c8f3d9bce" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "ix_event_subscriptions_tenant_created" ON "event_subscriptions" ("tenant_id", "created_at", "id")`,
    );
    await q.query(`CREATE TYPE "public"."event_delivery_status" AS ENUM('pending', 'succeeded', 'failed')`);
    await q.query(
      `CREATE TABLE "event_deliveries" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "event_id" uuid NOT NULL, "subscription_id" uuid NOT NULL, "tenant_id" character varying(128) NOT NULL, "status" "public"."event_delivery_status" NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT '0', "round" integer NOT NULL DEFAULT '1', "next_attempt_at" TIMESTAMP WITH TIME ZONE, "last_status_code" integer, "last_error" text, "delivered_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_event_deliveries_event_subscription" UNIQUE ("event_id", "subscription_id"), CONSTRAINT "PK_ca0ffb54b343624dfb988080657" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "ix_event_deliveries_subscription_id" ON "event_deliveries" ("subscription_id")`,
    );
    await q.query(
      `CREATE INDEX "ix_event_deliveries_pending" ON "event_deliveries" ("status") WHERE status = 'pending'`,
    );
    await q.query(
      `CREATE TABLE "event_delivery_attempts" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "delivery_id" uuid NOT NULL, "attempt_no" integer NOT NULL, "status_code" integer, "duration_ms" integer NOT NULL, "error" text, "response_body" character varying(1024), "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_event_delivery_attempts_delivery_attempt" UNIQUE ("delivery_id", "attempt_no"), CONSTRAINT "PK_5d73114e05825a522d498818f8c" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `ALTER TABLE "event_deliveries" ADD CONSTRAINT "FK_1f3b9428cd104607cc88049c197" FOREIGN KEY ("event_id") REFERENCES "connect_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "event_deliveries" ADD CONSTRAINT "FK_8f934b935b3f1a4c5df2006b955" FOREIGN KEY ("subscription_id") REFERENCES "event_subscriptions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "event_delivery_attempts" ADD CONSTRAINT "FK_2cd86845c9bcfa59363fa755522" FOREIGN KEY ("delivery_id") REFERENCES "event_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "event_delivery_attempts" DROP CONSTRAINT "FK_2cd86845c9bcfa59363fa755522"`);
    await q.query(`ALTER TABLE "event_deliveries" DROP CONSTRAINT "FK_8f934b935b3f1a4c5df2006b955"`);
    await q.query(`ALTER TABLE "event_deliveries" DROP CONSTRAINT "FK_1f3b9428cd104607cc88049c197"`);
    await q.query(`DROP TABLE "event_delivery_attempts"`);
    await q.query(`DROP INDEX "public"."ix_event_deliveries_pending"`);
    await q.query(`DROP INDEX "public"."ix_event_deliveries_subscription_id"`);
    await q.query(`DROP TABLE "event_deliveries"`);
    await q.query(`DROP TYPE "public"."event_delivery_status"`);
    await q.query(`DROP INDEX "public"."ix_event_subscriptions_tenant_created"`);
    await q.query(`DROP TABLE "event_subscriptions"`);
    await q.query(`DROP TYPE "public"."event_subscription_status"`);
    await q.query(`DROP INDEX "public"."ix_connect_events_tenant_created"`);
    await q.query(`DROP INDEX "public"."ix_connect_events_created"`);
    await q.query(`DROP TABLE "connect_events"`);
  }
}
