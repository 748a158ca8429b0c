/* eslint-disable */
// End-to-end specs boot the whole service (and sometimes an embedded PostgreSQL or the emulator).
jest.setTimeout(60000);
