// ESLint 9 flat config with typed linting (typescript-eslint 8). Formatting is Prettier's job
// (`prettier --check` in `npm run lint`), so no stylistic rules live here.
import eslint from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const NO_QUERY_CALL = {
  selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='query']",
  message:
    'SQL runs only in a `*.repository.ts` of the module that owns the table (rows/one/affected from @app/database).',
};
// `$1` but not an amount such as `$100.00`.
const NO_NUMBERED_PLACEHOLDER = [
  'Literal[value=/\\$[1-9][0-9]*(?![0-9.,])/]',
  'TemplateElement[value.raw=/\\$[1-9][0-9]*(?![0-9.,])/]',
].map((selector) => ({
  selector,
  message: 'No hand-numbered placeholder: write the statement with the `sql` tag from @app/database.',
}));

export default defineConfig(
  // Plain JS (this file, jest.config.js, test/setup/*.js, bench scripts) is not part of the TS program,
  // so typed rules cannot run on it.
  globalIgnores([
    'dist/',
    'node_modules/',
    'coverage/',
    '.data/',
    'bench-results/',
    '**/*.js',
    '**/*.cjs',
    '**/*.mjs',
    'test/**/*.js',
  ]),
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'test/**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // An un-awaited promise in a payment or webhook path loses its error and its ordering.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A switch over a union without `default` must name every member, so a new Stripe event type or
      // status added to a union fails the lint where it is not handled. An explicit `default` is the
      // deliberate opt-out (Stripe's event-type union has hundreds of members we ignore on purpose).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Tests poke at untyped JSON bodies and private internals; `any` there is tolerated but visible.
    files: ['test/**/*.ts', '**/*.spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    // SQL lives in `*.repository.ts` files (and libs/database), written with the `sql` tag, whose placeholders are
    // numbered by the tag: a `.query(` call elsewhere, or a hand-numbered `$1` anywhere, fails the lint.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: [
      '**/migrations/**',
      '**/*.spec.ts',
      '**/*.e2e-spec.ts',
      // Being converted on their own branch (reconciliation split, queue); drop these two lines once merged.
      'apps/connect-service/src/reconciliation/**',
      'apps/connect-service/src/queue/**',
    ],
    rules: { 'no-restricted-syntax': ['error', NO_QUERY_CALL, ...NO_NUMBERED_PLACEHOLDER] },
  },
  {
    // Repositories and libs/database run statements; they still never number a placeholder by hand.
    files: ['**/*.repository.ts', 'libs/database/**/*.ts'],
    ignores: ['**/migrations/**', '**/*.spec.ts', '**/*.e2e-spec.ts'],
    rules: { 'no-restricted-syntax': ['error', ...NO_NUMBERED_PLACEHOLDER] },
  },
);
