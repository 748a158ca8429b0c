import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Security: hashed API keys and the append-only audit log. The trigger makes "append-only" a database
 * fact rather than a code convention: UPDATE and TRUNCATE always fail, DELETE only inside a transaction that ran
 * `SET LOCAL connect.retention = 'on'` (the retention job, apps/connect-service/src/security/retention.service.ts).
 */
export class Security1764180000000 implements MigrationInterface {
  name = 'Security1764180000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "api_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "public_id" character varying(32) NOT NULL, "env" character varying(8) NOT NULL, "name" character varying(200) NOT NULL, "secret_hash" character(64) NOT NULL, "role" character varying(16) NOT NULL, "scopes" text array NOT NULL DEFAULT '{}', "tenant_id" character varying(128), "expires_at" TIMESTAMP(3) WITH TIME ZONE, "revoked_at" TIMESTAMP(3) WITH TIME ZONE, "replaced_by_id" uuid, "last_used_at" TIMESTAMP(3) WITH TIME ZONE, "created_by" character varying(255) NOT NULL, "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "uq_api_keys_public_id" ON "api_keys" ("public_id")`);
    await q.query(
      `CREATE INDEX "ix_api_keys_tenant_created" ON "api_keys" ("tenant_id", "created_at", "id")`,
    );
    await q.query(`CREATE INDEX "ix_api_keys_created" ON "api_keys" ("created_at", "id")`);
    await q.query(
      `CREATE TABLE "audit_log" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "actor" character varying(255), "actor_type" character varying(16) NOT NULL, "tenant_id" character varying(128), "action" character varying(64) NOT NULL, "target_type" character varying(64), "target_id" character varying(255), "outcome" character varying(16) NOT NULL, "ip" character varying(64), "request_id" character varying(128), "details" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_07fefa57f7f5ab8fc3f52b3ed0b" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE INDEX "ix_audit_log_tenant_created" ON "audit_log" ("tenant_id", "created_at", "id")`,
    );
    await q.query(`CREATE INDEX "ix_audit_log_created" ON "audit_log" ("created_at", "id")`);
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('connect.retention', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await q.query(
      `CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
    );
    await q.query(
      `CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON "audit_log" FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "audit_log_no_truncate" ON "audit_log"`);
    await q.query(`DROP TRIGGER "audit_log_append_only" ON "audit_log"`);
    await q.query(`DROP FUNCTION audit_log_append_only()`);
    await q.query(`DROP INDEX "public"."ix_audit_log_created"`);
    await q.query(`DROP INDEX "public"."ix_audit_log_tenant_created"`);
    await q.query(`DROP TABLE "audit_log"`);
    await q.query(`DROP INDEX "public"."ix_api_keys_created"`);
    await q.query(`DROP INDEX "public"."ix_api_keys_tenant_created"`);
    await q.query(`DROP INDEX "public"."uq_api_keys_public_id"`);
    await q.query(`DROP TABLE "api_keys"`);
  }
}
