#!/usr/bin/env node
/**
 * Writes apps/stripe-emulator/src/stripe-params.json: for each route the emulator registers, the parameters
 * Stripe's OpenAPI description accepts. Run `npm run emulator:params` (it builds first) after adding an
 * emulator endpoint. The description (spec3.json from https://github.com/stripe/openapi, gzipped or not) is
 * the first argument, else STRIPE_OPENAPI_SPEC, else ../shared/stripe-openapi/spec3.json.gz beside the repository.
 */
const { writeFileSync } = require('node:fs');
const { resolve } = require('node:path');

const root = resolve(__dirname, '../../..');
const dist = resolve(root, 'dist/apps/stripe-emulator/src');
const outPath = resolve(root, 'apps/stripe-emulator/src/stripe-params.json');

async function main() {
  const { registeredRoutes } = require(resolve(dist, 'index.js'));
  const { buildParamTable, findSpec, readSpec } = require(resolve(dist, 'generate-param-table.js'));
  const specPath = process.argv[2] ? resolve(process.argv[2]) : findSpec(root);
  if (!specPath) {
    throw new Error(
      'no Stripe OpenAPI description found: pass the path of spec3.json[.gz] (https://github.com/stripe/openapi) as the argument or STRIPE_OPENAPI_SPEC',
    );
  }
  const table = buildParamTable(readSpec(specPath), await registeredRoutes());
  writeFileSync(outPath, `${JSON.stringify(table, null, 2)}\n`);
  const keys = Object.values(table.operations).reduce((n, k) => n + k.length, 0);
  process.stdout.write(
    `wrote ${outPath}: ${Object.keys(table.operations).length} operations, ${keys} parameters (Stripe API ${table.spec_version}, from ${specPath})\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
