/* eslint-disable */
// Fair baseline for the cached reads (scenarios 4 and 14): Fastify (logger off) verifies the bearer JWT the service
// gets (HS256, KeyObject), does one ioredis GET and sends the cached JSON string as is. Nothing else.
// BENCH_REVOCATION_CHECK=1 (scenario 4's "fair + revocation" side) adds what the service's JWT revocation costs: every
// active auth_revocations row in memory, new ones read every REVOCATION_SYNC_INTERVAL_MS with the service's query
// (watermark and overlap as it keeps them), and on every request a lookup per form the token could be revoked by.
const Fastify = require('fastify');
const Redis = require('ioredis');
const { Pool } = require('pg');
const { serve, bearerVerifier } = require('./child-util');
const { revocationIndex } = require('./revocation-index');

async function main() {
  const redis = new Redis(process.env.REDIS_URL);
  const verify = bearerVerifier(process.env.JWT_SECRET);
  const checkRevocations = process.env.BENCH_REVOCATION_CHECK === '1';
  let pool = null;
  let revocations = null;
  if (checkRevocations) {
    pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
    revocations = revocationIndex(pool, Number(process.env.REVOCATION_SYNC_INTERVAL_MS || 250));
    await revocations.start();
  }
  const app = Fastify({ logger: false });
  const read = (key) => async (req, reply) => {
    const claims = verify(req);
    if (!claims) return reply.code(401).send({ error: 'unauthorized' });
    if (revocations && revocations.revoked(claims)) return reply.code(401).send({ error: 'revoked' });
    const json = await redis.get(`${key}${req.params.tenantId}`);
    if (json === null) return reply.code(404).send({ error: 'not found' });
    return reply.type('application/json').send(json);
  };
  app.get('/accounts/:tenantId', read('bench:account:'));
  app.get('/accounts/:tenantId/balance', read('bench:balance:'));
  await serve(app, async () => {
    if (revocations) revocations.stop();
    await redis.quit();
    if (pool) await pool.end();
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
