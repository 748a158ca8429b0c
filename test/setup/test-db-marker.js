/* eslint-disable */
// The comment that marks a database as created by the test run; nothing in the suites touches a database
// without it (see test/support/app.ts).
module.exports = { TEST_DB_MARKER: 'connect-service disposable test database', TEST_DB_PREFIX: 'connect_test_' };
