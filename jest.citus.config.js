/**
 * `npm run test:citus`: the sharding suite (test/citus) on a private Citus cluster that each suite starts with
 * `initdb` on free loopback ports (the machine's servers are never touched). Skips, saying why, where Citus is
 * not installed (scripts/citus/install.sh builds it).
 */
const base = require('./jest.config');
const { globalSetup, globalTeardown, projects, ...rest } = base;
const common = { ...projects[1] };
delete common.displayName;
delete common.setupFiles;

module.exports = {
  ...rest,
  ...common,
  maxWorkers: 1,
  testMatch: ['<rootDir>/test/citus/**/*.citus-spec.ts'],
  testTimeout: 240_000,
};
