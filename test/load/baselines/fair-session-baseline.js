/* eslint-disable */
// Fair baseline for Account Session creation (scenario 13): Fastify (logger off) verifies the bearer JWT, checks the
// tenant and the scope, applies the service's own component policy (grantComponents from the build, the same
// function the service calls), makes ONE stripe SDK accountSessions.create against the emulator and answers the
// client_secret with what was granted. The tenant's account and who collects its requirements are known up front
// (BENCH_SESSION_ACCOUNTS), as scenario 3's fair baseline gets the account in the body: no database, no audit row.
const path = require('node:path');
const Fastify = require('fastify');
const { serve, bearerVerifier, emulatorStripe } = require('./child-util');

const POLICY = path.resolve(
  __dirname,
  '../../../dist/apps/connect-service/src/accounts/account-sessions.policy.js',
);
const { COMPONENT_FEATURES, grantComponents } = require(POLICY);
const ORDER = ['platform', 'admin', 'operator', 'viewer'];

async function main() {
  const accounts = JSON.parse(process.env.BENCH_SESSION_ACCOUNTS || '{}');
  const verify = bearerVerifier(process.env.JWT_SECRET);
  const stripe = emulatorStripe();
  const app = Fastify({ logger: false });
  app.post('/accounts/:tenantId/sessions', async (req, reply) => {
    const claims = verify(req);
    if (!claims) return reply.code(401).send({ error: 'unauthorized' });
    const { tenantId } = req.params;
    const roles = claims.roles || [];
    const scopes = String(claims.scope || '').split(' ');
    if (!scopes.includes('accounts:read') || (!roles.includes('platform') && claims.tenant_id !== tenantId))
      return reply.code(403).send({ error: 'forbidden' });
    const requested = (req.body && req.body.components) || {};
    if (!Object.keys(requested).length || Object.keys(requested).some((c) => !COMPONENT_FEATURES[c]))
      return reply.code(400).send({ error: 'components' });
    const account = accounts[tenantId];
    if (!account) return reply.code(404).send({ error: 'not found' });
    const role = ORDER.find((r) => roles.includes(r)) ?? 'viewer';
    const grant = grantComponents(role, requested, account.requirements_collector ?? null);
    if (!Object.keys(grant.components).length) return reply.code(403).send({ refused: grant.refused });
    const session = await stripe.accountSessions.create({
      account: account.id,
      components: grant.components,
    });
    reply.code(201);
    return {
      client_secret: session.client_secret,
      expires_at: new Date(session.expires_at * 1000).toISOString(),
      stripe_account_id: account.id,
      components: grant.components,
      refused: grant.refused,
    };
  });
  await serve(app);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
