/* eslint-disable */
// Fair baseline for the cached account read (scenario 4): Fastify (logger off) verifies the bearer JWT the service
// gets (HS256, KeyObject), does one ioredis GET and sends the cached JSON string as is. Nothing else.
const Fastify = require('fastify');
const Redis = require('ioredis');
const { serve, bearerVerifier } = require('./child-util');

async function main() {
  const redis = new Redis(process.env.REDIS_URL);
  const verify = bearerVerifier(process.env.JWT_SECRET);
  const app = Fastify({ logger: false });
  app.get('/accounts/:tenantId', async (req, reply) => {
    if (!verify(req)) return reply.code(401).send({ error: 'unauthorized' });
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
