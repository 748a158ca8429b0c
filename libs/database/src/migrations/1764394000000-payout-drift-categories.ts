import { MigrationInterface, QueryRunner } from 'typeorm';

const BEFORE = [
  'missing_local',
  'missing_stripe',
  'amount_mismatch',
  'currency_mismatch',
  'status_mismatch',
  'fee_mismatch',
  'refund_mismatch',
  'transfer_mismatch',
  'duplicate',
  'payout_unlinked',
];
const PAYOUT = ['payout_missing', 'payout_status', 'payout_amount', 'payout_sum'];

/** What a payout item was called before payouts had categories of their own (for down). */
const BACK = `CASE "category"::text WHEN 'payout_missing' THEN 'missing_local' WHEN 'payout_status' THEN 'status_mismatch'
  WHEN 'payout_amount' THEN 'amount_mismatch' WHEN 'payout_sum' THEN 'amount_mismatch' ELSE "category"::text END`;

const labels = (values: string[]): string => values.map((v) => `'${v}'`).join(', ');

/**
 * Payout drift gets categories of its own (payout_missing, payout_status, payout_amount, payout_sum) instead of
 * sharing the payments' ones. The type is recreated rather than extended so that the whole change is one
 * transaction and down restores the type exactly.
 */
export class PayoutDriftCategories1764394000000 implements MigrationInterface {
  name = 'PayoutDriftCategories1764394000000';

  public async up(q: QueryRunner): Promise<void> {
    await this.retype(q, [...BEFORE, ...PAYOUT], `"category"::text`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await this.retype(q, BEFORE, BACK);
  }

  private async retype(q: QueryRunner, values: string[], using: string): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_reconciliation_items_open"`);
    await q.query(`DROP INDEX "public"."ix_reconciliation_items_last_run"`);
    await q.query(
      `ALTER TYPE "public"."reconciliation_drift_category" RENAME TO "reconciliation_drift_category_old"`,
    );
    await q.query(`CREATE TYPE "public"."reconciliation_drift_category" AS ENUM(${labels(values)})`);
    await q.query(
      `ALTER TABLE "reconciliation_items" ALTER COLUMN "category" TYPE "public"."reconciliation_drift_category" USING (${using})::"public"."reconciliation_drift_category"`,
    );
    await q.query(`DROP TYPE "public"."reconciliation_drift_category_old"`);
    await q.query(
      `CREATE INDEX "ix_reconciliation_items_open" ON "reconciliation_items" ("status", "category")`,
    );
    await q.query(
      `CREATE INDEX "ix_reconciliation_items_last_run" ON "reconciliation_items" ("last_run_id", "category", "status")`,
    );
  }
}
