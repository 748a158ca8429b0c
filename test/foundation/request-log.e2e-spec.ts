import { api } from '../support/http';
import { bootTestApp, TestApp } from '../support/app';

/** One `request completed` line per request, sampled for successes only when LOG_REQUEST_SAMPLE_RATE asks. */
describe('request log lines', () => {
  let captured: string[] = [];
  let spy: jest.SpyInstance;

  beforeAll(() => {
    spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  });
  afterAll(() => spy.mockRestore());

  const requestLines = () =>
    captured
      .join('')
      .split('\n')
      .filter((l) => l.includes('"request completed"'))
      .map(
        (l) =>
          JSON.parse(l) as { req: { id: string; method: string; path: string }; res: { statusCode: number } },
      );

  async function withApp(rate: string, run: (t: TestApp) => Promise<void>): Promise<void> {
    const t = await bootTestApp({ LOG_LEVEL: 'info', LOG_REQUEST_SAMPLE_RATE: rate });
    try {
      captured = [];
      await run(t);
    } finally {
      await t.close();
    }
  }

  it('writes every request by default: method, path without the query, status, the request id', async () => {
    await withApp('1', async (t) => {
      const ok = await api(t)('GET', '/health/ready?secret_code=abc', {
        headers: { 'x-request-id': 'req-log-1' },
      });
      expect(ok.status).toBe(200);
      const refused = await api(t)('GET', '/connect/payments');
      expect(refused.status).toBe(401);
      const lines = requestLines();
      expect(lines).toContainEqual(
        expect.objectContaining({
          req: { id: 'req-log-1', method: 'GET', path: '/health/ready' },
          res: { statusCode: 200 },
        }),
      );
      expect(lines).toContainEqual(
        expect.objectContaining({
          req: expect.objectContaining({ path: '/connect/payments' }),
          res: { statusCode: 401 },
        }),
      );
      expect(captured.join('')).not.toContain('secret_code');
    });
  });

  it('with a sample rate of 0 keeps every error and no success', async () => {
    await withApp('0', async (t) => {
      for (let i = 0; i < 5; i++) expect((await api(t)('GET', '/health/ready')).status).toBe(200);
      expect((await api(t)('GET', '/connect/payments')).status).toBe(401);
      const lines = requestLines();
      expect(lines.map((l) => l.res.statusCode)).toEqual([401]);
    });
  });
});
