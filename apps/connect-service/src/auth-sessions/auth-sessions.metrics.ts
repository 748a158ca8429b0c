import { metric } from '@app/common';

export const REVOCATION_KINDS = ['jti', 'sid', 'sub', 'tenant'] as const;

export const revocationsCreated = metric.counter({
  name: 'connect_auth_revocations_total',
  help: 'JWT revocations created, by kind (jti, sid, sub, tenant)',
  labelNames: ['kind'],
});

export const revokedTokenRefusals = metric.counter({
  name: 'connect_auth_revoked_token_refusals_total',
  help: 'Requests refused because their JWT is covered by a revocation, by the revocation kind',
  labelNames: ['kind'],
});

export const revocationsActive = metric.gauge({
  name: 'connect_auth_revocations_active',
  help: 'Active revocations held in memory by this replica',
});

export const revocationSyncErrors = metric.counter({
  name: 'connect_auth_revocation_sync_errors_total',
  help: 'Failed reads of new revocations from PostgreSQL (the replica keeps what it already has)',
});

// Every series a dashboard or rule names exists from the first scrape.
for (const kind of REVOCATION_KINDS) {
  revocationsCreated.inc({ kind }, 0);
  revokedTokenRefusals.inc({ kind }, 0);
}
revocationSyncErrors.inc(0);
