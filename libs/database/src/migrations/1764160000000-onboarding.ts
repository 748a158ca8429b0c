import { MigrationInterface, QueryRunner } from 'typeorm';

/** oauth_states (single-use, hashed OAuth state) and connect_accounts.connected_at. */
export class Onboarding1764160000000 implements MigrationInterface {
  name = 'Onboarding1764160000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TYPE "public"."oauth_outcome" AS ENUM('connected', 'declined', 'conflict', 'failed')`,
    );
    await q.query(
      `CREATE TABLE "oauth_states" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "state_hash" character(64) NOT NULL, "tenant_id" character varying(128) NOT NULL, "caller_sub" character varying(255) NOT NULL, "redirect_uri" character varying(2048) NOT NULL, "scope" character varying(16) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, "outcome" "public"."oauth_outcome", "error" character varying(1000), "stripe_account_id" character varying(255), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_oauth_states_id" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "uq_oauth_states_state_hash" ON "oauth_states" ("state_hash")`);
    await q.query(`CREATE INDEX "ix_oauth_states_expires_at" ON "oauth_states" ("expires_at")`);
    await q.query(
      `CREATE INDEX "ix_oauth_states_tenant_created" ON "oauth_states" ("tenant_id", "created_at")`,
    );
    await q.query(`ALTER TABLE "connect_accounts" ADD "connected_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "connect_accounts" DROP COLUMN "connected_at"`);
    await q.query(`DROP INDEX "public"."ix_oauth_states_tenant_created"`);
    await q.query(`DROP INDEX "public"."ix_oauth_states_expires_at"`);
    await q.query(`DROP INDEX "public"."uq_oauth_states_state_hash"`);
    await q.query(`DROP TABLE "oauth_states"`);
    await q.query(`DROP TYPE "public"."oauth_outcome"`);
  }
}
