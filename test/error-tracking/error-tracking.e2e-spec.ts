import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Controller, Get, Module, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Roles } from '@app/auth';
import { AppModule } from '../../apps/connect-service/src/app.module';
import { EventsService } from '../../apps/connect-service/src/events/events.service';
import { installProcessSafetyNet } from '../../apps/connect-service/src/process-lifecycle';
import { JobQueue } from '../../apps/connect-service/src/queue/job-queue.service';
import { api } from '../support/http';
import { eventually, sleep } from '../utils/eventually';
import { bootTestApp, TestApp, uniqueTenant } from '../support/app';
import { SentryReceiver } from './sentry-receiver';

/** Secrets a careless error message could carry; none may reach the tracker. */
const PLANTED = {
  stripeKey: 'sk_test_PLANTEDstripeKey0123456789',
  webhookSecret: 'whsec_PLANTEDwebhookSecret0123',
  clientSecret: 'pi_3PLANTED_secret_PLANTEDclientSecret',
  card: '4242 4242 4242 4242',
  apiKey: 'ck_test_PLANTEDapikey_0123456789abcdef',
};
const STRIPE_REQUEST_ID = 'req_PLANTEDrequest42';

@Controller('test-only')
class BoomController {
  @Get('boom')
  @Roles('viewer')
  boom(@Query('n') n?: string): never {
    throw Object.assign(
      new Error(
        `planted failure ${n ?? ''} with ${PLANTED.stripeKey}, ${PLANTED.webhookSecret}, ${PLANTED.clientSecret}, ` +
          `card ${PLANTED.card} and key ${PLANTED.apiKey}`,
      ),
      { requestId: STRIPE_REQUEST_ID },
    );
  }

  @Get('missing')
  @Roles('viewer')
  missing(): never {
    throw Object.assign(new Error('not found'), { status: 404, response: { statusCode: 404 } });
  }
}

@Module({ imports: [AppModule], controllers: [BoomController] })
class AppWithBoom {}

