import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Routing rule sets: versioned (a sequence), immutable once created (a trigger refuses changing rules or the
 * default route), one active at a time (a partial unique index). And the connected account's country, which
 * routing rules may condition on.
 */
export class RoutingRuleSets1764200000000 implements MigrationInterface {
  name = 'RoutingRuleSets1764200000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "connect_accounts" ADD "country" character(2)`);
    await q.query(`CREATE TYPE "public"."routing_rule_set_status" AS ENUM('draft', 'active', 'retired')`);
    await q.query(`CREATE SEQUENCE "routing_rule_set_version_seq"`);
    await q.query(
      `CREATE TABLE "routing_rule_sets" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(200) NOT NULL,
        "version" integer NOT NULL,
        "status" "public"."routing_rule_set_status" NOT NULL DEFAULT 'draft',
        "rules" jsonb NOT NULL,
        "default_route" jsonb NOT NULL,
        "previous_id" uuid,
        "created_by" character varying(255),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "activated_at" TIMESTAMP WITH TIME ZONE,
        "retired_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_routing_rule_sets" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE UNIQUE INDEX "uq_routing_rule_sets_version" ON "routing_rule_sets" ("version")`);
    await q.query(
      `CREATE UNIQUE INDEX "uq_routing_rule_sets_active" ON "routing_rule_sets" ("status") WHERE status = 'active'`,
    );
    await q.query(`CREATE INDEX "ix_routing_rule_sets_created" ON "routing_rule_sets" ("created_at", "id")`);
    await q.query(
      `CREATE FUNCTION routing_rule_sets_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.rules IS DISTINCT FROM OLD.rules OR NEW.default_route IS DISTINCT FROM OLD.default_route
            OR NEW.version IS DISTINCT FROM OLD.version OR NEW.name IS DISTINCT FROM OLD.name THEN
           RAISE EXCEPTION 'routing rule set % is immutable', OLD.id USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END $$`,
    );
    await q.query(
      `CREATE TRIGGER "tr_routing_rule_sets_immutable" BEFORE UPDATE ON "routing_rule_sets"
       FOR EACH ROW EXECUTE FUNCTION routing_rule_sets_immutable()`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "tr_routing_rule_sets_immutable" ON "routing_rule_sets"`);
    await q.query(`DROP FUNCTION routing_rule_sets_immutable()`);
    await q.query(`DROP TABLE "routing_rule_sets"`);
    await q.query(`DROP SEQUENCE "routing_rule_set_version_seq"`);
    await q.query(`DROP TYPE "public"."routing_rule_set_status"`);
    await q.query(`ALTER TABLE "connect_accounts" DROP COLUMN "country"`);
  }
}
