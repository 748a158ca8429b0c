import { MigrationInterface, QueryRunner } from 'typeorm';

/** The account's payout schedule as Stripe holds it, and the tenant's dispute recovery setting. */
export class AccountMoneySettings1764340000001 implements MigrationInterface {
  name = 'AccountMoneySettings1764340000001';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "connect_accounts" ADD "payout_schedule" jsonb`);
    await q.query(`ALTER TABLE "connect_accounts" ADD "dispute_recovery" character varying(32)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "connect_accounts" DROP COLUMN "dispute_recovery"`);
    await q.query(`ALTER TABLE "connect_accounts" DROP COLUMN "payout_schedule"`);
  }
}
