import { MigrationInterface, QueryRunner } from 'typeorm';

/** JWT revocations (session management): the source of truth every replica's in-memory copy is read from. */
export class AuthRevocations1764350000000 implements MigrationInterface {
  name = 'AuthRevocations1764350000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "auth_revocations" ("tenant_id" character varying(128) NOT NULL, "id" uuid NOT NULL DEFAULT gen_random_uuid(), "kind" character varying(8) NOT NULL, "value" character varying(255), "issued_before" TIMESTAMP(3) WITH TIME ZONE, "expires_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL, "reason" character varying(500), "created_by" character varying(255) NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_auth_revocations" PRIMARY KEY ("tenant_id", "id"), CONSTRAINT "CK_auth_revocations_kind" CHECK ("kind" IN ('jti', 'sid', 'sub', 'tenant')))`,
    );
    await q.query(`CREATE INDEX "ix_auth_revocations_created" ON "auth_revocations" ("created_at", "id")`);
    await q.query(
      `CREATE INDEX "ix_auth_revocations_tenant_created" ON "auth_revocations" ("tenant_id", "created_at", "id")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."ix_auth_revocations_tenant_created"`);
    await q.query(`DROP INDEX "public"."ix_auth_revocations_created"`);
    await q.query(`DROP TABLE "auth_revocations"`);
  }
}
