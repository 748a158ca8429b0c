/**
 * Two projects: `unit` (specs beside the code, no I/O) and `e2e` (test/**, real PostgreSQL, Redis and the
 * Stripe emulator). `npm test` runs both. test/setup/global-setup.js prepares a fresh test database.
 */
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const { SWC: BUILD } = require('./scripts/swc-options');

// The build's configuration (scripts/swc-options.js), with inline source maps for jest's stack traces.
const SWC = { ...BUILD, sourceMaps: 'inline' };

const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    // SWC transpiles (with decorator metadata, which Nest's DI needs) far faster than ts-jest; types are
    // checked once by `npm run typecheck` / the lint, not per test file.
    '^.+\\.ts$': ['@swc/jest', SWC],
    // content-disposition 3 (used by @fastify/static, which serves Swagger UI) and sql-template-tag ship ESM
    // only. Node >= 20.19 loads them through require(esm); jest's module loader cannot, so jest alone
    // transpiles them to CommonJS.
    '/node_modules/(content-disposition|sql-template-tag)/.+\\.js$': ['@swc/jest', { ...SWC, jsc: { ...SWC.jsc, parser: { syntax: 'ecmascript' } } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|sql-template-tag)/)'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
};

module.exports = {
  globalSetup: '<rootDir>/test/setup/global-setup.js',
  globalTeardown: '<rootDir>/test/setup/global-teardown.js',
  // Three on two cores: an e2e suite spends a good part of its time waiting (sleeps where nothing may happen,
  // PostgreSQL, child processes), which a third worker fills.
  maxWorkers: 3,
  // Longest suites first, from measured durations even in a fresh clone (test/setup/sequencer.js).
  testSequencer: '<rootDir>/test/setup/sequencer.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      // Node's environment, failing a suite that leaves a socket, server, process or timer open.
      testEnvironment: '<rootDir>/test/setup/open-handles-environment.js',
      // testTimeout is not a per-project option; test/setup/e2e-timeout.js sets it for e2e
      setupFiles: ['<rootDir>/test/setup/e2e-timeout.js'],
    },
  ],
};
