import { DataSource } from 'typeorm';
import { sign } from 'jsonwebtoken';
import {
  ConnectAccountEntity,
  ConnectAccountStatus,
  OnboardingMethod,
  StripeAccountType,
} from '@app/database';
import { bootTestApp, TestApp, TEST_JWT_SECRET, uniqueTenant } from '../support/app';
import { ErrorCode } from '@app/common';
import { api } from '../support/http';

describe('caller identity on the first real route: GET /connect/accounts/:tenantId', () => {
  let t: TestApp;
  const tenantA = uniqueTenant('a');
  const tenantB = uniqueTenant('b');

  beforeAll(async () => {
    t = await bootTestApp();
    const repo = t.app.get(DataSource).getRepository(ConnectAccountEntity);
    for (const tenant of [tenantA, tenantB]) {
      await repo.insert({
        tenant_id: tenant,
        stripe_account_id: `acct_${tenant}`,
        status: ConnectAccountStatus.Active,
        onboarding_method: OnboardingMethod.OAuth,
        account_type: StripeAccountType.Standard,
        charges_enabled: true,
        payouts_enabled: true,
        capabilities: { card_payments: 'active' },
        requirements: {
          currently_due: [],
          eventually_due: ['external_account'],
          past_due: [],
          pending_verification: [],
          current_deadline: null,
          disabled_reason: null,
        },
        access_token_enc: 'v1:k1:ciphertext-not-for-responses',
      });
    }
  });
  afterAll(async () => t?.close());

  const get = (tenant: string, headers: Record<string, string> = {}) =>
    api(t)('GET', `/connect/accounts/${tenant}`, { headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('refuses a request without a token with a 401 ServiceError', async () => {
    const res = await get(tenantA);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: ErrorCode.Unauthenticated, http_status: 401 });
  });

  it('refuses garbage, expired, unsigned and wrongly signed tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'u', tenant_id: tenantA, roles: ['viewer'], scope: 'accounts:read' };
    const tokens = [
      'not-a-jwt',
      sign({ ...claims, exp: now - 60 }, TEST_JWT_SECRET),
      sign(claims, TEST_JWT_SECRET), // no exp
      sign({ ...claims, exp: now + 60 }, 'another-secret-another-secret-another-secret'),
      `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, exp: now + 60 })).toString('base64url')}.`,
    ];
    for (const token of tokens) {
      const res = await get(tenantA, bearer(token));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(ErrorCode.Unauthenticated);
    }
  });

  it('serves a tenant its own account, without secrets', async () => {
    const res = await get(
      tenantA,
      bearer(t.token({ tenant_id: tenantA, roles: ['viewer'], scope: 'accounts:read' })),
    );
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body).toMatchObject({
      tenant_id: tenantA,
      stripe_account_id: `acct_${tenantA}`,
      status: 'active',
      charges_enabled: true,
      requirements: { currently_due: [], eventually_due: ['external_account'], current_deadline: null },
      onboarding_method: 'oauth',
    });
    expect(res.raw).not.toContain('ciphertext');
  });

  it("never shows a tenant another tenant's account (404, no existence leak)", async () => {
    const res = await get(tenantB, bearer(t.token({ tenant_id: tenantA, roles: ['admin'] })));
    expect([403, 404]).toContain(res.status);
    expect(res.raw).not.toContain(`acct_${tenantB}`);
    const missing = await get(
      uniqueTenant('none'),
      bearer(t.token({ tenant_id: tenantA, roles: ['admin'] })),
    );
    // A foreign existing tenant and a foreign missing tenant answer alike.
    expect(missing.status).toBe(res.status);
  });

  it('lets the platform role read any tenant', async () => {
    const res = await get(tenantB, bearer(t.token({ roles: ['platform'] })));
    expect(res.status).toBe(200);
    expect(res.body.tenant_id).toBe(tenantB);
  });

  it('requires the accounts:read scope', async () => {
    const res = await get(
      tenantA,
      bearer(t.token({ tenant_id: tenantA, roles: ['admin'], scope: 'payments:read' })),
    );
    expect(res.status).toBe(403);
    expect(res.body.code).toBe(ErrorCode.Forbidden);
  });

  it('answers 404 ServiceError for a tenant without an account', async () => {
    const tenant = uniqueTenant('empty');
    const res = await get(tenant, bearer(t.token({ tenant_id: tenant, roles: ['viewer'] })));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: ErrorCode.NotFound, http_status: 404 });
  });
});
