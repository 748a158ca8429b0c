import { MigrationInterface, QueryRunner } from 'typeorm';

/** Money out and disputes: payouts and disputes of each tenant, tenant first in every key. */
export class MoneyOut1764340000000 implements MigrationInterface {
  name = 'MoneyOut1764340000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "payouts" ("tenant_id" character varying(128) NOT NULL, "id" uuid NOT NULL DEFAULT gen_random_uuid(), "stripe_account_id" character varying(255) NOT NULL, "stripe_payout_id" character varying(255) NOT NULL, "amount" bigint NOT NULL, "currency" character varying(3) NOT NULL, "status" character varying(16) NOT NULL, "method" character varying(16) NOT NULL, "automatic" boolean NOT NULL, "arrival_date" TIMESTAMP WITH TIME ZONE, "failure_code" character varying(64), "failure_message" text, "reconciliation_status" character varying(16) NOT NULL, "description" character varying(1000), "last_event_created" bigint, "last_event_id" character varying(255), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_payouts" PRIMARY KEY ("tenant_id", "id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_payouts_stripe_payout" ON "payouts" ("tenant_id", "stripe_payout_id")`,
    );
    await q.query(`CREATE INDEX "ix_payouts_tenant_created" ON "payouts" ("tenant_id", "created_at", "id")`);
    await q.query(
      `CREATE TABLE "disputes" ("tenant_id" character varying(128) NOT NULL, "id" uuid NOT NULL DEFAULT gen_random_uuid(), "stripe_dispute_id" character varying(255) NOT NULL, "stripe_account_id" character varying(255), "charge_id" character varying(255), "payment_id" uuid, "amount" bigint NOT NULL, "currency" character varying(3) NOT NULL, "reason" character varying(64) NOT NULL, "status" character varying(32) NOT NULL, "evidence_due_by" TIMESTAMP WITH TIME ZONE, "is_charge_refundable" boolean NOT NULL DEFAULT false, "evidence_submitted" boolean NOT NULL DEFAULT false, "liable" character varying(16) NOT NULL, "funds_withdrawn" bigint NOT NULL DEFAULT '0', "funds_reinstated" bigint NOT NULL DEFAULT '0', "dispute_fee" bigint NOT NULL DEFAULT '0', "recovery" jsonb NOT NULL, "reminders_sent" jsonb NOT NULL DEFAULT '[]', "last_event_created" bigint, "last_event_id" character varying(255), "closed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_disputes" PRIMARY KEY ("tenant_id", "id"))`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "uq_disputes_stripe_dispute" ON "disputes" ("tenant_id", "stripe_dispute_id")`,
    );
    await q.query(
      `CREATE INDEX "ix_disputes_tenant_created" ON "disputes" ("tenant_id", "created_at", "id")`,
    );
    await q.query(`CREATE INDEX "ix_disputes_tenant_due" ON "disputes" ("tenant_id", "evidence_due_by")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "disputes"`);
    await q.query(`DROP TABLE "payouts"`);
  }
}
