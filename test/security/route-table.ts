import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IS_PUBLIC_KEY, Role, ROLES_KEY, SCOPES_KEY } from '@app/auth';
import { DIRECT_ROUTES } from '../../apps/connect-service/src/http/direct-routes';

/** Where a route names the tenant it acts for (the TenantGuard's three sources), or 'none'. */
export type TenantSource = 'path' | 'body' | 'query' | 'none';

/** A seeded resource of another tenant that a `:id` route must not reveal. */
export type ResourceKind =
  'payment' | 'connect_event' | 'event_subscription' | 'webhook_event' | 'api_key' | 'reconciliation_run';

export type Rule =
  | { public: true }
  | { public?: false; role: Role; scopes: string[]; tenant: TenantSource; resource?: ResourceKind };

export interface DiscoveredRoute {
  key: string;
  method: string;
  path: string;
  isPublic: boolean;
  role: Role | undefined;
  scopes: string[];
}

const METHODS: Partial<Record<RequestMethod, string>> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.DELETE]: 'DELETE',
  [RequestMethod.PATCH]: 'PATCH',
};

function join(...parts: (string | undefined)[]): string {
  const p = parts
    .flatMap((x) => (x ?? '').split('/'))
    .filter(Boolean)
    .join('/');
  return `/${p}`;
}

/** Every route of the running app with the auth metadata the guards read (class and method, as the guards combine them). */
export function discoverRoutes(app: NestFastifyApplication): DiscoveredRoute[] {
  const routes: DiscoveredRoute[] = [];
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!ctrl) continue;
      const base = Reflect.getMetadata(PATH_METADATA, ctrl) as string | string[] | undefined;
      const proto = ctrl.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === 'constructor') continue;
        const handler = proto[name];
        if (typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        const sub = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (method === undefined || sub === undefined) continue;
        const pick = <T>(k: string): T | undefined =>
          (Reflect.getMetadata(k, handler) as T | undefined) ??
          (Reflect.getMetadata(k, ctrl) as T | undefined);
        const scopes = [
          ...((Reflect.getMetadata(SCOPES_KEY, ctrl) as string[] | undefined) ?? []),
          ...((Reflect.getMetadata(SCOPES_KEY, handler) as string[] | undefined) ?? []),
        ];
        for (const b of Array.isArray(base) ? base : [base]) {
          for (const s of Array.isArray(sub) ? sub : [sub]) {
            const m = METHODS[method] ?? String(method);
            const path = join(b, s);
            routes.push({
              key: `${m} ${path}`,
              method: m,
              path,
              isPublic: pick<boolean>(IS_PUBLIC_KEY) === true,
              role: pick<Role>(ROLES_KEY),
              scopes,
            });
          }
        }
      }
    }
  }
  // Served straight from Fastify: public, each checking its own proof.
  for (const r of DIRECT_ROUTES) {
    routes.push({
      key: `${r.method} ${r.url}`,
      method: r.method,
      path: r.url,
      isPublic: true,
      role: undefined,
      scopes: [],
    });
  }
  return routes.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * The EXPECTED access rule of every endpoint. A route the app serves that is missing here fails the suite:
 * add its rule (and think about who may call it) when adding an endpoint.
 */
