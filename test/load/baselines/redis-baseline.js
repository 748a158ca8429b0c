/* eslint-disable */
// Baseline for scenario 4: Fastify + one ioredis GET of the cached account JSON.
const Fastify = require('fastify');
const Redis = require('ioredis');
const { serve } = require('./child-util');

async function main() {
  const redis = new Redis(process.env.REDIS_URL);
  const app = Fastify({ logger: false });
  app.get('/accounts/:tenantId', async (req, reply) => {
    const json = await redis.get(`bench:account:${req.params.tenantId}`);
    if (json === null) return reply.code(404).send({ error: 'not found' });
    return reply.type('application/json').send(json);
  });
  await serve(app, async () => redis.quit());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
