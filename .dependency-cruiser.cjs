/**
 * Architecture rules checked by `npm run depcruise` (part of `npm run lint`, so CI fails on an error).
 * DESIGN §5: one gateway to Stripe; libraries never reach into applications; production code ships only
 * with `dependencies` (the Docker image installs `npm ci --omit=dev`).
 * @type {import('dependency-cruiser').IConfiguration}
 */
const SPEC = '[.](?:spec|e2e-spec)[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'only-gateway-imports-stripe',
      severity: 'error',
      comment:
        'Only libs/stripe-gateway (StripeGateway, the one door to Stripe) and apps/stripe-emulator (which plays ' +
        'Stripe) may import the stripe package; tests may use it as the client. Everything else goes through ' +
        'StripeGateway from @app/stripe-gateway. Type-only imports count too (tsPreCompilationDeps).',
      from: { pathNot: '^(libs/stripe-gateway|apps/stripe-emulator|test)/' },
      // Resolved (node_modules/stripe/..., types included) and unresolved (bare `stripe`) forms.
      to: { path: ['(^|/)node_modules/stripe/', '^stripe$', '^stripe/'] },
    },
    {
      name: 'libs-not-to-apps',
      severity: 'error',
      comment:
        'A library must not depend on an application; move the shared piece into a library instead. ' +
        'Specs beside library code may use an application (e.g. the emulator) as a test double.',
      from: { path: '^libs/', pathNot: SPEC },
      to: { path: '^apps/' },
    },
    {
      name: 'no-circular',
      severity: 'warn',
      comment: 'Part of a dependency cycle: extract the shared piece or invert the dependency.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing on disk: a missing package or a broken path alias.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: 'An npm package used without being declared in package.json (works only by hoisting luck).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'Shipped code depends on a devDependency, which the production image (npm ci --omit=dev) lacks. ' +
        'Move the package to dependencies, or keep the import in a spec.',
      from: { path: '^(apps|libs)/', pathNot: SPEC },
      to: {
        dependencyTypes: ['npm-dev'],
        // Erased at compile time, so absent from the runtime image without harm.
        dependencyTypesNot: ['type-only'],
        pathNot: ['node_modules/@types/'],
      },
    },
    {
      name: 'not-to-spec',
      severity: 'error',
      comment: 'Code must not import a spec; move the shared helper into its own file.',
      from: {},
      to: { path: SPEC },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['(^|/)dist/', '(^|/)coverage/', '(^|/)[.]data/'] },
    // `import type { Stripe } from 'stripe'` vanishes from the JS but is still a dependency on Stripe's API.
    tsPreCompilationDeps: true,
    // Resolves the @app/* path aliases.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      archi: {
        collapsePattern: '^(?:apps|libs)/[^/]+|^test|node_modules/(?:@[^/]+/[^/]+|[^/]+)',
      },
    },
  },
};
