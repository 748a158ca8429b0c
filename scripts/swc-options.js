/* eslint-disable */
// One SWC configuration for the build (scripts/build.js) and for jest's transform, so the tests run the very code
// that dist/ holds. Decorator metadata on: Nest's dependency injection reads the constructor parameter types.
const SWC = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
    // Helpers inlined: the production image installs no @swc/helpers.
    externalHelpers: false,
  },
  module: { type: 'commonjs' },
};

module.exports = { SWC };
