import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode } from '@app/common';
import { ALL_SCOPES, TEST_JWT_SECRET } from '../support/app';
import { sleep } from '../utils/eventually';
import { EXPECTED_RULES } from './route-table';
import { Res, SecuritySuite, WEBHOOK_SECRET, count } from './security-suite-support';

/** Attacks on JWTs, API keys, webhooks and OAuth states, run inside the security suite (its app and log capture). */
export function describeAttacks(s: SecuritySuite): void {
  const { tenantA, tenantB, secretsUsed, token, headersFor, send, pathOf } = s;

  describe('attacks', () => {
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const craft = (header: object, payload: object, key: string | null): string => {
      const input = `${b64(header)}.${b64(payload)}`;
      const sig = key === null ? '' : createHmac('sha256', key).update(input).digest('base64url');
      const tok = `${input}.${sig}`;
      secretsUsed.add(tok);
      return tok;
    };
    const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
      sub: 'attacker',
      roles: ['platform'],
      scope: ALL_SCOPES,
      exp: Math.floor(Date.now() / 1000) + 600,
      ...over,
    });

    it.each<[string, () => string]>([
      ['alg none', () => craft({ alg: 'none', typ: 'JWT' }, claims(), null)],
      ['HS512', () => craft({ alg: 'HS512', typ: 'JWT' }, claims(), TEST_JWT_SECRET)],
      ['a wrong secret', () => craft({ alg: 'HS256', typ: 'JWT' }, claims(), `${TEST_JWT_SECRET}x`)],
      ['no exp', () => craft({ alg: 'HS256', typ: 'JWT' }, claims({ exp: undefined }), TEST_JWT_SECRET)],
      ['an expired exp', () => craft({ alg: 'HS256', typ: 'JWT' }, claims({ exp: 1 }), TEST_JWT_SECRET)],
      [
        'a tampered payload',
        () => {
          const [h, , sig] = token({ roles: ['viewer'], tenant_id: tenantA }).split('.');
          return `${h}.${b64(claims())}.${sig}`;
        },
      ],
    ])('JWT with %s: 401 on every protected route', async (_name, make) => {
      const tok = make();
      for (const key of Object.keys(EXPECTED_RULES).filter((k) => !EXPECTED_RULES[k].public)) {
        const res = await send(
          key.split(' ')[0],
          pathOf(key, tenantA),
          { authorization: `Bearer ${tok}` },
          key.startsWith('GET') ? undefined : {},
        );
        count('JWT attacks');
        expect(`${key}: ${res.status} ${String(res.body.code)}`).toBe(`${key}: 401 CONNECT_020`);
      }
    });

    it('API keys: revoked, rotated-out (grace 0) and expired keys are refused', async () => {
      const platform = headersFor('platform');
      const mk = async (over: object = {}): Promise<{ id: string; key: string }> => {
        const res = await send('POST', '/connect/api-keys', platform, {
          name: 'k',
          role: 'platform',
          scopes: [],
          ...over,
        });
        expect(res.status).toBe(201);
        secretsUsed.add(res.body.key as string);
        return { id: res.body.id as string, key: res.body.key as string };
      };
      const probe = async (k: string): Promise<number> => {
        count('API key attacks');
        return (await send('GET', '/connect/api-keys?limit=1', { 'x-api-key': k })).status;
      };
      const revoked = await mk();
      expect(await probe(revoked.key)).toBe(200);
      await send('DELETE', `/connect/api-keys/${revoked.id}`, platform);
      expect(await probe(revoked.key)).toBe(401);
      const rotated = await mk();
      expect(await probe(rotated.key)).toBe(200);
      const next = await send('POST', `/connect/api-keys/${rotated.id}/rotate`, platform);
      secretsUsed.add(next.body.key as string);
      expect(await probe(rotated.key)).toBe(401);
      expect(await probe(next.body.key as string)).toBe(200);
      const expiring = await mk({ expires_at: new Date(Date.now() + 600).toISOString() });
      expect(await probe(expiring.key)).toBe(200);
      await sleep(700);
      expect(await probe(expiring.key)).toBe(401);
      // A key and a token together are refused rather than one picked.
      expect(
        (
          await send('GET', '/connect/api-keys?limit=1', {
            'x-api-key': next.body.key as string,
            ...platform,
          })
        ).status,
      ).toBe(401);
    });

    const stripeEvent = (id: string): string =>
      JSON.stringify({
        id,
        object: 'event',
        type: 'account.updated',
        api_version: '2025-10-29.clover',
        created: Math.floor(Date.now() / 1000),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object: { id: 'acct_suite_unknown', object: 'account' } },
      });
    const sign = (payload: string, secret: string, ts = Math.floor(Date.now() / 1000)): string =>
      `t=${ts},v1=${createHmac('sha256', secret).update(`${ts}.${payload}`).digest('hex')}`;

    it('webhooks: forged, replayed (stale timestamp) and unsigned deliveries are refused and audited; duplicates are no-ops', async () => {
      const id = `evt_suite_${randomUUID().replace(/-/g, '')}`;
      const payload = stripeEvent(id);
      // From an address of their own: refusals are audited up to 20 per IP and minute, and the cases above spend
      // 127.0.0.1's budget faster the faster the service answers.
      const from = { 'x-forwarded-for': `198.51.100.${1 + Math.floor(Math.random() * 250)}` };
      const post = (sig?: string): Promise<Res> =>
        send('POST', '/connect/webhooks', sig ? { ...from, 'stripe-signature': sig } : from, payload);
      const cases: [string, string | undefined][] = [
        ['forged', sign(payload, `whsec_${randomBytes(24).toString('base64url')}`)],
        ['replayed', sign(payload, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600)],
        ['unsigned', undefined],
        ['garbage header', 't=abc,v1=zz'],
      ];
      for (const [name, sig] of cases) {
        const res = await post(sig);
        count('webhook attacks');
        expect(`${name}: ${res.status} ${String(res.body.code)}`).toBe(`${name}: 400 CONNECT_004`);
      }
      const tampered = await send(
        'POST',
        '/connect/webhooks',
        { ...from, 'stripe-signature': sign(payload, WEBHOOK_SECRET) },
        payload.replace('acct_suite_unknown', 'acct_other'),
      );
      count('webhook attacks');
      expect(tampered.status).toBe(400);
      const good = sign(payload, WEBHOOK_SECRET);
      expect((await post(good)).body).toMatchObject({ received: true, duplicate: false });
      expect((await post(good)).body).toMatchObject({ received: true, duplicate: true });
      count('webhook attacks', 2);
      const rows = await s.db.query('SELECT 1 FROM stripe_webhook_events WHERE stripe_event_id = $1', [id]);
      expect(rows.rowCount).toBe(1);
      await sleep(200);
      const audited = await s.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM audit_log WHERE action = 'webhook.signature_failed' AND created_at > now() - interval '1 minute'`,
      );
      expect(Number(audited.rows[0].n)).toBeGreaterThanOrEqual(5);
    });

    it('OAuth: forged, foreign and reused states are refused', async () => {
      const json = { accept: 'application/json' };
      const forged = await send(
        'GET',
        `/connect/oauth/callback?code=ac_x&state=${randomBytes(24).toString('base64url')}`,
        json,
      );
      count('OAuth state attacks');
      expect(forged).toMatchObject({ status: 400, body: { code: ErrorCode.OAuthFailed } });
      const started = await send('POST', '/connect/oauth/url', headersFor('admin'), { tenant_id: tenantA });
      expect(started.status).toBe(201);
      const state = started.body.state as string;
      secretsUsed.add(state);
      const foreign = await send(
        'GET',
        `/connect/oauth/callback?code=ac_x&state=${state}&tenant_id=${tenantB}`,
        json,
      );
      count('OAuth state attacks');
      expect(foreign).toMatchObject({ status: 400, body: { code: ErrorCode.OAuthFailed } });
      const declined = await send('GET', `/connect/oauth/callback?error=access_denied&state=${state}`, json);
      count('OAuth state attacks');
      expect(declined.status).toBe(400);
      const reused = await send('GET', `/connect/oauth/callback?code=ac_x&state=${state}`, json);
      count('OAuth state attacks');
      expect(reused).toMatchObject({ status: 400, body: { code: ErrorCode.OAuthFailed } });
    });
  });
}
