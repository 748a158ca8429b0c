import { api } from '../support/http';
import { ALL_SCOPES, bootTestApp, TestApp } from '../support/app';

/** A verified bearer token is remembered until its `exp`, never past it. */
describe('verified tokens are remembered until they expire', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await bootTestApp();
  });
  afterAll(async () => t?.close());

  it('accepts a token on every request while valid and refuses it once expired', async () => {
    const token = t.token({ roles: ['platform'], scope: ALL_SCOPES }, 3);
    const call = () =>
      api(t)('GET', '/connect/payments?limit=1', { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3_200));
    const expired = await call();
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe('Token expired');
  });

  it('a token differing by one character is verified on its own (and refused)', async () => {
    const token = t.token({ roles: ['platform'], scope: ALL_SCOPES });
    expect(
      (await api(t)('GET', '/connect/payments?limit=1', { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const res = await api(t)('GET', '/connect/payments?limit=1', {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(res.status).toBe(401);
  });
});