const some = <T>(xs: T[]): T[] | null => (xs.length ? xs : null);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('error tracking (Sentry protocol)', () => {
  describe('reports to a local receiver', () => {
    let receiver: SentryReceiver;
    let t: TestApp;
    const tenant = uniqueTenant();
    let token: string;

    beforeAll(async () => {
      receiver = await SentryReceiver.start();
      t = await bootTestApp(
        {
          SENTRY_DSN: receiver.dsn,
          SENTRY_ENVIRONMENT: 'e2e',
          JOB_POLL_INTERVAL_SECONDS: '0.5',
          EVENT_DELIVERY_RETRY_SCHEDULE: '1',
          EVENT_SUBSCRIPTION_DISABLE_AFTER: '1',
        },
        AppWithBoom,
      );
      token = t.token({ sub: 'u1', tenant_id: tenant, roles: ['viewer'] });
    });
    afterAll(async () => {
      await t?.close();
      await receiver?.close();
    });

    it('sends a forced 500 once, tagged, and no 4xx at all', async () => {
      const res = await api(t)('GET', '/test-only/boom?secret=sk_test_PLANTEDquery', {
        token,
        headers: { 'x-request-id': 'req-e2e-boom-1' },
      });
      expect(res.status).toBe(500);
      expect((await api(t)('GET', '/connect/payments?limit=1')).status).toBe(401);
      expect((await api(t)('GET', '/connect/payments?limit=0', { token })).status).toBe(400);
      expect((await api(t)('GET', '/no-such-route', { token })).status).toBe(404);
      const [event] = await eventually('the 500 at the receiver', () => some(receiver.eventsOf('http_5xx')));
      await sleep(500);
      expect(receiver.eventsOf('http_5xx')).toHaveLength(1);
      expect(event.tags).toMatchObject({
        kind: 'http_5xx',
        request_id: 'req-e2e-boom-1',
        route: 'GET /test-only/boom',
        tenant_id: tenant,
        stripe_request_id: STRIPE_REQUEST_ID,
      });
      expect(event.environment).toBe('e2e');
      expect(event.release).toBe('0.1.0');
      expect(event.exception?.values?.[0]?.value).toContain('planted failure');
    });

    it('sends a job once it reaches its dead letter, not on every retry', async () => {
      const queue = t.app.get(JobQueue);
      const name = `test.boom_${Math.random().toString(36).slice(2, 8)}`;
      await queue.define({ name, retryLimit: 2, retryDelaySeconds: 1, retryBackoff: false });
      let attempts = 0;
      await queue.work(name, {}, async () => {
        attempts += 1;
        throw new Error(`job failed holding ${PLANTED.webhookSecret}`);
      });
      await queue.send(name, { payload: PLANTED.webhookSecret });
      const [event] = await eventually(
        'the dead letter at the receiver',
        () => some(receiver.eventsOf('dead_letter')),
        {
          timeoutMs: 30_000,
        },
      );
      await eventually(
        'the dead-letter queue to hold the job',
        async () => (await queue.queueSize(`${name}.dead`)) === 1,
      );
      expect(attempts).toBe(3);
      await sleep(500);
      expect(receiver.eventsOf('dead_letter')).toHaveLength(1);
      expect(event.tags).toMatchObject({ kind: 'dead_letter', job: name });
    });

    it('sends an outbound subscription once it is disabled, not each failed delivery', async () => {
      const down = createServer((_req, res) => res.writeHead(503).end());
      await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(down.address() as AddressInfo).port}/hooks`;
        const admin = t.token({ sub: 'a', tenant_id: tenant, roles: ['admin'] });
        const sub = await api(t)('POST', '/connect/event-subscriptions', {
          token: admin,
          body: { url, event_types: ['*'] },
        });
        expect(sub.status).toBe(201);
        await t.app
          .get(DataSource)
          .transaction((m) =>
            t.app.get(EventsService).emit(m, { type: 'connect.refund.failed', tenant_id: tenant, data: {} }),
          );
        const [event] = await eventually(
          'the disabled subscription at the receiver',
          () => some(receiver.eventsOf('subscription_disabled')),
          { timeoutMs: 30_000 },
        );
        await sleep(500);
        expect(receiver.eventsOf('subscription_disabled')).toHaveLength(1);
        expect(event.tags).toMatchObject({
          tenant_id: tenant,
          subscription_id: (sub.body as { id: string }).id,
        });
      } finally {
        await new Promise<void>((resolve) => down.close(() => resolve()));
      }
    });

    it('sends an unhandled rejection once', async () => {
      installProcessSafetyNet(() => undefined);
      // Jest keeps the real process's `unhandledRejection` to itself (it fails the test) and hands the suite a copy
      // of `process`; so the event Node would emit is emitted on the process object the service's handler uses.
      const reason = new Error(`nobody awaited this (${PLANTED.stripeKey})`);
      const rejected = Promise.reject(reason);
      rejected.catch(() => undefined);
      process.emit('unhandledRejection', reason, rejected);
      const [event] = await eventually('the unhandled rejection at the receiver', () =>
        some(receiver.eventsOf('unhandled_rejection')),
      );
      await sleep(300);
      expect(receiver.eventsOf('unhandled_rejection')).toHaveLength(1);
      expect(event.exception?.values?.[0]?.value).toContain('nobody awaited this');
    });

    it('never sends a planted secret or the caller’s token', () => {
      const all = receiver.raw.join('\n');
      // One each: nothing for the 401, 400 and 404 answers, nor for failed delivery attempts or job retries.
      expect(receiver.events.map((e) => e.tags.kind).sort()).toEqual([
        'dead_letter',
        'http_5xx',
        'subscription_disabled',
        'unhandled_rejection',
      ]);
      for (const secret of [...Object.values(PLANTED), token, 'PLANTEDquery', '4242424242424242']) {
        expect(all).not.toContain(secret);
      }
    });
  });

  it('keeps request latency when the tracker hangs (same run, compared with no DSN)', async () => {
    const measure = async (env: Record<string, string>): Promise<{ median: number; dropped: number }> => {
      const t = await bootTestApp(env, AppWithBoom);
      try {
        const token = t.token({ sub: 'u', tenant_id: uniqueTenant(), roles: ['viewer'] });
        // Each failure its own (identical consecutive errors are deduplicated before the transport).
        let n = 0;
        const call = () => api(t)('GET', `/test-only/boom?n=${++n}`, { token });
        for (let i = 0; i < 20; i++) await call();
        const times: number[] = [];
        for (let i = 0; i < 150; i++) {
          const started = process.hrtime.bigint();
          expect((await call()).status).toBe(500);
          times.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
        const droppedNow = async () =>
          Number(
            /connect_error_reports_dropped_total\{reason="queue_overflow"\} (\d+)/.exec(
              (await api(t)('GET', '/metrics')).raw,
            )?.[1] ?? 0,
          );
        // Reports are built after their requests answer; give the last ones a moment to reach the transport.
        const dropped = env.SENTRY_DSN
          ? await eventually('reports dropped on overflow', async () =>
              (await droppedNow()) > 100 ? droppedNow() : 0,
            )
          : await droppedNow();
        return { median: median(times), dropped };
      } finally {
        await t.close();
      }
    };
    const hanging = await SentryReceiver.start({ hang: true });
    try {
      const without = await measure({});
      const down = await measure({ SENTRY_DSN: hanging.dsn, SENTRY_MAX_QUEUED_REPORTS: '10' });
      process.stdout.write(
        `[error tracking] median 500 latency: ${without.median.toFixed(2)} ms without DSN, ${down.median.toFixed(2)} ms with the tracker hanging (${down.dropped} reports dropped)\n`,
      );
      expect(without.dropped).toBe(0);
      expect(down.dropped).toBeGreaterThan(100);
      expect(down.median / without.median).toBeLessThan(1.5);
    } finally {
      await hanging.close();
    }
  });
});
