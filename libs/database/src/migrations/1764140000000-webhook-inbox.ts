import { MigrationInterface, QueryRunner } from 'typeorm';

/** stripe_webhook_events: the durable webhook inbox (intake and processing). */
export class WebhookInbox1764140000000 implements MigrationInterface {
  name = 'WebhookInbox1764140000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TYPE "public"."stripe_webhook_event_status" AS ENUM('received', 'processed', 'failed', 'dead', 'unmatched', 'ignored')`,
    );
    await q.query(
      `CREATE TYPE "public"."stripe_webhook_event_source" AS ENUM('webhook', 'backfill', 'replay')`,
    );
    await q.query(
      `CREATE TABLE "stripe_webhook_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "stripe_event_id" character varying(255) NOT NULL, "type" character varying(255) NOT NULL, "stripe_account_id" character varying(255), "tenant_id" character varying(128), "livemode" boolean NOT NULL, "api_version" character varying(64), "event_created" bigint NOT NULL, "payload" jsonb NOT NULL, "status" "public"."stripe_webhook_event_status" NOT NULL DEFAULT 'received', "outcome" text, "attempts" integer NOT NULL DEFAULT '0', "last_error" text, "source" "public"."stripe_webhook_event_source" NOT NULL DEFAULT 'webhook', "received_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), "processed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_0cf13fd3f2ff5604e092bc1ff48" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_stripe_webhook_events_stripe_event_id" ON "stripe_webhook_events" ("stripe_event_id")`,
    );
    await q.query(
      `CREATE INDEX "ix_stripe_webhook_events_status_received" ON "stripe_webhook_events" ("status", "received_at")`,
    );
    await q.query(
      `CREATE INDEX "ix_stripe_webhook_events_tenant_received" ON "stripe_webhook_events" ("tenant_id", "received_at", "id")`,
    );
    await q.query(
      `CREATE INDEX "ix_stripe_webhook_events_received" ON "stripe_webhook_events" ("received_at", "id")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_stripe_webhook_events_received"`);
    await q.query(`DROP INDEX "public"."ix_stripe_webhook_events_tenant_received"`);
    await q.query(`DROP INDEX "public"."ix_stripe_webhook_events_status_received"`);
    await q.query(`DROP INDEX "public"."uq_stripe_webhook_events_stripe_event_id"`);
    await q.query(`DROP TABLE "stripe_webhook_events"`);
    await q.query(`DROP TYPE "public"."stripe_webhook_event_source"`);
    await q.query(`DROP TYPE "public"."stripe_webhook_event_status"`);
  }
}
