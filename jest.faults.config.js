/**
 * `npm run test:faults`: the fault suite (test/faults), apart from `npm test`. Each scenario starts its own
 * PostgreSQL, Redis, emulator and the built service (a child process), so nothing of the machine's shared
 * servers is touched; scenarios run one at a time (they stop and kill their servers).
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
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  testTimeout: 240_000,
};
