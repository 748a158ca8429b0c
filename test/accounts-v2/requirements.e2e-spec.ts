import { DataSource } from 'typeorm';
import { RequirementNoticesService } from '../../apps/connect-service/src/accounts/requirements-notices.service';
import { api } from '../support/http';
import { eventually, sleep } from '../utils/eventually';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { emulatorControl } from '../support/emulator';

const FIELD = 'individual.verification.document';

describe('Requirements that reach the tenant in time', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await bootTestApp({ REQUIREMENTS_REMINDER_OFFSETS: '4s,2s' }, undefined, {
      listen: true,
      registerWebhooks: true,
    });
    db = t.app.get(DataSource);
  });
  afterAll(async () => t?.close());

  const admin = (tenant: string) => ({
    authorization: `Bearer ${t.token({ tenant_id: tenant, roles: ['admin'] })}`,
  });
  const platform = () => ({ authorization: `Bearer ${t.token({ roles: ['platform'] })}` });
  const eventsOf = async (tenant: string, type: string) =>
    (await db.query(
      `SELECT data FROM connect_events WHERE tenant_id = $1 AND type = $2 ORDER BY created_at`,
      [tenant, type],
    )) as Array<{ data: Record<string, unknown> }>;
  const setRequirements = (acct: string, body: object) =>
    emulatorControl(t.emulatorUrl!, `accounts/${acct}/requirements`, body);

  async function activeV2Account(): Promise<{ tenant: string; acct: string }> {
    const tenant = uniqueTenant('req');
    const created = await api(t)('POST', `/connect/accounts/${tenant}`, {
      headers: admin(tenant),
      body: { country: 'US', email: 'req@v2.test', configurations: ['merchant', 'recipient'] },
    });
    expect(created.status).toBe(201);
    const link = await api(t)('POST', `/connect/accounts/${tenant}/onboarding`, {
      headers: admin(tenant),
      body: { return_url: 'https://platform.example/done', refresh_url: 'https://platform.example/retry' },
    });
    await fetch(link.body.url, { redirect: 'manual' });
    await eventually('active', async () => {
      const [row] = await db.query(`SELECT status FROM connect_accounts WHERE tenant_id = $1`, [tenant]);
      return row?.status === 'active';
    });
    return { tenant, acct: created.body.stripe_account_id };
  }

  it('due → a reminder at each offset exactly once → restricted when past due → cleared when satisfied', async () => {
    const { tenant, acct } = await activeV2Account();
    const deadline = Math.floor(Date.now() / 1000) + 7;
    await setRequirements(acct, { currently_due: [FIELD], deadline });

    const [due] = await eventually('requirements_due', async () => {
      const e = (await eventsOf(tenant, 'connect.account.requirements_due')).filter((x) =>
        (x.data.fields as string[]).includes(FIELD),
      );
      return e.length ? e : null;
    });
    expect(due.data).toMatchObject({
      stripe_account_id: acct,
      deadline: new Date(deadline * 1000).toISOString(),
      remedy: {
        account_link: { use_case: 'account_update' },
        embedded: { components: ['account_onboarding', 'notification_banner'] },
      },
    });

    // Every replica's sweep may run too: the claims keep each reminder to one.
    const notices = t.app.get(RequirementNoticesService);
    await eventually(
      'both reminders',
      async () => (await eventsOf(tenant, 'connect.account.requirements_reminder')).length >= 2,
      { timeoutMs: 15_000 },
    );
    await Promise.all([notices.runReminders(), notices.runReminders(tenant), notices.runReminders(tenant)]);
    await sleep(Math.max(0, deadline * 1000 - Date.now()) + 500);
    await notices.runReminders(tenant);
    const reminders = await eventsOf(tenant, 'connect.account.requirements_reminder');
    expect(reminders.map((r) => r.data.offset)).toEqual(['4s', '2s']);
    for (const r of reminders)
      expect(r.data).toMatchObject({ fields: [FIELD], deadline: new Date(deadline * 1000).toISOString() });
    const claimed = await db.query(
      `SELECT "offset", connect_event_id FROM requirement_notices WHERE tenant_id = $1`,
      [tenant],
    );
    expect(claimed).toHaveLength(2);
    expect(claimed.every((c: { connect_event_id: string | null }) => c.connect_event_id)).toBe(true);

    await setRequirements(acct, { past_due: [FIELD], deadline });
    const [restricted] = await eventually('restricted', async () => {
      const e = await eventsOf(tenant, 'connect.account.restricted');
      return e.length ? e : null;
    });
    expect(restricted.data.capabilities).toEqual(expect.arrayContaining(['card_payments']));
    expect(restricted.data.past_due).toEqual([FIELD]);
    expect(restricted.data.reason).toEqual(expect.any(String));

    await setRequirements(acct, { currently_due: [], past_due: [] });
    // The first cleared event was onboarding's own requirements; this one is the document's.
    const [cleared] = await eventually('cleared', async () => {
      const e = (await eventsOf(tenant, 'connect.account.requirements_cleared')).filter((x) =>
        (x.data.cleared as string[]).includes(FIELD),
      );
      return e.length ? e : null;
    });
    expect(cleared.data.cleared).toEqual([FIELD]);
    const view = await api(t)('GET', `/connect/accounts/${tenant}`, { headers: admin(tenant) });
    expect(view.body.requirements.entries.filter((e: { due: string }) => e.due !== 'eventually_due')).toEqual(
      [],
    );
  });

  it('the operator list puts the nearest deadline first, and filters', async () => {
    const far = await activeV2Account();
    const near = await activeV2Account();
    const now = Math.floor(Date.now() / 1000);
    await setRequirements(far.acct, { currently_due: [FIELD], deadline: now + 7200 });
    await setRequirements(near.acct, { currently_due: [FIELD], deadline: now + 3600 });
    await eventually('both deadlines stored', async () => {
      const rows = await db.query(
        `SELECT count(*)::int AS n FROM connect_accounts WHERE tenant_id = ANY($1) AND next_deadline IS NOT NULL`,
        [[far.tenant, near.tenant]],
      );
      return rows[0].n === 2;
    });
    const before = new Date((now + 9000) * 1000).toISOString();
    const res = await api(t)(
      'GET',
      `/connect/accounts?due=currently_due&deadline_before=${before}&limit=100`,
      {
        headers: platform(),
      },
    );
    expect(res.status).toBe(200);
    const mine = (res.body.data as Array<{ tenant_id: string }>)
      .map((a) => a.tenant_id)
      .filter((id) => [far.tenant, near.tenant].includes(id));
    expect(mine).toEqual([near.tenant, far.tenant]);
    const deadlines = (res.body.data as Array<{ requirements: { current_deadline: string } }>).map(
      (a) => a.requirements.current_deadline,
    );
    expect([...deadlines].sort()).toEqual(deadlines);

    const paged = await api(t)(
      'GET',
      `/connect/accounts?due=currently_due&deadline_before=${before}&limit=1`,
      {
        headers: platform(),
      },
    );
    expect(paged.body.has_more).toBe(true);
    const next = await api(t)(
      'GET',
      `/connect/accounts?due=currently_due&deadline_before=${before}&limit=1&cursor=${paged.body.next_cursor}`,
      {
        headers: platform(),
      },
    );
    expect(next.body.data[0].tenant_id).not.toBe(paged.body.data[0].tenant_id);
    const pastDue = await api(t)('GET', '/connect/accounts?due=past_due&limit=100', { headers: platform() });
    expect((pastDue.body.data as Array<{ tenant_id: string }>).map((a) => a.tenant_id)).not.toContain(
      near.tenant,
    );
  });
});