export const EXPECTED_RULES: Record<string, Rule> = {
  'GET /health/live': { public: true },
  'GET /health/ready': { public: true },
  'GET /metrics': { public: true },
  'GET /connect/oauth/callback': { public: true },
  'POST /connect/webhooks': { public: true },

  'POST /connect/oauth/url': { role: 'admin', scopes: ['accounts:write'], tenant: 'body' },
  'GET /connect/accounts/:tenantId': { role: 'viewer', scopes: ['accounts:read'], tenant: 'path' },
  'PUT /connect/accounts/:tenantId': { role: 'admin', scopes: ['accounts:write'], tenant: 'path' },
  'DELETE /connect/accounts/:tenantId': { role: 'admin', scopes: ['accounts:write'], tenant: 'path' },
  'POST /connect/accounts/:tenantId/onboarding': {
    role: 'admin',
    scopes: ['accounts:write'],
    tenant: 'path',
  },

  'POST /connect/payments': { role: 'operator', scopes: ['payments:write'], tenant: 'body' },
  'GET /connect/payments': { role: 'viewer', scopes: ['payments:read'], tenant: 'query' },
  'GET /connect/payments/:id': {
    role: 'viewer',
    scopes: ['payments:read'],
    tenant: 'none',
    resource: 'payment',
  },
  'POST /connect/payments/:id/refunds': {
    role: 'operator',
    scopes: ['payments:write'],
    tenant: 'none',
    resource: 'payment',
  },
  'POST /connect/routing/rule-sets': { role: 'platform', scopes: ['payments:write'], tenant: 'none' },
  'GET /connect/routing/rule-sets': { role: 'platform', scopes: ['payments:read'], tenant: 'none' },
  'GET /connect/routing/rule-sets/:id': { role: 'platform', scopes: ['payments:read'], tenant: 'none' },
  'POST /connect/routing/rule-sets/:id/validate': {
    role: 'platform',
    scopes: ['payments:read'],
    tenant: 'none',
  },
  'POST /connect/routing/rule-sets/:id/simulate': {
    role: 'platform',
    scopes: ['payments:read'],
    tenant: 'none',
  },
  'POST /connect/routing/rule-sets/:id/replay': {
    role: 'platform',
    scopes: ['payments:read'],
    tenant: 'none',
  },
  'POST /connect/routing/rule-sets/:id/activate': {
    role: 'platform',
    scopes: ['payments:write'],
    tenant: 'none',
  },
  'POST /connect/routing/rollback': { role: 'platform', scopes: ['payments:write'], tenant: 'none' },
  'GET /connect/routing/active': { role: 'platform', scopes: ['payments:read'], tenant: 'none' },
  'POST /connect/reconciliation/runs': { role: 'admin', scopes: ['payments:write'], tenant: 'body' },
  'GET /connect/reconciliation/runs': { role: 'viewer', scopes: ['payments:read'], tenant: 'query' },
  'GET /connect/reconciliation/runs/:id': {
    role: 'viewer',
    scopes: ['payments:read'],
    tenant: 'none',
    resource: 'reconciliation_run',
  },
  'GET /connect/reconciliation/runs/:id/items': {
    role: 'viewer',
    scopes: ['payments:read'],
    tenant: 'none',
    resource: 'reconciliation_run',
  },
  'POST /connect/reconciliation/items/:id/resolve': {
    role: 'admin',
    scopes: ['payments:write'],
    tenant: 'none',
  },
  'POST /connect/subscriptions': { role: 'operator', scopes: ['payments:write'], tenant: 'body' },
  // Tenant callers are scoped inside the query (their tenant_id filter is forced), so no tenant source.
  'POST /connect/analytics/query': { role: 'viewer', scopes: ['payments:read'], tenant: 'none' },
  'DELETE /connect/subscriptions/:id': {
    role: 'operator',
    scopes: ['payments:write'],
    tenant: 'none',
    resource: 'payment',
  },

  'GET /connect/events': { role: 'viewer', scopes: ['events:read'], tenant: 'query' },
  'GET /connect/events/:id': {
    role: 'viewer',
    scopes: ['events:read'],
    tenant: 'none',
    resource: 'connect_event',
  },
  'GET /connect/events/:id/deliveries': {
    role: 'admin',
    scopes: ['events:read'],
    tenant: 'none',
    resource: 'connect_event',
  },
  'POST /connect/events/:id/redeliver': {
    role: 'admin',
    scopes: ['events:write'],
    tenant: 'none',
    resource: 'connect_event',
  },
  'POST /connect/event-subscriptions': { role: 'admin', scopes: ['events:write'], tenant: 'body' },
  'GET /connect/event-subscriptions': { role: 'admin', scopes: ['events:read'], tenant: 'query' },
  'GET /connect/event-subscriptions/:id': {
    role: 'admin',
    scopes: ['events:read'],
    tenant: 'none',
    resource: 'event_subscription',
  },
  'DELETE /connect/event-subscriptions/:id': {
    role: 'admin',
    scopes: ['events:write'],
    tenant: 'none',
    resource: 'event_subscription',
  },
  'POST /connect/event-subscriptions/:id/enable': {
    role: 'admin',
    scopes: ['events:write'],
    tenant: 'none',
    resource: 'event_subscription',
  },

  'GET /connect/webhooks/events': { role: 'admin', scopes: ['webhooks:read'], tenant: 'query' },
  'GET /connect/webhooks/events/:id': {
    role: 'admin',
    scopes: ['webhooks:read'],
    tenant: 'none',
    resource: 'webhook_event',
  },
  'POST /connect/webhooks/events/:id/replay': {
    role: 'admin',
    scopes: ['webhooks:write'],
    tenant: 'none',
    resource: 'webhook_event',
  },
  'POST /connect/webhooks/backfill': { role: 'platform', scopes: ['webhooks:write'], tenant: 'none' },

  'POST /connect/api-keys': { role: 'platform', scopes: [], tenant: 'body' },
  'POST /connect/auth/revocations': { role: 'admin', scopes: [], tenant: 'body' },
  'GET /connect/auth/revocations': { role: 'admin', scopes: [], tenant: 'query' },
  'GET /connect/api-keys': { role: 'platform', scopes: [], tenant: 'query' },
  'DELETE /connect/api-keys/:id': { role: 'platform', scopes: [], tenant: 'none', resource: 'api_key' },
  'POST /connect/api-keys/:id/rotate': { role: 'platform', scopes: [], tenant: 'none', resource: 'api_key' },

  'GET /connect/audit-log': { role: 'admin', scopes: [], tenant: 'query' },
};
