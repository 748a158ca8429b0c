import { DataSource } from 'typeorm';
import { hashOAuthState } from '../../apps/connect-service/src/connect-oauth/oauth-state.util';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { emulatorControl, emulatorRequests } from '../support/emulator';
import { eventually, sleep } from '../utils/eventually';
import { ErrorCode } from '@app/common';
import { api } from '../support/http';

const SUCCESS_URL = 'https://platform.example/connected';
const FAILURE_URL = 'https://platform.example/failed';
const REDIRECT_URI = 'http://127.0.0.1/connect/oauth/callback';

describe('Connect onboarding (OAuth + Account Links) and account management', () => {
  let t: TestApp;
  let db: DataSource;
  let emu: string;

  beforeAll(async () => {
    t = await bootTestApp(
      {
        OAUTH_REDIRECT_URI: REDIRECT_URI,
        OAUTH_SUCCESS_URL: SUCCESS_URL,
        OAUTH_FAILURE_URL: FAILURE_URL,
        REDIS_TTL: '1',
        REDIS_URL: process.env.TEST_REDIS_URL,
      },
      undefined,
      { listen: true, registerWebhooks: true },
    );
    db = t.app.get(DataSource);
    emu = t.emulatorUrl as string;
  });
  afterAll(async () => t?.close());

  const admin = (tenant: string) => ({
    authorization: `Bearer ${t.token({ tenant_id: tenant, roles: ['admin'] })}`,
  });
  const viewer = (tenant: string) => ({
    authorization: `Bearer ${t.token({ tenant_id: tenant, roles: ['viewer'] })}`,
  });
  const platform = () => ({ authorization: `Bearer ${t.token({ roles: ['platform'] })}` });
  const json = { accept: 'application/json' };

  async function startOAuth(tenant: string): Promise<{ url: string; state: string }> {
    const res = await api(t)('POST', '/connect/oauth/url', {
      headers: admin(tenant),
      body: { tenant_id: tenant },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** Follows the authorize URL on the emulator (consent) and returns the callback's path+query. */
  async function consent(url: string): Promise<string> {
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') as string);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    return `${location.pathname}${location.search}`;
  }

  const tokenExchanges = async () =>
    (await emulatorRequests(emu, { path: '/oauth/token', method: 'POST' })).length;
  const accountRow = async (tenant: string) =>
    (await db.query(`SELECT * FROM connect_accounts WHERE tenant_id = $1`, [tenant]))[0] as
      Record<string, unknown> | undefined;
  const eventsOf = async (tenant: string, type: string) =>
    (await db.query(`SELECT * FROM connect_events WHERE tenant_id = $1 AND type = $2 ORDER BY created_at`, [
      tenant,
      type,
    ])) as {
      data: Record<string, unknown>;
    }[];

  describe('OAuth', () => {
    const tenant = uniqueTenant('oauth');
    let callback: string;

    it('URL → emulator consent → callback stores the account with encrypted tokens and emits connected', async () => {
      const { url, state } = await startOAuth(tenant);
      expect(Buffer.from(state, 'base64url').length).toBeGreaterThanOrEqual(16);
      const stored = await db.query(`SELECT state_hash FROM oauth_states WHERE tenant_id = $1`, [tenant]);
      expect(stored).toEqual([{ state_hash: hashOAuthState(state) }]);

      callback = await consent(url);
      const res = await api(t)('GET', callback, { headers: json });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        outcome: 'connected',
        tenant_id: tenant,
        account: { status: 'active', onboarding_method: 'oauth' },
      });

      const row = (await accountRow(tenant))!;
      expect(row.access_token_enc).toMatch(/^v1\./);
      expect(row.refresh_token_enc).toMatch(/^v1\./);
      expect(String(row.access_token_enc)).not.toContain('sk_test_');
      expect(String(row.refresh_token_enc)).not.toContain('rt_');
      expect(res.raw).not.toContain('sk_test_');
      expect(await eventsOf(tenant, 'connect.account.connected')).toHaveLength(1);
    });

    it('a replayed callback is refused without a second token exchange', async () => {
      const before = await tokenExchanges();
      const res = await api(t)('GET', callback, { headers: json });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        code: ErrorCode.OAuthFailed,
        details: { outcome: 'invalid_state' },
      });
      expect(await tokenExchanges()).toBe(before);
      // and the browser variant is redirected to the failure URL
      const browser = await api(t)('GET', callback);
      expect(browser.status).toBe(302);
      expect(browser.headers.location).toBe(`${FAILURE_URL}/?outcome=invalid_state`.replace('/?', '?'));
    });

    it('verification in the emulator reaches the account through webhooks (restricted, then active + updated event)', async () => {
      const row = (await accountRow(tenant))!;
      const acct = row.stripe_account_id as string;
      await emulatorControl(emu, `accounts/${acct}/verification`, { action: 'restrict' });
      await eventually('restricted', async () => (await accountRow(tenant))?.status === 'restricted');
      await emulatorControl(emu, `accounts/${acct}/verification`, { action: 'complete' });
      await eventually('active', async () => (await accountRow(tenant))?.status === 'active');
      const updates = await eventsOf(tenant, 'connect.account.updated');
      expect(updates.map((e) => e.data.status)).toEqual(expect.arrayContaining(['restricted', 'active']));
      const last = updates.find((e) => e.data.status === 'active')!;
      expect(last.data).toMatchObject({
        capabilities: ['card_payments', 'transfers'],
        capability_states: { card_payments: 'active', transfers: 'active' },
      });
      // The answer has the spec's shape: the active capabilities as string[], the states beside them.
      const view = await api(t)('GET', `/connect/accounts/${tenant}`, { headers: viewer(tenant) });
      expect(view.status).toBe(200);
      expect(view.body).toMatchObject({
        status: 'active',
        capabilities: ['card_payments', 'transfers'],
        capability_states: { card_payments: 'active', transfers: 'active' },
      });
    });

    it('forged and malformed states are refused and write nothing', async () => {
      const before = await tokenExchanges();
      for (const state of ['A'.repeat(43), 'short', '']) {
        const res = await api(t)('GET', `/connect/oauth/callback?code=ac_forged&state=${state}`, {
          headers: json,
        });
        expect(res.status).toBe(400);
        expect(res.body.code).toBe(ErrorCode.OAuthFailed);
      }
      expect(await tokenExchanges()).toBe(before);
    });

    it('an expired state is refused before any exchange', async () => {
      const other = uniqueTenant('expired');
      const { url, state } = await startOAuth(other);
      const cb = await consent(url);
      await db.query(
        `UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1`,
        [hashOAuthState(state)],
      );
      const before = await tokenExchanges();
      const res = await api(t)('GET', cb, { headers: json });
      expect(res.body).toMatchObject({ code: ErrorCode.OAuthFailed });
      expect(await tokenExchanges()).toBe(before);
      expect(await accountRow(other)).toBeUndefined();
    });

    it("another tenant's state is refused (and stays usable by its own tenant); foreign tenants cannot start a flow", async () => {
      const victim = uniqueTenant('victim');
      const attacker = uniqueTenant('attacker');
      const { url } = await startOAuth(victim);
      const cb = await consent(url);
      const res = await api(t)('GET', `${cb}&tenant_id=${attacker}`, { headers: json });
      expect(res.body).toMatchObject({ code: ErrorCode.OAuthFailed });
      expect(await accountRow(attacker)).toBeUndefined();
      const own = await api(t)('GET', `${cb}&tenant_id=${victim}`, { headers: json });
      expect(own.status).toBe(200);

      const foreign = await api(t)('POST', '/connect/oauth/url', {
        headers: admin(attacker),
        body: { tenant_id: victim },
      });
      expect(foreign.status).toBe(403);
      const viewerRes = await api(t)('POST', '/connect/oauth/url', {
        headers: viewer(victim),
        body: { tenant_id: victim },
      });
      expect(viewerRes.status).toBe(403);
    });

    it('refuses an arbitrary redirect_uri (no open redirect)', async () => {
      const tenantX = uniqueTenant('redir');
      const res = await api(t)('POST', '/connect/oauth/url', {
        headers: admin(tenantX),
        body: { tenant_id: tenantX, redirect_uri: 'https://evil.example/cb' },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(ErrorCode.ValidationFailed);
    });

    it('a declined consent is recorded, connects nothing and redirects to the failure URL', async () => {
      const declined = uniqueTenant('declined');
      const { url, state } = await startOAuth(declined);
      await emulatorControl(emu, 'oauth/next', { action: 'deny' });
      const cb = await consent(url);
      expect(cb).toContain('error=access_denied');
      const res = await api(t)('GET', cb);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe(`${FAILURE_URL}`);
      expect(location.searchParams.get('tenant_id')).toBe(declined);
      expect(location.searchParams.get('outcome')).toBe('declined');
      const [st] = await db.query(`SELECT outcome, used_at FROM oauth_states WHERE state_hash = $1`, [
        hashOAuthState(state),
      ]);
      expect(st.outcome).toBe('declined');
      expect(st.used_at).not.toBeNull();
      expect(await accountRow(declined)).toBeUndefined();
    });

    it('two concurrent callbacks make one exchange and one account', async () => {
      const racer = uniqueTenant('race');
      const { url } = await startOAuth(racer);
      const cb = await consent(url);
      const before = await tokenExchanges();
      const results = await Promise.all([1, 2, 3].map(() => api(t)('GET', cb, { headers: json })));
      expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400]);
      expect(await tokenExchanges()).toBe(before + 1);
      expect(await db.query(`SELECT id FROM connect_accounts WHERE tenant_id = $1`, [racer])).toHaveLength(1);
      expect(await eventsOf(racer, 'connect.account.connected')).toHaveLength(1);
    });

    it('a Stripe account already connected to another tenant is a conflict, never moved', async () => {
      const second = uniqueTenant('second');
      const { url } = await startOAuth(second);
      const cb = await consent(url);
      // The account the emulator just granted (newest first) gets claimed by another tenant in the meantime.
      const list = (await (
        await fetch(`${emu}/v1/accounts?limit=1`, { headers: { authorization: 'Bearer sk_test_emulator' } })
      ).json()) as {
        data: { id: string }[];
      };
      const owner = uniqueTenant('owner');
      await db.query(
        `INSERT INTO connect_accounts (tenant_id, stripe_account_id, onboarding_method, account_type) VALUES ($1, $2, 'oauth', 'standard')`,
        [owner, list.data[0].id],
      );
      const res = await api(t)('GET', cb, { headers: json });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: ErrorCode.Conflict, details: { outcome: 'conflict' } });
      expect(await accountRow(second)).toBeUndefined();
      expect((await accountRow(owner))!.tenant_id).toBe(owner);
    });

    it('PUT on a Standard account: metadata and fee schedule yes, business profile no; invalid fee schedules refused', async () => {
      const ok = await api(t)('PUT', `/connect/accounts/${tenant}`, {
        headers: admin(tenant),
        body: {
          metadata: { crm_id: '42' },
          fee_schedule: {
            basis_points: 250,
            fixed: { usd: 30 },
            minimum: { usd: 50 },
            maximum: { usd: 900 },
          },
        },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        metadata: { crm_id: '42' },
        fee_schedule: { basis_points: 250, fixed: { usd: 30 } },
      });
      expect(await eventsOf(tenant, 'connect.account.updated')).not.toHaveLength(0);

      const bad = await api(t)('PUT', `/connect/accounts/${tenant}`, {
        headers: admin(tenant),
        body: {
          fee_schedule: {
            basis_points: 10_001,
            fixed: { USD: 1.5 },
            minimum: { usd: 10 },
            maximum: { usd: 5 },
          },
        },
      });
      expect(bad.status).toBe(400);
      const fields = (bad.body.details.fields as { field: string }[]).map((f) => f.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'fee_schedule.basis_points',
          'fee_schedule.fixed.USD',
          'fee_schedule.minimum.usd',
        ]),
      );

      const profile = await api(t)('PUT', `/connect/accounts/${tenant}`, {
        headers: admin(tenant),
        body: { business_profile: { name: 'New name' } },
      });
      expect(profile.status).toBe(400);
      expect(profile.body.details.fields[0].field).toBe('business_profile');
    });

    it('another tenant reveals nothing and changes nothing; a viewer cannot disconnect', async () => {
      const other = uniqueTenant('nosy');
      for (const [method, payload] of [
        ['GET'],
        ['PUT', { metadata: { x: 'y' } }],
        ['DELETE'],
        ['POST', {}],
      ] as const) {
        const url =
          method === 'POST' ? `/connect/accounts/${tenant}/onboarding` : `/connect/accounts/${tenant}`;
        const res = await api(t)(method, url, { headers: admin(other), body: payload });
        expect(res.status).toBe(404);
        expect(res.raw).not.toContain('acct_');
      }
      const del = await api(t)('DELETE', `/connect/accounts/${tenant}`, { headers: viewer(tenant) });
      expect(del.status).toBe(403);
      expect((await accountRow(tenant))!.disconnected_at).toBeNull();
    });

    it('DELETE deauthorizes, keeps the row disabled without tokens, emits once, and is idempotent', async () => {
      const first = await api(t)('DELETE', `/connect/accounts/${tenant}`, { headers: admin(tenant) });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ status: 'disabled', charges_enabled: false });
      const second = await api(t)('DELETE', `/connect/accounts/${tenant}`, { headers: admin(tenant) });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({
        status: 'disabled',
        disconnected_at: first.body.disconnected_at,
      });
      const row = (await accountRow(tenant))!;
      expect(row).toMatchObject({ status: 'disabled', access_token_enc: null, refresh_token_enc: null });
      const deauths = await emulatorRequests(emu, { path: '/oauth/deauthorize', method: 'POST' });
      expect(deauths.length).toBeGreaterThanOrEqual(1);
      // The deauthorized webhook that follows must not emit a second event.
      await sleep(1500);
      expect(await eventsOf(tenant, 'connect.account.disconnected')).toHaveLength(1);
    });
  });

  describe('Account Links', () => {
    const tenant = uniqueTenant('links');
    const body = {
      type: 'express',
      country: 'US',
      email: 'owner@links.test',
      return_url: 'https://platform.example/done',
      refresh_url: 'https://platform.example/retry',
    };

    it('viewer cannot create links', async () => {
      const res = await api(t)('POST', `/connect/accounts/${tenant}/onboarding`, {
        headers: viewer(tenant),
        body: body,
      });
      expect(res.status).toBe(403);
    });

    it('a double click creates one Stripe account; a link brings it to active', async () => {
      const [a, b] = await Promise.all(
        [1, 2].map(() =>
          api(t)('POST', `/connect/accounts/${tenant}/onboarding`, { headers: admin(tenant), body }),
        ),
      );
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.stripe_account_id).toBe(b.body.stripe_account_id);
      expect(a.body.url).not.toBe(b.body.url);
      const pending = await api(t)('GET', `/connect/accounts/${tenant}`, { headers: viewer(tenant) });
      expect(pending.body).toMatchObject({
        status: 'pending',
        onboarding_method: 'account_link',
        account_type: 'express',
        capabilities: [],
      });
      expect(Object.keys(pending.body.capability_states as object).sort()).toEqual([
        'card_payments',
        'transfers',
      ]);
      expect(Object.values(pending.body.capability_states as object)).not.toContain('active');

      const visit = await fetch(a.body.url, { redirect: 'manual' });
      expect(visit.status).toBe(302);
      expect(visit.headers.get('location')).toBe(body.return_url);
      await eventually('active after the link', async () => (await accountRow(tenant))?.status === 'active');
      expect(await eventsOf(tenant, 'connect.account.connected')).toHaveLength(1);
      expect((await eventsOf(tenant, 'connect.account.updated')).map((e) => e.data.status)).toContain(
        'active',
      );
    });

    it('PUT on an Express account goes to Stripe first', async () => {
      const res = await api(t)('PUT', `/connect/accounts/${tenant}`, {
        headers: admin(tenant),
        body: {
          business_profile: { name: 'Links Ltd' },
          payout_schedule: { interval: 'weekly', weekly_anchor: 'friday' },
        },
      });
      expect(res.status).toBe(200);
      const acct = res.body.stripe_account_id as string;
      const updates = await emulatorRequests(emu, { path: `/v1/accounts/${acct}`, method: 'POST' });
      expect(updates.length).toBeGreaterThanOrEqual(1);
    });

    it('Stripe unavailable: GET answers the last known state with stale: true', async () => {
      const acct = (await accountRow(tenant))!.stripe_account_id as string;
      // Let the cache entry (REDIS_TTL=1) and any in-flight webhook settle, then age the local state past the TTL.
      await sleep(1500);
      await db.query(
        `UPDATE connect_accounts SET synced_at = now() - interval '1 hour' WHERE tenant_id = $1`,
        [tenant],
      );
      await emulatorControl(emu, 'faults', {
        path: `/v1/accounts/${acct}`,
        method: 'GET',
        count: 50,
        status: 500,
      });
      try {
        const res = await api(t)('GET', `/connect/accounts/${tenant}`, { headers: viewer(tenant) });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ stale: true, status: 'active', stripe_account_id: acct });
      } finally {
        await emulatorControl(emu, 'faults', undefined, 'DELETE');
      }
    });

    it('a warm cache answers without touching the database', async () => {
      const get = () => api(t)('GET', `/connect/accounts/${tenant}`, { headers: viewer(tenant) });
      expect((await get()).status).toBe(200);
      const spy = jest.spyOn(db, 'createQueryRunner');
      try {
        const res = await get();
        expect(res.status).toBe(200);
        expect(res.body.tenant_id).toBe(tenant);
        expect(spy).not.toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    });

    it('DELETE of a platform-created account rejects it on Stripe', async () => {
      const res = await api(t)('DELETE', `/connect/accounts/${tenant}`, { headers: platform() });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('disabled');
      const acct = res.body.stripe_account_id as string;
      const rejects = await emulatorRequests(emu, { path: `/v1/accounts/${acct}/reject`, method: 'POST' });
      expect(rejects).toHaveLength(1);
    });
  });
});
