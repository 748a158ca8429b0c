/* eslint-disable */
// Load generator in its own process: bench.js sends jobs over IPC, one at a time; this runs autocannon for each and
// answers a summary. Request bodies are built here (functions cannot cross the IPC boundary), from a `kind` and params.
const crypto = require('node:crypto');
const autocannon = require('autocannon');

function stripeSignature(secret, body) {
  const t = Math.floor(Date.now() / 1000);
  const v1 = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

// `created` is the wall clock in seconds, so it never decreases: events of one account in the same second count as
// fresh (isStaleEvent), later ones are newer, and none is refused as stale for being older.
function webhookEvent(id, account, type = 'customer.created') {
  const object =
    type === 'account.updated'
      ? {
          id: account,
          object: 'account',
          type: 'express',
          charges_enabled: true,
          payouts_enabled: true,
          details_submitted: true,
          metadata: {},
        }
      : { id: `cus_${id.slice(-20)}`, object: 'customer', name: 'Bench Customer', metadata: {} };
  return JSON.stringify({
    id,
    object: 'event',
    account,
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });
}

/** Returns {requests, stats}: autocannon request definitions plus counters filled while it runs. */
function build(job) {
  const p = job.params;
  const stats = { sent: 0, ok: 0, notDuplicate: 0, duplicate: 0, statuses: {} };
  const count = (status, body) => {
    stats.statuses[status] = (stats.statuses[status] || 0) + 1;
    if (status >= 200 && status < 300) {
      stats.ok++;
      if (body && body.includes('"duplicate":false')) stats.notDuplicate++;
      else if (body && body.includes('"duplicate":true')) stats.duplicate++;
    }
  };
  if (job.kind === 'webhook') {
    // Each event goes out `copies` times back to back; with many connections pulling from this one sequence the
    // copies are in flight at the same moment (scenario 2's duplicate storm). copies = 1: unique events.
    const copies = p.copies || 1;
    let n = 0;
    let current = null;
    return {
      stats,
      requests: [
        {
          method: 'POST',
          path: p.path,
          setupRequest: (req) => {
            if (n % copies === 0) {
              const id = `${p.prefix}${(n / copies).toString(36)}_${crypto.randomBytes(6).toString('hex')}`;
              const body = webhookEvent(id, p.account);
              current = { body, sig: stripeSignature(p.secret, body) };
            }
            n++;
            stats.sent++;
            return {
              ...req,
              method: 'POST',
              path: p.path,
              body: current.body,
              headers: { 'content-type': 'application/json', 'stripe-signature': current.sig },
            };
          },
          onResponse: (status, body) => count(status, body),
        },
      ],
    };
  }
  // One signed event per request, a new id each: `body(i, id)` builds the i-th event.
  const signedEvents = (body) => {
    let n = 0;
    return {
      stats,
      requests: [
        {
          method: 'POST',
          path: p.path,
          setupRequest: (req) => {
            const i = n++;
            stats.sent++;
            const payload = body(i, `${p.prefix}${i.toString(36)}_${crypto.randomBytes(6).toString('hex')}`);
            return {
              ...req,
              method: 'POST',
              path: p.path,
              body: payload,
              headers: {
                'content-type': 'application/json',
                'stripe-signature': stripeSignature(p.secret, payload),
              },
            };
          },
          onResponse: (status, body) => count(status, body),
        },
      ],
    };
  };
  if (job.kind === 'webhook-mix') {
    // Processing-keeps-up burst: every other event is an account.updated of one of `accounts` (its handler re-fetches
    // the account from Stripe and applies it), the rest customer.created (no handler), round robin over the accounts.
    return signedEvents((i, id) =>
      webhookEvent(
        id,
        p.accounts[Math.floor(i / 2) % p.accounts.length],
        i % 2 === 0 ? 'account.updated' : 'customer.created',
      ),
    );
  }
  if (job.kind === 'thin') {
    // Thin notifications (object "v2.core.event") of one connected account, signed like v1 deliveries with the
    // event destination's secret (https://docs.stripe.com/event-destinations#thin-payload).
    return signedEvents((i, id) =>
      JSON.stringify({
        id,
        object: 'v2.core.event',
        type: 'v2.core.account[requirements].updated',
        created: new Date().toISOString(),
        livemode: false,
        context: p.account,
        related_object: { id: p.account, type: 'v2.core.account', url: `/v2/core/accounts/${p.account}` },
      }),
    );
  }
  if (job.kind === 'post') {
    // One JSON body sent as is on every request (e.g. an Account Session's components), with the bearer token.
    const body = JSON.stringify(p.body);
    return {
      stats,
      requests: [
        {
          method: 'POST',
          path: p.path,
          setupRequest: (req) => {
            stats.sent++;
            return {
              ...req,
              method: 'POST',
              path: p.path,
              body,
              headers: {
                'content-type': 'application/json',
                ...(p.token ? { authorization: `Bearer ${p.token}` } : {}),
              },
            };
          },
          onResponse: (status) => count(status),
        },
      ],
    };
  }
  if (job.kind === 'payment') {
    return {
      stats,
      requests: [
        {
          method: 'POST',
          path: p.path,
          setupRequest: (req) => {
            stats.sent++;
            const body = JSON.stringify({
              tenant_id: p.tenant,
              ...(p.stripeAccount ? { stripe_account: p.stripeAccount } : {}),
              payment_data: {
                amount: 1000 + (stats.sent % 5000),
                currency: 'usd',
                payment_method: 'pm_card_visa',
                confirm: true,
              },
            });
            return {
              ...req,
              method: 'POST',
              path: p.path,
              body,
              headers: {
                'content-type': 'application/json',
                'idempotency-key': `bench-${crypto.randomUUID()}`,
                ...(p.token ? { authorization: `Bearer ${p.token}` } : {}),
              },
            };
          },
          onResponse: (status) => count(status),
        },
      ],
    };
  }
  if (job.kind === 'stripe-charge') {
    // Another backend (or the Dashboard) charging the same connected account directly at Stripe.
    return {
      stats,
      requests: [
        {
          method: 'POST',
          path: '/v1/payment_intents',
          setupRequest: (req) => {
            stats.sent++;
            return {
              ...req,
              method: 'POST',
              path: '/v1/payment_intents',
              body: `amount=${1000 + (stats.sent % 5000)}&currency=usd&payment_method=pm_card_visa&confirm=true`,
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                authorization: `Bearer ${p.key}`,
                'stripe-account': p.account,
              },
            };
          },
          onResponse: (status) => count(status),
        },
      ],
    };
  }
  if (job.kind === 'get') {
    let i = 0;
    return {
      stats,
      requests: [
        {
          method: 'GET',
          setupRequest: (req) => {
            stats.sent++;
            const path = p.paths[i++ % p.paths.length];
            return {
              ...req,
              method: 'GET',
              path,
              headers: p.token ? { authorization: `Bearer ${p.token}` } : {},
            };
          },
          onResponse: (status) => count(status),
        },
      ],
    };
  }
  throw new Error(`unknown kind ${job.kind}`);
}

process.on('message', async (job) => {
  try {
    const { requests, stats } = build(job);
    const result = await autocannon({
      url: job.url,
      connections: job.connections,
      // `amount`: a fixed number of requests (e.g. one pass over every path) instead of a duration.
      ...(job.amount ? { amount: job.amount } : { duration: job.duration }),
      timeout: 10,
      requests,
    });
    process.send({
      ok: true,
      result: {
        requests_total: result.requests.total,
        req_per_s: result.requests.average,
        p50_ms: result.latency.p50,
        p99_ms: result.latency.p99,
        max_ms: result.latency.max,
        non_2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        stats,
      },
    });
  } catch (err) {
    process.send({ ok: false, error: String(err && err.stack ? err.stack : err) });
  }
});

process.on('disconnect', () => process.exit(0));
