import { DataSource } from 'typeorm';
import { AuditAction } from '../../apps/connect-service/src/audit/audit-actions';
import { AuditLogService } from '../../apps/connect-service/src/audit/audit-log.service';
import { bootTestApp, TestApp } from '../support/app';

jest.setTimeout(60_000);

describe('detached audit rows', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await bootTestApp({});
  });
  afterAll(async () => t?.close());

  it('writes every row recorded at once, and a row the table refuses loses none of the others', async () => {
    const audit = t.app.get(AuditLogService);
    const tag = `detached-${Date.now().toString(36)}`;
    const record = (i: number, action: AuditAction = 'account.session.create') =>
      audit.recordDetached({
        action,
        tenantId: 'tenant_detached',
        targetType: 'test',
        targetId: `${tag}-${i}`,
      });
    for (let i = 0; i < 30; i++) record(i);
    // action is varchar(64): this row fails its group's INSERT, then alone.
    record(30, 'x'.repeat(65) as AuditAction);
    for (let i = 31; i < 40; i++) record(i);
    await audit.beforeApplicationShutdown();
    const rows = (await t.app
      .get(DataSource)
      .query(`SELECT target_id FROM audit_log WHERE target_id LIKE $1 ORDER BY target_id`, [
        `${tag}-%`,
      ])) as Array<{ target_id: string }>;
    expect(rows).toHaveLength(39);
    expect(rows.map((r) => r.target_id)).not.toContain(`${tag}-30`);
  });
});
