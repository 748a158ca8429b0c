import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A dispute's `payment_id` becomes a foreign key to its PaymentRoute, with the tenant in it: both tables are
 * distributed by tenant_id in one co-location group, so Citus checks it on the shard (docs/sharding.md). A
 * dispute of a charge that is not ours keeps a null link; a link to no route (none is written) is cleared first.
 */
export class DisputeRouteLink1764394000001 implements MigrationInterface {
  name = 'DisputeRouteLink1764394000001';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE "disputes" d SET "payment_id" = NULL WHERE d."payment_id" IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM "payment_routes" r WHERE r."tenant_id" = d."tenant_id" AND r."id" = d."payment_id")`,
    );
    await q.query(
      `ALTER TABLE "disputes" ADD CONSTRAINT "FK_fc716fafc499e4a0513e8ffac0d" FOREIGN KEY ("tenant_id", "payment_id") REFERENCES "payment_routes"("tenant_id","id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "disputes" DROP CONSTRAINT "FK_fc716fafc499e4a0513e8ffac0d"`);
  }
}
