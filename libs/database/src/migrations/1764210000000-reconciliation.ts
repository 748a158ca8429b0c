import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation: runs, their per-tenant jobs with stored Stripe cursors, the objects they linked, shared platform
 * list pages, drift items.
 */
export class Reconciliation1764210000000 implements MigrationInterface {
  name = 'Reconciliation1764210000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TYPE "public"."reconciliation_run_status" AS ENUM('queued', 'running', 'completed', 'failed')`,
    );
    await q.query(
      `CREATE TABLE "reconciliation_runs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "tenant_id" character varying(128), "status" "public"."reconciliation_run_status" NOT NULL DEFAULT 'queued', "window_from" TIMESTAMP WITH TIME ZONE NOT NULL, "window_to" TIMESTAMP WITH TIME ZONE NOT NULL, "dry_run" boolean NOT NULL DEFAULT false, "grace_seconds" integer NOT NULL, "trigger" character varying(16) NOT NULL, "requested_by" character varying(255), "totals" jsonb NOT NULL DEFAULT '{}', "healed" integer NOT NULL DEFAULT '0', "new_items" integer NOT NULL DEFAULT '0', "stripe_calls" integer NOT NULL DEFAULT '0', "error" text, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_4edbdb165c9e754997036a4176a" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "ix_reconciliation_runs_created" ON "reconciliation_runs" ("created_at", "id")`,
    );
    await q.query(
      `CREATE TABLE "reconciliation_jobs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "run_id" uuid NOT NULL, "tenant_id" character varying(128) NOT NULL, "stripe_account_id" character varying(255) NOT NULL, "status" "public"."reconciliation_run_status" NOT NULL DEFAULT 'queued', "phase" character varying(32) NOT NULL DEFAULT 'pi:account', "cursor" character varying(255), "sub_cursor" character varying(255), "pages" integer NOT NULL DEFAULT '0', "stripe_calls" integer NOT NULL DEFAULT '0', "healed" integer NOT NULL DEFAULT '0', "error" text, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bfaf38b9876b3eb9191ffb77179" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_reconciliation_jobs_run_tenant" ON "reconciliation_jobs" ("run_id", "tenant_id")`,
    );
    await q.query(
      `CREATE TABLE "reconciliation_matches" ("job_id" uuid NOT NULL, "stripe_object_id" character varying(255) NOT NULL, "payment_route_id" uuid, "kind" character varying(24) NOT NULL DEFAULT 'linked', "amount" integer, CONSTRAINT "PK_e1798ae033f68699ad15793521b" PRIMARY KEY ("job_id", "stripe_object_id"))`,
    );
    await q.query(
      `CREATE INDEX "ix_reconciliation_matches_route" ON "reconciliation_matches" ("job_id", "payment_route_id")`,
    );
    await q.query(
      `CREATE TYPE "public"."reconciliation_drift_category" AS ENUM('missing_local', 'missing_stripe', 'amount_mismatch', 'currency_mismatch', 'status_mismatch', 'fee_mismatch', 'refund_mismatch', 'transfer_mismatch', 'duplicate', 'payout_unlinked')`,
    );
    await q.query(
      `CREATE TYPE "public"."reconciliation_item_status" AS ENUM('expected', 'mismatched', 'healed', 'resolved')`,
    );
    await q.query(
      `CREATE TABLE "reconciliation_items" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "run_id" uuid NOT NULL, "last_run_id" uuid NOT NULL, "tenant_id" character varying(128) NOT NULL, "scope" character varying(64) NOT NULL, "identity" character varying(600) NOT NULL, "category" "public"."reconciliation_drift_category" NOT NULL, "status" "public"."reconciliation_item_status" NOT NULL, "payment_route_id" uuid, "stripe_object_id" character varying(255), "local" jsonb NOT NULL DEFAULT '{}', "stripe" jsonb NOT NULL DEFAULT '{}', "note" text, "object_created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolved_by" character varying(255), "resolved_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_6732b25a7c254bdea87be127da6" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "ix_reconciliation_items_open" ON "reconciliation_items" ("status", "category")`,
    );
    await q.query(`CREATE INDEX "ix_reconciliation_items_run" ON "reconciliation_items" ("run_id")`);
    await q.query(
      `CREATE INDEX "ix_reconciliation_items_last_run" ON "reconciliation_items" ("last_run_id", "category", "status")`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_reconciliation_items_identity" ON "reconciliation_items" ("scope", "tenant_id", "identity")`,
    );
    await q.query(
      `CREATE TABLE "reconciliation_pages" ("run_id" uuid NOT NULL, "phase" character varying(32) NOT NULL, "cursor" character varying(255) NOT NULL, "data" jsonb, CONSTRAINT "PK_f805304d775f1b561a8ddca07bc" PRIMARY KEY ("run_id", "phase", "cursor"))`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "reconciliation_pages"`);
    await q.query(`DROP INDEX "public"."uq_reconciliation_items_identity"`);
    await q.query(`DROP INDEX "public"."ix_reconciliation_items_last_run"`);
    await q.query(`DROP INDEX "public"."ix_reconciliation_items_run"`);
    await q.query(`DROP INDEX "public"."ix_reconciliation_items_open"`);
    await q.query(`DROP TABLE "reconciliation_items"`);
    await q.query(`DROP TYPE "public"."reconciliation_item_status"`);
    await q.query(`DROP TYPE "public"."reconciliation_drift_category"`);
    await q.query(`DROP INDEX "public"."ix_reconciliation_matches_route"`);
    await q.query(`DROP TABLE "reconciliation_matches"`);
    await q.query(`DROP INDEX "public"."uq_reconciliation_jobs_run_tenant"`);
    await q.query(`DROP TABLE "reconciliation_jobs"`);
    await q.query(`DROP INDEX "public"."ix_reconciliation_runs_created"`);
    await q.query(`DROP TABLE "reconciliation_runs"`);
    await q.query(`DROP TYPE "public"."reconciliation_run_status"`);
  }
}
