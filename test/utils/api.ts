// Moved to test/support/; kept so the suites not yet switched keep their imports.
export * from '../support/http';
export { emulatorControl } from '../support/emulator';
