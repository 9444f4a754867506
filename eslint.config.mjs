// @ts-check
/**
 * Lint guards what the type checker cannot: promises nobody awaits, and workflow code that would
 * break Temporal's sandbox. Deliberately few rules and no formatting ones. `npm run lint` runs it,
 * and so does `npm test` (test/lint.test.ts).
 */
import { builtinModules } from 'node:module';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** @type {import('eslint').Linter.RuleEntry} */
const unusedVars = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }];

export default defineConfig([
  // dist/: `npm run build`'s webpack output.
  globalIgnores(['node_modules/', 'dist/', '.sluice/', '.scratch/', 'test-results/']),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  {
    name: 'sluice/typescript',
    files: ['**/*.ts'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    languageOptions: {
      parser: tseslint.parser,
      // Type information from the tsconfig.json nearest each file (the root one, or test/types').
      // (`project: './tsconfig.json'` is 2 s faster, but from the CLI it checks the files on disk, not
      // what an editor passes on stdin.)
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's runner waits for top-level tests and suites itself; a subtest (`t.test`) still
      // has to be awaited.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      // Express 5 sends a rejected handler's error to the error handler, so an async function
      // where a void callback is expected is fine in an argument or attribute; not in a condition.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      // `Promise.all(xs.map((x) => (x ? x.stop() : undefined)))` is fine: non-promises pass through.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      '@typescript-eslint/no-unused-vars': unusedVars,
      // A Ref (`ctx.logicalDate`, a task handle) in a plain template string is a placeholder
      // object, not its run-time value: DAG authors need `tpl` for that.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowAny: false, allowNullish: false, allowRegExp: false, allowNever: false },
      ],
    },
  },

  {
    // Temporal's workflow sandbox: no Node built-ins, and activities only as types (their code
    // runs in the worker, never in the bundle).
    name: 'sluice/workflows',
    files: ['workflows/**/*.ts'],
    rules: {
      // ESLint's own rule understands `import type` (typescript-eslint's copy is deprecated).
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({
            name,
            message: 'Workflow code runs in the Temporal sandbox: no Node built-ins (do I/O in an activity).',
          })),
          patterns: [
            {
              regex: '^node:',
              message: 'Workflow code runs in the Temporal sandbox: no Node built-ins (do I/O in an activity).',
            },
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows import activities as types only (`import type`); call them through proxyActivities.',
            },
          ],
        },
      ],
    },
  },

  {
    // The few plain JavaScript files (the bin shim, the test reporter): no type information.
    name: 'sluice/javascript',
    files: ['**/*.{js,mjs,cjs}'],
    rules: {
      'no-unused-vars': unusedVars,
    },
  },
  // package.json has no "type": "module": .js files are CommonJS.
  { files: ['**/*.{js,cjs}'], languageOptions: { sourceType: 'commonjs' } },
]);
