/* eslint-disable */
// Baseline for scenarios 4 and 14: Fastify + one ioredis GET of the cached account (or balance) JSON, no auth.
const Fastify = require('fastify');
const Redis = require('ioredis');
const { serve } = require('./child-util');

async function main() {
  const redis = new Redis(process.env.REDIS_URL);
  const app = Fastify({ logger: false });
  const read = (key) => async (req, reply) => {
    const json = await redis.get(`${key}${req.params.tenantId}`);
    if (json === null) return reply.code(404).send({ error: 'not found' });
    return reply.type('application/json').send(json);
  };
  app.get('/accounts/:tenantId', read('bench:account:'));
  app.get('/accounts/:tenantId/balance', read('bench:balance:'));
  await serve(app, async () => redis.quit());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
