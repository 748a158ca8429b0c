/* eslint-disable */
// What every bare baseline shares: listen on an ephemeral port, report it over IPC, exit with the parent.
const { createSecretKey } = require('node:crypto');

async function serve(app, onClose) {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address();
  process.send({ ready: true, url: `http://127.0.0.1:${port}`, pid: process.pid });
  const stop = async () => {
    await app.close().catch(() => {});
    if (onClose) await onClose().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

/**
 * The fair baselines' bearer check: HS256 with a KeyObject built once, as the service verifies (a string secret
 * would make jsonwebtoken try createPublicKey first on every call). Returns the claims, or null (answer 401).
 */
function bearerVerifier(secret) {
  const jwt = require('jsonwebtoken');
  const key = createSecretKey(Buffer.from(secret));
  return (req) => {
    const h = req.headers.authorization;
    if (!h || !h.startsWith('Bearer ')) return null;
    try {
      return jwt.verify(h.slice(7), key, { algorithms: ['HS256'] });
    } catch {
      return null;
    }
  };
}

/** The SDK against the emulator at STRIPE_API_BASE, as the service is configured (no retries). */
function emulatorStripe() {
  const Stripe = require('stripe');
  const api = new URL(process.env.STRIPE_API_BASE);
  return new Stripe('sk_test_bench', {
    host: api.hostname,
    port: Number(api.port),
    protocol: api.protocol.replace(':', ''),
    maxNetworkRetries: 0,
  });
}

module.exports = {
  serve,
  bearerVerifier,
  emulatorStripe,
  poolSize: () => Number(process.env.DATABASE_POOL_SIZE || 10),
};
