import { resolve } from 'node:path';
import { registeredRoutes } from './index';
import {
  buildParamTable,
  findSpec,
  readSpec,
  REGENERATE_COMMAND,
  routeShape,
  stripeRoutes,
  UNDESCRIBED_ROUTES,
} from './generate-param-table';
import committed from './stripe-params.json';

const repoRoot = resolve(__dirname, '../../..');

describe('the committed parameter table (stripe-params.json)', () => {
  let routes: Array<{ method: string; url: string }>;
  beforeAll(async () => {
    routes = await registeredRoutes();
  });

  it('covers every Stripe route the emulator registers, or lists it with a reason', () => {
    const described = new Set(
      Object.keys(committed.operations).map((op) => {
        const [method, template] = op.split(' ');
        return `${method} ${routeShape(template)}`;
      }),
    );
    const excepted = new Set(UNDESCRIBED_ROUTES.map((r) => r.route));
    const uncovered = stripeRoutes(routes).filter((key) => {
      const [method, url] = key.split(' ');
      return !excepted.has(key) && !described.has(`${method} ${routeShape(url)}`);
    });
    expect({ uncovered, regenerate: REGENERATE_COMMAND }).toEqual({
      uncovered: [],
      regenerate: REGENERATE_COMMAND,
    });
    expect(stripeRoutes(routes).length).toBeGreaterThan(20);
    expect(committed.notice).toContain('MIT');
    expect(committed.spec_version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  const spec = findSpec(repoRoot);
  // Stripe's description is optional (a plain clone has none); where it is, the table must be current.
  (spec ? it : it.skip)('equals a fresh generation from Stripe’s OpenAPI description', () => {
    const fresh = buildParamTable(readSpec(spec as string), routes);
    const stale = JSON.stringify(fresh) !== JSON.stringify(committed);
    if (stale) {
      throw new Error(
        `apps/stripe-emulator/src/stripe-params.json is stale (emulator routes or ${spec} changed): run \`${REGENERATE_COMMAND}\` and commit it`,
      );
    }
    expect(committed).toEqual(fresh);
  });
});
